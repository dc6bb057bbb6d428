import { z } from 'zod';
import { objectIdSchema, type Api } from '../platform/api.js';
import {
  emailSchema,
  includeArchivedQuery,
  paginationQuery,
  shortText,
  sortQuery,
  totalCountDescription,
} from '../people/fields.js';
import {
  archiveSettore,
  createSettore,
  findSettore,
  listSettori,
  updateSettore,
} from './service.js';

const allRoles = ['admin', 'segreteria', 'procurement', 'legal', 'dpo'] as const;
const writers = ['admin', 'segreteria', 'dpo'] as const;

const settoreSchema = z
  .object({
    id: z.string(),
    organisationId: z.string(),
    name: z.string(),
    code: z.string().nullable(),
    managerId: z.string().nullable(),
    email: z.string().nullable(),
    archived: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Settore');

const managerIdSchema = objectIdSchema.openapi({
  description: "Il responsabile apicale: una persona dell'ente, non archiviata",
});

const newSettoreSchema = z
  .object({
    name: shortText(200, 'indicare il nome del settore'),
    code: shortText(30).nullable().optional(),
    managerId: managerIdSchema.nullable().optional(),
    email: emailSchema.nullable().optional().openapi({ description: "E-mail dell'ufficio" }),
  })
  .strict()
  .openapi('NewSettore');

const settoreChangesSchema = z
  .object({
    name: shortText(200, 'indicare il nome del settore').optional(),
    code: shortText(30).nullable().optional(),
    managerId: managerIdSchema.nullable().optional(),
    email: emailSchema.nullable().optional(),
    archived: z.boolean().optional().openapi({ description: 'false ripristina il settore' }),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'indicare almeno un campo da modificare')
  .openapi('SettoreChanges');

const settoreIdParams = z.object({ settoreId: objectIdSchema });

export function registerSettoreRoutes(api: Api): void {
  api.route({
    method: 'get',
    path: '/api/v1/settori',
    summary: "Settori dell'ente",
    tags: ['Settori'],
    access: allRoles,
    query: z.object({
      includeArchived: includeArchivedQuery,
      sort: sortQuery(['name', 'code', 'createdAt'], 'name'),
      ...paginationQuery,
    }),
    responses: {
      200: { description: `Settori. ${totalCountDescription}`, schema: z.array(settoreSchema) },
    },
    handler: async ({ query }, _request, response) => {
      const { items, total } = await listSettori(query);
      response.setHeader('X-Total-Count', String(total)).json(items);
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/settori',
    summary: 'Crea un settore',
    tags: ['Settori'],
    access: writers,
    body: newSettoreSchema,
    responses: {
      201: { description: 'Settore creato', schema: settoreSchema },
      422: { description: "Responsabile inesistente nell'ente o archiviato" },
    },
    handler: async ({ body }, _request, response) => {
      const settore = await createSettore(body);
      response.status(201).location(`/api/v1/settori/${settore.id}`).json(settore);
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/settori/:settoreId',
    summary: 'Un settore',
    tags: ['Settori'],
    access: allRoles,
    params: settoreIdParams,
    responses: { 200: { description: 'Settore', schema: settoreSchema } },
    handler: async ({ params }, _request, response) => {
      response.json(await findSettore(params.settoreId));
    },
  });

  api.route({
    method: 'patch',
    path: '/api/v1/settori/:settoreId',
    summary: 'Modifica un settore (archived=false lo ripristina)',
    tags: ['Settori'],
    access: writers,
    params: settoreIdParams,
    body: settoreChangesSchema,
    responses: {
      200: { description: 'Settore aggiornato', schema: settoreSchema },
      409: { description: 'Settore ancora in uso' },
      422: { description: "Responsabile inesistente nell'ente o archiviato" },
    },
    handler: async ({ params, body }, _request, response) => {
      response.json(await updateSettore(params.settoreId, body));
    },
  });

  api.route({
    method: 'delete',
    path: '/api/v1/settori/:settoreId',
    summary:
      'Archivia un settore (non lo cancella: gli atti già redatti lo citano); 409 se vi sono ancora persone assegnate',
    tags: ['Settori'],
    access: writers,
    params: settoreIdParams,
    responses: {
      200: { description: 'Settore archiviato', schema: settoreSchema },
      409: { description: 'Settore ancora in uso: references elenca le persone assegnate' },
    },
    handler: async ({ params }, _request, response) => {
      response.json(await archiveSettore(params.settoreId));
    },
  });
}
