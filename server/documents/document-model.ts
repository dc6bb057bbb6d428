/**
 * The one document model every template is parsed into and both renderers
 * (DOCX and PDF) draw from. It knows nothing of nunjucks, HTML, Word or PDF.
 */

export type Alignment = 'left' | 'center' | 'right' | 'justify';

export interface TextRun {
  kind: 'text';
  text: string;
  bold: boolean;
  italic: boolean;
  underline: boolean;
}

/** Forced line break inside a paragraph (`<br/>`). */
export interface LineBreak {
  kind: 'lineBreak';
}

/** Current page number / total pages; meaningful in the header and footer. */
export interface PageField {
  kind: 'pageNumber' | 'pageCount';
  bold: boolean;
  italic: boolean;
  underline: boolean;
}

export type Inline = TextRun | LineBreak | PageField;

export interface Paragraph {
  kind: 'paragraph';
  align: Alignment;
  runs: Inline[];
}

export interface Heading {
  kind: 'heading';
  /** 1 = document title, 2 = section (e.g. "DECRETA"), 3 = sub-section. */
  level: 1 | 2 | 3;
  align: Alignment;
  runs: Inline[];
}

export type ListStyle = 'bullet' | 'decimal' | 'lower-alpha' | 'upper-alpha' | 'lower-roman';

export interface ListItem {
  /** Paragraphs and nested lists, in order. The first block carries the item's marker. */
  blocks: (Paragraph | List)[];
}

export interface List {
  kind: 'list';
  style: ListStyle;
  /** First number of an ordered list (1 unless the template says otherwise). */
  start: number;
  items: ListItem[];
}

export interface TableCell {
  blocks: (Paragraph | List)[];
  align: Alignment;
  /** Background colour as `#rrggbb` (lower case), e.g. the level of a cell in a risk map. */
  fill?: string;
}

export interface TableRow {
  cells: TableCell[];
}

export interface Table {
  kind: 'table';
  /** Relative column widths, summing to 1; one per column. */
  columnWidths: number[];
  /** Repeated at the top of every page the table spans. */
  header?: TableRow;
  rows: TableRow[];
  borders: boolean;
}

export interface PageBreak {
  kind: 'pageBreak';
}

export interface Signature {
  /** Stable identifier a signature field can later be placed on, e.g. `sindaco`. */
  id: string;
  /** e.g. "Il Sindaco", "Per accettazione, il Designato". */
  role: string;
  name: string;
  /** Optional line under the name, e.g. "firmato digitalmente". */
  note?: string;
}

/** Signatures side by side, each with room above its name for a signature. */
export interface SignatureBlock {
  kind: 'signatures';
  signatures: Signature[];
}

export type Block = Paragraph | Heading | List | Table | PageBreak | SignatureBlock;

export interface DocumentMetadata {
  title: string;
  /** The ente issuing the document. */
  author: string;
  subject?: string;
  keywords: string[];
  language: 'it-IT';
  /**
   * The document's own date. Renderers use it for every date inside the files
   * (creation, modification) so that the same input gives the same bytes.
   */
  date: Date;
}

/** A raster image as both renderers embed it; bytes stay a Uint8Array so the model structured-clones to workers. */
export interface ImageData {
  bytes: Uint8Array;
  contentType: 'image/png' | 'image/jpeg';
  widthPx: number;
  heightPx: number;
}

/**
 * The ente's logo, centred above the letterhead text on every page. The parser
 * records only that the template asks for it; the pipeline adds the image. A
 * logo without image (the ente has none) is simply not drawn.
 */
export interface HeaderLogo {
  heightMm: number;
  image?: ImageData;
}

export interface DocumentModel {
  metadata: DocumentMetadata;
  /** Letterhead at the top of every page. */
  header: Paragraph[];
  headerLogo?: HeaderLogo;
  /** Footer at the bottom of every page, usually with "pagina N di M". */
  footer: Paragraph[];
  body: Block[];
}

/**
 * The size both renderers draw the logo at: the template's height, the width
 * by aspect ratio, both shrunk if that would be wider than `maxWidthMm`.
 */
export function logoSizeMm(
  heightMm: number,
  image: Pick<ImageData, 'widthPx' | 'heightPx'>,
  maxWidthMm: number,
): { widthMm: number; heightMm: number } {
  const widthMm = (heightMm * image.widthPx) / image.heightPx;
  const scale = widthMm > maxWidthMm ? maxWidthMm / widthMm : 1;
  return { widthMm: widthMm * scale, heightMm: heightMm * scale };
}

/** Inlines to plain text, for tests and search. */
export function inlineText(runs: Inline[]): string {
  return runs
    .map((run) => {
      switch (run.kind) {
        case 'text':
          return run.text;
        case 'lineBreak':
          return '\n';
        case 'pageNumber':
          return '#';
        case 'pageCount':
          return '#';
      }
    })
    .join('');
}
