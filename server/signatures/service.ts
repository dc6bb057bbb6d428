/**
 * Signature requests: ordered signers sign a document in turn, with a key
 * Sigillo holds for them or outside (uploading the signed file back). Each
 * signature appends an immutable signed version of the document; every event
 * goes into the document's audit trail.
 */
import { randomBytes } from 'node:crypto';
import mongoose, { type Types } from 'mongoose';
import { User } from '../access/model.js';
import { moveForward } from '../appointments/service.js';
import { Appointment } from '../appointments/model.js';
import { GeneratedDocument } from '../documents/model.js';
import { findDocument, generateDocument } from '../documents/service.js';
import type { ModelRenderer } from '../documents/render-pool.js';
import { Organisation, placeOf } from '../organisations/model.js';
import type { Principal } from '../platform/auth.js';
import { HttpProblem } from '../platform/http-problem.js';
import { sha256Hex, type ObjectStorage } from '../platform/storage.js';
import { todayInRome } from '../registers/service.js';
import { isDuplicateKey } from '../people/fields.js';
import type { KeyRing } from './keys/index.js';
import {
  SignatureEvent,
  SignatureRequest,
  SignedVersionClaim,
  SigningKeyHolder,
  type SignatureEventType,
} from './model.js';
import { certificateCommonName } from './cms.js';
import { PdfSigningError, signPdf } from './pades.js';
import { SignerUnavailableError } from './signer.js';
import { TimestampUnavailableError, type TimestampAuthority } from './tsa.js';
import {
  NotAPdfError,
  NotASignedEnvelopeError,
  UnreadablePdfError,
  verifyCadesEnvelope,
  verifyPdfSignatures,
  type SignatureReport,
} from './verify.js';

/** What signing needs from the deployment: keys, trust anchors, an optional TSA. */
export interface SigningSetup {
  keyRing: KeyRing;
  trustAnchors: Uint8Array[];
  timestampAuthority?: TimestampAuthority;
  sealKeyId: string;
  uploadLimitBytes: number;
}

export interface SigningContext {
  setup: SigningSetup;
  storage: ObjectStorage;
  render: ModelRenderer;
}

type Actor = Pick<Principal, 'userId' | 'name'>;
type DocumentRecord = Awaited<ReturnType<typeof findDocument>>;
type RequestRecord = Awaited<ReturnType<typeof findSignatureRequest>>;

const actorOf = (actor: Actor) => ({ userId: actor.userId, name: actor.name });

export const eventLabels: Record<SignatureEventType, string> = {
  requested: 'richiesta di firma',
  viewed: 'documento scaricato per la firma',
  signed: 'firma apposta dal sistema',
  uploaded: 'file firmato caricato',
  verified: 'verifica delle firme',
  refused: 'file firmato rifiutato',
  completed: 'procedimento completato',
  cancelled: 'richiesta annullata',
  reminded: 'sollecito',
};

export async function recordEvent(input: {
  documentId: Types.ObjectId;
  signatureRequestId?: Types.ObjectId | null;
  type: SignatureEventType;
  actor: Actor | { userId: null; name: string };
  hashBefore?: string | null;
  hashAfter?: string | null;
  detail?: string | null;
}) {
  await SignatureEvent.create({
    documentId: input.documentId,
    signatureRequestId: input.signatureRequestId ?? null,
    type: input.type,
    actor: { userId: input.actor.userId, name: input.actor.name },
    at: new Date(),
    hashBefore: input.hashBefore ?? null,
    hashAfter: input.hashAfter ?? null,
    detail: input.detail ?? null,
  });
}

export async function auditTrail(documentId: Types.ObjectId | string) {
  return SignatureEvent.find({ documentId }).sort({ at: 1, _id: 1 });
}

/** The PDF (or .p7m) that currently stands for the document: its last signed version, or the original. */
export function currentVersion(document: DocumentRecord) {
  const last = document.signedVersions[document.signedVersions.length - 1];
  if (last) return { number: last.number, file: last.file, format: last.format };
  return { number: 0, file: document.pdf, format: 'pdf' as const };
}

export async function readCurrentVersion(document: DocumentRecord, storage: ObjectStorage) {
  const version = currentVersion(document);
  const { body } = await storage.get(version.file.key, {
    expectedSha256: version.file.sha256,
    ...(version.file.versionId ? { versionId: version.file.versionId } : {}),
  });
  return { ...version, bytes: body };
}

