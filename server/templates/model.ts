import mongoose, { type InferSchemaType } from 'mongoose';
import { sharedOrTenantOwnership, tenantScoped } from '../platform/tenancy.js';
import { jsonView } from '../platform/json-view.js';

export const documentTypes = [
  'decreto-nomina',
  'atto-autorizzazione',
  'decreto-revoca',
  'contratto-responsabile',
  'clausola-gara',
  'accordo-contitolarita',
  'dpia',
  'notifica-violazione',
  'comunicazione-interessati',
  'certificato-completamento',
  'altro',
] as const;
export type DocumentType = (typeof documentTypes)[number];

/**
 * One immutable version of a template. Shipped templates (from `templates/`)
 * have no organisation; an ente's own uploads belong to it and take precedence.
 */
const templateVersionSchema = new mongoose.Schema(
  {
    ...sharedOrTenantOwnership,
    key: { type: String, required: true, immutable: true },
    version: { type: Number, required: true, immutable: true, min: 1 },
    documentType: { type: String, enum: documentTypes, required: true, immutable: true },
    title: { type: String, required: true, immutable: true },
    /** The nunjucks source producing Sigillo markup. */
    source: { type: String, required: true, immutable: true },
    /**
     * JSON Schema (draft 2020-12) of the input data, as JSON text: FerretDB v1
     * refuses field names starting with `$` ($schema, $defs, $ref).
     */
    inputSchema: { type: String, required: true, immutable: true },
    /** Key of the register that numbers documents of this template; null when not numbered. */
    register: { type: String, default: null, immutable: true },
    /** SHA-256 of source, schema and settings: an unchanged template is not saved again. */
    contentHash: { type: String, required: true, immutable: true },
    origin: { type: String, enum: ['file', 'upload'], required: true, immutable: true },
    createdBy: {
      type: mongoose.Schema.Types.ObjectId,
      ref: 'User',
      default: null,
      immutable: true,
    },
  },
  {
    timestamps: { createdAt: true, updatedAt: false },
    toJSON: jsonView({ parsed: ['inputSchema'] }),
  },
);
templateVersionSchema.plugin(tenantScoped, { shared: true });
templateVersionSchema.index({ organisationId: 1, key: 1, version: 1 }, { unique: true });

export type TemplateVersionRecord = InferSchemaType<typeof templateVersionSchema>;
export const TemplateVersion = mongoose.model('TemplateVersion', templateVersionSchema);
export type TemplateVersionDocument = InstanceType<typeof TemplateVersion>;
