import type { Types } from 'mongoose';
import { z } from 'zod';
import type { Api } from '../platform/api.js';
import { HttpProblem } from '../platform/http-problem.js';
import type { TemplateVersionDocument } from './model.js';
import { documentTypes } from './model.js';
import { attachLogo, buildDocumentModel } from '../documents/pipeline.js';
import { renderPdf } from '../documents/render-pdf.js';
import type { ModelRenderer } from '../documents/render-pool.js';
import type { ObjectStorage } from '../platform/storage.js';
import { templateContextFor } from '../documents/service.js';
import {
  compileInputSchema,
  InputSchemaError,
  findTemplate,
  listTemplateVersions,
  listTemplates,
  saveTemplateVersion,
  templateKeySchema,
  templateSettingsSchema,
  validateTemplateInput,
} from './service.js';

const allRoles = ['admin', 'segreteria', 'procurement', 'legal', 'dpo'] as const;

const templateSummarySchema = z
  .object({
    id: z.string(),
    key: z.string(),
    version: z.number().int(),
    title: z.string(),
    documentType: z.enum(documentTypes),
    register: z.string().nullable(),
    organisationId: z
      .string()
      .nullable()
      .openapi({ description: 'null: modello distribuito con Sigillo' }),
    origin: z.enum(['file', 'upload']),
    contentHash: z.string(),
    createdAt: z.string(),
  })
  .openapi('TemplateVersion');

const templateDetailSchema = templateSummarySchema
  .extend({ source: z.string(), inputSchema: z.record(z.string(), z.unknown()) })
  .openapi('TemplateVersionDetail');

function summary(template: TemplateVersionDocument) {
  const {
    source: _source,
    inputSchema: _schema,
    ...rest
  } = template.toJSON() as Record<string, unknown>;
  return rest;
}

const keyParams = z.object({ key: templateKeySchema });
const versionQuery = z.object({
  version: z.coerce.number().int().min(1, 'la versione parte da 1').optional(),
});

