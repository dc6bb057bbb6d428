/**
 * Layout engine of the PDF renderer: measures text with the DejaVu Serif
 * metrics, breaks and justifies lines, and paginates the document model into
 * positioned drawing operations. It knows nothing of pdf-lib; render-pdf.ts
 * turns the operations into content streams.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fontkit from '@pdf-lib/fontkit';
import type { Font } from '@pdf-lib/fontkit';
import {
  logoSizeMm,
  type Alignment,
  type Block,
  type DocumentModel,
  type Inline,
  type List,
  type ListStyle,
  type PageField,
  type Paragraph,
  type SignatureBlock,
  type Table,
  type TableRow,
} from './document-model.js';

/* ================================= Fonts ================================== */

export type FontStyle = 'regular' | 'bold' | 'italic' | 'boldItalic';

/** Fixed order, so that fonts are embedded in the same order on every run. */
export const FONT_STYLES: readonly FontStyle[] = ['regular', 'bold', 'italic', 'boldItalic'];

const FONT_FILES: Record<FontStyle, string> = {
  regular: 'DejaVuSerif.ttf',
  bold: 'DejaVuSerif-Bold.ttf',
  italic: 'DejaVuSerif-Italic.ttf',
  boldItalic: 'DejaVuSerif-BoldItalic.ttf',
};

const MISSING = -1;

/** One parsed font with cached advance widths; shared by every render of the process. */
export class MeasuredFont {
  readonly postscriptName: string;
  /** Fractions of the font size; descent is positive. */
  readonly ascent: number;
  readonly descent: number;
  /** Centre of the underline below the baseline, as a fraction of the font size. */
  readonly underlineOffset: number;
  readonly underlineThickness: number;
  private readonly unitsPerEm: number;
  // A flat array is several times faster than a Map on the per-character hot path.
  private readonly bmpAdvances = new Float64Array(0x10000).fill(Number.NaN);
  private readonly astralAdvances = new Map<number, number>();
  private readonly replacement: string;

  constructor(
    readonly style: FontStyle,
    readonly bytes: Uint8Array,
    readonly font: Font,
  ) {
    this.postscriptName = font.postscriptName ?? `DejaVuSerif-${style}`;
    this.unitsPerEm = font.unitsPerEm;
    this.ascent = font.ascent / font.unitsPerEm;
    this.descent = Math.abs(font.descent) / font.unitsPerEm;
    this.underlineOffset = -font.underlinePosition / font.unitsPerEm;
    this.underlineThickness = font.underlineThickness / font.unitsPerEm;
    this.replacement = font.hasGlyphForCodePoint(0xfffd) ? '\ufffd' : '?';
    // Filled once per process, so that no render pays for fontkit's glyph
    // lookups. (render-pdf.ts writes the ToUnicode maps from the characters
    // drawn, so fontkit's per-glyph code points no longer matter.)
    for (const codePoint of [...font.characterSet].sort((a, b) => a - b)) {
      const glyph = font.glyphForCodePoint(codePoint);
      if (glyph.id === 0) continue;
      if (codePoint < 0x10000) this.bmpAdvances[codePoint] = glyph.advanceWidth;
      else this.astralAdvances.set(codePoint, glyph.advanceWidth);
    }
  }

  /** Advance width in font units, or MISSING when the font has no glyph. */
  private advance(codePoint: number): number {
    if (codePoint < 0x10000) {
      let advance = this.bmpAdvances[codePoint] as number;
      if (Number.isNaN(advance)) {
        advance = this.lookup(codePoint);
        this.bmpAdvances[codePoint] = advance;
      }
      return advance;
    }
    let advance = this.astralAdvances.get(codePoint);
    if (advance === undefined) {
      advance = this.lookup(codePoint);
      this.astralAdvances.set(codePoint, advance);
    }
    return advance;
  }

  private lookup(codePoint: number): number {
    return this.font.hasGlyphForCodePoint(codePoint)
      ? this.font.glyphForCodePoint(codePoint).advanceWidth
      : MISSING;
  }

  /**
   * Sum of the glyphs' advance widths, without kerning: pdf-lib writes no
   * positioning adjustments, so the viewer advances by exactly these widths.
   */
  width(text: string, size: number): number {
    let units = 0;
    for (let i = 0; i < text.length; i++) {
      let codePoint = text.charCodeAt(i);
      if (codePoint >= 0xd800 && codePoint < 0xdc00 && i + 1 < text.length) {
        codePoint = text.codePointAt(i) as number;
        i++;
      }
      const advance = this.advance(codePoint);
      if (advance > 0) units += advance;
    }
    return (units * size) / this.unitsPerEm;
  }

  /**
   * Text as it will be drawn: NFC (so accents are single glyphs), no control
   * or invisible formatting characters, and a visible replacement for
   * characters the font lacks instead of an invisible .notdef.
   */
  prepare(text: string): string {
    const cleaned = text
      .normalize('NFC')
      .replace(/[\t\n\v\f\r\u2028\u2029]/g, ' ')
      // Control characters are exactly what this pattern is meant to remove.
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2060\ufeff]/g, '');
    // Text is nearly always all drawable: check first, and only then build a copy.
    for (let i = 0; i < cleaned.length; i++) {
      const code = cleaned.codePointAt(i) as number;
      if (code > 0xffff) i++;
      if (this.advance(code) === MISSING) return this.replaceMissing(cleaned);
    }
    return cleaned;
  }

  private replaceMissing(text: string): string {
    let result = '';
    for (const char of text) {
      result += this.advance(char.codePointAt(0) as number) === MISSING ? this.replacement : char;
    }
    return result;
  }
}

