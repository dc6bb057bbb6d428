/**
 * Parser of an ente's regolamento: from the text as published (a Markdown-like
 * export or plain text copied out of a PDF) to articles, commi and points.
 *
 * Pure and database-free. The parser never guesses silently: whatever it cannot
 * place (text before the first article that is not title, intestazione, approval
 * or index; a heading it does not recognise and the text under it; an article
 * without text; a repeated or skipped number; an index that disagrees with the
 * text) is reported in `problems` with its line number (1-based) and the line as
 * written, in Italian, for the operator who imports the file.
 *
 * Structure rules, shared by both formats:
 * - `Art. 5`, `Articolo 5`, `ART. 2-quaterdecies` open an article; the title is
 *   on the same line (`Art. 5 - Titolo`, or anything after the number on a
 *   Markdown heading) or on the next non-blank line.
 * - `TITOLO II` / `CAPO I` (with the name on the same line or the next) set the
 *   division of the articles that follow; stored as "TITOLO II - NAME".
 * - `1.` opens a numbered comma; a paragraph that is not numbered becomes a
 *   comma without number (for `articleText`/`pointsOf` it belongs to the
 *   numbered comma before it: an Italian comma runs to the next number).
 * - `a)`, `1)`, `- a)` are labelled points; `- text` is a dash bullet (label
 *   "-"). Dash bullets that follow a point ending with ":" are its sub-points
 *   (art. 5 c.2 point 6 of Calderara), whatever their indentation; otherwise
 *   they are points of the comma.
 * - A line starting with a lower-case letter continues the text before it, even
 *   across a blank line (page breaks in exports); in plain text a line also
 *   continues the previous one when that did not end a sentence (hard-wrapped
 *   PDF text); in Markdown consecutive lines form one paragraph.
 * - An INDICE / SOMMARIO before the articles is read as an index: skipped, and
 *   only used to cross-check the articles' numbers and titles.
 */

export type RegulationFormat = 'markdown' | 'text' | 'auto';

export interface Point {
  /** "a", "1", "2-bis"; "-" for a dash bullet. */
  label: string;
  text: string;
  /** Dash sub-points of a labelled point (e.g. Calderara art. 5 c.2 point 6). */
  points: Point[];
}

export interface Comma {
  /** "1", "3-bis"; absent for a paragraph without number. */
  number?: string;
  /** The comma's own text, without its points. */
  text: string;
  points: Point[];
}

export interface ParsedArticle {
  /** As written: "5", "2-quaterdecies", "41". */
  number: string;
  /** 1, or 2 for a second article with the same number. */
  occurrence: number;
  title?: string;
  /** "TITOLO II - SOGGETTI DEL TRATTAMENTO DEI DATI". */
  titolo?: string;
  capo?: string;
  /** Line of the article heading, 1-based. */
  line: number;
  commi: Comma[];
}

export interface ParseProblem {
  /** 1-based line number in the source text. */
  line: number;
  /** What is wrong, in Italian. */
  message: string;
  /** The source line as written (trimmed). */
  text: string;
}

export interface ParsedRegulation {
  title: string;
  issuingBody?: string;
  /** The approving act(s), e.g. "delibera consiliare n. 117 del 22-12-2020". */
  approvedBy?: string;
  /** ISO date (YYYY-MM-DD) when the text states one, e.g. "In vigore dal 15-01-2021". */
  inForceFrom?: string;
  articles: ParsedArticle[];
  problems: ParseProblem[];
}

export interface ParseOptions {
  /** `auto` (the default) takes Markdown when the text has headings, emphasis or links. */
  format?: RegulationFormat;
}

/** Title used when the text states none (a problem is reported as well). */
export const UNTITLED = 'Regolamento senza titolo';

const LATIN =
  'bis|ter|quater|quinquies|sexies|septies|octies|novies|nonies|decies|undecies|duodecies|' +
  'terdecies|quaterdecies|quinquiesdecies|sexiesdecies|septiesdecies|octiesdecies|' +
  'noviesdecies|duodevicies|undevicies|vicies';
const NUMBER = `(\\d{1,4})(?:[ \\t]*[-‑–]?[ \\t]*(${LATIN}))?(?![\\p{L}\\d])`;
const ARTICLE_RE = new RegExp(`^(?:art(?:icolo)?\\.?)[ \\t]*${NUMBER}[ \\t]*(.*)$`, 'iu');
const ARTICLE_WORD_RE = /^(?:Art|ART|Articolo|ARTICOLO)(?![\p{Ll}])/u;
const DIVISION_RE = /^(titolo|capo)\s+([ivxlcdm]+|\d{1,3})(?![\p{L}\d])\s*(?:[-–—.:]\s*)?(.*)$/iu;
const COMMA_RE = new RegExp(
  `^(\\d{1,3})(?:[ \\t]*[-‑–]?[ \\t]*(${LATIN}))?(?![\\p{L}\\d])\\.(?:\\s+(.*))?$`,
  'iu',
);
const POINT_RE = new RegExp(
  `^\\(?([a-z]{1,2}|\\d{1,2})(?:[ \\t]*[-‑]?[ \\t]*(${LATIN}))?\\)(?:\\s+(.*))?$`,
  'u',
);
const BULLET_RE = /^([-*+•–—])\s+(.*)$/u;
const INDEX_RE = /^(?:indice|sommario)(?:\s+generale)?\s*:?$/iu;
const ISSUING_RE =
  /^(?:comune|unione|provincia|citt[àa] metropolitana|regione|comunit[àa] montana|consorzio|azienda|ente)\b/iu;
