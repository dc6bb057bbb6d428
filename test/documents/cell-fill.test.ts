/**
 * Shaded table cells (`<td fill="#rrggbb">`): the markup checks the colour, the
 * DOCX carries it as the cell's shading and the PDF as a filled rectangle behind
 * the cell's text, read back with pdf.js as a viewer would draw it.
 */
import { expect } from 'chai';
import { inflateSync } from 'node:zlib';
import JSZip from 'jszip';
import { PDFArray, PDFDocument, PDFRawStream, PDFRef } from 'pdf-lib';
import { getDocument, OPS } from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { DocumentModel } from '../../server/documents/document-model.js';
import { MarkupError, parseMarkup } from '../../server/documents/markup.js';
import { renderDocx } from '../../server/documents/render-docx.js';
import { renderPdf } from '../../server/documents/render-pdf.js';
import { sampleDecreto } from './sample-model.js';

const MM = 72 / 25.4;
/** The body's text frame on A4: 20 mm margins left and right. */
const TEXT_LEFT = 20 * MM;
const TEXT_WIDTH = 595.28 - 40 * MM;

function document(body: string): string {
  return `<document title="Prova" author="Comune di Prova" date="2026-01-15">\n${body}\n</document>`;
}

/** A 2×2 grid with a header: green and red cells, one plain cell per row. */
const grid = document(`<table widths="25,75">
  <thead><tr><th fill="#D9D9D9"><b>Livello</b></th><th><b>Rischi</b></th></tr></thead>
  <tr><td fill="#c6efce">Verde</td><td>R1 R2</td></tr>
  <tr><td fill="#ff0000">Rosso</td><td>R3</td></tr>
</table>`);

interface FilledRect {
  colour: string;
  left: number;
  bottom: number;
  right: number;
  top: number;
  /** Position in the page's operator list: what is drawn later covers it. */
  order: number;
}

interface PlacedText {
  text: string;
  x: number;
  y: number;
  order: number;
}

/** The filled rectangles and the text of each page, in drawing order, as pdf.js reads them. */
async function pdfDrawing(
  bytes: Uint8Array,
): Promise<{ rects: FilledRect[]; texts: PlacedText[] }[]> {
  // pdf.js takes ownership of (detaches) the buffer it is given.
  const pdf = await getDocument({ data: bytes.slice(), isEvalSupported: false, verbosity: 0 })
    .promise;
  const pages: { rects: FilledRect[]; texts: PlacedText[] }[] = [];
  for (let number = 1; number <= pdf.numPages; number++) {
    const page = await pdf.getPage(number);
    const operators = await page.getOperatorList();
    const rects: FilledRect[] = [];
    const texts: PlacedText[] = [];
    let colour = '#000000';
    const saved: string[] = [];
    let textX = 0;
    let textY = 0;
    operators.fnArray.forEach((fn, order) => {
      // pdf.js's argument arrays are untyped; each operator's shape is fixed by its code.
      const args = operators.argsArray[order] as unknown[];
      if (fn === OPS.save) saved.push(colour);
      else if (fn === OPS.restore) colour = saved.pop() ?? '#000000';
      else if (fn === OPS.setFillRGBColor) colour = String(args[0]);
      else if (fn === OPS.constructPath && (args[0] === OPS.fill || args[0] === OPS.eoFill)) {
        const [left, bottom, right, top] = Array.from(args[2] as ArrayLike<number>);
        rects.push({ colour, left, bottom, right, top, order } as FilledRect);
      } else if (fn === OPS.setTextMatrix) {
        const matrix = Array.from(args[0] as ArrayLike<number>);
        textX = matrix[4] ?? 0;
        textY = matrix[5] ?? 0;
      } else if (fn === OPS.showText) {
        const glyphs = args[0] as ({ unicode: string } | number)[];
        const text = glyphs.map((glyph) => (typeof glyph === 'number' ? '' : glyph.unicode));
        texts.push({ text: text.join(''), x: textX, y: textY, order });
      }
    });
    pages.push({ rects, texts });
  }
  await pdf.destroy();
  return pages;
}

