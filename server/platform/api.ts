/**
 * Routes are declared once with their zod schemas: the same declaration
 * validates requests, checks roles and describes the route in the OpenAPI document.
 */
import {
  extendZodWithOpenApi,
  OpenApiGeneratorV31,
  OpenAPIRegistry,
} from '@asteasolutions/zod-to-openapi';
import type { Request, RequestHandler, Response, Router } from 'express';
import multer from 'multer';
import { z, type ZodObject, type ZodType } from 'zod';
import { requirePrincipal, requireRole, type Principal, type Role } from './auth.js';
import { HttpProblem, problemFromZod } from './http-problem.js';

extendZodWithOpenApi(z);

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    invalidParams: z.array(z.object({ name: z.string(), reason: z.string() })).optional(),
  })
  .openapi('Problem');

/** zod's Italian messages, for schemas whose errors reach Italian users. */
export const italian = { error: z.locales.it().localeError };

/** Trimmed text between `min` and `max` characters, with Italian messages. */
export const textField = (max: number, min = 1) =>
  z
    .string(italian)
    .trim()
    .min(min, min === 1 ? 'non può essere vuoto' : `almeno ${min} caratteri`)
    .max(max, `al massimo ${max} caratteri`);

export const objectIdSchema = z
  .string()
  .regex(/^[0-9a-f]{24}$/i, 'deve essere un identificativo di 24 caratteri esadecimali')
  .openapi({ example: '665f1c2e8a1b2c3d4e5f6a7b' });

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type AnyObject = ZodObject;

/** A multipart upload: the named files, each at most `maxFileSize` bytes. */
export interface UploadSpec {
  files: { name: string; required: boolean; description: string }[];
  maxFileSize: number;
}

export type UploadedFiles = Record<string, Express.Multer.File | undefined>;

export interface ResponseSpec {
  description: string;
  schema?: ZodType;
  contentType?: string;
}

export interface RouteSpec<
  P extends AnyObject | undefined,
  Q extends AnyObject | undefined,
  B extends ZodType | undefined,
> {
  method: Method;
  path: string;
  summary: string;
  tags: string[];
  /** Roles allowed; `public` for routes needing no token. */
  access: readonly Role[] | 'public' | 'authenticated';
  params?: P;
  query?: Q;
  body?: B;
  /** With an upload, `body` validates the multipart text fields. */
  upload?: UploadSpec;
  responses: Record<number, ResponseSpec>;
  handler: (
    input: {
      params: P extends AnyObject ? z.infer<P> : Record<string, never>;
      query: Q extends AnyObject ? z.infer<Q> : Record<string, never>;
      body: B extends ZodType ? z.infer<B> : undefined;
      files: UploadedFiles;
      principal: Principal;
    },
    request: Request,
    response: Response,
  ) => Promise<void> | void;
}

const standardProblems: Record<number, string> = {
  400: 'Richiesta non valida',
  401: 'Autenticazione richiesta',
  403: 'Ruolo non sufficiente',
};

function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** One per app: the router the routes are mounted on and the OpenAPI registry describing them. */
export class Api {
  readonly registry = new OpenAPIRegistry();

  constructor(
    readonly router: Router,
    private readonly middleware: { authenticate: RequestHandler; parseJson: RequestHandler },
  ) {
    this.registry.registerComponent('securitySchemes', 'bearerAuth', {
      type: 'http',
      scheme: 'bearer',
      description: 'API token (sgl_…) issued by an administrator',
    });
  }

  route<
    P extends AnyObject | undefined = undefined,
    Q extends AnyObject | undefined = undefined,
    B extends ZodType | undefined = undefined,
  >(spec: RouteSpec<P, Q, B>): void {
    defineRoute(this.router, this.registry, this.middleware, spec);
  }

  document(): ReturnType<OpenApiGeneratorV31['generateDocument']> {
    return new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: {
        title: 'Sigillo API',
        version: '0.1.0',
        description:
          'Redazione, numerazione, conservazione e firma degli atti privacy (GDPR) degli enti pubblici',
      },
      servers: [{ url: '/' }],
    });
  }
}

