/**
 * DocumentModel → PDF: A4, DejaVu Serif embedded as subsets, justified text,
 * letterhead and "pagina N di M" footer on every page, and the position of
 * every signature for the later PAdES step. The same model always gives the
 * same bytes.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import {
  PDFDocument,
  PDFName,
  PDFRawStream,
  PDFString,
  type PDFContext,
  type PDFRef,
} from 'pdf-lib';
import type { DocumentMetadata, DocumentModel } from './document-model.js';
import {
  FONT_STYLES,
  layoutDocument,
  serifFonts,
  type FontStyle,
  type LaidOutPage,
  type MeasuredFont,
  type RgbColor,
  type SignatureArea,
} from './pdf-layout.js';

export type { SignatureArea } from './pdf-layout.js';

export interface RenderedPdf {
  bytes: Uint8Array;
  pageCount: number;
  signatureAreas: SignatureArea[];
}

const PRODUCER = 'Sigillo';

/* ============================== Compression ================================ */

/**
 * Every stream goes through Node's zlib, several times faster than pdf-lib's
 * pure-JS pako. Deflate output is a pure function of the input, the level and
 * the zlib build, so equal models give equal bytes across processes, threads
 * and machines of the same kind running the same Node version. Node bundles
 * Chromium's zlib, whose bytes differ from pako's (canonical zlib's), may
 * depend on the CPU features it detects, and can change with a Node upgrade:
 * stored documents keep the bytes they were signed with, but a re-render on
 * another platform or Node version may compress differently.
 */
function compress(data: Uint8Array, level: number): Uint8Array {
  return deflateSync(data, { level });
}

/**
 * Page content is compressed for every document: level 4 costs a third less
 * than the default 6 for 3% more bytes. Font programs are compressed once per
 * subset and kept, so they get the default.
 */
const CONTENT_LEVEL = 4;
const FONT_LEVEL = 6;

/* ========================== TrueType subsetting ============================ */

interface TableLocation {
  offset: number;
  length: number;
}

/**
 * A parsed TrueType font that can write subsets of itself. pdf-lib's subsetter
 * (fontkit's) takes about 4 ms per font, decoding every glyph it copies and
 * re-encoding every table; this one copies glyph bytes as they are,
 * renumbering only composite glyphs' references to their components. The tables written are those the PDF
 * specification requires of an embedded TrueType program, as fontkit's.
 */
class TrueTypeProgram {
  /**
   * A plain Uint8Array of its own: a Buffer's slice() is a view, and the
   * subset's edits of copied tables would land in the shared font file.
   */
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly tables = new Map<string, TableLocation>();
  private readonly longLoca: boolean;
  private readonly numberOfHMetrics: number;

