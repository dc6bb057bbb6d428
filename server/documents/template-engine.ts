/**
 * Renders nunjucks templates (stored as strings, never read from disk) into
 * the markup that parseMarkup understands, with Italian formatting helpers.
 *
 * Templates are written by administrators, but the data inside them comes from
 * users, and nunjucks has no sandbox of its own: any expression that reaches a
 * function's `constructor` reaches `Function` and from there the whole process.
 * So the sandbox has three independent layers:
 *  1. the template source is lexed and refused if it names `constructor`,
 *     `__proto__` & co., or loads other templates;
 *  2. compiled templates run against a copy of nunjucks' runtime whose member
 *     and variable lookups only return own properties of data objects and a
 *     short allow-list of string/array methods, never anything of a function,
 *     and whose calls refuse the Function constructors;
 *  3. data reaches the template as a frozen JSON copy on null-prototype
 *     objects, and the default globals are replaced with plain wrappers.
 */
import nunjucks from 'nunjucks';

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  readonly templateName: string;
  /** 1-based line in the template source, when it is known for certain. */
  readonly line?: number;
  readonly column?: number;

  constructor(
    templateName: string,
    detail: string,
    position: { line?: number; column?: number } = {},
    options?: ErrorOptions,
  ) {
    const where =
      position.line === undefined
        ? `modello "${templateName}"`
        : `modello "${templateName}", riga ${position.line}`;
    super(`${where}: ${detail}`, options);
    this.templateName = templateName;
    if (position.line !== undefined) this.line = position.line;
    if (position.column !== undefined) this.column = position.column;
  }
}

// ---------------------------------------------------------------------------
// Italian helpers

export interface TemplateHelper {
  name: string;
  /** One line, in Italian, for the template authors' documentation. */
  description: string;
  example: string;
  /**
   * Also a global function besides a filter. Formatting helpers stay filters
   * only: as globals, `numero` or `ora` would stand in for a missing data field.
   */
  alsoFunction: boolean;
  implementation: (...args: unknown[]) => string;
}

function ownField(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
  return (value as Record<string, unknown>)[key];
}

function describe(value: unknown): string {
  if (value === undefined) return 'valore mancante';
  if (typeof value === 'string') return `"${value}"`;
  if (typeof value === 'function') return 'una funzione';
  if (typeof value === 'symbol') return value.toString();
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}

interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

interface RomeDateTime extends CalendarDate {
  /** Absent for a calendar date given as `AAAA-MM-GG`. */
  time?: { hour: number; minute: number };
}

const romeWallClock = new Intl.DateTimeFormat('it-IT', {
  timeZone: 'Europe/Rome',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  hourCycle: 'h23',
});

const monthNames = Array.from({ length: 12 }, (_, month) =>
  new Intl.DateTimeFormat('it-IT', { month: 'long', timeZone: 'UTC' }).format(
    Date.UTC(2000, month, 1),
  ),
);

function inRome(instant: Date): RomeDateTime {
  const parts: Record<string, number> = {};
  for (const part of romeWallClock.formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? NaN,
    month: parts.month ?? NaN,
    day: parts.day ?? NaN,
    time: { hour: parts.hour ?? NaN, minute: parts.minute ?? NaN },
  };
}

function isExistingDate({ year, month, day }: CalendarDate): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  );
}

/**
 * `AAAA-MM-GG` is a calendar date and never moves; a timestamp with `Z` or an
 * offset is an instant, shown as Rome's wall clock (DST included); a timestamp
 * without offset is taken as already being Rome's wall clock.
 */
function readDateTime(value: unknown, helper: string): RomeDateTime {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new Error(`${helper}: data non valida`);
    return inRome(value);
  }
  const text = typeof value === 'string' ? value.trim() : undefined;
  const invalid = new Error(
    `${helper}: data non valida ${describe(value)} (attesa AAAA-MM-GG o data e ora ISO 8601)`,
  );
  if (text === undefined) throw invalid;
  const calendar = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (calendar) {
    const date = {
      year: Number(calendar[1]),
      month: Number(calendar[2]),
      day: Number(calendar[3]),
    };
    if (!isExistingDate(date)) throw invalid;
    return date;
  }
  const timestamp =
    /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(
      text,
    );
  if (!timestamp) throw invalid;
  const [year, month, day, hour, minute] = timestamp.slice(1, 6).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (!isExistingDate({ year, month, day }) || hour > 23 || minute > 59) throw invalid;
  const offset = timestamp[6];
  if (offset === undefined) return { year, month, day, time: { hour, minute } };
  const normalizedOffset = /^[+-]\d{4}$/.test(offset)
    ? `${offset.slice(0, 3)}:${offset.slice(3)}`
    : offset.toUpperCase();
  const wallClock = text.slice(0, text.length - offset.length).replace(' ', 'T');
  const instant = new Date(`${wallClock}${normalizedOffset}`);
  if (Number.isNaN(instant.getTime())) throw invalid;
  return inRome(instant);
}

