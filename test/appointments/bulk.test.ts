import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import JSZip from 'jszip';
import mongoose from 'mongoose';
import { PDFDocument } from 'pdf-lib';
import { Appointment } from '../../server/appointments/model.js';
import { BulkIssue } from '../../server/appointments/bulk-model.js';
import { Person } from '../../server/people/model.js';
import { RegisterEntry } from '../../server/registers/model.js';
import { listRegisterEntries, todayInRome } from '../../server/registers/service.js';
import { runInTenant } from '../../server/platform/tenancy.js';
import { testEnvironment } from '../support/environment.js';
import { call } from '../support/http.js';
import { codiceFiscale } from '../support/registry.js';
import { pdfText } from '../support/readers.js';
import { expectOk, issuedDesignato, readyEnte, type Ente, type Problem } from './support.js';

interface BulkJson {
  id: string;
  status: string;
  total: number;
  done: number;
  failures: { row: number; message: string }[];
  links: { zip: string; pdf: string };
  rows?: { row: number; status: string; errors: string[] }[];
}

const repoRoot = path.resolve(import.meta.dirname, '../..');

/** A real `npm run worker` process, pointed at the test servers, with short leases. */
function startWorker(name: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/worker.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...testEnvironment().serverEnv,
      LOG_LEVEL: 'warn',
      JOBS_LOCK_LIFETIME_MS: '3000',
      JOBS_POLL_MS: '300',
      RENDER_THREADS: '2',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(`  [${name}] ${chunk.toString()}`);
  });
  return child;
}

async function stopWorker(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM') {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

async function bulkStatus(ente: Ente, id: string): Promise<BulkJson> {
  return expectOk(call<BulkJson>('GET', `/api/v1/appointment-bulks/${id}`, { token: ente.token }));
}

async function waitFor(
  ente: Ente,
  id: string,
  until: (bulk: BulkJson) => boolean,
  timeoutMs = 120_000,
): Promise<BulkJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const bulk = await bulkStatus(ente, id);
    if (until(bulk)) return bulk;
    if (Date.now() > deadline) throw new Error(`bulk ${id} stuck: ${JSON.stringify(bulk)}`);
    await sleep(200);
  }
}

async function download(pathname: string, token: string): Promise<Buffer> {
  const response = await fetch(`${testEnvironment().service.url}${pathname}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status).to.equal(200);
  return Buffer.from(await response.arrayBuffer());
}

function inTenant<T>(ente: Ente, work: () => Promise<T>): Promise<T> {
  return runInTenant(new mongoose.Types.ObjectId(ente.organisationId), work);
}

/** The numbers the bulk's acts hold, in the register, sorted. */
async function actNumbers(ente: Ente, bulkId: string): Promise<number[]> {
  return inTenant(ente, async () => {
    const appointments = await Appointment.find({ bulkJobId: bulkId });
    return appointments
      .flatMap((appointment) => appointment.acts.map((act) => act.number))
      .sort((a, b) => a - b);
  });
}

function postCsv(ente: Ente, csv: string, fields: Record<string, string>, key?: string) {
  const form = new FormData();
  form.append('file', new Blob([csv]), 'persone.csv');
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return fetch(`${testEnvironment().service.url}/api/v1/appointment-bulks/csv`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ente.token}`,
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body: form,
  }).then(async (response) => ({
    status: response.status,
    body: (await response.json()) as BulkJson & Problem,
  }));
}

