import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { TemplateVersion } from '../../server/templates/model.js';
import { loadShippedTemplates } from '../../server/templates/service.js';
import { testEnvironment } from '../support/environment.js';
import { nominaDesignatoExample } from '../support/fixtures.js';
import { call, newTenant } from '../support/http.js';
import { normalise, pdfText } from '../support/readers.js';

const silent = pino({ level: 'silent' });
const shippedDirectory = new URL('../../templates/', import.meta.url).pathname;

interface TemplateSummary {
  key: string;
  version: number;
  organisationId: string | null;
  origin: string;
  contentHash: string;
}

function upload(
  token: string,
  fields: Record<string, string>,
  files: Record<string, string | Buffer>,
) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const [name, content] of Object.entries(files)) {
    form.append(name, new Blob([content]), name === 'source' ? 'template.njk' : 'schema.json');
  }
  return fetch(`${testEnvironment().service.url}/api/v1/templates`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
}

describe('templates', () => {
  it('loads the shipped templates at start, and again without creating versions', async () => {
    const tenant = await newTenant();
    const listed = await call<TemplateSummary[]>('GET', '/api/v1/templates', {
      token: tenant.token,
    });
    const nomina = listed.body.find((template) => template.key === 'nomina-designato');
    expect(nomina?.origin).to.equal('file');
    expect(nomina?.organisationId).to.equal(null);
    const again = await loadShippedTemplates(shippedDirectory, silent);
    expect(again.created).to.deep.equal([]);
    expect(again.unchanged).to.include(`nomina-designato@${nomina?.version}`);
  });

  it('makes a new version when a template file changes, keeping the old one intact', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'sigillo-templates-'));
    const folder = path.join(directory, 'prova-caricamento');
    await cp(path.join(shippedDirectory, 'nomina-designato'), folder, { recursive: true });
    const first = await loadShippedTemplates(directory, silent);
    expect(first.created).to.deep.equal(['prova-caricamento@1']);
    expect((await loadShippedTemplates(directory, silent)).created).to.deep.equal([]);

    const source = await readFile(path.join(folder, 'template.njk'), 'utf8');
    await writeFile(
      path.join(folder, 'template.njk'),
      source.replace('IL SINDACO', 'IL SINDACO PRO TEMPORE'),
    );
    const second = await loadShippedTemplates(directory, silent);
    expect(second.created).to.deep.equal(['prova-caricamento@2']);

    const versions = await TemplateVersion.find({ key: 'prova-caricamento' })
      .sort({ version: 1 })
      .setOptions({ crossTenant: true });
    expect(versions.map((version) => version.version)).to.deep.equal([1, 2]);
    expect(versions[0]?.source).to.equal(source);
    expect(versions[1]?.source).to.contain('IL SINDACO PRO TEMPORE');
  });

  it("lets an admin upload the ente's own version; documents made before keep their bytes", async function () {
    this.timeout(60_000);
    const tenant = await newTenant();
    const before = await call<{
      id: string;
      pdf: { sha256: string };
      template: { version: number };
      links: { pdf: string };
    }>('POST', '/api/v1/documents', {
      token: tenant.token,
      json: { template: 'nomina-designato', data: nominaDesignatoExample() },
    });
    expect(before.status).to.equal(201);

    const source = (
      await readFile(path.join(shippedDirectory, 'nomina-designato', 'template.njk'), 'utf8')
    ).replace('<h2>IL SINDACO</h2>', '<h2>IL SINDACO DEL COMUNE</h2>');
    const schema = await readFile(
      path.join(shippedDirectory, 'nomina-designato', 'schema.json'),
      'utf8',
    );
    const fields = {
      key: 'nomina-designato',
      title: 'Decreto di nomina del Designato (modello dell’ente)',
      documentType: 'decreto-nomina',
      register: 'decreti-sindaco',
    };
    const uploaded = await upload(tenant.token, fields, { source, schema });
    const body = (await uploaded.json()) as TemplateSummary;
    expect(uploaded.status, JSON.stringify(body)).to.equal(201);
    expect(body.organisationId).to.equal(tenant.organisation.id);
    expect(body.version).to.equal(1);
    const same = await upload(tenant.token, fields, { source, schema });
    expect(same.status, 'identical upload makes no new version').to.equal(200);

    const versions = await call<TemplateSummary[]>(
      'GET',
      '/api/v1/templates/nomina-designato/versions',
      {
        token: tenant.token,
      },
    );
    expect(
      versions.body.filter((version) => version.organisationId === tenant.organisation.id),
    ).to.have.length(1);

    const after = await call<{ pdf: { sha256: string }; links: { pdf: string } }>(
      'POST',
      '/api/v1/documents',
      {
        token: tenant.token,
        json: { template: 'nomina-designato', data: nominaDesignatoExample() },
      },
    );
    const afterText = await pdfText(
      Buffer.from(
        await (
          await fetch(`${testEnvironment().service.url}${after.body.links.pdf}`, {
            headers: { authorization: `Bearer ${tenant.token}` },
          })
        ).arrayBuffer(),
      ),
    );
    expect(normalise(afterText)).to.contain('IL SINDACO DEL COMUNE');

    const old = await fetch(`${testEnvironment().service.url}${before.body.links.pdf}`, {
      headers: { authorization: `Bearer ${tenant.token}` },
    });
    const oldBytes = Buffer.from(await old.arrayBuffer());
    expect(createHash('sha256').update(oldBytes).digest('hex')).to.equal(before.body.pdf.sha256);
    expect(normalise(await pdfText(oldBytes))).not.to.contain('IL SINDACO DEL COMUNE');

    // Another ente still gets the shipped template.
    const other = await newTenant();
    const shipped = await call<{ organisationId: string | null }>(
      'GET',
      '/api/v1/templates/nomina-designato',
      {
        token: other.token,
      },
    );
    expect(shipped.body.organisationId).to.equal(null);
  });

  it('refuses uploads that are not valid, naming the file', async () => {
    const tenant = await newTenant();
    const fields = { key: 'modello-prova', title: 'Modello di prova', documentType: 'altro' };
    const validSchema = JSON.stringify({ type: 'object', examples: [{ nome: 'Mario' }] });
    const cases: [Record<string, string | Buffer>, number, string][] = [
      [
        {
          source: '<document title="x" author="y" date="2026-01-01"><p>ok</p></document>',
          schema: '{ not json',
        },
        422,
        'files.schema',
      ],
      [
        {
          source: '<document title="x" author="y" date="2026-01-01"><p>ok</p></document>',
          schema: '{"type":"object"}',
        },
        422,
        'files.schema',
      ],
      [
        {
          source: '<document title="x" author="y" date="2026-01-01"><div>no</div></document>',
          schema: validSchema,
        },
        422,
        'div',
      ],
      [
        { source: '{{ nome.constructor.constructor("return process")() }}', schema: validSchema },
        422,
        '',
      ],
      [{ source: Buffer.alloc(600 * 1024, 'a'), schema: validSchema }, 413, 'files.source'],
      [{ schema: validSchema }, 400, 'files.source'],
    ];
    for (const [files, status, mention] of cases) {
      const response = await upload(tenant.token, fields, files);
      const text = await response.text();
      expect(response.status, text).to.equal(status);
      expect(response.headers.get('content-type')).to.contain('application/problem+json');
      expect(text).to.contain(mention);
    }
    const stored = await TemplateVersion.countDocuments({ key: 'modello-prova' }).setOptions({
      crossTenant: true,
    });
    expect(stored).to.equal(0);
  });

  it('lets only admins upload templates', async () => {
    const tenant = await newTenant();
    const user = await call<{ id: string }>('POST', '/api/v1/admin/users', {
      token: tenant.token,
      json: {
        name: 'Segretaria Comunale',
        email: 'segreteria@comune.example',
        roles: ['segreteria'],
      },
    });
    const token = await call<{ token: string }>(
      'POST',
      `/api/v1/admin/users/${user.body.id}/tokens`,
      {
        token: tenant.token,
        json: { label: 'segreteria' },
      },
    );
    const response = await upload(
      token.body.token,
      { key: 'x-y', title: 'Titolo', documentType: 'altro' },
      {
        source: 'x',
        schema: '{}',
      },
    );
    expect(response.status).to.equal(403);
  });
});
