/**
 * Bulk autorizzazioni: all the employees of a settore, or the people of a CSV,
 * authorised by one job that issues one numbered act each. The job runs on the
 * MongoDB job queue, in the service or in any `npm run worker` process; it is
 * resumable (each row becomes an appointment keyed by job and row, issuing is
 * idempotent) and the request that starts it is idempotent on its
 * Idempotency-Key.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parse } from 'csv-parse/sync';
import JSZip from 'jszip';
import mongoose, { type Types } from 'mongoose';
import pLimit from 'p-limit';
import { PDFDocument } from 'pdf-lib';
import { z } from 'zod';
import type { JobQueue, RunningJob } from '../platform/jobs.js';
import { HttpProblem, type InvalidParam } from '../platform/http-problem.js';
import type { Logger } from '../platform/logger.js';
import type { ObjectStorage } from '../platform/storage.js';
import { runInTenant } from '../platform/tenancy.js';
import { GeneratedDocument } from '../documents/model.js';
import { readableFileName } from '../documents/pipeline.js';
import type { ModelRenderer } from '../documents/render-pool.js';
import { templateContextFor } from '../documents/service.js';
import { createPerson } from '../people/service.js';
import { genderFromCodiceFiscale } from '../people/italian-codes.js';
import { personTaxCodeSchema, shortText, emailSchema } from '../people/fields.js';
import { Person } from '../people/model.js';
import { decodeCsv } from '../processing/csv-import.js';
import { Settore } from '../settori/model.js';
import { BulkIssue, type BulkIssueDocument } from './bulk-model.js';
import { FactCache } from './facts.js';
import { activeStatuses, Appointment } from './model.js';
import { registrationsOf } from '../registers/service.js';
import {
  currentDesignato,
  issueAppointment,
  loadStandardInstructions,
  type Actor,
} from './service.js';

export const bulkJobName = 'appointments.bulk-authorise';

export interface BulkRequest {
  settoreId: string;
  personIds?: string[] | undefined;
  instructions?: string[] | undefined;
  startDate?: string | null | undefined;
  endDate?: string | null | undefined;
}

export interface CsvRowReport {
  row: number;
  taxCode: string;
  name: string;
  status: 'existing' | 'new' | 'already-authorised' | 'error';
  errors: string[];
}

/** Employees of the settore with no authorisation or designation in force. */
export async function unauthorisedEmployees(settoreId: string): Promise<Types.ObjectId[]> {
  const people = await Person.find({ settoreId, archived: false, kind: 'employee' })
    .sort({ searchName: 1 })
    .select({ _id: 1 })
    .lean();
  const covered = await coveredPeople(people.map((person) => person._id));
  return people.map((person) => person._id).filter((id) => !covered.has(id.toString()));
}

async function coveredPeople(ids: Types.ObjectId[]): Promise<Set<string>> {
  const appointments = await Appointment.find({
    role: { $in: ['autorizzato', 'designato'] },
    status: { $in: activeStatuses },
    personId: { $in: ids },
  })
    .select({ personId: 1 })
    .lean();
  return new Set(appointments.map((appointment) => appointment.personId?.toString() ?? ''));
}

const csvRowSchema = z.object({
  codice_fiscale: personTaxCodeSchema,
  cognome: shortText(100, 'indicare il cognome'),
  nome: shortText(100, 'indicare il nome'),
  qualifica: z.string().trim().max(200).optional(),
  email: emailSchema.optional(),
});

const csvHeader = ['codice_fiscale', 'cognome', 'nome', 'qualifica', 'email'];

export const bulkCsvDescription =
  'CSV UTF-8 con intestazione; colonne codice_fiscale, cognome, nome (obbligatorie), qualifica, email. ' +
  'Le persone non ancora presenti sono aggiunte al settore; separatore ; o ,';

/**
 * Reads the CSV and checks every row before anything is written: a report of
 * each row, and the people to authorise when all rows are good.
 */