/* ============================== Requests =============================== */

export interface RequestedSigner {
  userId: string;
  mode: 'key' | 'outside';
  fieldName?: string | undefined;
  role?: string | undefined;
}

function invalid(name: string, reason: string): HttpProblem {
  return new HttpProblem(422, 'Richiesta di firma non valida', `${name}: ${reason}`, {
    invalidParams: [{ name, reason }],
  });
}

function signedFieldNames(requests: RequestRecord[]): Set<string> {
  const names = new Set<string>();
  for (const request of requests) {
    if (request.status === 'cancelled') continue;
    for (const signer of request.signers)
      if (signer.status === 'signed') names.add(signer.fieldName);
  }
  return names;
}

export async function createSignatureRequest(
  input: { documentId: string; signers: RequestedSigner[]; dueDate?: string | undefined },
  principal: Principal,
) {
  const document = await findDocument(input.documentId);
  const earlier = await SignatureRequest.find({ documentId: document._id });
  const open = earlier.find((request) => request.status === 'open');
  if (open) {
    throw HttpProblem.conflict(
      `Il documento ha già una richiesta di firma aperta (${open.id}): completarla o annullarla prima`,
      { signatureRequestId: open.id },
    );
  }
  if (currentVersion(document).format === 'cades') {
    throw HttpProblem.conflict(
      'Il documento è già firmato in una busta .p7m: altre firme si aggiungono fuori dal sistema alla stessa busta',
    );
  }
  const areas = document.signatureAreas;
  if (areas.length === 0) {
    throw invalid('documentId', 'il modello del documento non prevede spazi per la firma');
  }
  if (input.dueDate && input.dueDate < todayInRome()) {
    throw invalid('dueDate', 'la scadenza non può essere nel passato');
  }
  const alreadySigned = signedFieldNames(earlier);
  const usedFields = new Set<string>();
  const users = await User.find({ _id: { $in: input.signers.map((signer) => signer.userId) } });
  const holders = await SigningKeyHolder.find({
    userId: { $in: input.signers.map((signer) => signer.userId) },
  });
  const signers = input.signers.map((requested, index) => {
    const at = `signers.${index}`;
    const user = users.find((candidate) => candidate.id === requested.userId);
    if (!user || !user.active) throw invalid(`${at}.userId`, 'utente inesistente o disattivato');
    const fieldName =
      requested.fieldName ?? areas.find((area) => !usedFields.has(area.id ?? ''))?.id;
    const area = areas.find((candidate) => candidate.id === fieldName);
    if (!fieldName || !area) {
      throw invalid(
        `${at}.fieldName`,
        `spazio di firma inesistente; il documento prevede: ${areas.map((a) => a.id).join(', ')}`,
      );
    }
    if (usedFields.has(fieldName)) throw invalid(`${at}.fieldName`, 'spazio già assegnato');
    if (alreadySigned.has(fieldName)) throw invalid(`${at}.fieldName`, 'spazio già firmato');
    usedFields.add(fieldName);
    let keyId: string | null = null;
    if (requested.mode === 'key') {
      const holder = holders.find((candidate) => candidate.userId.equals(user._id));
      if (!holder) {
        throw invalid(
          `${at}.mode`,
          `${user.name} non ha una chiave di firma assegnata: firma fuori dal sistema (outside) o chiedere all'amministratore di assegnarla`,
        );
      }
      keyId = holder.keyId;
    }
    return {
      order: index + 1,
      userId: user._id,
      name: user.name,
      role: requested.role ?? (area.role || 'Firma'),
      mode: requested.mode,
      keyId,
      fieldName,
      status: index === 0 ? ('current' as const) : ('waiting' as const),
      signedAt: null,
      versionNumber: null,
    };
  });
  const request = await SignatureRequest.create({
    documentId: document._id,
    documentTitle: document.title,
    status: 'open',
    dueDate: input.dueDate ?? null,
    signers,
    requestedBy: actorOf(principal),
    turn: 1,
  });
  await recordEvent({
    documentId: document._id,
    signatureRequestId: request._id,
    type: 'requested',
    actor: principal,
    hashBefore: currentVersion(document).file.sha256,
    detail: `${signers.length} firmatari: ${signers.map((s) => `${s.order}. ${s.name} (${s.role})`).join('; ')}${input.dueDate ? `; scadenza ${input.dueDate}` : ''}`,
  });
  return request;
}

