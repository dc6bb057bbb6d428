/**
 * Renders a {@link DocumentModel} as a Word document (.docx) with the `docx` library.
 *
 * The output is meant to be edited by people in Word or LibreOffice, so formatting lives in
 * named styles (Normal, Heading1..3, Header, Footer, SigilloTable, ...) and lists use real
 * Word numbering rather than typed-in markers.
 *
 * The same model always gives the same bytes: a document's hash is what gets signed and
 * compared, so a re-render must not look like a different document.
 */
import {
  AlignmentType,
  BorderStyle,
  Document,
  Footer,
  Header,
  HeadingLevel,
  ImageRun,
  LevelFormat,
  LineRuleType,
  Packer,
  PageBreak,
  PageNumber,
  Paragraph as DocxParagraph,
  ShadingType,
  Table as DocxTable,
  TableCell as DocxTableCell,
  TableLayoutType,
  TableRow as DocxTableRow,
  TextRun as DocxTextRun,
  WidthType,
  type FileChild,
  type ILevelsOptions,
  type IParagraphOptions,
  type ITableBordersOptions,
  type NumberingDefinition,
  type ParagraphChild,
} from 'docx';
import {
  inlineText,
  logoSizeMm,
  type Alignment,
  type Block,
  type DocumentModel,
  type HeaderLogo,
  type Heading,
  type Inline,
  type List,
  type ListStyle,
  type Paragraph,
  type SignatureBlock,
  type Table,
  type TableCell,
  type TableRow,
} from './document-model.js';

/** Twentieths of a point, the unit of most Word measures. */
const CM = 567;
const PAGE_WIDTH = 11906; // A4, 210 mm
const PAGE_HEIGHT = 16838; // A4, 297 mm
const MARGIN_TOP_BOTTOM = Math.round(2.5 * CM);
const MARGIN_LEFT_RIGHT = 2 * CM;
const TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN_LEFT_RIGHT;

/** Room above and below a cell's text, in the table style and on each table. */
const TABLE_CELL_PADDING = 57;
const TABLE_CELL_SIDE_PADDING = 108;

const FONT = 'Times New Roman';
const LANGUAGE = 'it-IT';
/** Line spacing in 240ths of a line: 276 is Word's "1.15". */
const LINE_SPACING = 276;

/**
 * Where a level's marker sits, how much further each level goes, and the room the marker
 * has before the text: enough for "200." so long lists do not jump to the next tab stop.
 */
const LIST_MARKER_INDENT = 284;
const LIST_INDENT_STEP = 454;
const LIST_HANGING = 454;
const LIST_LEVELS = 9;

const STYLE = {
  header: 'Header',
  footer: 'Footer',
  listParagraph: 'ListParagraph',
  tableText: 'SigilloTableText',
  tableHeading: 'SigilloTableHeading',
  signature: 'SigilloSignature',
  signatureNote: 'SigilloSignatureNote',
  table: 'SigilloTable',
} as const;

const ALIGNMENT = {
  left: AlignmentType.LEFT,
  center: AlignmentType.CENTER,
  right: AlignmentType.RIGHT,
  justify: AlignmentType.JUSTIFIED,
} as const;

const HEADING = {
  1: HeadingLevel.HEADING_1,
  2: HeadingLevel.HEADING_2,
  3: HeadingLevel.HEADING_3,
} as const;

const LIST_FORMATS: Record<
  ListStyle,
  { format: (typeof LevelFormat)[keyof typeof LevelFormat]; text: (level: number) => string }
> = {
  // Word's own bullets cycle through these three glyphs, all in Times New Roman's repertoire.
  bullet: { format: LevelFormat.BULLET, text: (level) => ['•', '◦', '▪'][level % 3] ?? '•' },
  decimal: { format: LevelFormat.DECIMAL, text: (level) => `%${level + 1}.` },
  'lower-alpha': { format: LevelFormat.LOWER_LETTER, text: (level) => `%${level + 1})` },
  'upper-alpha': { format: LevelFormat.UPPER_LETTER, text: (level) => `%${level + 1})` },
  'lower-roman': { format: LevelFormat.LOWER_ROMAN, text: (level) => `%${level + 1})` },
};

const NO_BORDER = { style: BorderStyle.NONE, size: 0, color: 'auto' } as const;
const THIN_BORDER = { style: BorderStyle.SINGLE, size: 4, color: '000000' } as const;

