/**
 * The DPIA draft generated through the service from its schema's example, read back
 * as a user reads it: the four parts of art. 35, par. 7, each risk with its levels
 * before and after the measures, the statement on prior consultation, and the risk
 * map as a figure (shaded 4×4 grids with each risk code in its cell) in the DOCX
 * (cell shading) and in the PDF (coloured rectangles under the codes). Also the
 * screening and the prior consultation request: their checklists read back in order.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import JSZip from 'jszip';
import { getDocument, OPS } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { call, newTenant, download } from '../support/http.js';
import {
  docxText,
  firstMissingInOrder,
  normalise,
  pdfText,
  qpdfCheck,
} from '../support/readers.js';

type Data = Record<string, unknown>;

interface Risk {
  codice: string;
  titolo: string;
  fonti: string[];
  minacce: string[];
  impatti: string[];
  probabilita: number;
  gravita: number;
  probabilitaResidua: number;
  gravitaResidua: number;
}

interface DpiaData {
  versione: number;
  rischi: Risk[];
  [field: string]: unknown;
}

interface DocumentResponse {
  documentType: string;
  pageCount: number;
  links: { pdf: string; docx: string };
}

const MM = 72 / 25.4;
/** The body's text frame on A4: 20 mm margins left and right. */
const TEXT_LEFT = 20 * MM;
const TEXT_WIDTH = 595.28 - 40 * MM;

/** Likelihood and severity levels as the CNIL method names them in Italian. */
const levelNames = ['', 'trascurabile', 'limitata', 'importante', 'massima'];

/** The risk level of a likelihood × severity product, and the colour the map gives it. */
function riskLevel(product: number): { name: string; colour: string } {
  if (product >= 9) return { name: 'elevato', colour: '#ff7c80' };
  if (product >= 6) return { name: 'rilevante', colour: '#f4b183' };
  if (product >= 3) return { name: 'moderato', colour: '#ffe699' };
  return { name: 'basso', colour: '#a9d08e' };
}

function templateFile(key: string, file: string): string {
  return readFileSync(new URL(`../../templates/${key}/${file}`, import.meta.url), 'utf8');
}

function example<T = Data>(key: string): T {
  const schema = JSON.parse(templateFile(key, 'schema.json')) as { examples: T[] };
  const first = schema.examples[0];
  if (!first) throw new Error(`${key}: schema without examples`);
  return structuredClone(first);
}

async function generate(
  token: string,
  template: string,
  data: unknown,
): Promise<{ pdf: Buffer; docx: Buffer; response: DocumentResponse }> {
  const created = await call<DocumentResponse>('POST', '/api/v1/documents', {
    token,
    json: { template, data },
  });
  expect(created.status, JSON.stringify(created.body)).to.equal(201);
  const pdf = await download(created.body.links.pdf, token);
  await qpdfCheck(pdf);
  const docx = await download(created.body.links.docx, token);
  return { pdf, docx, response: created.body };
}

/** Where the risk codes sit in one map: "p,g" → the codes in that cell. */
function expectedCells(risks: Risk[], phase: 'prima' | 'dopo'): Map<string, string[]> {
  const cells = new Map<string, string[]>();
  for (const risk of risks) {
    const p = phase === 'prima' ? risk.probabilita : risk.probabilitaResidua;
    const g = phase === 'prima' ? risk.gravita : risk.gravitaResidua;
    cells.set(`${p},${g}`, [...(cells.get(`${p},${g}`) ?? []), risk.codice]);
  }
  return cells;
}