export async function findSignatureRequest(requestId: string) {
  const request = await SignatureRequest.findById(requestId);
  if (!request) throw HttpProblem.notFound(`Richiesta di firma ${requestId} non trovata`);
  return request;
}

function currentSigner(request: RequestRecord) {
  return request.signers.find((signer) => signer.status === 'current');
}

/** The caller must be the signer whose turn it is. */
function requireTurn(request: RequestRecord, principal: Principal) {
  if (request.status !== 'open') {
    throw HttpProblem.conflict(`La richiesta di firma è ${statusLabel(request.status)}`, {
      currentState: request.status,
    });
  }
  const signer = currentSigner(request);
  if (!signer) throw new Error(`open request ${request.id} without a current signer`);
  if (!signer.userId.equals(principal.userId)) {
    throw HttpProblem.forbidden(
      `Non è il turno del chiamante: deve firmare ora ${signer.name} (firmatario n. ${signer.order})`,
    );
  }
  return signer;
}

function statusLabel(status: string): string {
  return status === 'completed' ? 'già completata' : status === 'cancelled' ? 'annullata' : status;
}

/** The PDF the current signer signs, downloaded by them (recorded as viewed). */
export async function downloadForSigning(
  requestId: string,
  principal: Principal,
  storage: ObjectStorage,
) {
  const request = await findSignatureRequest(requestId);
  requireTurn(request, principal);
  const document = await findDocument(request.documentId.toString());
  const version = await readCurrentVersion(document, storage);
  await recordEvent({
    documentId: document._id,
    signatureRequestId: request._id,
    type: 'viewed',
    actor: principal,
    hashBefore: version.file.sha256,
  });
  return { document, version };
}

/**
 * Appends a signed version: written only if no other version was appended
 * since `expectedCount` was read, so two racing signers cannot both land.
 */
async function appendVersion(
  document: DocumentRecord,
  expectedCount: number,
  bytes: Uint8Array,
  details: {
    format: 'pades' | 'cades';
    source: 'sigillo' | 'upload';
    requestId: Types.ObjectId;
    signerOrder: number;
    signer: Actor;
  },
  storage: ObjectStorage,
) {
  const number = expectedCount + 1;
  const folder = document.pdf.key.replace(/\/[^/]+$/, '');
  const extension = details.format === 'cades' ? 'pdf.p7m' : 'pdf';
  const contentType = details.format === 'cades' ? 'application/pkcs7-mime' : 'application/pdf';
  // A unique key per attempt: a losing racer deletes only its own object.
  const key = `${folder}/firmato-${number}-${randomBytes(4).toString('hex')}.${extension}`;
  const stored = await storage.put(key, bytes, contentType);
  const baseName = document.pdf.fileName.replace(/\.pdf$/i, '');
  const version = {
    number,
    file: {
      key: stored.key,
      sha256: stored.sha256,
      size: stored.size,
      contentType,
      versionId: stored.versionId ?? null,
      fileName: `${baseName} (firmato ${number}).${extension}`,
    },
    format: details.format,
    source: details.source,
    signatureRequestId: details.requestId,
    signerOrder: details.signerOrder,
    signer: actorOf(details.signer),
    createdAt: new Date(),
  };
  try {
    await SignedVersionClaim.create({
      _id: `${document.id}:${number}`,
      documentId: document._id,
      version: JSON.stringify(version),
    });
  } catch (error) {
    await storage.delete(stored.key, stored.versionId).catch(() => undefined);
    if (!isDuplicateKey(error)) throw error;
    await completeClaimedVersion(document._id, number);
    throw HttpProblem.conflict(
      'Il documento è stato firmato da un altro processo nel frattempo: ricaricare e riprovare',
    );
  }
  const updated = await pushVersion(document._id, version);
  return { document: updated, number, sha256: stored.sha256 };
}

type SignedVersion = DocumentRecord['signedVersions'][number];

async function pushVersion(documentId: Types.ObjectId, version: object) {
  const number = (version as { number: number }).number;
  const updated = await GeneratedDocument.findOneAndUpdate(
    { _id: documentId, signedVersionCount: number - 1 },
    { $inc: { signedVersionCount: 1 }, $push: { signedVersions: version } },
    { returnDocument: 'after' },
  );
  if (!updated) throw new Error(`document ${documentId.toString()} lost signed version ${number}`);
  return updated;
}