export type FontSet = Record<FontStyle, MeasuredFont>;

let fontSet: FontSet | undefined;

/** The four DejaVu Serif faces, read and parsed once per process. */
export function serifFonts(): FontSet {
  if (!fontSet) {
    const require = createRequire(import.meta.url);
    const load = (style: FontStyle): MeasuredFont => {
      const bytes = readFileSync(require.resolve(`dejavu-fonts-ttf/ttf/${FONT_FILES[style]}`));
      return new MeasuredFont(style, bytes, fontkit.create(bytes));
    };
    fontSet = {
      regular: load('regular'),
      bold: load('bold'),
      italic: load('italic'),
      boldItalic: load('boldItalic'),
    };
  }
  return fontSet;
}

function fontStyle(bold: boolean, italic: boolean): FontStyle {
  if (bold) return italic ? 'boldItalic' : 'bold';
  return italic ? 'italic' : 'regular';
}

/* ============================ Drawing operations =========================== */

/**
 * Inside a layout unit, `y` is measured downwards from the unit's top edge; once
 * paginated it is a PDF user-space coordinate (origin at the bottom left).
 * Text `y` is the baseline, rectangle and signature `y` the top (in a unit) or
 * the bottom (on a page) edge.
 */
export interface TextOp {
  kind: 'text';
  x: number;
  y: number;
  style: FontStyle;
  size: number;
  text: string;
  /** Extra space after every U+0020 of `text`, for justified lines. */
  wordSpacing: number;
  /** Body page fields are resolved only once the page is known. */
  field?: PageField['kind'];
}

/** A colour by its red, green and blue components, each from 0 to 1. */
export interface RgbColor {
  red: number;
  green: number;
  blue: number;
}

export interface RectOp {
  kind: 'rect';
  x: number;
  y: number;
  width: number;
  height: number;
  /**
   * Grey level (0 = black) or colour to fill with; without it the outline is
   * stroked. The rules and header rows stay grey levels, so they keep their bytes.
   */
  fill?: number | RgbColor;
  lineWidth?: number;
}

export interface SignatureOp {
  kind: 'signature';
  id: string;
  /** The role and name printed around the space, shown again in the signature's appearance. */
  role: string;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The letterhead logo; the renderer embeds the model's image once and draws it here. */
export interface ImageOp {
  kind: 'image';
  x: number;
  y: number;
  width: number;
  height: number;
}

export type DrawOp = TextOp | RectOp | SignatureOp;

/** Where a signature of the model was laid out, in PDF points (origin bottom left). */
export interface SignatureArea {
  id: string;
  role: string;
  name: string;
  /** 0-based page index. */
  page: number;
  /** Bottom-left corner, PDF user space. */
  x: number;
  y: number;
  width: number;
  height: number;
}

/* ================================ Geometry ================================= */

const MM = 72 / 25.4;
export const PAGE_WIDTH = 595.28;
export const PAGE_HEIGHT = 841.89;
const MARGIN_TOP = 25 * MM;
const MARGIN_BOTTOM = 25 * MM;
const MARGIN_X = 20 * MM;
/** Letterhead and footer sit in the top and bottom margins, this far from the edge. */
const HEADER_EDGE = 12 * MM;
const FOOTER_EDGE = 12 * MM;
const HEADER_GAP = 5 * MM;
/** Between the logo and the letterhead text under it. */
const LOGO_GAP = 2 * MM;
const FOOTER_GAP = 4 * MM;
const MIN_BODY_HEIGHT = 80 * MM;
const SIGNATURE_SPACE = 20 * MM;
const EPSILON = 0.01;

interface TextStyle {
  size: number;
  lineHeight: number;
  bold: boolean;
  italic: boolean;
}

function textStyle(size: number, leading: number, bold = false, italic = false): TextStyle {
  return { size, lineHeight: size * leading, bold, italic };
}

const BODY = textStyle(11, 1.4);
const HEADINGS: Record<1 | 2 | 3, TextStyle> = {
  1: textStyle(14, 1.3, true),
  2: textStyle(12.5, 1.3, true),
  3: textStyle(11.5, 1.3, true, true),
};
const HEADING_SPACE: Record<1 | 2 | 3, number> = { 1: 6, 2: 12, 3: 10 };
const TABLE_TEXT = textStyle(10, 1.3);
const HEADER_TEXT = textStyle(10, 1.3);
const FOOTER_TEXT = textStyle(8.5, 1.3);
const NOTE_TEXT = textStyle(9, 1.3, false, true);
const PARAGRAPH_SPACE = 6;
const ITEM_SPACE = 3;
const TABLE_SPACE = 9;
const SIGNATURES_SPACE = 24;
const CELL_PAD_X = 4;
const CELL_PAD_Y = 3;
const HEADER_FILL = 0.88;
const BORDER_WIDTH = 0.5;

interface Frame {
  x: number;
  width: number;
}

/* ============================== Inline layout ============================== */

type FieldValues =
  { kind: 'deferred'; digits: number } | { kind: 'known'; pageNumber: number; pageCount: number };

interface LayoutContext {
  fonts: FontSet;
  fields: FieldValues;
}

interface Fragment {
  text: string;
  style: FontStyle;
  underline: boolean;
  width: number;
  field?: PageField['kind'];
}

interface WordToken {
  kind: 'word';
  fragments: Fragment[];
  width: number;
}

interface SpaceToken {
  kind: 'space';
  style: FontStyle;
  underline: boolean;
  width: number;
}

type Token = WordToken | SpaceToken | { kind: 'break' };

/**
 * Builds the tokens of one paragraph. A class rather than closures: the
 * service runs under tsx, whose esbuild wraps every named closure in a
 * __name() call costing a property definition each time it is created, and
 * these ran once per paragraph.
 */
class Tokenizer {
  readonly tokens: Token[] = [];
  private fragments: Fragment[] = [];
  private width = 0;

