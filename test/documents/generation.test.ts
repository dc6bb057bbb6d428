import { expect } from 'chai';
import { GeneratedDocument } from '../../server/documents/model.js';
import { runInTenant } from '../../server/platform/tenancy.js';
import { testEnvironment } from '../support/environment.js';
import { nominaDesignatoExample } from '../support/fixtures.js';
import { call, newTenant } from '../support/http.js';
import {
  docxText,
  firstMissingInOrder,
  libreOfficeToPdf,
  normalise,
  pdfImages,
  pdfText,
  qpdfCheck,
} from '../support/readers.js';
import { pngLogo } from './logo-images.js';

interface DocumentResponse {
  id: string;
  title: string;
  template: { key: string; version: number };
  pdf: { sha256: string; size: number; fileName: string };
  docx: { sha256: string; size: number; fileName: string };
  pageCount: number;
  links: { pdf: string; docx: string };
}

async function download(path: string, token: string) {
  const response = await fetch(`${testEnvironment().service.url}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    status: response.status,
    headers: response.headers,
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

const mandatoryPhrases = [
  'COMUNE DI',
  'Città metropolitana di Bologna',
  'DECRETO DEL SINDACO N. 12 DEL 24 NOVEMBRE 2026',
  'OGGETTO:',
  'art. 2-quaterdecies del D.Lgs. 196/2003',
  'IL SINDACO',
  'VISTI:',
  'Regolamento (UE) 2016/679',
  'Decreto legislativo 10 agosto 2018, n. 101',
  'delibera consiliare n. 117 del 22-12-2020',
  'CONSIDERATO',
  'RITENUTO',
  'DECRETA',
  'la dott.ssa Maria Rossi, nata a Bologna il 1° marzo 1975',
  'Designata al trattamento dei dati personali',
  'Tenuta dell’anagrafe della popolazione residente',
  'ANPR – Anagrafe nazionale della popolazione residente',
  'coadiuvare nel censimento dei trattamenti',
  'comunicare tempestivamente al Titolare eventuali violazioni dei dati',
  'art. 5, comma 3, del Regolamento comunale',
  'Lepida S.c.p.A. (dpo-team@lepida.it)',
  '«Amministrazione trasparente»',
  'Calderara di Reno, 24 novembre 2026',
];
/** Side by side, so each reader orders them its own way: only their presence after the date counts. */
const signaturePhrases = [
  'Il Sindaco',
  'Giampiero Falzone',
  'Per accettazione, la Designata',
  'Maria Rossi',
];

function signaturesAfterDate(text: string): string[] {
  const flat = normalise(text);
  const tail = flat.slice(flat.lastIndexOf('Calderara di Reno, 24 novembre 2026'));
  return signaturePhrases.filter((phrase) => !tail.includes(phrase));
}

describe('document generation', () => {
  it('generates the reference decreto as PDF and DOCX, stored with their SHA-256 and recorded', async function () {
    this.timeout(60_000);
    const tenant = await newTenant('Comune di Calderara di Reno');
    const created = await call<DocumentResponse>('POST', '/api/v1/documents', {
      token: tenant.token,
      json: { template: 'nomina-designato', data: nominaDesignatoExample() },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.template.key).to.equal('nomina-designato');
    expect(created.body.pageCount).to.be.at.least(2);

    const pdf = await download(created.body.links.pdf, tenant.token);
    expect(pdf.status).to.equal(200);
    expect(pdf.headers.get('content-type')).to.contain('application/pdf');
    expect(pdf.headers.get('content-disposition')).to.contain(
      encodeURIComponent('Decreto del Sindaco n. 12'),
    );
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(pdf.bytes).digest('hex')).to.equal(created.body.pdf.sha256);
    await qpdfCheck(pdf.bytes);
    const text = await pdfText(pdf.bytes);
    expect(
      firstMissingInOrder(text, mandatoryPhrases),
      'PDF phrase missing or out of order',
    ).to.equal(undefined);
    expect(signaturesAfterDate(text), 'signature block in the PDF').to.deep.equal([]);
    expect(normalise(text)).to.contain(`pagina 1 di ${created.body.pageCount}`);

    const docx = await download(created.body.links.docx, tenant.token);
    expect(docx.status).to.equal(200);
    expect(createHash('sha256').update(docx.bytes).digest('hex')).to.equal(
      created.body.docx.sha256,
    );
    const wordText = await docxText(docx.bytes);
    const bodyPhrases = mandatoryPhrases.filter(
      (phrase) => !['COMUNE DI', 'Città metropolitana di Bologna'].includes(phrase),
    );
    expect(
      firstMissingInOrder(wordText, bodyPhrases),
      'DOCX phrase missing or out of order',
    ).to.equal(undefined);

    const record = await runInTenant(tenant.organisation._id, () =>
      GeneratedDocument.findById(created.body.id).exec(),
    );
    expect(record?.template?.version).to.equal(created.body.template.version);
    expect(record?.pdf.sha256).to.equal(created.body.pdf.sha256);
    expect((JSON.parse(record?.input ?? '{}') as { numero: number }).numero).to.equal(12);
    expect(record?.author?.name).to.equal('Amministratore');
  });

  it("puts the ente's logo on the letterhead of the PDF, the DOCX and the preview", async function () {
    this.timeout(60_000);
    const tenant = await newTenant('Comune con stemma');
    const form = new FormData();
    form.append('logo', new Blob([pngLogo]), 'stemma.png');
    const upload = await fetch(`${testEnvironment().service.url}/api/v1/organisation/logo`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tenant.token}` },
      body: form,
    });
    expect(upload.status, await upload.text()).to.equal(200);

    const created = await call<DocumentResponse>('POST', '/api/v1/documents', {
      token: tenant.token,
      json: { template: 'nomina-designato', data: nominaDesignatoExample() },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const pdf = await download(created.body.links.pdf, tenant.token);
    await qpdfCheck(pdf.bytes);
    const images = await pdfImages(pdf.bytes);
    expect(images.map((image) => image.page)).to.deep.equal(
      Array.from({ length: created.body.pageCount }, (_, index) => index + 1),
    );
    expect(images[0]).to.include({ page: 1, width: 24, height: 12 });
    expect(normalise(await pdfText(pdf.bytes))).to.contain('COMUNE CON STEMMA');

    const docx = await download(created.body.links.docx, tenant.token);
    // Zip entry names are stored uncompressed: the image part is in the package.
    expect(docx.bytes.toString('latin1')).to.match(/word\/media\/\w+\.png/);

    const preview = await fetch(
      `${testEnvironment().service.url}/api/v1/templates/nomina-designato/preview`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ data: nominaDesignatoExample() }),
      },
    );
    expect(preview.status).to.equal(200);
    const previewImages = await pdfImages(Buffer.from(await preview.arrayBuffer()));
    expect(previewImages[0]).to.include({ page: 1, width: 24, height: 12 });
  });

  it('generates without a logo for an ente that has none', async () => {
    const tenant = await newTenant();
    const created = await call<DocumentResponse>('POST', '/api/v1/documents', {
      token: tenant.token,
      json: { template: 'nomina-designato', data: nominaDesignatoExample() },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const pdf = await download(created.body.links.pdf, tenant.token);
    expect(await pdfImages(pdf.bytes)).to.deep.equal([]);
  });

  it('opens in LibreOffice: the reference DOCX converts to a PDF with the same text', async function () {
    this.timeout(120_000);
    const tenant = await newTenant('Comune di Calderara di Reno');
    const created = await call<DocumentResponse>('POST', '/api/v1/documents', {
      token: tenant.token,
      json: { template: 'nomina-designato', data: nominaDesignatoExample() },
    });
    const docx = await download(created.body.links.docx, tenant.token);
    const converted = await libreOfficeToPdf(docx.bytes);
    await qpdfCheck(converted);
    const text = await pdfText(converted);
    // LibreOffice may break "2-quaterdecies" at its hyphen, which pdftotext then joins.
    const withoutHyphens = (value: string) => value.replace(/-/g, '');
    expect(
      firstMissingInOrder(withoutHyphens(text), mandatoryPhrases.map(withoutHyphens)),
      'LibreOffice text',
    ).to.equal(undefined);
  });

  it('paginates long input: 200 tasks all printed, none lost, footer on every page', async function () {
    this.timeout(120_000);
    const tenant = await newTenant();
    const data = nominaDesignatoExample();
    data.compiti = Array.from(
      { length: 200 },
      (_, index) =>
        `compito numero ${index + 1} affidato alla Designata, con testo abbastanza lungo da andare a capo più volte nella pagina;`,
    );
    const created = await call<DocumentResponse>('POST', '/api/v1/documents', {
      token: tenant.token,
      json: { template: 'nomina-designato', data },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.pageCount).to.be.greaterThan(5);
    const pdf = await download(created.body.links.pdf, tenant.token);
    await qpdfCheck(pdf.bytes);
    const text = normalise(await pdfText(pdf.bytes));
    for (let index = 1; index <= 200; index += 1) {
      expect(text, `task ${index}`).to.contain(`compito numero ${index} affidato`);
    }
    for (let page = 1; page <= created.body.pageCount; page += 1) {
      expect(text).to.contain(`pagina ${page} di ${created.body.pageCount}`);
    }
    const wordText = normalise(
      await docxText((await download(created.body.links.docx, tenant.token)).bytes),
    );
    expect(wordText).to.contain('compito numero 200 affidato');
  });

  it("takes the Designato's tasks and the approving act from the ente's own stored regolamento", async function () {
    this.timeout(60_000);
    const tenant = await newTenant('Comune di Calderara di Reno');
    const { readFile } = await import('node:fs/promises');
    const seed = await readFile(
      new URL('../../data/regolamenti/calderara-di-reno-2020.md', import.meta.url),
      'utf8',
    );
    // The ente's own text differs from the seed, so the decreto can only have it from the database.
    const own = seed
      .replace(
        'coadiuvare nel censimento dei trattamenti',
        'collaborare attivamente al censimento dei trattamenti',
      )
      .replace(
        'delibera consiliare n. 117 del 22-12-2020',
        'delibera consiliare n. 9 del 3-3-2026',
      );
    const form = new FormData();
    form.append('key', 'regolamento-privacy');
    // The seed has three lines the parser reports (see the regulations tests).
    form.append('acceptProblems', 'true');
    form.append('file', new Blob([own]), 'regolamento.md');
    const imported = await fetch(`${testEnvironment().service.url}/api/v1/regulations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.token}` },
      body: form,
    });
    expect(imported.status).to.equal(201);
    const chosen = await call('PATCH', '/api/v1/organisation', {
      token: tenant.token,
      json: { regolamentoKey: 'regolamento-privacy' },
    });
    expect(chosen.status, JSON.stringify(chosen.body)).to.equal(200);

    const data = nominaDesignatoExample();
    delete data.regolamento;
    const created = await call<DocumentResponse>('POST', '/api/v1/documents', {
      token: tenant.token,
      json: { template: 'nomina-designato', data },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const text = normalise(
      await pdfText((await download(created.body.links.pdf, tenant.token)).bytes),
    );
    expect(text).to.contain('approvato con delibera consiliare n. 9 del 3-3-2026');
    expect(text).to.contain('collaborare attivamente al censimento dei trattamenti');
    // Point 6 of art. 5 c.2 keeps its four dash sub-points, flattened into its text.
    expect(text).to.contain('in merito agli Incaricati, il designato deve: – individuare');
    expect(text).not.to.contain('coadiuvare nel censimento');

    // Without a stored regolamento and without the input's estremi, the decreto is refused.
    const other = await newTenant();
    const refused = await call<{ detail: string }>('POST', '/api/v1/documents', {
      token: other.token,
      json: { template: 'nomina-designato', data },
    });
    expect(refused.status).to.equal(422);
    expect(refused.body.detail).to.contain('estremiRegolamento');
  });

  it('answers 422 listing every missing or wrong field with its path, and records nothing', async () => {
    const tenant = await newTenant();
    const data = nominaDesignatoExample();
    delete data.settore;
    (data.designato as Record<string, unknown>).genere = 'X';
    data.numero = 'dodici';
    const response = await call<{ invalidParams: { name: string }[] }>(
      'POST',
      '/api/v1/documents',
      {
        token: tenant.token,
        json: { template: 'nomina-designato', data },
      },
    );
    expect(response.status).to.equal(422);
    expect(response.contentType).to.contain('application/problem+json');
    expect(response.body.invalidParams.map((param) => param.name)).to.include.members([
      'data.settore',
      'data.designato.genere',
      'data.numero',
    ]);
    const count = await runInTenant(tenant.organisation._id, () =>
      GeneratedDocument.countDocuments().exec(),
    );
    expect(count).to.equal(0);
  });

  it('prints markup, template syntax and HTML in input data as literal text', async function () {
    this.timeout(30_000);
    const tenant = await newTenant();
    const data = nominaDesignatoExample();
    const hostile = '<script>alert(1)</script> {{ 7*7 }} <b>grassetto</b> & «Rossi»';
    (data.designato as Record<string, unknown>).nome = hostile;
    const created = await call<DocumentResponse>('POST', '/api/v1/documents', {
      token: tenant.token,
      json: { template: 'nomina-designato', data },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const text = normalise(
      await pdfText((await download(created.body.links.pdf, tenant.token)).bytes),
    );
    expect(text).to.contain(hostile);
    expect(text).not.to.contain('49');
  });

  it('gives identical bytes for the same template version and input', async function () {
    this.timeout(30_000);
    const tenant = await newTenant();
    const request = { template: 'nomina-designato', data: nominaDesignatoExample() };
    const first = await call<DocumentResponse>('POST', '/api/v1/documents', {
      token: tenant.token,
      json: request,
    });
    const second = await call<DocumentResponse>('POST', '/api/v1/documents', {
      token: tenant.token,
      json: request,
    });
    expect(second.body.id).not.to.equal(first.body.id);
    expect(second.body.pdf.sha256).to.equal(first.body.pdf.sha256);
    expect(second.body.docx.sha256).to.equal(first.body.docx.sha256);
  });

  it("keeps documents to their tenant: another ente's document is 404", async () => {
    const owner = await newTenant();
    const other = await newTenant();
    const created = await call<DocumentResponse>('POST', '/api/v1/documents', {
      token: owner.token,
      json: { template: 'nomina-designato', data: nominaDesignatoExample() },
    });
    expect(
      (await call('GET', `/api/v1/documents/${created.body.id}`, { token: other.token })).status,
    ).to.equal(404);
    expect((await download(created.body.links.pdf, other.token)).status).to.equal(404);
    const listed = await call<DocumentResponse[]>('GET', '/api/v1/documents', {
      token: other.token,
    });
    expect(listed.body).to.have.length(0);
  });

  it('previews a PDF without storing anything', async () => {
    const tenant = await newTenant();
    const response = await fetch(
      `${testEnvironment().service.url}/api/v1/templates/nomina-designato/preview`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ data: nominaDesignatoExample() }),
      },
    );
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.contain('application/pdf');
    const text = await pdfText(Buffer.from(await response.arrayBuffer()));
    expect(normalise(text)).to.contain('DECRETO DEL SINDACO N. 12');
    const count = await runInTenant(tenant.organisation._id, () =>
      GeneratedDocument.countDocuments().exec(),
    );
    expect(count).to.equal(0);
  });

  it('answers 404 for an unknown template or version', async () => {
    const tenant = await newTenant();
    const unknown = await call('POST', '/api/v1/documents', {
      token: tenant.token,
      json: { template: 'non-esiste', data: {} },
    });
    expect(unknown.status).to.equal(404);
    const badVersion = await call('POST', '/api/v1/documents', {
      token: tenant.token,
      json: { template: 'nomina-designato', version: 999, data: nominaDesignatoExample() },
    });
    expect(badVersion.status).to.equal(404);
  });
});
