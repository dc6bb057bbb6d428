import mongoose, { type InferSchemaType } from 'mongoose';
import { tenantOwnership, tenantScoped } from '../platform/tenancy.js';
import { jsonView } from '../platform/json-view.js';

/** A file in object storage with its SHA-256; generated documents and bulk results use it. */
export const storedFileSchema = new mongoose.Schema(
  {
    key: { type: String, required: true },
    sha256: { type: String, required: true },
    size: { type: Number, required: true },
    contentType: { type: String, required: true },
    versionId: { type: String, default: null },
    fileName: { type: String, required: true },
  },
  { _id: false },
);

const signatureAreaSchema = new mongoose.Schema(
  {
    id: String,
    role: { type: String, default: '' },
    name: { type: String, default: '' },
    page: Number,
    x: Number,
    y: Number,
    width: Number,
    height: Number,
  },
  { _id: false },
);

/**
 * A signed PDF of the document. Each signature appends one version; the unsigned
 * original stays in `pdf`, and a version, once written, never changes.
 */
const signedVersionSchema = new mongoose.Schema(
  {
    number: { type: Number, required: true },
    file: { type: storedFileSchema, required: true },
    /** `pades`: a PDF with embedded signatures; `cades`: a .p7m envelope uploaded back. */
    format: { type: String, enum: ['pades', 'cades'], required: true },
    /** Signed by Sigillo with a key it controls, or signed outside and uploaded. */
    source: { type: String, enum: ['sigillo', 'upload'], required: true },
    signatureRequestId: { type: mongoose.Schema.Types.ObjectId, default: null },
    signerOrder: { type: Number, default: null },
    signer: {
      userId: { type: mongoose.Schema.Types.ObjectId, ref: 'User', default: null },
      name: { type: String, required: true },
    },
    createdAt: { type: Date, required: true },
  },
  { _id: false },
);

/** A generated document: which template version made it, from which input, and its files. */
const generatedDocumentSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    title: { type: String, required: true },
    documentType: { type: String, required: true },
    template: {
      id: { type: mongoose.Schema.Types.ObjectId, ref: 'TemplateVersion', required: true },
      key: { type: String, required: true },
      version: { type: Number, required: true },
    },
    /**
     * The input exactly as validated, as JSON text, so the document can be
     * reproduced (FerretDB v1 refuses `$`-prefixed field names inside documents).
     */
    input: { type: String, required: true },
    pdf: { type: storedFileSchema, required: true },
    docx: { type: storedFileSchema, required: true },
    pageCount: { type: Number, required: true },
    signatureAreas: { type: [signatureAreaSchema], default: [] },
    signedVersions: { type: [signedVersionSchema], default: [] },
    /** Guards appends to `signedVersions`: a writer expects the count it read. */
    signedVersionCount: { type: Number, default: 0 },
    /** The act's number when its template is numbered by a register. */
    registration: {
      type: new mongoose.Schema(
        {
          registerKey: { type: String, required: true },
          year: { type: Number, required: true },
          number: { type: Number, required: true },
        },
        { _id: false },
      ),
      default: null,
    },
    author: {
      userId: { type: mongoose.Schema.Types.ObjectId, ref: 'User', required: true },
      name: { type: String, required: true },
    },
  },
  {
    timestamps: true,
    minimize: false,
    toJSON: jsonView({ parsed: ['input'], hidden: ['signedVersionCount'] }),
  },
);
generatedDocumentSchema.plugin(tenantScoped);
generatedDocumentSchema.index({ organisationId: 1, createdAt: -1 });

export type GeneratedDocumentRecord = InferSchemaType<typeof generatedDocumentSchema>;
export const GeneratedDocument = mongoose.model('GeneratedDocument', generatedDocumentSchema);
