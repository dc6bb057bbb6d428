import { z } from 'zod';
import { textField, italian, objectIdSchema, type Api } from '../platform/api.js';
import { HttpProblem } from '../platform/http-problem.js';
import { isoDateSchema, paginationQuery, totalCountDescription } from '../people/fields.js';
import { sendStoredFile } from '../documents/download.js';
import { DateTimeInputError, parseDateTime } from './clock.js';
import {
  breachNatures,
  breachStatuses,
  documentKinds,
  exemptions,
  gravityLevels,
  notificationTypes,
  reporterKinds,
  severityAssessments,
} from './model.js';
import {
  addEvidence,
  closeBreach,
  createBreach,
  evidenceMaxBytes,
  findBreach,
  findEvidence,
  generateBreachDocument,
  listBreaches,
  listEvidence,
  presentBreach,
  recordAssessment,
  recordDesignatoReport,
  recordDpoOpinion,
  recordNotification,
  registerCsv,
  registerPdf,
  updateBreach,
  type BreachDependencies,
} from './service.js';

const readers = ['admin', 'segreteria', 'procurement', 'legal', 'dpo'] as const;
const writers = ['admin', 'segreteria', 'dpo'] as const;
const tags = ['Violazioni'];

const text = textField;
const item = text(1000);
const longText = text(4000);
const items = (max = 50) => z.array(item, italian).max(max, `al massimo ${max} voci`);
const count = z.number(italian).int('un numero intero').min(0).max(100_000_000);

/**
 * A date-time: ISO 8601 with `Z` or an offset is that instant; without an offset
 * it is Italian local time (Europe/Rome), refused when the hour does not exist or
 * repeats at a change of daylight saving time.
 */
const dateTime = z
  .string(italian)
  .superRefine((value, context) => {
    try {
      parseDateTime(value);
    } catch (error) {
      if (!(error instanceof DateTimeInputError)) throw error;
      context.addIssue({ code: 'custom', message: error.message });
    }
  })
  .openapi({
    description:
      'ISO 8601 con offset (2026-03-28T23:30:00+01:00, o Z) oppure ora locale italiana senza offset (2026-03-28T23:30)',
    example: '2026-03-28T23:30:00+01:00',
  });

const breachFields = {
  title: text(200, 3),
  occurred: z
    .object({
      start: dateTime,
      end: dateTime.nullable().optional().openapi({ description: 'Fine della finestra' }),
      approximate: z.boolean(italian).optional(),
    })
    .strict()
    .nullable()
    .openapi({ description: 'Quando è avvenuta: un istante (solo start) o una finestra' }),
  awareAt: dateTime.openapi({
    description: 'Quando l’ente ne è venuto a conoscenza: le 72 ore decorrono da qui',
  }),
  awarenessMeans: text(1000, 3).openapi({ description: 'Come l’ente ne è venuto a conoscenza' }),
  reportedBy: z
    .object({
      kind: z.enum(reporterKinds, italian),
      name: text(200, 3),
      processorAwareAt: dateTime.nullable().optional().openapi({
        description:
          'Per un responsabile: quando l’ha scoperta (art. 7 del Regolamento: entro 48 ore al Titolare)',
      }),
      supplierId: objectIdSchema.nullable().optional(),
    })
    .strict(),
  description: longText,
  howItHappened: longText.nullable(),
  natures: z
    .array(z.enum(breachNatures, italian), italian)
    .min(1, 'almeno una natura')
    .max(3)
    .refine((values) => new Set(values).size === values.length, 'voci ripetute'),
  dataSubjects: z
    .object({ categories: items(30), approxCount: count.nullable().optional() })
    .strict(),
  records: z
    .object({ categories: items(30).optional(), approxCount: count.nullable().optional() })
    .strict(),
  dataCategories: items(30),
  specialCategories: z.boolean(italian).openapi({ description: 'Dati dell’art. 9 GDPR' }),
  judicialData: z.boolean(italian).openapi({ description: 'Dati dell’art. 10 GDPR' }),
  recipients: items(30),
  systems: items(),
  paperArchives: items(),
  securityMeasures: items(),
  encrypted: z.boolean(italian),
  likelyConsequences: items(),
  measuresTaken: items(),
  measuresProposed: items(),
  crossBorderStates: z.array(text(100, 2), italian).max(30),
  otherAuthorities: items(20),
  settoreId: objectIdSchema.nullable(),
  delayReasons: longText.nullable(),
};