  constructor(file: Uint8Array) {
    const bytes = new Uint8Array(file);
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer);
    const count = this.view.getUint16(4);
    for (let i = 0; i < count; i++) {
      const record = 12 + i * 16;
      const tag = String.fromCharCode(...bytes.subarray(record, record + 4));
      this.tables.set(tag, {
        offset: this.view.getUint32(record + 8),
        length: this.view.getUint32(record + 12),
      });
    }
    this.longLoca = this.view.getInt16(this.table('head').offset + 50) === 1;
    this.numberOfHMetrics = this.view.getUint16(this.table('hhea').offset + 34);
  }

  private table(tag: string): TableLocation {
    const location = this.tables.get(tag);
    if (!location) throw new Error(`TrueType font without a ${tag} table`);
    return location;
  }

  private glyphBytes(gid: number): Uint8Array {
    const loca = this.table('loca').offset;
    const start = this.longLoca
      ? this.view.getUint32(loca + gid * 4)
      : this.view.getUint16(loca + gid * 2) * 2;
    const end = this.longLoca
      ? this.view.getUint32(loca + gid * 4 + 4)
      : this.view.getUint16(loca + gid * 2 + 2) * 2;
    const glyf = this.table('glyf').offset;
    return this.bytes.subarray(glyf + start, glyf + end);
  }

  /** Advance width and left side bearing, in font units. */
  private metrics(gid: number): [number, number] {
    const hmtx = this.table('hmtx').offset;
    const long = Math.min(gid, this.numberOfHMetrics - 1);
    const advance = this.view.getUint16(hmtx + long * 4);
    const bearing =
      gid < this.numberOfHMetrics
        ? this.view.getInt16(hmtx + gid * 4 + 2)
        : this.view.getInt16(hmtx + this.numberOfHMetrics * 4 + (gid - this.numberOfHMetrics) * 2);
    return [advance, bearing];
  }

  /**
   * A font program holding .notdef, then `gids` in that order (new ids 1…n),
   * then the components of composite glyphs.
   */
  subset(gids: readonly number[]): Uint8Array {
    const order = [0];
    const ids = new Map([[0, 0]]);
    const include = (gid: number): number => {
      let id = ids.get(gid);
      if (id === undefined) {
        id = order.length;
        order.push(gid);
        ids.set(gid, id);
      }
      return id;
    };
    for (const gid of gids) include(gid);

    const glyphs: Uint8Array[] = [];
    for (let index = 0; index < order.length; index++) {
      let glyph = this.glyphBytes(order[index] as number);
      if (glyph.length >= 10 && (glyph[0] as number) & 0x80) {
        glyph = glyph.slice();
        renumberComponents(glyph, include);
      }
      glyphs.push(glyph);
    }

    const count = glyphs.length;
    const glyfLength = glyphs.reduce((sum, glyph) => sum + align4(glyph.length), 0);
    const glyf = new Uint8Array(glyfLength);
    const loca = new DataView(new ArrayBuffer((count + 1) * 4));
    const hmtx = new DataView(new ArrayBuffer(count * 4));
    let offset = 0;
    glyphs.forEach((glyph, id) => {
      loca.setUint32(id * 4, offset);
      glyf.set(glyph, offset);
      offset += align4(glyph.length);
      const [advance, bearing] = this.metrics(order[id] as number);
      hmtx.setUint16(id * 4, advance);
      hmtx.setInt16(id * 4 + 2, bearing);
    });
    loca.setUint32(count * 4, offset);

    const head = this.copy('head');
    const headView = new DataView(head.buffer);
    headView.setUint32(8, 0); // checkSumAdjustment, set once the whole file is known
    headView.setInt16(50, 1); // long loca offsets
    const hhea = this.copy('hhea');
    new DataView(hhea.buffer).setUint16(34, count);
    const maxp = this.copy('maxp');
    new DataView(maxp.buffer).setUint16(4, count);

    // In tag order, as the table directory must be.
    const tables: [string, Uint8Array][] = [
      ['cvt ', this.copyIfPresent('cvt ')],
      ['fpgm', this.copyIfPresent('fpgm')],
      ['glyf', glyf],
      ['head', head],
      ['hhea', hhea],
      ['hmtx', new Uint8Array(hmtx.buffer)],
      ['loca', new Uint8Array(loca.buffer)],
      ['maxp', maxp],
      ['prep', this.copyIfPresent('prep')],
    ];
    const present = tables.filter(([, data]) => data.length > 0);
    return assembleFont(present, head);
  }

  private copy(tag: string): Uint8Array {
    const { offset, length } = this.table(tag);
    return this.bytes.slice(offset, offset + length);
  }

  private copyIfPresent(tag: string): Uint8Array {
    return this.tables.has(tag) ? this.copy(tag) : new Uint8Array(0);
  }
}

function align4(length: number): number {
  return (length + 3) & ~3;
}

/** Points a composite glyph's component references at their ids in the subset. */
function renumberComponents(glyph: Uint8Array, include: (gid: number) => number): void {
  const view = new DataView(glyph.buffer, glyph.byteOffset, glyph.byteLength);
  const ARGS_ARE_WORDS = 0x0001;
  const HAS_SCALE = 0x0008;
  const MORE_COMPONENTS = 0x0020;
  const HAS_XY_SCALE = 0x0040;
  const HAS_2X2 = 0x0080;
  let offset = 10;
  for (;;) {
    const flags = view.getUint16(offset);
    view.setUint16(offset + 2, include(view.getUint16(offset + 2)));
    offset += 4 + (flags & ARGS_ARE_WORDS ? 4 : 2);
    if (flags & HAS_SCALE) offset += 2;
    else if (flags & HAS_XY_SCALE) offset += 4;
    else if (flags & HAS_2X2) offset += 8;
    if (!(flags & MORE_COMPONENTS)) return;
  }
}

