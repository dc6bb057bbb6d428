import { z } from 'zod';
import { textField, italian, objectIdSchema, type Api } from '../platform/api.js';
import { isoDateSchema, paginationQuery, totalCountDescription } from '../people/fields.js';
import {
  consultationStatuses,
  decisionOutcomes,
  dpoConclusions,
  measureKinds,
  measureStatuses,
  necessityAspects,
  processorRoles,
  riskEvents,
  riskLevels,
} from './model.js';
import {
  art35Cases,
  art35Letters,
  criterionCodes,
  garanteListTypes,
  garanteTypeCodes,
  screeningOutcomes,
  wp248Criteria,
} from './screening.js';
import {
  createDpia,
  dpiaMeasureCatalogue,
  findDpia,
  findScreening,
  generateDraft,
  getVersion,
  listDpias,
  listScreenings,
  listVersions,
  preparePriorConsultation,
  presentDpia,
  recordConsultationAnswer,
  recordConsultationExtension,
  recordConsultationSent,
  reviseDpia,
  screenActivity,
  screeningReport,
  updateDpia,
  versionChanges,
  type DpiaDependencies,
} from './service.js';

const readers = ['admin', 'segreteria', 'procurement', 'legal', 'dpo'] as const;
const writers = ['admin', 'segreteria', 'dpo'] as const;
const tags = ['DPIA'];

const text = textField;
/** Limits as the templates' schemas set them: an item 1000 characters, a text 4000. */
const item = text(1000);
const longText = text(4000);
const title = text(300, 3);
const items = (max = 100) => z.array(item, italian).max(max, `al massimo ${max} voci`);
const scale = z
  .number(italian)
  .int('un intero da 1 a 4')
  .min(1, 'da 1 (trascurabile) a 4 (massima)')
  .max(4, 'da 1 (trascurabile) a 4 (massima)');

const answerSchema = z
  .object({
    applies: z.boolean(italian).openapi({ description: 'Se il caso, criterio o tipo ricorre' }),
    reason: text(1000).optional().openapi({ description: 'Perché ricorre o non ricorre' }),
  })
  .strict();

function answersFor<Code extends string>(codes: readonly Code[], description: string) {
  return z
    .object(
      Object.fromEntries(codes.map((code) => [code, answerSchema])) as Record<
        Code,
        typeof answerSchema
      >,
    )
    .strict()
    .openapi({ description });
}

const screeningInputSchema = z
  .object({
    answers: z
      .object({
        art35: answersFor(art35Letters, 'I tre casi dell’art. 35, par. 3, lett. a)–c), GDPR'),
        criteria: answersFor(criterionCodes, 'I nove criteri WP248 rev.01, C1–C9'),
        garanteList: answersFor(
          garanteTypeCodes,
          'Le dodici tipologie dell’elenco del Garante (provv. n. 467/2018, all. 1), G1–G12',
        ),
      })
      .strict(),
    decision: z
      .object({ performDpia: z.boolean(italian), reason: text(1500) })
      .strict()
      .optional()
      .openapi({
        description:
          'Decisione motivata del Titolare: obbligatoria con esito «raccomandata» (art. 25, comma 6, del Regolamento dell’ente)',
      }),
    dpoOpinion: z
      .object({
        text: text(2000),
        givenOn: isoDateSchema.optional(),
        by: text(200, 3).optional(),
      })
      .strict()
      .optional()
      .openapi({
        description: 'Parere dell’RPD sulla necessità della DPIA (art. 9 del Regolamento)',
      }),
    screenedOn: isoDateSchema.optional().openapi({ description: 'Predefinita: oggi' }),
  })
  .strict()
  .openapi('DpiaScreeningInput');

