/**
 * Parses the markup that templates render to into the document model.
 *
 * The markup is a small, strict HTML subset (full reference with examples in
 * templates/MARKUP.md). Every element must be closed explicitly (`<br>` may
 * omit the slash); anything outside the subset is a MarkupError naming the
 * element and the line, because a silently dropped element in a legal act is
 * worse than a failed render.
 *
 *   <document title="…" author="…" date="AAAA-MM-GG" subject="…" keywords="a, b">
 *     the root; title, author and date are required.
 *   <letterhead>  <footer>
 *     optional, direct children of <document> before the first body block;
 *     they contain only <p> (left-aligned unless align says otherwise);
 *     <letterhead> may start with one <logo height="18"/> (mm, 5–40): the
 *     ente's logo, centred above the text, filled in by the pipeline.
 *   <h1> <h2> <h3> align="left|center|right|justify"
 *     headings; h1 and h2 default to center, h3 to left.
 *   <p align="…">
 *     paragraph; justify in the body, left in letterhead, footer and cells.
 *   <b>/<strong> <i>/<em> <u>  inline formatting, nesting combines.
 *   <br/>  line break.   <page-number/> <page-count/>  only in letterhead and footer.
 *   <ol type="1|a|A|i" start="n">  <ul>  <li>
 *     an <li> holds inline content (one paragraph) and/or <p>, <ol>, <ul>.
 *   <table widths="30,70" borders="true|false">
 *     optional <thead> with exactly one <tr> (the repeated header row), then
 *     <tbody> or direct <tr>; <td>/<th> align="…" hold inline content or
 *     <p>, <ol>, <ul>; fill="#rrggbb" shades the cell's background. Widths are
 *     relative and one per column; all rows have the same number of cells. No
 *     colspan/rowspan.
 *   <page-break/>
 *   <signatures> with one or more <signature id="…" role="…" name="…" note="…"/>
 *     id, role and name are required; ids are unique in the document.
 *
 * Whitespace collapses as in HTML: runs become one space, trimmed at the start
 * and end of a paragraph and around <br/>. Entities are decoded, so the
 * `&lt;script&gt;` that autoescaping makes of user data comes back as the
 * literal text `<script>`. Comments are ignored.
 */
import { Parser } from 'htmlparser2';
import type {
  Alignment,
  Block,
  DocumentMetadata,
  DocumentModel,
  Heading,
  Inline,
  List,
  ListItem,
  ListStyle,
  Paragraph,
  Signature,
  SignatureBlock,
  Table,
  TableCell,
  TableRow,
} from './document-model.js';

export class MarkupError extends Error {
  override readonly name = 'MarkupError';
  readonly line: number;
  /** The element (or, for stray text, the element containing it) the error is about. */
  readonly element: string;

  constructor(line: number, element: string, detail: string) {
    super(`riga ${line}: ${detail}`);
    this.line = line;
    this.element = element;
  }
}

interface SourceElement {
  kind: 'element';
  name: string;
  attributes: Record<string, string>;
  children: SourceNode[];
  line: number;
  selfClosing: boolean;
}

interface SourceText {
  kind: 'text';
  text: string;
  /** Offset in the source of the first character, for line numbers. */
  offset: number;
}

type SourceNode = SourceElement | SourceText;

type Zone = 'body' | 'letterhead' | 'footer';

interface InlineStyle {
  bold: boolean;
  italic: boolean;
  underline: boolean;
}

const knownElements = new Set([
  'document',
  'letterhead',
  'footer',
  'h1',
  'h2',
  'h3',
  'p',
  'b',
  'strong',
  'i',
  'em',
  'u',
  'br',
  'page-number',
  'page-count',
  'logo',
  'ol',
  'ul',
  'li',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'page-break',
  'signatures',
  'signature',
]);

/** Elements htmlparser2 closes by itself in HTML mode; everything else needs `</x>` or `/>`. */
const voidElements = new Set(['br']);

const placementHints: Readonly<Record<string, string>> = {
  document: "<document> è l'unica radice",
  letterhead: '<letterhead> va direttamente dentro <document>',
  footer: '<footer> va direttamente dentro <document>',
  li: '<li> va dentro <ol> o <ul>',
  tr: '<tr> va dentro <table>, <thead> o <tbody>',
  td: '<td> va dentro <tr>',
  th: '<th> va dentro <tr>',
  thead: '<thead> va dentro <table>',
  tbody: '<tbody> va dentro <table>',
  signature: '<signature> va dentro <signatures>',
  'page-number': '<page-number> va solo in <letterhead> o <footer>',
  'page-count': '<page-count> va solo in <letterhead> o <footer>',
  logo: '<logo> va solo in <letterhead>',
};