function textNamed(texts: PlacedText[], text: string): PlacedText {
  const found = texts.find((placed) => placed.text === text);
  expect(found, `text "${text}" on the page`).to.not.equal(undefined);
  return found as PlacedText;
}

function inside(rect: FilledRect, text: PlacedText): boolean {
  return text.x > rect.left && text.x < rect.right && text.y > rect.bottom && text.y < rect.top;
}

/** Each `<w:tc>` of the document's tables: its shading fill (if any) and its text. */
async function docxCells(bytes: Buffer): Promise<{ fill: string | undefined; text: string }[]> {
  const xml = await (await JSZip.loadAsync(bytes)).file('word/document.xml')?.async('string');
  expect(xml, 'word/document.xml').to.be.a('string');
  return [...(xml as string).matchAll(/<w:tc>(.*?)<\/w:tc>/gs)].map((match) => {
    const cell = match[1] ?? '';
    const properties = /<w:tcPr>(.*?)<\/w:tcPr>/s.exec(cell)?.[1] ?? '';
    const shading = /<w:shd ([^>]*)\/>/.exec(properties)?.[1];
    const text = [...cell.matchAll(/<w:t(?: [^>]*)?>([^<]*)<\/w:t>/g)].map((t) => t[1]).join('');
    if (shading === undefined) return { fill: undefined, text };
    expect(shading, 'a plain background').to.match(/w:val="clear"/);
    expect(shading).to.match(/w:color="auto"/);
    return { fill: /w:fill="([0-9A-Fa-f]{6})"/.exec(shading)?.[1], text };
  });
}

function expectMarkupError(markup: string, element: string, line: number, detail: RegExp): void {
  let caught: unknown;
  try {
    parseMarkup(markup);
  } catch (error) {
    caught = error;
  }
  expect(caught).to.be.instanceOf(MarkupError);
  const error = caught as MarkupError;
  expect(error.element).to.equal(element);
  expect(error.line).to.equal(line);
  expect(error.message).to.match(new RegExp(`^riga ${line}: `));
  expect(error.message).to.match(detail);
}