function tableBorders(visible: boolean): ITableBordersOptions {
  const border = visible ? THIN_BORDER : NO_BORDER;
  return {
    top: border,
    bottom: border,
    left: border,
    right: border,
    insideHorizontal: border,
    insideVertical: border,
  };
}

export async function renderDocx(model: DocumentModel): Promise<Buffer> {
  const converter = new Converter();
  const body = converter.blocks(model.body);
  const header = model.header.map((p) => converter.paragraph(p, { style: STYLE.header }));
  const logo = model.headerLogo && logoParagraph(model.headerLogo);
  if (logo) header.unshift(logo);
  const footer = model.footer.map((p) => converter.paragraph(p, { style: STYLE.footer }));

  const { metadata } = model;
  const document = new Document({
    title: metadata.title,
    subject: metadata.subject,
    creator: metadata.author,
    lastModifiedBy: metadata.author,
    keywords: metadata.keywords.join(', '),
    revision: 1,
    theme: { fonts: { headings: FONT, body: FONT } },
    // A justified line ending in a manual break would otherwise be stretched edge to edge.
    compatibility: { doNotExpandShiftReturn: true },
    styles: styles(),
    externalStyles: EXTRA_STYLES,
    numbering: { config: converter.numberingDefinitions() },
    sections: [
      {
        properties: {
          page: {
            size: { width: PAGE_WIDTH, height: PAGE_HEIGHT },
            margin: {
              top: MARGIN_TOP_BOTTOM,
              bottom: MARGIN_TOP_BOTTOM,
              left: MARGIN_LEFT_RIGHT,
              right: MARGIN_LEFT_RIGHT,
              header: Math.round(0.8 * CM),
              footer: CM,
            },
          },
        },
        headers: { default: new Header({ children: nonEmpty(header, STYLE.header) }) },
        footers: { default: new Footer({ children: nonEmpty(footer, STYLE.footer) }) },
        children: body,
      },
    ],
  });

  // docx stamps docProps/core.xml with the current time and has no place for the
  // language, so the part is replaced by one built from the metadata alone.
  const packed = await Packer.toBuffer(document, false, [
    { path: 'docProps/core.xml', data: coreProperties(model) },
  ]);
  return stampZipDates(packed, metadata.date);
}

/** Word measures pictures in pixels at 96 to the inch. */
const PX_PER_MM = 96 / 25.4;

/**
 * The ente's logo, centred in a paragraph of its own above the letterhead text; none when
 * the ente has no logo. docx numbers media parts within the document, but would take the
 * drawing id from a process-wide counter: it is given here, so the bytes stay the same
 * from one render to the next.
 */
function logoParagraph(logo: HeaderLogo): DocxParagraph | undefined {
  if (!logo.image) return undefined;
  const size = logoSizeMm(logo.heightMm, logo.image, (TEXT_WIDTH / CM) * 10);
  return new DocxParagraph({
    style: STYLE.header,
    alignment: AlignmentType.CENTER,
    spacing: { after: 60 },
    children: [
      new ImageRun({
        type: logo.image.contentType === 'image/png' ? 'png' : 'jpg',
        data: logo.image.bytes,
        transformation: { width: size.widthMm * PX_PER_MM, height: size.heightMm * PX_PER_MM },
        altText: { id: '1', name: 'Logo', description: "Logo dell'ente" },
      }),
    ],
  });
}

/** Word wants at least one paragraph in a header or footer part. */
function nonEmpty(paragraphs: DocxParagraph[], style: string): DocxParagraph[] {
  return paragraphs.length > 0 ? paragraphs : [new DocxParagraph({ style })];
}

interface ParagraphContext {
  style?: string;
  numbering?: { reference: string; level: number; instance: number };
  indentLeft?: number;
  align?: Alignment;
}

/**
 * Turns model blocks into docx objects, collecting the numbering definitions the lists
 * need on the way (they must be handed to the Document, which is built afterwards).
 */
class Converter {
  private readonly definitions = new Map<string, NumberingDefinition>();
  private listInstances = 0;

  numberingDefinitions(): NumberingDefinition[] {
    return [...this.definitions.values()];
  }

  blocks(blocks: Block[]): FileChild[] {
    return blocks.flatMap((block) => this.block(block));
  }

  private block(block: Block): FileChild[] {
    switch (block.kind) {
      case 'paragraph':
        return [this.paragraph(block)];
      case 'heading':
        return [this.heading(block)];
      case 'list':
        return this.list(block, 0);
      case 'table':
        return this.table(block);
      case 'pageBreak':
        return [new DocxParagraph({ children: [new PageBreak()] })];
      case 'signatures':
        return this.signatures(block);
    }
  }