function twoDigits(value: number): string {
  return String(value).padStart(2, '0');
}

function formatLongDate(date: CalendarDate): string {
  const day = date.day === 1 ? '1°' : String(date.day);
  return `${day} ${monthNames[date.month - 1]} ${date.year}`;
}

function formatTime(date: RomeDateTime, helper: string): string {
  if (!date.time) throw new Error(`${helper}: la data non ha un orario`);
  return `${twoDigits(date.time.hour)}:${twoDigits(date.time.minute)}`;
}

function dataLunga(value: unknown): string {
  return formatLongDate(readDateTime(value, 'dataLunga'));
}

function dataBreve(value: unknown): string {
  const date = readDateTime(value, 'dataBreve');
  return `${twoDigits(date.day)}/${twoDigits(date.month)}/${date.year}`;
}

function ora(value: unknown): string {
  return formatTime(readDateTime(value, 'ora'), 'ora');
}

function dataOra(value: unknown): string {
  const date = readDateTime(value, 'dataOra');
  return `${formatLongDate(date)}, ore ${formatTime(date, 'dataOra')}`;
}

function readNumber(value: unknown, helper: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+(?:\.\d+)?\s*$/.test(value)) return Number(value);
  throw new Error(`${helper}: numero non valido ${describe(value)}`);
}

// Italian CLDR data leaves four-digit numbers ungrouped ("1234"); acts group them.
const amountFormat = new Intl.NumberFormat('it-IT', {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
  useGrouping: 'always',
});

function importo(value: unknown): string {
  return `€ ${amountFormat.format(readNumber(value, 'importo'))}`;
}

function numero(value: unknown, decimali?: unknown): string {
  const number = readNumber(value, 'numero');
  if (decimali === undefined) {
    return new Intl.NumberFormat('it-IT', { useGrouping: 'always' }).format(number);
  }
  if (
    typeof decimali !== 'number' ||
    !Number.isInteger(decimali) ||
    decimali < 0 ||
    decimali > 20
  ) {
    throw new Error(`numero: decimali non validi ${describe(decimali)} (intero da 0 a 20)`);
  }
  return new Intl.NumberFormat('it-IT', {
    minimumFractionDigits: decimali,
    maximumFractionDigits: decimali,
    useGrouping: 'always',
  }).format(number);
}

type Gender = 'M' | 'F';

/** Accepts `'M'`/`'F'` (any case) or a persona with a `genere` field. */
function readGender(value: unknown, helper: string): Gender {
  const genere = typeof value === 'string' ? value : ownField(value, 'genere');
  if (genere === 'M' || genere === 'm') return 'M';
  if (genere === 'F' || genere === 'f') return 'F';
  throw new Error(`${helper}: genere mancante o non valido ${describe(genere)} (atteso "M" o "F")`);
}

function readPositiveInteger(value: unknown, helper: string): number {
  const number = readNumber(value, helper);
  if (!Number.isInteger(number) || number < 1) {
    throw new Error(`${helper}: serve un intero positivo, non ${describe(value)}`);
  }
  return number;
}

function ordinale(value: unknown, genere: unknown = 'm'): string {
  const number = readPositiveInteger(value, 'ordinale');
  return `${number}${readGender(genere, 'ordinale') === 'M' ? '°' : 'ª'}`;
}

const ordinalWords = [
  'primo',
  'secondo',
  'terzo',
  'quarto',
  'quinto',
  'sesto',
  'settimo',
  'ottavo',
  'nono',
  'decimo',
  'undicesimo',
  'dodicesimo',
  'tredicesimo',
  'quattordicesimo',
  'quindicesimo',
  'sedicesimo',
  'diciassettesimo',
  'diciottesimo',
  'diciannovesimo',
  'ventesimo',
];
const tensWords = [
  'venti',
  'trenta',
  'quaranta',
  'cinquanta',
  'sessanta',
  'settanta',
  'ottanta',
  'novanta',
];
const unitWords = ['uno', 'due', 'tre', 'quattro', 'cinque', 'sei', 'sette', 'otto', 'nove'];

/** Ordinals past twenty are the cardinal with -esimo: ventunesimo, ventitreesimo, trentesimo. */
function masculineOrdinalWord(number: number): string | undefined {
  if (number <= ordinalWords.length) return ordinalWords[number - 1];
  if (number === 100) return 'centesimo';
  if (number > 100) return undefined;
  const tens = tensWords[Math.floor(number / 10) - 2] ?? '';
  const unit = unitWords[(number % 10) - 1];
  if (unit === undefined) return `${tens.slice(0, -1)}esimo`;
  if (unit === 'tre' || unit === 'sei') return `${tens}${unit}esimo`;
  const elidedTens = unit === 'uno' || unit === 'otto' ? tens.slice(0, -1) : tens;
  return `${elidedTens}${unit.slice(0, -1)}esimo`;
}

