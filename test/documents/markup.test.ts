import { expect } from 'chai';
import {
  inlineText,
  type Block,
  type Heading,
  type List,
  type Paragraph,
  type SignatureBlock,
  type Table,
} from '../../server/documents/document-model.js';
import { MarkupError, parseMarkup } from '../../server/documents/markup.js';

const decreto = `<document title="Decreto n. 12 – Nomina della Designata" author="Comune di Calderara di Reno"
          subject="Nomina della Designata al trattamento" keywords="decreto, nomina,  GDPR ,"
          date="2026-11-24">
  <letterhead>
    <p align="center"><b>COMUNE DI CALDERARA DI RENO</b></p>
    <p>Città metropolitana di Bologna</p>
  </letterhead>
  <footer>
    <p align="right">Decreto n. 12 – pagina <b><page-number/></b> di <page-count/></p>
  </footer>

  <h1>DECRETO DEL SINDACO N. 12</h1>
  <h2 align="left">IL SINDACO</h2>
  <h3>Premesse</h3>

  <p><b>VISTO</b> il Regolamento (UE) 2016/679,
     in particolare l’<i>art. 28</i>, e il <b><i>D.Lgs. 196/2003</i></b>;</p>

  <ol type="a" start="3">
    <li>di nominare la dott.ssa <u>Maria Rossi</u>;</li>
    <li>di stabilire che la nomina riguarda:
      <ul>
        <li>il Settore Servizi Demografici;</li>
        <li><p align="left">i trattamenti censiti nel registro</p></li>
      </ul>
    </li>
    <li>
      <p>di notificare il presente decreto;</p>
      <p>di pubblicarlo all’Albo pretorio.</p>
    </li>
  </ol>

  <table widths="30,70" borders="false">
    <thead><tr><th>Trattamento</th><th align="center">Banca dati</th></tr></thead>
    <tbody>
      <tr><td>Anagrafe</td><td align="right">ANPR</td></tr>
      <tr>
        <td>Stato civile</td>
        <td><p>Registri</p><ol type="i"><li>nascite</li><li>matrimoni</li></ol></td>
      </tr>
    </tbody>
  </table>

  <page-break/>

  <signatures>
    <signature id="sindaco" role="Il Sindaco" name="Giampiero Falzone" note="firmato digitalmente"/>
    <signature id="designato" role="Per accettazione, la Designata" name="Maria Rossi"></signature>
  </signatures>
</document>
`;

function markupError(source: string): MarkupError {
  try {
    parseMarkup(source);
  } catch (error) {
    expect(error).to.be.instanceOf(MarkupError);
    return error as MarkupError;
  }
  expect.fail('parseMarkup accepted invalid markup');
}

/** A document around some body markup; the body starts on line 2. */
function inDocument(body: string): string {
  return `<document title="Prova" author="Comune di Prova" date="2026-01-15">\n${body}\n</document>`;
}

function onlyBlock(body: string): Block {
  const model = parseMarkup(inDocument(body));
  expect(model.body).to.have.length(1);
  return model.body[0]!;
}

function paragraphText(body: string): string {
  const block = onlyBlock(body);
  expect(block.kind).to.equal('paragraph');
  return inlineText((block as Paragraph).runs);
}