  paragraph(paragraph: Paragraph, context: ParagraphContext = {}): DocxParagraph {
    const options: IParagraphOptions = {
      children: runs(paragraph.runs),
      ...alignment(context.align ?? paragraph.align),
      ...(context.style === undefined ? {} : { style: context.style }),
      ...(context.numbering === undefined ? {} : { numbering: context.numbering }),
      ...(context.indentLeft === undefined ? {} : { indent: { left: context.indentLeft } }),
    };
    return new DocxParagraph(options);
  }

  private heading(heading: Heading): DocxParagraph {
    return new DocxParagraph({
      heading: HEADING[heading.level],
      ...alignment(heading.align),
      children: runs(heading.runs),
    });
  }

  /**
   * Every list is its own numbering instance, so it restarts at its `start` rather than
   * carrying on from the previous list of the same style.
   */
  private list(list: List, level: number, align?: Alignment): DocxParagraph[] {
    const reference = this.definitionFor(list);
    const instance = ++this.listInstances;
    const textIndent = listIndent(level);
    return list.items.flatMap((item) =>
      item.blocks.flatMap((block, index) => {
        if (block.kind === 'list') {
          return this.list(block, Math.min(level + 1, LIST_LEVELS - 1), align);
        }
        // Only an item's first paragraph carries the marker; the rest line up with its text.
        return [
          this.paragraph(block, {
            style: STYLE.listParagraph,
            ...(align === undefined ? {} : { align }),
            ...(index === 0
              ? { numbering: { reference, level, instance } }
              : { indentLeft: textIndent }),
          }),
        ];
      }),
    );
  }

  private definitionFor(list: List): string {
    const start = Math.max(0, Math.trunc(list.start));
    const reference = `sigillo-${list.style}-${start}`;
    if (!this.definitions.has(reference)) {
      const { format, text } = LIST_FORMATS[list.style];
      const levels: ILevelsOptions[] = Array.from({ length: LIST_LEVELS }, (_, level) => ({
        level,
        format,
        text: text(level),
        start,
        alignment: AlignmentType.LEFT,
        style: {
          paragraph: { indent: { left: listIndent(level), hanging: LIST_HANGING } },
          ...(list.style === 'bullet' ? { run: { font: FONT } } : {}),
        },
      }));
      this.definitions.set(reference, { reference, levels });
    }
    return reference;
  }

  private table(table: Table): DocxTable[] {
    const allRows = table.header ? [table.header, ...table.rows] : table.rows;
    // Word reports a table without rows as damaged.
    if (allRows.length === 0) return [];
    // A row wider than columnWidths says gets extra columns rather than losing cells.
    const columns = Math.max(table.columnWidths.length, ...allRows.map((r) => r.cells.length));
    const fractions = Array.from(
      { length: columns },
      (_, index) => table.columnWidths[index] ?? 1 / columns,
    );
    const widths = columnWidths(fractions);
    const rows: DocxTableRow[] = [];
    if (table.header) {
      rows.push(this.row(table.header, widths, { header: true }));
    }
    for (const row of table.rows) rows.push(this.row(row, widths, { header: false }));
    return [
      new DocxTable({
        style: STYLE.table,
        // LibreOffice ignores the table style's cell margins, so each table repeats them.
        margins: {
          top: TABLE_CELL_PADDING,
          bottom: TABLE_CELL_PADDING,
          left: TABLE_CELL_SIDE_PADDING,
          right: TABLE_CELL_SIDE_PADDING,
        },
        rows,
        columnWidths: widths,
        width: { size: TEXT_WIDTH, type: WidthType.DXA },
        layout: TableLayoutType.FIXED,
        borders: tableBorders(table.borders),
      }),
    ];
  }

  private row(row: TableRow, widths: number[], { header }: { header: boolean }): DocxTableRow {
    return new DocxTableRow({
      ...(header ? { tableHeader: true } : {}),
      // Word cuts off a row it may not split that is taller than a page, so only rows
      // well short of one are kept whole.
      ...(header || estimatedRowHeight(row, widths) <= KEEP_ROW_MAX_HEIGHT
        ? { cantSplit: true }
        : {}),
      children: widths.map((width, index) =>
        this.cell(row.cells[index], width, header ? STYLE.tableHeading : STYLE.tableText),
      ),
    });
  }

