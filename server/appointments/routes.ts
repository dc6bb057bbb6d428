import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { z } from 'zod';
import { sendStoredFile } from '../documents/download.js';
import { objectIdSchema, type Api } from '../platform/api.js';
import { HttpProblem } from '../platform/http-problem.js';
import type { JobQueue } from '../platform/jobs.js';
import { isoDateSchema, paginationQuery, totalCountDescription } from '../people/fields.js';
import {
  bulkCsvDescription,
  checkCsv,
  findBulk,
  peopleFromCsv,
  startBulk,
  unauthorisedEmployees,
} from './bulk.js';
import type { BulkIssueDocument } from './bulk-model.js';
import {
  appointmentChangesSchema,
  dpoCommunicationSchema,
  newAppointmentSchema,
  revocationSchema,
  transitionNoteSchema,
} from './input.js';
import { appointmentRoles, appointmentStatuses, Appointment } from './model.js';
import {
  applyManagerChange,
  createAppointment,
  deleteDraft,
  expireDue,
  findAppointment,
  issueAppointment,
  moveForward,
  recordDpoCommunication,
  revokeAppointment,
  updateDraft,
  type ActDependencies,
} from './service.js';
import {
  currentHolders,
  expiringWithin,
  managerChangeProposals,
  personHistory,
  unauthorisedPeople,
} from './views.js';

const allRoles = ['admin', 'segreteria', 'procurement', 'legal', 'dpo'] as const;
const writers = ['admin', 'segreteria', 'dpo'] as const;

const actSchema = z.object({
  kind: z.enum(['nomina', 'revoca']),
  documentId: z.string().nullable(),
  registerKey: z.string(),
  year: z.number().int(),
  number: z.number().int(),
  date: z.string(),
});