/** A claimed version the document lacks (its writer died in between) is written now. */
async function completeClaimedVersion(documentId: Types.ObjectId, number: number) {
  const claim = await SignedVersionClaim.findById(`${documentId.toString()}:${number}`);
  const document = await GeneratedDocument.findById(documentId);
  if (!claim || !document || document.signedVersionCount >= number) return;
  const version = JSON.parse(claim.version) as SignedVersion & { createdAt: string };
  await pushVersion(documentId, { ...version, createdAt: new Date(version.createdAt) });
}

/**
 * The signer's version already exists (an earlier attempt stored it and died
 * before moving the request on): move it on now instead of signing again.
 */
function versionAlreadyMade(document: DocumentRecord, request: RequestRecord, order: number) {
  const last = document.signedVersions[document.signedVersions.length - 1];
  return last?.signatureRequestId?.equals(request._id) && last.signerOrder === order
    ? last
    : undefined;
}

/** Moves the request past `order`; completes it after the last signer. */
async function advance(request: RequestRecord, order: number, versionNumber: number, actor: Actor) {
  const signedAt = new Date();
  const signers = request.signers.map((signer) => {
    const plain = signer.toObject();
    if (signer.order === order) return { ...plain, status: 'signed', signedAt, versionNumber };
    if (signer.order === order + 1) return { ...plain, status: 'current' };
    return plain;
  });
  const completed = signers.every((signer) => signer.status === 'signed');
  // `turn` is the order of the signer whose turn it is: only one step can move it.
  const updated = await SignatureRequest.findOneAndUpdate(
    { _id: request._id, status: 'open', turn: order },
    {
      $set: {
        signers,
        turn: completed ? 0 : order + 1,
        ...(completed ? { status: 'completed', completedAt: signedAt } : {}),
      },
    },
    { returnDocument: 'after' },
  );
  if (!updated)
    throw HttpProblem.conflict('La richiesta di firma è cambiata nel frattempo: riprovare');
  await followAppointment(
    request.documentId,
    order,
    completed,
    request.signers.length,
    actor,
    request.organisationId,
  );
  if (completed) {
    await recordEvent({
      documentId: request.documentId,
      signatureRequestId: request._id,
      type: 'completed',
      actor,
      detail: `tutte le ${signers.length} firme apposte`,
    });
  }
  return updated;
}

/**
 * An act's appointment follows its signatures: the first (the authority's)
 * makes it signed, the last of several (the appointee's acceptance) accepted.
 */
async function followAppointment(
  documentId: Types.ObjectId,
  order: number,
  completed: boolean,
  signerCount: number,
  actor: Actor,
  organisationId: Types.ObjectId,
) {
  const appointment = await Appointment.findOne({ 'acts.documentId': documentId });
  if (!appointment) return;
  const act = appointment.acts.find((candidate) => candidate.documentId?.equals(documentId));
  if (act?.kind !== 'nomina') return;
  const by = { organisationId, userId: actor.userId, name: actor.name };
  if (order === 1 && appointment.status === 'issued') {
    await moveForward(appointment.id, 'signed', by, 'firma digitale apposta sul documento').catch(
      () => undefined,
    );
  }
  if (completed && signerCount > 1) {
    await moveForward(appointment.id, 'accepted', by, 'firma per accettazione apposta').catch(
      () => undefined,
    );
  }
}

function signerProblem(error: unknown): never {
  if (error instanceof PdfSigningError) {
    throw HttpProblem.conflict(`Il PDF non può essere firmato: ${error.message}`, {
      reason: error.reason,
    });
  }
  if (error instanceof TimestampUnavailableError) {
    throw HttpProblem.unavailable(`Marca temporale non ottenuta: ${error.message}`, {
      reason: error.reason,
    });
  }
  if (error instanceof SignerUnavailableError) {
    throw HttpProblem.unavailable(`Chiave di firma non utilizzabile: ${error.message}`, {
      reason: error.reason,
    });
  }
  throw error;
}

/**
 * Signs one field of `pdf` with a configured key, its appearance on the place
 * the template laid the field out; key, PDF and time-stamp failures become
 * problems (nothing is stored by then).
 */