  private cell(cell: TableCell | undefined, width: number, style: string): DocxTableCell {
    const children = (cell?.blocks ?? []).flatMap((block) => {
      if (block.kind === 'list') return this.list(block, 0);
      // A cell's own alignment stands for its paragraphs that did not ask for one.
      const align = block.align !== 'left' ? block.align : (cell?.align ?? 'left');
      return [this.paragraph(block, { style, align })];
    });
    return new DocxTableCell({
      width: { size: width, type: WidthType.DXA },
      // A clear pattern is a plain background in exactly the template's colour.
      ...(cell?.fill
        ? {
            shading: {
              fill: cell.fill.slice(1).toUpperCase(),
              type: ShadingType.CLEAR,
              color: 'auto',
            },
          }
        : {}),
      // Word refuses a cell without a paragraph.
      children: children.length > 0 ? children : [new DocxParagraph({ style })],
    });
  }

  /**
   * One column per signature, in rows (role, room to sign, name, note) so that names line
   * up even when one role wraps onto two lines. Every row but the last keeps with the next,
   * and no row splits, so the block never straddles a page.
   */
  private signatures(block: SignatureBlock): DocxTable[] {
    const signatures = block.signatures;
    if (signatures.length === 0) return [];
    const widths = columnWidths(signatures.map(() => 1 / signatures.length));
    const hasNote = signatures.some((s) => s.note !== undefined && s.note !== '');

    // The signature styles keep with the next paragraph; the block's last row lets go.
    const line = (text: string, style: string, last: boolean): DocxParagraph =>
      new DocxParagraph({
        style,
        ...(last ? { keepNext: false } : {}),
        children: text === '' ? [] : [new DocxTextRun(clean(text))],
      });
    const row = (cells: DocxParagraph[][]): DocxTableRow =>
      new DocxTableRow({
        cantSplit: true,
        children: cells.map(
          (children, index) =>
            new DocxTableCell({
              width: { size: widths[index] ?? 0, type: WidthType.DXA },
              children,
            }),
        ),
      });

    const rows = [
      row(signatures.map((s) => [line(s.role, STYLE.signature, false)])),
      row(signatures.map(() => Array.from({ length: 3 }, () => line('', STYLE.signature, false)))),
      row(signatures.map((s) => [line(s.name, STYLE.signature, !hasNote)])),
    ];
    if (hasNote) {
      rows.push(row(signatures.map((s) => [line(s.note ?? '', STYLE.signatureNote, true)])));
    }
    return [
      new DocxTable({
        rows,
        columnWidths: widths,
        width: { size: TEXT_WIDTH, type: WidthType.DXA },
        layout: TableLayoutType.FIXED,
        borders: tableBorders(false),
      }),
    ];
  }
}

/** Left is what every style says already, so only other alignments are written. */
function alignment(align: Alignment): Pick<IParagraphOptions, 'alignment'> {
  return align === 'left' ? {} : { alignment: ALIGNMENT[align] };
}

/** Points; about a third of the page's text height. */
const KEEP_ROW_MAX_HEIGHT = 220;

/** A rough height in points, from characters per line at an average glyph width. */
function estimatedRowHeight(row: TableRow, widths: number[]): number {
  const lineHeight = 14;
  const averageGlyph = 6;
  const cellPadding = 2 * TABLE_CELL_SIDE_PADDING;
  return Math.max(
    0,
    ...row.cells.map((cell, index) => {
      const perLine = Math.max(1, ((widths[index] ?? 0) - cellPadding) / 20 / averageGlyph);
      return blockLines(cell.blocks, perLine) * lineHeight;
    }),
  );
}

function blockLines(blocks: (Paragraph | List)[], perLine: number): number {
  return blocks.reduce(
    (lines, block) =>
      lines +
      (block.kind === 'list'
        ? block.items.reduce((sum, item) => sum + blockLines(item.blocks, perLine), 0)
        : inlineText(block.runs)
            .split('\n')
            .reduce((sum, line) => sum + Math.max(1, Math.ceil(line.length / perLine)), 0)),
    0,
  );
}

function listIndent(level: number): number {
  return LIST_MARKER_INDENT + level * LIST_INDENT_STEP + LIST_HANGING;
}