  constructor(
    private readonly fonts: FontSet,
    private readonly size: number,
  ) {}

  flush(): void {
    if (this.fragments.length === 0) return;
    this.tokens.push({ kind: 'word', fragments: this.fragments, width: this.width });
    this.fragments = [];
    this.width = 0;
  }

  text(text: string, fs: FontStyle, underline: boolean, field?: PageField['kind']): void {
    const w = this.fonts[fs].width(text, this.size);
    const last = this.fragments[this.fragments.length - 1];
    if (last && !field && !last.field && last.style === fs && last.underline === underline) {
      last.text += text;
      last.width += w;
    } else {
      this.fragments.push(
        field
          ? { text, style: fs, underline, width: w, field }
          : { text, style: fs, underline, width: w },
      );
    }
    this.width += w;
  }

  space(fs: FontStyle, underline: boolean): void {
    this.flush();
    // Spaces collapse, and vanish at the start of a line, as in HTML.
    if (this.tokens[this.tokens.length - 1]?.kind !== 'word') return;
    this.tokens.push({
      kind: 'space',
      style: fs,
      underline,
      width: this.fonts[fs].width(' ', this.size),
    });
  }
}

/** Runs to words, collapsible spaces and forced breaks; a word may mix styles ("Rossi,"). */
function tokenize(runs: Inline[], style: TextStyle, ctx: LayoutContext): Token[] {
  const tokenizer = new Tokenizer(ctx.fonts, style.size);
  for (const run of runs) {
    if (run.kind === 'lineBreak') {
      tokenizer.flush();
      tokenizer.tokens.push({ kind: 'break' });
      continue;
    }
    const fs = fontStyle(style.bold || run.bold, style.italic || run.italic);
    if (run.kind === 'text') {
      const parts = ctx.fonts[fs].prepare(run.text).split(' ');
      for (let index = 0; index < parts.length; index++) {
        if (index > 0) tokenizer.space(fs, run.underline);
        const part = parts[index] as string;
        if (part) tokenizer.text(part, fs, run.underline);
      }
    } else if (ctx.fields.kind === 'known') {
      const value = run.kind === 'pageNumber' ? ctx.fields.pageNumber : ctx.fields.pageCount;
      tokenizer.text(String(value), fs, run.underline);
    } else {
      // DejaVu digits share one advance width, so zeros reserve the exact room.
      tokenizer.text('0'.repeat(ctx.fields.digits), fs, run.underline, run.kind);
    }
  }
  tokenizer.flush();
  return tokenizer.tokens;
}

interface Line {
  items: (WordToken | SpaceToken)[];
  width: number;
  spaces: number;
  /** Ended by `<br/>` or the end of the paragraph: never justified. */
  final: boolean;
}

/** Greedy line breaking on spaces (a class for the reason given at Tokenizer). */
class LineBreaker {
  readonly lines: Line[] = [];
  private items: Line['items'] = [];
  private width = 0;
  private spaces = 0;
  private pending: SpaceToken | undefined;

  constructor(
    private readonly maxWidth: number,
    private readonly fonts: FontSet,
    private readonly size: number,
  ) {}

  get empty(): boolean {
    return this.items.length === 0;
  }

  space(token: SpaceToken): void {
    if (this.items.length > 0) this.pending = token;
  }

  finish(final: boolean): void {
    this.lines.push({ items: this.items, width: this.width, spaces: this.spaces, final });
    this.items = [];
    this.width = 0;
    this.spaces = 0;
    this.pending = undefined;
  }

