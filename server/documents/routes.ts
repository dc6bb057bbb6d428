import { z } from 'zod';
import { objectIdSchema, type Api } from '../platform/api.js';
import type { ObjectStorage } from '../platform/storage.js';
import { sendStoredFile } from './download.js';
import { templateKeySchema } from '../templates/service.js';
import { GeneratedDocument } from './model.js';
import type { ModelRenderer } from './render-pool.js';
import { findDocument, generateDocument } from './service.js';

const allRoles = ['admin', 'segreteria', 'procurement', 'legal', 'dpo'] as const;

const storedFileSchema = z.object({
  sha256: z.string(),
  size: z.number().int(),
  contentType: z.string(),
  fileName: z.string(),
});

const documentSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    documentType: z.string(),
    template: z.object({ id: z.string(), key: z.string(), version: z.number().int() }),
    input: z.record(z.string(), z.unknown()),
    pdf: storedFileSchema,
    docx: storedFileSchema,
    pageCount: z.number().int(),
    signedVersions: z.array(
      z.object({
        number: z.number().int(),
        file: storedFileSchema,
        format: z.enum(['pades', 'cades']),
        source: z.enum(['sigillo', 'upload']),
        signer: z.object({ name: z.string() }),
        createdAt: z.string(),
      }),
    ),
    author: z.object({ userId: z.string(), name: z.string() }),
    createdAt: z.string(),
    links: z.object({
      pdf: z.string(),
      docx: z.string(),
      signed: z.string().nullable(),
      signatures: z.string(),
      auditTrail: z.string(),
    }),
  })
  .openapi('Document');

type StoredDocument = Awaited<ReturnType<typeof findDocument>>;

function present(document: StoredDocument) {
  const json = document.toJSON() as unknown as Record<string, unknown> & {
    pdf: Record<string, unknown>;
    docx: Record<string, unknown>;
    signedVersions: (Record<string, unknown> & { file: Record<string, unknown> })[];
  };
  // Storage keys and versions are internal; clients download through the links.
  const publicFile = ({ key: _key, versionId: _versionId, ...rest }: Record<string, unknown>) =>
    rest;
  const base = `/api/v1/documents/${document.id}`;
  return {
    ...json,
    pdf: publicFile(json.pdf),
    docx: publicFile(json.docx),
    signedVersions: json.signedVersions.map(
      ({ signatureRequestId: _request, signedVersionCount: _count, ...version }) => ({
        ...version,
        file: publicFile(version.file),
      }),
    ),
    links: {
      pdf: `${base}/pdf`,
      docx: `${base}/docx`,
      signed: document.signedVersions.length > 0 ? `${base}/signed` : null,
      signatures: `${base}/signatures`,
      auditTrail: `${base}/audit-trail`,
    },
  };
}

const documentIdParams = z.object({ documentId: objectIdSchema });

export function registerDocumentRoutes(
  api: Api,
  storage: ObjectStorage,
  render: ModelRenderer,
): void {
  api.route({
    method: 'post',
    path: '/api/v1/documents',
    summary: 'Genera un documento da un modello: DOCX e PDF, conservati con il loro SHA-256',
    tags: ['Documenti'],
    access: allRoles,
    body: z
      .object({
        template: templateKeySchema,
        version: z.number().int().min(1).optional(),
        data: z.record(z.string(), z.unknown()),
      })
      .strict()
      .openapi('NewDocument'),
    responses: {
      201: { description: 'Documento generato', schema: documentSchema },
      404: { description: 'Modello o versione inesistente' },
      422: { description: 'Dati mancanti o errati: invalidParams elenca ciascun campo' },
    },
    handler: async ({ body, principal }, _request, response) => {
      const document = await generateDocument({
        templateKey: body.template,
        ...(body.version === undefined ? {} : { version: body.version }),
        data: body.data,
        principal,
        storage,
        render,
      });
      response.status(201).location(`/api/v1/documents/${document.id}`).json(present(document));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/documents',
    summary: "Documenti generati dall'ente, dal più recente",
    tags: ['Documenti'],
    access: allRoles,
    query: z.object({
      template: templateKeySchema.optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      offset: z.coerce.number().int().min(0).default(0),
    }),
    responses: { 200: { description: 'Documenti', schema: z.array(documentSchema) } },
    handler: async ({ query }, _request, response) => {
      const documents = await GeneratedDocument.find(
        query.template ? { 'template.key': query.template } : {},
      )
        .sort({ createdAt: -1 })
        .skip(query.offset)
        .limit(query.limit);
      response.json(documents.map(present));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/documents/:documentId',
    summary: 'Un documento generato',
    tags: ['Documenti'],
    access: allRoles,
    params: documentIdParams,
    responses: { 200: { description: 'Documento', schema: documentSchema } },
    handler: async ({ params }, _request, response) => {
      response.json(present(await findDocument(params.documentId)));
    },
  });

  for (const format of ['pdf', 'docx'] as const) {
    api.route({
      method: 'get',
      path: `/api/v1/documents/:documentId/${format}`,
      summary: `Scarica il ${format.toUpperCase()} (verificato con il suo SHA-256), o un link temporaneo con ?redirect=true`,
      tags: ['Documenti'],
      access: allRoles,
      params: documentIdParams,
      query: z.object({ redirect: z.enum(['true', 'false']).default('false') }),
      responses: {
        200: {
          description: 'Il file',
          schema: z.string().openapi({ format: 'binary' }),
          contentType:
            format === 'pdf'
              ? 'application/pdf'
              : 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        },
        302: { description: 'Link temporaneo (5 minuti) allo storage' },
      },
      handler: async ({ params, query }, _request, response) => {
        const document = await findDocument(params.documentId);
        const file = document[format];
        const versionId = file.versionId ?? undefined;
        if (query.redirect === 'true') {
          response.redirect(
            302,
            await storage.presignedDownloadUrl(file.key, {
              fileName: file.fileName,
              ...(versionId ? { versionId } : {}),
            }),
          );
          return;
        }
        await sendStoredFile(response, storage, file);
      },
    });
  }
}