/** Fractions of the text width to whole DXA, the last column taking the rounding. */
function columnWidths(fractions: number[]): number[] {
  const given = fractions.length > 0 ? fractions : [1];
  // A missing or nonsensical fraction counts as an equal share.
  const usable = given.map((f) => (Number.isFinite(f) && f > 0 ? f : 1 / given.length));
  const total = usable.reduce((sum, f) => sum + f, 0);
  const widths = usable.map((f) => Math.round((f / total) * TEXT_WIDTH));
  widths[widths.length - 1] = TEXT_WIDTH - widths.slice(0, -1).reduce((sum, w) => sum + w, 0);
  return widths;
}

function runs(inlines: Inline[]): ParagraphChild[] {
  const children: ParagraphChild[] = [];
  for (const inline of inlines) {
    switch (inline.kind) {
      case 'text':
        children.push(
          new DocxTextRun({
            text: clean(inline.text),
            ...format(inline),
          }),
        );
        break;
      case 'lineBreak':
        children.push(new DocxTextRun({ break: 1 }));
        break;
      case 'pageNumber':
      case 'pageCount':
        children.push(
          new DocxTextRun({
            children: [inline.kind === 'pageNumber' ? PageNumber.CURRENT : PageNumber.TOTAL_PAGES],
            ...format(inline),
          }),
        );
        break;
    }
  }
  return children;
}

function format(style: { bold: boolean; italic: boolean; underline: boolean }): {
  bold?: true;
  italics?: true;
  underline?: Record<string, never>;
} {
  return {
    ...(style.bold ? { bold: true } : {}),
    ...(style.italic ? { italics: true } : {}),
    ...(style.underline ? { underline: {} } : {}),
  };
}

/**
 * Characters XML 1.0 cannot hold (C0 controls, lone surrogates, U+FFFE/U+FFFF) make Word
 * refuse the whole file, so they are dropped; a tab becomes a space since a bare tab in
 * `w:t` is not a Word tab.
 */
function clean(text: string): string {
  return text.replace(/\t/g, ' ').replace(
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '',
  );
}

function styles() {
  const run = { font: FONT, size: 24, language: { value: LANGUAGE } };
  const headingRun = { font: FONT, color: '000000', bold: true };
  const heading = (outlineLevel: number, before: number) => ({
    keepNext: true,
    keepLines: true,
    outlineLevel,
    spacing: { before, after: 120, line: LINE_SPACING, lineRule: LineRuleType.AUTO },
  });
  const compact = { spacing: { before: 0, after: 0, line: 240, lineRule: LineRuleType.AUTO } };

  return {
    default: {
      document: {
        run,
        paragraph: {
          spacing: { after: 120, line: LINE_SPACING, lineRule: LineRuleType.AUTO },
        },
      },
      heading1: {
        name: 'heading 1',
        run: { ...headingRun, size: 28 },
        paragraph: heading(0, 240),
      },
      heading2: {
        name: 'heading 2',
        run: { ...headingRun, size: 24 },
        paragraph: heading(1, 240),
      },
      heading3: {
        name: 'heading 3',
        run: { ...headingRun, size: 24, italics: true },
        paragraph: heading(2, 120),
      },
      listParagraph: {
        name: 'List Paragraph',
        paragraph: { spacing: { after: 60 } },
      },
    },
    paragraphStyles: [
      {
        id: STYLE.header,
        name: 'header',
        basedOn: 'Normal',
        uiPriority: 99,
        run: { size: 20 },
        paragraph: compact,
      },
      {
        id: STYLE.footer,
        name: 'footer',
        basedOn: 'Normal',
        uiPriority: 99,
        run: { size: 18 },
        paragraph: compact,
      },
      {
        id: STYLE.tableText,
        name: 'Sigillo Table Text',
        basedOn: 'Normal',
        quickFormat: true,
        paragraph: compact,
      },
      {
        id: STYLE.tableHeading,
        name: 'Sigillo Table Heading',
        basedOn: STYLE.tableText,
        quickFormat: true,
        run: { bold: true },
        paragraph: { keepNext: true },
      },
      {
        id: STYLE.signature,
        name: 'Sigillo Signature',
        basedOn: 'Normal',
        quickFormat: true,
        paragraph: { alignment: AlignmentType.CENTER, keepNext: true, keepLines: true, ...compact },
      },
      {
        id: STYLE.signatureNote,
        name: 'Sigillo Signature Note',
        basedOn: STYLE.signature,
        quickFormat: true,
        run: { italics: true, size: 20 },
      },
    ],
  };
}

/**
 * The docx library has no table-style option, so the style is written out; docx merges
 * these with its defaults. Its borders are the default look; each table still states its
 * own, since `borders` varies per table.
 */