function checksum(data: Uint8Array): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let sum = 0;
  const whole = data.length & ~3;
  for (let i = 0; i < whole; i += 4) sum = (sum + view.getUint32(i)) >>> 0;
  if (whole < data.length) {
    let last = 0;
    for (let i = whole; i < whole + 4; i++)
      last = (last << 8) | (i < data.length ? (data[i] as number) : 0);
    sum = (sum + (last >>> 0)) >>> 0;
  }
  return sum;
}

/** The sfnt wrapper: table directory, 4-byte aligned tables, and head's file checksum. */
function assembleFont(tables: [string, Uint8Array][], head: Uint8Array): Uint8Array {
  const count = tables.length;
  const power = 2 ** Math.floor(Math.log2(count));
  let size = 12 + count * 16;
  for (const [, data] of tables) size += align4(data.length);
  const font = new Uint8Array(size);
  const view = new DataView(font.buffer);
  view.setUint32(0, 0x00010000);
  view.setUint16(4, count);
  view.setUint16(6, power * 16);
  view.setUint16(8, Math.log2(power));
  view.setUint16(10, count * 16 - power * 16);
  let offset = 12 + count * 16;
  let headOffset = 0;
  tables.forEach(([tag, data], index) => {
    const record = 12 + index * 16;
    for (let i = 0; i < 4; i++) font[record + i] = tag.charCodeAt(i);
    view.setUint32(record + 4, checksum(data));
    view.setUint32(record + 8, offset);
    view.setUint32(record + 12, data.length);
    font.set(data, offset);
    if (data === head) headOffset = offset;
    offset += align4(data.length);
  });
  view.setUint32(headOffset + 8, (0xb1b0afba - checksum(font)) >>> 0);
  return font;
}

/* ============================== Font subsets =============================== */

/** What a subset puts in the PDF, compressed once and shared by every document using it. */
interface FontSubset {
  /** "ABCDEF+DejaVuSerif". */
  name: string;
  /** Character → its two-byte code, escaped for a literal string. */
  codes: Map<string, string>;
  program: Uint8Array;
  programLength: number;
  toUnicode: Uint8Array;
  /** Advance widths of codes 1…n, in thousandths of an em. */
  widths: number[];
}

/** The per-font values of the font descriptor, as pdf-lib wrote them. */
interface FontFace {
  program: TrueTypeProgram;
  flags: number;
  bbox: number[];
  italicAngle: number;
  ascent: number;
  descent: number;
  capHeight: number;
  xHeight: number;
}

const faces = new Map<MeasuredFont, FontFace>();

function face(measured: MeasuredFont): FontFace {
  let result = faces.get(measured);
  if (!result) {
    const { font } = measured;
    const scale = 1000 / font.unitsPerEm;
    const familyClass = font['OS/2'] ? font['OS/2'].sFamilyClass : 0;
    // Symbolic, as for any font not using the standard Latin encoding.
    let flags = 1 << 2;
    if (font.post.isFixedPitch) flags |= 1 << 0;
    if (familyClass >= 1 && familyClass <= 7) flags |= 1 << 1;
    if (familyClass === 10) flags |= 1 << 3;
    if (font.head.macStyle.italic) flags |= 1 << 6;
    result = {
      program: new TrueTypeProgram(measured.bytes),
      flags,
      bbox: [font.bbox.minX, font.bbox.minY, font.bbox.maxX, font.bbox.maxY].map((v) => v * scale),
      italicAngle: font.italicAngle,
      ascent: font.ascent * scale,
      descent: font.descent * scale,
      capHeight: (font.capHeight || font.ascent) * scale,
      xHeight: (font.xHeight || 0) * scale,
    };
    faces.set(measured, result);
  }
  return result;
}

/**
 * Subset fonts are named "ABCDEF+Name" (which is also how pdffonts and
 * preflight tools recognise a subset). The tag is derived from the
 * characters, so equal input gives equal names and different subsets
 * different ones.
 */