function defineRoute<
  P extends AnyObject | undefined,
  Q extends AnyObject | undefined,
  B extends ZodType | undefined,
>(
  router: Router,
  registry: OpenAPIRegistry,
  middleware: { authenticate: RequestHandler; parseJson: RequestHandler },
  spec: RouteSpec<P, Q, B>,
): void {
  const responses: Record<
    string,
    { description: string; content?: Record<string, { schema: ZodType }> }
  > = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    responses[status] = {
      description: response.description,
      ...(response.schema
        ? { content: { [response.contentType ?? 'application/json']: { schema: response.schema } } }
        : {}),
    };
  }
  const problemStatuses = spec.access === 'public' ? [400] : [400, 401, 403];
  for (const status of problemStatuses) {
    responses[String(status)] ??= {
      description: standardProblems[status] ?? 'Errore',
      content: { 'application/problem+json': { schema: problemSchema } },
    };
  }
  registry.registerPath({
    method: spec.method,
    path: openApiPath(spec.path),
    summary: spec.summary,
    tags: spec.tags,
    ...(spec.access === 'public' ? {} : { security: [{ bearerAuth: [] }] }),
    request: {
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(spec.body && !spec.upload
        ? { body: { content: { 'application/json': { schema: spec.body } }, required: true } }
        : {}),
      ...(spec.upload
        ? {
            body: {
              required: true,
              content: {
                'multipart/form-data': {
                  schema: (spec.body instanceof z.ZodObject ? spec.body : z.object({})).extend(
                    Object.fromEntries(
                      spec.upload.files.map((file) => [
                        file.name,
                        z.string().openapi({
                          type: 'string',
                          format: 'binary',
                          description: file.description,
                        }),
                      ]),
                    ),
                  ),
                },
              },
            },
          }
        : {}),
    },
    responses,
  });

  // Authentication comes before body parsing: an anonymous caller's body is never read.
  const handlers: RequestHandler[] = [];
  if (spec.access !== 'public') handlers.push(middleware.authenticate);
  if (Array.isArray(spec.access)) handlers.push(requireRole(spec.access));
  if (spec.upload) {
    const upload = spec.upload;
    handlers.push(
      multer({
        storage: multer.memoryStorage(),
        limits: {
          fileSize: upload.maxFileSize,
          files: upload.files.length,
          fields: 20,
          fieldSize: 64 * 1024,
        },
      }).fields(upload.files.map((file) => ({ name: file.name, maxCount: 1 }))),
    );
  } else if (spec.body) handlers.push(middleware.parseJson);
  handlers.push(async (request, response) => {
    const parse = (schema: ZodType | undefined, value: unknown, source: string): unknown => {
      if (!schema) return source === 'body' ? undefined : {};
      const result = schema.safeParse(value);
      if (!result.success) throw problemFromZod(result.error, source);
      return result.data;
    };
    const files: UploadedFiles = {};
    if (spec.upload) {
      const received = (request.files ?? {}) as Record<string, Express.Multer.File[]>;
      const missing = spec.upload.files.filter(
        (file) => file.required && !received[file.name]?.[0],
      );
      if (missing.length > 0) {
        throw HttpProblem.badRequest(
          `File mancanti: ${missing.map((file) => file.name).join(', ')}`,
          missing.map((file) => ({ name: `files.${file.name}`, reason: 'file obbligatorio' })),
        );
      }
      for (const file of spec.upload.files) files[file.name] = received[file.name]?.[0];
    }
    const input = {
      files,
      params: parse(spec.params, request.params, 'params'),
      query: parse(spec.query, request.query, 'query'),
      body: parse(spec.body, request.body, 'body'),
      principal: spec.access === 'public' ? (undefined as never) : requirePrincipal(request),
    } as Parameters<RouteSpec<P, Q, B>['handler']>[0];
    await spec.handler(input, request, response);
  });
  router[spec.method](spec.path, ...handlers);
}