function ordinaleParola(value: unknown, genere: unknown = 'm'): string {
  const number = readPositiveInteger(value, 'ordinaleParola');
  const word = masculineOrdinalWord(number);
  if (word === undefined) throw new Error(`ordinaleParola: disponibile da 1 a 100, non ${number}`);
  return readGender(genere, 'ordinaleParola') === 'M' ? word : `${word.slice(0, -1)}a`;
}

const gdpr = 'Regolamento (UE) 2016/679';
const privacyCode = 'D.Lgs. 196/2003';
const sourceAliases: Readonly<Record<string, string>> = {
  gdpr,
  rgpd: gdpr,
  'regolamento (ue) 2016/679': gdpr,
  'reg. (ue) 2016/679': gdpr,
  codice: privacyCode,
  'codice privacy': privacyCode,
  'd.lgs. 196/2003': privacyCode,
  'd.lgs 196/2003': privacyCode,
  'dlgs 196/2003': privacyCode,
};

/** "della legge", "dello Statuto", "del D.Lgs.": the preposition agrees with the act's noun. */
function articulatedOf(source: string): string {
  if (
    /^(l\.|legge|costituzione|direttiva|delibera|deliberazione|determina|circolare)/i.test(source)
  ) {
    return 'della';
  }
  if (/^statuto/i.test(source)) return 'dello';
  return 'del';
}

const citationOptions = ['paragrafo', 'comma', 'lettera', 'numero'] as const;

function citaArticolo(articolo: unknown, fonte: unknown, opzioni?: unknown): string {
  const article = typeof articolo === 'number' ? String(articolo) : articolo;
  if (typeof article !== 'string' || article.trim() === '') {
    throw new Error(`citaArticolo: articolo non valido ${describe(articolo)}`);
  }
  if (typeof fonte !== 'string' || fonte.trim() === '') {
    throw new Error(`citaArticolo: fonte non valida ${describe(fonte)}`);
  }
  const alias = sourceAliases[fonte.trim().replace(/\s+/g, ' ').toLowerCase()];
  const source = alias ?? fonte.trim();
  const options: Partial<Record<(typeof citationOptions)[number], string>> = {};
  if (opzioni !== undefined && opzioni !== null) {
    if (typeof opzioni !== 'object')
      throw new Error('citaArticolo: le opzioni vanno date come {…}');
    for (const key of Object.keys(opzioni)) {
      const option = citationOptions.find((candidate) => candidate === key);
      if (!option) {
        throw new Error(
          `citaArticolo: opzione "${key}" sconosciuta (ammesse ${citationOptions.join(', ')})`,
        );
      }
      const optionValue = ownField(opzioni, key);
      if (typeof optionValue !== 'string' && typeof optionValue !== 'number') {
        throw new Error(`citaArticolo: valore non valido per ${key}: ${describe(optionValue)}`);
      }
      options[option] = String(optionValue).trim();
    }
  }
  if (options.paragrafo !== undefined && options.comma !== undefined) {
    throw new Error('citaArticolo: paragrafo e comma sono alternativi');
  }
  const parts = [`art. ${article.trim()}`];
  if (options.paragrafo !== undefined) parts.push(`par. ${options.paragrafo}`);
  if (options.comma !== undefined) parts.push(`comma ${options.comma}`);
  if (options.lettera !== undefined) parts.push(`lett. ${options.lettera})`);
  if (options.numero !== undefined) parts.push(`n. ${options.numero})`);
  const separator = parts.length > 1 ? ', ' : ' ';
  return `${parts.join(', ')}${separator}${articulatedOf(source)} ${source}`;
}

function articolo(persona: unknown): string {
  return readGender(persona, 'articolo') === 'M' ? 'il' : 'la';
}

const academicTitles: Readonly<Record<string, Record<Gender, string>>> = {
  dott: { M: 'dott.', F: 'dott.ssa' },
  prof: { M: 'prof.', F: 'prof.ssa' },
  avv: { M: 'avv.', F: 'avv.' },
  ing: { M: 'ing.', F: 'ing.' },
  arch: { M: 'arch.', F: 'arch.' },
  geom: { M: 'geom.', F: 'geom.' },
  rag: { M: 'rag.', F: 'rag.' },
  sig: { M: 'sig.', F: 'sig.ra' },
};