const appointmentSchema = z
  .object({
    id: z.string(),
    role: z.enum(appointmentRoles),
    status: z.enum(appointmentStatuses),
    personId: z.string().nullable(),
    supplierId: z.string().nullable(),
    appointeeName: z.string(),
    authority: z.object({ kind: z.string(), appointmentId: z.string().nullable() }),
    legalBasis: z.string(),
    settoreIds: z.array(z.string()),
    processingActivityIds: z.array(z.string()),
    databases: z.array(z.string()),
    tasks: z.array(z.string()),
    instructions: z.array(z.string()),
    startDate: z.string().nullable(),
    endDate: z.string().nullable(),
    dpo: z.record(z.string(), z.unknown()).nullable(),
    systemAdministrator: z.record(z.string(), z.unknown()).nullable(),
    processor: z.record(z.string(), z.unknown()).nullable(),
    jointController: z.record(z.string(), z.unknown()).nullable(),
    supersedesId: z.string().nullable(),
    supersededById: z.string().nullable(),
    acts: z.array(actSchema),
    transitions: z.array(
      z.object({
        from: z.string().nullable(),
        to: z.string(),
        at: z.string(),
        by: z.object({ userId: z.string().nullable(), name: z.string() }),
        note: z.string().nullable(),
      }),
    ),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Appointment');

const appointmentIdParams = z.object({ appointmentId: objectIdSchema });
const conflictResponse = {
  description: 'Transizione non ammessa: currentState indica lo stato della nomina',
};

const idempotencyKeyPattern = /^[\x21-\x7e]{8,200}$/;

function idempotencyKeyOf(request: Request): string | undefined {
  const key = request.get('idempotency-key');
  if (key === undefined) return undefined;
  if (!idempotencyKeyPattern.test(key)) {
    throw HttpProblem.badRequest(
      'Idempotency-Key non valida: da 8 a 200 caratteri ASCII visibili',
      [{ name: 'Idempotency-Key', reason: 'formato non valido' }],
    );
  }
  return key;
}

const bulkFileSchema = z.object({
  sha256: z.string(),
  size: z.number().int(),
  contentType: z.string(),
  fileName: z.string(),
});

const bulkSchema = z
  .object({
    id: z.string(),
    status: z.enum(['queued', 'running', 'completed', 'failed']),
    source: z.enum(['settore', 'csv']),
    settoreId: z.string(),
    total: z.number().int(),
    done: z.number().int(),
    failures: z.array(z.object({ row: z.number().int(), message: z.string() })),
    queue: z
      .object({ state: z.string(), failReason: z.string().optional() })
      .nullable()
      .openapi({ description: 'Lo stato del lavoro nella coda (chi lo esegue, errori)' }),
    links: z.object({ appointments: z.string(), zip: z.string(), pdf: z.string() }),
    zip: bulkFileSchema.nullable(),
    pdf: bulkFileSchema.nullable(),
  })
  .openapi('BulkIssue');

const bulkRequestSchema = z
  .object({
    settoreId: objectIdSchema,
    personIds: z.array(objectIdSchema).min(1).max(5000).optional().openapi({
      description:
        'Le persone da autorizzare; se assenti, tutti i dipendenti del settore senza autorizzazione in vigore',
    }),
    instructions: z.array(z.string().trim().min(1).max(2000)).min(1).max(200).optional(),
    startDate: isoDateSchema.nullable().optional(),
    endDate: isoDateSchema.nullable().optional(),
  })
  .strict()
  .openapi('BulkRequest');

async function presentBulk(bulk: BulkIssueDocument, jobs: JobQueue) {
  const json = bulk.toJSON() as Record<string, unknown>;
  const publicFile = (file: unknown) => {
    if (!file) return null;
    const { key: _key, versionId: _versionId, ...rest } = file as Record<string, unknown>;
    return rest;
  };
  const queue = bulk.queueJobId ? await jobs.status(bulk.queueJobId) : null;
  const base = `/api/v1/appointment-bulks/${bulk.id}`;
  return {
    ...json,
    zip: publicFile(json.zip),
    pdf: publicFile(json.pdf),
    queue: queue
      ? { state: queue.state, ...(queue.failReason ? { failReason: queue.failReason } : {}) }
      : null,
    links: {
      appointments: `/api/v1/appointments?bulkJobId=${bulk.id}`,
      zip: `${base}/zip`,
      pdf: `${base}/pdf`,
    },
  };
}

export function registerAppointmentRoutes(
  api: Api,
  deps: ActDependencies & { jobs: JobQueue },
): void {
  registerBulkRoutes(api, deps);

  api.route({
    method: 'get',
    path: '/api/v1/appointments',
    summary: 'Nomine e designazioni, dalla più recente',
    tags: ['Nomine'],
    access: allRoles,
    query: z.object({
      role: z.enum(appointmentRoles).optional(),
      status: z.enum(appointmentStatuses).optional(),
      personId: objectIdSchema.optional(),
      supplierId: objectIdSchema.optional(),
      settoreId: objectIdSchema.optional(),
      bulkJobId: objectIdSchema.optional(),
      ...paginationQuery,
    }),
    responses: {
      200: {
        description: `Nomine. ${totalCountDescription}`,
        schema: z.array(appointmentSchema),
      },
    },
    handler: async ({ query }, _request, response) => {
      const { limit, offset, settoreId, ...rest } = query;
      const filter = {
        ...Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)),
        ...(settoreId ? { settoreIds: settoreId } : {}),
      };
      const [items, total] = await Promise.all([
        Appointment.find(filter).sort({ createdAt: -1, _id: -1 }).skip(offset).limit(limit),
        Appointment.countDocuments(filter),
      ]);
      response.setHeader('X-Total-Count', String(total)).json(items);
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/appointments',
    summary: 'Prepara una nomina in bozza (senza numero: il numero si assegna all’emissione)',
    tags: ['Nomine'],
    access: writers,
    body: newAppointmentSchema,
    responses: {
      201: { description: 'Bozza creata', schema: appointmentSchema },
      422: { description: 'Riferimenti inesistenti: invalidParams elenca i campi' },
    },
    handler: async ({ body, principal }, _request, response) => {
      const appointment = await createAppointment(body, principal);
      response.status(201).location(`/api/v1/appointments/${appointment.id}`).json(appointment);
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/appointments/:appointmentId',
    summary: 'Una nomina, con gli atti emessi e la storia degli stati',
    tags: ['Nomine'],
    access: allRoles,
    params: appointmentIdParams,
    responses: { 200: { description: 'Nomina', schema: appointmentSchema } },
    handler: async ({ params }, _request, response) => {
      response.json(await findAppointment(params.appointmentId));
    },
  });

  api.route({
    method: 'patch',
    path: '/api/v1/appointments/:appointmentId',
    summary: 'Modifica una bozza',
    tags: ['Nomine'],
    access: writers,
    params: appointmentIdParams,
    body: appointmentChangesSchema,
    responses: {
      200: { description: 'Bozza aggiornata', schema: appointmentSchema },
      409: conflictResponse,
    },
    handler: async ({ params, body }, _request, response) => {
      response.json(await updateDraft(params.appointmentId, body));
    },
  });

  api.route({
    method: 'delete',
    path: '/api/v1/appointments/:appointmentId',
    summary: 'Elimina una bozza (una nomina emessa non si elimina: si revoca)',
    tags: ['Nomine'],
    access: writers,
    params: appointmentIdParams,
    responses: { 204: { description: 'Bozza eliminata' }, 409: conflictResponse },
    handler: async ({ params }, _request, response) => {
      await deleteDraft(params.appointmentId);
      response.status(204).end();
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/appointments/:appointmentId/issue',
    summary:
      "Emette l'atto: verifica le regole, assegna il numero del registro, genera DOCX e PDF (ripetibile: completa lo stesso atto)",
    tags: ['Nomine'],
    access: writers,
    params: appointmentIdParams,
    responses: {
      200: { description: 'Nomina emessa', schema: appointmentSchema },
      409: conflictResponse,
      422: { description: 'Regola violata o dato mancante: invalidParams nomina il campo' },
    },
    handler: async ({ params, principal }, _request, response) => {
      response.json(await issueAppointment(params.appointmentId, principal, deps));
    },
  });

  for (const [action, to, summary] of [
    ['sign', 'signed', "Registra la firma dell'atto da parte dell'autorità che lo adotta"],
    ['accept', 'accepted', "Registra l'accettazione (controfirma) della persona nominata"],
  ] as const) {
    api.route({
      method: 'post',
      path: `/api/v1/appointments/:appointmentId/${action}`,
      summary,
      tags: ['Nomine'],
      access: writers,
      params: appointmentIdParams,
      body: transitionNoteSchema,
      responses: {
        200: { description: 'Stato aggiornato', schema: appointmentSchema },
        409: conflictResponse,
      },
      handler: async ({ params, body, principal }, _request, response) => {
        response.json(await moveForward(params.appointmentId, to, principal, body.note));
      },
    });
  }

  api.route({
    method: 'post',
    path: '/api/v1/appointments/:appointmentId/revoke',
    summary: 'Revoca la nomina con un atto di revoca numerato',
    tags: ['Nomine'],
    access: writers,
    params: appointmentIdParams,
    body: revocationSchema,
    responses: {
      200: { description: 'Nomina revocata', schema: appointmentSchema },
      409: conflictResponse,
    },
    handler: async ({ params, body, principal }, _request, response) => {
      response.json(await revokeAppointment(params.appointmentId, body, principal, deps));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/appointments/:appointmentId/dpo-communication',
    summary:
      'RPD: registra la comunicazione dei dati di contatto al Garante (art. 37, par. 7, GDPR) e la pubblicazione',
    tags: ['Nomine'],
    access: writers,
    params: appointmentIdParams,
    body: dpoCommunicationSchema,
    responses: {
      200: { description: 'Registrato', schema: appointmentSchema },
      409: conflictResponse,
    },
    handler: async ({ params, body }, _request, response) => {
      response.json(await recordDpoCommunication(params.appointmentId, body));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/appointment-views/holders',
    summary: 'Chi ricopre ora quale ruolo, per settore e per trattamento',
    tags: ['Nomine'],
    access: allRoles,
    query: z.object({
      role: z.enum(appointmentRoles).optional(),
      settoreId: objectIdSchema.optional(),
      processingActivityId: objectIdSchema.optional(),
    }),
    responses: { 200: { description: 'Nomine in vigore', schema: z.array(appointmentSchema) } },
    handler: async ({ query }, _request, response) => {
      await expireDue();
      response.json(await currentHolders(query));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/appointment-views/expiring',
    summary: 'Nomine in vigore che scadono nei prossimi N giorni',
    tags: ['Nomine'],
    access: allRoles,
    query: z.object({ days: z.coerce.number().int().min(0).max(3650).default(30) }),
    responses: { 200: { description: 'Nomine in scadenza', schema: z.array(appointmentSchema) } },
    handler: async ({ query }, _request, response) => {
      await expireDue();
      response.json(await expiringWithin(query.days));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/appointment-views/unauthorised-people',
    summary:
      'Dipendenti di settori che trattano dati personali senza autorizzazione né designazione in vigore',
    tags: ['Nomine'],
    access: allRoles,
    responses: {
      200: { description: 'Persone', schema: z.array(z.record(z.string(), z.unknown())) },
    },
    handler: async (_input, _request, response) => {
      await expireDue();
      response.json(await unauthorisedPeople());
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/people/:personId/appointments',
    summary: 'La storia delle nomine di una persona',
    tags: ['Nomine'],
    access: allRoles,
    params: z.object({ personId: objectIdSchema }),
    responses: { 200: { description: 'Nomine', schema: z.array(appointmentSchema) } },
    handler: async ({ params }, _request, response) => {
      response.json(await personHistory(params.personId));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/appointment-views/manager-changes',
    summary:
      'Settori il cui responsabile non è più il Designato in carica: la nomina e la revoca da adottare',
    tags: ['Nomine'],
    access: allRoles,
    responses: {
      200: { description: 'Proposte', schema: z.array(z.record(z.string(), z.unknown())) },
    },
    handler: async (_input, _request, response) => {
      response.json(await managerChangeProposals());
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/appointment-views/manager-changes/:settoreId',
    summary:
      'Prepara la bozza di nomina del nuovo responsabile; emettendola si revoca la designazione uscente',
    tags: ['Nomine'],
    access: writers,
    params: z.object({ settoreId: objectIdSchema }),
    responses: {
      201: { description: 'Bozza di nomina', schema: appointmentSchema },
      409: { description: 'Nessun cambio da recepire' },
    },
    handler: async ({ params, principal }, _request, response) => {
      const draft = await applyManagerChange(params.settoreId, principal);
      response.status(201).location(`/api/v1/appointments/${draft.id}`).json(draft);
    },
  });
}

function registerBulkRoutes(api: Api, deps: ActDependencies & { jobs: JobQueue }): void {
  const bulkIdParams = z.object({ bulkId: objectIdSchema });
  const started = {
    202: { description: 'Lavoro avviato', schema: bulkSchema },
    200: { description: 'Stessa Idempotency-Key: il lavoro già avviato', schema: bulkSchema },
    409: { description: 'Nessuna persona da autorizzare' },
    422: {
      description: 'Settore senza Designato in carica, Idempotency-Key riusata, righe errate',
    },
  };

  api.route({
    method: 'post',
    path: '/api/v1/appointment-bulks',
    summary:
      "Autorizza in un'unica emissione i dipendenti di un settore (un atto numerato ciascuno). Idempotente con l'intestazione Idempotency-Key",
    tags: ['Nomine'],
    access: writers,
    body: bulkRequestSchema,
    responses: started,
    handler: async ({ body, principal }, request, response) => {
      const { bulk, created } = await startBulk({
        request: body,
        source: 'settore',
        requestFingerprint: body,
        idempotencyKey: idempotencyKeyOf(request),
        actor: principal,
        jobs: deps.jobs,
        resolvePeople: async () =>
          body.personIds ?? (await unauthorisedEmployees(body.settoreId)).map(String),
      });
      response
        .status(created ? 202 : 200)
        .location(`/api/v1/appointment-bulks/${bulk.id}`)
        .json(await presentBulk(bulk, deps.jobs));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/appointment-bulks/csv',
    summary:
      "Autorizza le persone di un CSV: ogni riga è verificata prima di emettere alcunché (422 con il rapporto se una riga è errata; dryRun=true solo verifica). Idempotente con l'intestazione Idempotency-Key",
    tags: ['Nomine'],
    access: writers,
    body: z
      .object({
        settoreId: objectIdSchema,
        dryRun: z.enum(['true', 'false']).default('false'),
        startDate: isoDateSchema.optional(),
        endDate: isoDateSchema.optional(),
      })
      .strict(),
    upload: {
      maxFileSize: 1024 * 1024,
      files: [{ name: 'file', required: true, description: bulkCsvDescription }],
    },
    responses: {
      ...started,
      200: { description: 'dryRun: il rapporto delle righe, o la stessa Idempotency-Key' },
    },
    handler: async ({ body, files, principal }, request, response) => {
      const buffer = files.file!.buffer;
      const { rows, parsed } = await checkCsv(buffer, body.settoreId);
      const failed = rows.filter((row) => row.status === 'error');
      if (failed.length > 0) {
        throw new HttpProblem(
          422,
          'Righe non valide',
          `Righe con errori: ${failed.map((row) => row.row).join(', ')}. Nessun atto è stato emesso`,
          {
            invalidParams: failed.flatMap((row) =>
              row.errors.map((reason) => ({ name: `files.file.riga${row.row}`, reason })),
            ),
            rows,
          },
        );
      }
      if (body.dryRun === 'true') {
        response.json({ rows });
        return;
      }
      const { dryRun: _dryRun, ...request_ } = body;
      const { bulk, created } = await startBulk({
        request: request_,
        source: 'csv',
        requestFingerprint: {
          ...request_,
          file: createHash('sha256').update(buffer).digest('hex'),
        },
        idempotencyKey: idempotencyKeyOf(request),
        actor: principal,
        jobs: deps.jobs,
        resolvePeople: () => peopleFromCsv(parsed, rows, body.settoreId),
      });
      response
        .status(created ? 202 : 200)
        .location(`/api/v1/appointment-bulks/${bulk.id}`)
        .json({ ...(await presentBulk(bulk, deps.jobs)), rows });
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/appointment-bulks/:bulkId',
    summary: "Avanzamento di un'emissione massiva: fatti/totale, errori, risultati",
    tags: ['Nomine'],
    access: allRoles,
    params: bulkIdParams,
    responses: { 200: { description: 'Stato', schema: bulkSchema } },
    handler: async ({ params }, _request, response) => {
      response.json(await presentBulk(await findBulk(params.bulkId), deps.jobs));
    },
  });

  for (const format of ['zip', 'pdf'] as const) {
    api.route({
      method: 'get',
      path: `/api/v1/appointment-bulks/:bulkId/${format}`,
      summary:
        format === 'zip'
          ? 'Tutti gli atti, PDF e DOCX, in un ZIP'
          : 'Tutti gli atti in un unico PDF, nell’ordine delle righe',
      tags: ['Nomine'],
      access: allRoles,
      params: bulkIdParams,
      responses: {
        200: { description: 'Il file' },
        409: { description: 'Emissione non ancora completata' },
      },
      handler: async ({ params }, _request, response) => {
        const bulk = await findBulk(params.bulkId);
        const file = bulk[format];
        if (!file) {
          throw HttpProblem.conflict(
            `Emissione non ancora completata (${bulk.done} di ${bulk.total})`,
            { currentState: bulk.status },
          );
        }
        await sendStoredFile(response, deps.storage, file);
      },
    });
  }
}