export async function checkCsv(
  buffer: Buffer,
  settoreId: string,
): Promise<{ rows: CsvRowReport[]; parsed: z.infer<typeof csvRowSchema>[] }> {
  const text = decodeCsv(buffer);
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = firstLine.includes(';') ? ';' : ',';
  let records: string[][];
  try {
    records = parse(text, {
      delimiter,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
    });
  } catch (error) {
    throw new HttpProblem(422, 'CSV non leggibile', (error as Error).message);
  }
  const header = (records.shift() ?? []).map((cell) => cell.toLowerCase().replace(/\s+/g, '_'));
  const missing = csvHeader.slice(0, 3).filter((column) => !header.includes(column));
  if (missing.length > 0) {
    throw new HttpProblem(
      422,
      'Intestazione non valida',
      `Colonne mancanti nell'intestazione: ${missing.join(', ')}. ${bulkCsvDescription}`,
    );
  }
  if (records.length === 0) throw new HttpProblem(422, 'File vuoto', 'Il CSV non ha righe');
  if (records.length > 5000) {
    throw new HttpProblem(422, 'File troppo grande', 'Al massimo 5.000 righe per file');
  }
  const rows: CsvRowReport[] = [];
  const parsed: z.infer<typeof csvRowSchema>[] = [];
  const seen = new Map<string, number>();
  for (const [index, record] of records.entries()) {
    const row = index + 2;
    const values = Object.fromEntries(
      header.map((column, position) => [column, record[position] || undefined]),
    );
    const result = csvRowSchema.safeParse(values);
    const report: CsvRowReport = {
      row,
      taxCode: String(values.codice_fiscale ?? ''),
      name: `${values.nome ?? ''} ${values.cognome ?? ''}`.trim(),
      status: 'new',
      errors: [],
    };
    if (!result.success) {
      report.errors = result.error.issues.map(
        (issue) => `${issue.path.join('.') || 'riga'}: ${issue.message}`,
      );
    } else {
      const earlier = seen.get(result.data.codice_fiscale);
      if (earlier) report.errors.push(`codice_fiscale: già presente alla riga ${earlier}`);
      seen.set(result.data.codice_fiscale, row);
      parsed.push(result.data);
      report.taxCode = result.data.codice_fiscale;
    }
    rows.push(report);
  }
  const taxCodes = parsed.map((row) => row.codice_fiscale);
  const existing = await Person.find({ taxCode: { $in: taxCodes } });
  const covered = await coveredPeople(existing.map((person) => person._id));
  for (const report of rows) {
    if (report.errors.length > 0) {
      report.status = 'error';
      continue;
    }
    const person = existing.find((candidate) => candidate.taxCode === report.taxCode);
    if (!person) continue;
    if (person.archived) {
      report.status = 'error';
      report.errors.push('codice_fiscale: la persona è archiviata');
    } else if (person.settoreId?.toString() !== settoreId) {
      report.status = 'error';
      report.errors.push('codice_fiscale: la persona appartiene a un altro settore');
    } else report.status = covered.has(person.id) ? 'already-authorised' : 'existing';
  }
  return { rows, parsed };
}

/** Creates the CSV's new people in the settore; returns everyone to authorise. */
export async function peopleFromCsv(
  parsed: z.infer<typeof csvRowSchema>[],
  rows: CsvRowReport[],
  settoreId: string,
): Promise<string[]> {
  const ids: string[] = [];
  for (const row of parsed) {
    const report = rows.find((candidate) => candidate.taxCode === row.codice_fiscale);
    if (report?.status === 'already-authorised') continue;
    const person =
      (await Person.findOne({ taxCode: row.codice_fiscale })) ??
      (await createPerson({
        firstName: row.nome,
        lastName: row.cognome,
        gender: genderFromCodiceFiscale(row.codice_fiscale),
        taxCode: row.codice_fiscale,
        role: row.qualifica ?? null,
        email: row.email ?? null,
        settoreId,
        kind: 'employee',
      }));
    ids.push(person.id);
  }
  return ids;
}

function hashRequest(request: unknown): string {
  return createHash('sha256').update(JSON.stringify(request)).digest('hex');
}

/**
 * Starts the job, or returns the one an earlier request with the same
 * Idempotency-Key started. `created` says which.
 */
