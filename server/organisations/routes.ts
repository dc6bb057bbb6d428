import { z } from 'zod';
import { objectIdSchema, type Api } from '../platform/api.js';
import type { ObjectStorage } from '../platform/storage.js';
import {
  addressSchema,
  bodyTaxCodeSchema,
  emailSchema,
  isoDateSchema,
  pecSchema,
  phoneSchema,
  provinceSchema,
  shortText,
  storedAddressSchema,
  vatNumberSchema,
} from '../people/fields.js';
import { registerPeopleRoutes } from '../people/routes.js';
import { registerSettoreRoutes } from '../settori/routes.js';
import { registerSupplierRoutes } from '../suppliers/routes.js';
import { dpoKinds, organisationKinds } from './model.js';
import {
  findOrganisation,
  logoMaxBytes,
  readLogo,
  saveLogo,
  updateOrganisation,
} from './service.js';

const allRoles = ['admin', 'segreteria', 'procurement', 'legal', 'dpo'] as const;
const writers = ['admin', 'segreteria'] as const;
const logoPath = '/api/v1/organisation/logo';

const legalRepresentativeSchema = z
  .object({
    personId: objectIdSchema.openapi({ description: "Una persona dell'ente, non archiviata" }),
    role: shortText(200, 'indicare la carica').openapi({ example: 'Sindaco pro tempore' }),
    appointmentAct: shortText(300)
      .nullable()
      .optional()
      .openapi({ example: 'proclamazione del 10 giugno 2024' }),
    since: isoDateSchema.nullable().optional(),
  })
  .strict()
  .openapi('LegalRepresentative');

const dpoSchema = z
  .object({
    kind: z.enum(dpoKinds, 'indicare person o firm'),
    name: shortText(300, 'indicare il nome o la ragione sociale').openapi({
      example: 'Grafiche E. Gaspari',
    }),
    contactPerson: shortText(200)
      .nullable()
      .optional()
      .openapi({ description: 'Referente, quando il DPO è una società' }),
    email: emailSchema,
    pec: pecSchema.nullable().optional(),
    phone: phoneSchema.nullable().optional(),
    appointmentAct: shortText(300).nullable().optional(),
    appointedOn: isoDateSchema.nullable().optional(),
  })
  .strict()
  .openapi('Dpo');

const regolamentoKeySchema = z
  .string()
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'solo lettere minuscole, cifre e trattini')
  .max(80)
  .openapi({ example: 'calderara-di-reno-2020' });

const organisationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(organisationKinds),
    province: z.string().nullable(),
    address: storedAddressSchema.nullable(),
    pec: z.string().nullable(),
    email: z.string().nullable(),
    taxCode: z.string().nullable(),
    vatNumber: z.string().nullable(),
    legalRepresentative: z
      .object({
        personId: z.string(),
        role: z.string(),
        appointmentAct: z.string().nullable(),
        since: z.string().nullable(),
      })
      .nullable(),
    dpo: z
      .object({
        kind: z.enum(dpoKinds),
        name: z.string(),
        contactPerson: z.string().nullable(),
        email: z.string(),
        pec: z.string().nullable(),
        phone: z.string().nullable(),
        appointmentAct: z.string().nullable(),
        appointedOn: z.string().nullable(),
      })
      .nullable(),
    regolamentoKey: z.string().nullable(),
    logo: z
      .object({
        sha256: z.string(),
        contentType: z.string(),
        size: z.number().int(),
        uploadedAt: z.string(),
        url: z.string(),
      })
      .nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Organisation');

const organisationChangesSchema = z
  .object({
    name: shortText(200, "indicare il nome dell'ente").optional(),
    kind: z.enum(organisationKinds, 'tipo di ente non previsto').optional(),
    province: provinceSchema.nullable().optional(),
    address: addressSchema.nullable().optional(),
    pec: pecSchema.nullable().optional(),
    email: emailSchema.nullable().optional(),
    taxCode: bodyTaxCodeSchema.nullable().optional(),
    vatNumber: vatNumberSchema.nullable().optional(),
    legalRepresentative: legalRepresentativeSchema.nullable().optional(),
    dpo: dpoSchema.nullable().optional(),
    regolamentoKey: regolamentoKeySchema.nullable().optional(),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'indicare almeno un campo da modificare')
  .openapi('OrganisationChanges');

type StoredOrganisation = Awaited<ReturnType<typeof findOrganisation>>;

function present(organisation: StoredOrganisation) {
  const json = organisation.toJSON() as Record<string, unknown>;
  return { ...json, logo: json.logo ? { ...json.logo, url: logoPath } : null };
}

/**
 * Registers the ente's profile together with its registries (settori, people,
 * suppliers), which the acts draw from: the app wires them all with one call.
 */
export function registerOrganisationRoutes(api: Api, storage: ObjectStorage): void {
  api.route({
    method: 'get',
    path: '/api/v1/organisation',
    summary: "Il profilo dell'ente del chiamante",
    tags: ['Ente'],
    access: allRoles,
    responses: { 200: { description: 'Profilo', schema: organisationSchema } },
    handler: async ({ principal }, _request, response) => {
      response.json(present(await findOrganisation(principal.organisationId)));
    },
  });

  api.route({
    method: 'patch',
    path: '/api/v1/organisation',
    summary:
      "Modifica il profilo dell'ente: solo i campi indicati; indirizzo, legale rappresentante e DPO si sostituiscono per intero, null li toglie",
    tags: ['Ente'],
    access: writers,
    body: organisationChangesSchema,
    responses: {
      200: { description: 'Profilo aggiornato', schema: organisationSchema },
      422: {
        description:
          "Legale rappresentante non tra le persone dell'ente, o regolamento inesistente",
      },
    },
    handler: async ({ body, principal }, _request, response) => {
      response.json(present(await updateOrganisation(principal.organisationId, body)));
    },
  });

  api.route({
    method: 'put',
    path: logoPath,
    summary: `Carica o sostituisce il logo dell'ente (PNG o JPEG, al massimo ${logoMaxBytes / 1024} KB)`,
    tags: ['Ente'],
    access: writers,
    upload: {
      maxFileSize: logoMaxBytes,
      files: [{ name: 'logo', required: true, description: 'Immagine PNG o JPEG' }],
    },
    responses: {
      200: { description: 'Profilo con il nuovo logo', schema: organisationSchema },
      413: { description: 'File troppo grande' },
      422: { description: 'Il file non è un PNG o un JPEG' },
    },
    handler: async ({ files, principal }, _request, response) => {
      const organisation = await saveLogo(principal.organisationId, files.logo!.buffer, storage);
      response.json(present(organisation));
    },
  });

  api.route({
    method: 'get',
    path: logoPath,
    summary: "Il logo dell'ente (verificato con il suo SHA-256)",
    tags: ['Ente'],
    access: allRoles,
    responses: {
      200: {
        description: 'Il logo',
        schema: z.string().openapi({ format: 'binary' }),
        contentType: 'image/*',
      },
      404: { description: "L'ente non ha un logo" },
    },
    handler: async ({ principal }, _request, response) => {
      const { body, logo } = await readLogo(principal.organisationId, storage);
      response
        .status(200)
        .type(logo.contentType)
        .setHeader('X-Content-SHA256', logo.sha256)
        .setHeader('ETag', `"${logo.sha256}"`)
        .setHeader('Cache-Control', 'private, no-cache')
        .send(body);
    },
  });

  registerSettoreRoutes(api);
  registerPeopleRoutes(api);
  registerSupplierRoutes(api);
}