/** The phrases stating a risk's levels, as a reader must find them in both formats. */
function riskPhrases(risk: Risk): string[] {
  const before = riskLevel(risk.probabilita * risk.gravita).name;
  const after = riskLevel(risk.probabilitaResidua * risk.gravitaResidua).name;
  return [
    `Rischio ${risk.codice} – ${risk.titolo}`,
    ...risk.fonti,
    ...risk.minacce,
    ...risk.impatti,
    `Probabilità ${risk.probabilita} – ${levelNames[risk.probabilita]} ${risk.probabilitaResidua} – ${levelNames[risk.probabilitaResidua]}`,
    `Gravità ${risk.gravita} – ${levelNames[risk.gravita]} ${risk.gravitaResidua} – ${levelNames[risk.gravitaResidua]}`,
    `Livello del rischio ${risk.probabilita * risk.gravita} – ${before} ${risk.probabilitaResidua * risk.gravitaResidua} – ${after}`,
    `Prima delle misure il rischio ${risk.codice} ha probabilità ${levelNames[risk.probabilita]} (${risk.probabilita}) e gravità ${levelNames[risk.gravita]} (${risk.gravita}): livello ${before}.`,
    `Dopo le misure ha probabilità ${levelNames[risk.probabilitaResidua]} (${risk.probabilitaResidua}) e gravità ${levelNames[risk.gravitaResidua]} (${risk.gravitaResidua}): rischio residuo ${after}.`,
  ];
}

/* ------------------------------- DOCX tables ------------------------------ */

interface DocxCell {
  fill: string | undefined;
  /** The cell's paragraphs, joined by a space. */
  text: string;
}

/** Every table of the document body, as rows of cells with their shading and text. */
async function docxTables(bytes: Buffer): Promise<DocxCell[][][]> {
  const xml = await (await JSZip.loadAsync(bytes)).file('word/document.xml')?.async('string');
  if (!xml) throw new Error('no word/document.xml');
  return [...xml.matchAll(/<w:tbl>(.*?)<\/w:tbl>/gs)].map((table) =>
    [...(table[1] ?? '').matchAll(/<w:tr(?: [^>]*)?>(.*?)<\/w:tr>/gs)].map((row) =>
      [...(row[1] ?? '').matchAll(/<w:tc>(.*?)<\/w:tc>/gs)].map((cell) => {
        const content = cell[1] ?? '';
        const properties = /<w:tcPr>(.*?)<\/w:tcPr>/s.exec(content)?.[1] ?? '';
        const fill = /<w:shd [^>]*w:fill="([0-9A-Fa-f]{6})"/.exec(properties)?.[1];
        const paragraphs = [...content.matchAll(/<w:p(?: [^>]*)?>(.*?)<\/w:p>/gs)].map((p) =>
          [...(p[1] ?? '').matchAll(/<w:t(?: [^>]*)?>([^<]*)<\/w:t>/g)].map((t) => t[1]).join(''),
        );
        return {
          fill: fill === undefined ? undefined : `#${fill.toLowerCase()}`,
          text: normalise(paragraphs.join(' ')),
        };
      }),
    ),
  );
}

/* ------------------------------- PDF drawing ------------------------------ */

interface FilledRect {
  page: number;
  colour: string;
  left: number;
  bottom: number;
  right: number;
  top: number;
}

interface PlacedText {
  page: number;
  text: string;
  x: number;
  y: number;
}

/** Filled rectangles and text runs of every page, in drawing order, as pdf.js reads them. */
async function pdfDrawing(
  bytes: Uint8Array,
): Promise<{ rects: FilledRect[]; texts: PlacedText[] }> {
  // pdf.js takes ownership of (detaches) the buffer it is given.
  const pdf = await getDocument({
    data: new Uint8Array(bytes),
    isEvalSupported: false,
    verbosity: 0,
  }).promise;
  const rects: FilledRect[] = [];
  const texts: PlacedText[] = [];
  for (let page = 1; page <= pdf.numPages; page++) {
    const operators = await (await pdf.getPage(page)).getOperatorList();
    let colour = '#000000';
    const saved: string[] = [];
    let x = 0;
    let y = 0;
    operators.fnArray.forEach((fn, index) => {
      // pdf.js's argument arrays are untyped; each operator's shape is fixed by its code.
      const args = operators.argsArray[index] as unknown[];
      if (fn === OPS.save) saved.push(colour);
      else if (fn === OPS.restore) colour = saved.pop() ?? '#000000';
      else if (fn === OPS.setFillRGBColor) colour = String(args[0]);
      else if (fn === OPS.constructPath && (args[0] === OPS.fill || args[0] === OPS.eoFill)) {
        const [left = 0, bottom = 0, right = 0, top = 0] = Array.from(args[2] as ArrayLike<number>);
        rects.push({ page, colour, left, bottom, right, top });
      } else if (fn === OPS.setTextMatrix) {
        const matrix = Array.from(args[0] as ArrayLike<number>);
        x = matrix[4] ?? 0;
        y = matrix[5] ?? 0;
      } else if (fn === OPS.showText) {
        const glyphs = args[0] as ({ unicode: string } | number)[];
        const text = glyphs.map((glyph) => (typeof glyph === 'number' ? '' : glyph.unicode));
        texts.push({ page, text: text.join(''), x, y });
      }
    });
  }
  await pdf.destroy();
  return { rects, texts };
}