  place(word: WordToken): void {
    if (this.items.length > 0) {
      const space = this.pending?.width ?? 0;
      if (this.width + space + word.width <= this.maxWidth + EPSILON) {
        if (this.pending) {
          this.items.push(this.pending);
          this.spaces++;
        }
        this.items.push(word);
        this.width += space + word.width;
        this.pending = undefined;
        return;
      }
      this.finish(false);
    }
    if (word.width <= this.maxWidth + EPSILON) {
      this.items.push(word);
      this.width = word.width;
      return;
    }
    const pieces = splitWord(word, this.maxWidth, this.fonts, this.size);
    pieces.forEach((piece, index) => {
      this.items.push(piece);
      this.width = piece.width;
      if (index < pieces.length - 1) this.finish(false);
    });
  }
}

/** Words wider than a line are cut between characters. */
function breakLines(tokens: Token[], maxWidth: number, fonts: FontSet, size: number): Line[] {
  const breaker = new LineBreaker(maxWidth, fonts, size);
  for (const token of tokens) {
    if (token.kind === 'space') breaker.space(token);
    else if (token.kind === 'break') breaker.finish(true);
    else breaker.place(token);
  }
  // A trailing <br/> already finished the last line; like HTML, it adds no empty one.
  if (!breaker.empty || breaker.lines.length === 0) breaker.finish(true);
  return breaker.lines;
}

function splitWord(word: WordToken, maxWidth: number, fonts: FontSet, size: number): WordToken[] {
  const pieces: WordToken[] = [];
  let current: WordToken = { kind: 'word', fragments: [], width: 0 };
  const append = (fragment: Fragment) => {
    if (current.width > 0 && current.width + fragment.width > maxWidth + EPSILON) {
      pieces.push(current);
      current = { kind: 'word', fragments: [], width: 0 };
    }
    const last = current.fragments[current.fragments.length - 1];
    if (
      last &&
      !last.field &&
      !fragment.field &&
      last.style === fragment.style &&
      last.underline === fragment.underline
    ) {
      last.text += fragment.text;
      last.width += fragment.width;
    } else {
      current.fragments.push({ ...fragment });
    }
    current.width += fragment.width;
  };
  for (const fragment of word.fragments) {
    if (fragment.field) {
      append(fragment);
      continue;
    }
    for (const char of fragment.text) {
      append({ ...fragment, text: char, width: fonts[fragment.style].width(char, size) });
    }
  }
  if (current.fragments.length > 0) pieces.push(current);
  return pieces;
}

/** Baseline below the top of a line box, with the glyph extent centred in the leading. */
function baselineOffset(style: TextStyle, font: MeasuredFont): number {
  const extent = (font.ascent + font.descent) * style.size;
  return (style.lineHeight - extent) / 2 + font.ascent * style.size;
}

/**
 * One text operation per run of same-styled words and spaces. Justified lines
 * keep real space glyphs (text extraction reads words) and widen each of them
 * by `wordSpacing`, which the renderer writes as TJ adjustments: the Tw
 * operator would do nothing for these two-byte Identity-H fonts.
 */
function lineOps(
  line: Line,
  frame: Frame,
  align: Alignment,
  baseline: number,
  size: number,
  fonts: FontSet,
): DrawOp[] {
  const justify = align === 'justify' && !line.final && line.spaces > 0;
  const slack = Math.max(0, frame.width - line.width);
  const wordSpacing = justify ? slack / line.spaces : 0;
  let x = frame.x;
  if (align === 'center') x += slack / 2;
  else if (align === 'right') x += slack;
  const writer = new RunWriter(x, baseline, size, wordSpacing, fonts);
  for (const item of line.items) {
    if (item.kind === 'space') {
      writer.add(' ', item.style, item.underline, item.width + wordSpacing);
    } else {
      for (const fragment of item.fragments) {
        writer.add(
          fragment.text,
          fragment.style,
          fragment.underline,
          fragment.width,
          fragment.field,
        );
      }
    }
  }
  writer.close();
  return writer.ops;
}

/** Joins a line's pieces into runs of one style (a class for the reason given at Tokenizer). */
class RunWriter {
  readonly ops: DrawOp[] = [];
  private run: TextOp | undefined;
  private runUnderline = false;
  private runStart = 0;

  constructor(
    private x: number,
    private readonly baseline: number,
    private readonly size: number,
    private readonly wordSpacing: number,
    private readonly fonts: FontSet,
  ) {}

  close(): void {
    const run = this.run;
    if (!run) return;
    this.ops.push(run);
    if (this.runUnderline) {
      const font = this.fonts[run.style];
      const thickness = font.underlineThickness * this.size;
      this.ops.push({
        kind: 'rect',
        x: this.runStart,
        y: this.baseline + font.underlineOffset * this.size - thickness / 2,
        width: this.x - this.runStart,
        height: thickness,
        fill: 0,
      });
    }
    this.run = undefined;
  }