function titolo(persona: unknown): string {
  const title = ownField(persona, 'titolo');
  if (title === undefined || title === null || title === '') return '';
  const key = typeof title === 'string' ? title.trim().replace(/\.$/, '').toLowerCase() : '';
  const forms = academicTitles[key];
  if (!forms) {
    throw new Error(
      `titolo: titolo sconosciuto ${describe(title)} (ammessi ${Object.keys(academicTitles).join(', ')})`,
    );
  }
  return forms[readGender(persona, 'titolo')];
}

function genere(persona: unknown, maschile: unknown, femminile: unknown): string {
  if (typeof maschile !== 'string' || typeof femminile !== 'string') {
    throw new Error('genere: servono la forma maschile e la femminile');
  }
  return readGender(persona, 'genere') === 'M' ? maschile : femminile;
}

function nato(persona: unknown): string {
  return readGender(persona, 'nato') === 'M' ? 'nato' : 'nata';
}

function plurale(value: unknown, singolare: unknown, pluraleForm: unknown): string {
  if (typeof singolare !== 'string' || typeof pluraleForm !== 'string') {
    throw new Error('plurale: servono la forma singolare e la plurale');
  }
  return readNumber(value, 'plurale') === 1 ? singolare : pluraleForm;
}

function helper<Parameters extends unknown[]>(
  use: 'filter' | 'filter and function',
  name: string,
  description: string,
  example: string,
  implementation: (...args: Parameters) => string,
): TemplateHelper {
  // The template language is untyped; every helper validates its own arguments.
  return {
    name,
    description,
    example,
    alsoFunction: use === 'filter and function',
    implementation: implementation as TemplateHelper['implementation'],
  };
}

/** Every helper is a filter (`{{ x | ordinale }}`); those with `alsoFunction` are also callable (`{{ ordinale(x) }}`). */
export const templateHelpers: readonly TemplateHelper[] = [
  helper(
    'filter',
    'dataLunga',
    'Data per esteso, con 1° per il primo del mese',
    "{{ '2026-11-24' | dataLunga }} → 24 novembre 2026",
    dataLunga,
  ),
  helper(
    'filter',
    'dataBreve',
    'Data in cifre gg/mm/aaaa',
    "{{ '2026-11-24' | dataBreve }} → 24/11/2026",
    dataBreve,
  ),
  helper(
    'filter',
    'ora',
    'Ora hh:mm nel fuso di Roma (ora legale compresa)',
    "{{ '2026-11-24T13:05:00Z' | ora }} → 14:05",
    ora,
  ),
  helper(
    'filter',
    'dataOra',
    'Data per esteso e ora nel fuso di Roma',
    "{{ '2026-11-24T13:05:00Z' | dataOra }} → 24 novembre 2026, ore 14:05",
    dataOra,
  ),
  helper(
    'filter',
    'importo',
    'Importo in euro con separatori italiani e due decimali',
    '{{ 1234.56 | importo }} → € 1.234,56',
    importo,
  ),
  helper(
    'filter',
    'numero',
    'Numero con separatori italiani; decimali fissi se indicati',
    '{{ 1234.5 | numero(2) }} → 1.234,50',
    numero,
  ),
  helper(
    'filter and function',
    'ordinale',
    "Ordinale in cifre, maschile o femminile ('f')",
    "{{ ordinale(1, 'f') }} → 1ª",
    ordinale,
  ),
  helper(
    'filter and function',
    'ordinaleParola',
    "Ordinale in lettere da 1 a 100, maschile o femminile ('f')",
    "{{ ordinaleParola(2, 'f') }} → seconda",
    ordinaleParola,
  ),
  helper(
    'filter and function',
    'citaArticolo',
    'Citazione di un articolo con paragrafo, comma, lettera, numero',
    "{{ citaArticolo('28', 'GDPR', { paragrafo: 3, lettera: 'a' }) }} → art. 28, par. 3, lett. a), del Regolamento (UE) 2016/679",
    citaArticolo,
  ),
  helper(
    'filter and function',
    'articolo',
    'Articolo determinativo il/la secondo il genere della persona',
    '{{ articolo(persona) }} → la',
    articolo,
  ),
  helper(
    'filter and function',
    'titolo',
    'Titolo abbreviato concordato col genere (dott./dott.ssa, prof./prof.ssa…)',
    '{{ titolo(persona) }} → dott.ssa',
    titolo,
  ),
  helper(
    'filter and function',
    'genere',
    'Sceglie la forma maschile o femminile secondo il genere della persona',
    "{{ genere(persona, 'designato', 'designata') }} → designata",
    genere,
  ),
  helper(
    'filter and function',
    'nato',
    'nato/nata secondo il genere della persona',
    '{{ nato(persona) }} → nata',
    nato,
  ),
  helper(
    'filter and function',
    'plurale',
    'Forma singolare se il numero è 1, altrimenti plurale',
    "{{ plurale(3, 'dipendente', 'dipendenti') }} → dipendenti",
    plurale,
  ),
];