describe('appointments: bulk autorizzazioni', function () {
  this.timeout(240_000);
  let worker: ChildProcess | undefined;

  before(() => {
    worker = startWorker('worker-1');
  });
  after(() => stopWorker(worker));

  it('authorises every employee of a settore in one job: progress, consecutive numbers, ZIP and merged PDF; same Idempotency-Key → same job', async () => {
    const ente = await readyEnte({ employees: 12 });
    await issuedDesignato(ente);
    const key = `bulk-${ente.organisationId}-settore`;
    const request = { settoreId: ente.settoreId, startDate: '2026-12-01' };
    const first = await call<BulkJson>('POST', '/api/v1/appointment-bulks', {
      token: ente.token,
      json: request,
      headers: { 'idempotency-key': key },
    });
    expect(first.status, JSON.stringify(first.body)).to.equal(202);
    expect(first.body.total).to.equal(12);

    const retried = await call<BulkJson>('POST', '/api/v1/appointment-bulks', {
      token: ente.token,
      json: request,
      headers: { 'idempotency-key': key },
    });
    expect(retried.status).to.equal(200);
    expect(retried.body.id).to.equal(first.body.id);

    const misuse = await call<Problem>('POST', '/api/v1/appointment-bulks', {
      token: ente.token,
      json: { ...request, startDate: '2027-01-01' },
      headers: { 'idempotency-key': key },
    });
    expect(misuse.status).to.equal(422);
    expect(misuse.body.invalidParams?.[0]?.name).to.equal('Idempotency-Key');

    const done = await waitFor(ente, first.body.id, (bulk) => bulk.status === 'completed');
    expect(done).to.include({ total: 12, done: 12 });
    expect(done.failures).to.deep.equal([]);
    expect(await actNumbers(ente, first.body.id)).to.deep.equal(
      Array.from({ length: 12 }, (_, index) => index + 1),
    );

    const zip = await JSZip.loadAsync(await download(done.links.zip, ente.token));
    const names = Object.keys(zip.files);
    expect(names.filter((name) => name.endsWith('.pdf'))).to.have.length(12);
    expect(names.filter((name) => name.endsWith('.docx'))).to.have.length(12);

    const merged = await download(done.links.pdf, ente.token);
    const text = await pdfText(merged);
    for (let number = 1; number <= 12; number += 1) {
      expect(text).to.contain(`N. ${number} DEL`);
    }
    expect(text).to.contain('Allegato A');
    const pages = (await PDFDocument.load(merged)).getPageCount();
    expect(pages).to.be.at.least(24);

    const unauthorised = await expectOk(
      call<unknown[]>('GET', '/api/v1/appointment-views/unauthorised-people', {
        token: ente.token,
      }),
    );
    expect(unauthorised).to.deep.equal([]);
  });

  it('refuses a CSV with bad rows with a report per row, issuing and creating nothing', async () => {
    const ente = await readyEnte({ employees: 0 });
    await issuedDesignato(ente);
    const good = codiceFiscale({
      firstName: 'Anna',
      lastName: 'Verdelli',
      gender: 'F',
      born: '1985-02-03',
    });
    const csv = [
      'codice_fiscale;cognome;nome;qualifica',
      `${good};Verdelli;Anna;Istruttrice`,
      'RSSMRA80A01A944X;Rossi;Mario;Istruttore',
      `${good};Verdelli;Anna;doppione`,
      ';Bianchi;;',
    ].join('\n');
    const people = await inTenant(ente, () => Person.countDocuments({}).exec());
    const refused = await postCsv(
      ente,
      csv,
      { settoreId: ente.settoreId },
      `csv-${ente.organisationId}`,
    );
    expect(refused.status).to.equal(422);
    const rows = refused.body.rows ?? [];
    expect(rows.map((row) => [row.row, row.status])).to.deep.equal([
      [2, 'new'],
      [3, 'error'],
      [4, 'error'],
      [5, 'error'],
    ]);
    expect(rows[1]?.errors.join(' ')).to.contain('codice fiscale non valido');
    expect(rows[2]?.errors.join(' ')).to.contain('riga 2');
    expect(rows[3]?.errors.join(' ')).to.match(/nome|codice/);
    await inTenant(ente, async () => {
      expect(await Person.countDocuments({})).to.equal(people);
      expect(await BulkIssue.countDocuments({})).to.equal(0);
      expect(await Appointment.countDocuments({ role: 'autorizzato' })).to.equal(0);
      expect(await RegisterEntry.countDocuments({ registerKey: 'atti-designato' })).to.equal(0);
    });

    const fixed = await postCsv(
      ente,
      ['codice_fiscale;cognome;nome;qualifica', `${good};Verdelli;Anna;Istruttrice`].join('\n'),
      { settoreId: ente.settoreId },
    );
    expect(fixed.status, JSON.stringify(fixed.body)).to.equal(202);
    const done = await waitFor(ente, fixed.body.id, (bulk) => bulk.status === 'completed');
    expect(done.done).to.equal(1);
  });

  it('resumes a bulk of 300 after its worker is killed: 300 acts, consecutive numbers, no duplicate', async function () {
    this.timeout(600_000);
    const ente = await readyEnte({ employees: 300 });
    await issuedDesignato(ente);
    const started = await call<BulkJson>('POST', '/api/v1/appointment-bulks', {
      token: ente.token,
      json: { settoreId: ente.settoreId },
      headers: { 'idempotency-key': `bulk-${ente.organisationId}-300` },
    });
    expect(started.status, JSON.stringify(started.body)).to.equal(202);
    expect(started.body.total).to.equal(300);

    // Killed hard once it has issued some acts, well before the end.
    const midway = await waitFor(ente, started.body.id, (bulk) => bulk.done >= 50, 180_000);
    expect(midway.done).to.be.below(300);
    await stopWorker(worker, 'SIGKILL');
    const issuedAtKill = await inTenant(ente, () =>
      Appointment.countDocuments({ bulkJobId: started.body.id, status: 'issued' }).exec(),
    );
    expect(issuedAtKill).to.be.below(300);

    worker = startWorker('worker-2');
    const done = await waitFor(
      ente,
      started.body.id,
      (bulk) => bulk.status === 'completed',
      300_000,
    );
    expect(done).to.include({ total: 300, done: 300 });
    const numbers = await actNumbers(ente, started.body.id);
    expect(numbers).to.have.length(300);
    expect(numbers).to.deep.equal(Array.from({ length: 300 }, (_, index) => index + 1));
    await inTenant(ente, async () => {
      expect(await Appointment.countDocuments({ bulkJobId: started.body.id })).to.equal(300);
      const entries = (
        await listRegisterEntries({
          registerKey: 'atti-designato',
          year: Number(todayInRome().slice(0, 4)),
          limit: 1000,
          offset: 0,
        })
      ).items;
      expect(entries).to.have.length(300);
      expect(entries.every((entry) => entry.status === 'recorded')).to.be.true;
      const people = new Set(
        (await Appointment.find({ bulkJobId: started.body.id })).map((a) => a.personId?.toString()),
      );
      expect(people.size).to.equal(300);
    });
  });
});