async function signField(
  pdf: Uint8Array,
  input: {
    keyId: string;
    fieldName: string;
    areas: DocumentRecord['signatureAreas'];
    role: string;
    fallbackName: string;
    reason: string;
    location: string;
    setup: SigningSetup;
  },
): Promise<Uint8Array> {
  try {
    const key = await input.setup.keyRing.signer(input.keyId);
    // The appearance names whom the certificate names: that is who signs in law.
    const [certificate] = await key.certificates();
    const name = (certificate && certificateCommonName(certificate)) ?? input.fallbackName;
    const area = input.areas.find((candidate) => candidate.id === input.fieldName);
    return await signPdf(pdf, {
      signer: key,
      fieldName: input.fieldName,
      signingTime: new Date(),
      reason: input.reason.slice(0, 500),
      location: input.location,
      ...(area
        ? {
            appearance: {
              page: area.page ?? 0,
              x: area.x ?? 0,
              y: area.y ?? 0,
              width: area.width ?? 0,
              height: area.height ?? 0,
              name,
              role: input.role,
            },
          }
        : {}),
      ...(input.setup.timestampAuthority
        ? { timestampAuthority: input.setup.timestampAuthority }
        : {}),
    });
  } catch (error) {
    signerProblem(error);
  }
}

/** Signs the current signer's field with the key held for them. */
export async function signWithKey(
  requestId: string,
  principal: Principal,
  context: SigningContext,
) {
  const request = await findSignatureRequest(requestId);
  const signer = requireTurn(request, principal);
  if (signer.mode !== 'key' || !signer.keyId) {
    throw HttpProblem.conflict(
      'Questo firmatario firma fuori dal sistema: scaricare il PDF e caricare il file firmato',
    );
  }
  const document = await findDocument(request.documentId.toString());
  const made = versionAlreadyMade(document, request, signer.order);
  if (made) return advance(request, signer.order, made.number, principal);
  const base = await readCurrentVersion(document, context.storage);
  const signed = await signField(base.bytes, {
    keyId: signer.keyId,
    fieldName: signer.fieldName,
    areas: document.signatureAreas,
    role: signer.role,
    fallbackName: signer.name,
    reason: `${signer.role} – ${document.title}`,
    location: await placeOfEnte(document.organisationId),
    setup: context.setup,
  });
  const appended = await appendVersion(
    document,
    base.number,
    signed,
    {
      format: 'pades',
      source: 'sigillo',
      requestId: request._id,
      signerOrder: signer.order,
      signer: principal,
    },
    context.storage,
  );
  await recordEvent({
    documentId: document._id,
    signatureRequestId: request._id,
    type: 'signed',
    actor: principal,
    hashBefore: base.file.sha256,
    hashAfter: appended.sha256,
    detail: `firma n. ${signer.order} (${signer.role}) nel campo ${signer.fieldName} con la chiave ${signer.keyId}`,
  });
  return advance(request, signer.order, appended.number, principal);
}

async function placeOfEnte(organisationId: Types.ObjectId): Promise<string> {
  const organisation = await Organisation.findById(organisationId);
  return organisation ? placeOf(organisation) : '';
}

/* ======================= Signed outside, uploaded ======================= */

export type RefusalReason =
  | 'not-signed-file'
  | 'unreadable'
  | 'unsigned'
  | 'wrong-document'
  | 'broken'
  | 'partial-coverage'
  | 'modified-after'
  | 'unknown-certificate'
  | 'expired-certificate'
  | 'no-new-signature';

class Refusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

function firstProblem(report: SignatureReport): Refusal | undefined {
  const who = report.signer.commonName ?? report.signer.subject;
  if (!report.intact) {
    return new Refusal(
      'broken',
      `la firma di ${who} non è integra: il file è stato alterato dopo la firma`,
    );
  }
  if (!report.coversRevision) {
    return new Refusal('partial-coverage', `la firma di ${who} non copre il documento firmato`);
  }
  if (report.modificationsAfter === 'other') {
    return new Refusal(
      'modified-after',
      `dopo la firma di ${who} il documento è stato modificato (non solo con altre firme)`,
    );
  }
  // An expired certificate no longer chains either: name the expiry, the plainer cause.
  if (!report.certificateValidAtSigningTime) {
    return new Refusal(
      'expired-certificate',
      `il certificato di ${who} non era valido (scaduto o non ancora valido) al momento della firma`,
    );
  }
  if (!report.trusted) {
    return new Refusal(
      'unknown-certificate',
      `il certificato di ${who} (emesso da ${report.issuer}) non è rilasciato da un'autorità di certificazione riconosciuta`,
    );
  }
  return undefined;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  return Buffer.from(bytes.buffer, bytes.byteOffset, prefix.length).equals(prefix);
}

