/**
 * The registro from a spreadsheet: a CSV (UTF-8, `;` or `,`, one activity a row,
 * several values in a cell separated by `|`), checked whole before anything is
 * stored. All or nothing: one bad row and no row is stored, so that a corrected
 * file can simply be uploaded again without creating duplicates.
 */
import { parse } from 'csv-parse/sync';
import { Types } from 'mongoose';
import type { Principal } from '../platform/auth.js';
import { HttpProblem } from '../platform/http-problem.js';
import { currentTenant } from '../platform/tenancy.js';
import { processingActivityInputSchema, type ProcessingActivityInput } from './input.js';
import {
  codeKeyFor,
  controllerRoles,
  databaseKinds,
  ProcessingActivity,
  searchable,
  type DataSpecialKind,
  type LegalBasisCode,
  type ProcessingActivityDocument,
} from './model.js';
import { isDuplicateKey, recordFields, settoreProblems, storedInput } from './service.js';

interface CsvColumn {
  name: string;
  required: boolean;
  description: string;
  example: string;
}

/** The columns, in the template's order. Column names are matched ignoring case and accents. */
export const csvColumns: readonly CsvColumn[] = [
  {
    name: 'codice',
    required: false,
    description:
      'codice nel registro, unico per ente; se esiste già, la riga aggiorna quel trattamento',
    example: 'T01',
  },
  {
    name: 'nome',
    required: true,
    description: 'denominazione del trattamento',
    example: 'Anagrafe della popolazione residente',
  },
  {
    name: 'finalita',
    required: true,
    description: 'finalità (più valori separati da |)',
    example:
      "Tenuta dell'anagrafe della popolazione residente|Rilascio di certificati e carte d'identità",
  },
  {
    name: 'base_giuridica',
    required: true,
    description:
      'basi giuridiche: 6.1.a–6.1.f, 9.2.a–9.2.j, 10, 2-octies (anche "art. 6 par. 1 lett. e")',
    example: '6.1.c|6.1.e',
  },
  {
    name: 'ruolo',
    required: false,
    description: "ruolo dell'ente: titolare (predefinito), contitolare, responsabile",
    example: 'titolare',
  },
  {
    name: 'altri_titolari',
    required: false,
    description: 'contitolari, o titolari per conto dei quali si tratta se responsabile',
    example: '',
  },
  {
    name: 'interessati',
    required: true,
    description: 'categorie di interessati',
    example: "Residenti|Cittadini italiani residenti all'estero (AIRE)",
  },
  {
    name: 'dati',
    required: true,
    description: 'categorie di dati personali comuni',
    example: 'Dati anagrafici|Codice fiscale|Indirizzo di residenza',
  },
  {
    name: 'dati_particolari',
    required: false,
    description: 'categorie particolari di dati (art. 9 GDPR)',
    example: '',
  },
  {
    name: 'dati_giudiziari',
    required: false,
    description: 'dati relativi a condanne penali e reati (art. 10 GDPR)',
    example: '',
  },
  {
    name: 'destinatari',
    required: false,
    description: 'categorie di destinatari',
    example: "Ministero dell'Interno (ANPR)|ISTAT|Altre pubbliche amministrazioni",
  },
  {
    name: 'trasferimenti_extra_ue',
    required: false,
    description: 'si / no (vuoto = no)',
    example: 'no',
  },
  {
    name: 'paesi_extra_ue',
    required: false,
    description: 'paesi terzi o organizzazioni internazionali, se trasferimenti_extra_ue = si',
    example: '',
  },
  {
    name: 'garanzie_trasferimento',
    required: false,
    description: 'garanzie del trasferimento (artt. 45–49 GDPR), se trasferimenti_extra_ue = si',
    example: '',
  },
  {
    name: 'conservazione',
    required: true,
    description: 'termini di conservazione o cancellazione',
    example: 'Illimitata: registri anagrafici conservati permanentemente (D.P.R. 223/1989)',
  },
  {
    name: 'misure_sicurezza',
    required: false,
    description: 'misure di sicurezza tecniche e organizzative',
    example: 'Credenziali individuali e profili di accesso per ruolo|Backup giornaliero cifrato',
  },
  {
    name: 'banche_dati',
    required: false,
    description:
      'banche dati e sistemi, ciascuno con il tipo tra parentesi: (informatico), (cartaceo), (misto); senza tipo: informatico',
    example: 'ANPR - Anagrafe nazionale (informatico)|Schedario anagrafico storico (cartaceo)',
  },
  {
    name: 'responsabili_esterni',
    required: false,
    description: 'responsabili del trattamento (art. 28 GDPR)',
    example: 'Fornitore del software dei servizi demografici',
  },
  {
    name: 'dpia',
    required: false,
    description: 'valutazione d’impatto necessaria: si, no, da valutare (predefinito)',
    example: 'no',
  },
  {
    name: 'settore_id',
    required: false,
    description: 'identificativo del settore competente',
    example: '',
  },
];

