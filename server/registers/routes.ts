import { z } from 'zod';
import type { Api } from '../platform/api.js';
import { paginationQuery, totalCountDescription } from '../people/fields.js';
import { listRegisterEntries, listRegisters, registerName } from './service.js';

const allRoles = ['admin', 'segreteria', 'procurement', 'legal', 'dpo'] as const;

const registerSummarySchema = z
  .object({
    key: z.string(),
    name: z.string(),
    year: z.number().int(),
    count: z.number().int(),
    lastNumber: z.number().int(),
    pending: z.number().int().openapi({
      description: 'Numeri assegnati ad atti non ancora completati (vengono completati al riavvio)',
    }),
  })
  .openapi('RegisterSummary');

const registerEntrySchema = z
  .object({
    id: z.string(),
    registerKey: z.string(),
    year: z.number().int(),
    number: z.number().int(),
    actKey: z.string(),
    date: z.string(),
    subject: z.string(),
    status: z.enum(['reserved', 'recorded']),
    documentId: z.string().nullable(),
  })
  .openapi('RegisterEntry');

export function registerRegisterRoutes(api: Api): void {
  api.route({
    method: 'get',
    path: '/api/v1/registers',
    summary: "Registri degli atti dell'ente, per anno",
    tags: ['Registri'],
    access: allRoles,
    responses: { 200: { description: 'Registri', schema: z.array(registerSummarySchema) } },
    handler: async (_input, _request, response) => {
      response.json(await listRegisters());
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/registers/:registerKey/:year',
    summary: 'Le registrazioni di un registro in un anno, in ordine di numero',
    tags: ['Registri'],
    access: allRoles,
    params: z.object({
      registerKey: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'chiave di registro non valida'),
      year: z.coerce.number().int().min(1900).max(2999),
    }),
    query: z.object({ ...paginationQuery }),
    responses: {
      200: {
        description: `Registrazioni. ${totalCountDescription}`,
        schema: z.array(registerEntrySchema),
      },
    },
    handler: async ({ params, query }, _request, response) => {
      const { items, total } = await listRegisterEntries({
        registerKey: params.registerKey,
        year: params.year,
        ...query,
      });
      response
        .setHeader('X-Total-Count', String(total))
        .setHeader('X-Register-Name', encodeURIComponent(registerName(params.registerKey)))
        .json(items);
    },
  });
}