const pdfMagic = Buffer.from('%PDF-', 'latin1');

/** Checks an uploaded signed file against the version Sigillo issued; returns the new signatures. */
async function checkUpload(
  bytes: Uint8Array,
  base: { bytes: Uint8Array; format: string },
  setup: SigningSetup,
  /** SHA-256 of the document's DOCX: a first envelope may wrap it instead of the PDF. */
  docxSha256: string,
): Promise<{ format: 'pades' | 'cades'; newSignatures: SignatureReport[] }> {
  const options = { trustAnchors: setup.trustAnchors };
  if (startsWith(bytes, pdfMagic)) {
    if (base.format === 'cades') {
      throw new Refusal(
        'wrong-document',
        'il documento è firmato in una busta .p7m: caricare la busta con la firma aggiunta',
      );
    }
    const tail = Buffer.from(bytes.subarray(Math.max(0, bytes.length - 1024))).toString('latin1');
    if (!tail.includes('%%EOF')) {
      throw new Refusal('unreadable', 'il PDF è troncato: manca la marca di fine file %%EOF');
    }
    let reports: SignatureReport[];
    try {
      reports = await verifyPdfSignatures(bytes, options);
    } catch (error) {
      if (error instanceof UnreadablePdfError || error instanceof NotAPdfError) {
        throw new Refusal('unreadable', `il PDF è troncato o illeggibile (${error.message})`);
      }
      throw error;
    }
    if (reports.length === 0) {
      throw new Refusal('unsigned', 'il PDF caricato non contiene alcuna firma digitale');
    }
    // A broken signature says more than "another document": the bytes were altered.
    const broken = reports.map(firstProblem).find((problem) => problem?.reason === 'broken');
    if (broken) throw broken;
    if (!startsWith(bytes, base.bytes)) {
      throw new Refusal(
        'wrong-document',
        'il file firmato non è la versione del documento emessa da Sigillo: le firme vanno apposte sul PDF scaricato, senza modificarlo',
      );
    }
    const earlier = (await verifyPdfSignatures(base.bytes, options)).length;
    const added = reports.slice(earlier);
    if (added.length === 0) {
      throw new Refusal(
        'no-new-signature',
        'il file non contiene firme nuove rispetto a quello scaricato',
      );
    }
    for (const report of reports) {
      const problem = firstProblem(report);
      if (problem) throw problem;
    }
    const last = reports[reports.length - 1]!;
    if (!last.coversWholeDocument) {
      throw new Refusal(
        'modified-after',
        "l'ultima firma non copre l'intero file: il file è stato modificato dopo la firma",
      );
    }
    return { format: 'pades', newSignatures: added };
  }
  let envelope: Awaited<ReturnType<typeof verifyCadesEnvelope>>;
  try {
    envelope = await verifyCadesEnvelope(bytes, options);
  } catch (error) {
    if (error instanceof NotASignedEnvelopeError) {
      throw new Refusal(
        'not-signed-file',
        'il file non è un PDF né una busta firmata .p7m (CAdES): caricare il documento firmato',
      );
    }
    throw error;
  }
  let previousSignatures = 0;
  const expectedContents = [sha256Hex(base.bytes)];
  if (base.format === 'cades') {
    const previous = await verifyCadesEnvelope(base.bytes, options);
    previousSignatures = previous.signatures.length;
    expectedContents.splice(0, 1, sha256Hex(previous.content));
  } else if (base.format === 'pdf') {
    expectedContents.push(docxSha256);
  }
  if (!expectedContents.includes(sha256Hex(envelope.content))) {
    throw new Refusal(
      'wrong-document',
      'la busta .p7m contiene un documento diverso dalla versione (PDF o DOCX) emessa da Sigillo',
    );
  }
  if (envelope.signatures.length <= previousSignatures) {
    throw new Refusal(
      envelope.signatures.length === 0 ? 'unsigned' : 'no-new-signature',
      'la busta non contiene firme nuove',
    );
  }
  for (const report of envelope.signatures) {
    const problem = firstProblem(report);
    if (problem) throw problem;
  }
  return { format: 'cades', newSignatures: envelope.signatures.slice(previousSignatures) };
}