export const csvColumnsDescription = csvColumns
  .map(
    (column) => `${column.name}${column.required ? ' (obbligatoria)' : ''}: ${column.description}`,
  )
  .join('; ');

const columnNames = new Set(csvColumns.map((column) => column.name));
const valueSeparator = '|';
const maxRows = 2000;

function normaliseHeader(text: string): string {
  return searchable(text).replace(/[\s-]+/g, '_');
}

function csvCell(value: string): string {
  return /[";\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * The template: header and one example row, `;`-separated as Italian spreadsheets
 * expect, with a byte-order mark so that Excel reads it as UTF-8.
 */
export function csvTemplate(): string {
  const line = (values: string[]) => values.map(csvCell).join(';');
  return `\uFEFF${line(csvColumns.map((column) => column.name))}\r\n${line(
    csvColumns.map((column) => column.example),
  )}\r\n`;
}

function fileProblem(title: string, detail: string, extensions: Record<string, unknown> = {}) {
  return new HttpProblem(422, title, detail, {
    invalidParams: [{ name: 'files.file', reason: detail }],
    ...extensions,
  });
}

/** The file's text, or a 422 that tells the user how to save the file instead. */
export function decodeCsv(buffer: Buffer): string {
  if (buffer.length === 0) throw fileProblem('File vuoto', 'Il file è vuoto');
  if (buffer.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) {
    throw fileProblem(
      'Formato non valido',
      'Il file è un foglio di calcolo (.xlsx/.ods), non un CSV: salvarlo come «CSV UTF-8»',
    );
  }
  const bom = buffer.subarray(0, 2);
  if (bom.equals(Buffer.from([0xff, 0xfe])) || bom.equals(Buffer.from([0xfe, 0xff]))) {
    throw fileProblem(
      'Codifica non valida',
      'Il file è in UTF-16 («testo Unicode»): salvarlo come «CSV UTF-8»',
    );
  }
  try {
    // A leading byte-order mark (Excel's «CSV UTF-8») is dropped by the decoder.
    return new TextDecoder('utf-8', { fatal: true }).decode(buffer);
  } catch {
    const lenient = new TextDecoder('utf-8').decode(buffer);
    const line = lenient.slice(0, lenient.indexOf('\uFFFD')).split('\n').length;
    throw fileProblem(
      'Codifica non valida',
      `Il file non è in UTF-8 (riga ${line}; probabilmente Windows-1252 o ISO-8859-1): salvarlo come «CSV UTF-8»`,
    );
  }
}

const separators = [';', ','] as const;
type Separator = (typeof separators)[number];

function parseRecords(text: string, delimiter: string): string[][] {
  try {
    return parse(text, { delimiter, relax_column_count: true, skip_empty_lines: false });
  } catch (error) {
    const { code, lines } = error as { code?: string; lines?: number };
    const reason =
      code === 'CSV_QUOTE_NOT_CLOSED'
        ? 'virgolette aperte e mai chiuse'
        : code === 'CSV_INVALID_CLOSING_QUOTE'
          ? 'testo subito dopo le virgolette di chiusura di una cella'
          : (error as Error).message;
    throw fileProblem(
      'CSV non leggibile',
      `Il file non è un CSV valido${lines ? ` alla riga ${lines}` : ''}: ${reason}`,
    );
  }
}

/**
 * The separator is the one that splits the header into known column names: a
 * property of the file as a whole, rather than a guess from counting characters.
 */
function detectSeparator(text: string): Separator {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  let best: { separator: Separator; known: number } | undefined;
  for (const separator of separators) {
    let header: string[];
    try {
      header = parseRecords(firstLine, separator)[0] ?? [];
    } catch {
      continue;
    }
    const known = header.filter((cell) => columnNames.has(normaliseHeader(cell))).length;
    if (known > 1 && (!best || known > best.known)) best = { separator, known };
  }
  if (best) return best.separator;
  const other = firstLine.includes('\t') ? 'la tabulazione' : firstLine.includes('|') ? '|' : '';
  throw fileProblem(
    'Separatore non riconosciuto',
    other
      ? `L'intestazione è separata da ${other}: usare ; oppure , come separatore di colonna (| separa i valori dentro una cella)`
      : `Intestazione non riconosciuta: la prima riga deve elencare le colonne separate da ; o da , (${csvColumns
          .filter((column) => column.required)
          .map((column) => column.name)
          .join(', ')}, …)`,
    { expectedColumns: csvColumns.map((column) => column.name) },
  );
}

export interface RowError {
  column: string | null;
  reason: string;
}

export interface RowReport {
  /** The spreadsheet row: the header is row 1. */
  row: number;
  status: 'created' | 'updated' | 'valid' | 'error';
  id?: string;
  code?: string | null;
  errors: RowError[];
}

export interface ImportReport {
  stored: boolean;
  created: number;
  updated: number;
  rows: RowReport[];
}

interface ParsedRow {
  row: number;
  values: Partial<ProcessingActivityInput>;
  /** For each personal data category, the column and position it came from. */
  dataOrigins: { column: string; index: number }[];
  errors: RowError[];
}

function list(cell: string | undefined): string[] {
  return (cell ?? '')
    .split(valueSeparator)
    .map((value) => value.trim())
    .filter(Boolean);
}

/** "6.1.e", "art6.1.e", "art. 6 par. 1 lett. e)", "6(1)(e)", "9.2.g", "10", "2-octies". */
export function parseLegalBasis(text: string): LegalBasisCode | undefined {
  const compact = searchable(text)
    .replace(/gdpr|regolamento|d\.?\s?lgs\.?.*$|codice.*$/g, ' ')
    .replace(/articolo|art|paragrafo|par|comma|lettera|lett/g, ' ');
  if (/\b2\W*octies\b/.test(compact)) return 'art2-octies';
  const tokens = compact
    .replace(/(\d)([a-z])/g, '$1 $2')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .split(' ');
  const [article, paragraph, letter] = tokens;
  if (tokens.length === 1 && article === '10') return 'art10';
  if (tokens.length !== 3 || !letter) return undefined;
  if (article === '6' && paragraph === '1' && /^[a-f]$/.test(letter)) {
    return `art6.1.${letter}` as LegalBasisCode;
  }
  if (article === '9' && paragraph === '2' && /^[a-j]$/.test(letter)) {
    return `art9.2.${letter}` as LegalBasisCode;
  }
  return undefined;
}

function yesNo(cell: string): boolean | undefined {
  const value = searchable(cell);
  if (value === '' || value === 'no') return false;
  if (value === 'si') return true;
  return undefined;
}

/** One row as input values, for the columns the file has; what cannot even be read is an error. */
function readRow(row: number, cells: Map<string, string>): ParsedRow {
  const errors: RowError[] = [];
  const has = (column: string) => cells.has(column);
  const cell = (column: string) => cells.get(column)?.trim() ?? '';
  const values: Partial<ProcessingActivityInput> = {};

  if (has('codice')) values.code = cell('codice') || null;
  if (has('nome')) values.name = cell('nome');
  if (has('finalita')) values.purposes = list(cell('finalita'));
  if (has('base_giuridica')) {
    const codes: LegalBasisCode[] = [];
    for (const value of list(cell('base_giuridica'))) {
      const code = parseLegalBasis(value);
      if (code) codes.push(code);
      else {
        errors.push({
          column: 'base_giuridica',
          reason: `"${value}" non è una base giuridica riconosciuta (es. 6.1.e, 9.2.g, 10, 2-octies)`,
        });
      }
    }
    values.legalBasis = codes;
  }
  if (has('ruolo') && cell('ruolo')) {
    const role = controllerRoles.find((candidate) => candidate === searchable(cell('ruolo')));
    if (role) values.controllerRole = role;
    else {
      errors.push({
        column: 'ruolo',
        reason: `"${cell('ruolo')}" non è un ruolo: ${controllerRoles.join(', ')}`,
      });
    }
  }
  if (has('altri_titolari')) values.otherControllers = list(cell('altri_titolari'));
  if (has('interessati')) values.dataSubjectCategories = list(cell('interessati'));

  const dataOrigins: ParsedRow['dataOrigins'] = [];
  const dataColumns: [string, DataSpecialKind][] = [
    ['dati', 'none'],
    ['dati_particolari', 'art9'],
    ['dati_giudiziari', 'art10'],
  ];
  if (dataColumns.some(([column]) => has(column))) {
    values.personalDataCategories = dataColumns.flatMap(([column, special]) =>
      list(cell(column)).map((name, index) => {
        dataOrigins.push({ column, index });
        return { name, special };
      }),
    );
  }

  if (has('destinatari')) values.recipients = list(cell('destinatari'));
  if (['trasferimenti_extra_ue', 'paesi_extra_ue', 'garanzie_trasferimento'].some(has)) {
    const present = yesNo(cell('trasferimenti_extra_ue'));
    if (present === undefined) {
      errors.push({
        column: 'trasferimenti_extra_ue',
        reason: `"${cell('trasferimenti_extra_ue')}": indicare si oppure no`,
      });
    }
    values.transfersOutsideEU = {
      present: present ?? false,
      countries: list(cell('paesi_extra_ue')),
      safeguards: cell('garanzie_trasferimento') || null,
    };
  }
  if (has('conservazione')) values.retention = cell('conservazione');
  if (has('misure_sicurezza')) values.securityMeasures = list(cell('misure_sicurezza'));
  if (has('banche_dati')) {
    values.databases = list(cell('banche_dati')).map((entry) => {
      const match = /^(.*?)\s*\(\s*([^()]+?)\s*\)$/.exec(entry);
      const kind = databaseKinds.find((candidate) => candidate === searchable(match?.[2] ?? ''));
      // A bracket that names no kind is part of the name: "Anagrafe nazionale (ANPR)".
      return match?.[1] && kind
        ? { name: match[1], kind }
        : { name: entry, kind: 'informatico' as const };
    });
  }
  if (has('responsabili_esterni')) values.processors = list(cell('responsabili_esterni'));
  if (has('dpia') && cell('dpia')) {
    const answer = searchable(cell('dpia')).replace(/\s+/g, '-');
    if (answer === 'si' || answer === 'no' || answer === 'da-valutare') {
      values.dpiaRequired = answer;
    } else {
      errors.push({ column: 'dpia', reason: `"${cell('dpia')}": indicare si, no o da valutare` });
    }
  }
  if (has('settore_id')) values.settoreId = cell('settore_id') || null;
  return { row, values, dataOrigins, errors };
}

const columnOfField: Record<string, string> = {
  name: 'nome',
  code: 'codice',
  purposes: 'finalita',
  legalBasis: 'base_giuridica',
  controllerRole: 'ruolo',
  otherControllers: 'altri_titolari',
  dataSubjectCategories: 'interessati',
  recipients: 'destinatari',
  retention: 'conservazione',
  securityMeasures: 'misure_sicurezza',
  settoreId: 'settore_id',
  databases: 'banche_dati',
  processors: 'responsabili_esterni',
  dpiaRequired: 'dpia',
};

/** Where a validation issue shows in the spreadsheet: the column, and which value of the cell. */
function locate(path: PropertyKey[], row: ParsedRow): { column: string | null; item?: number } {
  const [field, second, third] = path;
  if (field === 'personalDataCategories') {
    const origin = typeof second === 'number' ? row.dataOrigins[second] : undefined;
    return origin ? { column: origin.column, item: origin.index } : { column: 'dati' };
  }
  if (field === 'transfersOutsideEU') {
    if (second === 'countries') {
      return { column: 'paesi_extra_ue', ...(typeof third === 'number' ? { item: third } : {}) };
    }
    return {
      column: second === 'safeguards' ? 'garanzie_trasferimento' : 'trasferimenti_extra_ue',
    };
  }
  return {
    column: columnOfField[String(field)] ?? null,
    ...(typeof second === 'number' ? { item: second } : {}),
  };
}

/** Decodes, finds the separator, checks the header and reads every row. */
export function readCsv(buffer: Buffer): ParsedRow[] {
  const text = decodeCsv(buffer);
  const separator = detectSeparator(text);
  const records = parseRecords(text, separator);
  const header = (records[0] ?? []).map(normaliseHeader);
  const unknown = header.filter((name) => name !== '' && !columnNames.has(name));
  const duplicated = header.filter((name, index) => name !== '' && header.indexOf(name) !== index);
  const missing = csvColumns.filter((column) => column.required && !header.includes(column.name));
  const headerProblems = [
    ...(unknown.length > 0 ? [`colonne sconosciute: ${unknown.join(', ')}`] : []),
    ...(duplicated.length > 0 ? [`colonne ripetute: ${[...new Set(duplicated)].join(', ')}`] : []),
    ...(missing.length > 0
      ? [`colonne obbligatorie mancanti: ${missing.map((column) => column.name).join(', ')}`]
      : []),
  ];
  if (headerProblems.length > 0) {
    throw fileProblem(
      'Intestazione non valida',
      `Intestazione non valida: ${headerProblems.join('; ')}`,
      {
        expectedColumns: csvColumns.map((column) => column.name),
      },
    );
  }

  const otherSeparator = separators.find((candidate) => candidate !== separator)!;
  const rows: ParsedRow[] = [];
  for (const [index, record] of records.entries()) {
    if (index === 0 || record.every((value) => value.trim() === '')) continue;
    const rowNumber = index + 1;
    const cells = new Map<string, string>();
    const shapeErrors: RowError[] = [];
    for (const [position, value] of record.entries()) {
      const name = header[position];
      if (name) cells.set(name, value);
      else if (value.trim() !== '') {
        shapeErrors.push({
          column: null,
          reason: `valore "${value.slice(0, 40)}" in una colonna senza intestazione (colonna ${position + 1}): controllare separatori e virgolette`,
        });
      }
    }
    if (record.length === 1 && header.length > 1 && record[0]!.includes(otherSeparator)) {
      shapeErrors.push({
        column: null,
        reason: `la riga ha un solo campo: sembra separata da "${otherSeparator}" mentre l'intestazione usa "${separator}"`,
      });
      rows.push({ row: rowNumber, values: {}, dataOrigins: [], errors: shapeErrors });
      continue;
    }
    const parsed = readRow(rowNumber, cells);
    parsed.errors.unshift(...shapeErrors);
    rows.push(parsed);
  }
  if (rows.length === 0) {
    throw fileProblem(
      'Nessuna riga',
      "Il file contiene solo l'intestazione: nessun trattamento da importare",
    );
  }
  if (rows.length > maxRows) {
    throw fileProblem(
      'Troppe righe',
      `Il file ha ${rows.length} righe di dati: al massimo ${maxRows} per importazione`,
    );
  }
  return rows;
}

interface PlannedRow {
  parsed: ParsedRow;
  input?: ProcessingActivityInput;
  existing?: ProcessingActivityDocument;
}

/** Validates every row against the ente's registro as it is: codes, settori, the same rules as the API. */
async function planImport(rows: ParsedRow[]): Promise<PlannedRow[]> {
  const tenant = currentTenant();
  if (!tenant) throw new Error('CSV import outside a tenant');
  const codes = rows.flatMap((row) => (row.values.code ? [row.values.code] : []));
  const existing = await ProcessingActivity.find({
    codeKey: { $in: codes.map((code) => codeKeyFor(tenant, code)) },
  });
  const byCodeKey = new Map(existing.map((record) => [record.get('codeKey') as string, record]));
  const firstRowOfCode = new Map<string, number>();

  const planned: PlannedRow[] = rows.map((parsed) => {
    const errors = parsed.errors;
    const code = parsed.values.code;
    let match: ProcessingActivityDocument | undefined;
    if (code) {
      const key = codeKeyFor(tenant, code);
      const earlier = firstRowOfCode.get(key);
      if (earlier !== undefined) {
        errors.push({ column: 'codice', reason: `codice ${code} già usato alla riga ${earlier}` });
      } else firstRowOfCode.set(key, parsed.row);
      match = byCodeKey.get(key);
      if (match?.archived) {
        errors.push({
          column: 'codice',
          reason: `il codice ${code} è di un trattamento archiviato: ripristinarlo o usare un altro codice`,
        });
      }
    }
    const result = processingActivityInputSchema.safeParse({
      ...(match ? storedInput(match) : {}),
      ...parsed.values,
    });
    if (!result.success) {
      // A column whose cell could not even be read is reported once, by the reader.
      const unreadable = new Set(errors.map((error) => error.column));
      for (const issue of result.error.issues) {
        const { column, item } = locate(issue.path, parsed);
        if (column !== null && unreadable.has(column)) continue;
        errors.push({
          column,
          reason: item === undefined ? issue.message : `valore ${item + 1}: ${issue.message}`,
        });
      }
    }
    return {
      parsed,
      ...(result.success ? { input: result.data } : {}),
      ...(match ? { existing: match } : {}),
    };
  });

  // Checked when the file sets a settore: one archived since it was assigned does not block other changes.
  const given = (plan: PlannedRow) => (plan.input ? plan.parsed.values.settoreId : undefined);
  const problems = await settoreProblems(planned.flatMap((plan) => given(plan) ?? []));
  for (const plan of planned) {
    const problem = problems.get(given(plan) ?? '');
    if (problem) plan.parsed.errors.push({ column: 'settore_id', reason: problem });
  }
  return planned;
}

/**
 * Stores the planned rows. FerretDB v1 has no transactions, so all-or-nothing is
 * kept by hand: should a write fail midway (a code taken by a concurrent request,
 * the database going away), the entries this import created are deleted by their
 * importId and the ones it updated are put back as they were.
 */
async function storeImport(planned: PlannedRow[], principal: Principal) {
  const importId = new Types.ObjectId();
  const author = { userId: principal.userId, name: principal.name };
  const creations = planned.filter((plan) => !plan.existing);
  const updates = planned.filter((plan) => plan.existing);
  const before: Record<string, unknown>[] = [];
  const ids = new Map<number, string>();
  try {
    const created = await ProcessingActivity.insertMany(
      creations.map((plan) => ({
        ...recordFields(plan.input!),
        createdBy: author,
        updatedBy: author,
        origin: { source: 'csv', importId, row: plan.parsed.row },
      })),
      { ordered: true },
    );
    for (const [index, record] of created.entries()) {
      ids.set(creations[index]!.parsed.row, record.id);
    }
    for (const plan of updates) {
      const record = plan.existing!;
      before.push(record.toObject());
      record.set({ ...recordFields(plan.input!), updatedBy: author });
      await record.save();
      ids.set(plan.parsed.row, record.id);
    }
  } catch (error) {
    await ProcessingActivity.deleteMany({ 'origin.importId': importId });
    for (const previous of before) {
      await ProcessingActivity.replaceOne({ _id: previous._id }, previous);
    }
    if (isDuplicateKey(error)) {
      throw HttpProblem.conflict(
        'Un codice del file è stato usato nel frattempo da un altro trattamento: nessuna riga è stata salvata, riprovare',
      );
    }
    throw error;
  }
  return ids;
}

export async function importCsv(
  buffer: Buffer,
  options: { principal: Principal; dryRun: boolean },
): Promise<ImportReport> {
  const rows = readCsv(buffer);
  const planned = await planImport(rows);
  const failed = planned.some((plan) => plan.parsed.errors.length > 0);
  const store = !failed && !options.dryRun;
  const ids = store ? await storeImport(planned, options.principal) : new Map<number, string>();
  const reports: RowReport[] = planned.map(({ parsed, existing, input }) => {
    const status: RowReport['status'] =
      parsed.errors.length > 0 ? 'error' : !store ? 'valid' : existing ? 'updated' : 'created';
    const id = ids.get(parsed.row) ?? (existing ? existing.id : undefined);
    return {
      row: parsed.row,
      status,
      ...(id ? { id } : {}),
      code: input?.code ?? parsed.values.code ?? null,
      errors: parsed.errors,
    };
  });
  return {
    stored: store,
    created: reports.filter((report) => report.status === 'created').length,
    updated: reports.filter((report) => report.status === 'updated').length,
    rows: reports,
  };
}