export async function startBulk(input: {
  request: BulkRequest;
  source: 'settore' | 'csv';
  /** For a CSV, the file's hash stands for the request body. */
  requestFingerprint: unknown;
  idempotencyKey: string | undefined;
  actor: Actor;
  jobs: JobQueue;
  resolvePeople: () => Promise<string[]>;
}): Promise<{ bulk: BulkIssueDocument; created: boolean }> {
  const requestHash = hashRequest(input.requestFingerprint);
  if (input.idempotencyKey) {
    const earlier = await BulkIssue.findOne({ idempotencyKey: input.idempotencyKey });
    if (earlier)
      return { bulk: await ensureEnqueued(earlier, requestHash, input.jobs), created: false };
  }
  const settore = await Settore.findById(input.request.settoreId);
  if (!settore || settore.archived) {
    throw new HttpProblem(422, 'Riferimento non valido', 'Settore inesistente o archiviato', {
      invalidParams: [{ name: 'settoreId', reason: "settore inesistente nell'ente o archiviato" }],
    });
  }
  const designato = await currentDesignato(settore._id);
  if (!designato) {
    throw new HttpProblem(
      422,
      'Atto non emettibile',
      `Il ${settore.name} non ha un Designato in carica: gli autorizzati sono designati dal Designato del settore`,
      { invalidParams: [{ name: 'settoreId', reason: 'nessun Designato in carica' }] },
    );
  }
  const personIds = await input.resolvePeople();
  if (personIds.length === 0) {
    throw HttpProblem.conflict(
      'Nessuna persona da autorizzare: tutte hanno già un’autorizzazione in vigore',
    );
  }
  const id = new mongoose.Types.ObjectId();
  let bulk: BulkIssueDocument;
  try {
    bulk = await BulkIssue.create({
      _id: id,
      idempotencyKey: input.idempotencyKey ?? id.toString(),
      requestHash,
      role: 'autorizzato',
      source: input.source,
      settoreId: settore._id,
      designatoAppointmentId: designato._id,
      personIds,
      instructions: input.request.instructions ?? (await loadStandardInstructions()),
      startDate: input.request.startDate ?? null,
      endDate: input.request.endDate ?? null,
      total: personIds.length,
      createdBy: { userId: input.actor.userId, name: input.actor.name },
    });
  } catch (error) {
    // The same key sent twice at once: the second finds the first's job.
    const earlier = input.idempotencyKey
      ? await BulkIssue.findOne({ idempotencyKey: input.idempotencyKey })
      : null;
    if (!earlier) throw error;
    return { bulk: await ensureEnqueued(earlier, requestHash, input.jobs), created: false };
  }
  return { bulk: await ensureEnqueued(bulk, requestHash, input.jobs), created: true };
}

async function ensureEnqueued(
  bulk: BulkIssueDocument,
  requestHash: string,
  jobs: JobQueue,
): Promise<BulkIssueDocument> {
  if (bulk.requestHash !== requestHash) {
    throw new HttpProblem(
      422,
      'Idempotency-Key già usata',
      'Questa Idempotency-Key è già stata usata per una richiesta diversa',
      { invalidParams: [{ name: 'Idempotency-Key', reason: 'chiave già usata' }] },
    );
  }
  if (bulk.queueJobId) return bulk;
  // The record exists but the enqueue did not happen (crash in between): do it now, once.
  const queueJobId = await jobs.enqueue(bulkJobName, {
    bulkId: bulk.id,
    organisationId: bulk.organisationId.toString(),
  });
  const updated = await BulkIssue.findOneAndUpdate(
    { _id: bulk._id, queueJobId: null },
    { $set: { queueJobId } },
    { returnDocument: 'after' },
  );
  return updated ?? (await findBulk(bulk.id));
}

export async function findBulk(bulkId: string) {
  const bulk = await BulkIssue.findById(bulkId);
  if (!bulk) throw HttpProblem.notFound(`Emissione massiva ${bulkId} non trovata`);
  return bulk;
}

export interface BulkDependencies {
  storage: ObjectStorage;
  render: ModelRenderer;
  logger: Logger;
  /** Acts issued at once by one job; numbering stays one at a time. */
  concurrency?: number;
}

/** One-at-a-time runner for numbering, so a job's numbers never race each other. */
function sequential() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const result = tail.then(work);
    tail = result.catch(() => undefined);
    return result;
  };
}

/** A row's appointment id, derived: a resumed run finds, or makes, the same one. */
function rowAppointmentId(bulk: BulkIssueDocument, index: number): Types.ObjectId {
  const digest = createHash('sha256').update(`${bulk.id}:${index}`).digest('hex');
  return new mongoose.Types.ObjectId(digest.slice(0, 24));
}

/**
 * The rows still to issue, each as an appointment not yet stored: it is stored
 * once, already issued, with its act (an insert; FerretDB v1 rewrites by
 * scanning the collection on every update). Rows issued by an earlier run of
 * the job are skipped.
 */