const createSchema = z
  .object({
    ...breachFields,
    occurred: breachFields.occurred.optional(),
    howItHappened: breachFields.howItHappened.optional(),
    dataSubjects: breachFields.dataSubjects.optional(),
    records: breachFields.records.optional(),
    dataCategories: breachFields.dataCategories.optional(),
    specialCategories: breachFields.specialCategories.optional(),
    judicialData: breachFields.judicialData.optional(),
    recipients: breachFields.recipients.optional(),
    systems: breachFields.systems.optional(),
    paperArchives: breachFields.paperArchives.optional(),
    securityMeasures: breachFields.securityMeasures.optional(),
    encrypted: breachFields.encrypted.optional(),
    likelyConsequences: breachFields.likelyConsequences.optional(),
    measuresTaken: breachFields.measuresTaken.optional(),
    measuresProposed: breachFields.measuresProposed.optional(),
    crossBorderStates: breachFields.crossBorderStates.optional(),
    otherAuthorities: breachFields.otherAuthorities.optional(),
    settoreId: breachFields.settoreId.optional(),
    delayReasons: breachFields.delayReasons.optional(),
  })
  .strict()
  .openapi('BreachInput');

const changesSchema = z.object(breachFields).partial().strict().openapi('BreachChanges');

const breachSchema = z
  .object({
    id: z.string(),
    status: z.enum(breachStatuses),
    awareAt: z.string(),
    awareAtLocal: z.string(),
    clock: z.object({
      deadline: z.string(),
      deadlineLocal: z.string(),
      hoursLeft: z.number(),
      overdue: z.boolean(),
      notificationDue: z.boolean(),
      notifiedAt: z.string().nullable(),
      notifiedLate: z.boolean(),
    }),
    processorLate: z.boolean().nullable(),
  })
  .passthrough()
  .openapi('Breach');

const breachIdParams = z.object({ breachId: objectIdSchema });
const conflict = { description: 'Passaggio non ammesso: currentState indica lo stato' };
const documentResult = z.object({ documentId: z.string(), record: breachSchema });