// ---------------------------------------------------------------------------
// Sandbox

const forbiddenNames = new Set([
  'constructor',
  'prototype',
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'callee',
  'arguments',
  'globalThis',
  'global',
  'process',
  'require',
  'module',
  'eval',
  'Function',
]);

/** `__proto__`, `__defineGetter__` and any future `__x`; a blank line `"________"` stays allowed. */
function isForbiddenName(name: string): boolean {
  return forbiddenNames.has(name) || /^__[\w$]*[A-Za-z][\w$]*$/.test(name);
}

/** Tags that would load other templates; there is no loader, and there must not be one. */
const loadingTags = new Set(['include', 'extends', 'import', 'from']);

const stringMethods = new Set([
  'toUpperCase',
  'toLowerCase',
  'trim',
  'trimStart',
  'trimEnd',
  'split',
  'slice',
  'substring',
  'startsWith',
  'endsWith',
  'includes',
  'indexOf',
  'lastIndexOf',
  'replace',
  'replaceAll',
  'charAt',
  'at',
  'normalize',
]);
const arrayMethods = new Set([
  'join',
  'slice',
  'indexOf',
  'lastIndexOf',
  'includes',
  'concat',
  'at',
]);
const numberMethods = new Set(['toFixed']);

function constructorOf(value: object): unknown {
  return (Object.getPrototypeOf(value) as { constructor: unknown }).constructor;
}

const functionConstructors = new Set<unknown>([
  Function,
  constructorOf(async function () {}),
  constructorOf(function* () {}),
  constructorOf(async function* () {}),
  globalThis.eval,
]);

class SandboxViolation extends Error {
  override readonly name = 'SandboxViolation';
}

/** An error whose template position we know exactly (unlike most nunjucks runtime errors). */
class LocatedProblem extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

/**
 * Thrown out of a function call: compiled code records the call's position
 * just before it, so only these runtime errors have a reliable line.
 */
class CallSiteError extends Error {}

// nunjucks' type declarations stop at the public API; the sandbox has to reach
// the runtime the compiled code calls into, the lexer, the filter table and
// the compiled template's root function. These shapes are what 3.2.x has.
interface NunjucksFrame {
  lookup(name: string): unknown;
}
interface NunjucksContext {
  getVariables(): Record<string, unknown>;
  env: { globals: Record<string, unknown> };
}
interface LexerToken {
  type: string;
  value: unknown;
  lineno: number;
  colno: number;
}
interface NunjucksInternals {
  runtime: Record<string, unknown> & { SafeString: abstract new (...args: never[]) => object };
  lexer: { lex(source: string, options?: object): { nextToken(): LexerToken | null } };
}
interface EnvironmentInternals {
  filters: Record<string, (...args: unknown[]) => unknown>;
  globals: Record<string, unknown>;
}
interface TemplateInternals {
  rootRenderFunc?: unknown;
}

const internals = nunjucks as unknown as NunjucksInternals;

function readMember(target: object | string | number | boolean, name: string): unknown {
  if (typeof target === 'function') {
    throw new SandboxViolation(`accesso non consentito alle proprietà di una funzione ("${name}")`);
  }
  const isIndexOrLength = name === 'length' || /^\d+$/.test(name);
  if (typeof target === 'string' || target instanceof internals.runtime.SafeString) {
    if (typeof target === 'object' && Object.hasOwn(target, name)) {
      return (target as Record<string, unknown>)[name];
    }
    const text =
      typeof target === 'string' ? target : (target as { toString(): string }).toString();
    if (isIndexOrLength) return (text as unknown as Record<string, unknown>)[name];
    return stringMethods.has(name)
      ? (String.prototype as unknown as Record<string, unknown>)[name]
      : undefined;
  }
  if (Array.isArray(target)) {
    if (isIndexOrLength) return (target as unknown as Record<string, unknown>)[name];
    return arrayMethods.has(name)
      ? (Array.prototype as unknown as Record<string, unknown>)[name]
      : undefined;
  }
  if (typeof target === 'number') {
    return numberMethods.has(name)
      ? (Number.prototype as unknown as Record<string, unknown>)[name]
      : undefined;
  }
  if (typeof target === 'object' && Object.hasOwn(target, name)) {
    return (target as Record<string, unknown>)[name];
  }
  return undefined;
}