export async function uploadSigned(
  requestId: string,
  principal: Principal,
  upload: { bytes: Uint8Array; fileName: string },
  context: SigningContext,
) {
  const request = await findSignatureRequest(requestId);
  const signer = requireTurn(request, principal);
  const document = await findDocument(request.documentId.toString());
  const made = versionAlreadyMade(document, request, signer.order);
  if (made) return advance(request, signer.order, made.number, principal);
  const base = await readCurrentVersion(document, context.storage);
  const uploadedHash = sha256Hex(upload.bytes);
  let checked: Awaited<ReturnType<typeof checkUpload>>;
  try {
    checked = await checkUpload(upload.bytes, base, context.setup, document.docx.sha256);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    await recordEvent({
      documentId: document._id,
      signatureRequestId: request._id,
      type: 'refused',
      actor: principal,
      hashBefore: base.file.sha256,
      detail: `${upload.fileName} (SHA-256 ${uploadedHash}): ${error.message}`,
    });
    throw new HttpProblem(422, 'File firmato rifiutato', `File rifiutato: ${error.message}`, {
      reason: error.reason,
      invalidParams: [{ name: 'files.file', reason: error.message }],
    });
  }
  const appended = await appendVersion(
    document,
    base.number,
    upload.bytes,
    {
      format: checked.format,
      source: 'upload',
      requestId: request._id,
      signerOrder: signer.order,
      signer: principal,
    },
    context.storage,
  );
  const names = checked.newSignatures
    .map((report) => report.signer.commonName ?? report.signer.subject)
    .join(', ');
  await recordEvent({
    documentId: document._id,
    signatureRequestId: request._id,
    type: 'uploaded',
    actor: principal,
    hashBefore: base.file.sha256,
    hashAfter: appended.sha256,
    detail: `${upload.fileName}: ${checked.format === 'pades' ? 'PDF firmato (PAdES)' : 'busta CAdES .p7m'} con la firma di ${names}, verificata`,
  });
  return advance(request, signer.order, appended.number, principal);
}

export async function cancelSignatureRequest(
  requestId: string,
  principal: Principal,
  reason?: string,
) {
  const request = await findSignatureRequest(requestId);
  const cancelled = await SignatureRequest.findOneAndUpdate(
    { _id: request._id, status: 'open' },
    { $set: { status: 'cancelled', cancelledAt: new Date() } },
    { returnDocument: 'after' },
  );
  if (!cancelled) {
    throw HttpProblem.conflict(`La richiesta di firma è ${statusLabel(request.status)}`, {
      currentState: request.status,
    });
  }
  await recordEvent({
    documentId: request.documentId,
    signatureRequestId: request._id,
    type: 'cancelled',
    actor: principal,
    detail: reason ?? null,
  });
  return cancelled;
}

/** Records a reminder sent to the signer whose turn it is. */
export async function remindSigner(requestId: string, principal: Principal, note?: string) {
  const request = await findSignatureRequest(requestId);
  const signer = request.status === 'open' ? currentSigner(request) : undefined;
  if (!signer) {
    throw HttpProblem.conflict(`La richiesta di firma è ${statusLabel(request.status)}`, {
      currentState: request.status,
    });
  }
  const reminder = {
    at: new Date(),
    to: { userId: signer.userId, name: signer.name },
    by: actorOf(principal),
    note: note ?? null,
  };
  const updated = await SignatureRequest.findOneAndUpdate(
    { _id: request._id, status: 'open' },
    { $push: { reminders: reminder } },
    { returnDocument: 'after' },
  );
  await recordEvent({
    documentId: request.documentId,
    signatureRequestId: request._id,
    type: 'reminded',
    actor: principal,
    detail: `sollecito a ${signer.name}${note ? `: ${note}` : ''}`,
  });
  return updated ?? request;
}

/* ============================ Verification ============================ */

export async function verifyDocumentSignatures(
  documentId: string,
  principal: Principal,
  context: SigningContext,
) {
  const document = await findDocument(documentId);
  const version = await readCurrentVersion(document, context.storage);
  const options = { trustAnchors: context.setup.trustAnchors };
  const signatures =
    version.format === 'cades'
      ? (await verifyCadesEnvelope(version.bytes, options)).signatures
      : version.format === 'pades'
        ? await verifyPdfSignatures(version.bytes, options)
        : [];
  await recordEvent({
    documentId: document._id,
    type: 'verified',
    actor: principal,
    hashBefore: version.file.sha256,
    detail: `${signatures.length} firme, ${signatures.filter((s) => s.valid).length} valide`,
  });
  return { document, version, signatures };
}