/** Logo height in millimetres: the default, and the range a letterhead can sensibly hold. */
const logoHeightMm = { default: 18, min: 5, max: 40 } as const;

const alignments: readonly Alignment[] = ['left', 'center', 'right', 'justify'];

const listStylesByType: Readonly<Record<string, ListStyle>> = {
  '1': 'decimal',
  a: 'lower-alpha',
  A: 'upper-alpha',
  i: 'lower-roman',
};

const headingDefaultAlignment: Readonly<Record<Heading['level'], Alignment>> = {
  1: 'center',
  2: 'center',
  3: 'left',
};

/** HTML's ASCII whitespace; a no-break space is content and survives. */
const htmlWhitespace = /[ \t\n\f\r]+/g;

function isBlank(text: string): boolean {
  return /^[ \t\n\f\r]*$/.test(text);
}

function collapseWhitespace(text: string): string {
  return text.replace(htmlWhitespace, ' ').trim();
}

function excerpt(text: string): string {
  const collapsed = collapseWhitespace(text);
  return collapsed.length > 40 ? `${collapsed.slice(0, 40)}…` : collapsed;
}

function lineLocator(source: string): (offset: number) => number {
  const lineStarts = [0];
  for (let index = 0; index < source.length; index++) {
    if (source.charCodeAt(index) === 10) lineStarts.push(index + 1);
  }
  return (offset) => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if ((lineStarts[middle] ?? 0) <= offset) low = middle;
      else high = middle - 1;
    }
    return low + 1;
  };
}

/**
 * htmlparser2 drops an end tag that matches no open element without a
 * callback; this hook lets the tree builder reject it instead.
 */
class EndTagReportingParser extends Parser {
  constructor(
    handler: ConstructorParameters<typeof Parser>[0],
    options: ConstructorParameters<typeof Parser>[1],
    private readonly onEndTag: (nameStart: number, nameEnd: number) => void,
  ) {
    super(handler, options);
  }

  override onclosetag(start: number, endIndex: number): void {
    this.onEndTag(start, endIndex);
    super.onclosetag(start, endIndex);
  }
}

/**
 * Builds a light tree with line numbers. The Parser callbacks (rather than
 * parseDocument) let us refuse what HTML mode would silently repair: elements
 * closed implicitly by a later tag or by the end of input, and stray `</p>`.
 */
function readSourceTree(source: string, lineAt: (offset: number) => number): SourceElement {
  const root: SourceElement = {
    kind: 'element',
    name: '#root',
    attributes: {},
    children: [],
    line: 1,
    selfClosing: false,
  };
  const open: SourceElement[] = [root];
  const current = (): SourceElement => open[open.length - 1] ?? root;
  let openingTag = '';
  let attributeNames = new Set<string>();

  const parser: Parser = new EndTagReportingParser(
    {
      onopentagname(name) {
        openingTag = name;
        attributeNames = new Set();
      },
      onattribute(name) {
        if (attributeNames.has(name)) {
          const line = lineAt(parser.startIndex);
          throw new MarkupError(
            line,
            openingTag,
            `attributo "${name}" ripetuto in <${openingTag}>`,
          );
        }
        attributeNames.add(name);
      },
      onopentag(name, attributes, isImplied) {
        const line = lineAt(parser.startIndex);
        if (isImplied) {
          throw new MarkupError(line, name, `tag di chiusura </${name}> senza apertura`);
        }
        if (!knownElements.has(name)) {
          throw new MarkupError(line, name, `elemento <${name}> non ammesso`);
        }
        const element: SourceElement = {
          kind: 'element',
          name,
          attributes: { ...attributes },
          children: [],
          line,
          selfClosing: source[parser.endIndex - 1] === '/',
        };
        current().children.push(element);
        open.push(element);
      },
      onclosetag(name, isImplied) {
        const element = open.pop();
        if (element === undefined || element === root) return;
        if (isImplied && !element.selfClosing && !voidElements.has(name)) {
          throw new MarkupError(
            element.line,
            name,
            `elemento <${name}> non chiuso: manca </${name}>`,
          );
        }
      },
      ontext(text) {
        const parent = current();
        const previous = parent.children[parent.children.length - 1];
        if (previous?.kind === 'text') previous.text += text;
        else parent.children.push({ kind: 'text', text, offset: parser.startIndex });
      },
      onprocessinginstruction(name) {
        const line = lineAt(parser.startIndex);
        throw new MarkupError(line, name, `dichiarazione <${name}> non ammessa`);
      },
    },
    {
      xmlMode: false,
      recognizeSelfClosing: true,
      lowerCaseTags: true,
      lowerCaseAttributeNames: true,
      decodeEntities: true,
    },
    (nameStart, nameEnd) => {
      const name = source.slice(nameStart, nameEnd).toLowerCase();
      if (name !== 'br' && !open.some((element) => element.name === name)) {
        const line = lineAt(nameStart);
        throw new MarkupError(line, name, `tag di chiusura </${name}> senza apertura`);
      }
    },
  );
  // One write keeps the parser's indices equal to offsets in the source.
  parser.end(source);
  return root;
}