async function rowsToIssue(bulk: BulkIssueDocument, actor: Actor, cache: FactCache) {
  const issued = await Appointment.find({ bulkJobId: bulk._id }).select({ bulkIndex: 1 }).lean();
  const done = new Set(issued.map((appointment) => appointment.bulkIndex));
  const designato = await Appointment.findById(bulk.designatoAppointmentId);
  const people = await cache.preloadPeople(bulk.personIds);
  const names = new Map(
    people.map((person) => [person.id, `${person.firstName} ${person.lastName}`]),
  );
  const now = new Date();
  const rows = bulk.personIds
    .map((personId, index) => ({ personId, index }))
    .filter(({ index }) => !done.has(index))
    .map(
      ({ personId, index }) =>
        new Appointment({
          _id: rowAppointmentId(bulk, index),
          organisationId: bulk.organisationId,
          role: 'autorizzato',
          status: 'draft',
          personId,
          appointeeName: names.get(personId.toString()) ?? personId.toString(),
          authority: { kind: 'designato', appointmentId: bulk.designatoAppointmentId },
          legalBasis:
            'art. 29 del Regolamento (UE) 2016/679 e art. 2-quaterdecies del D.Lgs. 196/2003',
          settoreIds: [bulk.settoreId],
          processingActivityIds: designato?.processingActivityIds ?? [],
          databases: designato?.databases ?? [],
          instructions: bulk.instructions,
          startDate: bulk.startDate,
          endDate: bulk.endDate,
          transitions: [
            { from: null, to: 'draft', at: now, by: { userId: actor.userId, name: actor.name } },
          ],
          bulkJobId: bulk._id,
          bulkIndex: index,
          uniqueKey: `${bulk.id}:${index}`,
        }),
    );
  return { rows, alreadyDone: done.size };
}

/**
 * Storage or database hiccups are retried a few times before the job fails (a
 * failed job keeps what it did; started again, it goes on from there). A refused
 * act (HttpProblem) is not retried: it is reported for its row.
 */