const authorSchema = z.object({ userId: z.string(), name: z.string() });
const storedAnswer = z.object({
  code: z.string(),
  applies: z.boolean(),
  reason: z.string().nullable(),
});
const screeningSchema = z
  .object({
    id: z.string(),
    processingActivityId: z.string(),
    screenedOn: z.string(),
    answers: z.object({
      art35: z.array(storedAnswer),
      criteria: z.array(storedAnswer),
      garanteList: z.array(storedAnswer),
    }),
    outcome: z.enum(screeningOutcomes),
    reasons: z.array(z.string()),
    triggers: z.object({
      art35: z.array(z.string()),
      criteria: z.array(z.string()),
      garanteList: z.array(z.string()),
    }),
    innovativeTechnologyDiscounted: z.boolean().openapi({
      description: 'G7 indicata senza altri criteri WP248: non conta',
    }),
    decision: z.object({ performDpia: z.boolean(), reason: z.string() }).nullable(),
    dpiaToBePerformed: z.boolean(),
    reportDocumentId: z.string().nullable(),
    createdBy: authorSchema,
  })
  .passthrough()
  .openapi('DpiaScreening');

const scoreInput = z
  .object({ likelihood: scale.nullable().optional(), severity: scale.nullable().optional() })
  .strict();

const riskInputSchema = z
  .object({
    id: z
      .string(italian)
      .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'minuscole, cifre e trattini, al più 40 caratteri')
      .optional()
      .openapi({ description: 'Stabile tra le versioni; predefinito: l’evento temuto' }),
    event: z.enum(riskEvents, italian),
    title: title.optional(),
    sources: items().optional(),
    threats: items().optional(),
    impacts: items().optional(),
    measureCodes: z
      .array(text(20), italian)
      .max(100)
      .optional()
      .openapi({ description: 'Codici delle misure della DPIA su cui il rischio si regge' }),
    inherent: scoreInput.optional().openapi({ description: 'Prima delle misure, scale 1–4' }),
    residual: scoreInput.optional().openapi({ description: 'Dopo le misure, scale 1–4' }),
    residualNote: longText.nullable().optional(),
  })
  .strict();

const measureInputSchema = z
  .object({
    code: z
      .string(italian)
      .regex(/^[A-Z]{3}-[0-9]{2}$/, 'codice come ACC-02 (catalogo) o LIB-01 (misura libera)')
      .optional(),
    title: title.optional(),
    kind: z.enum(measureKinds, italian).optional(),
    description: longText.optional(),
    status: z.enum(measureStatuses, italian).optional(),
    owner: text(200, 3).nullable().optional(),
    dueDate: isoDateSchema.nullable().optional(),
  })
  .strict();

const changesSchema = z
  .object({
    description: z
      .object({
        name: title.optional(),
        code: text(50).nullable().optional(),
        settore: text(200, 3).nullable().optional(),
        overview: longText.nullable().optional(),
        purposes: items().optional(),
        legalBases: items().optional(),
        dataCategories: items().optional(),
        dataSubjects: items().optional(),
        recipients: items().optional(),
        retention: longText.nullable().optional(),
        systems: items().optional(),
        flows: items().optional(),
        processors: z
          .array(
            z
              .object({
                name: text(300, 2),
                role: z.enum(processorRoles, italian).optional(),
                tasks: longText.nullable().optional(),
              })
              .strict(),
            italian,
          )
          .max(50)
          .optional(),
        jointControllers: z
          .array(
            z
              .object({ name: text(300, 2), responsibilities: longText.nullable().optional() })
              .strict(),
            italian,
          )
          .max(20)
          .optional(),
      })
      .strict()
      .optional(),
    team: items(30).optional(),
    necessity: z
      .object(
        Object.fromEntries(
          necessityAspects.map((aspect) => [aspect, longText.nullable().optional()]),
        ) as Record<
          (typeof necessityAspects)[number],
          z.ZodOptional<z.ZodNullable<typeof longText>>
        >,
      )
      .strict()
      .optional()
      .openapi({ description: 'Giustificazione per aspetto (principi fondamentali CNIL)' }),
    risks: z
      .array(riskInputSchema, italian)
      .max(30, 'al più 30 rischi')
      .optional()
      .openapi({ description: 'Sostituisce l’elenco dei rischi' }),
    measures: z.array(measureInputSchema, italian).max(99, 'al più 99 misure').optional().openapi({
      description:
        'Sostituisce l’elenco delle misure: un codice del catalogo ne riprende titolo, tipo e descrizione; una misura libera li indica',
    }),
    measureCodes: z
      .array(z.string(italian).regex(/^[A-Z]{3}-[0-9]{2}$/, 'codice di misura non valido'), italian)
      .max(99)
      .optional()
      .openapi({ description: 'Misure del catalogo da aggiungere (GET /api/v1/dpia-measures)' }),
    dpoOpinion: z
      .object({
        conclusion: z.enum(dpoConclusions, italian),
        text: longText,
        givenOn: isoDateSchema,
        by: text(200, 3).nullable().optional(),
      })
      .strict()
      .nullable()
      .optional()
      .openapi({ description: 'Parere dell’RPD (art. 35, par. 2, GDPR)' }),
    dataSubjectsViews: z
      .object({
        sought: z.boolean(italian),
        method: longText.nullable().optional(),
        summary: longText.nullable().optional(),
        reasonNotSought: longText.nullable().optional(),
      })
      .strict()
      .nullable()
      .optional()
      .openapi({
        description: 'Opinioni degli interessati, o perché non raccolte (art. 35, par. 9)',
      }),
    decision: z
      .object({
        outcome: z.enum(decisionOutcomes, italian),
        notes: longText.nullable().optional(),
        decidedOn: isoDateSchema,
        departureReason: longText.nullable().optional(),
      })
      .strict()
      .nullable()
      .optional()
      .openapi({
        description:
          'Decisione del Titolare; se si discosta dal parere dell’RPD, departureReason è obbligatorio (art. 9, comma 2, del Regolamento)',
      }),
    revisionDate: isoDateSchema.optional(),
  })
  .strict()
  .openapi('DpiaChanges');