function isoCalendarDate(value: string): Date | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  const exists =
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return exists ? date : undefined;
}

/**
 * Whitespace collapses across runs as in HTML, so a space at the end of one
 * run swallows a leading space of the next; adjacent runs with the same
 * formatting merge, which keeps the model (and the renderers' output) small.
 */
function normalizeWhitespace(inlines: Inline[]): Inline[] {
  const result: Inline[] = [];
  let afterSpace = true;
  const trimTrailingSpace = () => {
    const last = result[result.length - 1];
    if (last?.kind !== 'text' || !last.text.endsWith(' ')) return;
    last.text = last.text.slice(0, -1);
    if (last.text === '') result.pop();
  };
  for (const inline of inlines) {
    if (inline.kind !== 'text') {
      if (inline.kind === 'lineBreak') trimTrailingSpace();
      afterSpace = inline.kind === 'lineBreak';
      result.push({ ...inline });
      continue;
    }
    let text = inline.text.replace(htmlWhitespace, ' ');
    if (afterSpace && text.startsWith(' ')) text = text.slice(1);
    if (text === '') continue;
    afterSpace = text.endsWith(' ');
    const previous = result[result.length - 1];
    if (
      previous?.kind === 'text' &&
      previous.bold === inline.bold &&
      previous.italic === inline.italic &&
      previous.underline === inline.underline
    ) {
      previous.text += text;
    } else {
      result.push({ ...inline, text });
    }
  }
  trimTrailingSpace();
  return result;
}

class ModelBuilder {
  private readonly signatureIds = new Set<string>();

  constructor(private readonly lineAt: (offset: number) => number) {}

  build(root: SourceElement): DocumentModel {
    let documentElement: SourceElement | undefined;
    for (const child of root.children) {
      if (child.kind === 'text') {
        this.requireBlank(child, root);
      } else if (child.name !== 'document') {
        throw this.misplaced(child, root);
      } else if (documentElement) {
        throw new MarkupError(child.line, 'document', 'elemento <document> ripetuto');
      } else {
        documentElement = child;
      }
    }
    if (!documentElement) {
      throw new MarkupError(1, 'document', "manca l'elemento radice <document>");
    }
    return this.document(documentElement);
  }

  private document(element: SourceElement): DocumentModel {
    const metadata = this.metadata(element);
    let header: Paragraph[] | undefined;
    let footer: Paragraph[] | undefined;
    let headerLogo: DocumentModel['headerLogo'];
    const body: Block[] = [];
    for (const child of element.children) {
      if (child.kind === 'text') {
        this.requireBlank(child, element);
        continue;
      }
      if (child.name === 'letterhead' || child.name === 'footer') {
        if ((child.name === 'letterhead' ? header : footer) !== undefined) {
          throw new MarkupError(child.line, child.name, `elemento <${child.name}> ripetuto`);
        }
        if (body.length > 0) {
          throw new MarkupError(
            child.line,
            child.name,
            `<${child.name}> deve precedere il corpo del documento`,
          );
        }
        const margin = this.pageMargin(child, child.name);
        if (child.name === 'letterhead') {
          header = margin.paragraphs;
          headerLogo = margin.logo;
        } else {
          footer = margin.paragraphs;
        }
        continue;
      }
      body.push(this.bodyBlock(child, element));
    }
    const model: DocumentModel = { metadata, header: header ?? [], footer: footer ?? [], body };
    if (headerLogo) model.headerLogo = headerLogo;
    return model;
  }