describe('markup parser', () => {
  describe('a realistic decreto', () => {
    const model = parseMarkup(decreto);

    it('reads the metadata', () => {
      expect(model.metadata).to.deep.equal({
        title: 'Decreto n. 12 – Nomina della Designata',
        author: 'Comune di Calderara di Reno',
        subject: 'Nomina della Designata al trattamento',
        keywords: ['decreto', 'nomina', 'GDPR'],
        language: 'it-IT',
        date: new Date(Date.UTC(2026, 10, 24)),
      });
      expect(model.metadata.date.toISOString()).to.equal('2026-11-24T00:00:00.000Z');
    });

    it('builds letterhead and footer with page fields, left-aligned by default', () => {
      expect(model.header.map((paragraph) => paragraph.align)).to.deep.equal(['center', 'left']);
      expect(model.header[0]!.runs).to.deep.equal([
        {
          kind: 'text',
          text: 'COMUNE DI CALDERARA DI RENO',
          bold: true,
          italic: false,
          underline: false,
        },
      ]);
      expect(model.footer).to.have.length(1);
      expect(model.footer[0]!.align).to.equal('right');
      expect(model.footer[0]!.runs).to.deep.equal([
        {
          kind: 'text',
          text: 'Decreto n. 12 – pagina ',
          bold: false,
          italic: false,
          underline: false,
        },
        { kind: 'pageNumber', bold: true, italic: false, underline: false },
        { kind: 'text', text: ' di ', bold: false, italic: false, underline: false },
        { kind: 'pageCount', bold: false, italic: false, underline: false },
      ]);
    });

    it('keeps the body blocks in order', () => {
      expect(model.body.map((block) => block.kind)).to.deep.equal([
        'heading',
        'heading',
        'heading',
        'paragraph',
        'list',
        'table',
        'pageBreak',
        'signatures',
      ]);
    });

    it('gives headings their level and alignment', () => {
      const headings = model.body.slice(0, 3) as Heading[];
      expect(headings.map(({ level, align }) => ({ level, align }))).to.deep.equal([
        { level: 1, align: 'center' },
        { level: 2, align: 'left' },
        { level: 3, align: 'left' },
      ]);
      expect(inlineText(headings[0]!.runs)).to.equal('DECRETO DEL SINDACO N. 12');
    });

    it('splits a paragraph into formatted runs with collapsed whitespace', () => {
      const paragraph = model.body[3] as Paragraph;
      expect(paragraph.align).to.equal('justify');
      expect(paragraph.runs).to.deep.equal([
        { kind: 'text', text: 'VISTO', bold: true, italic: false, underline: false },
        {
          kind: 'text',
          text: ' il Regolamento (UE) 2016/679, in particolare l’',
          bold: false,
          italic: false,
          underline: false,
        },
        { kind: 'text', text: 'art. 28', bold: false, italic: true, underline: false },
        { kind: 'text', text: ', e il ', bold: false, italic: false, underline: false },
        { kind: 'text', text: 'D.Lgs. 196/2003', bold: true, italic: true, underline: false },
        { kind: 'text', text: ';', bold: false, italic: false, underline: false },
      ]);
    });

    it('builds nested lists with their style, start and blocks', () => {
      const list = model.body[4] as List;
      expect(list.style).to.equal('lower-alpha');
      expect(list.start).to.equal(3);
      expect(list.items).to.have.length(3);

      const [first, second, third] = list.items;
      expect(first!.blocks).to.have.length(1);
      expect(
        (first!.blocks[0] as Paragraph).runs.map((run) => run.kind === 'text' && run.underline),
      ).to.deep.equal([false, true, false]);
      expect(inlineText((first!.blocks[0] as Paragraph).runs)).to.equal(
        'di nominare la dott.ssa Maria Rossi;',
      );

      expect(second!.blocks.map((block) => block.kind)).to.deep.equal(['paragraph', 'list']);
      expect(inlineText((second!.blocks[0] as Paragraph).runs)).to.equal(
        'di stabilire che la nomina riguarda:',
      );
      const nested = second!.blocks[1] as List;
      expect(nested.style).to.equal('bullet');
      expect(nested.start).to.equal(1);
      expect(nested.items.map((item) => (item.blocks[0] as Paragraph).align)).to.deep.equal([
        'justify',
        'left',
      ]);
      expect(inlineText((nested.items[1]!.blocks[0] as Paragraph).runs)).to.equal(
        'i trattamenti censiti nel registro',
      );

      expect(third!.blocks.map((block) => inlineText((block as Paragraph).runs))).to.deep.equal([
        'di notificare il presente decreto;',
        'di pubblicarlo all’Albo pretorio.',
      ]);
    });

    it('builds the table with header, normalised widths, rows and cell alignment', () => {
      const table = model.body[5] as Table;
      expect(table.borders).to.equal(false);
      expect(table.columnWidths).to.have.length(2);
      expect(table.columnWidths[0]).to.be.closeTo(0.3, 1e-12);
      expect(table.columnWidths[1]).to.be.closeTo(0.7, 1e-12);
      expect(table.header!.cells.map((cell) => cell.align)).to.deep.equal(['left', 'center']);
      expect(
        table.header!.cells.map((cell) => inlineText((cell.blocks[0] as Paragraph).runs)),
      ).to.deep.equal(['Trattamento', 'Banca dati']);
      expect(table.rows).to.have.length(2);
      const anprCell = table.rows[0]!.cells[1]!;
      expect(anprCell.align).to.equal('right');
      expect(anprCell.blocks).to.deep.equal([
        {
          kind: 'paragraph',
          align: 'right',
          runs: [{ kind: 'text', text: 'ANPR', bold: false, italic: false, underline: false }],
        },
      ]);
      const registri = table.rows[1]!.cells[1]!;
      expect(registri.blocks.map((block) => block.kind)).to.deep.equal(['paragraph', 'list']);
      expect((registri.blocks[0] as Paragraph).align).to.equal('left');
      expect((registri.blocks[1] as List).style).to.equal('lower-roman');
    });

    it('collects the signatures, with the optional note only where given', () => {
      expect((model.body[7] as SignatureBlock).signatures).to.deep.equal([
        {
          id: 'sindaco',
          role: 'Il Sindaco',
          name: 'Giampiero Falzone',
          note: 'firmato digitalmente',
        },
        { id: 'designato', role: 'Per accettazione, la Designata', name: 'Maria Rossi' },
      ]);
    });
  });

  describe('text', () => {
    it('decodes entities, so escaped user data comes back literally', () => {
      expect(
        paragraphText(
          '<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; perci&ograve; &egrave; l&#39;art. &#92; &quot;x&quot; &euro;</p>',
        ),
      ).to.equal('<script>alert(1)</script> & perciò è l\'art. \\ "x" €');
    });

    it('decodes entities in attributes', () => {
      const model = parseMarkup(
        '<document title="Atto &lt;b&gt; &amp; c." author="Ente d&#39;Italia" date="2026-01-01"></document>',
      );
      expect(model.metadata.title).to.equal('Atto <b> & c.');
      expect(model.metadata.author).to.equal("Ente d'Italia");
    });

    it('does not treat decoded markup characters as elements', () => {
      expect(paragraphText('<p>&lt;div&gt;testo&lt;/div&gt;</p>')).to.equal('<div>testo</div>');
    });

    it('collapses whitespace like HTML and trims around line breaks', () => {
      const block = onlyBlock(
        '<p>\n   Prima   riga  \t <br/>\n   seconda <b> riga </b> <br>  terza\n</p>',
      );
      expect((block as Paragraph).runs).to.deep.equal([
        { kind: 'text', text: 'Prima riga', bold: false, italic: false, underline: false },
        { kind: 'lineBreak' },
        { kind: 'text', text: 'seconda ', bold: false, italic: false, underline: false },
        { kind: 'text', text: 'riga', bold: true, italic: false, underline: false },
        { kind: 'lineBreak' },
        { kind: 'text', text: 'terza', bold: false, italic: false, underline: false },
      ]);
    });

    it('keeps no-break spaces, which are content', () => {
      expect(paragraphText('<p>€&nbsp;1.234,56</p>')).to.equal('€\u00a01.234,56');
    });

    it('ignores comments', () => {
      expect(paragraphText('<p>uno<!-- nota interna --> due</p>')).to.equal('uno due');
    });

    it('treats strong/em as b/i and combines nesting', () => {
      const block = onlyBlock('<p><strong>a<em>b<u>c</u></em></strong></p>') as Paragraph;
      expect(
        block.runs.map(
          (run) => run.kind === 'text' && [run.text, run.bold, run.italic, run.underline],
        ),
      ).to.deep.equal([
        ['a', true, false, false],
        ['b', true, true, false],
        ['c', true, true, true],
      ]);
    });
  });

  describe('defaults', () => {
    it('makes header and footer empty when absent and lists start at 1', () => {
      const model = parseMarkup(inDocument('<ol><li>uno</li></ol>'));
      expect(model.header).to.deep.equal([]);
      expect(model.footer).to.deep.equal([]);
      expect(model.metadata.keywords).to.deep.equal([]);
      expect(model.metadata).not.to.have.property('subject');
      expect(model.body[0]).to.include({ style: 'decimal', start: 1 });
    });

    it('gives equal widths and borders to a table without attributes', () => {
      const table = onlyBlock('<table><tr><td>a</td><td>b</td><td>c</td></tr></table>') as Table;
      expect(table.borders).to.equal(true);
      expect(table.header).to.equal(undefined);
      expect(table.columnWidths).to.deep.equal([1 / 3, 1 / 3, 1 / 3]);
    });

    it('maps every ol type', () => {
      const styles = ['1', 'a', 'A', 'i'].map(
        (type) => (onlyBlock(`<ol type="${type}"><li>x</li></ol>`) as List).style,
      );
      expect(styles).to.deep.equal(['decimal', 'lower-alpha', 'upper-alpha', 'lower-roman']);
    });

    it('gives an empty list item one empty paragraph to carry its marker', () => {
      const list = onlyBlock('<ul><li></li></ul>') as List;
      expect(list.items[0]!.blocks).to.deep.equal([
        { kind: 'paragraph', align: 'justify', runs: [] },
      ]);
    });
  });

  describe('errors', () => {
    const cases: { title: string; body: string; line: number; element: string; message: RegExp }[] =
      [
        {
          title: 'an element outside the subset',
          body: '<p>uno</p>\n\n<div>due</div>',
          line: 4,
          element: 'div',
          message: /^riga 4: elemento <div> non ammesso$/,
        },
        {
          title: 'a <li> outside a list',
          body: '<p>uno</p>\n<li>due</li>',
          line: 3,
          element: 'li',
          message:
            /^riga 3: elemento <li> non ammesso in <document> \(<li> va dentro <ol> o <ul>\)/,
        },
        {
          title: 'a <td> outside a <tr>',
          body: '<table>\n<td>x</td>\n</table>',
          line: 3,
          element: 'td',
          message: /riga 3: elemento <td> non ammesso in <table>/,
        },
        {
          title: 'a <signature> outside <signatures>',
          body: '<signature id="a" role="b" name="c"/>',
          line: 2,
          element: 'signature',
          message: /riga 2: elemento <signature> non ammesso in <document>/,
        },
        {
          title: 'a page number in the body',
          body: '<p>pagina <page-number/></p>',
          line: 2,
          element: 'page-number',
          message: /riga 2: elemento <page-number> non ammesso in <p>/,
        },
        {
          title: 'a block inside a paragraph',
          body: '<p>testo\n<signatures><signature id="a" role="b" name="c"/></signatures></p>',
          line: 3,
          element: 'signatures',
          message: /riga 3: elemento <signatures> non ammesso in <p>/,
        },
        {
          title: 'a table width count that differs from the columns',
          body: '<p>x</p>\n<table widths="20,30,50">\n<tr><td>a</td><td>b</td></tr>\n</table>',
          line: 3,
          element: 'table',
          message: /riga 3: <table> dichiara 3 larghezze in widths ma le righe hanno 2 celle/,
        },
        {
          title: 'rows with different cell counts',
          body: '<table>\n<tr><td>a</td><td>b</td></tr>\n<tr><td>c</td></tr>\n</table>',
          line: 4,
          element: 'tr',
          message: /riga 4: la riga ha 1 celle, ma la prima riga della tabella ne ha 2/,
        },
        {
          title: 'a header row with a different cell count',
          body: '<table><thead><tr><th>a</th></tr></thead>\n<tr><td>b</td><td>c</td></tr></table>',
          line: 3,
          element: 'tr',
          message: /riga 3: la riga ha 2 celle/,
        },
        {
          title: 'a non-numeric width',
          body: '<table widths="30,abc"><tr><td>a</td><td>b</td></tr></table>',
          line: 2,
          element: 'table',
          message: /valore "30,abc" non valido per l'attributo widths di <table>/,
        },
        {
          title: 'a signature without a name',
          body: '<signatures>\n  <signature id="sindaco" role="Il Sindaco"/>\n</signatures>',
          line: 3,
          element: 'signature',
          message: /^riga 3: attributo obbligatorio "name" mancante in <signature>$/,
        },
        {
          title: 'a signature with an empty name',
          body: '<signatures><signature id="sindaco" role="Il Sindaco" name="  "/></signatures>',
          line: 2,
          element: 'signature',
          message: /attributo obbligatorio "name" vuoto in <signature>/,
        },
        {
          title: 'two signatures with the same id',
          body: '<signatures><signature id="a" role="r" name="n"/>\n<signature id="a" role="r" name="m"/></signatures>',
          line: 3,
          element: 'signature',
          message: /id di firma "a" ripetuto/,
        },
        {
          title: 'an attribute outside the subset',
          body: '<p class="grande">x</p>',
          line: 2,
          element: 'p',
          message: /attributo "class" non ammesso in <p>/,
        },
        {
          title: 'an invalid alignment',
          body: '<p align="middle">x</p>',
          line: 2,
          element: 'p',
          message: /valore "middle" non valido per l'attributo align di <p>/,
        },
        {
          title: 'an unsupported list type',
          body: '<ol type="I"><li>x</li></ol>',
          line: 2,
          element: 'ol',
          message: /valore "I" non valido per l'attributo type di <ol>/,
        },
        {
          title: 'text directly in the body',
          body: '<p>x</p>\n   testo libero',
          line: 3,
          element: 'document',
          message: /riga 3: testo non ammesso in <document>: "testo libero"/,
        },
        {
          title: 'text directly in a list',
          body: '<ul>\n<li>a</li>\nb\n</ul>',
          line: 4,
          element: 'ul',
          message: /riga 4: testo non ammesso in <ul>/,
        },
        {
          title: 'an element left open',
          body: '<p>uno <b>due</p>',
          line: 2,
          element: 'b',
          message: /riga 2: elemento <b> non chiuso: manca <\/b>/,
        },
        {
          title: 'a stray end tag',
          body: '<p>uno</i> due</p>',
          line: 2,
          element: 'i',
          message: /riga 2: tag di chiusura <\/i> senza apertura/,
        },
        {
          title: 'a repeated attribute',
          body: '<p align="left" align="right">x</p>',
          line: 2,
          element: 'p',
          message: /attributo "align" ripetuto in <p>/,
        },
        {
          title: 'a letterhead after the body has started',
          body: '<p>x</p>\n<letterhead><p>y</p></letterhead>',
          line: 3,
          element: 'letterhead',
          message: /<letterhead> deve precedere il corpo del documento/,
        },
        {
          title: 'a heading inside the letterhead',
          body: '<letterhead><h1>x</h1></letterhead>',
          line: 2,
          element: 'h1',
          message: /elemento <h1> non ammesso in <letterhead>/,
        },
        {
          title: 'a thead with two rows',
          body: '<table><thead><tr><th>a</th></tr><tr><th>b</th></tr></thead></table>',
          line: 2,
          element: 'thead',
          message: /<thead> deve contenere esattamente una <tr>/,
        },
        {
          title: 'content in a page break',
          body: '<page-break>testo</page-break>',
          line: 2,
          element: 'page-break',
          message: /<page-break> non può avere contenuto/,
        },
      ];

    for (const { title, body, line, element, message } of cases) {
      it(`rejects ${title}`, () => {
        const error = markupError(inDocument(body));
        expect(error.message).to.match(message);
        expect(error.line).to.equal(line);
        expect(error.element).to.equal(element);
      });
    }

    it('requires title, author and date on <document>', () => {
      for (const attribute of ['title', 'author', 'date']) {
        const attributes = { title: 'T', author: 'A', date: '2026-01-01' };
        delete attributes[attribute as keyof typeof attributes];
        const source = `<document ${Object.entries(attributes)
          .map(([name, value]) => `${name}="${value}"`)
          .join(' ')}></document>`;
        expect(markupError(source).message).to.equal(
          `riga 1: attributo obbligatorio "${attribute}" mancante in <document>`,
        );
      }
    });

    it('rejects a date that does not exist or is not AAAA-MM-GG', () => {
      for (const date of ['2026-02-30', '24/11/2026', '2026-11-24T10:00:00Z']) {
        const error = markupError(`<document title="T" author="A" date="${date}"></document>`);
        expect(error.message).to.include(`valore "${date}" non valido per l'attributo date`);
        expect(error.element).to.equal('document');
      }
    });

    it('requires a single <document> root and nothing outside it', () => {
      expect(markupError('<p>x</p>').message).to.equal(
        'riga 1: elemento <p> non ammesso fuori da <document>',
      );
      expect(markupError('').message).to.equal("riga 1: manca l'elemento radice <document>");
      expect(
        markupError(
          inDocument('') + '\n<document title="a" author="b" date="2026-01-01"></document>',
        ).message,
      ).to.equal('riga 4: elemento <document> ripetuto');
      expect(markupError(inDocument('') + '\nciao').message).to.equal(
        'riga 4: testo non ammesso fuori da <document>: "ciao"',
      );
    });
  });

  describe('the logo', () => {
    const withLetterhead = (letterhead: string) =>
      inDocument(`<letterhead>\n${letterhead}\n</letterhead>\n<p>Testo.</p>`);

    it('reads <logo/> in the letterhead, with the default height, before the paragraphs', () => {
      const model = parseMarkup(withLetterhead('<logo/>\n<p align="center">COMUNE</p>'));
      expect(model.headerLogo).to.deep.equal({ heightMm: 18 });
      expect(model.header.map((p) => inlineText(p.runs))).to.deep.equal(['COMUNE']);
    });

    it('takes the height in millimetres within 5 to 40', () => {
      expect(parseMarkup(withLetterhead('<logo height="25"/>')).headerLogo).to.deep.equal({
        heightMm: 25,
      });
      expect(parseMarkup(withLetterhead('<logo height="5"></logo>')).headerLogo).to.deep.equal({
        heightMm: 5,
      });
      expect(parseMarkup(withLetterhead('<logo height="12.5"/>')).headerLogo).to.deep.equal({
        heightMm: 12.5,
      });
    });

    it('has no logo when the letterhead does not ask for one', () => {
      expect(parseMarkup(withLetterhead('<p>COMUNE</p>'))).to.not.have.property('headerLogo');
    });

    it('refuses a height out of range or not a number, naming the element and the line', () => {
      for (const height of ['4', '41', '0', '-10', 'abc', '18mm', '']) {
        const error = markupError(
          withLetterhead(`<p>COMUNE</p>`.replace('<p>', `<logo height="${height}"/><p>`)),
        );
        expect(error.element, height).to.equal('logo');
        expect(error.line, height).to.equal(3);
        expect(error.message, height).to.match(
          /^riga 3: valore ".*" non valido per l'attributo height di <logo>/,
        );
      }
    });

    it('refuses <logo> outside the letterhead, naming it and the line', () => {
      const inBody = markupError(inDocument('<p>Testo.</p>\n<logo/>'));
      expect(inBody.element).to.equal('logo');
      expect(inBody.message).to.equal(
        'riga 3: elemento <logo> non ammesso in <document> (<logo> va solo in <letterhead>)',
      );
      const inFooter = markupError(inDocument('<footer>\n<logo/>\n</footer>'));
      expect(inFooter.message).to.match(/^riga 3: elemento <logo> non ammesso in <footer>/);
      const inParagraph = markupError(withLetterhead('<p>COMUNE <logo/></p>'));
      expect(inParagraph.message).to.match(/^riga 3: elemento <logo> non ammesso in <p>/);
    });

    it('refuses a second logo, a logo after the text, content and unknown attributes', () => {
      expect(markupError(withLetterhead('<logo/>\n<logo/>')).message).to.equal(
        'riga 4: elemento <logo> ripetuto',
      );
      expect(markupError(withLetterhead('<p>COMUNE</p>\n<logo/>')).message).to.equal(
        "riga 4: <logo> deve precedere i paragrafi dell'intestazione",
      );
      expect(markupError(withLetterhead('<logo>stemma</logo>')).message).to.equal(
        'riga 3: <logo> non può avere contenuto',
      );
      expect(markupError(withLetterhead('<logo width="30"/>')).message).to.equal(
        'riga 3: attributo "width" non ammesso in <logo>',
      );
    });
  });
});
