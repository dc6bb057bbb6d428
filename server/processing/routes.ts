import { z } from 'zod';
import { objectIdSchema, type Api } from '../platform/api.js';
import { HttpProblem } from '../platform/http-problem.js';
import { csvColumnsDescription, csvTemplate, importCsv } from './csv-import.js';
import {
  legalBasisSchema,
  processingActivityChangesSchema,
  processingActivityInputSchema,
} from './input.js';
import {
  controllerRoles,
  databaseKinds,
  dataSpecialKinds,
  dpiaAnswers,
  legalBases,
} from './model.js';
import {
  archiveActivity,
  createActivity,
  findActivity,
  listActivities,
  restoreActivity,
  sortOptions,
  updateActivity,
} from './service.js';

const readers = ['admin', 'segreteria', 'dpo', 'legal', 'procurement'] as const;
const writers = ['admin', 'segreteria', 'dpo'] as const;
const basePath = '/api/v1/processing-activities';

const personSchema = z.object({ userId: z.string(), name: z.string() });

const activitySchema = z
  .object({
    id: z.string(),
    organisationId: z.string(),
    name: z.string(),
    code: z.string().nullable(),
    purposes: z.array(z.string()),
    legalBasis: z.array(legalBasisSchema),
    controllerRole: z.enum(controllerRoles),
    otherControllers: z.array(z.string()),
    dataSubjectCategories: z.array(z.string()),
    personalDataCategories: z.array(
      z.object({ name: z.string(), special: z.enum(dataSpecialKinds) }),
    ),
    hasSpecialData: z.boolean().openapi({ description: 'Derivato: almeno un dato art9' }),
    hasJudicialData: z.boolean().openapi({ description: 'Derivato: almeno un dato art10' }),
    recipients: z.array(z.string()),
    transfersOutsideEU: z.object({
      present: z.boolean(),
      countries: z.array(z.string()),
      safeguards: z.string().nullable(),
    }),
    retention: z.string(),
    securityMeasures: z.array(z.string()),
    settoreId: z.string().nullable(),
    databases: z.array(
      z.object({ name: z.string(), kind: z.enum(databaseKinds), notes: z.string().nullable() }),
    ),
    processors: z.array(z.string()),
    dpiaRequired: z.enum(dpiaAnswers),
    archived: z.boolean(),
    archivedAt: z.string().nullable(),
    archivedBy: personSchema.nullable(),
    createdBy: personSchema,
    updatedBy: personSchema,
    origin: z.object({
      source: z.enum(['api', 'csv']),
      importId: z.string().nullable(),
      row: z.number().int().nullable(),
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('ProcessingActivity');

const importReportSchema = z
  .object({
    stored: z.boolean().openapi({ description: 'false: nessuna riga salvata' }),
    created: z.number().int(),
    updated: z.number().int(),
    rows: z.array(
      z.object({
        row: z.number().int().openapi({ description: 'Riga del foglio (intestazione = 1)' }),
        status: z.enum(['created', 'updated', 'valid', 'error']).openapi({
          description: 'valid: riga corretta ma non salvata (prova, o altre righe errate)',
        }),
        id: z.string().optional(),
        code: z.string().nullable(),
        errors: z.array(z.object({ column: z.string().nullable(), reason: z.string() })),
      }),
    ),
  })
  .openapi('ProcessingImportReport');

const activityIdParams = z.object({ activityId: objectIdSchema });
const booleanFilter = z.enum(['true', 'false']).optional();

export function registerProcessingRoutes(api: Api): void {
  api.route({
    method: 'get',
    path: basePath,
    summary: 'Registro delle attività di trattamento (art. 30 GDPR): elenco filtrabile e paginato',
    tags: ['Registro dei trattamenti'],
    access: readers,
    query: z.object({
      q: z
        .string()
        .trim()
        .min(2, 'almeno 2 caratteri')
        .max(200)
        .optional()
        .openapi({ description: 'Parole (senza accenti) nel nome, nel codice o nelle finalità' }),
      settoreId: objectIdSchema.optional(),
      hasSpecialData: booleanFilter,
      hasJudicialData: booleanFilter,
      dpiaRequired: z.enum(dpiaAnswers).optional(),
      archived: z.enum(['false', 'true', 'all']).default('false'),
      sort: z.enum(Object.keys(sortOptions) as [keyof typeof sortOptions]).default('name'),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      offset: z.coerce.number().int().min(0).default(0),
    }),
    responses: {
      200: {
        description: 'Trattamenti; il totale senza paginazione è in X-Total-Count',
        schema: z.array(activitySchema),
      },
    },
    handler: async ({ query }, _request, response) => {
      const toBoolean = (value: 'true' | 'false' | undefined) =>
        value === undefined ? undefined : value === 'true';
      const { items, total } = await listActivities({
        ...query,
        hasSpecialData: toBoolean(query.hasSpecialData),
        hasJudicialData: toBoolean(query.hasJudicialData),
      });
      response.setHeader('X-Total-Count', String(total)).json(items);
    },
  });

  api.route({
    method: 'post',
    path: basePath,
    summary: 'Aggiunge un trattamento al registro',
    tags: ['Registro dei trattamenti'],
    access: writers,
    body: processingActivityInputSchema,
    responses: {
      201: { description: 'Trattamento registrato', schema: activitySchema },
      409: { description: 'Codice già usato nell’ente' },
    },
    handler: async ({ body, principal }, _request, response) => {
      const activity = await createActivity(body, principal);
      response.status(201).location(`${basePath}/${activity.id}`).json(activity);
    },
  });

  api.route({
    method: 'get',
    path: `${basePath}/legal-bases`,
    summary: 'Le basi giuridiche citabili (art. 6, art. 9, art. 10 GDPR, art. 2-octies Codice)',
    tags: ['Registro dei trattamenti'],
    access: readers,
    responses: {
      200: {
        description: 'Basi giuridiche',
        schema: z.array(
          z.object({
            code: legalBasisSchema,
            group: z.enum(['art6', 'art9', 'art10']),
            label: z.string(),
          }),
        ),
      },
    },
    handler: (_input, _request, response) => {
      response.json(legalBases);
    },
  });

  api.route({
    method: 'get',
    path: `${basePath}/import/template`,
    summary: 'Modello CSV per l’importazione: intestazione e una riga di esempio',
    tags: ['Registro dei trattamenti'],
    access: readers,
    responses: {
      200: {
        description: `CSV UTF-8 separato da ;. Colonne: ${csvColumnsDescription}`,
        schema: z.string(),
        contentType: 'text/csv',
      },
    },
    handler: (_input, _request, response) => {
      response
        .status(200)
        .type('text/csv; charset=utf-8')
        .setHeader('Content-Disposition', 'attachment; filename="registro-trattamenti-modello.csv"')
        .send(csvTemplate());
    },
  });

  api.route({
    method: 'post',
    path: `${basePath}/import`,
    summary:
      'Importa il registro da CSV (UTF-8, ≤ 1 MB, separatore ; o , riconosciuto, valori multipli separati da |). Tutto o niente: se una riga è errata nessuna riga è salvata e il rapporto (422) indica riga e colonna di ogni errore; una riga con il codice di un trattamento esistente lo aggiorna. dryRun=true verifica senza salvare',
    tags: ['Registro dei trattamenti'],
    access: writers,
    body: z.object({ dryRun: z.enum(['true', 'false']).default('false') }).strict(),
    upload: {
      maxFileSize: 1024 * 1024,
      files: [
        {
          name: 'file',
          required: true,
          description: `File CSV con riga di intestazione. Colonne: ${csvColumnsDescription}`,
        },
      ],
    },
    responses: {
      201: { description: 'Righe salvate (almeno una creata)', schema: importReportSchema },
      200: {
        description: 'Righe salvate (solo aggiornamenti), o verificate con dryRun',
        schema: importReportSchema,
      },
      413: { description: 'File oltre 1 MB' },
      422: {
        description:
          'File illeggibile (codifica, separatore, intestazione) o righe errate: nessuna riga salvata; per le righe il problema contiene created, updated e rows',
      },
    },
    handler: async ({ body, files, principal }, _request, response) => {
      const dryRun = body.dryRun === 'true';
      const report = await importCsv(files.file!.buffer, { principal, dryRun });
      const failed = report.rows.filter((row) => row.status === 'error');
      if (failed.length > 0) {
        throw new HttpProblem(
          422,
          'Righe non valide',
          `Righe con errori: ${failed.map((row) => row.row).join(', ')}. Nessuna riga è stata salvata`,
          {
            invalidParams: failed.flatMap((row) =>
              row.errors.map((error) => ({
                name: `files.file.riga${row.row}${error.column ? `.${error.column}` : ''}`,
                reason: error.reason,
              })),
            ),
            ...report,
          },
        );
      }
      response.status(report.created > 0 ? 201 : 200).json(report);
    },
  });

  api.route({
    method: 'get',
    path: `${basePath}/:activityId`,
    summary: 'Un trattamento del registro',
    tags: ['Registro dei trattamenti'],
    access: readers,
    params: activityIdParams,
    responses: { 200: { description: 'Trattamento', schema: activitySchema } },
    handler: async ({ params }, _request, response) => {
      response.json(await findActivity(params.activityId));
    },
  });

  api.route({
    method: 'patch',
    path: `${basePath}/:activityId`,
    summary: 'Modifica un trattamento: i campi indicati sostituiscono quelli registrati',
    tags: ['Registro dei trattamenti'],
    access: writers,
    params: activityIdParams,
    body: processingActivityChangesSchema,
    responses: {
      200: { description: 'Trattamento aggiornato', schema: activitySchema },
      409: { description: 'Codice già usato, o trattamento archiviato' },
    },
    handler: async ({ params, body, principal }, _request, response) => {
      response.json(await updateActivity(params.activityId, body, principal));
    },
  });

  api.route({
    method: 'delete',
    path: `${basePath}/:activityId`,
    summary: 'Archivia un trattamento (resta consultabile con archived=true o all)',
    tags: ['Registro dei trattamenti'],
    access: writers,
    params: activityIdParams,
    responses: { 200: { description: 'Trattamento archiviato', schema: activitySchema } },
    handler: async ({ params, principal }, _request, response) => {
      response.json(await archiveActivity(params.activityId, principal));
    },
  });

  api.route({
    method: 'post',
    path: `${basePath}/:activityId/restore`,
    summary: 'Ripristina un trattamento archiviato',
    tags: ['Registro dei trattamenti'],
    access: writers,
    params: activityIdParams,
    responses: { 200: { description: 'Trattamento ripristinato', schema: activitySchema } },
    handler: async ({ params, principal }, _request, response) => {
      response.json(await restoreActivity(params.activityId, principal));
    },
  });
}
