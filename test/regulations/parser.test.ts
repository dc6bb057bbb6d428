import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import {
  articleText,
  parseRegulation,
  pointsOf,
  type Comma,
  type ParsedArticle,
  type ParsedRegulation,
  type Point,
} from '../../server/regulations/parser.js';

const seedDirectory = new URL('../../data/regolamenti/', import.meta.url);
const calderaraText = readFileSync(new URL('calderara-di-reno-2020.md', seedDirectory), 'utf8');
const granaroloText = readFileSync(
  new URL('granarolo-dell-emilia-2000.txt', seedDirectory),
  'utf8',
);

function article(parsed: ParsedRegulation, number: string, occurrence = 1): ParsedArticle {
  const found = parsed.articles.find(
    (candidate) => candidate.number === number && candidate.occurrence === occurrence,
  );
  if (!found) throw new Error(`art. ${number} (${occurrence}) not parsed`);
  return found;
}

function comma(parsed: ParsedArticle, number: string): Comma {
  const found = parsed.commi.find((candidate) => candidate.number === number);
  if (!found) throw new Error(`comma ${number} of art. ${parsed.number} not parsed`);
  return found;
}

function allTexts(parsed: ParsedRegulation): string[] {
  const fromPoints = (points: Point[]): string[] =>
    points.flatMap((point) => [point.text, ...fromPoints(point.points)]);
  return parsed.articles.flatMap((entry) => [
    entry.title ?? '',
    entry.titolo ?? '',
    ...entry.commi.flatMap((candidate) => [candidate.text, ...fromPoints(candidate.points)]),
  ]);
}

/** Every problem points at a real line and quotes it as written. */
function expectProblemsOnRealLines(parsed: ParsedRegulation, source: string): void {
  const lines = source.split(/\r\n|\n/);
  for (const problem of parsed.problems) {
    expect(problem.line, problem.message).to.be.within(1, lines.length);
    expect(problem.text, problem.message).to.equal(lines[problem.line - 1]?.trim());
    expect(problem.text, problem.message).not.to.equal('');
  }
}

