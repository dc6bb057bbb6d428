/**
 * Realistic document models shared by the renderer tests (DOCX and PDF), so
 * both renderers are held to the same input.
 */
import type {
  Alignment,
  DocumentModel,
  Inline,
  List,
  ListStyle,
  Paragraph,
  TableCell,
  TableRow,
  TextRun,
} from '../../server/documents/document-model.js';

export function text(
  value: string,
  style: { bold?: boolean; italic?: boolean; underline?: boolean } = {},
): TextRun {
  return {
    kind: 'text',
    text: value,
    bold: style.bold ?? false,
    italic: style.italic ?? false,
    underline: style.underline ?? false,
  };
}

export function para(runs: Inline[] | string, align: Alignment = 'justify'): Paragraph {
  return { kind: 'paragraph', align, runs: typeof runs === 'string' ? [text(runs)] : runs };
}

export function list(style: ListStyle, items: (string | (Paragraph | List)[])[], start = 1): List {
  return {
    kind: 'list',
    style,
    start,
    items: items.map((item) => ({ blocks: typeof item === 'string' ? [para(item)] : item })),
  };
}

function cell(value: string, align: Alignment = 'left'): TableCell {
  return { blocks: [para(value, align)], align };
}

function row(...values: string[]): TableRow {
  return { cells: values.map((value) => cell(value)) };
}

function letterhead(): Paragraph[] {
  return [
    para([text('COMUNE DI SANT’ELPIDIO A MARE', { bold: true })], 'center'),
    para(
      [text('Provincia di Fermo'), { kind: 'lineBreak' }, text('Piazza Matteotti, 8')],
      'center',
    ),
  ];
}

function pageFooter(): Paragraph[] {
  return [
    para(
      [
        text('Pagina '),
        { kind: 'pageNumber', bold: false, italic: false, underline: false },
        text(' di '),
        { kind: 'pageCount', bold: false, italic: false, underline: false },
      ],
      'center',
    ),
  ];
}