async function withRetries<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (error instanceof HttpProblem || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

/** The job: issue every row not yet issued, then assemble the ZIP and the merged PDF. */
export async function runBulk(
  data: { bulkId: string; organisationId: string },
  job: RunningJob,
  deps: BulkDependencies,
): Promise<void> {
  const organisationId = new mongoose.Types.ObjectId(data.organisationId);
  // The lease is renewed on a timer, not per act: a slow act or the final
  // assembly must not let another worker think this one died.
  const heartbeat = setInterval(() => {
    job.touch().catch((error: unknown) => {
      deps.logger.warn({ err: error, bulkId: data.bulkId }, 'job lease renewal failed');
    });
  }, 1000);
  try {
    await issueBulk(data.bulkId, organisationId, deps);
  } finally {
    clearInterval(heartbeat);
  }
}

async function issueBulk(
  bulkId: string,
  organisationId: Types.ObjectId,
  deps: BulkDependencies,
): Promise<void> {
  await runInTenant(organisationId, async () => {
    const bulk = await findBulk(bulkId);
    if (bulk.status === 'completed') return;
    const actor: Actor = {
      organisationId,
      userId: bulk.createdBy.userId,
      name: bulk.createdBy.name,
    };
    await BulkIssue.updateOne(
      { _id: bulk._id },
      { $set: { status: 'running', startedAt: bulk.startedAt ?? new Date() } },
    );
    const startedAt = performance.now();
    const sources = await templateContextFor(organisationId, deps.storage);
    // The files of the acts issued in this run, kept for the ZIP and the merged PDF.
    const files = new Map<string, { pdf: Uint8Array; docx: Uint8Array }>();
    const actDeps = {
      storage: deps.storage,
      render: deps.render,
      cache: new FactCache(),
      numbering: sequential(),
      onStored: (documentId: Types.ObjectId, stored: { pdf: Uint8Array; docx: Uint8Array }) => {
        files.set(documentId.toString(), stored);
      },
    };
    // One query each for what every act would otherwise look up on its own.
    const { rows: pending, alreadyDone } = await rowsToIssue(bulk, actor, actDeps.cache);
    const registrations = await registrationsOf(
      pending.map((row) => `appointment:${row.id}:nomina`),
    );
    const failures: { row: number; personId: Types.ObjectId | null; message: string }[] = [];
    const limit = pLimit(deps.concurrency ?? 8);
    let sinceProgress = 0;
    let issuedNow = 0;
    const reportProgress = async () => {
      sinceProgress = 0;
      await BulkIssue.updateOne({ _id: bulk._id }, { $set: { done: alreadyDone + issuedNow } });
    };
    await Promise.all(
      pending.map((row) =>
        limit(async () => {
          try {
            await withRetries(() =>
              issueAppointment(row._id, actor, actDeps, {
                sources,
                appointment: row,
                registration: registrations.get(`appointment:${row.id}:nomina`) ?? null,
              }),
            );
            issuedNow += 1;
          } catch (error) {
            if (!(error instanceof HttpProblem)) throw error;
            failures.push({
              row: (row.bulkIndex ?? 0) + 1,
              personId: row.personId ?? null,
              message: error.detail ?? error.title,
            });
          }
          sinceProgress += 1;
          if (sinceProgress >= 25) await reportProgress();
        }),
      ),
    );
    await reportProgress();
    const issuedAt = performance.now();
    const results = await assembleResults(bulk, deps, files);
    deps.logger.info(
      {
        bulkId: bulk.id,
        acts: pending.length,
        issueMs: Math.round(issuedAt - startedAt),
        assembleMs: Math.round(performance.now() - issuedAt),
      },
      'bulk issue done',
    );
    await BulkIssue.updateOne(
      { _id: bulk._id },
      {
        $set: {
          status: 'completed',
          finishedAt: new Date(),
          failures,
          zip: results.zip,
          pdf: results.pdf,
        },
      },
    );
  });
}

/** One ZIP with each act's PDF and DOCX, and one PDF with every act in row order. */
async function assembleResults(
  bulk: BulkIssueDocument,
  deps: BulkDependencies,
  kept: Map<string, { pdf: Uint8Array; docx: Uint8Array }>,
) {
  const appointments = await Appointment.find({ bulkJobId: bulk._id, status: { $ne: 'draft' } })
    .sort({ bulkIndex: 1 })
    .select({ acts: 1, bulkIndex: 1 })
    .lean();
  const documentIds = appointments.flatMap((appointment) =>
    appointment.acts.filter((act) => act.kind === 'nomina').map((act) => act.documentId),
  );
  const documents = await GeneratedDocument.find({ _id: { $in: documentIds } });
  const byId = new Map(documents.map((document) => [document.id, document]));
  const zip = new JSZip();
  const merged = await PDFDocument.create();
  const fetches = pLimit(16);
  const files = await Promise.all(
    documentIds.map((id) =>
      fetches(async () => {
        const document = byId.get(id?.toString() ?? '');
        if (!document) return null;
        // Acts of an earlier, interrupted run are read back from storage, checked.
        const inMemory = kept.get(document.id);
        if (inMemory) return { document, pdf: inMemory.pdf, docx: inMemory.docx };
        const read = (file: { key: string; sha256: string; versionId?: string | null }) =>
          deps.storage
            .get(file.key, {
              expectedSha256: file.sha256,
              ...(file.versionId ? { versionId: file.versionId } : {}),
            })
            .then((stored) => stored.body);
        const [pdf, docx] = await Promise.all([read(document.pdf), read(document.docx)]);
        return { document, pdf, docx };
      }),
    ),
  );
  for (const file of files) {
    if (!file) continue;
    const number = String(file.document.registration?.number ?? 0).padStart(4, '0');
    zip.file(`${number} ${file.document.pdf.fileName}`, file.pdf, { date: new Date(0) });
    zip.file(`${number} ${file.document.docx.fileName}`, file.docx, { date: new Date(0) });
    const source = await PDFDocument.load(file.pdf, { updateMetadata: false });
    const pages = await merged.copyPages(source, source.getPageIndices());
    for (const page of pages) merged.addPage(page);
  }
  merged.setTitle(`Autorizzazioni al trattamento – emissione massiva ${bulk.id}`);
  merged.setLanguage('it-IT');
  const zipBytes = await zip.generateAsync({ type: 'uint8array', compression: 'STORE' });
  const pdfBytes = await merged.save();
  const prefix = `organisations/${bulk.organisationId.toString()}/bulk/${bulk.id}`;
  const title = `Autorizzazioni ${bulk.id}`;
  const [zipStored, pdfStored] = await Promise.all([
    deps.storage.put(`${prefix}/atti.zip`, zipBytes, 'application/zip'),
    deps.storage.put(`${prefix}/atti.pdf`, pdfBytes, 'application/pdf'),
  ]);
  return {
    zip: { ...zipStored, versionId: zipStored.versionId ?? null, fileName: `${title}.zip` },
    pdf: {
      ...pdfStored,
      versionId: pdfStored.versionId ?? null,
      fileName: readableFileName(title, 'pdf'),
    },
  };
}

export function registerBulkJobs(queue: JobQueue, deps: BulkDependencies): void {
  queue.define<{ bulkId: string; organisationId: string }>(bulkJobName, (data, job) =>
    runBulk(data, job, deps),
  );
}

export type { InvalidParam };