  private metadata(element: SourceElement): DocumentMetadata {
    this.checkAttributes(element, ['title', 'author', 'subject', 'keywords', 'date']);
    const title = this.requiredAttribute(element, 'title');
    const author = this.requiredAttribute(element, 'author');
    const dateText = this.requiredAttribute(element, 'date');
    const date = isoCalendarDate(dateText);
    if (!date) {
      throw this.invalidValue(element, 'date', dateText, 'serve una data AAAA-MM-GG esistente');
    }
    const keywords = (this.attribute(element, 'keywords') ?? '')
      .split(',')
      .map(collapseWhitespace)
      .filter((keyword) => keyword !== '');
    const metadata: DocumentMetadata = { title, author, keywords, language: 'it-IT', date };
    const subject = this.attribute(element, 'subject');
    if (subject) metadata.subject = subject;
    return metadata;
  }

  private pageMargin(
    element: SourceElement,
    zone: Zone,
  ): { paragraphs: Paragraph[]; logo?: { heightMm: number } } {
    this.checkAttributes(element, []);
    const paragraphs: Paragraph[] = [];
    let logo: { heightMm: number } | undefined;
    for (const child of element.children) {
      if (child.kind === 'text') {
        this.requireBlank(child, element);
      } else if (child.name === 'p') {
        paragraphs.push(this.paragraph(child, 'left', zone));
      } else if (child.name === 'logo' && zone === 'letterhead') {
        // The logo is always drawn above the text, so the markup must say so too.
        if (logo) throw new MarkupError(child.line, 'logo', 'elemento <logo> ripetuto');
        if (paragraphs.length > 0) {
          throw new MarkupError(
            child.line,
            'logo',
            "<logo> deve precedere i paragrafi dell'intestazione",
          );
        }
        logo = this.logo(child);
      } else {
        throw this.misplaced(child, element);
      }
    }
    return logo ? { paragraphs, logo } : { paragraphs };
  }

  private logo(element: SourceElement): { heightMm: number } {
    this.checkAttributes(element, ['height']);
    this.requireEmpty(element);
    const text = this.attribute(element, 'height');
    if (text === undefined) return { heightMm: logoHeightMm.default };
    const heightMm = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
    if (!(heightMm >= logoHeightMm.min && heightMm <= logoHeightMm.max)) {
      throw this.invalidValue(
        element,
        'height',
        text,
        `serve un'altezza in millimetri da ${logoHeightMm.min} a ${logoHeightMm.max}`,
      );
    }
    return { heightMm };
  }

  private bodyBlock(element: SourceElement, parent: SourceElement): Block {
    switch (element.name) {
      case 'h1':
      case 'h2':
      case 'h3':
        return this.heading(element);
      case 'p':
        return this.paragraph(element, 'justify', 'body');
      case 'ol':
      case 'ul':
        return this.list(element, 'justify');
      case 'table':
        return this.table(element);
      case 'page-break':
        this.checkAttributes(element, []);
        this.requireEmpty(element);
        return { kind: 'pageBreak' };
      case 'signatures':
        return this.signatures(element);
      default:
        throw this.misplaced(element, parent);
    }
  }

  private heading(element: SourceElement): Heading {
    this.checkAttributes(element, ['align']);
    const level = Number(element.name.slice(1)) as Heading['level'];
    return {
      kind: 'heading',
      level,
      align: this.alignment(element, headingDefaultAlignment[level]),
      runs: this.inlineRuns(element, element.children, 'body'),
    };
  }

  private paragraph(element: SourceElement, defaultAlign: Alignment, zone: Zone): Paragraph {
    this.checkAttributes(element, ['align']);
    return {
      kind: 'paragraph',
      align: this.alignment(element, defaultAlign),
      runs: this.inlineRuns(element, element.children, zone),
    };
  }

