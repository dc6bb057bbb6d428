import { z } from 'zod';
import { objectIdSchema, type Api } from '../platform/api.js';
import { roles } from '../platform/auth.js';
import { Organisation } from '../organisations/model.js';
import { ApiToken, User } from './model.js';
import { createUser, findUser, issueToken, revokeToken, updateUser } from './service.js';

const roleSchema = z.enum(roles);

const userSchema = z
  .object({
    id: z.string(),
    organisationId: z.string(),
    name: z.string(),
    email: z.string(),
    roles: z.array(roleSchema),
    active: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('User');

const tokenSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    label: z.string(),
    hint: z.string().openapi({ description: 'Primi caratteri del token, per riconoscerlo' }),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('ApiToken');

const issuedTokenSchema = tokenSchema
  .extend({
    token: z.string().openapi({ description: 'Il token in chiaro: mostrato solo ora' }),
  })
  .openapi('IssuedApiToken');

const newUserSchema = z
  .object({
    name: z.string().trim().min(2, 'indicare nome e cognome').max(200),
    email: z.email('indirizzo e-mail non valido').max(320),
    roles: z.array(roleSchema).min(1, 'indicare almeno un ruolo'),
  })
  .strict()
  .openapi('NewUser');

const userChangesSchema = z
  .object({
    name: z.string().trim().min(2).max(200).optional(),
    roles: z.array(roleSchema).min(1, 'indicare almeno un ruolo').optional(),
    active: z.boolean().optional(),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'indicare almeno un campo da modificare')
  .openapi('UserChanges');

const userIdParams = z.object({ userId: objectIdSchema });
const tokenIdParams = z.object({ tokenId: objectIdSchema });

export function registerAccessRoutes(api: Api): void {
  api.route({
    method: 'get',
    path: '/api/v1/me',
    summary: 'Il chiamante: utente, ruoli ed ente',
    tags: ['Accesso'],
    access: 'authenticated',
    responses: {
      200: {
        description: 'Utente autenticato',
        schema: z.object({
          user: userSchema,
          organisation: z.object({ id: z.string(), name: z.string() }),
        }),
      },
    },
    handler: async ({ principal }, _request, response) => {
      const [user, organisation] = await Promise.all([
        User.findById(principal.userId),
        Organisation.findById(principal.organisationId),
      ]);
      response.json({ user, organisation });
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/admin/users',
    summary: "Crea un utente dell'ente",
    tags: ['Amministrazione'],
    access: ['admin'],
    body: newUserSchema,
    responses: { 201: { description: 'Utente creato', schema: userSchema } },
    handler: async ({ body }, _request, response) => {
      response.status(201).json(await createUser(body));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/admin/users',
    summary: "Elenco degli utenti dell'ente",
    tags: ['Amministrazione'],
    access: ['admin'],
    responses: { 200: { description: 'Utenti', schema: z.array(userSchema) } },
    handler: async (_input, _request, response) => {
      response.json(await User.find().sort({ name: 1 }));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/admin/users/:userId',
    summary: 'Un utente',
    tags: ['Amministrazione'],
    access: ['admin'],
    params: userIdParams,
    responses: { 200: { description: 'Utente', schema: userSchema } },
    handler: async ({ params }, _request, response) => {
      response.json(await findUser(params.userId));
    },
  });

  api.route({
    method: 'patch',
    path: '/api/v1/admin/users/:userId',
    summary: 'Modifica nome, ruoli o stato di un utente',
    tags: ['Amministrazione'],
    access: ['admin'],
    params: userIdParams,
    body: userChangesSchema,
    responses: { 200: { description: 'Utente aggiornato', schema: userSchema } },
    handler: async ({ params, body }, _request, response) => {
      response.json(await updateUser(params.userId, body));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/admin/users/:userId/tokens',
    summary: 'Emette un token API per un utente (mostrato una sola volta)',
    tags: ['Amministrazione'],
    access: ['admin'],
    params: userIdParams,
    body: z.object({ label: z.string().trim().min(1, 'indicare un’etichetta').max(100) }).strict(),
    responses: { 201: { description: 'Token emesso', schema: issuedTokenSchema } },
    handler: async ({ params, body }, _request, response) => {
      const user = await findUser(params.userId);
      const { record, token } = await issueToken(user._id, body.label);
      response.status(201).json({ ...record.toJSON(), token });
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/admin/tokens',
    summary: "Elenco dei token dell'ente (senza il loro valore)",
    tags: ['Amministrazione'],
    access: ['admin'],
    responses: { 200: { description: 'Token', schema: z.array(tokenSchema) } },
    handler: async (_input, _request, response) => {
      response.json(await ApiToken.find().sort({ createdAt: -1 }));
    },
  });

  api.route({
    method: 'delete',
    path: '/api/v1/admin/tokens/:tokenId',
    summary: 'Revoca un token',
    tags: ['Amministrazione'],
    access: ['admin'],
    params: tokenIdParams,
    responses: { 200: { description: 'Token revocato', schema: tokenSchema } },
    handler: async ({ params, principal }, _request, response) => {
      response.json(await revokeToken(params.tokenId, principal.userId));
    },
  });
}