function subsetName(font: MeasuredFont, characters: readonly string[]): string {
  const digest = createHash('sha256')
    .update(font.postscriptName)
    .update(characters.join(''))
    .digest();
  let tag = '';
  for (let i = 0; i < 6; i++) tag += String.fromCharCode(65 + ((digest[i] as number) % 26));
  return `${tag}+${font.postscriptName}`;
}

/** A byte inside a literal string: the delimiters, the escape and line ends must be escaped. */
function literalByte(byte: number): string {
  switch (byte) {
    case 0x28:
      return '\\(';
    case 0x29:
      return '\\)';
    case 0x5c:
      return '\\\\';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    default:
      return String.fromCharCode(byte);
  }
}

function hex4(value: number): string {
  return value.toString(16).padStart(4, '0');
}

/** One bfchar block holds at most 100 mappings. */
function toUnicodeCmap(entries: [number, string][]): string {
  const blocks: string[] = [];
  for (let start = 0; start < entries.length; start += 100) {
    const block = entries.slice(start, start + 100);
    const lines = block.map(([code, character]) => {
      let target = '';
      for (let i = 0; i < character.length; i++) target += hex4(character.charCodeAt(i));
      return `<${hex4(code)}> <${target}>`;
    });
    blocks.push(`${block.length} beginbfchar\n${lines.join('\n')}\nendbfchar`);
  }
  return [
    '/CIDInit /ProcSet findresource begin',
    '12 dict begin',
    'begincmap',
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
    '/CMapName /Adobe-Identity-UCS def',
    '/CMapType 2 def',
    '1 begincodespacerange',
    '<0000> <FFFF>',
    'endcodespacerange',
    ...blocks,
    'endcmap',
    'CMapName currentdict /CMap defineresource pop',
    'end',
    'end',
  ].join('\n');
}

/**
 * Documents from one template share most of their characters, and a subset
 * depends on nothing else, so finished subsets are kept for the process.
 */
const SUBSET_CACHE_SIZE = 256;
const subsets = new Map<string, FontSubset>();

function fontSubset(measured: MeasuredFont, characters: readonly string[]): FontSubset {
  const key = `${measured.style}\u0000${characters.join('')}`;
  const cached = subsets.get(key);
  if (cached) {
    // Least recently used goes first: refresh this one's place.
    subsets.delete(key);
    subsets.set(key, cached);
    return cached;
  }

  const { font } = measured;
  const scale = 1000 / font.unitsPerEm;
  const gids: number[] = [];
  const idOf = new Map<number, number>();
  const codes = new Map<string, string>();
  const toUnicode: [number, string][] = [];
  const widths: number[] = [];
  // Characters come in code point order, so a glyph shared by several maps back to the first.
  for (const character of characters) {
    const glyph = font.glyphForCodePoint(character.codePointAt(0) as number);
    let id = glyph.id === 0 ? 0 : idOf.get(glyph.id);
    if (id === undefined) {
      gids.push(glyph.id);
      id = gids.length;
      idOf.set(glyph.id, id);
      toUnicode.push([id, character]);
      widths.push(glyph.advanceWidth * scale);
    }
    codes.set(character, literalByte(id >> 8) + literalByte(id & 0xff));
  }
  const program = face(measured).program.subset(gids);
  const subset: FontSubset = {
    name: subsetName(measured, characters),
    codes,
    program: compress(program, FONT_LEVEL),
    programLength: program.length,
    toUnicode: compress(Buffer.from(toUnicodeCmap(toUnicode), 'latin1'), FONT_LEVEL),
    widths,
  };
  subsets.set(key, subset);
  if (subsets.size > SUBSET_CACHE_SIZE) subsets.delete(subsets.keys().next().value as string);
  return subset;
}