const documentRequestSchema = z
  .object({
    type: z
      .enum(notificationTypes, italian)
      .optional()
      .openapi({ description: 'Solo per la notifica; predefinita preliminare' }),
    delayReasons: longText.optional().openapi({
      description: 'Motivi del ritardo, obbligatori oltre le 72 ore (art. 33, par. 1, GDPR)',
    }),
    protocollo: text(100).optional(),
    additions: items(30)
      .optional()
      .openapi({ description: 'Notifica integrativa: che cosa aggiunge alla prima' }),
    notifier: z
      .object({
        name: text(200, 3),
        role: text(200, 3),
        email: z.email('indirizzo non valido'),
        pec: z.email('indirizzo non valido').optional(),
        phone: text(50, 5).optional(),
      })
      .strict()
      .optional()
      .openapi({ description: 'Chi notifica; predefinito il legale rappresentante' }),
    dpoGaranteProtocol: text(100).optional(),
    communicationChannel: text(300, 3).optional(),
    recipient: z
      .object({ name: text(200, 3), address: text(300, 5).optional() })
      .strict()
      .optional(),
    contact: z
      .object({
        office: text(200, 3),
        phone: text(50, 5),
        email: z.email('indirizzo non valido'),
        hours: text(200, 3).optional(),
      })
      .strict()
      .optional(),
    advice: items(30)
      .optional()
      .openapi({ description: 'Consigli agli interessati per proteggersi' }),
    publication: z
      .object({
        channels: items(10).min(1, 'almeno un canale'),
        from: isoDateSchema.optional(),
        to: isoDateSchema.optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .openapi('BreachDocumentRequest');

export function registerBreachRoutes(api: Api, deps: BreachDependencies): void {
  api.route({
    method: 'post',
    path: '/api/v1/breaches',
    summary: 'Registra una violazione dei dati personali: le 72 ore decorrono da awareAt',
    tags,
    access: writers,
    body: createSchema,
    responses: {
      201: { description: 'Violazione registrata', schema: breachSchema },
      422: { description: 'Regole violate (date incoerenti, responsabile senza data, …)' },
    },
    handler: async ({ body, principal }, _request, response) => {
      const breach = await createBreach(body, principal);
      response.status(201).location(`/api/v1/breaches/${breach.id}`).json(presentBreach(breach));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/breaches',
    summary: 'Le violazioni; con overdue=true quelle non notificate oltre le 72 ore',
    tags,
    access: readers,
    query: z.object({
      overdue: z.enum(['true', 'false']).optional(),
      status: z.enum(breachStatuses).optional(),
      ...paginationQuery,
    }),
    responses: {
      200: { description: totalCountDescription, schema: z.array(breachSchema) },
    },
    handler: async ({ query }, _request, response) => {
      const now = new Date();
      const { items: found, total } = await listBreaches(query, now);
      response
        .setHeader('X-Total-Count', String(total))
        .json(found.map((breach) => presentBreach(breach, now)));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/breaches/:breachId',
    summary: 'Una violazione, con il termine per la notifica',
    tags,
    access: readers,
    params: breachIdParams,
    responses: { 200: { description: 'Violazione', schema: breachSchema } },
    handler: async ({ params }, _request, response) => {
      response.json(presentBreach(await findBreach(params.breachId)));
    },
  });

  api.route({
    method: 'patch',
    path: '/api/v1/breaches/:breachId',
    summary: 'Modifica o completa la violazione finché non è chiusa',
    tags,
    access: writers,
    params: breachIdParams,
    body: changesSchema,
    responses: {
      200: { description: 'Violazione aggiornata', schema: breachSchema },
      409: conflict,
      422: { description: 'Regole violate' },
    },
    handler: async ({ params, body, principal }, _request, response) => {
      response.json(presentBreach(await updateBreach(params.breachId, body, principal)));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/breaches/:breachId/designato-report',
    summary: 'Relazione del Designato al Titolare (art. 32, comma 2, del Regolamento)',
    tags,
    access: writers,
    params: breachIdParams,
    body: z
      .object({
        designato: text(200, 3)
          .optional()
          .openapi({ description: 'Predefinito: il responsabile del settore della violazione' }),
        designatoPersonId: objectIdSchema.optional(),
        gender: z.enum(['M', 'F'], italian).optional(),
        text: longText,
      })
      .strict(),
    responses: {
      200: { description: 'Relazione registrata', schema: breachSchema },
      409: conflict,
    },
    handler: async ({ params, body, principal }, _request, response) => {
      response.json(presentBreach(await recordDesignatoReport(params.breachId, body, principal)));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/breaches/:breachId/dpo-opinion',
    summary: 'Parere dell’RPD sulla gravità (art. 32, comma 1, del Regolamento)',
    tags,
    access: writers,
    params: breachIdParams,
    body: z
      .object({
        assessment: z.enum(severityAssessments, italian),
        reasons: longText,
        recommendedMeasures: items().optional(),
        exemption: z.enum(exemptions, italian).optional(),
        severity: z.enum(gravityLevels, italian).optional(),
      })
      .strict(),
    responses: {
      200: { description: 'Parere registrato', schema: breachSchema },
      409: conflict,
    },
    handler: async ({ params, body, principal }, _request, response) => {
      response.json(presentBreach(await recordDpoOpinion(params.breachId, body, principal)));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/breaches/:breachId/assessment',
    summary:
      'Valutazione finale del Titolare: nessun rischio (solo registro), rischio (notifica), rischio elevato (notifica e comunicazione, salvo art. 34, par. 3)',
    tags,
    access: writers,
    params: breachIdParams,
    body: z
      .object({
        outcome: z.enum(severityAssessments, italian),
        reasons: longText,
        exemption: z.enum(exemptions, italian).optional(),
        exemptionExplanation: longText.optional(),
        publicNotice: z.boolean(italian).optional(),
        severity: z.enum(gravityLevels, italian).optional(),
      })
      .strict(),
    responses: {
      200: { description: 'Valutazione registrata', schema: breachSchema },
      409: conflict,
      422: { description: 'Esenzione incoerente con l’esito' },
    },
    handler: async ({ params, body, principal }, _request, response) => {
      response.json(presentBreach(await recordAssessment(params.breachId, body, principal)));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/breaches/:breachId/notifications',
    summary: 'Registra l’invio di una notifica al Garante (data, protocollo, PEC, fascicolo)',
    tags,
    access: writers,
    params: breachIdParams,
    body: z
      .object({
        type: z.enum(notificationTypes, italian),
        sentAt: dateTime,
        protocollo: text(100).optional(),
        pecMessageId: text(300).optional(),
        garanteFileNumber: text(100).optional(),
        documentId: objectIdSchema.optional(),
        delayReasons: longText.optional(),
      })
      .strict(),
    responses: {
      200: { description: 'Invio registrato', schema: breachSchema },
      409: conflict,
      422: { description: 'Invio tardivo senza motivi, data incoerente' },
    },
    handler: async ({ params, body, principal }, _request, response) => {
      response.json(presentBreach(await recordNotification(params.breachId, body, principal)));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/breaches/:breachId/close',
    summary: 'Chiude la violazione: non si modifica più',
    tags,
    access: writers,
    params: breachIdParams,
    responses: { 200: { description: 'Chiusa', schema: breachSchema }, 409: conflict },
    handler: async ({ params, principal }, _request, response) => {
      response.json(presentBreach(await closeBreach(params.breachId, principal)));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/breaches/:breachId/documents/:kind',
    summary:
      'Genera un documento della violazione: relazione, parere, notifica, comunicazione o avviso pubblico, se la decisione lo ammette',
    tags,
    access: writers,
    params: z.object({ breachId: objectIdSchema, kind: z.enum(documentKinds, italian) }),
    body: documentRequestSchema.optional(),
    responses: {
      201: { description: 'Documento generato', schema: documentResult },
      409: { description: 'Documento non ammesso dal percorso decisionale (motivo in detail)' },
      422: { description: 'Dati mancanti (data.<campo>) o notifica tardiva senza motivi' },
    },
    handler: async ({ params, body, principal }, _request, response) => {
      const { breach, document } = await generateBreachDocument(
        params.breachId,
        params.kind,
        body ?? {},
        principal,
        deps,
      );
      response
        .status(201)
        .location(`/api/v1/documents/${document.id}`)
        .json({ documentId: document.id, record: presentBreach(breach) });
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/breaches/:breachId/evidence',
    summary: 'Carica una prova (PDF, PNG, JPEG, TXT/CSV, EML, ZIP; al massimo 10 MB)',
    tags,
    access: writers,
    params: breachIdParams,
    upload: {
      files: [{ name: 'file', required: true, description: 'Il file' }],
      maxFileSize: evidenceMaxBytes,
    },
    body: z.object({ description: text(1000).optional() }).strict(),
    responses: {
      201: { description: 'Prova conservata con il suo SHA-256' },
      413: { description: 'File oltre 10 MB' },
      415: { description: 'Tipo non ammesso o contenuto diverso da quello dichiarato dal nome' },
    },
    handler: async ({ params, body, files, principal }, _request, response) => {
      const file = files.file;
      if (!file)
        throw HttpProblem.badRequest('File mancante', [
          { name: 'files.file', reason: 'file obbligatorio' },
        ]);
      const evidence = await addEvidence(
        params.breachId,
        file,
        body.description,
        principal,
        deps.storage,
      );
      response.status(201).json(evidence.toJSON());
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/breaches/:breachId/evidence',
    summary: 'Le prove della violazione, con il loro SHA-256',
    tags,
    access: readers,
    params: breachIdParams,
    responses: { 200: { description: 'Prove' } },
    handler: async ({ params }, _request, response) => {
      response.json((await listEvidence(params.breachId)).map((evidence) => evidence.toJSON()));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/breaches/:breachId/evidence/:evidenceId',
    summary: 'Scarica una prova, verificata con il suo SHA-256 (intestazione X-Content-SHA256)',
    tags,
    access: readers,
    params: z.object({ breachId: objectIdSchema, evidenceId: objectIdSchema }),
    responses: { 200: { description: 'Il file' } },
    handler: async ({ params }, _request, response) => {
      const evidence = await findEvidence(params.breachId, params.evidenceId);
      await sendStoredFile(response, deps.storage, {
        key: evidence.key,
        sha256: evidence.sha256,
        contentType: evidence.contentType,
        fileName: evidence.fileName,
        versionId: evidence.versionId,
      });
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/breach-register.csv',
    summary: 'Registro delle violazioni (art. 33, par. 5, GDPR), ogni violazione, in CSV',
    tags,
    access: readers,
    responses: {
      200: { description: 'CSV RFC 4180, UTF-8', contentType: 'text/csv', schema: z.string() },
    },
    handler: async (_input, _request, response) => {
      response
        .status(200)
        .type('text/csv; charset=utf-8')
        .setHeader('Content-Disposition', 'attachment; filename="registro-violazioni.csv"')
        .send(await registerCsv());
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/breach-register/pdf',
    summary: 'Registro delle violazioni in PDF (modello registro-violazioni)',
    tags,
    access: writers,
    responses: {
      201: { description: 'Documento generato', schema: z.object({ documentId: z.string() }) },
      422: { description: 'Dati mancanti in qualche violazione (data.violazioni.<n>.…)' },
    },
    handler: async ({ principal }, _request, response) => {
      const document = await registerPdf(principal, deps);
      response
        .status(201)
        .location(`/api/v1/documents/${document.id}`)
        .json({ documentId: document.id });
    },
  });
}
