import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { expect } from 'chai';
import mammoth from 'mammoth';
import type { DocumentModel } from '../../server/documents/document-model.js';
import { renderDocx } from '../../server/documents/render-docx.js';
import { jpegImage, jpegLogo, pngImage, pngLogo } from './logo-images.js';
import { list, longDocument, para, sampleDecreto, text } from './sample-model.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererPath = path.resolve(here, '../../server/documents/render-docx.ts');
const sampleModelPath = path.resolve(here, 'sample-model.ts');

/** The parts of a zip file by path, read with zlib so the test needs no zip library. */
interface ZipEntry {
  data: Buffer;
  dosDate: number;
  dosTime: number;
}

function readZip(zip: Buffer): Map<string, ZipEntry> {
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== 0x06054b50) end--;
  expect(end, 'zip end-of-central-directory record').to.be.at.least(0);
  const entries = new Map<string, ZipEntry>();
  let offset = zip.readUInt32LE(end + 16);
  for (let i = 0; i < zip.readUInt16LE(end + 10); i++) {
    expect(zip.readUInt32LE(offset)).to.equal(0x02014b50);
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    const local = zip.readUInt32LE(offset + 42);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(dataStart, dataStart + compressedSize);
    entries.set(name, {
      data: method === 8 ? inflateRawSync(raw) : Buffer.from(raw),
      dosTime: zip.readUInt16LE(offset + 12),
      dosDate: zip.readUInt16LE(offset + 14),
    });
    offset += 46 + nameLength + zip.readUInt16LE(offset + 30) + zip.readUInt16LE(offset + 32);
  }
  return entries;
}

function part(zip: Map<string, ZipEntry>, name: string): string {
  const entry = zip.get(name);
  expect(entry, `part ${name}`).to.not.equal(undefined);
  return entry!.data.toString('utf8');
}

/** Each phrase must occur after the previous one. */
function expectInOrder(haystack: string, phrases: string[]): void {
  let from = 0;
  for (const phrase of phrases) {
    const at = haystack.indexOf(phrase, from);
    expect(at, `"${phrase}" after position ${from}`).to.be.at.least(0);
    from = at + phrase.length;
  }
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function onPath(names: string[]): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      try {
        await access(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not in this directory
      }
    }
  }
  return undefined;
}

/** Lists that must each restart, one with its own start, and every list style. */
function numberingModel(): DocumentModel {
  const base = sampleDecreto();
  return {
    ...base,
    body: [
      list('decimal', ['Alfa primo', 'Alfa secondo']),
      para('Testo tra due elenchi.'),
      list('decimal', ['Beta primo', 'Beta secondo']),
      list('decimal', ['Gamma quarto', 'Gamma quinto'], 4),
      list('lower-roman', ['Romano uno', 'Romano due']),
      list('upper-alpha', ['Lettera uno', 'Lettera due']),
      list('bullet', ['Punto elenco']),
      para([text('Prima riga'), { kind: 'lineBreak' }, text('Seconda riga')], 'left'),
      { kind: 'pageBreak' },
      para('Dopo il salto pagina.'),
    ],
  };
}

/** Input a careless template could produce; none of it may give a file Word calls damaged. */
function edgeModel(): DocumentModel {
  const base = sampleDecreto();
  const cell = (value: string) => ({ blocks: [para(value, 'left')], align: 'left' as const });
  return {
    ...base,
    header: [],
    footer: [],
    body: [
      para([]),
      { kind: 'table', columnWidths: [1], rows: [], borders: true },
      {
        kind: 'table',
        columnWidths: [0.5, 0.5],
        borders: false,
        rows: [
          { cells: [cell('Uno'), cell('Due'), cell('Tre in eccesso'), cell('Quattro in eccesso')] },
          { cells: [cell('Riga corta')] },
          {
            cells: [
              cell('Cella lunga ' + 'testo molto lungo '.repeat(200)),
              { blocks: [list('bullet', ['Elenco in cella'])], align: 'right' },
            ],
          },
        ],
      },
      { kind: 'signatures', signatures: [] },
      list('decimal', [
        [
          para('Livello uno'),
          list('lower-alpha', [[para('Livello due'), list('lower-roman', ['Livello tre'])]]),
          para('Seguito del livello uno'),
        ],
      ]),
    ],
  };
}

