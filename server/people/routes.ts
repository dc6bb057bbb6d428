import { z } from 'zod';
import { objectIdSchema, type Api } from '../platform/api.js';
import {
  emailSchema,
  includeArchivedQuery,
  paginationQuery,
  personTaxCodeSchema,
  shortText,
  sortQuery,
  totalCountDescription,
} from './fields.js';
import { genders, personKinds, personTitles } from './model.js';
import { archivePerson, createPerson, findPerson, listPeople, updatePerson } from './service.js';

const allRoles = ['admin', 'segreteria', 'procurement', 'legal', 'dpo'] as const;
const writers = ['admin', 'segreteria', 'dpo'] as const;

const personSchema = z
  .object({
    id: z.string(),
    organisationId: z.string(),
    firstName: z.string(),
    lastName: z.string(),
    title: z.enum(personTitles).nullable(),
    gender: z.enum(genders),
    taxCode: z.string(),
    role: z.string().nullable(),
    settoreId: z.string().nullable(),
    email: z.string().nullable(),
    kind: z.enum(personKinds),
    archived: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Person');

const titleSchema = z
  .enum(personTitles, `titolo non previsto (${personTitles.join(', ')})`)
  .openapi({ description: 'Al femminile nei modelli secondo gender: dott → dott.ssa' });
const genderSchema = z
  .enum(genders, 'indicare M o F')
  .openapi({ description: 'Per la concordanza nei testi; deve corrispondere al codice fiscale' });
const kindSchema = z.enum(personKinds, 'indicare employee o external');

const newPersonSchema = z
  .object({
    firstName: shortText(100, 'indicare il nome'),
    lastName: shortText(100, 'indicare il cognome'),
    title: titleSchema.nullable().optional(),
    gender: genderSchema,
    taxCode: personTaxCodeSchema,
    role: shortText(200).nullable().optional().openapi({ description: 'Qualifica' }),
    settoreId: objectIdSchema.nullable().optional(),
    email: emailSchema.nullable().optional(),
    kind: kindSchema.default('employee'),
  })
  .strict()
  .openapi('NewPerson');

const personChangesSchema = z
  .object({
    firstName: shortText(100, 'indicare il nome').optional(),
    lastName: shortText(100, 'indicare il cognome').optional(),
    title: titleSchema.nullable().optional(),
    gender: genderSchema.optional(),
    taxCode: personTaxCodeSchema.optional(),
    role: shortText(200).nullable().optional(),
    settoreId: objectIdSchema.nullable().optional(),
    email: emailSchema.nullable().optional(),
    kind: kindSchema.optional(),
    archived: z
      .boolean()
      .optional()
      .openapi({ description: 'false ripristina una persona archiviata' }),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'indicare almeno un campo da modificare')
  .openapi('PersonChanges');

const personIdParams = z.object({ personId: objectIdSchema });

export function registerPeopleRoutes(api: Api): void {
  api.route({
    method: 'get',
    path: '/api/v1/people',
    summary: "Persone dell'ente (dipendenti ed esterni), per cognome o per data",
    tags: ['Persone'],
    access: allRoles,
    query: z.object({
      q: z
        .string()
        .trim()
        .min(2, 'almeno 2 caratteri')
        .max(100)
        .optional()
        .openapi({ description: 'Parole del nome o del cognome, senza badare agli accenti' }),
      settoreId: objectIdSchema.optional(),
      kind: kindSchema.optional(),
      includeArchived: includeArchivedQuery,
      sort: sortQuery(['lastName', 'createdAt', 'updatedAt'], 'lastName'),
      ...paginationQuery,
    }),
    responses: {
      200: { description: `Persone. ${totalCountDescription}`, schema: z.array(personSchema) },
    },
    handler: async ({ query }, _request, response) => {
      const { items, total } = await listPeople(query);
      response.setHeader('X-Total-Count', String(total)).json(items);
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/people',
    summary: "Registra una persona dell'ente",
    tags: ['Persone'],
    access: writers,
    body: newPersonSchema,
    responses: {
      201: { description: 'Persona registrata', schema: personSchema },
      409: { description: "Codice fiscale già presente nell'ente" },
      422: { description: 'Settore inesistente o archiviato' },
    },
    handler: async ({ body }, _request, response) => {
      const person = await createPerson(body);
      response.status(201).location(`/api/v1/people/${person.id}`).json(person);
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/people/:personId',
    summary: 'Una persona',
    tags: ['Persone'],
    access: allRoles,
    params: personIdParams,
    responses: { 200: { description: 'Persona', schema: personSchema } },
    handler: async ({ params }, _request, response) => {
      response.json(await findPerson(params.personId));
    },
  });

  api.route({
    method: 'patch',
    path: '/api/v1/people/:personId',
    summary: 'Modifica una persona (archived=false la ripristina)',
    tags: ['Persone'],
    access: writers,
    params: personIdParams,
    body: personChangesSchema,
    responses: {
      200: { description: 'Persona aggiornata', schema: personSchema },
      409: { description: 'Codice fiscale già presente, o persona ancora in uso' },
      422: { description: 'Settore inesistente o archiviato' },
    },
    handler: async ({ params, body }, _request, response) => {
      response.json(await updatePerson(params.personId, body));
    },
  });

  api.route({
    method: 'delete',
    path: '/api/v1/people/:personId',
    summary:
      'Archivia una persona (non la cancella: gli atti già redatti la citano); 409 se è ancora responsabile di un settore o legale rappresentante',
    tags: ['Persone'],
    access: writers,
    params: personIdParams,
    responses: {
      200: { description: 'Persona archiviata', schema: personSchema },
      409: { description: 'Persona ancora in uso: references elenca chi la cita' },
    },
    handler: async ({ params }, _request, response) => {
      response.json(await archivePerson(params.personId));
    },
  });
}