  /**
   * Content of an <li> or a cell: loose inline content becomes a paragraph of
   * its own, between the explicit <p>, <ol> and <ul> blocks.
   */
  private flow(element: SourceElement, defaultAlign: Alignment): (Paragraph | List)[] {
    const blocks: (Paragraph | List)[] = [];
    let loose: SourceNode[] = [];
    const flushLoose = () => {
      const runs = this.inlineRuns(element, loose, 'body');
      if (runs.length > 0) blocks.push({ kind: 'paragraph', align: defaultAlign, runs });
      loose = [];
    };
    for (const child of element.children) {
      if (child.kind === 'element' && ['p', 'ol', 'ul'].includes(child.name)) {
        flushLoose();
        blocks.push(
          child.name === 'p'
            ? this.paragraph(child, defaultAlign, 'body')
            : this.list(child, defaultAlign),
        );
      } else {
        loose.push(child);
      }
    }
    flushLoose();
    // The first block carries the item's marker, so even an empty item needs one.
    if (blocks.length === 0) blocks.push({ kind: 'paragraph', align: defaultAlign, runs: [] });
    return blocks;
  }

  private list(element: SourceElement, itemAlign: Alignment): List {
    const ordered = element.name === 'ol';
    this.checkAttributes(element, ordered ? ['type', 'start'] : []);
    let style: ListStyle = 'bullet';
    let start = 1;
    if (ordered) {
      const type = this.attribute(element, 'type') ?? '1';
      const typedStyle = listStylesByType[type];
      if (!typedStyle) throw this.invalidValue(element, 'type', type, 'ammessi 1, a, A, i');
      style = typedStyle;
      const startText = this.attribute(element, 'start') ?? '1';
      start = Number(startText);
      if (!/^\d+$/.test(startText) || start < 1) {
        throw this.invalidValue(element, 'start', startText, 'serve un intero da 1 in su');
      }
    }
    const items: ListItem[] = [];
    for (const child of element.children) {
      if (child.kind === 'text') {
        this.requireBlank(child, element);
      } else if (child.name === 'li') {
        this.checkAttributes(child, []);
        items.push({ blocks: this.flow(child, itemAlign) });
      } else {
        throw this.misplaced(child, element);
      }
    }
    if (items.length === 0) {
      throw new MarkupError(element.line, element.name, `<${element.name}> senza voci <li>`);
    }
    return { kind: 'list', style, start, items };
  }

  private table(element: SourceElement): Table {
    this.checkAttributes(element, ['widths', 'borders']);
    const bordersText = this.attribute(element, 'borders') ?? 'true';
    if (bordersText !== 'true' && bordersText !== 'false') {
      throw this.invalidValue(element, 'borders', bordersText, 'ammessi true o false');
    }
    let header: { row: TableRow; line: number } | undefined;
    const rows: { row: TableRow; line: number }[] = [];
    const addRow = (row: SourceElement) => rows.push({ row: this.row(row), line: row.line });
    for (const child of element.children) {
      if (child.kind === 'text') {
        this.requireBlank(child, element);
      } else if (child.name === 'thead') {
        if (header || rows.length > 0) {
          throw new MarkupError(
            child.line,
            'thead',
            '<thead> deve essere unico e precedere le righe della tabella',
          );
        }
        header = this.headerRow(child);
      } else if (child.name === 'tbody') {
        this.checkAttributes(child, []);
        for (const row of child.children) {
          if (row.kind === 'text') this.requireBlank(row, child);
          else if (row.name === 'tr') addRow(row);
          else throw this.misplaced(row, child);
        }
      } else if (child.name === 'tr') {
        addRow(child);
      } else {
        throw this.misplaced(child, element);
      }
    }
    const allRows = header ? [header, ...rows] : rows;
    const firstRow = allRows[0];
    if (!firstRow) throw new MarkupError(element.line, 'table', '<table> senza righe');
    const columns = firstRow.row.cells.length;
    for (const { row, line } of allRows) {
      if (row.cells.length !== columns) {
        throw new MarkupError(
          line,
          'tr',
          `la riga ha ${row.cells.length} celle, ma la prima riga della tabella ne ha ${columns}`,
        );
      }
    }
    const table: Table = {
      kind: 'table',
      columnWidths: this.columnWidths(element, columns),
      rows: rows.map(({ row }) => row),
      borders: bordersText === 'true',
    };
    if (header) table.header = header.row;
    return table;
  }