describe('shaded table cells', () => {
  describe('in the markup', () => {
    it('gives <td> and <th> their fill, in lower case, and leaves other cells without', () => {
      const table = parseMarkup(grid).body[0];
      if (table?.kind !== 'table') throw new Error('expected a table');
      expect(table.header?.cells.map((cell) => cell.fill)).to.deep.equal(['#d9d9d9', undefined]);
      expect(table.rows.map((row) => row.cells.map((cell) => cell.fill))).to.deep.equal([
        ['#c6efce', undefined],
        ['#ff0000', undefined],
      ]);
      expect(Object.hasOwn(table.rows[0]?.cells[1] ?? {}, 'fill')).to.equal(false);
    });

    it('refuses a colour in any other form, naming the element and the line', () => {
      const bad = (cell: string) =>
        document(`<table>\n<tr><td>a</td></tr>\n<tr>${cell}</tr>\n</table>`);
      for (const value of ['red', '#f00', '#12345g', 'c6efce', '#c6efce80', '']) {
        expectMarkupError(
          bad(`<td fill="${value}">b</td>`),
          'td',
          4,
          new RegExp(
            `valore "${value}" non valido per l'attributo fill di <td>: serve un colore #rrggbb`,
          ),
        );
      }
      expectMarkupError(bad('<th fill="green">b</th>'), 'th', 4, /attributo fill di <th>/);
    });

    it('allows fill only on cells', () => {
      expectMarkupError(
        document('<table>\n<tr fill="#ff0000"><td>a</td></tr>\n</table>'),
        'tr',
        3,
        /attributo "fill" non ammesso in <tr>/,
      );
      expectMarkupError(
        document('<p fill="#ff0000">a</p>'),
        'p',
        2,
        /attributo "fill" non ammesso in <p>/,
      );
    });
  });

  describe('in the DOCX', () => {
    it('shades exactly the filled cells, with a clear pattern in their colour', async () => {
      const cells = await docxCells(await renderDocx(parseMarkup(grid)));
      expect(cells).to.deep.equal([
        { fill: 'D9D9D9', text: 'Livello' },
        { fill: undefined, text: 'Rischi' },
        { fill: 'C6EFCE', text: 'Verde' },
        { fill: undefined, text: 'R1 R2' },
        { fill: 'FF0000', text: 'Rosso' },
        { fill: undefined, text: 'R3' },
      ]);
    });
  });

  describe('in the PDF', () => {
    it('draws a rectangle in the colour behind each filled cell, exactly at the cell', async () => {
      const { bytes } = await renderPdf(parseMarkup(grid));
      const [page] = await pdfDrawing(bytes);
      if (!page) throw new Error('no page');
      const coloured = page.rects.filter((rect) => ['#c6efce', '#ff0000'].includes(rect.colour));
      expect(coloured.map((rect) => rect.colour)).to.deep.equal(['#c6efce', '#ff0000']);
      for (const [rect, own, neighbour] of [
        [coloured[0], 'Verde', 'R1 R2'],
        [coloured[1], 'Rosso', 'R3'],
      ] as const) {
        if (!rect) throw new Error('missing rectangle');
        // The first column: a quarter of the text width, from the left margin.
        expect(rect.left).to.be.closeTo(TEXT_LEFT, 0.01);
        expect(rect.right - rect.left).to.be.closeTo(TEXT_WIDTH * 0.25, 0.01);
        const text = textNamed(page.texts, own);
        expect(inside(rect, text), `${own} inside its cell`).to.equal(true);
        expect(rect.order, `${own}: the background is drawn before the text`).to.be.below(
          text.order,
        );
        expect(inside(rect, textNamed(page.texts, neighbour)), neighbour).to.equal(false);
      }
      // The header cell's own grey goes over the header row's and under its text.
      const header = page.rects.find((rect) => rect.colour === '#d9d9d9');
      if (!header) throw new Error('no header cell fill');
      expect(inside(header, textNamed(page.texts, 'Livello'))).to.equal(true);
      expect(inside(header, textNamed(page.texts, 'Rischi'))).to.equal(false);
      // Rows stack: the red row lies wholly below the green one.
      expect(coloured[1]?.top).to.be.closeTo(coloured[0]?.bottom ?? 0, 0.01);
      // The text stays black after the coloured backgrounds.
      expect(page.rects.filter((rect) => rect.colour === '#000000')).to.deep.equal([]);
    });

    it('shades every part of a filled row split across pages', async () => {
      const lines = Array.from({ length: 60 }, (_, index) => `<p>Riga ${index + 1}</p>`);
      const model = parseMarkup(
        document(
          `<table widths="50,50"><tr><td fill="#ffeb9c">${lines.join('')}</td><td>Accanto</td></tr></table>`,
        ),
      );
      const { bytes, pageCount } = await renderPdf(model);
      expect(pageCount).to.be.at.least(2);
      const pages = await pdfDrawing(bytes);
      for (const [index, page] of pages.entries()) {
        const fills = page.rects.filter((rect) => rect.colour === '#ffeb9c');
        expect(fills, `page ${index + 1}`).to.have.length(1);
        const fill = fills[0] as FilledRect;
        const rows = page.texts.filter((placed) => placed.text.startsWith('Riga '));
        expect(rows, `page ${index + 1} rows`).to.not.deep.equal([]);
        expect(
          rows.every((row) => inside(fill, row)),
          `page ${index + 1}`,
        ).to.equal(true);
      }
    });

    it('sets only grey levels in a document without fills, as before colours existed', async () => {
      const model: DocumentModel = sampleDecreto();
      const pdf = await PDFDocument.load((await renderPdf(model)).bytes);
      const operators = new Set<string>();
      for (const page of pdf.getPages()) {
        const contents = page.node.Contents();
        const streams = contents instanceof PDFArray ? contents.asArray() : [contents];
        const stream = streams
          .map((item) => {
            const raw = item instanceof PDFRef ? pdf.context.lookup(item) : item;
            if (!(raw instanceof PDFRawStream)) throw new Error('content stream expected');
            return inflateSync(raw.contents).toString('latin1');
          })
          .join('\n');
        for (const match of stream.matchAll(/ (g|rg)$/gm)) operators.add(match[1] ?? '');
      }
      expect([...operators]).to.deep.equal(['g']);
    });
  });
});