/** The Type0 font of a subset, with its CID font, descriptor, program and Unicode map. */
function embedSubset(context: PDFContext, measured: MeasuredFont, subset: FontSubset): PDFRef {
  const info = face(measured);
  const program = context.register(
    PDFRawStream.of(
      context.obj({ Length1: subset.programLength, Filter: 'FlateDecode' }),
      subset.program,
    ),
  );
  const descriptor = context.register(
    context.obj({
      Type: 'FontDescriptor',
      FontName: subset.name,
      Flags: info.flags,
      FontBBox: info.bbox,
      ItalicAngle: info.italicAngle,
      Ascent: info.ascent,
      Descent: info.descent,
      CapHeight: info.capHeight,
      XHeight: info.xHeight,
      StemV: 0,
      FontFile2: program,
    }),
  );
  const cidFont = context.register(
    context.obj({
      Type: 'Font',
      Subtype: 'CIDFontType2',
      CIDToGIDMap: 'Identity',
      BaseFont: subset.name,
      CIDSystemInfo: {
        Registry: PDFString.of('Adobe'),
        Ordering: PDFString.of('Identity'),
        Supplement: 0,
      },
      FontDescriptor: descriptor,
      ...(subset.widths.length > 0 ? { W: [1, subset.widths] } : {}),
    }),
  );
  const toUnicode = context.register(
    PDFRawStream.of(context.obj({ Filter: 'FlateDecode' }), subset.toUnicode),
  );
  return context.register(
    context.obj({
      Type: 'Font',
      Subtype: 'Type0',
      BaseFont: subset.name,
      Encoding: 'Identity-H',
      DescendantFonts: [cidFont],
      ToUnicode: toUnicode,
    }),
  );
}

interface EmbeddedFont {
  key: string;
  ref: PDFRef;
  codes: Map<string, string>;
}

/**
 * Per BMP code point, a bit for each style that uses it: a fresh Set per style
 * costs more than the whole pass over the text. Shared by the process's
 * renders, so it is cleared after each (nothing awaits while it is in use).
 */
const seen = new Uint8Array(0x10000);

/** The characters each style draws, in code point order. */
function usedCharacters(pages: LaidOutPage[]): Map<FontStyle, string[]> {
  const found = new Map<FontStyle, number[]>();
  try {
    for (const page of pages) {
      for (const op of page.ops) {
        if (op.kind !== 'text') continue;
        const bit = 1 << FONT_STYLES.indexOf(op.style);
        let codes = found.get(op.style);
        if (!codes) found.set(op.style, (codes = []));
        const { text } = op;
        for (let i = 0; i < text.length; i++) {
          let code = text.charCodeAt(i);
          if (code >= 0xd800 && code < 0xdc00 && i + 1 < text.length) {
            // Astral characters are rare enough for a linear check.
            code = text.codePointAt(i++) as number;
            if (!codes.includes(code)) codes.push(code);
          } else if (!((seen[code] as number) & bit)) {
            seen[code] = (seen[code] as number) | bit;
            codes.push(code);
          }
        }
      }
    }
  } finally {
    for (const codes of found.values())
      for (const code of codes) if (code < 0x10000) seen[code] = 0;
  }
  const result = new Map<FontStyle, string[]>();
  for (const style of FONT_STYLES) {
    const codes = found.get(style);
    if (!codes) continue;
    codes.sort((a, b) => a - b);
    result.set(
      style,
      codes.map((code) => String.fromCodePoint(code)),
    );
  }
  return result;
}

/* ============================= Content streams ============================= */

