import { z } from 'zod';
import { italian, objectIdSchema, type Api } from '../platform/api.js';
import { isoDateSchema, paginationQuery, totalCountDescription } from '../people/fields.js';
import { attachClause, attachClauses, type ClauseDependencies } from './clauses.js';
import { procedures, supplierPrivacyRoles, tenderStatuses } from './model.js';
import {
  assessRole,
  createTender,
  findTender,
  listTenders,
  moveTender,
  updateTender,
} from './service.js';

const allRoles = ['admin', 'segreteria', 'procurement', 'legal', 'dpo'] as const;
const writers = ['admin', 'procurement', 'dpo'] as const;

/** ANAC's Codice Identificativo Gara: 10 characters, digits and capital letters. */
const cigSchema = z
  .string(italian)
  .trim()
  .toUpperCase()
  .regex(/^[0-9A-Z]{10}$/, 'CIG non valido: 10 caratteri, cifre e lettere maiuscole')
  .openapi({ example: 'A0123456B7', description: 'Codice Identificativo Gara (ANAC)' });

const text = (max: number) =>
  z.string(italian).trim().min(1, 'non può essere vuoto').max(max, `al massimo ${max} caratteri`);

const lotSchema = z
  .object({
    number: z.number(italian).int().min(1),
    cig: cigSchema,
    object: text(500),
    privacyRole: z.enum(supplierPrivacyRoles, italian).nullable().optional().openapi({
      description: 'Il ruolo del fornitore per questo lotto, se diverso da quello della gara',
    }),
  })
  .strict();

const tenderFields = {
  cig: cigSchema,
  object: text(1000),
  procedure: z.enum(procedures, italian),
  lots: z
    .array(lotSchema, italian)
    .max(100)
    .refine(
      (lots) => new Set(lots.map((lot) => lot.number)).size === lots.length,
      'i lotti devono avere numeri diversi',
    )
    .refine(
      (lots) => new Set(lots.map((lot) => lot.cig)).size === lots.length,
      'ogni lotto ha il proprio CIG',
    )
    .optional(),
  rupId: objectIdSchema.nullable().optional(),
  settoreId: objectIdSchema.nullable().optional(),
  publicationDate: isoDateSchema.nullable().optional(),
  deadline: isoDateSchema.nullable().optional(),
  processingActivityIds: z.array(objectIdSchema, italian).max(200).optional(),
  privacyRole: z.enum(supplierPrivacyRoles, italian).nullable().optional().openapi({
    description:
      'responsabile (art. 28), contitolare (art. 26) o titolare-autonomo; o dalla valutazione guidata',
  }),
};

const newTenderSchema = z.object(tenderFields).strict().openapi('NewTender');
const tenderChangesSchema = z
  .object(tenderFields)
  .partial()
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'indicare almeno un campo da modificare')
  .openapi('TenderChanges');

const tenderSchema = z
  .object({
    id: z.string(),
    cig: z.string(),
    object: z.string(),
    procedure: z.string(),
    status: z.enum(tenderStatuses),
    privacyRole: z.enum(supplierPrivacyRoles).nullable(),
    roleAssessment: z
      .object({ suggestedRole: z.string(), reasons: z.array(z.string()) })
      .passthrough()
      .nullable(),
    processingActivityIds: z.array(z.string()),
    awardedSupplierId: z.string().nullable(),
  })
  .passthrough()
  .openapi('Tender');

const answersSchema = z
  .object({
    jointlyDeterminesPurposes: z.boolean(italian).openapi({
      description: 'Il fornitore decide insieme all’ente perché e come trattare i dati?',
    }),
    decidesPurposesAlone: z.boolean(italian).openapi({
      description:
        'Il fornitore decide da sé perché e come trattare i dati (es. servizio a proprio nome)?',
    }),
    usesDataForOwnPurposes: z.boolean(italian).openapi({
      description: 'Il fornitore usa i dati anche per finalità proprie?',
    }),
    actsOnlyOnInstructions: z.boolean(italian).openapi({
      description: 'Il fornitore tratta i dati soltanto secondo le istruzioni dell’ente?',
    }),
  })
  .strict()
  .openapi('RoleAnswers');

const tenderIdParams = z.object({ tenderId: objectIdSchema });
const conflict = { description: 'Passaggio non ammesso: currentState indica lo stato della gara' };

