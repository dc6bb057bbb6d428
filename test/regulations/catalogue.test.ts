import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const catalogueDirectory = new URL('../../data/catalogo/', import.meta.url);

const articleNumber = z.string().regex(/^\d+(?:-[a-z]+)?$/, 'numero come "4" o "2-quaterdecies"');
const catalogueSchema = z.strictObject({
  title: z.string().min(10),
  shortTitle: z.string().min(2),
  issuingBody: z.string().min(3),
  date: z.iso.date(),
  amendedBy: z.string().min(3).optional(),
  articles: z
    .array(
      z.strictObject({
        number: articleNumber,
        title: z
          .string()
          .min(2)
          .refine((title) => title === title.trim() && !/\s{2}/.test(title), 'spazi superflui'),
        repealedBy: z.string().min(3).optional(),
      }),
    )
    .min(1),
});
type Catalogue = z.infer<typeof catalogueSchema>;

function load(file: string): Catalogue {
  const json = JSON.parse(readFileSync(new URL(file, catalogueDirectory), 'utf8')) as unknown;
  return catalogueSchema.parse(json);
}

function titles(catalogue: Catalogue): Map<string, string> {
  return new Map(catalogue.articles.map((article) => [article.number, article.title]));
}

describe('catalogues of cited articles', () => {
  describe('GDPR', () => {
    const gdpr = load('gdpr.json');

    it('is a valid catalogue of the Regolamento (UE) 2016/679', () => {
      expect(gdpr.shortTitle).to.equal('GDPR');
      expect(gdpr.title).to.match(/^Regolamento \(UE\) 2016\/679 del Parlamento europeo/);
      expect(gdpr.issuingBody).to.equal("Parlamento europeo e Consiglio dell'Unione europea");
      expect(gdpr.date).to.equal('2016-04-27');
    });

    it('lists articles 1 to 99 once each, in order', () => {
      expect(gdpr.articles.map((article) => article.number)).to.deep.equal(
        Array.from({ length: 99 }, (_unused, index) => String(index + 1)),
      );
    });

    it('has the official titles of the articles the templates cite', () => {
      const byNumber = titles(gdpr);
      const required: Record<string, string> = {
        '4': 'Definizioni',
        '5': 'Principi applicabili al trattamento di dati personali',
        '6': 'Liceità del trattamento',
        '9': 'Trattamento di categorie particolari di dati personali',
        '10': 'Trattamento dei dati personali relativi a condanne penali e reati',
        '13': "Informazioni da fornire qualora i dati personali siano raccolti presso l'interessato",
        '14': "Informazioni da fornire qualora i dati personali non siano stati ottenuti presso l'interessato",
        '15': "Diritto di accesso dell'interessato",
        '17': "Diritto alla cancellazione («diritto all'oblio»)",
        '24': 'Responsabilità del titolare del trattamento',
        '25': 'Protezione dei dati fin dalla progettazione e protezione per impostazione predefinita',
        '26': 'Contitolari del trattamento',
        '28': 'Responsabile del trattamento',
        '29': "Trattamento sotto l'autorità del titolare del trattamento o del responsabile del trattamento",
        '30': 'Registri delle attività di trattamento',
        '32': 'Sicurezza del trattamento',
        '33': "Notifica di una violazione dei dati personali all'autorità di controllo",
        '34': "Comunicazione di una violazione dei dati personali all'interessato",
        '35': "Valutazione d'impatto sulla protezione dei dati",
        '36': 'Consultazione preventiva',
        '37': 'Designazione del responsabile della protezione dei dati',
        '38': 'Posizione del responsabile della protezione dei dati',
        '39': 'Compiti del responsabile della protezione dei dati',
        '77': "Diritto di proporre reclamo all'autorità di controllo",
        '82': 'Diritto al risarcimento e responsabilità',
        '83': 'Condizioni generali per infliggere sanzioni amministrative pecuniarie',
      };
      for (const [number, title] of Object.entries(required)) {
        expect(byNumber.get(number), `art. ${number}`).to.equal(title);
      }
      for (let number = 4; number <= 39; number += 1) {
        expect(byNumber.get(String(number)), `art. ${number}`).to.be.a('string').that.is.not.empty;
      }
    });
  });

  describe('Codice in materia di protezione dei dati personali', () => {
    const codice = load('codice-privacy.json');

    it('is a valid catalogue of the D.Lgs. 196/2003 as amended in 2018', () => {
      expect(codice.shortTitle).to.equal('D.Lgs. 196/2003');
      expect(codice.title).to.match(/^Decreto legislativo 30 giugno 2003, n\. 196/);
      expect(codice.date).to.equal('2003-06-30');
      expect(codice.amendedBy).to.equal('D.Lgs. 10 agosto 2018, n. 101');
    });

    it('numbers each article once', () => {
      const numbers = codice.articles.map((article) => article.number);
      expect(new Set(numbers).size).to.equal(numbers.length);
    });

    it('has the articles the templates cite, with their official titles', () => {
      const byNumber = titles(codice);
      const required: Record<string, string> = {
        '2-ter':
          "Base giuridica per il trattamento di dati personali effettuato per l'esecuzione di un compito di interesse pubblico o connesso all'esercizio di pubblici poteri",
        '2-sexies':
          'Trattamento di categorie particolari di dati personali necessario per motivi di interesse pubblico rilevante',
        '2-septies':
          'Misure di garanzia per il trattamento dei dati genetici, biometrici e relativi alla salute',
        '2-octies': 'Principi relativi al trattamento di dati relativi a condanne penali e reati',
        '2-quaterdecies': 'Attribuzione di funzioni e compiti a soggetti designati',
        '2-quinquiesdecies':
          "Trattamento che presenta rischi elevati per l'esecuzione di un compito di interesse pubblico",
      };
      for (const [number, title] of Object.entries(required)) {
        expect(byNumber.get(number), `art. ${number}`).to.equal(title);
      }
    });

    it('marks the repealed art. 2-quinquiesdecies, and only that one', () => {
      const repealed = codice.articles.filter((article) => article.repealedBy !== undefined);
      expect(repealed.map((article) => article.number)).to.deep.equal(['2-quinquiesdecies']);
      expect(repealed[0]?.repealedBy).to.match(/D\.L\. 8 ottobre 2021, n\. 139/);
    });
  });
});