const EXTRA_STYLES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml" mc:Ignorable="w14 w15">
<w:style w:type="table" w:styleId="${STYLE.table}">
<w:name w:val="Sigillo Table"/>
<w:basedOn w:val="TableNormal"/>
<w:uiPriority w:val="59"/>
<w:tblPr>
<w:tblBorders>
<w:top w:val="single" w:sz="4" w:space="0" w:color="000000"/>
<w:left w:val="single" w:sz="4" w:space="0" w:color="000000"/>
<w:bottom w:val="single" w:sz="4" w:space="0" w:color="000000"/>
<w:right w:val="single" w:sz="4" w:space="0" w:color="000000"/>
<w:insideH w:val="single" w:sz="4" w:space="0" w:color="000000"/>
<w:insideV w:val="single" w:sz="4" w:space="0" w:color="000000"/>
</w:tblBorders>
<w:tblCellMar>
<w:top w:w="${TABLE_CELL_PADDING}" w:type="dxa"/>
<w:left w:w="${TABLE_CELL_SIDE_PADDING}" w:type="dxa"/>
<w:bottom w:w="${TABLE_CELL_PADDING}" w:type="dxa"/>
<w:right w:w="${TABLE_CELL_SIDE_PADDING}" w:type="dxa"/>
</w:tblCellMar>
</w:tblPr>
</w:style>
</w:styles>`;

function xmlEscape(text: string): string {
  return clean(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** W3CDTF without milliseconds, as Word writes it. */
function w3cdtf(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function coreProperties({ metadata }: DocumentModel): string {
  const date = w3cdtf(metadata.date);
  const element = (name: string, value: string | undefined) =>
    value === undefined || value === '' ? '' : `<${name}>${xmlEscape(value)}</${name}>`;
  return [
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
    '<cp:coreProperties',
    ' xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"',
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"',
    ' xmlns:dcterms="http://purl.org/dc/terms/"',
    ' xmlns:dcmitype="http://purl.org/dc/dcmitype/"',
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
    element('dc:title', metadata.title),
    element('dc:subject', metadata.subject),
    element('dc:creator', metadata.author),
    element('cp:keywords', metadata.keywords.join(', ')),
    element('cp:lastModifiedBy', metadata.author),
    element('dc:language', metadata.language),
    '<cp:revision>1</cp:revision>',
    `<dcterms:created xsi:type="dcterms:W3CDTF">${date}</dcterms:created>`,
    `<dcterms:modified xsi:type="dcterms:W3CDTF">${date}</dcterms:modified>`,
    '</cp:coreProperties>',
  ].join('');
}

/**
 * The zip writer inside docx stamps every entry with the current local time. Rewrites the
 * DOS date and time of each entry (local header and central directory) to the document's
 * date in UTC; nothing else in the archive depends on them, CRCs included.
 */
function stampZipDates(zip: Buffer, date: Date): Buffer {
  const year = Math.min(2107, Math.max(1980, date.getUTCFullYear()));
  const dosDate =
    year === date.getUTCFullYear()
      ? ((year - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate()
      : ((year - 1980) << 9) | (1 << 5) | 1;
  const dosTime =
    year === date.getUTCFullYear()
      ? (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | (date.getUTCSeconds() >> 1)
      : 0;

  const end = findEndOfCentralDirectory(zip);
  const entries = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  for (let i = 0; i < entries; i++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error('DOCX: bad zip central directory');
    zip.writeUInt16LE(dosTime, offset + 12);
    zip.writeUInt16LE(dosDate, offset + 14);
    const local = zip.readUInt32LE(offset + 42);
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error('DOCX: bad zip local header');
    zip.writeUInt16LE(dosTime, local + 10);
    zip.writeUInt16LE(dosDate, local + 12);
    offset +=
      46 +
      zip.readUInt16LE(offset + 28) +
      zip.readUInt16LE(offset + 30) +
      zip.readUInt16LE(offset + 32);
  }
  return zip;
}

function findEndOfCentralDirectory(zip: Buffer): number {
  // The record is 22 bytes plus a comment of at most 64 KiB, so it is near the end.
  for (let offset = zip.length - 22; offset >= Math.max(0, zip.length - 22 - 0xffff); offset--) {
    if (zip.readUInt32LE(offset) === 0x06054b50) return offset;
  }
  throw new Error('DOCX: no zip end-of-central-directory record');
}