function sandboxedMemberLookup(target: unknown, key: unknown): unknown {
  if (target === undefined || target === null) return undefined;
  if (typeof key !== 'string' && typeof key !== 'number') {
    throw new SandboxViolation(`chiave non consentita ${describe(key)}`);
  }
  const name = String(key);
  if (isForbiddenName(name)) throw new SandboxViolation(`accesso non consentito a "${name}"`);
  if (typeof target === 'symbol' || typeof target === 'bigint') return undefined;
  const value = readMember(target, name);
  if (typeof value !== 'function') return value;
  const method = value as (...args: unknown[]) => unknown;
  return (...args: unknown[]) => Reflect.apply(method, target, args);
}

function sandboxedContextOrFrameLookup(
  context: NunjucksContext,
  frame: NunjucksFrame,
  name: string,
): unknown {
  if (isForbiddenName(name)) throw new SandboxViolation(`accesso non consentito a "${name}"`);
  const local = frame.lookup(name);
  if (local !== undefined) return local;
  const variables = context.getVariables();
  if (Object.hasOwn(variables, name)) return variables[name];
  const globals = context.env.globals;
  return Object.hasOwn(globals, name) ? globals[name] : undefined;
}

function sandboxedCallWrap(
  callee: unknown,
  name: string,
  context: unknown,
  args: unknown[],
): unknown {
  if (callee === undefined || callee === null) {
    throw new Error(`impossibile chiamare "${name}": non è definita`);
  }
  if (typeof callee !== 'function') {
    throw new Error(`impossibile chiamare "${name}": non è una funzione`);
  }
  if (functionConstructors.has(callee)) {
    throw new SandboxViolation(`chiamata non consentita a "${name}"`);
  }
  try {
    return Reflect.apply(callee as (...args: unknown[]) => unknown, context, args);
  } catch (error) {
    const alreadyPlaced =
      error instanceof LocatedProblem ||
      error instanceof CallSiteError ||
      typeof (error as { lineno?: unknown } | null)?.lineno === 'number';
    if (alreadyPlaced) throw error;
    throw new CallSiteError(error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
}

/** The `{{ … }}` starting at a 0-based line and column, to name what was undefined. */
function outputExpressionAt(source: string, line: number, column: number): string | undefined {
  const lines = source.split('\n');
  const offset = lines.slice(0, line).reduce((sum, text) => sum + text.length + 1, 0) + column;
  const match = /^\{\{-?\s*([\s\S]*?)\s*-?\}\}/.exec(source.slice(offset));
  return match?.[1];
}

function sandboxedRuntime(source: string): Record<string, unknown> {
  return Object.freeze({
    ...internals.runtime,
    memberLookup: sandboxedMemberLookup,
    contextOrFrameLookup: sandboxedContextOrFrameLookup,
    callWrap: sandboxedCallWrap,
    ensureDefined(value: unknown, line: number, column: number): unknown {
      const printable =
        value !== undefined &&
        value !== null &&
        typeof value !== 'function' &&
        (typeof value !== 'object' ||
          Array.isArray(value) ||
          value instanceof internals.runtime.SafeString);
      if (printable) return value;
      const expression = outputExpressionAt(source, line, column) ?? '…';
      const problem =
        value === undefined || value === null
          ? `valore non definito: {{ ${expression} }}`
          : `{{ ${expression} }} non è un testo da stampare (è ${typeof value === 'function' ? 'una funzione' : 'un oggetto: stampare un suo campo'})`;
      throw new LocatedProblem(problem, line + 1, column + 1);
    },
  });
}

function safeRange(start: unknown, stop?: unknown, step?: unknown): number[] {
  const [from, to, by] = stop === undefined ? [0, start, 1] : [start, stop, step ?? 1];
  for (const bound of [from, to, by]) {
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw new Error(`range: servono numeri, non ${describe(bound)}`);
    }
  }
  const [first, last, increment] = [from as number, to as number, by as number];
  if (increment === 0) throw new Error('range: il passo non può essere 0');
  const length = Math.max(0, Math.ceil((last - first) / increment));
  // A template must not be able to exhaust memory with range(1e9).
  if (length > 10_000) throw new Error(`range: troppi elementi (${length}, massimo 10000)`);
  return Array.from({ length }, (_, index) => first + index * increment);
}

function safeCycler(...items: unknown[]): Record<string, unknown> {
  let index = -1;
  const cycler: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  cycler.current = null;
  cycler.next = () => {
    index = items.length === 0 ? -1 : (index + 1) % items.length;
    cycler.current = items[index] ?? null;
    return cycler.current;
  };
  cycler.reset = () => {
    index = -1;
    cycler.current = null;
    return '';
  };
  return cycler;
}

function safeJoiner(separator: unknown = ','): () => string {
  let first = true;
  const text = String(separator);
  return () => {
    const result = first ? '' : text;
    first = false;
    return result;
  };
}

const sandboxedEnvironments = new WeakSet<nunjucks.Environment>();

const lexerOptions = { trimBlocks: true, lstripBlocks: true };

/** A nunjucks environment with autoescaping, strict undefined, no loaders, safe globals and the Italian helpers. */
export function createTemplateEnvironment(): nunjucks.Environment {
  const environment = new nunjucks.Environment([], {
    autoescape: true,
    throwOnUndefined: true,
    // Keeps nunjucks' own error objects, whose line numbers TemplateError reports.
    dev: true,
    ...lexerOptions,
  });
  const { filters } = environment as unknown as EnvironmentInternals;

  // Built-in filters turn undefined into "" (so `{{ x | upper }}` prints nothing);
  // in an act a silently missing name is worse than a failed render.
  for (const [name, filter] of Object.entries(filters)) {
    if (name === 'default' || name === 'd') continue;
    environment.addFilter(name, function (this: unknown, value: unknown, ...rest: unknown[]) {
      if (value === undefined || value === null) {
        throw new Error(`filtro "${name}": valore non definito`);
      }
      return filter.apply(this, [value, ...rest]);
    });
  }

  // The filter table is a plain object: without this, `x | toString` would find Object.prototype's.
  const builtinGetFilter = environment.getFilter.bind(environment);
  environment.getFilter = (name: string) => {
    if (!Object.hasOwn(filters, name)) throw new Error(`filtro sconosciuto: ${name}`);
    return builtinGetFilter(name);
  };

  environment.addGlobal('range', safeRange);
  environment.addGlobal('cycler', safeCycler);
  environment.addGlobal('joiner', safeJoiner);
  for (const { name, implementation, alsoFunction } of templateHelpers) {
    environment.addFilter(name, implementation);
    if (alsoFunction) environment.addGlobal(name, implementation);
  }
  sandboxedEnvironments.add(environment);
  return environment;
}

function refuseForbiddenSyntax(source: string, templateName: string): void {
  let tokens: ReturnType<NunjucksInternals['lexer']['lex']>;
  try {
    tokens = internals.lexer.lex(source, lexerOptions);
  } catch {
    return; // compiling reports the syntax error with its position
  }
  let previous: LexerToken | undefined;
  for (let token = nextToken(tokens); token; token = nextToken(tokens)) {
    const position = { line: token.lineno + 1, column: token.colno + 1 };
    if ((token.type === 'symbol' || token.type === 'string') && typeof token.value === 'string') {
      if (isForbiddenName(token.value.trim())) {
        throw new TemplateError(
          templateName,
          `"${token.value}" non è consentito nei modelli`,
          position,
        );
      }
    }
    if (
      token.type === 'symbol' &&
      previous?.type === 'block-start' &&
      typeof token.value === 'string' &&
      loadingTags.has(token.value)
    ) {
      throw new TemplateError(
        templateName,
        `{% ${token.value} %} non è disponibile: un modello non può caricarne altri`,
        position,
      );
    }
    if (token.type !== 'whitespace') previous = token;
  }
}

function nextToken(tokens: ReturnType<NunjucksInternals['lexer']['lex']>): LexerToken | null {
  try {
    return tokens.nextToken();
  } catch {
    return null; // as above: the compiler reports it properly
  }
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && chain.length < 10;) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

function numericField(value: unknown, key: string): number | undefined {
  const field: unknown =
    value === null || typeof value !== 'object' ? undefined : Reflect.get(value, key);
  return typeof field === 'number' ? field : undefined;
}

/** nunjucks prefixes messages with "(name) [Line x, Column y]"; TemplateError says it in Italian. */
function withoutNunjucksPrefix(message: string): string {
  return message.replace(/^\([^\n]*\)(?: \[Line \d+(?:, Column \d+)?\])?\n\s*/, '');
}

function toTemplateError(error: unknown, templateName: string): TemplateError {
  if (error instanceof TemplateError) return error;
  const chain = causeChain(error);
  const located = chain.find((link): link is LocatedProblem => link instanceof LocatedProblem);
  if (located) {
    return new TemplateError(
      templateName,
      located.message,
      { line: located.line, column: located.column },
      { cause: error },
    );
  }
  const callSite = chain.findIndex((link) => link instanceof CallSiteError);
  const innermost = chain[chain.length - 1];
  const detail =
    innermost instanceof Error ? withoutNunjucksPrefix(innermost.message) : String(innermost);
  if (callSite > 0) {
    // The compiled code's position variables are 0-based when they reach handleError.
    const line = numericField(chain[callSite - 1], 'lineno');
    const column = numericField(chain[callSite - 1], 'colno');
    return new TemplateError(
      templateName,
      (chain[callSite] as CallSiteError).message,
      line === undefined
        ? {}
        : { line: line + 1, ...(column === undefined ? {} : { column: column + 1 }) },
      { cause: error },
    );
  }
  if (chain.length === 1) {
    // Errors nunjucks raises itself (syntax, compilation) carry a 1-based position.
    const line = numericField(error, 'lineno');
    const column = numericField(error, 'colno');
    const position = line !== undefined && line > 0 ? { line, ...(column ? { column } : {}) } : {};
    return new TemplateError(templateName, detail, position, { cause: error });
  }
  // Any other runtime error: nunjucks only knows the position of the last call, which may be elsewhere.
  return new TemplateError(templateName, detail, {}, { cause: error });
}

/**
 * Null-prototype, frozen copies: nothing in the data leads to Object.prototype,
 * and a template cannot change what the caller passed. Dates become ISO
 * strings (the date helpers read them), and null fields are dropped so that
 * `is defined` and `default` treat "null" and "absent" alike.
 */
function sandboxData(data: Record<string, unknown>, templateName: string): Record<string, unknown> {
  let json: string;
  try {
    json = JSON.stringify(data);
  } catch (error) {
    throw new TemplateError(templateName, `dati non serializzabili: ${(error as Error).message}`);
  }
  return JSON.parse(json, function (this: unknown, _key: string, value: unknown): unknown {
    if (value === null && !Array.isArray(this)) return undefined;
    if (Array.isArray(value)) return Object.freeze(value);
    if (value !== null && typeof value === 'object') {
      return Object.freeze(Object.assign(Object.create(null) as object, value));
    }
    return value;
  }) as Record<string, unknown>;
}

export interface TemplateOptions {
  /** Shown in error messages. */
  name?: string;
  /** One from createTemplateEnvironment(); a shared one otherwise. */
  environment?: nunjucks.Environment;
}

export interface CompiledTemplate {
  readonly name: string;
  render(data: Record<string, unknown>): string;
}

let sharedEnvironment: nunjucks.Environment | undefined;

/** Compiling costs ~50 times more than rendering, and the same few templates render all day. */
const compiledOnSharedEnvironment = new Map<string, CompiledTemplate>();
const compiledCacheSize = 64;

/** Checks and compiles a template once, for rendering many times; throws TemplateError. */
export function compileTemplate(source: string, options: TemplateOptions = {}): CompiledTemplate {
  const name = options.name ?? 'modello';
  const environment = options.environment ?? (sharedEnvironment ??= createTemplateEnvironment());
  if (!sandboxedEnvironments.has(environment)) {
    throw new TemplateError(name, "l'ambiente non viene da createTemplateEnvironment()");
  }
  refuseForbiddenSyntax(source, name);
  let template: nunjucks.Template;
  try {
    template = new nunjucks.Template(source, environment, name, true);
  } catch (error) {
    throw toTemplateError(error, name);
  }
  const compiled = template as unknown as TemplateInternals;
  const root = compiled.rootRenderFunc;
  if (typeof root !== 'function') {
    // Never render without the sandbox: a nunjucks upgrade has moved its internals.
    throw new TemplateError(name, 'nunjucks non espone rootRenderFunc: sandbox non applicabile');
  }
  const runtime = sandboxedRuntime(source);
  const { globals } = environment as unknown as EnvironmentInternals;
  compiled.rootRenderFunc = function (this: unknown, ...args: unknown[]) {
    const [env, context, frame, , callback] = args;
    return Reflect.apply(root, this, [env, context, frame, runtime, callback]) as unknown;
  };
  return {
    name,
    render(data) {
      // Data would shadow the function, and `is defined` would see the function when data lacks it.
      const clash = Object.keys(data).find((key) => Object.hasOwn(globals, key));
      if (clash !== undefined) {
        throw new TemplateError(
          name,
          `il campo "${clash}" dei dati ha il nome di una funzione dei modelli: va rinominato`,
        );
      }
      const context = sandboxData(data, name);
      try {
        return template.render(context);
      } catch (error) {
        throw toTemplateError(error, name);
      }
    },
  };
}

/** Renders a template string to markup; throws TemplateError with the line when known. */
export function renderTemplate(
  source: string,
  data: Record<string, unknown>,
  options: TemplateOptions = {},
): string {
  if (options.environment) return compileTemplate(source, options).render(data);
  const key = `${options.name ?? ''}\u0000${source}`;
  let compiled = compiledOnSharedEnvironment.get(key);
  if (compiled) {
    compiledOnSharedEnvironment.delete(key);
  } else {
    compiled = compileTemplate(source, options);
    if (compiledOnSharedEnvironment.size >= compiledCacheSize) {
      const leastRecent = compiledOnSharedEnvironment.keys().next();
      if (!leastRecent.done) compiledOnSharedEnvironment.delete(leastRecent.value);
    }
  }
  compiledOnSharedEnvironment.set(key, compiled);
  return compiled.render(data);
}