export function registerTemplateRoutes(
  api: Api,
  render: ModelRenderer,
  storage: ObjectStorage,
): void {
  api.route({
    method: 'get',
    path: '/api/v1/templates',
    summary: "Modelli disponibili per l'ente (ultima versione di ciascuno)",
    tags: ['Modelli'],
    access: allRoles,
    responses: { 200: { description: 'Modelli', schema: z.array(templateSummarySchema) } },
    handler: async (_input, _request, response) => {
      response.json((await listTemplates()).map(summary));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/templates/:key',
    summary: 'Un modello con sorgente e schema di input (ultima versione o quella indicata)',
    tags: ['Modelli'],
    access: allRoles,
    params: keyParams,
    query: versionQuery,
    responses: { 200: { description: 'Modello', schema: templateDetailSchema } },
    handler: async ({ params, query }, _request, response) => {
      response.json(await findTemplate(params.key, query.version));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/templates/:key/versions',
    summary: 'Tutte le versioni di un modello',
    tags: ['Modelli'],
    access: allRoles,
    params: keyParams,
    responses: { 200: { description: 'Versioni', schema: z.array(templateSummarySchema) } },
    handler: async ({ params }, _request, response) => {
      response.json((await listTemplateVersions(params.key)).map(summary));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/templates',
    summary:
      "Carica un modello dell'ente (sorgente nunjucks + schema JSON): crea una nuova versione",
    tags: ['Modelli'],
    access: ['admin'],
    body: templateSettingsSchema.extend({
      register: z
        .string()
        .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'chiave di registro non valida')
        .optional()
        .transform((value) => value ?? null),
    }),
    upload: {
      maxFileSize: 512 * 1024,
      files: [
        { name: 'source', required: true, description: 'Sorgente nunjucks (.njk), UTF-8' },
        { name: 'schema', required: true, description: 'Schema JSON (2020-12) dei dati di input' },
      ],
    },
    responses: {
      201: { description: 'Nuova versione creata', schema: templateSummarySchema },
      200: {
        description: 'Contenuto identico all’ultima versione: nessuna nuova versione',
        schema: templateSummarySchema,
      },
      422: { description: 'Sorgente o schema non validi' },
    },
    handler: async ({ body, files, principal }, _request, response) => {
      const source = decodeUtf8(files.source!.buffer, 'source');
      let inputSchema: unknown;
      try {
        inputSchema = JSON.parse(decodeUtf8(files.schema!.buffer, 'schema'));
      } catch (error) {
        if (error instanceof HttpProblem) throw error;
        throw new HttpProblem(422, 'Schema non valido', 'Il file schema non è JSON valido', {
          invalidParams: [{ name: 'files.schema', reason: 'JSON non valido' }],
        });
      }
      // A template that cannot render its own example is refused before it is saved.
      await checkUploadedTemplate(body.key, source, inputSchema, principal.organisationId, storage);
      const { template, created } = await saveTemplateVersion({
        settings: body,
        source,
        inputSchema,
        origin: 'upload',
        createdBy: principal.userId,
        organisationId: principal.organisationId,
      });
      response.status(created ? 201 : 200).json(summary(template));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/templates/:key/preview',
    summary: 'Anteprima PDF di un modello con i dati forniti; nulla viene salvato',
    tags: ['Modelli'],
    access: allRoles,
    params: keyParams,
    query: versionQuery,
    body: z.object({ data: z.record(z.string(), z.unknown()) }).strict(),
    responses: {
      200: {
        description: 'PDF di anteprima',
        schema: z.string().openapi({ format: 'binary' }),
        contentType: 'application/pdf',
      },
      422: { description: 'Dati non conformi allo schema del modello' },
    },
    handler: async ({ params, query, body, principal }, _request, response) => {
      const template = await findTemplate(params.key, query.version);
      validateTemplateInput(template, body.data);
      const { context, logo } = await templateContextFor(principal.organisationId, storage);
      const model = await attachLogo(buildDocumentModel(template, body.data, context), logo);
      const { pdf } = await render(model);
      response
        .status(200)
        .type('application/pdf')
        .setHeader('Content-Disposition', 'inline; filename="anteprima.pdf"')
        .send(Buffer.from(pdf.bytes));
    },
  });
}

function decodeUtf8(buffer: Buffer, field: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buffer);
  } catch {
    throw new HttpProblem(422, 'Codifica non valida', `Il file ${field} deve essere in UTF-8`, {
      invalidParams: [{ name: `files.${field}`, reason: 'non è testo UTF-8' }],
    });
  }
}

async function checkUploadedTemplate(
  key: string,
  source: string,
  inputSchema: unknown,
  organisationId: Types.ObjectId,
  storage: ObjectStorage,
): Promise<void> {
  const refuse = (field: 'source' | 'schema', reason: string) =>
    new HttpProblem(422, 'Modello non valido', reason, {
      invalidParams: [{ name: `files.${field}`, reason }],
    });
  if (source.trim().length === 0) throw refuse('source', 'il sorgente del modello è vuoto');
  let validate;
  try {
    validate = compileInputSchema(inputSchema);
  } catch (error) {
    if (error instanceof InputSchemaError) throw refuse('schema', error.message);
    throw error;
  }
  const example = (inputSchema as { examples?: unknown[] }).examples?.[0];
  if (typeof example !== 'object' || example === null) {
    throw refuse(
      'schema',
      'lo schema deve contenere "examples" con almeno un esempio di dati, usato per provare il modello',
    );
  }
  if (!validate(example)) {
    throw refuse('schema', 'il primo esempio in "examples" non rispetta lo schema stesso');
  }
  const { context, logo } = await templateContextFor(organisationId, storage);
  // With the ente's logo, so that the check lays out the letterhead as the documents will.
  const model = await attachLogo(
    buildDocumentModel({ key, version: 0, source }, example as Record<string, unknown>, context),
    logo,
  );
  await renderPdf(model);
}