describe('regulation parser', () => {
  describe('Calderara di Reno 2020 (Markdown export)', () => {
    const parsed = parseRegulation(calderaraText, { format: 'markdown' });

    it('reads title, issuing body, approving act and date in force from the heading', () => {
      expect(parsed.title).to.equal(
        'REGOLAMENTO PER LA PROTEZIONE DEI DATI PERSONALI DEL COMUNE DI CALDERARA DI RENO',
      );
      expect(parsed.issuingBody).to.equal('Comune di Calderara di Reno');
      expect(parsed.approvedBy).to.equal('delibera consiliare n. 117 del 22-12-2020');
      expect(parsed.inForceFrom).to.equal('2021-01-15');
    });

    it('finds the 42 articles of the text, art. 41 twice, and none from the index', () => {
      expect(parsed.articles).to.have.length(42);
      const numbers = parsed.articles.map((entry) => entry.number);
      expect(numbers).to.deep.equal([
        ...Array.from({ length: 41 }, (_unused, index) => String(index + 1)),
        '41',
      ]);
      expect(parsed.articles.map((entry) => entry.occurrence).filter((n) => n !== 1)).to.deep.equal(
        [2],
      );
      // The index runs from line 14 to 86; the first article heading is at line 90.
      expect(parsed.articles[0]?.line).to.equal(90);
      expect(article(parsed, '41').line).to.equal(810);
      expect(article(parsed, '41', 2).line).to.equal(816);
      for (const entry of parsed.articles)
        expect(entry.commi, `art. ${entry.number}`).not.to.be.empty;
    });

    it('reads the titles as the text states them, in every heading style', () => {
      expect(article(parsed, '1').title).to.equal('Finalità');
      expect(article(parsed, '4').title).to.equal('Titolare del trattamento');
      expect(article(parsed, '5').title).to.equal('Designato del trattamento');
      expect(article(parsed, '6').title).to.equal(
        'Soggetti incaricati al trattamento dei dati personali',
      );
      // The body says "di trattamento", the index "del trattamento": the body wins, the
      // difference is reported (see the problems below).
      expect(article(parsed, '7').title).to.equal('Responsabili esterni di trattamento');
      expect(article(parsed, '8').title).to.equal(
        'Responsabile della protezione dei dati (D.P.O.)',
      );
      expect(article(parsed, '17').title).to.equal('Diritto all’oblio');
      expect(article(parsed, '25').title).to.equal('D.P.I.A.');
      expect(article(parsed, '26').title).to.equal('Procedimento');
      expect(article(parsed, '30').title).to.equal('Monitoraggio');
      expect(article(parsed, '36').title).to.equal('Soggetti responsabili ed azione risarcitoria');
      expect(article(parsed, '41').title).to.equal('Abrogazioni');
      expect(article(parsed, '41', 2).title).to.equal('Entrata in vigore del regolamento');
    });

    it('assigns every article to its Titolo', () => {
      expect(article(parsed, '1').titolo).to.equal('TITOLO I - PRINCIPI');
      expect(article(parsed, '3').titolo).to.equal('TITOLO I - PRINCIPI');
      expect(article(parsed, '4').titolo).to.equal('TITOLO II - SOGGETTI DEL TRATTAMENTO DEI DATI');
      expect(article(parsed, '5').titolo).to.equal('TITOLO II - SOGGETTI DEL TRATTAMENTO DEI DATI');
      expect(article(parsed, '10').titolo).to.equal('TITOLO III - TRATTAMENTO DEI DATI PERSONALI');
      expect(article(parsed, '15').titolo).to.equal("TITOLO IV - DIRITTI DELL'INTERESSATO");
      expect(article(parsed, '23').titolo).to.equal('TITOLO V - MISURE DI SICUREZZA');
      expect(article(parsed, '31').titolo).to.equal(
        'TITOLO VI - DATA BREACH O VIOLAZIONE DEI DATI PERSONALI',
      );
      expect(article(parsed, '36').titolo).to.equal(
        'TITOLO VII - MEZZI DI TUTELA E RESPONSABILITÀ',
      );
      expect(article(parsed, '41', 2).titolo).to.equal('TITOLO VIII - ENTRATA IN VIGORE');
      expect(parsed.articles.every((entry) => entry.capo === undefined)).to.equal(true);
    });

    it('keeps the numbering of art. 5 c.2 as written, with the dash sub-points of point 6', () => {
      const designato = article(parsed, '5');
      expect(designato.commi.map((candidate) => candidate.number)).to.deep.equal(['1', '2', '3']);
      const tasks = comma(designato, '2');
      expect(tasks.text).to.equal(
        'Il soggetto designato dovrà svolgere i compiti specificati nel provvedimento di nomina, e precisamente:',
      );
      expect(tasks.points.map((point) => point.label)).to.deep.equal([
        '1',
        '2',
        '3',
        '6',
        '7',
        '8',
        '9',
        '10',
      ]);
      const six = tasks.points[3];
      expect(six?.text).to.equal('in merito agli Incaricati, il designato deve:');
      expect(six?.points.map((point) => point.label)).to.deep.equal(['-', '-', '-', '-']);
      expect(six?.points[0]?.text).to.equal(
        'individuare, tra i propri collaboratori, designandoli per iscritto, gli incaricati del trattamento;',
      );
      expect(tasks.points.filter((point) => point !== six).every((p) => p.points.length === 0)).to
        .be.true;
    });

    it('quotes a comma and its points for templates', () => {
      const designato = article(parsed, '5');
      const tasks = pointsOf(designato, '2');
      expect(tasks).to.have.length(8);
      expect(tasks[0]).to.match(/^coadiuvare nel censimento dei trattamenti/);
      expect(tasks[3]).to.match(
        /^in merito agli Incaricati, il designato deve: – individuare, tra i propri collaboratori, .* – recepire .* – adoperarsi .* – comunicare tempestivamente, al Responsabile dei Sistemi Informativi, .*;$/,
      );
      expect(tasks[7]).to.equal(
        'comunicare tempestivamente al Titolare eventuali violazioni dei dati (distruzione, perdita, divulgazione illecita o accesso non autorizzato) per i conseguenti adempimenti verso il Garante.',
      );
      expect(articleText(designato, { comma: '3' })).to.equal(
        "La nomina dei soggetti designati avviene in concomitanza con l'incarico di posizione apicale riconosciuto al funzionario.",
      );
      const whole = articleText(designato).split('\n');
      expect(whole[0]).to.match(/^1\. Il Titolare del trattamento dei dati nomina formalmente/);
      expect(whole).to.include('6) in merito agli Incaricati, il designato deve:');
      expect(whole).to.include(
        '  - recepire le istruzioni cui devono attenersi gli incaricati nel trattamento dei dati impartite dal Titolare.',
      );
      expect(whole.at(-1)).to.match(/^3\. La nomina dei soggetti designati/);
      expect(() => pointsOf(designato, '4')).to.throw(RangeError, /comma 4/);
      expect(() => articleText(designato, { comma: '9' })).to.throw(RangeError);
    });

    it('keeps the paragraphs without number after art. 7 c.3 with that comma', () => {
      const processors = article(parsed, '7');
      expect(processors.commi.map((candidate) => candidate.number ?? null)).to.deep.equal([
        '1',
        '2',
        '3',
        null,
        null,
        null,
        null,
        null,
        '4',
        '5',
      ]);
      expect(comma(processors, '3').points).to.have.length(9);
      expect(pointsOf(processors, '3')).to.have.length(20);
      const text = articleText(processors, { comma: '3' });
      expect(text).to.match(/^Ai sensi dell'art\. 28 del RGPD/);
      expect(text).to.include('In particolare, il Responsabile dovrà:');
      expect(text).to.include('(cosiddetto “sub-responsabile”)');
      expect(text).to.include('nel termine di 30 giorni');
      expect(text).not.to.include('Ciascun designato predispone');
      // A point broken by a blank line continues on the lower-case line after it.
      expect(pointsOf(processors, '3')[13]).to.include(
        'Garante Privacy "Misure e accorgimenti prescritti ai titolari',
      );
    });

    it('joins text broken across blank lines and nests only where a point announces a list', () => {
      expect(comma(article(parsed, '4'), '4').text).to.include(
        'allorché due o più titolari determinano congiuntamente, mediante accordo,',
      );
      expect(comma(article(parsed, '27'), '3').text).to.include(
        'violi le norme sulla protezione dei dati ed in particolare',
      );
      const information = comma(article(parsed, '20'), '3');
      expect(information.points.map((point) => point.points.length)).to.deep.equal([0, 3]);
      // Indented bullets that follow a point ending with ";" are siblings, not sub-points.
      expect(comma(article(parsed, '14'), '5').points).to.have.length(5);
      expect(comma(article(parsed, '15'), '1').points.map((point) => point.label)).to.deep.equal([
        'a',
        'b',
        'c',
        'd',
        'e',
        'f',
      ]);
      expect(comma(article(parsed, '16'), '1').points).to.have.length(3);
      // Commi indented by the export are still commi.
      expect(article(parsed, '16').commi.map((candidate) => candidate.number)).to.deep.equal([
        '1',
        '2',
        '3',
        '4',
        '5',
      ]);
    });

    it('reads articles whose text has no numbered commi', () => {
      const definitions = article(parsed, '3');
      expect(definitions.commi).to.have.length(1);
      expect(definitions.commi[0]?.number).to.equal(undefined);
      expect(definitions.commi[0]?.text).to.equal(
        'Ai fini del presente regolamento si adottano le seguenti definizioni:',
      );
      expect(definitions.commi[0]?.points).to.have.length(20);
      expect(articleText(article(parsed, '41'))).to.match(
        /^Il presente regolamento sostituisce il precedente/,
      );
      expect(article(parsed, '41', 2).commi.map((candidate) => candidate.number)).to.deep.equal([
        '1',
        '2',
        '3',
        '4',
      ]);
    });

    it('strips Markdown emphasis, links and escapes and keeps typographic apostrophes', () => {
      const definitions = article(parsed, '3').commi[0]?.points ?? [];
      expect(definitions[0]?.text).to.equal('Comune: il Comune di Calderara di Reno;');
      expect(definitions.map((point) => point.text)).to.include(
        'GDPR: Regolamento Generale sulla Protezione dei Dati Personali, Regolamento UE n. 679/2016 (General Data Protection Regulation);',
      );
      expect(comma(article(parsed, '31'), '3').text).to.equal(
        'Per perdita è da intendersi la fuoriuscita del dato trattato ai fini di privacy dalla sfera del legittimo detentore in modo del tutto incontrollato e non tracciato.',
      );
      expect(comma(article(parsed, '7'), '3').points[0]?.text).to.equal(
        "trattare i dati personali in modo lecito, corretto e trasparente nei confronti dell'interessato;",
      );
      expect(pointsOf(article(parsed, '7'), '3')[14]).to.match(/^consegnare l’elenco/);
      for (const text of allTexts(parsed)) {
        expect(text).not.to.match(/[*#\\]|\]\(|\s{2}|^\s|\s$/);
      }
    });

    it('reports exactly what it could not place or found inconsistent', () => {
      expect(parsed.problems.map(({ line, message }) => ({ line, message }))).to.deep.equal([
        {
          line: 183,
          message: 'numerazione dei punti non consecutiva: 6) dopo 3) (art. 5, comma 2)',
        },
        {
          line: 212,
          message:
            "titolo dell'art. 7 diverso dall'indice: nel testo «Responsabili esterni di trattamento», nell'indice «Responsabili esterni del trattamento» (riga 27)",
        },
        {
          line: 816,
          message:
            "art. 41 ripetuto: è la 2ª occorrenza (la prima a riga 810); nell'indice è l'art. 42 «Entrata in vigore del regolamento» (riga 86)",
        },
      ]);
      expectProblemsOnRealLines(parsed, calderaraText);
    });

    it('detects the format by itself', () => {
      expect(parseRegulation(calderaraText, { format: 'auto' })).to.deep.equal(parsed);
      expect(parseRegulation(calderaraText, {})).to.deep.equal(parsed);
    });
  });

  describe("Granarolo dell'Emilia 2000 (plain text out of a PDF)", () => {
    const parsed = parseRegulation(granaroloText, { format: 'text' });

    it('repairs the garbled first line into the title, and says so', () => {
      expect(parsed.title).to.equal(
        'Regolamento sulla tutela della riservatezza dei dati personali',
      );
      expect(parsed.problems[0]).to.deep.equal({
        line: 1,
        message:
          'riga del titolo ripetuta e troncata (errore di estrazione dal PDF): preso come titolo «Regolamento sulla tutela della riservatezza dei dati personali»',
        text: 'egolamento sulla tutela della riservatezza dei dati personali Regolamento sulla tutela della riservatezza dei dati personali',
      });
    });

    it('reads the approving acts and states nothing it does not know', () => {
      expect(parsed.approvedBy).to.equal('Deliberazioni di g.c. n. 130/2000 e n. 200/2000');
      expect(parsed.issuingBody).to.equal(undefined);
      expect(parsed.inForceFrom).to.equal(undefined);
    });

    it('finds the 14 articles with their titles and no Titoli', () => {
      expect(parsed.articles.map((entry) => entry.number)).to.deep.equal(
        Array.from({ length: 14 }, (_unused, index) => String(index + 1)),
      );
      expect(parsed.articles.map((entry) => entry.title)).to.deep.equal([
        'Oggetto',
        'Finalità',
        'Definizioni di riferimento',
        'Individuazione delle banche dati',
        'Titolarità e responsabilità della banca dati',
        'Soggetti incaricati del trattamento dei dati',
        'Trattamento dei dati',
        'Trattamento di dati sensibili',
        'Informazione',
        'Diritti dell’interessato',
        'Rapporti con il Garante',
        'Sicurezza',
        'Controlli',
        'Disposizioni finali e transitorie',
      ]);
      expect(parsed.articles.map((entry) => entry.line)).to.deep.equal([
        3, 10, 17, 22, 29, 50, 58, 66, 72, 77, 85, 88, 95, 99,
      ]);
      expect(parsed.articles.every((entry) => entry.titolo === undefined)).to.equal(true);
    });

    it('joins hard-wrapped lines into their comma or point', () => {
      expect(comma(article(parsed, '1'), '1').text).to.equal(
        'Il presente regolamento disciplina il trattamento dei dati personali contenuti nelle banche dati organizzate, gestite od utilizzate dall’amministrazione comunale in attuazione dell’art. 27 della Legge 31 dicembre 1996, n. 675.',
      );
      expect(comma(article(parsed, '5'), '2').text).to.equal(
        'La Giunta nomina il responsabile delle singole banche dati con provvedimento motivato, sulla base di quanto previsto dall’art. 8, comma 1, della Legge 31 dicembre 1996, n. 675, anche con contratto a termine di diritto privato.',
      );
      expect(comma(article(parsed, '9'), '1').text).to.match(
        /di cui all’art\. 10 della Legge 31 dicembre 1996, n\. 675\.$/,
      );
      expect(pointsOf(article(parsed, '5'), '4')[0]).to.equal(
        'autorizza gli incaricati al trattamento dei dati e adotta tutti gli accorgimenti organizzativi e tecnici utili a garantire che gli incaricati abbiano accesso ai soli dati personali la cui conoscenza sia strettamente necessaria per adempiere ai compiti loro assegnati;',
      );
    });

    it('keeps the labels and commi as written, repeated ones included', () => {
      expect(comma(article(parsed, '5'), '4').points.map((point) => point.label)).to.deep.equal([
        'a',
        'b',
        'c',
        'd',
        'e',
        'f',
        'g',
        'h',
        'i',
        'f',
      ]);
      const security = article(parsed, '12');
      expect(security.commi.map((candidate) => candidate.number)).to.deep.equal([
        '1',
        '2',
        '3',
        '3',
        '4',
      ]);
      const third = articleText(security, { comma: '3' }).split('\n');
      expect(third).to.have.length(2);
      expect(third[1]).to.match(/^E’ cura del Centro Elaborazione Dati/);
    });

    it('keeps the closing paragraphs of art. 14 and leaves the annex out', () => {
      const closing = article(parsed, '14');
      expect(closing.commi.map((candidate) => candidate.number ?? null)).to.deep.equal([
        '1',
        '2',
        '3',
        '4',
        null,
        null,
        null,
      ]);
      expect(closing.commi[5]?.text).to.equal(
        'Quali amministratori di sistema vengono identificati: il responsabile del servizio autonomo sistemi informativi e telematici, per l’espletamento del compito di sovrintendere alle risorse dei sistemi operativi comunali e dei relativi sistemi di base dati; il responsabile del I settore funzionale, per l’espletamento del compito di sovrintendere ai sistemi di base dati comunali e di consentirne l’utilizzazione.',
      );
      expect(articleText(closing, { comma: '4' })).to.match(
        /provvedimento del Segretario Generale\.$/,
      );
      expect(allTexts(parsed).join(' ')).not.to.match(/Windows NT|non sensibili|DESCRIZIONE/);
    });

    it('reports exactly what it could not place or found inconsistent', () => {
      expect(parsed.problems.map(({ line, message }) => ({ line, message }))).to.deep.equal([
        {
          line: 1,
          message:
            'riga del titolo ripetuta e troncata (errore di estrazione dal PDF): preso come titolo «Regolamento sulla tutela della riservatezza dei dati personali»',
        },
        { line: 47, message: 'punto f) ripetuto dopo il punto i) (art. 5, comma 4)' },
        { line: 93, message: "comma 3 ripetuto nell'art. 12" },
        {
          line: 113,
          message:
            'intestazione non riconosciuta: le righe 113–291 non appartengono ad alcun articolo e non sono state importate',
        },
      ]);
      expectProblemsOnRealLines(parsed, granaroloText);
    });

    it('detects the format by itself', () => {
      expect(parseRegulation(granaroloText, {})).to.deep.equal(parsed);
    });
  });

  describe('other texts', () => {
    it('keeps article numbers such as 2-quaterdecies and 5-bis as written', () => {
      const parsed = parseRegulation(
        [
          'Regolamento di prova',
          'Art. 2-quaterdecies',
          'Attribuzione di funzioni e compiti a soggetti designati',
          '1. Il titolare può prevedere che specifici compiti siano attribuiti a persone fisiche.',
          '2. Il titolare individua le modalità più opportune.',
          'Art. 2-quinquiesdecies',
          'Trattamento che presenta rischi elevati',
          '1. Il Garante può adottare provvedimenti di carattere generale.',
          'Art. 5-bis',
          "Diritto all'oblio",
          "1. L'interessato ha diritto alla cancellazione:",
          'a) se i dati non sono più necessari;',
          'b) se revoca il consenso.',
        ].join('\n'),
        { format: 'text' },
      );
      expect(parsed.articles.map((candidate) => candidate.number)).to.deep.equal([
        '2-quaterdecies',
        '2-quinquiesdecies',
        '5-bis',
      ]);
      expect(parsed.articles[0]?.title).to.equal(
        'Attribuzione di funzioni e compiti a soggetti designati',
      );
      expect(parsed.articles[0]?.commi.map((comma) => comma.number)).to.deep.equal(['1', '2']);
      expect(pointsOf(parsed.articles[2]!, '1')).to.deep.equal([
        'se i dati non sono più necessari;',
        'se revoca il consenso.',
      ]);
    });

    it('reports text it cannot place before the articles, and articles without text', () => {
      const text = [
        'COMUNE DI SAN GIOVANNI IN PERSICETO',
        'Provincia di Bologna',
        'Regolamento per la videosorveglianza',
        'Approvato con deliberazione del Consiglio comunale n. 12 del 3 marzo 2022',
        'In vigore dal 1° aprile 2022',
        'Premessa: il testo che segue è stato rivisto.',
        'Art. 1 - Oggetto',
        '1. Il regolamento disciplina la videosorveglianza.',
        'Art. 2 - Abrogato',
        'Art. 4 - Norme finali',
        'Per quanto non previsto si applica la legge.',
      ].join('\r\n');
      const parsed = parseRegulation(text, { format: 'text' });
      expect(parsed.title).to.equal('Regolamento per la videosorveglianza');
      expect(parsed.issuingBody).to.equal('Comune di San Giovanni in Persiceto');
      expect(parsed.approvedBy).to.equal(
        'deliberazione del Consiglio comunale n. 12 del 3 marzo 2022',
      );
      expect(parsed.inForceFrom).to.equal('2022-04-01');
      expect(parsed.articles.map((entry) => [entry.number, entry.title])).to.deep.equal([
        ['1', 'Oggetto'],
        ['2', 'Abrogato'],
        ['4', 'Norme finali'],
      ]);
      expect(parsed.problems.map(({ line, message }) => ({ line, message }))).to.deep.equal([
        {
          line: 6,
          message:
            'testo prima del primo articolo non riconosciuto (non è titolo, ente, approvazione o indice)',
        },
        { line: 9, message: 'art. 2 senza testo' },
        {
          line: 10,
          message: "numerazione degli articoli non consecutiva: art. 4 dopo l'art. 2",
        },
      ]);
      expectProblemsOnRealLines(parsed, text);
    });

    it('reads Codice-style numbers, Capi and an unrecognised heading', () => {
      const text = [
        '# Regolamento di prova',
        '',
        '## CAPO I - DISPOSIZIONI GENERALI',
        '',
        '### Art. 2 quaterdecies - Designati',
        '',
        '1. Primo comma.',
        '',
        '1-bis. Comma aggiunto:',
        '',
        '- a) prima lettera;',
        '- b) seconda lettera.',
        '',
        '## Note di redazione',
        '',
        'Testo che non appartiene ad alcun articolo.',
        '',
        '### Articolo 3',
        '',
        '#### _Norma finale_',
        '',
        'Il regolamento entra in vigore con la delibera\\.',
      ].join('\n');
      const parsed = parseRegulation(text, {});
      expect(parsed.title).to.equal('Regolamento di prova');
      const designati = article(parsed, '2-quaterdecies');
      expect(designati.title).to.equal('Designati');
      expect(designati.capo).to.equal('CAPO I - DISPOSIZIONI GENERALI');
      expect(designati.commi.map((candidate) => candidate.number)).to.deep.equal(['1', '1-bis']);
      expect(pointsOf(designati, '1 bis')).to.deep.equal(['prima lettera;', 'seconda lettera.']);
      expect(article(parsed, '3').title).to.equal('Norma finale');
      expect(articleText(article(parsed, '3'))).to.equal(
        'Il regolamento entra in vigore con la delibera.',
      );
      expect(parsed.problems.map(({ line, message }) => ({ line, message }))).to.deep.equal([
        {
          line: 14,
          message:
            'intestazione non riconosciuta: le righe 14–16 non appartengono ad alcun articolo e non sono state importate',
        },
      ]);
      expectProblemsOnRealLines(parsed, text);
    });

    it('gives a fallback title, and reports it, when the text states none', () => {
      const parsed = parseRegulation('Art. 1\nOggetto\n1. Testo.', {});
      expect(parsed.title).to.equal('Regolamento senza titolo');
      expect(parsed.problems).to.deep.equal([
        {
          line: 1,
          message: 'titolo del regolamento non trovato prima degli articoli',
          text: 'Art. 1',
        },
      ]);
    });
  });
});