function textsInside(rect: FilledRect, texts: PlacedText[]): string {
  return texts
    .filter(
      (text) =>
        text.page === rect.page &&
        text.x > rect.left &&
        text.x < rect.right &&
        text.y > rect.bottom &&
        text.y < rect.top,
    )
    .map((text) => text.text)
    .join(' ');
}

describe('the DPIA documents', () => {
  let token: string;

  before(async () => {
    token = (await newTenant('Comune di Calderara di Reno')).token;
  });

  describe('the DPIA draft of the example', () => {
    const data = example<DpiaData>('dpia');
    let pdf: Buffer;
    let docx: Buffer;
    let pdfFlat: string;
    let docxFlat: string;

    before(async function () {
      this.timeout(60_000);
      const generated = await generate(token, 'dpia', data);
      expect(generated.response.documentType).to.equal('dpia');
      pdf = generated.pdf;
      docx = generated.docx;
      pdfFlat = normalise(await pdfText(pdf));
      docxFlat = normalise(await docxText(docx));
    });

    it('states its version and what changed from the previous one', () => {
      const phrases = [
        'VALUTAZIONE D’IMPATTO SULLA PROTEZIONE DEI DATI PERSONALI',
        'Versione n. 2 del 20 ottobre 2026',
        'Versione n. 1 del 3 novembre 2025',
        'entro il 20 ottobre 2027',
        'La presente è la versione n. 2 della DPIA, del 20 ottobre 2026. Essa sostituisce la versione n. 1 del 3 novembre 2025, rispetto alla quale sono state apportate le seguenti modifiche:',
        'Aggiunti i 6 varchi di lettura targhe collegati alle banche dati SCNTT e ANIA',
        'Ridotto da 7 a 5 giorni il termine di conservazione delle immagini',
      ];
      expect(firstMissingInOrder(pdfFlat, phrases), 'PDF').to.equal(undefined);
      expect(firstMissingInOrder(docxFlat, phrases), 'DOCX').to.equal(undefined);
    });

    it('has the four parts of art. 35, par. 7, in order, each with its content', () => {
      const phrases = [
        'ai sensi dell’art. 35, par. 1, del Regolamento (UE) 2016/679',
        'provvedimento n. 467 dell’11 ottobre 2018',
        '(WP248 rev.01)',
        '1. DESCRIZIONE SISTEMATICA DEL TRATTAMENTO E DELLE FINALITÀ',
        '(art. 35, par. 7, lett. a), del Regolamento (UE) 2016/679)',
        'Finalità',
        'Tutela della sicurezza urbana e prevenzione dei reati',
        'Basi giuridiche',
        'Categorie di dati personali',
        'Categorie di interessati',
        'Destinatari',
        'Conservazione',
        'Immagini: 5 giorni',
        'Supporti (sistemi, applicazioni, archivi)',
        'Flussi di dati',
        '2. VALUTAZIONE DELLA NECESSITÀ E PROPORZIONALITÀ DEL TRATTAMENTO',
        '(art. 35, par. 7, lett. b), del Regolamento (UE) 2016/679)',
        'Liceità e base giuridica',
        'Minimizzazione dei dati',
        'Esattezza dei dati',
        'Limitazione della conservazione',
        'Informazione degli interessati',
        'Esercizio dei diritti degli interessati',
        'Responsabili del trattamento',
        'Trasferimenti verso paesi terzi',
        'Nessun trasferimento verso paesi terzi',
        '3. VALUTAZIONE DEI RISCHI PER I DIRITTI E LE LIBERTÀ DEGLI INTERESSATI',
        '(art. 35, par. 7, lett. c), del Regolamento (UE) 2016/679)',
        '1 – trascurabile, 2 – limitata, 3 – importante, 4 – massima',
        'Accesso illegittimo ai dati',
        'Modifica indesiderata dei dati',
        'Scomparsa dei dati',
        '4. MISURE PREVISTE PER AFFRONTARE I RISCHI',
        '(art. 35, par. 7, lett. d), del Regolamento (UE) 2016/679)',
        'Autenticazione a due fattori e profili di accesso',
        'Limitazione delle interrogazioni dello storico dei transiti',
      ];
      expect(firstMissingInOrder(pdfFlat, phrases), 'PDF').to.equal(undefined);
      expect(firstMissingInOrder(docxFlat, phrases), 'DOCX').to.equal(undefined);
    });

    it('gives each risk its sources, threats, impacts and levels before and after the measures', () => {
      const phrases = data.rischi.flatMap(riskPhrases);
      expect(firstMissingInOrder(pdfFlat, phrases), 'PDF').to.equal(undefined);
      expect(firstMissingInOrder(docxFlat, phrases), 'DOCX').to.equal(undefined);
    });

    it('states the high residual risk and the prior consultation due, then the opinions and the decision', () => {
      const phrases = [
        '5. MAPPA DEI RISCHI',
        '6. RISCHIO RESIDUO E CONSULTAZIONE PREVENTIVA',
        'Dopo le misure previste restano elevati i seguenti rischi residui:',
        'R4 – Tracciamento sistematico dei veicoli tramite i varchi: probabilità importante (3), gravità importante (3)',
        'Il Titolare, prima di procedere al trattamento, consulta pertanto il Garante per la protezione dei dati personali',
        'come previsto dagli artt. 26, comma 6, e 27 del Regolamento dell’ente',
        'entro otto settimane',
        'prorogabile di sei settimane',
        '7. PARERE DEL RESPONSABILE DELLA PROTEZIONE DEI DATI',
        'Lepida S.c.p.A., ha reso il 15 ottobre 2026 il proprio parere sulla presente DPIA, con esito favorevole con osservazioni',
        '(art. 9, comma 2, del Regolamento dell’ente)',
        '8. OPINIONI DEGLI INTERESSATI',
        'art. 35, par. 9',
        'non sono state raccolte per il seguente motivo',
        '9. DECISIONE DEL TITOLARE DEL TRATTAMENTO',
        'in data 20 ottobre 2026, approva con prescrizioni la presente valutazione d’impatto',
        'Prescrizioni: I varchi di lettura targhe saranno attivati solo dopo la risposta del Garante',
        '10. MONITORAGGIO E RIESAME',
        'La DPIA è riesaminata entro il 20 ottobre 2027',
        'art. 35, par. 11',
        'Calderara di Reno, 20 ottobre 2026',
        'Il Sindaco',
        'Giampiero Falzone',
      ];
      expect(firstMissingInOrder(pdfFlat, phrases), 'PDF').to.equal(undefined);
      expect(firstMissingInOrder(docxFlat, phrases), 'DOCX').to.equal(undefined);
    });

    it('draws the risk map in the DOCX as two shaded grids with each code in its cell', async () => {
      const tables = await docxTables(docx);
      const maps = tables.filter((rows) => rows[0]?.[0]?.text === 'Gravità \\ Probabilità');
      expect(maps, 'two risk-map tables').to.have.length(2);
      (['prima', 'dopo'] as const).forEach((phase, index) => {
        const rows = maps[index] as DocxCell[][];
        const expected = expectedCells(data.rischi, phase);
        expect(rows, `${phase}: header and four severity rows`).to.have.length(5);
        expect(rows[0]?.map((cell) => cell.text)).to.deep.equal([
          'Gravità \\ Probabilità',
          '1 trascurabile',
          '2 limitata',
          '3 importante',
          '4 massima',
        ]);
        rows.slice(1).forEach((row, rowIndex) => {
          const g = 4 - rowIndex;
          expect(row, `${phase}, severity ${g}`).to.have.length(5);
          expect(row[0]?.text).to.equal(`${g} ${levelNames[g]}`);
          for (let p = 1; p <= 4; p++) {
            const cell = row[p] as DocxCell;
            const where = `${phase}: likelihood ${p}, severity ${g}`;
            expect(cell.fill, where).to.equal(riskLevel(p * g).colour);
            expect(cell.text, where).to.equal((expected.get(`${p},${g}`) ?? []).join(', '));
          }
        });
      });
      // The legend names each colour in words.
      const legend = tables.find((rows) => rows[0]?.[1]?.text.startsWith('basso'));
      expect(legend?.map((row) => [row[0]?.fill, row[1]?.text.split(':')[0]])).to.deep.equal([
        ['#a9d08e', 'basso'],
        ['#ffe699', 'moderato'],
        ['#f4b183', 'rilevante'],
        ['#ff7c80', 'elevato'],
      ]);
      // Each risk's own level cells are shaded too.
      for (const risk of data.rischi) {
        const evaluation = tables.find(
          (rows) => rows[0]?.[0]?.text === `Valutazione di ${risk.codice}`,
        );
        const levelRow = evaluation?.find((row) => row[0]?.text === 'Livello del rischio');
        expect(levelRow?.[1]?.fill, risk.codice).to.equal(
          riskLevel(risk.probabilita * risk.gravita).colour,
        );
        expect(levelRow?.[2]?.fill, risk.codice).to.equal(
          riskLevel(risk.probabilitaResidua * risk.gravitaResidua).colour,
        );
      }
    });

    it('draws the risk map in the PDF as coloured rectangles with each code inside its cell', async () => {
      const { rects, texts } = await pdfDrawing(pdf);
      // The 16 cells of each grid: a fifth of the text width, right of the severity column.
      const gridCells = rects.filter(
        (rect) =>
          Math.abs(rect.right - rect.left - TEXT_WIDTH / 5) < 0.01 &&
          rect.left > TEXT_LEFT + TEXT_WIDTH / 5 - 0.01,
      );
      expect(gridCells, 'two grids of 16 shaded cells').to.have.length(32);
      (['prima', 'dopo'] as const).forEach((phase, grid) => {
        const expected = expectedCells(data.rischi, phase);
        const cells = gridCells.slice(grid * 16, grid * 16 + 16);
        const title = texts.find((text) =>
          text.text.startsWith(`Mappa dei rischi – ${phase === 'prima' ? 'Prima' : 'Dopo'}`),
        );
        if (!title) throw new Error(`no title for the map ${phase}`);
        cells.forEach((cell, index) => {
          const g = 4 - Math.floor(index / 4);
          const p = (index % 4) + 1;
          const where = `${phase}: likelihood ${p}, severity ${g}`;
          expect(cell.colour, where).to.equal(riskLevel(p * g).colour);
          // Columns left to right by likelihood.
          expect(cell.left, where).to.be.closeTo(TEXT_LEFT + (p * TEXT_WIDTH) / 5, 0.01);
          expect(textsInside(cell, texts), where).to.equal(
            (expected.get(`${p},${g}`) ?? []).join(', '),
          );
          // Under its own title, rows top to bottom from the maximum severity.
          if (cell.page === title.page) expect(cell.top, where).to.be.below(title.y);
          const below = cells[index + 4];
          if (below && below.page === cell.page) {
            expect(below.top, where).to.be.closeTo(cell.bottom, 0.01);
          }
        });
      });
      // The legend: a swatch of each colour beside its name.
      const swatches = rects.filter(
        (rect) => Math.abs(rect.right - rect.left - TEXT_WIDTH * 0.12) < 0.01,
      );
      expect(
        swatches.map((swatch) => {
          const beside = texts.find(
            (text) =>
              text.page === swatch.page &&
              text.x > swatch.right &&
              text.y > swatch.bottom &&
              text.y < swatch.top,
          );
          return [swatch.colour, beside?.text.split(':')[0]];
        }),
      ).to.deep.equal([
        ['#a9d08e', 'basso'],
        ['#ffe699', 'moderato'],
        ['#f4b183', 'rilevante'],
        ['#ff7c80', 'elevato'],
      ]);
    });
  });

  it('a first version without high residual risk says no prior consultation is due', async function () {
    this.timeout(60_000);
    const data = example<DpiaData>('dpia');
    data.versione = 1;
    delete data.revisionePrecedente;
    const r4 = data.rischi[3] as Risk;
    r4.probabilitaResidua = 2;
    r4.gravitaResidua = 2;
    data.consultazionePreventiva = false;
    data.opinioniInteressati = {
      modalita: 'Incontro pubblico con i comitati di quartiere del 12 ottobre 2026',
      sintesi: 'I comitati chiedono cartelli più visibili presso i varchi; richiesta accolta.',
    };
    delete data.opinioniNonRaccolte;
    data.decisioneTitolare = { esito: 'approvata', data: '2026-10-20' };
    const { pdf, docx } = await generate(token, 'dpia', data);
    const phrases = [
      'La presente è la versione n. 1 della DPIA, del 20 ottobre 2026: è la prima valutazione d’impatto del trattamento.',
      'Dopo le misure ha probabilità limitata (2) e gravità limitata (2): rischio residuo moderato.',
      'Dopo le misure previste nessun rischio residuo è elevato: non ricorrono i presupposti della consultazione preventiva',
      'il Titolare ha raccolto le opinioni degli interessati o dei loro rappresentanti',
      'Modalità di raccolta: Incontro pubblico con i comitati di quartiere del 12 ottobre 2026',
      'Sintesi delle opinioni: I comitati chiedono cartelli più visibili presso i varchi',
      'in data 20 ottobre 2026, approva la presente valutazione d’impatto.',
    ];
    for (const [format, text] of [
      ['PDF', await pdfText(pdf)],
      ['DOCX', await docxText(docx)],
    ] as const) {
      expect(firstMissingInOrder(text, phrases), format).to.equal(undefined);
      expect(normalise(text), format).not.to.contain('Versione precedente');
      expect(normalise(text), format).not.to.contain('restano elevati');
    }
  });

  it('refuses a DPIA that leaves a high residual risk without prior consultation', async () => {
    const data = example<DpiaData>('dpia');
    data.consultazionePreventiva = false;
    const response = await call<{ invalidParams?: { name: string }[] }>(
      'POST',
      '/api/v1/documents',
      { token, json: { template: 'dpia', data } },
    );
    expect(response.status).to.equal(422);
    expect((response.body.invalidParams ?? []).map((param) => param.name)).to.include(
      'data.consultazionePreventiva',
    );
  });

  it('cites the articles of the ente’s own regolamento when Sigillo holds it', async function () {
    this.timeout(60_000);
    const tenant = await newTenant('Comune di Calderara di Reno');
    const chosen = await call('PATCH', '/api/v1/organisation', {
      token: tenant.token,
      json: { regolamentoKey: 'calderara-di-reno-2020' },
    });
    expect(chosen.status, JSON.stringify(chosen.body)).to.equal(200);
    const data = example<DpiaData>('dpia');
    delete data.regolamento;
    const { pdf } = await generate(tenant.token, 'dpia', data);
    const text = normalise(await pdfText(pdf));
    expect(text).to.contain(
      'dell’art. 25 («D.P.I.A.») del Regolamento dell’ente per la protezione dei dati personali, approvato con delibera consiliare n. 117 del 22-12-2020',
    );
    expect(text).to.contain(
      'artt. 26, comma 6, e 27 («Consultazione preventiva del Garante della privacy»)',
    );
    expect(text).to.contain('artt. 9 («Competenze del D.P.O.») e 26, comma 4');
    expect(text).to.contain('(art. 30 («Monitoraggio») del Regolamento dell’ente)');
  });

  for (const key of ['dpia-screening', 'dpia', 'consultazione-preventiva']) {
    it(`${key}: the checklist phrases read back in order from the PDF and the DOCX`, async function () {
      this.timeout(60_000);
      const items = JSON.parse(templateFile(key, 'checklist.json')) as { printed: string }[];
      const phrases = items.map((item) => item.printed);
      const { pdf, docx } = await generate(token, key, example(key));
      expect(firstMissingInOrder(await pdfText(pdf), phrases), `${key} PDF`).to.equal(undefined);
      expect(firstMissingInOrder(await docxText(docx), phrases), `${key} DOCX`).to.equal(undefined);
    });
  }
});