const SUB_ISSUING_RE = /^(?:provincia|citt[àa] metropolitana|regione)\b/iu;
const SMALL_ROMAN_RE = /^(?=[IVX])X{0,3}(?:IX|IV|V?I{0,3})$/;
const SENTENCE_END_RE = /[.;:!?…]["”»'’)\]]*$/u;
const MONTHS = [
  'gennaio',
  'febbraio',
  'marzo',
  'aprile',
  'maggio',
  'giugno',
  'luglio',
  'agosto',
  'settembre',
  'ottobre',
  'novembre',
  'dicembre',
];
const ITALIAN_LETTERS = 'abcdefghilmnopqrstuvz';
const ENGLISH_LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Collapses every run of white space (NBSP included) to one space. */
function normaliseSpaces(text: string): string {
  return text.replace(/\s+/gu, ' ').trim();
}

/** Removes Markdown emphasis, links, code marks and escapes; keeps the characters. */
function cleanMarkdown(text: string): string {
  const escaped: string[] = [];
  let result = text.replace(/\\([\\`*_{}[\]()#+\-.!|~<>"'])/g, (_match, character: string) => {
    escaped.push(character);
    return `\uE000${escaped.length - 1}\uE000`;
  });
  result = result
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<br\s*\/?>/gi, ' ')
    .replace(/`+/g, '')
    .replace(/\*+/g, '')
    .replace(/(^|[^\p{L}\p{N}])_+(?=\S)/gu, '$1')
    .replace(/(\S)_+(?=[^\p{L}\p{N}]|$)/gu, '$1')
    .replace(/\uE000(\d+)\uE000/g, (_match, index: string) => escaped[Number(index)] ?? '');
  return normaliseSpaces(result);
}

interface Line {
  /** 1-based. */
  number: number;
  raw: string;
  indent: number;
  blank: boolean;
  /** A Markdown `#` heading. */
  heading: boolean;
  /** The whole line is wrapped in Markdown emphasis. */
  emphasised: boolean;
  /** Starts with a list marker (removed from `text`). */
  bullet: boolean;
  /** Ends with a Markdown hard line break. */
  hardBreak: boolean;
  /** Clean text: no heading marks, list marker, emphasis or escapes; spaces normalised. */
  text: string;
}

function analyseLine(raw: string, number: number, markdown: boolean): Line {
  const expanded = raw.replace(/\t/g, '    ');
  const indent = expanded.length - expanded.trimStart().length;
  let body = expanded.trim();
  let heading = false;
  let bullet = false;
  let hardBreak = false;
  if (markdown) {
    hardBreak = / {2,}$/.test(expanded) || body.endsWith('\\');
    if (body.endsWith('\\')) body = body.slice(0, -1).trimEnd();
    if (/^(?:[-*_][ \t]*){3,}$/.test(body)) body = '';
    const headingMatch = /^#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?$/.exec(body);
    if (headingMatch) {
      heading = true;
      body = headingMatch[1] ?? '';
    }
    body = body.replace(/^>[ \t]?/, '');
  }
  const bulletMatch = heading ? null : BULLET_RE.exec(body);
  if (bulletMatch) {
    bullet = true;
    body = bulletMatch[2] ?? '';
  }
  const emphasised = markdown && /^[*_]+[^*_\s]/.test(body) && /[^*_\s][*_]+$/.test(body);
  const text = markdown ? cleanMarkdown(body) : normaliseSpaces(body);
  return {
    number,
    raw,
    indent,
    blank: text === '',
    heading,
    emphasised,
    bullet,
    hardBreak,
    text,
  };
}

function detectFormat(lines: string[]): 'markdown' | 'text' {
  const markdownHints = lines.filter(
    (line) =>
      /^#{1,6}\s/.test(line) || /\*\*\S[^*]*\*\*/.test(line) || /\[[^\]]*\]\([^)]*\)/.test(line),
  );
  return markdownHints.length > 0 ? 'markdown' : 'text';
}

function latinNumber(digits: string, latin: string | undefined): string {
  return latin ? `${digits}-${latin.toLowerCase()}` : digits;
}

/** Splits "2-quaterdecies" into its integer part and suffix, for sequence checks. */
function splitNumber(number: string): { base: number; suffix: string } {
  const match = /^(\d+)(?:-(.*))?$/.exec(number);
  return match ? { base: Number(match[1]), suffix: match[2] ?? '' } : { base: NaN, suffix: number };
}

interface ArticleHeading {
  number: string;
  title?: string;
}

function parseArticleHeading(line: Line): ArticleHeading | undefined {
  if (line.blank || !ARTICLE_WORD_RE.test(line.text)) return undefined;
  const match = ARTICLE_RE.exec(line.text);
  if (!match) return undefined;
  const number = latinNumber(match[1] ?? '', match[2]);
  const rest = (match[3] ?? '').trim();
  if (rest === '') return { number };
  const standsAlone = line.heading || line.emphasised;
  let title: string | undefined;
  const separated = /^[-–—.:]\s*(.*)$/u.exec(rest);
  if (separated) title = (separated[1] ?? '').trim();
  else if (/^\(.*\)$/u.test(rest)) title = rest.slice(1, -1).trim();
  else if (standsAlone) title = rest;
  else return undefined;
  if (!standsAlone && title.length > 200) return undefined;
  const bracketed = /^\((.*)\)$/u.exec(title);
  if (bracketed) title = (bracketed[1] ?? '').trim();
  return title ? { number, title } : { number };
}

interface DivisionHeading {
  kind: 'TITOLO' | 'CAPO';
  numeral: string;
  name: string;
}

function parseDivision(line: Line): DivisionHeading | undefined {
  if (line.blank) return undefined;
  const match = DIVISION_RE.exec(line.text);
  if (!match) return undefined;
  const word = match[1] ?? '';
  if (word !== word.toUpperCase() && !line.heading && !line.emphasised) return undefined;
  const numeral = (match[2] ?? '').toUpperCase();
  if (!/^\d+$/.test(numeral) && !SMALL_ROMAN_RE.test(numeral)) return undefined;
  return {
    kind: word.toUpperCase() === 'CAPO' ? 'CAPO' : 'TITOLO',
    numeral,
    name: (match[3] ?? '').trim(),
  };
}

function divisionLabel(kind: string, numeral: string, name: string): string {
  return name ? `${kind} ${numeral} - ${name}` : `${kind} ${numeral}`;
}

function parseCommaStart(line: Line): { number: string; text: string } | undefined {
  if (line.blank || line.bullet) return undefined;
  const match = COMMA_RE.exec(line.text);
  if (!match) return undefined;
  return { number: latinNumber(match[1] ?? '', match[2]), text: (match[3] ?? '').trim() };
}

function parsePointStart(line: Line): { label: string; text: string } | undefined {
  if (line.blank) return undefined;
  const match = POINT_RE.exec(line.text);
  if (match) {
    return { label: latinNumber(match[1] ?? '', match[2]), text: (match[3] ?? '').trim() };
  }
  return line.bullet ? { label: '-', text: line.text } : undefined;
}

function isAllCaps(text: string): boolean {
  const letters = text.match(/\p{L}/gu) ?? [];
  return letters.length >= 6 && /\s/.test(text) && !/\p{Ll}/u.test(text);
}

function looksLikeHeading(line: Line): boolean {
  return (
    line.heading ||
    (line.emphasised && line.text.length <= 120 && !/[.;,]$/.test(line.text)) ||
    isAllCaps(line.text)
  );
}

function looksLikeTitle(line: Line): boolean {
  if (line.bullet || parseCommaStart(line) || parsePointStart(line)) return false;
  if (line.heading || line.emphasised) return true;
  if (line.text.length > 150) return false;
  return !/[;:,]$/.test(line.text) && (!line.text.endsWith('.') || line.text.length <= 80);
}

/** Lower case, one kind of apostrophe, no trailing punctuation: for comparing titles. */
function comparable(text: string): string {
  return normaliseSpaces(
    text
      .normalize('NFC')
      .toLowerCase()
      .replace(/[’‘`´]/g, "'"),
  ).replace(/[.;:]+$/, '');
}

const NAME_PARTICLES = new Set([
  'di',
  'del',
  'della',
  'dello',
  'dei',
  'degli',
  'delle',
  'e',
  'ed',
  'in',
  'a',
  'al',
  'alla',
  'da',
  'dal',
  'dalla',
  'sul',
  'sulla',
  'nel',
  'nella',
  'per',
  'con',
  'sotto',
  'sopra',
]);
const ELIDED_PARTICLES = new Set(['l', 'd', 'dell', 'nell', 'all', 'dall', 'sull', 'un']);

/** "COMUNE DI CALDERARA DI RENO" → "Comune di Calderara di Reno"; mixed case is kept. */
function nameCase(text: string): string {
  if (/\p{Ll}/u.test(text)) return text;
  return text
    .toLowerCase()
    .split(' ')
    .map((word, index) => {
      const parts = word.split(/(['’])/);
      return parts
        .map((part, partIndex) => {
          if (part === "'" || part === '’' || part === '') return part;
          const elided = partIndex === 0 && parts.length > 1 && ELIDED_PARTICLES.has(part);
          const particle = parts.length === 1 && NAME_PARTICLES.has(part);
          if (index > 0 && (elided || particle)) return part;
          return part.charAt(0).toUpperCase() + part.slice(1);
        })
        .join('');
    })
    .join(' ');
}

function isoDate(day: number, month: number, year: number): string | undefined {
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1) return undefined;
  return date.toISOString().slice(0, 10);
}

function parseInForce(text: string): string | undefined {
  const numeric =
    /in vigore\s+(?:dal(?:l')?|il|a decorrere dal)\s+(\d{1,2})[-./](\d{1,2})[-./](\d{4})\b/iu.exec(
      text,
    );
  if (numeric) return isoDate(Number(numeric[1]), Number(numeric[2]), Number(numeric[3]));
  const long = new RegExp(
    `in vigore\\s+(?:dal(?:l')?|il|a decorrere dal)\\s+(\\d{1,2})°?\\s+(${MONTHS.join('|')})\\s+(\\d{4})\\b`,
    'iu',
  ).exec(text);
  if (long) {
    return isoDate(
      Number(long[1]),
      MONTHS.indexOf((long[2] ?? '').toLowerCase()) + 1,
      Number(long[3]),
    );
  }
  return undefined;
}

function parseApproval(text: string): { kind: 'approval' | 'amendment'; act: string } | undefined {
  const unwrapped = text.replace(/^\((.*)\)\.?$/u, '$1').trim();
  let kind: 'approval' | 'amendment' = 'approval';
  let act: string | undefined;
  const approved =
    /^(approvat[oa]|adottat[oa]|modificat[oa]|integrat[oa])\s+(?:con|dal(?:la|l')?|mediante|in)\s+(.+)$/iu.exec(
      unwrapped,
    );
  if (approved) {
    act = approved[2];
    if (/^(?:modificat|integrat)/iu.test(approved[1] ?? '')) kind = 'amendment';
  } else if (
    /^(?:delibera(?:zion[ei])?|decreto|determina(?:zion[ei])?)\b/iu.test(unwrapped) &&
    /\bn\.?\s*\d/iu.test(unwrapped)
  ) {
    act = unwrapped;
  }
  if (!act) return undefined;
  act = act
    .replace(/[,;]?\s*(?:e\s+)?(?:entrat[oa]\s+)?in vigore\b.*$/iu, '')
    .replace(/[.;,]+$/u, '')
    .trim();
  return act ? { kind, act } : undefined;
}

/**
 * A PDF extraction sometimes prints the running header and the title on one
 * line, the first copy truncated: "egolamento sulla … Regolamento sulla …".
 * Returns the complete copy when the line is such a repetition.
 */
function repairRepeatedTitle(text: string): string | undefined {
  const words = text.split(' ');
  for (let split = 1; split < words.length; split += 1) {
    const first = words.slice(0, split).join(' ');
    const second = words.slice(split).join(' ');
    if (
      first.length >= 10 &&
      second.length >= first.length &&
      second.length - first.length <= 3 &&
      second.toLowerCase().endsWith(first.toLowerCase())
    ) {
      return second;
    }
  }
  return undefined;
}

function nextLabels(previous: string): string[] {
  if (/^\d+$/.test(previous)) return [String(Number(previous) + 1)];
  const labels: string[] = [];
  for (const alphabet of [ITALIAN_LETTERS, ENGLISH_LETTERS]) {
    const index = alphabet.indexOf(previous);
    if (previous.length === 1 && index >= 0 && index + 1 < alphabet.length) {
      labels.push(alphabet.charAt(index + 1));
    }
  }
  const roman = romanValue(previous);
  if (roman) labels.push(toRoman(roman + 1));
  return labels;
}

function romanValue(text: string): number | undefined {
  if (!/^[ivx]+$/.test(text)) return undefined;
  const values: Record<string, number> = { i: 1, v: 5, x: 10 };
  let total = 0;
  for (let index = 0; index < text.length; index += 1) {
    const value = values[text.charAt(index)] ?? 0;
    const next = values[text.charAt(index + 1)] ?? 0;
    total += value < next ? -value : value;
  }
  return total;
}

function toRoman(value: number): string {
  const table: [number, string][] = [
    [10, 'x'],
    [9, 'ix'],
    [5, 'v'],
    [4, 'iv'],
    [1, 'i'],
  ];
  let rest = value;
  let result = '';
  for (const [amount, symbol] of table) {
    while (rest >= amount) {
      result += symbol;
      rest -= amount;
    }
  }
  return result;
}

interface IndexEntry {
  number: string;
  title?: string;
  line: Line;
}

interface ArticleState {
  article: ParsedArticle;
  heading: Line;
  expectingTitle: boolean;
  comma?: Comma;
  /** Point under which dash bullets are nested, and their indentation. */
  nest?: { parent: Point; indent: number };
}

class RegulationParser {
  private readonly lines: Line[];
  private readonly markdown: boolean;
  private readonly problems: ParseProblem[] = [];
  private readonly articles: ParsedArticle[] = [];
  /** The line each article's title was read from, for problems about the title. */
  private readonly titleLines = new Map<ParsedArticle, Line>();
  private mode: 'preamble' | 'index' | 'body' = 'preamble';

  private titleParts: string[] = [];
  private titleOpen = false;
  private issuingBody: string | undefined;
  private approvedBy: string | undefined;
  private inForceFrom: string | undefined;

  private readonly indexEntries: IndexEntry[] = [];
  private readonly indexDivisions = new Set<string>();
  /** Lines of index divisions met since the last index entry (they may open the body). */
  private indexTail: number[] = [];

  private current: ArticleState | undefined;
  private titolo: string | undefined;
  private capo: string | undefined;
  private pendingDivision: { kind: 'TITOLO' | 'CAPO'; numeral: string } | undefined;
  private lastBlock: { text: string } | undefined;
  private lastTextLine: Line | undefined;
  private skipped: { start: Line; end: Line } | undefined;

  constructor(text: string, format: RegulationFormat) {
    const rawLines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
    this.markdown = (format === 'auto' ? detectFormat(rawLines) : format) === 'markdown';
    this.lines = rawLines.map((raw, index) => analyseLine(raw, index + 1, this.markdown));
  }

  parse(): ParsedRegulation {
    let index = 0;
    while (index < this.lines.length) {
      const line = this.lines[index];
      if (!line) break;
      const restart =
        this.mode === 'preamble'
          ? this.preamble(line, index)
          : this.mode === 'index'
            ? this.index(line, index)
            : this.body(line);
      index = restart ?? index + 1;
    }
    this.finishSkip();
    this.closeArticle();
    this.reconcileIndex();

    let title = normaliseSpaces(this.titleParts.join(' ')).replace(
      /\s*[-–—]\s*approvazione\.?$/iu,
      '',
    );
    if (!title) {
      title = UNTITLED;
      const first = this.lines.find((line) => !line.blank);
      this.problem(
        first ?? this.lines[0],
        'titolo del regolamento non trovato prima degli articoli',
      );
    }
    this.problems.sort((a, b) => a.line - b.line);
    return {
      title,
      ...(this.issuingBody ? { issuingBody: this.issuingBody } : {}),
      ...(this.approvedBy ? { approvedBy: this.approvedBy } : {}),
      ...(this.inForceFrom ? { inForceFrom: this.inForceFrom } : {}),
      articles: this.articles,
      problems: this.problems,
    };
  }

  private problem(line: Line | undefined, message: string): void {
    this.problems.push({ line: line?.number ?? 1, message, text: line?.raw.trim() ?? '' });
  }

  // ----- before the first article -----

  private preamble(line: Line, index: number): number | undefined {
    if (line.blank) {
      this.titleOpen = false;
      return undefined;
    }
    if (INDEX_RE.test(line.text)) {
      this.titleOpen = false;
      this.mode = 'index';
      return undefined;
    }
    if (
      (!line.bullet && parseArticleHeading(line)) ||
      parseDivision(line) ||
      parseCommaStart(line)
    ) {
      this.mode = 'body';
      return index;
    }
    const inForce = parseInForce(line.text);
    const approval = parseApproval(line.text);
    if (inForce || approval) {
      this.titleOpen = false;
      if (inForce) this.inForceFrom ??= inForce;
      if (approval?.kind === 'approval' && !this.approvedBy) this.approvedBy = approval.act;
      else if (approval) {
        this.approvedBy = this.approvedBy
          ? `${this.approvedBy}; modificato con ${approval.act}`
          : approval.act;
      }
      return undefined;
    }
    if (this.titleOpen && (this.markdown || /^\p{Ll}/u.test(line.text))) {
      this.titleParts.push(line.text);
      return undefined;
    }
    this.titleOpen = false;
    if (ISSUING_RE.test(line.text) && line.text.length <= 80) {
      if (!this.issuingBody) {
        this.issuingBody = nameCase(line.text);
        return undefined;
      }
      if (SUB_ISSUING_RE.test(line.text)) return undefined;
    }
    if (this.titleParts.length === 0) {
      const repaired = repairRepeatedTitle(line.text);
      const candidate = repaired ?? line.text;
      if (
        /^regolamento\b/iu.test(candidate) ||
        line.heading ||
        line.emphasised ||
        isAllCaps(candidate)
      ) {
        this.titleParts.push(candidate);
        this.titleOpen = true;
        if (repaired) {
          this.problem(
            line,
            `riga del titolo ripetuta e troncata (errore di estrazione dal PDF): preso come titolo «${repaired}»`,
          );
        }
        return undefined;
      }
    }
    this.problem(
      line,
      'testo prima del primo articolo non riconosciuto (non è titolo, ente, approvazione o indice)',
    );
    return undefined;
  }

  // ----- the index -----

  private index(line: Line, index: number): number | undefined {
    if (line.blank) return undefined;
    const division = line.bullet ? undefined : parseDivision(line);
    if (division) {
      const key = `${division.kind} ${division.numeral}`;
      if (this.indexDivisions.has(key)) return this.leaveIndex(index);
      this.indexDivisions.add(key);
      this.indexTail.push(index);
      return undefined;
    }
    const heading = parseArticleHeading(line);
    if (heading) {
      const repeated = this.indexEntries.some((entry) => entry.number === heading.number);
      if (heading.title === undefined || repeated) return this.leaveIndex(index);
      this.indexEntries.push({ number: heading.number, title: heading.title, line });
      this.indexTail = [];
      return undefined;
    }
    if (parseCommaStart(line)) return this.leaveIndex(index);
    this.problem(line, "riga dell'indice non riconosciuta");
    return undefined;
  }

  /** The body starts at `index`, or at the divisions seen since the last index entry. */
  private leaveIndex(index: number): number {
    this.mode = 'body';
    const start = this.indexTail[0];
    this.indexTail = [];
    return start !== undefined && start < index ? start : index;
  }

  // ----- the articles -----

  private body(line: Line): number | undefined {
    if (line.blank) return undefined;
    const heading = line.bullet ? undefined : parseArticleHeading(line);
    if (heading) {
      this.finishSkip();
      this.startArticle(heading, line);
      return undefined;
    }
    const division = line.bullet ? undefined : parseDivision(line);
    if (division) {
      this.finishSkip();
      this.closeArticle();
      const label = divisionLabel(division.kind, division.numeral, division.name);
      if (division.kind === 'TITOLO') {
        this.titolo = label;
        this.capo = undefined;
      } else {
        this.capo = label;
      }
      this.pendingDivision = division.name ? undefined : division;
      return undefined;
    }
    if (this.skipped) {
      this.skipped.end = line;
      return undefined;
    }
    const pending = this.pendingDivision;
    this.pendingDivision = undefined;
    if (
      pending &&
      !parseCommaStart(line) &&
      !parsePointStart(line) &&
      (line.heading || line.emphasised || isAllCaps(line.text))
    ) {
      const label = divisionLabel(pending.kind, pending.numeral, line.text);
      if (pending.kind === 'TITOLO') this.titolo = label;
      else this.capo = label;
      return undefined;
    }
    const state = this.current;
    if (state?.expectingTitle) {
      state.expectingTitle = false;
      if (looksLikeTitle(line)) {
        state.article.title = line.text;
        this.titleLines.set(state.article, line);
        return undefined;
      }
    }
    const comma = parseCommaStart(line);
    if (comma) {
      this.addComma(line, comma.number, comma.text);
      return undefined;
    }
    const point = parsePointStart(line);
    if (point) {
      this.addPoint(line, point.label, point.text);
      return undefined;
    }
    if (!line.heading && this.continues(line)) {
      this.appendText(line);
      return undefined;
    }
    if (looksLikeHeading(line)) {
      this.closeArticle();
      this.skipped = { start: line, end: line };
      return undefined;
    }
    if (state) {
      this.addComma(line, undefined, line.text);
      return undefined;
    }
    this.problem(line, 'testo fuori da qualsiasi articolo');
    return undefined;
  }

  private startArticle(heading: ArticleHeading, line: Line): void {
    const previous = this.articles.at(-1);
    this.closeArticle();
    const occurrence =
      this.articles.filter((article) => article.number === heading.number).length + 1;
    const article: ParsedArticle = {
      number: heading.number,
      occurrence,
      ...(heading.title ? { title: heading.title } : {}),
      ...(this.titolo ? { titolo: this.titolo } : {}),
      ...(this.capo ? { capo: this.capo } : {}),
      line: line.number,
      commi: [],
    };
    this.articles.push(article);
    this.current = { article, heading: line, expectingTitle: !heading.title };
    if (heading.title) this.titleLines.set(article, line);
    this.lastBlock = undefined;
    this.lastTextLine = undefined;
    this.pendingDivision = undefined;
    if (previous && occurrence === 1) {
      const before = splitNumber(previous.number);
      const now = splitNumber(heading.number);
      const follows =
        now.base === before.base + 1 || (now.base === before.base && now.suffix !== '');
      if (!follows && !Number.isNaN(now.base)) {
        this.problem(
          line,
          `numerazione degli articoli non consecutiva: art. ${heading.number} dopo l'art. ${previous.number}`,
        );
      }
    }
  }

  private closeArticle(): void {
    const state = this.current;
    if (!state) return;
    if (state.article.commi.length === 0) {
      this.problem(state.heading, `art. ${state.article.number} senza testo`);
    }
    this.current = undefined;
    this.lastBlock = undefined;
    this.lastTextLine = undefined;
  }

  private addComma(line: Line, number: string | undefined, text: string): void {
    const state = this.current;
    if (!state) {
      this.problem(line, 'comma fuori da qualsiasi articolo');
      return;
    }
    const article = state.article;
    if (number !== undefined) {
      const numbered = article.commi.filter((comma) => comma.number !== undefined);
      const previous = numbered.at(-1)?.number;
      if (numbered.some((comma) => comma.number === number)) {
        this.problem(line, `comma ${number} ripetuto nell'art. ${article.number}`);
      } else {
        const before = previous ? splitNumber(previous) : { base: 0, suffix: '' };
        const now = splitNumber(number);
        const follows =
          now.base === before.base + 1 || (now.base === before.base && now.suffix !== '');
        if (!follows) {
          this.problem(
            line,
            previous
              ? `numerazione dei commi non consecutiva nell'art. ${article.number}: comma ${number} dopo il comma ${previous}`
              : `il primo comma numerato dell'art. ${article.number} è il ${number}`,
          );
        }
      }
    }
    const comma: Comma = { ...(number !== undefined ? { number } : {}), text, points: [] };
    article.commi.push(comma);
    state.comma = comma;
    delete state.nest;
    this.lastBlock = comma;
    this.lastTextLine = line;
  }

  private addPoint(line: Line, label: string, text: string): void {
    const state = this.current;
    if (!state) {
      this.problem(line, 'punto di elenco fuori da qualsiasi articolo');
      return;
    }
    if (!state.comma) {
      const comma: Comma = { text: '', points: [] };
      state.article.commi.push(comma);
      state.comma = comma;
    }
    const comma = state.comma;
    const point: Point = { label, text, points: [] };
    if (label === '-') {
      if (state.nest && line.indent >= state.nest.indent) {
        state.nest.parent.points.push(point);
      } else {
        delete state.nest;
        const previous = comma.points.at(-1);
        if (previous && previous.points.length === 0 && previous.text.endsWith(':')) {
          state.nest = { parent: previous, indent: line.indent };
          previous.points.push(point);
        } else {
          comma.points.push(point);
        }
      }
    } else {
      delete state.nest;
      this.checkLabel(line, state, comma, label);
      comma.points.push(point);
    }
    this.lastBlock = point;
    this.lastTextLine = line;
  }

  private checkLabel(line: Line, state: ArticleState, comma: Comma, label: string): void {
    const labelled = comma.points.filter((point) => point.label !== '-');
    const where = `art. ${state.article.number}${comma.number ? `, comma ${comma.number}` : ''}`;
    const base = label.replace(/-.*$/, '');
    const previous = labelled.at(-1)?.label;
    if (previous === undefined) {
      if (!['a', '1', 'i'].includes(base)) {
        this.problem(line, `elenco che inizia dal punto ${label}) (${where})`);
      }
      return;
    }
    if (labelled.some((point) => point.label === label)) {
      this.problem(line, `punto ${label}) ripetuto dopo il punto ${previous}) (${where})`);
      return;
    }
    const previousBase = previous.replace(/-.*$/, '');
    if (base === previousBase && label !== base) return;
    if (!nextLabels(previousBase).includes(base)) {
      this.problem(
        line,
        `numerazione dei punti non consecutiva: ${label}) dopo ${previous}) (${where})`,
      );
    }
  }

  private continues(line: Line): boolean {
    if (!this.lastBlock || !this.lastTextLine) return false;
    if (/^\p{Ll}/u.test(line.text)) return true;
    const previous = this.lastTextLine;
    if (previous.number !== line.number - 1) return false;
    if (this.markdown) return !previous.hardBreak;
    return !SENTENCE_END_RE.test(previous.text);
  }

  private appendText(line: Line): void {
    const block = this.lastBlock;
    if (!block) return;
    const glue = /['’]$/.test(block.text) ? '' : ' ';
    block.text = normaliseSpaces(`${block.text}${glue}${line.text}`);
    this.lastTextLine = line;
  }

  private finishSkip(): void {
    const skipped = this.skipped;
    if (!skipped) return;
    this.skipped = undefined;
    this.problem(
      skipped.start,
      skipped.end.number > skipped.start.number
        ? `intestazione non riconosciuta: le righe ${skipped.start.number}–${skipped.end.number} non appartengono ad alcun articolo e non sono state importate`
        : 'intestazione non riconosciuta: la riga non appartiene ad alcun articolo e non è stata importata',
    );
  }

  // ----- index against text -----

  private reconcileIndex(): void {
    const entries = this.indexEntries;
    const matched = new Set<IndexEntry>();
    const headingOf = (article: ParsedArticle) => this.lines[article.line - 1];
    for (const article of this.articles) {
      if (article.occurrence !== 1) continue;
      const entry = entries.find((candidate) => candidate.number === article.number);
      if (!entry) {
        if (entries.length > 0) {
          this.problem(headingOf(article), `art. ${article.number} assente dall'indice`);
        }
        continue;
      }
      matched.add(entry);
      if (entry.title && article.title && comparable(entry.title) !== comparable(article.title)) {
        this.problem(
          this.titleLines.get(article) ?? headingOf(article),
          `titolo dell'art. ${article.number} diverso dall'indice: nel testo «${article.title}», nell'indice «${entry.title}» (riga ${entry.line.number})`,
        );
      }
    }
    for (const article of this.articles) {
      if (article.occurrence === 1) continue;
      const first = this.articles.find(
        (candidate) => candidate.number === article.number && candidate.occurrence === 1,
      );
      let message = `art. ${article.number} ripetuto: è la ${article.occurrence}ª occorrenza (la prima a riga ${first?.line ?? '?'})`;
      const title = article.title;
      const entry = title
        ? entries.find(
            (candidate) =>
              !matched.has(candidate) &&
              candidate.title !== undefined &&
              comparable(candidate.title) === comparable(title),
          )
        : undefined;
      if (entry) {
        matched.add(entry);
        message += `; nell'indice è l'art. ${entry.number} «${entry.title ?? ''}» (riga ${entry.line.number})`;
      }
      this.problem(headingOf(article), message);
    }
    for (const entry of entries) {
      if (matched.has(entry)) continue;
      this.problem(
        entry.line,
        `l'indice elenca l'art. ${entry.number}${entry.title ? ` «${entry.title}»` : ''}, che non compare nel testo`,
      );
    }
  }
}

/** Parses a regolamento; see the module comment for the rules. */
export function parseRegulation(text: string, options: ParseOptions = {}): ParsedRegulation {
  return new RegulationParser(text, options.format ?? 'auto').parse();
}

// ----- quoting helpers for templates -----

/** The shape `articleText` and `pointsOf` need: a parsed or a stored article. */
export interface QuotableArticle {
  number: string;
  commi: Comma[];
}

function canonicalCommaNumber(number: string): string {
  const match = new RegExp(`^\\s*(\\d+)\\s*[-‑–]?\\s*(${LATIN})?\\s*$`, 'iu').exec(number);
  return match ? latinNumber(match[1] ?? '', match[2]) : number.trim().toLowerCase();
}

/**
 * The commi quoted as "comma N": the comma numbered N and the paragraphs without
 * number that follow it, up to the next numbered comma. Throws a RangeError when
 * the article has no such comma (a template must refuse, not print a blank).
 */
function commaGroup(article: QuotableArticle, comma: string): Comma[] {
  const wanted = canonicalCommaNumber(comma);
  const group: Comma[] = [];
  let inside = false;
  for (const candidate of article.commi) {
    if (typeof candidate.number === 'string') {
      inside = canonicalCommaNumber(candidate.number) === wanted;
    }
    if (inside) group.push(candidate);
  }
  if (group.length === 0) {
    throw new RangeError(`l'art. ${article.number} non ha un comma ${comma}`);
  }
  return group;
}

function renderPoints(points: Point[], depth: number): string[] {
  return points.flatMap((point) => [
    `${'  '.repeat(depth)}${point.label === '-' ? '-' : `${point.label})`} ${point.text}`,
    ...renderPoints(point.points, depth + 1),
  ]);
}

function renderComma(comma: Comma, withNumber: boolean): string[] {
  const head = withNumber && comma.number ? `${comma.number}. ${comma.text}` : comma.text;
  return [head, ...renderPoints(comma.points, 0)].filter((line) => line.trim() !== '');
}

/**
 * Plain text of an article (without its title), one line per comma, paragraph
 * and point: commi as "1. text", points as "a) text" or "- text", sub-points
 * indented by two spaces. With `comma`, only that comma (and the paragraphs
 * without number that follow it), without its number. Throws a RangeError for a
 * comma the article does not have.
 */
export function articleText(article: QuotableArticle, options: { comma?: string } = {}): string {
  if (options.comma === undefined) {
    return article.commi.flatMap((comma) => renderComma(comma, true)).join('\n');
  }
  return commaGroup(article, options.comma)
    .flatMap((comma) => renderComma(comma, false))
    .join('\n');
}

function flattenPoint(point: Point): string {
  if (point.points.length === 0) return point.text;
  return [point.text, ...point.points.map((child) => `– ${flattenPoint(child)}`)].join(' ');
}

/**
 * The texts of the points of "art. N comma C", in order, without labels, e.g. the
 * tasks of a Designato (Calderara art. 5 c.2). Sub-points are flattened into
 * their parent's text, each introduced by "– ": point 6 of Calderara art. 5 c.2
 * becomes "in merito agli Incaricati, il designato deve: – individuare …; –
 * recepire …". Templates that need the nesting read `article.commi` directly.
 * Points of the paragraphs without number that follow the comma are included.
 * Throws a RangeError for a comma the article does not have.
 */
export function pointsOf(article: QuotableArticle, comma: string): string[] {
  return commaGroup(article, comma).flatMap((candidate) => candidate.points.map(flattenPoint));
}