describe('renderDocx', function () {
  let sample: Buffer;
  let sampleZip: Map<string, ZipEntry>;

  before(async function () {
    sample = await renderDocx(sampleDecreto());
    sampleZip = readZip(sample);
  });

  describe('determinism', function () {
    it('gives the same bytes for the same model, twice in one process', async function () {
      const again = await renderDocx(sampleDecreto());
      expect(again.equals(sample)).to.be.true;
      const long1 = await renderDocx(longDocument());
      const long2 = await renderDocx(longDocument());
      expect(long1.equals(long2)).to.be.true;
    });

    it('gives the same bytes in another process, in another time zone', async function () {
      this.timeout(60_000);
      const script = [
        "import { createHash } from 'node:crypto';",
        `const { renderDocx } = await import(${JSON.stringify(pathToFileURL(rendererPath).href)});`,
        `const { sampleDecreto } = await import(${JSON.stringify(pathToFileURL(sampleModelPath).href)});`,
        'const buffer = await renderDocx(sampleDecreto());',
        "process.stdout.write(createHash('sha256').update(buffer).digest('hex'));",
      ].join('\n');
      const result = await run(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { ...process.env, TZ: 'Pacific/Auckland' },
      );
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout.trim()).to.equal(sha256(sample));
    });

    it('dates every zip entry and the core properties with the document date', function () {
      // 2026-11-24 09:00:00 UTC in MS-DOS form.
      const dosDate = ((2026 - 1980) << 9) | (11 << 5) | 24;
      const dosTime = 9 << 11;
      for (const [name, entry] of sampleZip) {
        expect(entry.dosDate, name).to.equal(dosDate);
        expect(entry.dosTime, name).to.equal(dosTime);
      }
      const core = part(sampleZip, 'docProps/core.xml');
      expect(core).to.include(
        '<dcterms:created xsi:type="dcterms:W3CDTF">2026-11-24T09:00:00Z</dcterms:created>',
      );
      expect(core).to.include(
        '<dcterms:modified xsi:type="dcterms:W3CDTF">2026-11-24T09:00:00Z</dcterms:modified>',
      );
    });
  });

  describe('package', function () {
    it('writes the metadata as core properties', function () {
      const core = part(sampleZip, 'docProps/core.xml');
      expect(core).to.include(
        '<dc:title>Decreto del Sindaco n. 12 del 24 novembre 2026</dc:title>',
      );
      expect(core).to.include('<dc:creator>Comune di Sant’Elpidio a Mare</dc:creator>');
      expect(core).to.include(
        '<dc:subject>Designazione del soggetto autorizzato al trattamento dei dati personali</dc:subject>',
      );
      expect(core).to.include('<cp:keywords>GDPR, designazione, art. 2-quaterdecies</cp:keywords>');
      expect(core).to.include('<dc:language>it-IT</dc:language>');
    });

    it('sets up A4 portrait with the margins, and a header and footer on every page', function () {
      const document = part(sampleZip, 'word/document.xml');
      expect(document).to.match(/<w:pgSz w:w="11906" w:h="16838"( w:orient="portrait")?\/>/);
      expect(document).to.match(
        /<w:pgMar w:top="1418" w:right="1134" w:bottom="1418" w:left="1134"/,
      );
      expect(document).to.include('<w:headerReference w:type="default"');
      expect(document).to.include('<w:footerReference w:type="default"');
      expect(part(sampleZip, 'word/header1.xml')).to.include('COMUNE DI SANT’ELPIDIO A MARE');
      const footer = part(sampleZip, 'word/footer1.xml');
      expect(footer).to.match(/<w:instrText[^>]*>\s*PAGE\s*<\/w:instrText>/);
      expect(footer).to.match(/<w:instrText[^>]*>\s*NUMPAGES\s*<\/w:instrText>/);
      expect(footer).to.include('<w:pStyle w:val="Footer"/>');
    });

    it('defines the body font, language and line spacing, and the Word heading styles', function () {
      const styles = part(sampleZip, 'word/styles.xml');
      const defaults = /<w:docDefaults>.*<\/w:docDefaults>/s.exec(styles)?.[0] ?? '';
      expect(defaults).to.include('w:ascii="Times New Roman"');
      expect(defaults).to.include('<w:sz w:val="24"/>');
      expect(defaults).to.include('<w:lang w:val="it-IT"/>');
      expect(defaults).to.include('w:line="276"');
      for (const level of [1, 2, 3]) {
        const style =
          new RegExp(
            `<w:style w:type="paragraph" w:styleId="Heading${level}">.*?</w:style>`,
            's',
          ).exec(styles)?.[0] ?? '';
        expect(style, `Heading${level}`).to.include(`<w:name w:val="heading ${level}"/>`);
        expect(style, `Heading${level}`).to.include('<w:keepNext/>');
        expect(style, `Heading${level}`).to.include(`<w:outlineLvl w:val="${level - 1}"/>`);
      }
      expect(styles).to.include('<w:style w:type="table" w:styleId="SigilloTable">');
      // Each id once: a repeated id is a style Word silently drops.
      const ids = [...styles.matchAll(/w:styleId="([^"]+)"/g)].map((m) => m[1]);
      expect(new Set(ids).size).to.equal(ids.length);

      const document = part(sampleZip, 'word/document.xml');
      expect(document).to.include('<w:pStyle w:val="Heading1"/>');
      expect(document).to.include('<w:pStyle w:val="Heading2"/>');
      expect(document).to.include('<w:jc w:val="both"/>');
    });

    it('writes tables with their column widths, styled, with a repeated bold header row', function () {
      const document = part(sampleZip, 'word/document.xml');
      const table = /<w:tbl>.*?<\/w:tbl>/s.exec(document)?.[0] ?? '';
      expect(table).to.include('<w:tblStyle w:val="SigilloTable"/>');
      const grid = [...table.matchAll(/<w:gridCol w:w="(\d+)"\/>/g)].map((m) => Number(m[1]));
      expect(grid).to.have.length(3);
      expect(grid.reduce((a, b) => a + b, 0)).to.equal(11906 - 2 * 1134);
      expect(grid[0]).to.be.closeTo(0.4 * 9638, 1);
      expect(grid[1]).to.be.closeTo(0.35 * 9638, 1);
      const rows = [...table.matchAll(/<w:tr>.*?<\/w:tr>/gs)].map((m) => m[0]);
      expect(rows[0]).to.include('<w:tblHeader/>');
      expect(rows[0]).to.include('<w:pStyle w:val="SigilloTableHeading"/>');
      expect(rows[1]).to.not.include('<w:tblHeader');
      expect(table).to.include('<w:insideH w:val="single"');
    });

    it('lays out signatures as a borderless table that keeps together', function () {
      const document = part(sampleZip, 'word/document.xml');
      const tables = [...document.matchAll(/<w:tbl>.*?<\/w:tbl>/gs)].map((m) => m[0]);
      const signatures = tables.find((t) => t.includes('Giovanni Bianchi')) ?? '';
      expect(signatures).to.include('<w:insideV w:val="none"');
      expect(signatures.match(/<w:gridCol /g)).to.have.length(2);
      expect(signatures.match(/<w:tr>/g)?.length).to.equal(
        signatures.match(/<w:cantSplit\/>/g)?.length,
      );
      expect(signatures).to.include('<w:pStyle w:val="SigilloSignature"/>');
      expect(signatures).to.include('<w:pStyle w:val="SigilloSignatureNote"/>');
      const styles = part(sampleZip, 'word/styles.xml');
      const signatureStyle =
        /<w:style w:type="paragraph" w:styleId="SigilloSignature">.*?<\/w:style>/s.exec(
          styles,
        )?.[0] ?? '';
      expect(signatureStyle).to.include('<w:keepNext/>');
      expect(signatureStyle).to.include('<w:jc w:val="center"/>');
    });

    it('numbers each list on its own, honouring start, with the marker of its style', async function () {
      const zip = readZip(await renderDocx(numberingModel()));
      const document = part(zip, 'word/document.xml');
      const numbering = part(zip, 'word/numbering.xml');
      const numIdOf = (phrase: string): string => {
        const paragraph = [...document.matchAll(/<w:p>.*?<\/w:p>/gs)]
          .map((m) => m[0])
          .find((p) => p.includes(phrase));
        return /<w:numId w:val="(\d+)"\/>/.exec(paragraph ?? '')?.[1] ?? '';
      };
      const ids = ['Alfa primo', 'Beta primo', 'Gamma quarto', 'Romano uno', 'Lettera uno'].map(
        numIdOf,
      );
      expect(ids.every((id) => id !== '')).to.be.true;
      expect(new Set(ids).size).to.equal(ids.length);
      expect(numIdOf('Alfa secondo')).to.equal(ids[0]);
      for (const id of ids) {
        expect(numbering).to.match(
          new RegExp(`<w:num w:numId="${id}">.*?<w:startOverride w:val="\\d+"/>.*?</w:num>`, 's'),
        );
      }
      expect(numbering).to.match(
        new RegExp(`<w:num w:numId="${ids[2]}">.*?<w:startOverride w:val="4"/>`, 's'),
      );
      expect(numbering).to.include('<w:numFmt w:val="lowerRoman"/><w:lvlText w:val="%1)"/>');
      expect(numbering).to.include('<w:numFmt w:val="upperLetter"/><w:lvlText w:val="%1)"/>');
      expect(numbering).to.include('<w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/>');
      expect(document).to.include('<w:br w:type="page"/>');
      expect(document).to.match(/Prima riga<\/w:t><\/w:r><w:r><w:br\/><\/w:r>/);

      // The sample's lettered sub-list is one level in.
      const sampleDocument = part(sampleZip, 'word/document.xml');
      const nested = [...sampleDocument.matchAll(/<w:p>.*?<\/w:p>/gs)]
        .map((m) => m[0])
        .find((p) => p.includes('garantire la riservatezza'));
      expect(nested).to.include('<w:ilvl w:val="1"/>');
      expect(part(sampleZip, 'word/numbering.xml')).to.include(
        '<w:numFmt w:val="lowerLetter"/><w:lvlText w:val="%2)"/>',
      );
    });

    it('copes with empty parts, rowless tables, ragged rows and empty signature blocks', async function () {
      const zip = readZip(await renderDocx(edgeModel()));
      const document = part(zip, 'word/document.xml');
      const tables = [...document.matchAll(/<w:tbl>.*?<\/w:tbl>/gs)].map((m) => m[0]);
      expect(tables).to.have.length(1);
      const table = tables[0] ?? '';
      expect(table.match(/<w:gridCol /g)).to.have.length(4);
      for (const row of table.match(/<w:tr>.*?<\/w:tr>/gs) ?? []) {
        expect(row.match(/<w:tc>/g)).to.have.length(4);
      }
      const rows = table.match(/<w:tr>.*?<\/w:tr>/gs) ?? [];
      expect(rows[0]).to.include('<w:cantSplit/>');
      expect(rows[2]).to.not.include('<w:cantSplit/>');
      expect(table).to.include('<w:insideV w:val="none"');
      expect(part(zip, 'word/header1.xml')).to.include('<w:p>');
      expect(part(zip, 'word/footer1.xml')).to.include('<w:p>');
      const nested = [...document.matchAll(/<w:p>.*?<\/w:p>/gs)]
        .map((m) => m[0])
        .find((p) => p.includes('Livello tre'));
      expect(nested).to.include('<w:ilvl w:val="2"/>');
    });
  });

  describe('the logo', function () {
    function withLogo(image = pngImage(), heightMm = 18): DocumentModel {
      return { ...sampleDecreto(), headerLogo: { heightMm, image } };
    }

    it('puts the image in the package, centred at the top of the header, sized by its height', async function () {
      const zip = readZip(await renderDocx(withLogo()));
      const media = [...zip.keys()].filter((name) => name.startsWith('word/media/'));
      expect(media).to.have.length(1);
      expect(media[0]).to.match(/\.png$/);
      expect(zip.get(media[0]!)!.data.equals(pngLogo)).to.be.true;
      const rels = part(zip, 'word/_rels/header1.xml.rels');
      const rel =
        new RegExp(`Id="(rId\\d+)"[^>]*Target="${media[0]!.slice('word/'.length)}"`).exec(rels) ??
        new RegExp(`Target="${media[0]!.slice('word/'.length)}"[^>]*Id="(rId\\d+)"`).exec(rels);
      expect(rel, rels).to.not.equal(null);
      const header = part(zip, 'word/header1.xml');
      expect(header).to.include(`r:embed="${rel![1]}"`);
      // The logo's paragraph comes first, centred, before the letterhead text.
      const firstParagraph = header.slice(header.indexOf('<w:p>'), header.indexOf('</w:p>'));
      expect(firstParagraph).to.include('<w:jc w:val="center"/>');
      expect(firstParagraph).to.include('<w:drawing>');
      expect(header.indexOf('<w:drawing>')).to.be.below(header.indexOf('COMUNE DI SANT’ELPIDIO'));
      // 18 mm high, twice as wide, in EMU (36 000 to the millimetre).
      const extent = /<wp:extent cx="(\d+)" cy="(\d+)"\/>/.exec(header);
      expect(Number(extent![2]) / 36_000).to.be.closeTo(18, 0.05);
      expect(Number(extent![1]) / 36_000).to.be.closeTo(36, 0.05);
      expect(part(zip, '[Content_Types].xml')).to.include('Extension="png"');
    });

    it('takes a JPEG too, and draws no image when the ente has none', async function () {
      const jpeg = readZip(await renderDocx(withLogo(jpegImage(), 30)));
      const media = [...jpeg.keys()].filter((name) => name.startsWith('word/media/'));
      expect(media).to.have.length(1);
      expect(jpeg.get(media[0]!)!.data.equals(jpegLogo)).to.be.true;
      const extent = /<wp:extent cx="(\d+)" cy="(\d+)"\/>/.exec(part(jpeg, 'word/header1.xml'));
      expect(Number(extent![1]) / 36_000).to.be.closeTo(30, 0.05);

      const without = await renderDocx({ ...sampleDecreto(), headerLogo: { heightMm: 18 } });
      expect(without.equals(sample)).to.be.true;
    });

    it('gives the same bytes for the same model, twice and after other documents', async function () {
      const first = await renderDocx(withLogo());
      await renderDocx(withLogo(jpegImage()));
      const second = await renderDocx(withLogo());
      expect(second.equals(first)).to.be.true;
    });
  });

  describe('text read back with mammoth', function () {
    it('has every heading, list item, cell and signature in order, with Italian typography', async function () {
      const { value } = await mammoth.extractRawText({ buffer: sample });
      expectInOrder(value, [
        'DECRETO DEL SINDACO N. 12 DEL 24 NOVEMBRE 2026',
        'OGGETTO:',
        '«Responsabile dell’Ufficio Tributi»',
        '– § 1.',
        'IL SINDACO',
        'VISTI:',
        '(“GDPR”);',
        'sull’ordinamento degli enti locali',
        'in qualità di titolare',
        'è tenuto',
        'perché così prevede',
        'già verificata, può comportare',
        'di più categorie',
        '€ 1.250,00',
        'DECRETA',
        'di designare la dott.ssa Maria Rossi',
        'di attribuire alla medesima',
        'garantire la riservatezza',
        'vigilare sull’osservanza',
        'anche solo presunta',
        'on line',
        'Trattamento',
        'Categorie di dati',
        'Conservazione',
        'Riscossione IMU e TARI',
        'Dati bancari (IBAN)',
        'Dati economici; dati relativi alla salute',
        '5 anni',
        'Sant’Elpidio a Mare, 24 novembre 2026',
        'Letto, approvato e sottoscritto.',
        'Il Sindaco',
        'Per accettazione, il Designato',
        'Giovanni Bianchi',
        'Maria Rossi',
        'firmato digitalmente',
      ]);
      for (const character of [
        'à',
        'è',
        'é',
        'ì',
        'ò',
        'ù',
        '«',
        '»',
        '’',
        '“',
        '”',
        '€',
        '§',
        '–',
      ]) {
        expect(value, character).to.include(character);
      }
    });

    it('renders long content completely', async function () {
      this.timeout(60_000);
      const model = longDocument();
      const buffer = await renderDocx(model);
      const { value } = await mammoth.extractRawText({ buffer });
      const items = Array.from({ length: 200 }, (_, i) => `Voce di elenco numero ${i + 1}\n`);
      expectInOrder(value, items);
      const rows = Array.from({ length: 60 }, (_, i) => `Trattamento numero ${i + 1}\n`);
      expectInOrder(value, ['Base giuridica', ...rows]);
      const last = model.body.at(-1);
      const long =
        last?.kind === 'paragraph' && last.runs[0]?.kind === 'text' ? last.runs[0].text : '';
      expect(long).to.have.length(5000);
      expect(value).to.include(long);
    });

    it('reads back the edge cases', async function () {
      const { value } = await mammoth.extractRawText({ buffer: await renderDocx(edgeModel()) });
      expectInOrder(value, [
        'Uno',
        'Due',
        'Tre in eccesso',
        'Quattro in eccesso',
        'Riga corta',
        'Cella lunga',
        'Elenco in cella',
        'Livello uno',
        'Livello due',
        'Livello tre',
        'Seguito del livello uno',
      ]);
    });

    it('drops characters XML cannot hold instead of writing a broken file', async function () {
      const model = sampleDecreto();
      model.body.push(para('controllo\u0001\u0008 pulito\uFFFF'));
      const buffer = await renderDocx(model);
      const { value } = await mammoth.extractRawText({ buffer });
      expect(value).to.include('controllo pulito');
    });
  });

  describe('LibreOffice', function () {
    let workDir: string;

    before(async function () {
      workDir = await mkdtemp(path.join(tmpdir(), 'sigillo-docx-'));
    });

    after(async function () {
      await rm(workDir, { recursive: true, force: true });
    });

    it('opens and converts the documents to PDF with the expected text and page fields', async function () {
      this.timeout(240_000);
      const soffice = await onPath(['soffice', 'libreoffice']);
      if (soffice === undefined) {
        throw new Error(
          'LibreOffice (soffice) is not on PATH: install libreoffice-writer-nogui to check that the DOCX opens',
        );
      }
      const pdftotext = await onPath(['pdftotext']);
      if (pdftotext === undefined) {
        throw new Error('pdftotext is not on PATH: install poppler-utils');
      }

      const documents = {
        sample: sample,
        long: await renderDocx(longDocument()),
        numbering: await renderDocx(numberingModel()),
        edge: await renderDocx(edgeModel()),
      };
      const files = await Promise.all(
        Object.entries(documents).map(async ([name, buffer]) => {
          const file = path.join(workDir, `${name}.docx`);
          await writeFile(file, buffer);
          return file;
        }),
      );
      const profile = pathToFileURL(path.join(workDir, 'profile')).href;
      const outDir = path.join(workDir, 'pdf');
      const result = await run(soffice, [
        `-env:UserInstallation=${profile}`,
        '--headless',
        '--norestore',
        '--convert-to',
        'pdf',
        '--outdir',
        outDir,
        ...files,
      ]);
      expect(result.code, `soffice failed:\n${result.stdout}\n${result.stderr}`).to.equal(0);

      const pdfText = async (name: string): Promise<string> => {
        const pdf = path.join(outDir, `${name}.pdf`);
        expect((await stat(pdf)).size, `${name}.pdf size`).to.be.greaterThan(1000);
        expect((await readFile(pdf)).subarray(0, 5).toString('latin1')).to.equal('%PDF-');
        // Layout mode keeps a list marker on its item's line however far apart they are.
        const converted = await run(pdftotext, ['-layout', '-enc', 'UTF-8', pdf, '-']);
        expect(converted.code, converted.stderr).to.equal(0);
        return converted.stdout.replace(/[ \t]+/g, ' ').replace(/ *\n */g, '\n');
      };
      /** pdftotext ends every page with a form feed. */
      const pageCount = (value: string): number => value.split('\f').length - 1;

      const sampleText = await pdfText('sample');
      expectInOrder(sampleText, [
        'COMUNE DI SANT’ELPIDIO A MARE',
        'DECRETO DEL SINDACO N. 12 DEL 24 NOVEMBRE 2026',
        'IL SINDACO',
        'DECRETA',
        '1. di designare',
        'a) garantire la riservatezza',
        'c) segnalare',
        '3. di pubblicare',
        'Riscossione IMU e TARI',
        'Giovanni Bianchi',
      ]);
      expect(sampleText).to.include('Maria Rossi');
      expect(sampleText).to.include('€ 1.250,00');
      const pages = pageCount(sampleText);
      expect(pages).to.be.at.least(1);
      for (let page = 1; page <= pages; page++) {
        expect(sampleText).to.include(`Pagina ${page} di ${pages}`);
      }

      const longText = await pdfText('long');
      expect(pageCount(longText)).to.be.greaterThan(3);
      expectInOrder(longText, [
        '1. Voce di elenco numero 1',
        '200. Voce di elenco numero 200',
        'Trattamento numero 1',
        'Trattamento numero 60',
        'Nota finale',
      ]);
      // The header row is repeated on the pages the table continues on.
      expect(longText.match(/Base giuridica/g)?.length).to.be.greaterThan(1);

      const numberingText = await pdfText('numbering');
      expectInOrder(numberingText, [
        '1. Alfa primo',
        '2. Alfa secondo',
        '1. Beta primo',
        '2. Beta secondo',
        '4. Gamma quarto',
        '5. Gamma quinto',
        'i) Romano uno',
        'ii) Romano due',
        'A) Lettera uno',
        'B) Lettera due',
        'Prima riga\nSeconda riga',
      ]);
      const edgeText = await pdfText('edge');
      // The extra columns are narrow, so their words wrap.
      expectInOrder(edgeText, ['Uno', 'Quattro', 'Riga corta', 'Livello tre']);

      const [beforeBreak, afterBreak] = numberingText.split('Dopo il salto pagina.');
      expect(pageCount(beforeBreak ?? '')).to.equal(1);
      expect(afterBreak).to.not.equal(undefined);
      expect(pageCount(numberingText)).to.equal(2);
    });
  });
});