export function registerTenderRoutes(api: Api, deps: ClauseDependencies): void {
  api.route({
    method: 'post',
    path: '/api/v1/tenders/:tenderId/clause',
    summary:
      'Genera e allega al bando la clausola privacy (DOCX e PDF) secondo il ruolo indicato per il fornitore',
    tags: ['Gare'],
    access: writers,
    params: tenderIdParams,
    responses: {
      201: {
        description:
          'Clausola allegata: il documento generato (uno per ruolo se i lotti indicano ruoli diversi, in clauses)',
        schema: z.object({ documentId: z.string(), tender: tenderSchema }),
      },
      409: conflict,
      422: { description: 'Ruolo privacy o dati mancanti: invalidParams li elenca' },
    },
    handler: async ({ params, principal }, _request, response) => {
      const { tender, documents } = await attachClause(params.tenderId, principal, deps);
      const first = documents[0]?.documentId.toString() ?? '';
      response
        .status(201)
        .location(`/api/v1/documents/${first}`)
        .json({
          documentId: first,
          clauses: documents.map((clause) => ({
            role: clause.role,
            lots: clause.lots,
            documentId: clause.documentId.toString(),
          })),
          tender,
        });
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/tender-clauses',
    summary:
      'Allega la clausola privacy a più gare in una volta: per ciascuna, allegata o rifiutata con il motivo',
    tags: ['Gare'],
    access: writers,
    body: z
      .object({
        tenderIds: z
          .array(objectIdSchema, italian)
          .min(1, 'indicare almeno una gara')
          .max(200, 'al massimo 200 gare per volta')
          .refine((ids) => new Set(ids).size === ids.length, 'gare ripetute'),
      })
      .strict()
      .openapi('TenderClauses'),
    responses: {
      200: {
        description: 'Esito per gara',
        schema: z.array(
          z.object({
            tenderId: z.string(),
            status: z.enum(['attached', 'refused']),
            documentId: z.string().optional(),
            reason: z.string().optional(),
          }),
        ),
      },
    },
    handler: async ({ body, principal }, _request, response) => {
      response.json(await attachClauses(body.tenderIds, principal, deps));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/tenders',
    summary: "Gare dell'ente",
    tags: ['Gare'],
    access: allRoles,
    query: z.object({ status: z.enum(tenderStatuses).optional(), ...paginationQuery }),
    responses: {
      200: { description: `Gare. ${totalCountDescription}`, schema: z.array(tenderSchema) },
    },
    handler: async ({ query }, _request, response) => {
      const { items, total } = await listTenders(query);
      response.setHeader('X-Total-Count', String(total)).json(items);
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/tenders',
    summary: 'Registra una gara (in bozza)',
    tags: ['Gare'],
    access: writers,
    body: newTenderSchema,
    responses: {
      201: { description: 'Gara registrata', schema: tenderSchema },
      409: { description: 'CIG già presente' },
      422: { description: 'Riferimenti inesistenti' },
    },
    handler: async ({ body, principal }, _request, response) => {
      const tender = await createTender(body, principal);
      response.status(201).location(`/api/v1/tenders/${tender.id}`).json(tender);
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/tenders/:tenderId',
    summary: 'Una gara',
    tags: ['Gare'],
    access: allRoles,
    params: tenderIdParams,
    responses: { 200: { description: 'Gara', schema: tenderSchema } },
    handler: async ({ params }, _request, response) => {
      response.json(await findTender(params.tenderId));
    },
  });

  api.route({
    method: 'patch',
    path: '/api/v1/tenders/:tenderId',
    summary: 'Modifica una gara in bozza',
    tags: ['Gare'],
    access: writers,
    params: tenderIdParams,
    body: tenderChangesSchema,
    responses: { 200: { description: 'Gara aggiornata', schema: tenderSchema }, 409: conflict },
    handler: async ({ params, body }, _request, response) => {
      response.json(await updateTender(params.tenderId, body));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/tenders/:tenderId/role-assessment',
    summary:
      'Valutazione guidata del ruolo privacy del fornitore: propone il ruolo dalle risposte e ne registra le ragioni',
    tags: ['Gare'],
    access: writers,
    params: tenderIdParams,
    body: answersSchema,
    responses: {
      200: { description: 'Ruolo proposto e registrato', schema: tenderSchema },
      409: conflict,
    },
    handler: async ({ params, body, principal }, _request, response) => {
      response.json(await assessRole(params.tenderId, body, principal));
    },
  });

  for (const action of ['publish', 'award', 'sign-contract', 'close'] as const) {
    api.route({
      method: 'post',
      path: `/api/v1/tenders/:tenderId/${action}`,
      summary: {
        publish: 'Pubblica la gara (serve il ruolo privacy del futuro fornitore)',
        award: 'Aggiudica la gara a un fornitore',
        'sign-contract': 'Registra la firma del contratto',
        close: 'Chiude la gara',
      }[action],
      tags: ['Gare'],
      access: writers,
      params: tenderIdParams,
      body: z
        .object({ supplierId: objectIdSchema.optional() })
        .strict()
        .openapi({ description: 'supplierId: il fornitore aggiudicatario (solo award)' }),
      responses: {
        200: { description: 'Stato aggiornato', schema: tenderSchema },
        409: conflict,
        422: { description: 'Manca ciò che il passaggio richiede: invalidParams lo indica' },
      },
      handler: async ({ params, body, principal }, _request, response) => {
        response.json(await moveTender(params.tenderId, action, body, principal));
      },
    });
  }
}