  private headerRow(element: SourceElement): { row: TableRow; line: number } {
    this.checkAttributes(element, []);
    const rows: SourceElement[] = [];
    for (const child of element.children) {
      if (child.kind === 'text') this.requireBlank(child, element);
      else if (child.name === 'tr') rows.push(child);
      else throw this.misplaced(child, element);
    }
    const [row] = rows;
    if (!row || rows.length > 1) {
      throw new MarkupError(element.line, 'thead', '<thead> deve contenere esattamente una <tr>');
    }
    return { row: this.row(row), line: row.line };
  }

  private row(element: SourceElement): TableRow {
    this.checkAttributes(element, []);
    const cells: TableCell[] = [];
    for (const child of element.children) {
      if (child.kind === 'text') {
        this.requireBlank(child, element);
      } else if (child.name === 'td' || child.name === 'th') {
        this.checkAttributes(child, ['align', 'fill']);
        const align = this.alignment(child, 'left');
        const cell: TableCell = { align, blocks: this.flow(child, align) };
        const fill = this.cellFill(child);
        if (fill) cell.fill = fill;
        cells.push(cell);
      } else {
        throw this.misplaced(child, element);
      }
    }
    if (cells.length === 0) throw new MarkupError(element.line, 'tr', '<tr> senza celle');
    return { cells };
  }

  /** A cell's background: only `#rrggbb`, the one colour form both Word and PDF take as it is. */
  private cellFill(cell: SourceElement): string | undefined {
    const value = this.attribute(cell, 'fill');
    if (value === undefined) return undefined;
    if (!/^#[0-9a-fA-F]{6}$/.test(value)) {
      throw this.invalidValue(cell, 'fill', value, 'serve un colore #rrggbb, es. #f4cccc');
    }
    return value.toLowerCase();
  }

  private columnWidths(table: SourceElement, columns: number): number[] {
    const declared = this.attribute(table, 'widths');
    if (declared === undefined) return Array.from({ length: columns }, () => 1 / columns);
    const parts = declared.split(',').map((part) => part.trim());
    if (parts.some((part) => !/^\d+(?:\.\d+)?$/.test(part) || Number(part) === 0)) {
      throw this.invalidValue(
        table,
        'widths',
        declared,
        'servono numeri positivi separati da virgole',
      );
    }
    if (parts.length !== columns) {
      throw new MarkupError(
        table.line,
        'table',
        `<table> dichiara ${parts.length} larghezze in widths ma le righe hanno ${columns} celle`,
      );
    }
    const widths = parts.map(Number);
    const total = widths.reduce((sum, width) => sum + width, 0);
    return widths.map((width) => width / total);
  }

  private signatures(element: SourceElement): SignatureBlock {
    this.checkAttributes(element, []);
    const signatures: Signature[] = [];
    for (const child of element.children) {
      if (child.kind === 'text') this.requireBlank(child, element);
      else if (child.name === 'signature') signatures.push(this.signature(child));
      else throw this.misplaced(child, element);
    }
    if (signatures.length === 0) {
      throw new MarkupError(element.line, 'signatures', '<signatures> senza <signature>');
    }
    return { kind: 'signatures', signatures };
  }