const levelledScore = z.object({
  likelihood: z.number().nullable(),
  severity: z.number().nullable(),
  level: z.enum(riskLevels).nullable(),
});

const contentSchema = z
  .object({
    description: z.object({ name: z.string() }).passthrough(),
    necessity: z.array(
      z.object({ aspect: z.enum(necessityAspects), justification: z.string().nullable() }),
    ),
    risks: z.array(
      z
        .object({
          id: z.string(),
          event: z.enum(riskEvents),
          title: z.string(),
          inherent: levelledScore,
          residual: levelledScore,
        })
        .passthrough(),
    ),
    measures: z.array(
      z.object({ code: z.string(), title: z.string(), kind: z.enum(measureKinds) }).passthrough(),
    ),
    revisionDate: z.string(),
  })
  .passthrough()
  .openapi('DpiaContent');

const dpiaSchema = z
  .object({
    id: z.string(),
    processingActivityId: z.string(),
    screeningId: z.string(),
    version: z.number().int(),
    versionStartedOn: z.string(),
    content: contentSchema,
    residualHighRisk: z.boolean(),
    highResidualRiskIds: z.array(z.string()),
    draft: z.object({ documentId: z.string(), date: z.string() }).nullable(),
    priorConsultation: z
      .object({
        status: z.enum(consultationStatuses),
        version: z.number().int(),
        documentId: z.string(),
        sentOn: z.string().nullable(),
        protocollo: z.string().nullable(),
        dueDate: z.string().nullable(),
      })
      .passthrough()
      .nullable(),
  })
  .passthrough()
  .openapi('Dpia');

const versionSummarySchema = z
  .object({
    number: z.number().int(),
    frozen: z.boolean(),
    startedOn: z.string(),
    frozenOn: z.string().nullable(),
    frozenBy: authorSchema.nullable(),
    residualHighRisk: z.boolean(),
    draftDocumentId: z.string().nullable(),
  })
  .openapi('DpiaVersionSummary');

const changeSchema = z
  .object({
    path: z.string(),
    change: z.enum(['added', 'removed', 'changed']),
    before: z.unknown().optional(),
    after: z.unknown().optional(),
    description: z.string(),
  })
  .openapi('DpiaChange');

const screeningIdParams = z.object({ screeningId: objectIdSchema });
const dpiaIdParams = z.object({ dpiaId: objectIdSchema });
const versionParams = z.object({
  dpiaId: objectIdSchema,
  number: z.coerce.number(italian).int().min(1, 'le versioni partono da 1'),
});
const conflict = { description: 'Passaggio non ammesso: currentState indica lo stato' };
const documentResult = (schema: z.ZodType) => z.object({ documentId: z.string(), record: schema });

