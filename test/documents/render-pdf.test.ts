/**
 * The PDF renderer, checked from the outside: what qpdf, poppler and pdf.js
 * read back from the bytes, not what the layout engine believes it drew.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { inflateSync } from 'node:zlib';
import fontkit from '@pdf-lib/fontkit';
import { expect } from 'chai';
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFNumber, PDFRawStream } from 'pdf-lib';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import type {
  Block,
  DocumentModel,
  Inline,
  List,
  Paragraph,
  TableCell,
} from '../../server/documents/document-model.js';
import { renderPdf, type RenderedPdf } from '../../server/documents/render-pdf.js';
import { jpegImage, pngImage } from './logo-images.js';
import { pdfImages } from '../support/readers.js';
import { list, longDocument, para, sampleDecreto, text } from './sample-model.js';

const run = promisify(execFile);

const MM = 72 / 25.4;
const PAGE_WIDTH = 595.28;
const PAGE_HEIGHT = 841.89;
const TEXT_LEFT = 20 * MM;
const TEXT_RIGHT = PAGE_WIDTH - 20 * MM;
const TOLERANCE = 0.5;

let workDir = '';
let fileCounter = 0;

/** Renders, writes the file for the command-line tools, and holds every PDF to `qpdf --check`. */
async function render(model: DocumentModel): Promise<RenderedPdf & { file: string }> {
  const result = await renderPdf(model);
  const file = join(workDir, `document-${++fileCounter}.pdf`);
  await writeFile(file, result.bytes);
  await qpdfCheck(file);
  return { ...result, file };
}

async function qpdfCheck(file: string): Promise<void> {
  // execFile rejects on any exit status but 0 (qpdf exits 3 on mere warnings).
  const { stdout } = await run('qpdf', ['--check', file]);
  expect(stdout).to.include('No syntax or stream encoding errors found');
}

async function pdftotext(file: string): Promise<string> {
  const { stdout } = await run('pdftotext', ['-enc', 'UTF-8', file, '-']);
  return stdout;
}

interface Word {
  text: string;
  x: number;
  top: number;
}

/** Word boxes from poppler, which (unlike pdf.js) never merges a list marker with its text. */
async function words(file: string, page = 1): Promise<Word[]> {
  const { stdout } = await run('pdftotext', [
    '-bbox',
    '-f',
    String(page),
    '-l',
    String(page),
    file,
    '-',
  ]);
  return [...stdout.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)<\/word>/g)].map(
    (match) => ({ text: match[3] ?? '', x: Number(match[1]), top: Number(match[2]) }),
  );
}

