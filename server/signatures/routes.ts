import { z } from 'zod';
import { User } from '../access/model.js';
import { sendBytes, sendStoredFile } from '../documents/download.js';
import { findDocument } from '../documents/service.js';
import { objectIdSchema, type Api } from '../platform/api.js';
import { HttpProblem } from '../platform/http-problem.js';
import { SignatureRequest, SigningKeyHolder } from './model.js';
import {
  auditTrail,
  cancelSignatureRequest,
  completionCertificate,
  createSignatureRequest,
  currentVersion,
  downloadForSigning,
  findSignatureRequest,
  remindSigner,
  signWithKey,
  uploadSigned,
  verifyAnyFile,
  verifyDocumentSignatures,
  type SigningContext,
} from './service.js';

const requesters = ['admin', 'segreteria', 'procurement', 'legal', 'dpo'] as const;
const everyone = requesters;

const signatureReportSchema = z
  .object({
    fieldName: z.string().nullable(),
    kind: z.enum(['PAdES', 'CAdES']),
    subFilter: z.string().nullable(),
    signer: z.object({
      commonName: z.string().nullable(),
      codiceFiscale: z.string().nullable(),
      subject: z.string(),
      certificateSerial: z.string(),
    }),
    issuer: z.string(),
    signingTime: z.string().nullable(),
    timestamp: z
      .object({ time: z.string(), authority: z.string(), intact: z.boolean() })
      .nullable(),
    digestAlgorithm: z.string(),
    coversWholeDocument: z.boolean(),
    coversRevision: z.boolean(),
    intact: z.boolean(),
    certificateValidAtSigningTime: z.boolean(),
    trusted: z.boolean(),
    modificationsAfter: z.enum(['none', 'signatures-only', 'other']),
    valid: z.boolean(),
    problems: z.array(z.string()),
  })
  .openapi('SignatureReport');

const signerSchema = z.object({
  order: z.number().int(),
  userId: z.string(),
  name: z.string(),
  role: z.string(),
  mode: z.enum(['key', 'outside']),
  keyId: z.string().nullable(),
  fieldName: z.string(),
  status: z.enum(['waiting', 'current', 'signed']),
  signedAt: z.string().nullable(),
  versionNumber: z.number().int().nullable(),
});