  add(
    text: string,
    style: FontStyle,
    underline: boolean,
    advance: number,
    field?: PageField['kind'],
  ): void {
    let run = this.run;
    if (!run || field || run.field || run.style !== style || this.runUnderline !== underline) {
      this.close();
      run = {
        kind: 'text',
        x: this.x,
        y: this.baseline,
        style,
        size: this.size,
        text: '',
        wordSpacing: this.wordSpacing,
      };
      if (field) run.field = field;
      this.run = run;
      this.runUnderline = underline;
      this.runStart = this.x;
    }
    run.text += text;
    this.x += advance;
  }
}

/* ============================== Block layout =============================== */

/**
 * An indivisible vertical slice of the document: a line, a table row, a
 * signature block. Page breaks fall only between units.
 */
interface Unit {
  height: number;
  /** Dropped at the top of a page. */
  spaceBefore: number;
  ops: DrawOp[];
  /** Must share its page with the next unit (headings, widows and orphans, table headers). */
  keepWithNext: boolean;
  pageBreak?: true;
  /** Table header row to repeat when this row opens a page. */
  repeatHeader?: Unit;
  /** Splits a unit taller than a page: the part fitting `height`, and the rest. */
  split?: (height: number) => [Unit, Unit] | null;
}

interface Marker {
  text: string;
  rightX: number;
}

interface BlockOptions {
  text: TextStyle;
  /** Space before every block but the first. */
  spacing: number;
  firstSpacing: number;
  /** List markers to draw on the first line. */
  markers?: Marker[];
  /** Cell alignment overriding the paragraphs'. */
  align?: Alignment;
  /** Widow and orphan control (off in table cells, where rows stay whole). */
  keepLines: boolean;
}

function layoutBlocks(
  blocks: readonly Block[],
  frame: Frame,
  ctx: LayoutContext,
  options: BlockOptions,
): Unit[] {
  const units: Unit[] = [];
  blocks.forEach((block, index) => {
    const first = index === 0;
    const spacing = first ? options.firstSpacing : options.spacing;
    const markers = first ? options.markers : undefined;
    switch (block.kind) {
      case 'paragraph':
        units.push(
          ...layoutParagraph(block.runs, options.align ?? block.align, options.text, frame, ctx, {
            spaceBefore: spacing,
            markers,
            keep: options.keepLines ? 'lines' : 'none',
          }),
        );
        break;
      case 'heading':
        units.push(
          ...layoutParagraph(block.runs, block.align, HEADINGS[block.level], frame, ctx, {
            spaceBefore: first ? spacing : HEADING_SPACE[block.level],
            markers,
            keep: 'all',
          }),
        );
        break;
      case 'list':
        units.push(
          ...layoutList(block, frame, ctx, { ...options, firstSpacing: spacing, markers }),
        );
        break;
      case 'table':
        units.push(...layoutTable(block, frame, ctx, first ? spacing : TABLE_SPACE));
        break;
      case 'pageBreak':
        units.push({ height: 0, spaceBefore: 0, ops: [], keepWithNext: false, pageBreak: true });
        break;
      case 'signatures': {
        // A signature page must carry some of the act: the lines before the
        // signatures ("Letto, approvato e sottoscritto") go along with them.
        const previous = units[units.length - 1];
        if (previous && !previous.pageBreak) previous.keepWithNext = true;
        units.push(...layoutSignatures(block, frame, ctx, first ? spacing : SIGNATURES_SPACE));
        break;
      }
    }
  });
  return units;
}

function layoutParagraph(
  runs: Inline[],
  align: Alignment,
  style: TextStyle,
  frame: Frame,
  ctx: LayoutContext,
  options: { spaceBefore: number; markers: Marker[] | undefined; keep: 'none' | 'lines' | 'all' },
): Unit[] {
  const tokens = tokenize(runs, style, ctx);
  const lines = breakLines(tokens, frame.width, ctx.fonts, style.size);
  const regular = ctx.fonts[fontStyle(style.bold, style.italic)];
  const baseline = baselineOffset(style, regular);
  const last = lines.length - 1;
  return lines.map((line, index) => {
    const ops: DrawOp[] = [];
    if (index === 0) {
      // Markers first, so that extracted text reads "1. di designare…".
      for (const marker of options.markers ?? []) {
        const text = regular.prepare(marker.text);
        ops.push({
          kind: 'text',
          x: marker.rightX - regular.width(text, style.size),
          y: baseline,
          style: regular.style,
          size: style.size,
          text,
          wordSpacing: 0,
        });
      }
    }
    ops.push(...lineOps(line, frame, align, baseline, style.size, ctx.fonts));
    // Keeping the first line with the second and the second-to-last with the
    // last leaves no single line of a paragraph alone at a page edge.
    const keepWithNext =
      options.keep === 'all'
        ? true
        : options.keep === 'lines' && last > 0 && (index === 0 || index === last - 1);
    return {
      height: style.lineHeight,
      spaceBefore: index === 0 ? options.spaceBefore : 0,
      ops,
      keepWithNext,
    };
  });
}

const ROMAN: [number, string][] = [
  [1000, 'm'],
  [900, 'cm'],
  [500, 'd'],
  [400, 'cd'],
  [100, 'c'],
  [90, 'xc'],
  [50, 'l'],
  [40, 'xl'],
  [10, 'x'],
  [9, 'ix'],
  [5, 'v'],
  [4, 'iv'],
  [1, 'i'],
];

function alphabetic(n: number): string {
  let result = '';
  for (let rest = n; rest > 0; rest = Math.floor((rest - 1) / 26)) {
    result = String.fromCharCode(97 + ((rest - 1) % 26)) + result;
  }
  return result;
}

/** "1." / "a)" / "A)" / "i)" / "•"; numbers no letter system can write fall back to digits. */
export function listMarker(style: ListStyle, n: number): string {
  switch (style) {
    case 'bullet':
      return '•';
    case 'decimal':
      return `${n}.`;
    case 'lower-alpha':
      return n > 0 ? `${alphabetic(n)})` : `${n})`;
    case 'upper-alpha':
      return n > 0 ? `${alphabetic(n).toUpperCase()})` : `${n})`;
    case 'lower-roman': {
      if (n <= 0 || n >= 4000) return `${n})`;
      let rest = n;
      let result = '';
      for (const [value, numeral] of ROMAN) {
        while (rest >= value) {
          result += numeral;
          rest -= value;
        }
      }
      return `${result})`;
    }
  }
}

/** Markers hang in an indent as wide as the widest of the list, so wrapped lines align with the text. */
function layoutList(list: List, frame: Frame, ctx: LayoutContext, options: BlockOptions): Unit[] {
  const style = options.text;
  const font = ctx.fonts[fontStyle(style.bold, style.italic)];
  const markers = list.items.map((_, index) => listMarker(list.style, list.start + index));
  const gap = style.size * 0.5;
  let markerWidth = 0;
  for (const marker of markers)
    markerWidth = Math.max(markerWidth, font.width(font.prepare(marker), style.size));
  const indent = Math.min(Math.max(style.size * 1.6, markerWidth + gap), frame.width / 2);
  const content: Frame = { x: frame.x + indent, width: frame.width - indent };

  const units: Unit[] = [];
  list.items.forEach((item, index) => {
    const own: Marker = { text: markers[index] as string, rightX: content.x - gap };
    const itemMarkers = index === 0 ? [...(options.markers ?? []), own] : [own];
    const spaceBefore = index === 0 ? options.firstSpacing : ITEM_SPACE;
    const blocks =
      item.blocks.length > 0
        ? item.blocks
        : [{ kind: 'paragraph', align: 'left', runs: [] } satisfies Paragraph];
    units.push(
      ...layoutBlocks(blocks, content, ctx, {
        ...options,
        spacing: ITEM_SPACE,
        firstSpacing: spaceBefore,
        markers: itemMarkers,
      }),
    );
  });
  return units;
}

interface CellItem {
  top: number;
  unit: Unit;
}

/** Stacks units from 0; the first unit's space before is dropped, as at a page top. */
function stack(units: Unit[]): CellItem[] {
  const items: CellItem[] = [];
  let y = 0;
  units.forEach((unit, index) => {
    if (index > 0) y += unit.spaceBefore;
    items.push({ top: y, unit });
    y += unit.height;
  });
  return items;
}

function stackHeight(items: CellItem[]): number {
  const last = items[items.length - 1];
  return last ? last.top + last.unit.height : 0;
}

function translate(ops: DrawOp[], dy: number, into: DrawOp[]): void {
  for (const op of ops) into.push({ ...op, y: op.y + dy });
}

/** `#rrggbb`, as the markup checked it, to PDF colour components. */
function rgbFromHex(hex: string): RgbColor {
  const component = (start: number) => Number.parseInt(hex.slice(start, start + 2), 16) / 255;
  return { red: component(1), green: component(3), blue: component(5) };
}

function layoutTable(table: Table, frame: Frame, ctx: LayoutContext, spaceBefore: number): Unit[] {
  const rows = table.header ? [table.header, ...table.rows] : table.rows;
  const columns = Math.max(table.columnWidths.length, ...rows.map((row) => row.cells.length));
  if (columns === 0) return [];
  const declared = table.columnWidths.reduce((sum, width) => sum + Math.max(0, width), 0);
  // Widths that do not describe every column are ignored rather than guessed at.
  const fractions =
    table.columnWidths.length === columns && declared > 0
      ? table.columnWidths.map((width) => Math.max(0, width) / declared)
      : Array.from({ length: columns }, () => 1 / columns);
  const widths = fractions.map((fraction) => fraction * frame.width);
  const lefts: number[] = [];
  widths.reduce((x, width) => (lefts.push(x), x + width), frame.x);

  const makeRow = (
    cells: CellItem[][],
    fills: (RgbColor | undefined)[],
    header: boolean,
    repeatHeader: Unit | undefined,
  ): Unit => {
    const content = Math.max(TABLE_TEXT.lineHeight, ...cells.map(stackHeight));
    const height = content + 2 * CELL_PAD_Y;
    const ops: DrawOp[] = [];
    if (header)
      ops.push({ kind: 'rect', x: frame.x, y: 0, width: frame.width, height, fill: HEADER_FILL });
    // Backgrounds first: the text and the borders are drawn over them.
    fills.forEach((fill, column) => {
      if (!fill) return;
      ops.push({
        kind: 'rect',
        x: lefts[column] as number,
        y: 0,
        width: widths[column] as number,
        height,
        fill,
      });
    });
    cells.forEach((items) => {
      for (const item of items) translate(item.unit.ops, item.top + CELL_PAD_Y, ops);
    });
    if (table.borders) {
      widths.forEach((width, column) => {
        ops.push({
          kind: 'rect',
          x: lefts[column] as number,
          y: 0,
          width,
          height,
          lineWidth: BORDER_WIDTH,
        });
      });
    }
    const unit: Unit = { height, spaceBefore: 0, ops, keepWithNext: false };
    if (repeatHeader) unit.repeatHeader = repeatHeader;
    unit.split = (available) => {
      const room = available - 2 * CELL_PAD_Y;
      const first = cells.map((items) => {
        let count = 0;
        while (
          count < items.length &&
          (items[count] as CellItem).top + (items[count] as CellItem).unit.height <= room + EPSILON
        )
          count++;
        return count;
      });
      const progress = first.some((count) => count > 0);
      const rest = first.some((count, column) => count < (cells[column] as CellItem[]).length);
      if (!progress || !rest) return null;
      const head = cells.map((items, column) => items.slice(0, first[column]));
      const tail = cells.map((items, column) => {
        const remaining = items.slice(first[column]);
        const offset = remaining[0]?.top ?? 0;
        return remaining.map((item) => ({ top: item.top - offset, unit: item.unit }));
      });
      // A row split across pages keeps its backgrounds on both parts.
      return [
        makeRow(head, fills, header, repeatHeader),
        makeRow(tail, fills, header, repeatHeader),
      ];
    };
    return unit;
  };

  const rowUnit = (row: TableRow, header: boolean, repeatHeader: Unit | undefined): Unit => {
    const cells = widths.map((width, column) => {
      const cell = row.cells[column];
      if (!cell) return [];
      const units = layoutBlocks(
        cell.blocks,
        { x: (lefts[column] as number) + CELL_PAD_X, width: Math.max(width - 2 * CELL_PAD_X, 1) },
        ctx,
        {
          text: header ? { ...TABLE_TEXT, bold: true } : TABLE_TEXT,
          spacing: ITEM_SPACE,
          firstSpacing: 0,
          ...(cell.align !== 'left' ? { align: cell.align } : {}),
          keepLines: false,
        },
      );
      return stack(units);
    });
    const fills = widths.map((_, column) => {
      const fill = row.cells[column]?.fill;
      return fill === undefined ? undefined : rgbFromHex(fill);
    });
    return makeRow(cells, fills, header, repeatHeader);
  };

  const header = table.header ? rowUnit(table.header, true, undefined) : undefined;
  const units = table.rows.map((row) => rowUnit(row, false, header));
  if (header) {
    header.keepWithNext = units.length > 0;
    units.unshift(header);
  }
  if (units[0]) units[0].spaceBefore = spaceBefore;
  return units;
}

/** Columns side by side, each: role, room for the signature, name, note. One unit: never split. */
function layoutSignatures(
  block: SignatureBlock,
  frame: Frame,
  ctx: LayoutContext,
  spaceBefore: number,
): Unit[] {
  const count = block.signatures.length;
  if (count === 0) return [];
  const perRow = Math.min(count, 3);
  // A lone signature goes on the right, where Italian acts put the signatory.
  const columnWidth = count === 1 ? frame.width / 2 : frame.width / perRow;
  const firstX = count === 1 ? frame.x + frame.width / 2 : frame.x;
  const ops: DrawOp[] = [];
  let top = 0;
  for (let start = 0; start < count; start += perRow) {
    let rowHeight = 0;
    block.signatures.slice(start, start + perRow).forEach((signature, column) => {
      const inner: Frame = { x: firstX + column * columnWidth + 6, width: columnWidth - 12 };
      let y = top;
      const put = (text: string, style: TextStyle) => {
        const units = layoutParagraph(
          [{ kind: 'text', text, bold: false, italic: false, underline: false }],
          'center',
          style,
          inner,
          ctx,
          {
            spaceBefore: 0,
            markers: undefined,
            keep: 'none',
          },
        );
        for (const unit of units) {
          translate(unit.ops, y, ops);
          y += unit.height;
        }
      };
      put(signature.role, BODY);
      ops.push({
        kind: 'signature',
        id: signature.id,
        role: signature.role,
        name: signature.name,
        x: inner.x,
        y,
        width: inner.width,
        height: SIGNATURE_SPACE,
      });
      y += SIGNATURE_SPACE;
      put(signature.name, { ...BODY, bold: true });
      if (signature.note) put(signature.note, NOTE_TEXT);
      rowHeight = Math.max(rowHeight, y - top);
    });
    top += rowHeight + (start + perRow < count ? 12 : 0);
  }
  return [{ height: top, spaceBefore, ops, keepWithNext: false }];
}

/* ================================ Pagination =============================== */

function placeOp(op: DrawOp, top: number): DrawOp {
  return op.kind === 'text' ? { ...op, y: top - op.y } : { ...op, y: top - op.y - op.height };
}

/**
 * Fills pages top to bottom. A unit that does not fit goes to the next page
 * whole, unless it is taller than a page and can split (table rows); a chain
 * of keep-with-next units moves together when a fresh page can hold it; a
 * table row opening a page brings its header row along.
 */
function paginate(units: Unit[], top: number, bottom: number): DrawOp[][] {
  const pages: DrawOp[][] = [[]];
  const capacity = top - bottom;
  let y = top;
  let empty = true;
  const newPage = () => {
    pages.push([]);
    y = top;
    empty = true;
  };
  const place = (unit: Unit, space: number) => {
    y -= space;
    const ops = pages[pages.length - 1] as DrawOp[];
    for (const op of unit.ops) ops.push(placeOp(op, y));
    y -= unit.height;
    empty = false;
  };

  let next = 0;
  let pending: Unit | undefined;
  while (pending || next < units.length) {
    const unit = pending ?? units[next++]!;
    pending = undefined;
    if (unit.pageBreak) {
      if (!empty) newPage();
      continue;
    }
    if (empty && unit.repeatHeader) place(unit.repeatHeader, 0);
    const space = empty ? 0 : unit.spaceBefore;
    const available = y - bottom;

    if (!empty && unit.keepWithNext) {
      let needed = space + unit.height;
      let fresh = unit.height;
      let previous = unit;
      for (let index = next; previous.keepWithNext && index < units.length; index++) {
        const following = units[index] as Unit;
        if (following.pageBreak) break;
        needed += following.spaceBefore + following.height;
        fresh += following.spaceBefore + following.height;
        previous = following;
      }
      if (needed > available + EPSILON && fresh <= capacity + EPSILON) {
        newPage();
        pending = unit;
        continue;
      }
    }

    if (space + unit.height > available + EPSILON) {
      const freshRoom = capacity - (unit.repeatHeader?.height ?? 0);
      if (unit.split && unit.height > freshRoom + EPSILON) {
        const parts = unit.split(available - space);
        if (parts) {
          place(parts[0], space);
          pending = parts[1];
          newPage();
          continue;
        }
      }
      if (!empty) {
        newPage();
        pending = unit;
        continue;
      }
      // Taller than a page and indivisible: placed anyway rather than lost.
    }
    place(unit, space);
  }
  return pages;
}

function containsPageFields(blocks: readonly Block[]): boolean {
  const inParagraphs = (items: readonly (Paragraph | List)[]): boolean => containsPageFields(items);
  return blocks.some((block) => {
    switch (block.kind) {
      case 'paragraph':
      case 'heading':
        return block.runs.some((run) => run.kind === 'pageNumber' || run.kind === 'pageCount');
      case 'list':
        return block.items.some((item) => inParagraphs(item.blocks));
      case 'table':
        return [...(block.header ? [block.header] : []), ...block.rows].some((row) =>
          row.cells.some((cell) => inParagraphs(cell.blocks)),
        );
      default:
        return false;
    }
  });
}

export interface LaidOutPage {
  ops: (TextOp | RectOp | ImageOp)[];
}

export interface DocumentLayout {
  width: number;
  height: number;
  pages: LaidOutPage[];
  signatureAreas: SignatureArea[];
}

/**
 * Lays out the body first; the letterhead and footer are laid out per page
 * once the total is known, in the room reserved for them with four-digit
 * page numbers.
 */
export function layoutDocument(model: DocumentModel, fonts: FontSet): DocumentLayout {
  const frame: Frame = { x: MARGIN_X, width: PAGE_WIDTH - 2 * MARGIN_X };
  const edgeOptions = (text: TextStyle): BlockOptions => ({
    text,
    spacing: 2,
    firstSpacing: 0,
    keepLines: false,
  });
  const headerUnits = (fields: FieldValues) =>
    layoutBlocks(model.header, frame, { fonts, fields }, edgeOptions(HEADER_TEXT));
  const footerUnits = (fields: FieldValues) =>
    layoutBlocks(model.footer, frame, { fonts, fields }, edgeOptions(FOOTER_TEXT));
  const widest: FieldValues = { kind: 'known', pageNumber: 8888, pageCount: 8888 };
  const headerTextHeight = stackHeight(stack(headerUnits(widest)));
  // A logo without image (the ente has none) takes no room at all.
  const { headerLogo } = model;
  const logo = headerLogo?.image
    ? logoSizeMm(headerLogo.heightMm, headerLogo.image, frame.width / MM)
    : undefined;
  const logoHeight = logo ? logo.heightMm * MM : 0;
  const logoOp: ImageOp | undefined = logo && {
    kind: 'image',
    x: frame.x + (frame.width - logo.widthMm * MM) / 2,
    y: PAGE_HEIGHT - HEADER_EDGE - logoHeight,
    width: logo.widthMm * MM,
    height: logoHeight,
  };
  const textBelowLogo = logoHeight + (logo && headerTextHeight > 0 ? LOGO_GAP : 0);
  const headerHeight = textBelowLogo + headerTextHeight;
  const footerHeight = stackHeight(stack(footerUnits(widest)));
  const headerTop = PAGE_HEIGHT - HEADER_EDGE;
  const bodyTop = Math.min(
    PAGE_HEIGHT - MARGIN_TOP,
    headerTop - headerHeight - (headerHeight > 0 ? HEADER_GAP : 0),
  );
  const bodyBottom = Math.max(
    MARGIN_BOTTOM,
    FOOTER_EDGE + footerHeight + (footerHeight > 0 ? FOOTER_GAP : 0),
  );
  if (bodyTop - bodyBottom < MIN_BODY_HEIGHT) {
    throw new Error('Intestazione e piè di pagina non lasciano spazio al testo del documento');
  }

  const bodyOptions: BlockOptions = {
    text: BODY,
    spacing: PARAGRAPH_SPACE,
    firstSpacing: 0,
    keepLines: true,
  };
  let digits = 1;
  let pages = paginate(
    layoutBlocks(model.body, frame, { fonts, fields: { kind: 'deferred', digits } }, bodyOptions),
    bodyTop,
    bodyBottom,
  );
  // Room for body page fields depends on the page count, which may depend on that room.
  for (let attempt = 0; attempt < 3 && containsPageFields(model.body); attempt++) {
    const needed = String(pages.length).length;
    if (needed === digits) break;
    digits = needed;
    pages = paginate(
      layoutBlocks(model.body, frame, { fonts, fields: { kind: 'deferred', digits } }, bodyOptions),
      bodyTop,
      bodyBottom,
    );
  }

  const pageCount = pages.length;
  const signatureAreas: SignatureArea[] = [];
  const laidOut = pages.map((body, pageIndex): LaidOutPage => {
    const ops: LaidOutPage['ops'] = [];
    const fields: FieldValues = { kind: 'known', pageNumber: pageIndex + 1, pageCount };
    if (logoOp) ops.push({ ...logoOp });
    for (const item of stack(headerUnits(fields))) {
      for (const op of item.unit.ops)
        ops.push(placeOp(op, headerTop - textBelowLogo - item.top) as TextOp | RectOp);
    }
    if (headerHeight > 0) {
      const ruleY = headerTop - headerHeight - HEADER_GAP / 2;
      ops.push({ kind: 'rect', x: frame.x, y: ruleY, width: frame.width, height: 0.5, fill: 0.45 });
    }
    const footer = stack(footerUnits(fields));
    const footerTop = FOOTER_EDGE + stackHeight(footer);
    for (const item of footer) {
      for (const op of item.unit.ops)
        ops.push(placeOp(op, footerTop - item.top) as TextOp | RectOp);
    }
    for (const op of body) {
      if (op.kind === 'signature') {
        signatureAreas.push({
          id: op.id,
          role: op.role,
          name: op.name,
          page: pageIndex,
          x: op.x,
          y: op.y,
          width: op.width,
          height: op.height,
        });
      } else if (op.kind === 'text' && op.field) {
        const value = op.field === 'pageNumber' ? pageIndex + 1 : pageCount;
        const resolved: TextOp = { ...op, text: String(value) };
        delete resolved.field;
        ops.push(resolved);
      } else {
        ops.push(op);
      }
    }
    return { ops };
  });
  return { width: PAGE_WIDTH, height: PAGE_HEIGHT, pages: laidOut, signatureAreas };
}
