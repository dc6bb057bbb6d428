import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { Regulation, RegulationArticle } from '../../server/regulations/model.js';
import { loadShippedRegulations } from '../../server/regulations/service.js';
import { testEnvironment } from '../support/environment.js';
import { call, newTenant } from '../support/http.js';

const silent = pino({ level: 'silent' });
const dataDirectory = new URL('../../data/', import.meta.url).pathname;

interface RegulationBody {
  id: string;
  key: string;
  version: number;
  status: string;
  articleCount: number;
  approvedBy: string | null;
  importProblems: { line: number; message: string }[];
  organisationId: string | null;
}

interface ArticleBody {
  number: string;
  title: string | null;
  titolo: string | null;
  commi: { number?: string; points: { label: string; text: string }[] }[];
  regulation?: { key: string };
}

function uploadRegolamento(
  token: string,
  key: string,
  text: string,
  fileName = 'regolamento.md',
  acceptProblems = true,
) {
  const form = new FormData();
  form.append('key', key);
  form.append('acceptProblems', String(acceptProblems));
  form.append('file', new Blob([text]), fileName);
  return fetch(`${testEnvironment().service.url}/api/v1/regulations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
}

describe('regulations', () => {
  it('loads the GDPR, the Codice and the two seed regolamenti at start, idempotently', async () => {
    const tenant = await newTenant();
    const listed = await call<RegulationBody[]>('GET', '/api/v1/regulations', {
      token: tenant.token,
    });
    const keys = listed.body.map((regulation) => regulation.key);
    expect(keys).to.include.members([
      'gdpr',
      'codice-privacy',
      'calderara-di-reno-2020',
      'granarolo-dell-emilia-2000',
    ]);
    const calderara = listed.body.find((regulation) => regulation.key === 'calderara-di-reno-2020');
    expect(calderara?.approvedBy).to.equal('delibera consiliare n. 117 del 22-12-2020');
    expect(calderara?.articleCount).to.equal(42);
    expect(calderara?.importProblems.map((problem) => problem.line)).to.deep.equal([183, 212, 816]);
    const again = await loadShippedRegulations(dataDirectory, silent);
    expect(again.created).to.deep.equal([]);
  });

  it('finds articles by number and by words, ignoring accents', async () => {
    const tenant = await newTenant();
    const byNumber = await call<ArticleBody[]>(
      'GET',
      '/api/v1/articles?number=2-quaterdecies&regulation=codice-privacy',
      { token: tenant.token },
    );
    expect(byNumber.status).to.equal(200);
    expect(byNumber.body[0]?.title).to.equal(
      'Attribuzione di funzioni e compiti a soggetti designati',
    );

    const designato = await call<ArticleBody[]>(
      'GET',
      '/api/v1/articles?q=designato%20trattamento&regulation=calderara-di-reno-2020',
      { token: tenant.token },
    );
    expect(designato.body.map((article) => article.number)).to.include('5');
    const five = designato.body.find((article) => article.number === '5');
    expect(five?.titolo).to.match(/^TITOLO II/);
    expect(five?.commi[1]?.points.map((point) => point.label)).to.deep.equal([
      '1',
      '2',
      '3',
      '6',
      '7',
      '8',
      '9',
      '10',
    ]);

    // "liberta" without its accent finds "libertà".
    const accents = await call<ArticleBody[]>('GET', '/api/v1/articles?q=liberta', {
      token: tenant.token,
    });
    expect(accents.body.length).to.be.greaterThan(0);
    const missing = await call<{ invalidParams: { name: string }[] }>('GET', '/api/v1/articles', {
      token: tenant.token,
    });
    expect(missing.status).to.equal(400);
  });

  it('returns a regulation with its articles, and 404 for an unknown one', async () => {
    const tenant = await newTenant();
    const listed = await call<RegulationBody[]>('GET', '/api/v1/regulations', {
      token: tenant.token,
    });
    const granarolo = listed.body.find(
      (regulation) => regulation.key === 'granarolo-dell-emilia-2000',
    )!;
    const detail = await call<RegulationBody & { articles: ArticleBody[] }>(
      'GET',
      `/api/v1/regulations/${granarolo.id}`,
      { token: tenant.token },
    );
    expect(detail.status).to.equal(200);
    expect(detail.body.articles).to.have.length(14);
    expect(detail.body.articles[0]?.number).to.equal('1');
    const unknown = await call('GET', '/api/v1/regulations/0123456789abcdef01234567', {
      token: tenant.token,
    });
    expect(unknown.status).to.equal(404);
  });

  it("imports an ente's regolamento; a changed file supersedes the old version, which is kept", async () => {
    const tenant = await newTenant();
    const text = await readFile(
      new URL('regolamenti/calderara-di-reno-2020.md', `file://${dataDirectory}`),
      'utf8',
    );
    const first = await uploadRegolamento(tenant.token, 'regolamento-privacy', text);
    const firstBody = (await first.json()) as RegulationBody;
    expect(first.status, JSON.stringify(firstBody)).to.equal(201);
    expect(firstBody.organisationId).to.equal(tenant.organisation.id);
    expect(firstBody.version).to.equal(1);

    const same = await uploadRegolamento(tenant.token, 'regolamento-privacy', text);
    expect(same.status).to.equal(200);

    const changed = await uploadRegolamento(
      tenant.token,
      'regolamento-privacy',
      text.replace('In vigore dal 15-01-2021', 'In vigore dal 01-02-2021'),
    );
    const changedBody = (await changed.json()) as RegulationBody;
    expect(changed.status).to.equal(201);
    expect(changedBody.version).to.equal(2);

    const versions = await Regulation.find({
      organisationId: tenant.organisation._id,
      key: 'regolamento-privacy',
    })
      .sort({ version: 1 })
      .setOptions({ crossTenant: true });
    expect(versions.map((version) => version.status)).to.deep.equal(['superseded', 'in-force']);
    const oldArticles = await RegulationArticle.countDocuments({
      regulationId: versions[0]!._id,
    }).setOptions({
      crossTenant: true,
    });
    expect(oldArticles).to.equal(42);

    // Another ente does not see it.
    const other = await newTenant();
    const listed = await call<RegulationBody[]>('GET', '/api/v1/regulations', {
      token: other.token,
    });
    expect(listed.body.map((regulation) => regulation.key)).not.to.include('regolamento-privacy');
  });

  it('refuses a file with lines it cannot place, with their line numbers, storing nothing', async () => {
    const tenant = await newTenant();
    const text = [
      'Regolamento per la protezione dei dati personali',
      'Art. 1',
      'Oggetto',
      '1. Il presente regolamento disciplina il trattamento dei dati personali.',
      'Art. 3',
      'Definizioni',
      '1. Ai fini del presente regolamento si applicano le definizioni del GDPR.',
    ].join('\n');
    const refused = await uploadRegolamento(tenant.token, 'con-problemi', text, 'r.txt', false);
    const body = (await refused.json()) as { importProblems: { line: number; message: string }[] };
    expect(refused.status).to.equal(422);
    expect(body.importProblems.map((problem) => problem.line)).to.deep.equal([5]);
    expect(body.importProblems[0]?.message).to.contain('art. 3');
    expect(
      await Regulation.countDocuments({ key: 'con-problemi' }).setOptions({ crossTenant: true }),
    ).to.equal(0);

    const accepted = await uploadRegolamento(tenant.token, 'con-problemi', text, 'r.txt', true);
    const stored = (await accepted.json()) as RegulationBody;
    expect(accepted.status).to.equal(201);
    expect(stored.importProblems.map((problem) => problem.line)).to.deep.equal([5]);
  });

  it('finds "oblio" in the article on the right to be forgotten', async () => {
    const tenant = await newTenant();
    const found = await call<ArticleBody[]>(
      'GET',
      '/api/v1/articles?q=oblio&regulation=calderara-di-reno-2020',
      { token: tenant.token },
    );
    expect(found.body.map((article) => [article.number, article.title])).to.deep.include([
      '17',
      'Diritto all’oblio',
    ]);
  });

  it('refuses a file with no articles or not in UTF-8, naming the file', async () => {
    const tenant = await newTenant();
    const empty = await uploadRegolamento(
      tenant.token,
      'vuoto',
      'Solo una riga di testo senza articoli.',
    );
    expect(empty.status).to.equal(422);
    expect(await empty.text()).to.contain('files.file');
    const binary = new FormData();
    binary.append('key', 'binario');
    binary.append('file', new Blob([Buffer.from([0xff, 0xfe, 0x00, 0xc3])]), 'x.txt');
    const response = await fetch(`${testEnvironment().service.url}/api/v1/regulations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.token}` },
      body: binary,
    });
    expect(response.status).to.equal(422);
    expect(
      await Regulation.countDocuments({ key: { $in: ['vuoto', 'binario'] } }).setOptions({
        crossTenant: true,
      }),
    ).to.equal(0);
  });
});
