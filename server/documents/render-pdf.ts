/**
 * DocumentModel → PDF: A4, DejaVu Serif embedded as subsets, justified text,
 * letterhead and "pagina N di M" footer on every page, and the position of
 * every signature for the later PAdES step. The same model always gives the
 * same bytes.
 */
import { createHash } from 'node:crypto';
import fontkit from '@pdf-lib/fontkit';
import { PDFDocument, PDFName, type PDFFont } from 'pdf-lib';
import type { DocumentMetadata, DocumentModel } from './document-model.js';
import {
  FONT_STYLES,
  layoutDocument,
  serifFonts,
  type FontStyle,
  type LaidOutPage,
  type MeasuredFont,
  type SignatureArea,
} from './pdf-layout.js';

export type { SignatureArea } from './pdf-layout.js';

export interface RenderedPdf {
  bytes: Uint8Array;
  pageCount: number;
  signatureAreas: SignatureArea[];
}

const PRODUCER = 'Sigillo';

type PdfFontkit = Parameters<PDFDocument['registerFontkit']>[0];
type PdfFontkitFont = ReturnType<PdfFontkit['create']>;

/**
 * pdf-lib parses the font file again for every document; handing it the
 * process-wide parsed font instead saves that work. Safe to share: a subset
 * is a separate object per document, and fontkit encodes it synchronously.
 */
const cachedFontkit: PdfFontkit = {
  create(bytes: Uint8Array): PdfFontkitFont {
    for (const font of Object.values(serifFonts())) {
      if (font.bytes === bytes) return font.font;
    }
    return fontkit.create(bytes);
  },
};

/**
 * Substitutions would make the glyphs pdf-lib writes differ from the ones the
 * layout measured (and "fi" from the glyphs f and i), so they are off.
 */
const NO_SUBSTITUTIONS = { liga: false, clig: false, dlig: false, calt: false, rlig: false };

interface EmbeddedFont {
  key: string;
  font: PDFFont;
  /** Character → hex glyph code(s) in the subset. */
  codes: Map<string, string>;
}

/**
 * Subset fonts are named "ABCDEF+Name" (which is also how pdffonts and
 * preflight tools recognise a subset). pdf-lib's own "DejaVuSerif-1234" is
 * neither such a tag nor tied to the content; this one is derived from the
 * characters, so equal input gives equal names and different subsets
 * different ones.
 */
function subsetName(font: MeasuredFont, characters: string[]): string {
  const digest = createHash('sha256')
    .update(font.postscriptName)
    .update(characters.join(''))
    .digest();
  let tag = '';
  for (let i = 0; i < 6; i++) tag += String.fromCharCode(65 + ((digest[i] as number) % 26));
  return `${tag}+${font.postscriptName}`;
}

async function embed(
  doc: PDFDocument,
  measured: MeasuredFont,
  characters: string[],
  key: string,
): Promise<EmbeddedFont> {
  const font = await doc.embedFont(measured.bytes, {
    subset: true,
    customName: subsetName(measured, characters),
    features: NO_SUBSTITUTIONS,
  });
  // encodeText is the one public way to add glyphs to pdf-lib's subset; one
  // call per font (instead of one per word) keeps fontkit's slow shaping out
  // of the per-word path, and its output maps each character to its code.
  const codes = new Map<string, string>();
  const all = font.encodeText(characters.join('')).asString();
  if (all.length === characters.length * 4) {
    characters.forEach((character, index) =>
      codes.set(character, all.slice(index * 4, index * 4 + 4)),
    );
  } else {
    for (const character of characters) codes.set(character, font.encodeText(character).asString());
  }
  return { key, font, codes };
}

function usedCharacters(pages: LaidOutPage[]): Map<FontStyle, string[]> {
  const sets = new Map<FontStyle, Set<string>>();
  for (const page of pages) {
    for (const op of page.ops) {
      if (op.kind !== 'text') continue;
      let set = sets.get(op.style);
      if (!set) sets.set(op.style, (set = new Set()));
      for (const character of op.text) set.add(character);
    }
  }
  const result = new Map<FontStyle, string[]>();
  for (const style of FONT_STYLES) {
    const set = sets.get(style);
    if (set)
      result.set(
        style,
        [...set].sort((a, b) => (a.codePointAt(0) as number) - (b.codePointAt(0) as number)),
      );
  }
  return result;
}

/** Fixed precision keeps content streams short and free of float noise. */
function num(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

/** A TJ array: the glyph codes, with each space widened by `wordSpacing`. */
function showText(
  text: string,
  wordSpacing: number,
  size: number,
  codes: Map<string, string>,
): string {
  const adjustment = wordSpacing !== 0 ? num((-wordSpacing * 1000) / size) : '';
  let result = '[<';
  for (const character of text) {
    result += codes.get(character) ?? '';
    if (character === ' ' && adjustment) result += `>${adjustment}<`;
  }
  return `${result}>] TJ`;
}

function contentStream(page: LaidOutPage, fonts: Map<FontStyle, EmbeddedFont>): string {
  const out: string[] = [];
  let inText = false;
  let fontKey = '';
  let fontSize = 0;
  let fill = 0;
  for (const op of page.ops) {
    if (op.kind === 'text') {
      const font = fonts.get(op.style);
      if (!font || op.text === '') continue;
      if (!inText) {
        if (fill !== 0) out.push('0 g');
        fill = 0;
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
    const rect = `${num(op.x)} ${num(op.y)} ${num(op.width)} ${num(op.height)} re`;
    if (op.fill !== undefined) {
      if (op.fill !== fill) out.push(`${num(op.fill)} g`);
      fill = op.fill;
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
  doc.registerFontkit(cachedFontkit);
  const embedded = new Map<FontStyle, EmbeddedFont>();
  let index = 0;
  for (const [style, characters] of usedCharacters(layout.pages)) {
    embedded.set(style, await embed(doc, fonts[style], characters, `F${++index}`));
  }

  for (const page of layout.pages) {
    const pdfPage = doc.addPage([layout.width, layout.height]);
    for (const font of embedded.values())
      pdfPage.node.setFontDictionary(PDFName.of(font.key), font.font.ref);
    const stream = doc.context.flateStream(contentStream(page, embedded));
    pdfPage.node.addContentStream(doc.context.register(stream));
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