const signatureRequestSchema = z
  .object({
    id: z.string(),
    documentId: z.string(),
    documentTitle: z.string(),
    status: z.enum(['open', 'completed', 'cancelled']),
    dueDate: z.string().nullable(),
    signers: z.array(signerSchema),
    reminders: z.array(
      z.object({
        at: z.string(),
        to: z.object({ name: z.string() }),
        by: z.object({ name: z.string() }),
        note: z.string().nullable(),
      }),
    ),
    requestedBy: z.object({ userId: z.string().nullable(), name: z.string() }),
    completedAt: z.string().nullable(),
    completionCertificateId: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('SignatureRequest');

const newRequestSchema = z
  .object({
    signers: z
      .array(
        z
          .object({
            userId: objectIdSchema,
            mode: z.enum(['key', 'outside'], {
              error: "mode deve essere 'key' (firma con la chiave assegnata) o 'outside'",
            }),
            fieldName: z
              .string()
              .regex(/^[A-Za-z0-9_-]{1,64}$/, 'nome di campo di firma non valido')
              .optional(),
            role: z.string().trim().min(2).max(200).optional(),
          })
          .strict(),
      )
      .min(1, 'almeno un firmatario')
      .max(20, 'al massimo 20 firmatari'),
    dueDate: z.iso.date('data nel formato AAAA-MM-GG').optional(),
  })
  .strict()
  .openapi('NewSignatureRequest');

const requestIdParams = z.object({ requestId: objectIdSchema });
const documentIdParams = z.object({ documentId: objectIdSchema });

function presentRequest(request: Awaited<ReturnType<typeof findSignatureRequest>>) {
  const { turn: _turn, ...json } = request.toJSON() as unknown as Record<string, unknown>;
  return json;
}

export function registerSignatureRoutes(api: Api, context: SigningContext): void {
  const { storage, setup } = context;
  const uploadLimit = setup.uploadLimitBytes;

  api.route({
    method: 'post',
    path: '/api/v1/documents/:documentId/signature-requests',
    summary:
      'Richiede le firme di un documento: firmatari in ordine, ciascuno con la chiave assegnata (key) o fuori dal sistema (outside), su uno spazio di firma del modello',
    tags: ['Firme'],
    access: requesters,
    params: documentIdParams,
    body: newRequestSchema,
    responses: {
      201: { description: 'Richiesta creata', schema: signatureRequestSchema },
      409: { description: 'Il documento ha già una richiesta aperta' },
      422: { description: 'Firmatario, spazio di firma o scadenza non validi' },
    },
    handler: async ({ params, body, principal }, _request, response) => {
      const request = await createSignatureRequest(
        { documentId: params.documentId, signers: body.signers, dueDate: body.dueDate },
        principal,
      );
      response
        .status(201)
        .location(`/api/v1/signature-requests/${request.id}`)
        .json(presentRequest(request));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/signature-requests',
    summary:
      "Richieste di firma dell'ente; mine=true: quelle in cui tocca al chiamante firmare; overdue=true: aperte e scadute",
    tags: ['Firme'],
    access: everyone,
    query: z.object({
      status: z.enum(['open', 'completed', 'cancelled']).optional(),
      documentId: objectIdSchema.optional(),
      mine: z.enum(['true', 'false']).default('false'),
      overdue: z.enum(['true', 'false']).default('false'),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      offset: z.coerce.number().int().min(0).default(0),
    }),
    responses: { 200: { description: 'Richieste', schema: z.array(signatureRequestSchema) } },
    handler: async ({ query, principal }, _request, response) => {
      const filter: Record<string, unknown> = {};
      if (query.status) filter.status = query.status;
      if (query.documentId) filter.documentId = query.documentId;
      if (query.mine === 'true' || query.overdue === 'true') filter.status = 'open';
      const requests = await SignatureRequest.find(filter)
        .sort({ createdAt: -1 })
        .skip(query.offset)
        .limit(query.limit);
      const today = new Date().toISOString().slice(0, 10);
      const selected = requests.filter(
        (request) =>
          (query.mine !== 'true' ||
            request.signers.some(
              (signer) => signer.status === 'current' && signer.userId.equals(principal.userId),
            )) &&
          (query.overdue !== 'true' || (request.dueDate != null && request.dueDate < today)),
      );
      response.json(selected.map(presentRequest));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/signature-requests/:requestId',
    summary: 'Una richiesta di firma, con lo stato di ciascun firmatario',
    tags: ['Firme'],
    access: everyone,
    params: requestIdParams,
    responses: { 200: { description: 'Richiesta', schema: signatureRequestSchema } },
    handler: async ({ params }, _request, response) => {
      response.json(presentRequest(await findSignatureRequest(params.requestId)));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/signature-requests/:requestId/pdf',
    summary:
      'Il PDF da firmare (la versione corrente del documento), per il firmatario di turno; lo scaricamento è registrato',
    tags: ['Firme'],
    access: everyone,
    params: requestIdParams,
    responses: {
      200: {
        description: 'Il PDF',
        schema: z.string().openapi({ format: 'binary' }),
        contentType: 'application/pdf',
      },
      403: { description: 'Non è il turno del chiamante' },
    },
    handler: async ({ params, principal }, _request, response) => {
      const { version } = await downloadForSigning(params.requestId, principal, storage);
      sendBytes(response, version.bytes, version.file);
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/signature-requests/:requestId/sign',
    summary:
      'Il firmatario di turno firma (PAdES) con la chiave che Sigillo custodisce per lui (file PKCS#12 o token PKCS#11)',
    tags: ['Firme'],
    access: everyone,
    params: requestIdParams,
    responses: {
      200: { description: 'Firma apposta', schema: signatureRequestSchema },
      403: { description: 'Non è il turno del chiamante' },
      409: { description: 'Richiesta non aperta o firmatario che firma fuori dal sistema' },
      503: { description: 'Chiave non utilizzabile (PIN errato, token assente): nulla è salvato' },
    },
    handler: async ({ params, principal }, _request, response) => {
      response.json(presentRequest(await signWithKey(params.requestId, principal, context)));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/signature-requests/:requestId/upload',
    summary:
      'Il firmatario di turno carica il file firmato fuori dal sistema: PDF firmato (PAdES) o busta .p7m (CAdES); è verificato prima di essere accettato',
    tags: ['Firme'],
    access: everyone,
    params: requestIdParams,
    upload: {
      maxFileSize: uploadLimit,
      files: [{ name: 'file', required: true, description: 'Il PDF firmato o la busta .p7m' }],
    },
    responses: {
      200: { description: 'File accettato', schema: signatureRequestSchema },
      413: { description: 'File oltre il limite' },
      422: { description: 'File rifiutato: il motivo è in detail e reason' },
    },
    handler: async ({ params, files, principal }, _request, response) => {
      const file = files.file!;
      const updated = await uploadSigned(
        params.requestId,
        principal,
        { bytes: file.buffer, fileName: file.originalname },
        context,
      );
      response.json(presentRequest(updated));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/signature-requests/:requestId/cancel',
    summary: 'Annulla una richiesta aperta (le firme già apposte restano nelle versioni firmate)',
    tags: ['Firme'],
    access: requesters,
    params: requestIdParams,
    body: z.object({ reason: z.string().trim().min(3).max(500).optional() }).strict(),
    responses: { 200: { description: 'Annullata', schema: signatureRequestSchema } },
    handler: async ({ params, body, principal }, _request, response) => {
      response.json(
        presentRequest(await cancelSignatureRequest(params.requestId, principal, body.reason)),
      );
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/signature-requests/:requestId/reminders',
    summary: 'Registra un sollecito al firmatario di turno',
    tags: ['Firme'],
    access: requesters,
    params: requestIdParams,
    body: z.object({ note: z.string().trim().min(1).max(500).optional() }).strict(),
    responses: { 200: { description: 'Sollecito registrato', schema: signatureRequestSchema } },
    handler: async ({ params, body, principal }, _request, response) => {
      response.json(presentRequest(await remindSigner(params.requestId, principal, body.note)));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/signature-requests/:requestId/completion-certificate',
    summary:
      'Il certificato di completamento (PDF con la traccia di controllo, sigillato con il sigillo elettronico dell’ente)',
    tags: ['Firme'],
    access: everyone,
    params: requestIdParams,
    responses: {
      200: {
        description: 'Il certificato firmato',
        schema: z.string().openapi({ format: 'binary' }),
        contentType: 'application/pdf',
      },
      409: { description: 'Richiesta non ancora completata' },
    },
    handler: async ({ params, principal }, _request, response) => {
      const certificate = await completionCertificate(params.requestId, principal, context);
      response.setHeader('X-Document-Id', certificate.id);
      await sendStoredFile(response, storage, currentVersion(certificate).file);
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/documents/:documentId/signed',
    summary: "L'ultima versione firmata del documento (PDF PAdES o busta .p7m)",
    tags: ['Firme'],
    access: everyone,
    params: documentIdParams,
    query: z.object({ version: z.coerce.number().int().min(1).optional() }),
    responses: {
      200: { description: 'Il file firmato', schema: z.string().openapi({ format: 'binary' }) },
      404: { description: 'Documento non ancora firmato o versione inesistente' },
    },
    handler: async ({ params, query }, _request, response) => {
      const document = await findDocument(params.documentId);
      const version =
        query.version === undefined
          ? document.signedVersions[document.signedVersions.length - 1]
          : document.signedVersions.find((candidate) => candidate.number === query.version);
      if (!version) {
        throw HttpProblem.notFound(
          query.version === undefined
            ? 'Il documento non ha ancora versioni firmate'
            : `Versione firmata ${query.version} inesistente`,
        );
      }
      await sendStoredFile(response, storage, version.file);
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/documents/:documentId/signatures',
    summary:
      "Verifica le firme dell'ultima versione firmata: firmatario, codice fiscale, emittente, ora, marca temporale, integrità, copertura, validità del certificato, catena di fiducia, modifiche successive",
    tags: ['Firme'],
    access: everyone,
    params: documentIdParams,
    responses: {
      200: {
        description: 'Esito per firma',
        schema: z.object({
          documentId: z.string(),
          version: z.number().int(),
          sha256: z.string(),
          signatures: z.array(signatureReportSchema),
        }),
      },
    },
    handler: async ({ params, principal }, _request, response) => {
      const { document, version, signatures } = await verifyDocumentSignatures(
        params.documentId,
        principal,
        context,
      );
      response.json({
        documentId: document.id,
        version: version.number,
        sha256: version.file.sha256,
        signatures,
      });
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/documents/:documentId/audit-trail',
    summary: 'Traccia di controllo delle firme del documento: evento, autore, ora, impronte',
    tags: ['Firme'],
    access: everyone,
    params: documentIdParams,
    responses: {
      200: {
        description: 'Eventi dal più vecchio',
        schema: z.array(
          z.object({
            type: z.string(),
            actor: z.object({ name: z.string() }),
            at: z.string(),
            hashBefore: z.string().nullable(),
            hashAfter: z.string().nullable(),
            detail: z.string().nullable(),
          }),
        ),
      },
    },
    handler: async ({ params }, _request, response) => {
      const document = await findDocument(params.documentId);
      response.json((await auditTrail(document._id)).map((event) => event.toJSON()));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/signatures/verify',
    summary:
      'Verifica le firme di un file qualsiasi (PDF firmato o busta .p7m) con le autorità di fiducia configurate; nulla è conservato',
    tags: ['Firme'],
    access: everyone,
    upload: {
      maxFileSize: uploadLimit,
      files: [{ name: 'file', required: true, description: 'PDF firmato o busta .p7m' }],
    },
    responses: {
      200: {
        description: 'Esito per firma',
        schema: z.object({
          format: z.enum(['pdf', 'p7m']),
          signatures: z.array(signatureReportSchema),
        }),
      },
      422: { description: 'Né un PDF leggibile né una busta firmata' },
    },
    handler: async ({ files }, _request, response) => {
      response.json(await verifyAnyFile(files.file!.buffer, setup));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/signing-keys',
    summary:
      'Le chiavi di firma configurate per questa installazione e gli utenti a cui sono assegnate',
    tags: ['Firme'],
    access: ['admin'],
    responses: {
      200: {
        description: 'Chiavi',
        schema: z.array(
          z.object({
            id: z.string(),
            label: z.string(),
            backend: z.string(),
            holders: z.array(z.object({ userId: z.string(), name: z.string() })),
          }),
        ),
      },
    },
    handler: async (_input, _request, response) => {
      const holders = await SigningKeyHolder.find({});
      const users = await User.find({ _id: { $in: holders.map((holder) => holder.userId) } });
      response.json(
        setup.keyRing.describe().map((key) => ({
          ...key,
          holders: holders
            .filter((holder) => holder.keyId === key.id)
            .map((holder) => ({
              userId: holder.userId.toString(),
              name: users.find((user) => user._id.equals(holder.userId))?.name ?? '',
            })),
        })),
      );
    },
  });

  api.route({
    method: 'put',
    path: '/api/v1/signing-keys/:keyId/holders/:userId',
    summary:
      "Assegna la chiave a un utente dell'ente (una chiave per utente: sostituisce la precedente)",
    tags: ['Firme'],
    access: ['admin'],
    params: z.object({ keyId: z.string().min(1).max(100), userId: objectIdSchema }),
    responses: {
      200: { description: 'Assegnata' },
      404: { description: 'Chiave o utente inesistente' },
    },
    handler: async ({ params, principal }, _request, response) => {
      if (!setup.keyRing.ids().includes(params.keyId)) {
        throw HttpProblem.notFound(`Chiave di firma ${params.keyId} non configurata`);
      }
      const user = await User.findById(params.userId);
      if (!user) throw HttpProblem.notFound(`Utente ${params.userId} non trovato`);
      await SigningKeyHolder.findOneAndUpdate(
        { userId: user._id },
        {
          $set: {
            keyId: params.keyId,
            assignedBy: { userId: principal.userId, name: principal.name },
          },
        },
        { upsert: true },
      );
      response.json({ keyId: params.keyId, userId: user.id, name: user.name });
    },
  });

  api.route({
    method: 'delete',
    path: '/api/v1/signing-keys/:keyId/holders/:userId',
    summary: "Toglie la chiave all'utente",
    tags: ['Firme'],
    access: ['admin'],
    params: z.object({ keyId: z.string().min(1).max(100), userId: objectIdSchema }),
    responses: { 204: { description: 'Tolta' }, 404: { description: 'Assegnazione inesistente' } },
    handler: async ({ params }, _request, response) => {
      const removed = await SigningKeyHolder.findOneAndDelete({
        userId: params.userId,
        keyId: params.keyId,
      });
      if (!removed) throw HttpProblem.notFound('Assegnazione inesistente');
      response.status(204).end();
    },
  });
}
