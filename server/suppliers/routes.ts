import { z } from 'zod';
import { objectIdSchema, type Api } from '../platform/api.js';
import {
  addressSchema,
  emailSchema,
  firmTaxCodeSchema,
  includeArchivedQuery,
  paginationQuery,
  pecSchema,
  personTaxCodeSchema,
  shortText,
  sortQuery,
  storedAddressSchema,
  totalCountDescription,
  vatNumberSchema,
} from '../people/fields.js';
import {
  archiveSupplier,
  createSupplier,
  findSupplier,
  listSuppliers,
  updateSupplier,
} from './service.js';

const allRoles = ['admin', 'segreteria', 'procurement', 'legal', 'dpo'] as const;
const writers = ['admin', 'segreteria', 'dpo', 'procurement'] as const;

const supplierSchema = z
  .object({
    id: z.string(),
    organisationId: z.string(),
    name: z.string(),
    vatNumber: z.string(),
    taxCode: z.string().nullable(),
    pec: z.string().nullable(),
    email: z.string().nullable(),
    address: storedAddressSchema.nullable(),
    legalRepresentative: z.object({ name: z.string(), taxCode: z.string().nullable() }).nullable(),
    archived: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Supplier');

const legalRepresentativeSchema = z
  .object({
    name: shortText(200, 'indicare nome e cognome'),
    taxCode: personTaxCodeSchema.optional(),
  })
  .strict();

const supplierFields = {
  name: shortText(300, 'indicare la ragione sociale'),
  vatNumber: vatNumberSchema,
  taxCode: firmTaxCodeSchema.nullable().optional(),
  pec: pecSchema.nullable().optional(),
  email: emailSchema.nullable().optional(),
  address: addressSchema.nullable().optional().openapi({ description: 'Sede legale' }),
  legalRepresentative: legalRepresentativeSchema.nullable().optional(),
};

const newSupplierSchema = z.object(supplierFields).strict().openapi('NewSupplier');

const supplierChangesSchema = z
  .object({
    ...supplierFields,
    name: supplierFields.name.optional(),
    vatNumber: supplierFields.vatNumber.optional(),
    archived: z.boolean().optional().openapi({ description: 'false ripristina il fornitore' }),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'indicare almeno un campo da modificare')
  .openapi('SupplierChanges');

const supplierIdParams = z.object({ supplierId: objectIdSchema });

export function registerSupplierRoutes(api: Api): void {
  api.route({
    method: 'get',
    path: '/api/v1/suppliers',
    summary: "Fornitori dell'ente",
    tags: ['Fornitori'],
    access: allRoles,
    query: z.object({
      q: z
        .string()
        .trim()
        .min(2, 'almeno 2 caratteri')
        .max(100)
        .optional()
        .openapi({ description: 'Parole della ragione sociale, senza badare agli accenti' }),
      includeArchived: includeArchivedQuery,
      sort: sortQuery(['name', 'createdAt', 'updatedAt'], 'name'),
      ...paginationQuery,
    }),
    responses: {
      200: { description: `Fornitori. ${totalCountDescription}`, schema: z.array(supplierSchema) },
    },
    handler: async ({ query }, _request, response) => {
      const { items, total } = await listSuppliers(query);
      response.setHeader('X-Total-Count', String(total)).json(items);
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/suppliers',
    summary: 'Registra un fornitore',
    tags: ['Fornitori'],
    access: writers,
    body: newSupplierSchema,
    responses: {
      201: { description: 'Fornitore registrato', schema: supplierSchema },
      409: { description: "Partita IVA già presente nell'ente" },
    },
    handler: async ({ body }, _request, response) => {
      const supplier = await createSupplier(body);
      response.status(201).location(`/api/v1/suppliers/${supplier.id}`).json(supplier);
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/suppliers/:supplierId',
    summary: 'Un fornitore',
    tags: ['Fornitori'],
    access: allRoles,
    params: supplierIdParams,
    responses: { 200: { description: 'Fornitore', schema: supplierSchema } },
    handler: async ({ params }, _request, response) => {
      response.json(await findSupplier(params.supplierId));
    },
  });

  api.route({
    method: 'patch',
    path: '/api/v1/suppliers/:supplierId',
    summary: 'Modifica un fornitore (archived=false lo ripristina)',
    tags: ['Fornitori'],
    access: writers,
    params: supplierIdParams,
    body: supplierChangesSchema,
    responses: {
      200: { description: 'Fornitore aggiornato', schema: supplierSchema },
      409: { description: "Partita IVA già presente nell'ente" },
    },
    handler: async ({ params, body }, _request, response) => {
      response.json(await updateSupplier(params.supplierId, body));
    },
  });

  api.route({
    method: 'delete',
    path: '/api/v1/suppliers/:supplierId',
    summary: 'Archivia un fornitore (non lo cancella: gli atti già redatti lo citano)',
    tags: ['Fornitori'],
    access: writers,
    params: supplierIdParams,
    responses: { 200: { description: 'Fornitore archiviato', schema: supplierSchema } },
    handler: async ({ params }, _request, response) => {
      response.json(await archiveSupplier(params.supplierId));
    },
  });
}
