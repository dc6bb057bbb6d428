import mongoose, { type InferSchemaType } from 'mongoose';
import { jsonView } from '../platform/json-view.js';
import { tenantOwnership, tenantScoped } from '../platform/tenancy.js';

export const signerStatuses = ['waiting', 'current', 'signed'] as const;
export const requestStatuses = ['open', 'completed', 'cancelled'] as const;

const actorSchema = new mongoose.Schema(
  {
    userId: { type: mongoose.Schema.Types.ObjectId, ref: 'User', default: null },
    name: { type: String, required: true },
  },
  { _id: false },
);

const requestedSignerSchema = new mongoose.Schema(
  {
    order: { type: Number, required: true },
    userId: { type: mongoose.Schema.Types.ObjectId, ref: 'User', required: true },
    name: { type: String, required: true },
    /** Shown in the signature's appearance, e.g. "Il Sindaco". */
    role: { type: String, required: true },
    /** `key`: Sigillo signs with the key held for the user; `outside`: the user uploads a signed file. */
    mode: { type: String, enum: ['key', 'outside'], required: true },
    keyId: { type: String, default: null },
    /** The PDF signature field, one of the template's signature areas. */
    fieldName: { type: String, required: true },
    status: { type: String, enum: signerStatuses, required: true },
    signedAt: { type: Date, default: null },
    /** The document's signed version this signer produced. */
    versionNumber: { type: Number, default: null },
  },
  { _id: false },
);

const reminderSchema = new mongoose.Schema(
  {
    at: { type: Date, required: true },
    to: actorSchema,
    by: actorSchema,
    note: { type: String, default: null },
  },
  { _id: false },
);

/** Ordered signers of one document; each signs in turn, the last one completes it. */
const signatureRequestSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    documentId: { type: mongoose.Schema.Types.ObjectId, ref: 'GeneratedDocument', required: true },
    documentTitle: { type: String, required: true },
    status: { type: String, enum: requestStatuses, required: true },
    dueDate: { type: String, default: null },
    signers: { type: [requestedSignerSchema], required: true },
    /** The order of the signer whose turn it is; 0 once no one is left. */
    turn: { type: Number, required: true },
    reminders: { type: [reminderSchema], default: [] },
    requestedBy: { type: actorSchema, required: true },
    completedAt: { type: Date, default: null },
    cancelledAt: { type: Date, default: null },
    /** The sealed certificate of completion, once made. */
    completionCertificateId: {
      type: mongoose.Schema.Types.ObjectId,
      ref: 'GeneratedDocument',
      default: null,
    },
  },
  { timestamps: true, minimize: false, toJSON: jsonView() },
);
signatureRequestSchema.plugin(tenantScoped);
signatureRequestSchema.index({ organisationId: 1, documentId: 1 });
signatureRequestSchema.index({ organisationId: 1, status: 1 });

export type SignatureRequestRecord = InferSchemaType<typeof signatureRequestSchema>;
export const SignatureRequest = mongoose.model('SignatureRequest', signatureRequestSchema);

export const signatureEventTypes = [
  'requested',
  'viewed',
  'signed',
  'uploaded',
  'verified',
  'refused',
  'completed',
  'cancelled',
  'reminded',
] as const;
export type SignatureEventType = (typeof signatureEventTypes)[number];

/** The document's audit trail of signature events: appended, never changed. */
const signatureEventSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    documentId: { type: mongoose.Schema.Types.ObjectId, ref: 'GeneratedDocument', required: true },
    signatureRequestId: { type: mongoose.Schema.Types.ObjectId, default: null },
    type: { type: String, enum: signatureEventTypes, required: true },
    actor: { type: actorSchema, required: true },
    at: { type: Date, required: true },
    /** SHA-256 of the document's current PDF before and after the event. */
    hashBefore: { type: String, default: null },
    hashAfter: { type: String, default: null },
    detail: { type: String, default: null },
  },
  { minimize: false, toJSON: jsonView() },
);
signatureEventSchema.plugin(tenantScoped);
signatureEventSchema.index({ organisationId: 1, documentId: 1, at: 1 });

export type SignatureEventRecord = InferSchemaType<typeof signatureEventSchema>;
export const SignatureEvent = mongoose.model('SignatureEvent', signatureEventSchema);

/**
 * Which user may sign with which configured key. Only an administrator assigns
 * keys, so whoever prepares a request cannot make a user sign with another's key.
 */
const signingKeyHolderSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    keyId: { type: String, required: true },
    userId: { type: mongoose.Schema.Types.ObjectId, ref: 'User', required: true },
    assignedBy: { type: actorSchema, required: true },
  },
  { timestamps: true, toJSON: jsonView() },
);
signingKeyHolderSchema.plugin(tenantScoped);
signingKeyHolderSchema.index({ organisationId: 1, userId: 1 }, { unique: true });

export const SigningKeyHolder = mongoose.model('SigningKeyHolder', signingKeyHolderSchema);

/**
 * The right to write signed version N of a document, taken by inserting
 * `${documentId}:${N}`: inserts on a unique key are atomic on MongoDB and on
 * FerretDB v1, whose conditional updates are not. It carries the version, so a
 * writer that died after claiming can be completed by the next one.
 */
const signedVersionClaimSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    ...tenantOwnership,
    documentId: { type: mongoose.Schema.Types.ObjectId, required: true },
    version: { type: String, required: true },
  },
  { timestamps: true },
);
signedVersionClaimSchema.plugin(tenantScoped);

export const SignedVersionClaim = mongoose.model('SignedVersionClaim', signedVersionClaimSchema);