export async function verifyAnyFile(bytes: Uint8Array, setup: SigningSetup) {
  const options = { trustAnchors: setup.trustAnchors };
  try {
    if (startsWith(bytes, pdfMagic)) {
      return { format: 'pdf' as const, signatures: await verifyPdfSignatures(bytes, options) };
    }
    const envelope = await verifyCadesEnvelope(bytes, options);
    return {
      format: 'p7m' as const,
      signatures: envelope.signatures,
      content: { sha256: sha256Hex(envelope.content), size: envelope.content.length },
    };
  } catch (error) {
    if (
      error instanceof UnreadablePdfError ||
      error instanceof NotAPdfError ||
      error instanceof NotASignedEnvelopeError
    ) {
      throw new HttpProblem(422, 'File non verificabile', error.message, {
        invalidParams: [{ name: 'files.file', reason: error.message }],
      });
    }
    throw error;
  }
}

/* ====================== Certificate of completion ====================== */

/**
 * The sealed summary of a completed request: made once from the audit trail
 * through the ordinary document pipeline, then signed with the ente's seal.
 */
export async function completionCertificate(
  requestId: string,
  principal: Principal,
  context: SigningContext,
) {
  const request = await findSignatureRequest(requestId);
  if (request.completionCertificateId)
    return findDocument(request.completionCertificateId.toString());
  if (request.status !== 'completed') {
    throw HttpProblem.conflict(
      'Il certificato di completamento è disponibile quando tutte le firme sono state apposte',
      { currentState: request.status },
    );
  }
  const document = await findDocument(request.documentId.toString());
  const organisation = await Organisation.findById(document.organisationId);
  const events = await auditTrail(document._id);
  const final = currentVersion(document);
  const registration = document.registration;
  const completedAt = request.completedAt ?? new Date();
  const certificate = await generateDocument({
    templateKey: 'certificato-completamento',
    data: {
      dataCertificato: todayInRome(),
      completatoIl: completedAt.toISOString(),
      luogo: organisation ? placeOf(organisation) : 'Sede dell’ente',
      documento: {
        id: document.id,
        titolo: document.title,
        ...(registration
          ? {
              numero: `registro ${registration.registerKey} n. ${registration.number}/${registration.year}`,
            }
          : {}),
        modello: `${document.template?.key ?? document.documentType} v${document.template?.version ?? 1}`,
        sha256Originale: document.pdf.sha256,
        sha256Firmato: final.file.sha256,
      },
      firmatari: request.signers.map((signer) => ({
        ordine: signer.order,
        nome: signer.name,
        ruolo: signer.role,
        modalita: signer.mode,
        firmatoIl: (signer.signedAt ?? completedAt).toISOString(),
      })),
      eventi: events.map((event) => ({
        data: event.at.toISOString(),
        evento: eventLabels[event.type],
        autore: event.actor.name,
        ...(event.detail ? { dettaglio: event.detail.slice(0, 2000) } : {}),
        ...(event.hashBefore ? { hashPrima: event.hashBefore } : {}),
        ...(event.hashAfter ? { hashDopo: event.hashAfter } : {}),
      })),
    },
    principal,
    storage: context.storage,
    render: context.render,
    documentId: new mongoose.Types.ObjectId(),
    documentIsNew: true,
  });
  const { body } = await context.storage.get(certificate.pdf.key, {
    expectedSha256: certificate.pdf.sha256,
  });
  const sealed = await signField(body, {
    keyId: context.setup.sealKeyId,
    fieldName: 'sigillo',
    areas: certificate.signatureAreas,
    role: 'Sigillo elettronico',
    fallbackName: organisation?.name ?? 'Ente',
    reason: 'Certificato di completamento del procedimento di firma',
    location: organisation ? placeOf(organisation) : '',
    setup: context.setup,
  });
  await appendVersion(
    certificate,
    0,
    sealed,
    {
      format: 'pades',
      source: 'sigillo',
      requestId: request._id,
      signerOrder: 0,
      signer: { userId: principal.userId, name: 'Sigillo elettronico dell’ente' },
    },
    context.storage,
  );
  const linked = await SignatureRequest.findOneAndUpdate(
    { _id: request._id, completionCertificateId: null },
    { $set: { completionCertificateId: certificate._id } },
    { returnDocument: 'after' },
  );
  const certificateId = linked?.completionCertificateId ?? certificate._id;
  return findDocument(certificateId.toString());
}