/** "DECRETO DEL SINDACO N. 12 DEL 24 NOVEMBRE 2026": a designation under art. 2-quaterdecies. */
export function sampleDecreto(): DocumentModel {
  return {
    metadata: {
      title: 'Decreto del Sindaco n. 12 del 24 novembre 2026',
      author: 'Comune di Sant’Elpidio a Mare',
      subject: 'Designazione del soggetto autorizzato al trattamento dei dati personali',
      keywords: ['GDPR', 'designazione', 'art. 2-quaterdecies'],
      language: 'it-IT',
      date: new Date('2026-11-24T09:00:00Z'),
    },
    header: letterhead(),
    footer: pageFooter(),
    body: [
      {
        kind: 'heading',
        level: 1,
        align: 'center',
        runs: [text('DECRETO DEL SINDACO N. 12 DEL 24 NOVEMBRE 2026')],
      },
      para([
        text('OGGETTO: ', { bold: true }),
        text(
          'Designazione del «Responsabile dell’Ufficio Tributi» quale soggetto autorizzato al trattamento dei dati personali ai sensi dell’art. 2-quaterdecies del D.Lgs. 196/2003 – § 1.',
        ),
      ]),
      { kind: 'heading', level: 2, align: 'center', runs: [text('IL SINDACO')] },
      para([text('VISTI:', { bold: true })], 'left'),
      list('bullet', [
        'il Regolamento (UE) 2016/679 del Parlamento europeo e del Consiglio, del 27 aprile 2016 (“GDPR”);',
        'il D.Lgs. 30 giugno 2003, n. 196, come modificato dal D.Lgs. 10 agosto 2018, n. 101;',
        'il D.Lgs. 18 agosto 2000, n. 267 (Testo unico delle leggi sull’ordinamento degli enti locali);',
      ]),
      para(
        'CONSIDERATO che il Comune, in qualità di titolare del trattamento, è tenuto ad adottare misure tecniche e organizzative adeguate, perché così prevede l’art. 32 del GDPR; che l’attività dell’ufficio, già verificata, può comportare il trattamento di dati di più categorie di interessati; che il costo stimato è pari a € 1.250,00.',
      ),
      { kind: 'heading', level: 2, align: 'center', runs: [text('DECRETA')] },
      list('decimal', [
        [
          para([
            text('di designare la dott.ssa '),
            text('Maria Rossi', { bold: true }),
            text(' quale soggetto autorizzato al trattamento dei dati personali;'),
          ]),
        ],
        [
          para('di attribuire alla medesima i seguenti compiti:'),
          list('lower-alpha', [
            'garantire la riservatezza dei dati trattati;',
            'vigilare sull’osservanza delle istruzioni impartite;',
            [
              para([
                text('segnalare senza ritardo ogni violazione, '),
                text('anche solo presunta', { italic: true }),
                text(', al titolare.'),
              ]),
            ],
          ]),
        ],
        [
          para([
            text('di pubblicare il presente decreto all’Albo pretorio '),
            text('on line', { underline: true }),
            text(' per quindici giorni consecutivi.'),
          ]),
        ],
      ]),
      {
        kind: 'table',
        columnWidths: [0.4, 0.35, 0.25],
        borders: true,
        header: {
          cells: [cell('Trattamento'), cell('Categorie di dati'), cell('Conservazione')],
        },
        rows: [
          row('Riscossione IMU e TARI', 'Dati anagrafici e catastali', '10 anni'),
          row('Rimborsi e sgravi', 'Dati bancari (IBAN)', '10 anni'),
          row('Agevolazioni ISEE', 'Dati economici; dati relativi alla salute', '5 anni'),
        ],
      },
      para([
        text('Sant’Elpidio a Mare, 24 novembre 2026'),
        { kind: 'lineBreak' },
        text('Letto, approvato e sottoscritto.', { italic: true }),
      ]),
      {
        kind: 'signatures',
        signatures: [
          {
            id: 'sindaco',
            role: 'Il Sindaco',
            name: 'Giovanni Bianchi',
            note: 'firmato digitalmente',
          },
          { id: 'designato', role: 'Per accettazione, il Designato', name: 'Maria Rossi' },
        ],
      },
    ],
  };
}

/** Stress input: a 200-item list, a 60-row table and a 5,000-character paragraph. */
export function longDocument(): DocumentModel {
  const sentence =
    'Il trattamento dei dati personali è effettuato secondo i principi di liceità, correttezza e trasparenza. ';
  let long = '';
  while (long.length < 5000) long += sentence;
  long = long.slice(0, 5000);

  return {
    metadata: {
      title: 'Registro delle attività di trattamento',
      author: 'Comune di Sant’Elpidio a Mare',
      keywords: ['registro'],
      language: 'it-IT',
      date: new Date('2026-11-24T09:00:00Z'),
    },
    header: letterhead(),
    footer: pageFooter(),
    body: [
      { kind: 'heading', level: 1, align: 'center', runs: [text('REGISTRO DEI TRATTAMENTI')] },
      list(
        'decimal',
        Array.from({ length: 200 }, (_, i) => `Voce di elenco numero ${i + 1}`),
      ),
      { kind: 'pageBreak' },
      {
        kind: 'table',
        columnWidths: [0.2, 0.5, 0.3],
        borders: true,
        header: { cells: [cell('N.'), cell('Trattamento'), cell('Base giuridica')] },
        rows: Array.from({ length: 60 }, (_, i) =>
          row(
            `${i + 1}`,
            `Trattamento numero ${i + 1}`,
            `Art. 6, par. 1, lett. e) – riga ${i + 1}`,
          ),
        ),
      },
      { kind: 'heading', level: 3, align: 'left', runs: [text('Nota finale')] },
      para(long),
    ],
  };
}