export function registerDpiaRoutes(api: Api, deps: DpiaDependencies): void {
  api.route({
    method: 'get',
    path: '/api/v1/dpia-screening-questions',
    summary:
      'Le domande della verifica preliminare: casi dell’art. 35, par. 3, criteri WP248 ed elenco del Garante',
    tags,
    access: readers,
    responses: {
      200: {
        description: 'Domande',
        schema: z.object({
          art35: z.array(z.object({ code: z.string(), text: z.string() })),
          criteria: z.array(z.object({ code: z.string(), title: z.string() })),
          garanteList: z.array(z.object({ code: z.string(), title: z.string() })),
        }),
      },
    },
    handler: (_input, _request, response) => {
      response.json({ art35: art35Cases, criteria: wp248Criteria, garanteList: garanteListTypes });
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/dpia-measures',
    summary:
      'Il catalogo delle misure per la DPIA (data/dpia/misure.json, con le misure di sicurezza dell’art. 32 già a catalogo)',
    tags,
    access: readers,
    responses: {
      200: {
        description: 'Misure',
        schema: z.array(
          z.object({
            code: z.string(),
            title: z.string(),
            kind: z.enum(measureKinds),
            description: z.string(),
            risks: z.array(z.string()),
          }),
        ),
      },
    },
    handler: async (_input, _request, response) => {
      response.json(await dpiaMeasureCatalogue());
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/processing-activities/:activityId/dpia-screenings',
    summary:
      'Verifica preliminare sulla necessità della DPIA: esito obbligatoria, raccomandata o non obbligatoria, con le motivazioni',
    tags,
    access: writers,
    params: z.object({ activityId: objectIdSchema }),
    body: screeningInputSchema,
    responses: {
      201: { description: 'Verifica registrata (non più modificabile)', schema: screeningSchema },
      409: conflict,
      422: {
        description:
          'Esito «raccomandata» senza decisione del Titolare, o decisione di non procedere con DPIA obbligatoria',
      },
    },
    handler: async ({ params, body, principal }, _request, response) => {
      const screening = await screenActivity(params.activityId, body, principal);
      response.status(201).location(`/api/v1/dpia-screenings/${screening.id}`).json(screening);
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/processing-activities/:activityId/dpia-screenings',
    summary: 'Le verifiche preliminari di un trattamento, dalla più recente',
    tags,
    access: readers,
    params: z.object({ activityId: objectIdSchema }),
    responses: { 200: { description: 'Verifiche', schema: z.array(screeningSchema) } },
    handler: async ({ params }, _request, response) => {
      response.json(await listScreenings(params.activityId));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/dpia-screenings/:screeningId',
    summary: 'Una verifica preliminare',
    tags,
    access: readers,
    params: screeningIdParams,
    responses: { 200: { description: 'Verifica', schema: screeningSchema } },
    handler: async ({ params }, _request, response) => {
      response.json(await findScreening(params.screeningId));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/dpia-screenings/:screeningId/report',
    summary:
      'Genera il documento della verifica preliminare (modello dpia-screening); richiesto di nuovo, restituisce lo stesso',
    tags,
    access: writers,
    params: screeningIdParams,
    responses: {
      201: { description: 'Documento generato', schema: documentResult(screeningSchema) },
      422: {
        description: 'Manca qualcosa da stampare (codice o settore del trattamento, firmatario)',
      },
    },
    handler: async ({ params, principal }, _request, response) => {
      const { screening, document } = await screeningReport(params.screeningId, principal, deps);
      response
        .status(201)
        .location(`/api/v1/documents/${document.id}`)
        .json({ documentId: document.id, record: screening });
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/dpias',
    summary:
      'Avvia la DPIA di un trattamento da una verifica preliminare, precompilata dal registro dei trattamenti',
    tags,
    access: writers,
    body: z.object({ screeningId: objectIdSchema }).strict().openapi('NewDpia'),
    responses: {
      201: { description: 'DPIA, versione 1', schema: dpiaSchema },
      409: {
        description:
          'La verifica non conclude per la DPIA, o il trattamento ne ha già una (dpiaId la indica)',
      },
    },
    handler: async ({ body, principal }, _request, response) => {
      const dpia = await createDpia(body.screeningId, principal);
      response.status(201).location(`/api/v1/dpias/${dpia.id}`).json(presentDpia(dpia));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/dpias',
    summary:
      'DPIA dell’ente; consultationDue=true elenca le consultazioni del Garante in attesa di parere, con il termine',
    tags,
    access: readers,
    query: z.object({
      processingActivityId: objectIdSchema.optional(),
      consultationDue: z
        .enum(['true', 'false'])
        .optional()
        .transform((value) => (value === undefined ? undefined : value === 'true')),
      ...paginationQuery,
    }),
    responses: {
      200: {
        description: `DPIA (con consultationDeadline: dueDate, daysLeft, extended per le consultazioni in corso). ${totalCountDescription}`,
        schema: z.array(dpiaSchema),
      },
    },
    handler: async ({ query }, _request, response) => {
      const { items, total } = await listDpias(query);
      response.setHeader('X-Total-Count', String(total)).json(items);
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/dpias/:dpiaId',
    summary: 'Una DPIA, con la versione corrente e i livelli di rischio',
    tags,
    access: readers,
    params: dpiaIdParams,
    responses: { 200: { description: 'DPIA', schema: dpiaSchema } },
    handler: async ({ params }, _request, response) => {
      response.json(presentDpia(await findDpia(params.dpiaId)));
    },
  });

  api.route({
    method: 'patch',
    path: '/api/v1/dpias/:dpiaId',
    summary: 'Modifica la versione corrente della DPIA',
    tags,
    access: writers,
    params: dpiaIdParams,
    body: changesSchema,
    responses: {
      200: { description: 'DPIA aggiornata', schema: dpiaSchema },
      409: { description: 'Versione già inviata al Garante: avviare una revisione' },
      422: {
        description:
          'Regole violate (misure inesistenti, decisione difforme dal parere dell’RPD senza motivo, …), tutte elencate',
      },
    },
    handler: async ({ params, body, principal }, _request, response) => {
      response.json(presentDpia(await updateDpia(params.dpiaId, body, principal)));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/dpias/:dpiaId/draft',
    summary: 'Genera la bozza della DPIA (modello dpia) per la versione corrente',
    tags,
    access: writers,
    params: dpiaIdParams,
    responses: {
      201: { description: 'Bozza generata', schema: documentResult(dpiaSchema) },
      422: {
        description:
          'Contenuto incompleto (i tre rischi, le giustificazioni, il parere dell’RPD, …): invalidParams elenca ogni mancanza',
      },
    },
    handler: async ({ params, principal }, _request, response) => {
      const { dpia, document } = await generateDraft(params.dpiaId, principal, deps);
      response
        .status(201)
        .location(`/api/v1/documents/${document.id}`)
        .json({ documentId: document.id, record: presentDpia(dpia) });
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/dpias/:dpiaId/revisions',
    summary:
      'Revisione (art. 30 del Regolamento dell’ente): congela la versione corrente e avvia la successiva',
    tags,
    access: writers,
    params: dpiaIdParams,
    body: z
      .object({
        version: z
          .number(italian)
          .int()
          .min(1)
          .optional()
          .openapi({ description: 'La versione da congelare: 409 se non è più la corrente' }),
      })
      .strict()
      .optional(),
    responses: {
      201: { description: 'DPIA alla nuova versione', schema: dpiaSchema },
      409: conflict,
    },
    handler: async ({ params, body, principal }, _request, response) => {
      response
        .status(201)
        .json(presentDpia(await reviseDpia(params.dpiaId, principal, body?.version)));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/dpias/:dpiaId/versions',
    summary: 'Le versioni della DPIA: quelle congelate e la corrente',
    tags,
    access: readers,
    params: dpiaIdParams,
    responses: { 200: { description: 'Versioni', schema: z.array(versionSummarySchema) } },
    handler: async ({ params }, _request, response) => {
      response.json(await listVersions(params.dpiaId));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/dpias/:dpiaId/versions/:number',
    summary: 'Il contenuto di una versione',
    tags,
    access: readers,
    params: versionParams,
    responses: {
      200: {
        description: 'Versione',
        schema: z
          .object({ number: z.number(), frozen: z.boolean(), content: contentSchema })
          .passthrough(),
      },
    },
    handler: async ({ params }, _request, response) => {
      response.json(await getVersion(params.dpiaId, params.number));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/dpias/:dpiaId/versions/:number/changes',
    summary: 'Che cosa cambia dalla versione precedente, voce per voce',
    tags,
    access: readers,
    params: versionParams,
    responses: {
      200: {
        description: 'Modifiche (from è null per la versione 1)',
        schema: z.object({
          from: z.number().nullable(),
          to: z.number(),
          changes: z.array(changeSchema),
        }),
      },
    },
    handler: async ({ params }, _request, response) => {
      response.json(await versionChanges(params.dpiaId, params.number));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/dpias/:dpiaId/prior-consultation',
    summary:
      'Con un rischio residuo elevato, genera la richiesta di consultazione preventiva del Garante (art. 36 GDPR; modello consultazione-preventiva)',
    tags,
    access: writers,
    params: dpiaIdParams,
    body: z
      .object({
        protocollo: text(100).optional(),
        otherInformation: items(30).optional().openapi({
          description: 'Altre informazioni utili (art. 36, par. 3, lett. f), GDPR)',
        }),
        attachments: items(30).optional().openapi({ description: 'Allegati oltre alla DPIA' }),
      })
      .strict()
      .openapi('PriorConsultationRequest'),
    responses: {
      201: { description: 'Richiesta generata', schema: documentResult(dpiaSchema) },
      409: { description: 'Nessun rischio residuo elevato, o una consultazione già in corso' },
      422: { description: 'Dati mancanti (ente, RPD, compiti dei responsabili, …)' },
    },
    handler: async ({ params, body, principal }, _request, response) => {
      const { dpia, document } = await preparePriorConsultation(
        params.dpiaId,
        body,
        principal,
        deps,
      );
      response
        .status(201)
        .location(`/api/v1/documents/${document.id}`)
        .json({ documentId: document.id, record: presentDpia(dpia) });
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/dpias/:dpiaId/prior-consultation/sent',
    summary:
      'Registra l’invio al Garante: il parere è atteso entro otto settimane (art. 36, par. 2)',
    tags,
    access: writers,
    params: dpiaIdParams,
    body: z.object({ date: isoDateSchema, protocollo: text(100) }).strict(),
    responses: {
      200: { description: 'Invio registrato, con il termine', schema: dpiaSchema },
      409: conflict,
      422: { description: 'Data non valida' },
    },
    handler: async ({ params, body, principal }, _request, response) => {
      response.json(presentDpia(await recordConsultationSent(params.dpiaId, body, principal)));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/dpias/:dpiaId/prior-consultation/extension',
    summary:
      'Registra la proroga di sei settimane comunicata dal Garante entro un mese dal ricevimento (art. 36, par. 2)',
    tags,
    access: writers,
    params: dpiaIdParams,
    body: z.object({ date: isoDateSchema, protocollo: text(100).optional() }).strict(),
    responses: {
      200: { description: 'Proroga registrata, con il nuovo termine', schema: dpiaSchema },
      409: conflict,
      422: { description: 'Data non valida (oltre un mese dall’invio)' },
    },
    handler: async ({ params, body, principal }, _request, response) => {
      response.json(presentDpia(await recordConsultationExtension(params.dpiaId, body, principal)));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/dpias/:dpiaId/prior-consultation/answer',
    summary: 'Registra il parere del Garante: la consultazione non è più in attesa',
    tags,
    access: writers,
    params: dpiaIdParams,
    body: z.object({ date: isoDateSchema, summary: longText }).strict(),
    responses: {
      200: { description: 'Parere registrato', schema: dpiaSchema },
      409: conflict,
      422: { description: 'Data non valida' },
    },
    handler: async ({ params, body, principal }, _request, response) => {
      response.json(presentDpia(await recordConsultationAnswer(params.dpiaId, body, principal)));
    },
  });
}