/** Fixed precision keeps content streams short and free of float noise. */
function num(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

/**
 * A TJ array: the glyph codes as a literal string (half the bytes of a hex
 * one, so less to compress), with each space widened by `wordSpacing`.
 */
function showText(
  text: string,
  wordSpacing: number,
  size: number,
  codes: Map<string, string>,
): string {
  const adjustment = wordSpacing !== 0 ? `)${num((-wordSpacing * 1000) / size)}(` : '';
  let result = '[(';
  for (const character of text) {
    result += codes.get(character) ?? '';
    if (character === ' ' && adjustment) result += adjustment;
  }
  return `${result})] TJ`;
}

/** Resource name of the letterhead logo, the only image a page draws. */
const LOGO_KEY = 'Im1';

/** The operator that sets the fill colour: `g` for a grey level, `rg` for a colour. */
function fillColour(fill: number | RgbColor): string {
  if (typeof fill === 'number') return `${num(fill)} g`;
  return `${num(fill.red)} ${num(fill.green)} ${num(fill.blue)} rg`;
}

/** Text is black: the fill colour every page starts with. */
const TEXT_FILL = fillColour(0);

function contentStream(page: LaidOutPage, fonts: Map<FontStyle, EmbeddedFont>): string {
  const out: string[] = [];
  let inText = false;
  let fontKey = '';
  let fontSize = 0;
  // The colour operator last written, so it is written again only when it changes.
  let fill = TEXT_FILL;
  for (const op of page.ops) {
    if (op.kind === 'text') {
      const font = fonts.get(op.style);
      if (!font || op.text === '') continue;
      if (!inText) {
        if (fill !== TEXT_FILL) out.push(TEXT_FILL);
        fill = TEXT_FILL;
        out.push('BT');
        inText = true;
      }
      if (font.key !== fontKey || op.size !== fontSize) {
        out.push(`/${font.key} ${num(op.size)} Tf`);
        fontKey = font.key;
        fontSize = op.size;
      }
      out.push(`1 0 0 1 ${num(op.x)} ${num(op.y)} Tm`);
      out.push(showText(op.text, op.wordSpacing, op.size, font.codes));
      continue;
    }
    if (inText) {
      out.push('ET');
      inText = false;
    }
    if (op.kind === 'image') {
      // The image is a unit square scaled and moved into place by the matrix.
      out.push(
        `q ${num(op.width)} 0 0 ${num(op.height)} ${num(op.x)} ${num(op.y)} cm /${LOGO_KEY} Do Q`,
      );
      continue;
    }
    const rect = `${num(op.x)} ${num(op.y)} ${num(op.width)} ${num(op.height)} re`;
    if (op.fill !== undefined) {
      const colour = fillColour(op.fill);
      if (colour !== fill) out.push(colour);
      fill = colour;
      out.push(`${rect} f`);
    } else {
      out.push(`${num(op.lineWidth ?? 1)} w ${rect} S`);
    }
  }
  if (inText) out.push('ET');
  return out.join('\n');
}

function setMetadata(doc: PDFDocument, metadata: DocumentMetadata): void {
  doc.setTitle(metadata.title, { showInWindowTitleBar: true });
  doc.setAuthor(metadata.author);
  if (metadata.subject) doc.setSubject(metadata.subject);
  doc.setKeywords(metadata.keywords);
  doc.setProducer(PRODUCER);
  doc.setCreator(PRODUCER);
  doc.setLanguage(metadata.language);
  // The document's own date, never the clock: the bytes must not change between runs.
  doc.setCreationDate(metadata.date);
  doc.setModificationDate(metadata.date);
}

export async function renderPdf(model: DocumentModel): Promise<RenderedPdf> {
  const fonts = serifFonts();
  const layout = layoutDocument(model, fonts);

  const doc = await PDFDocument.create({ updateMetadata: false });
  const { context } = doc;
  const embedded = new Map<FontStyle, EmbeddedFont>();
  let index = 0;
  for (const [style, characters] of usedCharacters(layout.pages)) {
    const measured = fonts[style];
    const subset = fontSubset(measured, characters);
    embedded.set(style, {
      key: `F${++index}`,
      ref: embedSubset(context, measured, subset),
      codes: subset.codes,
    });
  }

  // Embedded once, shared by every page that draws it.
  const logoImage = model.headerLogo?.image;
  const logo =
    logoImage &&
    (logoImage.contentType === 'image/png'
      ? await doc.embedPng(logoImage.bytes)
      : await doc.embedJpg(logoImage.bytes));

  for (const page of layout.pages) {
    const pdfPage = doc.addPage([layout.width, layout.height]);
    for (const font of embedded.values())
      pdfPage.node.setFontDictionary(PDFName.of(font.key), font.ref);
    if (logo && page.ops.some((op) => op.kind === 'image')) {
      pdfPage.node.setXObject(PDFName.of(LOGO_KEY), logo.ref);
    }
    const content = compress(Buffer.from(contentStream(page, embedded), 'latin1'), CONTENT_LEVEL);
    pdfPage.node.addContentStream(
      context.register(PDFRawStream.of(context.obj({ Filter: 'FlateDecode' }), content)),
    );
  }
  setMetadata(doc, model.metadata);

  // Without objectsPerTick pdf-lib yields to a setTimeout every 50 objects,
  // each costing about a millisecond of idle time.
  const bytes = await doc.save({
    useObjectStreams: false,
    objectsPerTick: Number.POSITIVE_INFINITY,
  });
  return { bytes, pageCount: layout.pages.length, signatureAreas: layout.signatureAreas };
}