  private signature(element: SourceElement): Signature {
    this.checkAttributes(element, ['id', 'role', 'name', 'note']);
    this.requireEmpty(element);
    const id = this.requiredAttribute(element, 'id');
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(id)) {
      throw this.invalidValue(element, 'id', id, 'ammessi lettere, cifre, - e _');
    }
    if (this.signatureIds.has(id)) {
      throw new MarkupError(element.line, 'signature', `id di firma "${id}" ripetuto`);
    }
    this.signatureIds.add(id);
    const signature: Signature = {
      id,
      role: this.requiredAttribute(element, 'role'),
      name: this.requiredAttribute(element, 'name'),
    };
    const note = this.attribute(element, 'note');
    if (note) signature.note = note;
    return signature;
  }

  private inlineRuns(parent: SourceElement, nodes: SourceNode[], zone: Zone): Inline[] {
    const collected: Inline[] = [];
    this.collectInlines(
      parent,
      nodes,
      { bold: false, italic: false, underline: false },
      zone,
      collected,
    );
    return normalizeWhitespace(collected);
  }

  private collectInlines(
    parent: SourceElement,
    nodes: SourceNode[],
    style: InlineStyle,
    zone: Zone,
    collected: Inline[],
  ): void {
    for (const node of nodes) {
      if (node.kind === 'text') {
        collected.push({ kind: 'text', text: node.text, ...style });
        continue;
      }
      const descend = (added: Partial<InlineStyle>) => {
        this.checkAttributes(node, []);
        this.collectInlines(node, node.children, { ...style, ...added }, zone, collected);
      };
      switch (node.name) {
        case 'b':
        case 'strong':
          descend({ bold: true });
          break;
        case 'i':
        case 'em':
          descend({ italic: true });
          break;
        case 'u':
          descend({ underline: true });
          break;
        case 'br':
          this.checkAttributes(node, []);
          collected.push({ kind: 'lineBreak' });
          break;
        case 'page-number':
        case 'page-count':
          if (zone === 'body') throw this.misplaced(node, parent);
          this.checkAttributes(node, []);
          this.requireEmpty(node);
          collected.push({
            kind: node.name === 'page-number' ? 'pageNumber' : 'pageCount',
            ...style,
          });
          break;
        default:
          throw this.misplaced(node, parent);
      }
    }
  }

  private alignment(element: SourceElement, fallback: Alignment): Alignment {
    const value = this.attribute(element, 'align');
    if (value === undefined) return fallback;
    const alignment = alignments.find((candidate) => candidate === value);
    if (!alignment) {
      throw this.invalidValue(element, 'align', value, 'ammessi left, center, right, justify');
    }
    return alignment;
  }

  private checkAttributes(element: SourceElement, allowed: readonly string[]): void {
    for (const name of Object.keys(element.attributes)) {
      if (!allowed.includes(name)) {
        throw new MarkupError(
          element.line,
          element.name,
          `attributo "${name}" non ammesso in <${element.name}>`,
        );
      }
    }
  }

  private attribute(element: SourceElement, name: string): string | undefined {
    const value = Object.hasOwn(element.attributes, name) ? element.attributes[name] : undefined;
    return value === undefined ? undefined : collapseWhitespace(value);
  }

  private requiredAttribute(element: SourceElement, name: string): string {
    const value = this.attribute(element, name);
    if (value === undefined) {
      throw new MarkupError(
        element.line,
        element.name,
        `attributo obbligatorio "${name}" mancante in <${element.name}>`,
      );
    }
    if (value === '') {
      throw new MarkupError(
        element.line,
        element.name,
        `attributo obbligatorio "${name}" vuoto in <${element.name}>`,
      );
    }
    return value;
  }

  private invalidValue(
    element: SourceElement,
    attribute: string,
    value: string,
    expected: string,
  ): MarkupError {
    return new MarkupError(
      element.line,
      element.name,
      `valore "${value}" non valido per l'attributo ${attribute} di <${element.name}>: ${expected}`,
    );
  }

  private misplaced(element: SourceElement, parent: SourceElement): MarkupError {
    const where = parent.name === '#root' ? 'fuori da <document>' : `in <${parent.name}>`;
    const hint = placementHints[element.name];
    return new MarkupError(
      element.line,
      element.name,
      `elemento <${element.name}> non ammesso ${where}${hint ? ` (${hint})` : ''}`,
    );
  }

  private requireBlank(text: SourceText, parent: SourceElement): void {
    if (isBlank(text.text)) return;
    const leadingWhitespace = /^[ \t\n\f\r]*/.exec(text.text)?.[0].length ?? 0;
    const where = parent.name === '#root' ? 'fuori da <document>' : `in <${parent.name}>`;
    throw new MarkupError(
      this.lineAt(text.offset + leadingWhitespace),
      parent.name === '#root' ? 'document' : parent.name,
      `testo non ammesso ${where}: "${excerpt(text.text)}"`,
    );
  }

  private requireEmpty(element: SourceElement): void {
    for (const child of element.children) {
      if (child.kind === 'text' && isBlank(child.text)) continue;
      throw new MarkupError(
        element.line,
        element.name,
        `<${element.name}> non può avere contenuto`,
      );
    }
  }
}

/** Parses rendered markup into the document model; throws MarkupError on anything outside the subset. */
export function parseMarkup(source: string): DocumentModel {
  const lineAt = lineLocator(source);
  const root = readSourceTree(source, lineAt);
  return new ModelBuilder(lineAt).build(root);
}