function normalise(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

interface Item {
  str: string;
  x: number;
  y: number;
  width: number;
  fontName: string;
}

interface Line {
  y: number;
  x: number;
  right: number;
  text: string;
  items: Item[];
}

interface ReadPage {
  width: number;
  height: number;
  items: Item[];
}

async function readPdf(bytes: Uint8Array) {
  // pdf.js takes ownership of (detaches) the buffer it is given.
  const pdf = await getDocument({
    data: bytes.slice(),
    useSystemFonts: false,
    isEvalSupported: false,
    verbosity: 0,
  }).promise;
  const pages: ReadPage[] = [];
  for (let number = 1; number <= pdf.numPages; number++) {
    const page = await pdf.getPage(number);
    const [x0, y0, x1, y1] = page.view as [number, number, number, number];
    const content = await page.getTextContent();
    const items: Item[] = [];
    for (const item of content.items) {
      if (!('str' in item) || item.str.trim() === '') continue;
      const transform = item.transform as number[];
      items.push({
        str: item.str,
        x: transform[4] as number,
        y: transform[5] as number,
        width: item.width,
        fontName: item.fontName,
      });
    }
    pages.push({ width: x1 - x0, height: y1 - y0, items });
  }
  const metadata = await pdf.getMetadata();
  await pdf.destroy();
  return { pages, info: metadata.info as Record<string, unknown> };
}

/** Items sharing a baseline, left to right. */
function lines(page: ReadPage): Line[] {
  const byBaseline = new Map<number, Item[]>();
  for (const item of page.items) {
    const key = Math.round(item.y * 4) / 4;
    byBaseline.set(key, [...(byBaseline.get(key) ?? []), item]);
  }
  return [...byBaseline.entries()]
    .sort((a, b) => b[0] - a[0])
    .map(([y, items]) => {
      items.sort((a, b) => a.x - b.x);
      const first = items[0] as Item;
      return {
        y,
        x: first.x,
        right: Math.max(...items.map((item) => item.x + item.width)),
        text: normalise(items.map((item) => item.str).join(' ')),
        items,
      };
    });
}

/** Page text in content-stream order, which is the layout's reading order. */
function streamText(items: Item[]): string {
  return normalise(items.map((item) => item.str).join(' '));
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function containsPhrase(haystack: string, phrase: string): boolean {
  return new RegExp(`(?:^| )${escapeRegExp(phrase)}(?: |$)`).test(haystack);
}

function expectInsidePages(pages: ReadPage[]): void {
  pages.forEach((page, index) => {
    expect(page.width, `page ${index + 1} width`).to.be.closeTo(PAGE_WIDTH, 0.01);
    expect(page.height, `page ${index + 1} height`).to.be.closeTo(PAGE_HEIGHT, 0.01);
    for (const item of page.items) {
      const where = `page ${index + 1}, "${item.str}" at ${item.x.toFixed(1)},${item.y.toFixed(1)}`;
      expect(item.x, where).to.be.at.least(TEXT_LEFT - TOLERANCE);
      expect(item.x + item.width, where).to.be.at.most(TEXT_RIGHT + TOLERANCE);
      expect(item.y, where).to.be.within(10 * MM, PAGE_HEIGHT - 10 * MM);
    }
  });
}

/** Every text of the model, paragraph by paragraph, for comparisons. */
function modelTexts(model: DocumentModel): string[] {
  const texts: string[] = [];
  const inline = (runs: Inline[]) =>
    texts.push(runs.map((item) => (item.kind === 'text' ? item.text : ' ')).join(''));
  const blocks = (items: readonly Block[]) => {
    for (const block of items) {
      if (block.kind === 'paragraph' || block.kind === 'heading') inline(block.runs);
      else if (block.kind === 'list') for (const item of block.items) blocks(item.blocks);
      else if (block.kind === 'table') {
        for (const row of [...(block.header ? [block.header] : []), ...block.rows]) {
          for (const cell of row.cells) blocks(cell.blocks);
        }
      } else if (block.kind === 'signatures') {
        for (const signature of block.signatures) {
          texts.push(signature.role, signature.name, signature.note ?? '');
        }
      }
    }
  };
  blocks(model.header);
  blocks(model.body);
  blocks(model.footer);
  return texts;
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

function rawStream(value: unknown): Uint8Array {
  if (!(value instanceof PDFRawStream)) throw new Error('not a stream');
  return value.contents;
}

/** The glyph outlines and widths an embedded Type0 font draws, by the character it maps to. */
function embeddedGlyphs(document: PDFDocument) {
  const { context } = document;
  const fonts: {
    baseFont: string;
    glyphs: { character: string; svg: string; advance: number; width: number }[];
  }[] = [];
  for (const [, object] of context.enumerateIndirectObjects()) {
    if (!(object instanceof PDFDict)) continue;
    if (object.get(PDFName.of('Subtype')) !== PDFName.of('Type0')) continue;
    const cidFont = context.lookup(
      object.lookup(PDFName.of('DescendantFonts'), PDFArray).get(0),
      PDFDict,
    );
    const descriptor = cidFont.lookup(PDFName.of('FontDescriptor'), PDFDict);
    const subset = fontkit.create(
      inflateSync(rawStream(descriptor.lookup(PDFName.of('FontFile2')))),
    );
    const widths = cidFont.lookup(PDFName.of('W'), PDFArray).lookup(1, PDFArray);
    const cmap = inflateSync(rawStream(object.lookup(PDFName.of('ToUnicode')))).toString('latin1');
    const mappings = [...cmap.matchAll(/beginbfchar(.*?)endbfchar/gs)].map((m) => m[1]).join('');
    const glyphs = [...mappings.matchAll(/^<([0-9a-f]{4})> <([0-9a-f]+)>$/gim)].map((match) => {
      const code = parseInt(match[1] ?? '', 16);
      const units = (match[2] ?? '').match(/.{4}/g) ?? [];
      const glyph = subset.getGlyph(code);
      return {
        character: String.fromCharCode(...units.map((unit) => parseInt(unit, 16))),
        svg: glyph.path.toSVG(),
        advance: glyph.advanceWidth,
        width: widths.lookup(code - 1, PDFNumber).asNumber(),
      };
    });
    fonts.push({ baseFont: object.get(PDFName.of('BaseFont'))?.toString() ?? '', glyphs });
  }
  return fonts;
}

function model(body: Block[], header: Paragraph[] = [], footer: Paragraph[] = []): DocumentModel {
  return {
    metadata: {
      title: 'Prova',
      author: 'Comune di Prova',
      keywords: [],
      language: 'it-IT',
      date: new Date('2026-01-15T10:30:00Z'),
    },
    header,
    footer,
    body,
  };
}

function cell(content: Inline[] | string): TableCell {
  return { blocks: [para(content, 'left')], align: 'left' };
}

const pageFooter: Paragraph[] = [
  para(
    [
      text('pagina '),
      { kind: 'pageNumber', bold: false, italic: false, underline: false },
      text(' di '),
      { kind: 'pageCount', bold: false, italic: false, underline: false },
    ],
    'center',
  ),
];

describe('PDF renderer', function () {
  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'sigillo-pdf-'));
  });
  after(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  describe('the sample decreto', () => {
    let decreto: RenderedPdf & { file: string };
    const source = sampleDecreto();

    before(async () => {
      decreto = await render(source);
    });

    it('is an A4 document of a few pages, every text inside the margins', async () => {
      expect(decreto.pageCount).to.be.within(1, 3);
      const { pages } = await readPdf(decreto.bytes);
      expect(pages).to.have.length(decreto.pageCount);
      expectInsidePages(pages);
    });

    it('embeds the four-style DejaVu Serif as subsets with Unicode maps', async () => {
      const { stdout } = await run('pdffonts', [decreto.file]);
      const rows = stdout.split('\n').slice(2).filter(Boolean);
      const names = rows.map((row) => row.split(/\s+/)[0]);
      expect(names.some((name) => /^[A-Z]{6}\+DejaVuSerif$/.test(name ?? ''))).to.equal(true);
      expect(names.some((name) => /^[A-Z]{6}\+DejaVuSerif-Bold$/.test(name ?? ''))).to.equal(true);
      for (const row of rows) {
        expect(row, row).to.match(/^[A-Z]{6}\+DejaVuSerif(-Bold|-Italic|-BoldItalic)?\s/);
        // emb, sub and uni columns.
        expect(row, row).to.match(/\syes\s+yes\s+yes\s/);
      }
    });

    it('reads back the mandatory phrases in order and every word of the model', async () => {
      const output = normalise(await pdftotext(decreto.file));
      let from = 0;
      for (const phrase of [
        'COMUNE DI SANT’ELPIDIO A MARE',
        'DECRETO DEL SINDACO N. 12 DEL 24 NOVEMBRE 2026',
        'OGGETTO: Designazione del «Responsabile dell’Ufficio Tributi»',
        'IL SINDACO',
        'VISTI:',
        'DECRETA',
        '1. di designare la dott.ssa Maria Rossi',
        'a) garantire la riservatezza dei dati trattati;',
        'Letto, approvato e sottoscritto.',
        'Il Sindaco',
        'Giovanni Bianchi',
      ]) {
        const at = output.indexOf(phrase, from);
        expect(at, `"${phrase}" after position ${from}`).to.be.at.least(0);
        from = at + phrase.length;
      }
      const words = output.split(' ');
      const remaining = new Map<string, number>();
      for (const word of words) remaining.set(word, (remaining.get(word) ?? 0) + 1);
      for (const word of normalise(modelTexts(source).join(' ')).split(' ')) {
        expect(remaining.get(word) ?? 0, `word "${word}"`).to.be.above(0);
        remaining.set(word, (remaining.get(word) ?? 0) - 1);
      }
    });

    it('gives back the typographic characters exactly', async () => {
      const output = await pdftotext(decreto.file);
      const body = modelTexts({ ...source, header: [], footer: [] }).join('\n');
      // The letterhead and footer are printed on every page.
      const furniture = modelTexts({ ...source, body: [] }).join('\n');
      for (const character of ['«', '»', '’', '“', '”', '€', '§', '–']) {
        const expected = count(body, character) + decreto.pageCount * count(furniture, character);
        expect(expected, `${character} in the sample`).to.be.above(0);
        expect(count(output, character), character).to.equal(expected);
      }
      expect(output).to.not.include('\ufffd');
    });

    it('numbers the pages in the footer', async () => {
      const output = normalise(await pdftotext(decreto.file));
      for (let page = 1; page <= decreto.pageCount; page++) {
        expect(output).to.include(`Pagina ${page} di ${decreto.pageCount}`);
      }
    });

    it('keeps bold, italic and plain runs on one justified line', async () => {
      const { pages } = await readPdf(decreto.bytes);
      const line = pages
        .flatMap(lines)
        .find((candidate) => candidate.text.includes('di designare la dott.ssa Maria Rossi'));
      expect(line, 'the line naming the designee').to.not.equal(undefined);
      const fonts = new Set(line?.items.map((item) => item.fontName));
      expect(fonts.size).to.be.at.least(2);
      // Justified: the first line of a wrapped paragraph reaches the right margin.
      expect(line?.right).to.be.closeTo(TEXT_RIGHT, TOLERANCE);
    });

    it('records a signature area for each signatory, clear of any text', async () => {
      const { pages } = await readPdf(decreto.bytes);
      const areas = decreto.signatureAreas;
      expect(areas.map((area) => area.id)).to.deep.equal(['sindaco', 'designato']);
      const [sindaco, designato] = areas as [
        RenderedPdf['signatureAreas'][0],
        RenderedPdf['signatureAreas'][0],
      ];
      expect(sindaco.page).to.equal(designato.page);
      expect(sindaco.y).to.be.closeTo(designato.y, 0.01);
      expect(sindaco.x + sindaco.width).to.be.at.most(designato.x);
      for (const area of areas) {
        expect(area.page).to.be.within(0, decreto.pageCount - 1);
        expect(area.height).to.be.closeTo(20 * MM, 0.01);
        expect(area.width).to.be.above(50 * MM);
        expect(area.x).to.be.at.least(TEXT_LEFT);
        expect(area.x + area.width).to.be.at.most(TEXT_RIGHT + TOLERANCE);
        const page = pages[area.page] as ReadPage;
        for (const item of page.items) {
          const inside =
            item.y > area.y &&
            item.y < area.y + area.height &&
            item.x < area.x + area.width &&
            item.x + item.width > area.x;
          expect(inside, `"${item.str}" inside the area of ${area.id}`).to.equal(false);
        }
      }
      const page = pages[sindaco.page] as ReadPage;
      const role = page.items.find((item) => item.str === 'Il Sindaco');
      const name = page.items.find((item) => item.str === 'Giovanni Bianchi');
      expect(role?.y).to.be.above(sindaco.y + sindaco.height);
      expect(name?.y).to.be.below(sindaco.y);
    });

    it('carries the metadata, language included', async () => {
      const { info } = await readPdf(decreto.bytes);
      const metadata = source.metadata;
      expect(info.Title).to.equal(metadata.title);
      expect(info.Author).to.equal(metadata.author);
      expect(info.Subject).to.equal(metadata.subject);
      expect(info.Keywords).to.equal(metadata.keywords.join(' '));
      expect(info.Producer).to.equal('Sigillo');
      expect(info.Creator).to.equal('Sigillo');
      expect(info.Language).to.equal('it-IT');
      expect(info.CreationDate).to.equal('D:20261124090000Z');
      expect(info.ModDate).to.equal('D:20261124090000Z');
    });

    it('is byte-identical across renders and processes', async () => {
      const again = await renderPdf(sampleDecreto());
      expect(Buffer.from(again.bytes).equals(Buffer.from(decreto.bytes))).to.equal(true);
      const long = await renderPdf(longDocument());
      const hashes = [decreto.bytes, long.bytes].map((bytes) =>
        createHash('sha256').update(bytes).digest('hex'),
      );

      const renderer = pathToFileURL(
        join(import.meta.dirname, '../../server/documents/render-pdf.ts'),
      );
      const samples = pathToFileURL(join(import.meta.dirname, 'sample-model.ts'));
      const script = `
        import { createHash } from 'node:crypto';
        const { renderPdf } = await import(${JSON.stringify(renderer.href)});
        const { sampleDecreto, longDocument } = await import(${JSON.stringify(samples.href)});
        for (const model of [sampleDecreto(), longDocument()]) {
          const { bytes } = await renderPdf(model);
          console.log(createHash('sha256').update(bytes).digest('hex'));
        }`;
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: join(import.meta.dirname, '../..') },
      );
      expect(stdout.trim().split('\n')).to.deep.equal(hashes);
    });
  });

  describe('the long document', () => {
    let pages: ReadPage[];
    let long: RenderedPdf;
    const source = longDocument();

    before(async () => {
      long = await render(source);
      pages = (await readPdf(long.bytes)).pages;
    });

    it('draws nothing outside the page', () => {
      expect(long.pageCount).to.equal(pages.length);
      expect(long.pageCount).to.be.at.least(5);
      expectInsidePages(pages);
    });

    it('gives back all 200 list items with their numbers', () => {
      const found = new Set(pages.flatMap(lines).map((line) => line.text));
      for (let n = 1; n <= 200; n++) {
        expect(found.has(`${n}. Voce di elenco numero ${n}`), `item ${n}`).to.equal(true);
      }
    });

    it('gives back every table row, with the header on every page of the table', () => {
      const tablePages = pages.filter((page) =>
        page.items.some((item) => /^Trattamento numero \d+$/.test(item.str)),
      );
      expect(tablePages.length).to.be.at.least(2);
      const all = pages.map((page) => streamText(page.items)).join(' ');
      for (let n = 1; n <= 60; n++) {
        const row = `${n} Trattamento numero ${n} Art. 6, par. 1, lett. e) – riga ${n}`;
        expect(containsPhrase(all, row), `row ${n}`).to.equal(true);
      }
      for (const page of tablePages) {
        const pageText = streamText(page.items);
        const header = pageText.indexOf('N. Trattamento Base giuridica');
        expect(header, 'header row on a table page').to.be.at.least(0);
        expect(header).to.be.below(pageText.search(/Trattamento numero \d+/));
        const headerY = page.items.find((item) => item.str === 'Base giuridica')?.y ?? 0;
        const rowYs = page.items
          .filter((item) => /^Trattamento numero \d+$/.test(item.str))
          .map((item) => item.y);
        expect(headerY).to.be.above(Math.max(...rowYs));
      }
    });

    it('gives back the whole long paragraph across pages', () => {
      const expected = normalise(
        modelTexts(source).reduce(
          (longest, text) => (text.length > longest.length ? text : longest),
          '',
        ),
      );
      expect(expected.length).to.be.above(4000);
      const furniture = new Set([
        'COMUNE DI SANT’ELPIDIO A MARE',
        'Provincia di Fermo',
        'Piazza Matteotti, 8',
      ]);
      const body = pages
        .flatMap((page) => page.items)
        .filter((item) => !furniture.has(item.str) && !/^Pagina \d+ di \d+$/.test(item.str));
      expect(streamText(body)).to.include(expected);
    });

    it('numbers every page against the total', () => {
      pages.forEach((page, index) => {
        const footer = page.items.filter((item) => /^Pagina \d+ di \d+$/.test(item.str));
        expect(footer.map((item) => item.str)).to.deep.equal([
          `Pagina ${index + 1} di ${pages.length}`,
        ]);
      });
    });

    it('never leaves a heading at the bottom of a page', () => {
      const page = pages.find((candidate) =>
        candidate.items.some((item) => item.str === 'Nota finale'),
      );
      const heading = page?.items.find((item) => item.str === 'Nota finale');
      const below = page?.items.filter(
        (item) => item.y < (heading?.y ?? 0) && !/^Pagina \d+ di \d+$/.test(item.str),
      );
      expect(below?.length ?? 0).to.be.at.least(2);
    });
  });

  describe('typography', () => {
    it('embeds subsets drawing every character with the font’s own glyph and width', async () => {
      // A previous document with other characters, accented capitals (composite glyphs)
      // among them, must leave nothing behind in the next one's subsets.
      await renderPdf(model([para('ÈÀÌÒÙ Åå €', 'left')]));
      const sample = 'Èccolo: àèéìòù ÀÈÉÌÒÙ «virgolette» l’ente ‘a’ “b” € § – — … ÅåÇç n.\u00a012';
      const result = await render(
        model([
          para(
            [
              text(sample),
              text(sample, { bold: true }),
              text(sample, { italic: true }),
              text(sample, { bold: true, italic: true }),
            ],
            'left',
          ),
        ]),
      );
      const fonts = embeddedGlyphs(await PDFDocument.load(result.bytes));
      expect(fonts.map((font) => font.baseFont.replace(/^\/[A-Z]{6}\+/, '')).sort()).to.deep.equal([
        'DejaVuSerif',
        'DejaVuSerif-Bold',
        'DejaVuSerif-BoldItalic',
        'DejaVuSerif-Italic',
      ]);
      const require = createRequire(import.meta.url);
      for (const { baseFont, glyphs } of fonts) {
        const file = `dejavu-fonts-ttf/ttf/${baseFont.replace(/^\/[A-Z]{6}\+/, '')}.ttf`;
        const original = fontkit.create(readFileSync(require.resolve(file)));
        const expected = new Set([...sample.replace(/\u00a0/g, '')]);
        expect(new Set(glyphs.map((glyph) => glyph.character)), baseFont).to.include.all.keys(
          ...expected,
        );
        for (const glyph of glyphs) {
          const own = original.glyphForCodePoint(glyph.character.codePointAt(0) as number);
          const where = `${baseFont} "${glyph.character}"`;
          expect(glyph.svg, where).to.equal(own.path.toSVG());
          expect(glyph.advance, where).to.equal(own.advanceWidth);
          expect(glyph.width, where).to.equal((own.advanceWidth * 1000) / original.unitsPerEm);
        }
      }
    });

    it('prints every Italian character and reads it back', async () => {
      const sample =
        'àèéìòù ÀÈÉÌÒÙ «virgolette» l’ente ‘a’ “b” € 1.250,00 § 3 – — … 5° 1ª 2º n.\u00a012';
      const result = await render(model([para(sample, 'left')]));
      const output = await pdftotext(result.file);
      expect(normalise(output.replace(/\u00a0/g, ' '))).to.equal(
        normalise(sample.replace(/\u00a0/g, ' ')),
      );
    });

    it('reads back letters a previous document only drew inside accented capitals', async () => {
      // Needs a process whose first document draws È but no E.
      const renderer = pathToFileURL(
        join(import.meta.dirname, '../../server/documents/render-pdf.ts'),
      );
      const script = `
        const { renderPdf } = await import(${JSON.stringify(renderer.href)});
        const model = (value) => ({
          metadata: { title: 't', author: 'a', keywords: [], language: 'it-IT', date: new Date(0) },
          header: [],
          footer: [],
          body: [{ kind: 'paragraph', align: 'left', runs: [{ kind: 'text', text: value, bold: false, italic: false, underline: false }] }],
        });
        await renderPdf(model('È À Ì Ò Ù'));
        const { bytes } = await renderPdf(model('Ecco E A I O U'));
        process.stdout.write(Buffer.from(bytes).toString('base64'));`;
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: join(import.meta.dirname, '../..'), maxBuffer: 16 * 1024 * 1024 },
      );
      const file = join(workDir, 'after-capitals.pdf');
      await writeFile(file, Buffer.from(stdout, 'base64'));
      await qpdfCheck(file);
      expect(normalise(await pdftotext(file))).to.equal('Ecco E A I O U');
    });

    it('breaks a word wider than the line between characters', async () => {
      const word = 'Precipitevolissimevolmente'.repeat(12);
      const result = await render(model([para(`Prima ${word} dopo`)]));
      const { pages } = await readPdf(result.bytes);
      expectInsidePages(pages);
      const pageLines = lines(pages[0] as ReadPage);
      expect(pageLines.length).to.be.at.least(3);
      expect(
        pageLines
          .map((line) => line.text)
          .join('')
          .replace(/ /g, ''),
      ).to.equal(`Prima${word}dopo`);
    });

    it('honours <br/> and the alignments, justifying all lines but the last', async () => {
      const filler =
        'Il responsabile del trattamento mette a disposizione del titolare tutte le informazioni necessarie a dimostrare il rispetto degli obblighi. ';
      const result = await render(
        model([
          para([text('Prima riga'), { kind: 'lineBreak' }, text('Seconda riga')], 'justify'),
          para(filler.repeat(3), 'justify'),
          para('Al centro', 'center'),
          para('A destra', 'right'),
        ]),
      );
      const { pages } = await readPdf(result.bytes);
      const pageLines = lines(pages[0] as ReadPage);
      const first = pageLines.find((line) => line.text === 'Prima riga');
      const second = pageLines.find((line) => line.text === 'Seconda riga');
      expect(first?.y).to.be.above(second?.y ?? Infinity);
      // A line ended by <br/> is not stretched.
      expect(first?.right).to.be.below(TEXT_RIGHT - 100);

      const justified = pageLines.filter(
        (line) =>
          line.y < (second?.y ?? 0) &&
          line.y > (pageLines.find((l) => l.text === 'Al centro')?.y ?? 0),
      );
      expect(justified.length).to.be.at.least(3);
      for (const line of justified.slice(0, -1)) {
        expect(line.x, line.text).to.be.closeTo(TEXT_LEFT, TOLERANCE);
        expect(line.right, line.text).to.be.closeTo(TEXT_RIGHT, TOLERANCE);
      }
      expect(justified[justified.length - 1]?.right).to.be.below(TEXT_RIGHT - 20);

      const centred = pageLines.find((line) => line.text === 'Al centro');
      expect(((centred?.x ?? 0) + (centred?.right ?? 0)) / 2).to.be.closeTo(PAGE_WIDTH / 2, 1);
      expect(pageLines.find((line) => line.text === 'A destra')?.right).to.be.closeTo(
        TEXT_RIGHT,
        TOLERANCE,
      );
    });
  });

  describe('lists', () => {
    it('writes the markers of every style, from the start given', async () => {
      const result = await render(
        model([
          list('decimal', ['cinque', 'sei'], 5),
          list('lower-alpha', ['alfa', 'beta']),
          list('upper-alpha', ['Alfa', 'Beta']),
          list('lower-roman', ['quarto', 'quinto'], 4),
          list('bullet', ['punto']),
        ]),
      );
      const found = lines((await readPdf(result.bytes)).pages[0] as ReadPage).map(
        (line) => line.text,
      );
      expect(found).to.deep.equal([
        '5. cinque',
        '6. sei',
        'a) alfa',
        'b) beta',
        'A) Alfa',
        'B) Beta',
        'iv) quarto',
        'v) quinto',
        '• punto',
      ]);
    });

    it('indents nested lists and hangs wrapped lines under the text', async () => {
      const long =
        'di attribuire al designato i compiti elencati di seguito, da svolgere nel rispetto delle istruzioni impartite dal titolare e delle misure di sicurezza adottate dall’ente';
      const nested: List = list('lower-alpha', ['primo compito', 'secondo compito']);
      const result = await render(model([list('decimal', [[para(long), nested], 'ultimo punto'])]));
      const found = await words(result.file);
      const at = (text: string) => found.find((word) => word.text === text) as Word;
      const lineStarts = [...new Set(found.map((word) => word.top))].map(
        (top) => found.find((word) => word.top === top) as Word,
      );
      const marker = at('1.').x;
      const textX = at('di').x;
      expect(at('di').top).to.equal(at('1.').top);
      expect(textX).to.be.above(marker);
      // Hanging indent: the wrapped line starts under the text, not under the marker.
      expect(lineStarts[1]?.text).to.not.equal('a)');
      expect(lineStarts[1]?.x).to.be.closeTo(textX, 0.01);
      // The nested list hangs from the item's text, one level further in.
      expect(at('a)').x).to.be.at.least(textX - TOLERANCE);
      expect(at('primo').x).to.be.above(textX);
      expect(at('secondo').x).to.be.closeTo(at('primo').x, 0.01);
      expect(at('2.').x).to.be.closeTo(marker, 0.01);
      expect(at('ultimo').x).to.be.closeTo(textX, 0.01);
    });
  });

  describe('pagination', () => {
    it('starts a new page at an explicit page break', async () => {
      const result = await render(
        model([para('Prima pagina'), { kind: 'pageBreak' }, para('Seconda pagina')]),
      );
      const { pages } = await readPdf(result.bytes);
      expect(pages.map((page) => streamText(page.items))).to.deep.equal([
        'Prima pagina',
        'Seconda pagina',
      ]);
    });

    it('keeps a heading with the paragraph after it', async () => {
      // Different amounts of filler put the heading at every position near the page foot.
      for (let fillers = 26; fillers <= 38; fillers++) {
        const body: Block[] = Array.from({ length: fillers }, (_, i) =>
          para(`Riempitivo ${i + 1}`),
        );
        body.push({ kind: 'heading', level: 2, align: 'center', runs: [text('TITOLO')] });
        body.push(para('Paragrafo dopo il titolo'));
        const { pages } = await readPdf((await render(model(body))).bytes);
        const withHeading = pages.find((page) => page.items.some((item) => item.str === 'TITOLO'));
        expect(
          withHeading?.items.some((item) => item.str === 'Paragrafo dopo il titolo'),
          `${fillers} fillers`,
        ).to.equal(true);
      }
    });

    it('splits a row taller than a page between lines, repeating the header row', async () => {
      const tall: Inline[] = [];
      for (let n = 1; n <= 120; n++) {
        if (n > 1) tall.push({ kind: 'lineBreak' });
        tall.push(text(`riga lunga ${n}`));
      }
      const result = await render(
        model(
          [
            para('Tabella con una riga molto alta:'),
            {
              kind: 'table',
              columnWidths: [0.3, 0.7],
              borders: true,
              header: { cells: [cell([text('Voce')]), cell([text('Contenuto')])] },
              rows: [
                { cells: [cell('breve'), cell('una riga')] },
                { cells: [cell('alta'), cell(tall)] },
                { cells: [cell('ultima'), cell('fine')] },
              ],
            },
          ],
          [],
          pageFooter,
        ),
      );
      expect(result.pageCount).to.be.at.least(3);
      const { pages } = await readPdf(result.bytes);
      expectInsidePages(pages);
      const all = pages.map((page) => streamText(page.items)).join(' ');
      for (let n = 1; n <= 120; n++)
        expect(containsPhrase(all, `riga lunga ${n}`), `line ${n}`).to.equal(true);
      for (const page of pages.filter((p) =>
        p.items.some((item) => item.str.startsWith('riga lunga')),
      )) {
        const pageText = streamText(page.items);
        expect(pageText.indexOf('Voce Contenuto')).to.be.at.least(0);
        expect(pageText.indexOf('Voce Contenuto')).to.be.below(pageText.indexOf('riga lunga'));
      }
      expect(all).to.include('ultima fine');
    });

    it('fills page fields in the body with the real numbers', async () => {
      const result = await render(
        model([
          para([
            text('Questo documento ha '),
            { kind: 'pageCount', bold: true, italic: false, underline: false },
            text(' pagine.'),
          ]),
          { kind: 'pageBreak' },
          para('Fine'),
        ]),
      );
      expect(result.pageCount).to.equal(2);
      expect(normalise(await pdftotext(result.file))).to.include('Questo documento ha 2 pagine.');
    });
  });

  describe('the logo', () => {
    const MM = 72 / 25.4;

    it('draws the PNG once embedded on every page, above all the text', async () => {
      const long = longDocument();
      const result = await render({ ...long, headerLogo: { heightMm: 18, image: pngImage() } });
      const listed = await pdfImages(result.bytes);
      expect(listed.map((image) => image.page)).to.deep.equal(
        Array.from({ length: result.pageCount }, (_, index) => index + 1),
      );
      expect(result.pageCount).to.be.above(1);
      for (const image of listed) {
        expect(image).to.include({ width: 24, height: 12, object: listed[0]!.object });
        // 24 pixels over 36 mm: the height asked for, the width by aspect ratio.
        expect(image.xPpi).to.be.closeTo(24 / (36 / 25.4), 1);
      }
      const logoBottom = (12 + 18) * MM;
      for (let page = 1; page <= result.pageCount; page++) {
        for (const word of await words(result.file, page)) {
          expect(word.top, `${word.text} on page ${page}`).to.be.at.least(logoBottom);
        }
      }
      const { pages } = await readPdf(result.bytes);
      expectInsidePages(pages);
      // The room the logo takes comes off the body, which therefore needs more pages.
      expect(result.pageCount).to.be.at.least((await renderPdf(long)).pageCount);
    });

    it('embeds a JPEG as it is, and draws nothing when the ente has no logo', async () => {
      const jpeg = await render({
        ...sampleDecreto(),
        headerLogo: { heightMm: 30, image: jpegImage() },
      });
      const listed = await pdfImages(jpeg.bytes);
      expect(listed).to.have.length(jpeg.pageCount);
      for (const image of listed)
        expect(image).to.include({ width: 30, height: 30, encoding: 'jpeg' });

      const plain = await renderPdf(sampleDecreto());
      const imageless = await renderPdf({ ...sampleDecreto(), headerLogo: { heightMm: 18 } });
      expect(Buffer.from(imageless.bytes).equals(Buffer.from(plain.bytes))).to.be.true;
    });

    it('is byte-identical across renders', async () => {
      const withLogo = (): DocumentModel => ({
        ...sampleDecreto(),
        headerLogo: { heightMm: 18, image: pngImage() },
      });
      const first = await renderPdf(withLogo());
      await renderPdf({ ...sampleDecreto(), headerLogo: { heightMm: 30, image: jpegImage() } });
      const second = await renderPdf(withLogo());
      expect(Buffer.from(second.bytes).equals(Buffer.from(first.bytes))).to.be.true;
    });
  });
});
