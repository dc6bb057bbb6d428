import mongoose, { type InferSchemaType } from 'mongoose';
import { jsonView } from '../platform/json-view.js';
import { sharedOrTenantOwnership, tenantScoped } from '../platform/tenancy.js';

const problemSchema = new mongoose.Schema(
  { line: Number, message: String, text: String },
  { _id: false },
);

/**
 * One version of a regulation: the GDPR and the Codice (shared by every ente,
 * shipped in data/), or an ente's own regolamento. A new import of the same key
 * makes a new version and marks the previous one superseded; nothing is deleted.
 */
const regulationSchema = new mongoose.Schema(
  {
    ...sharedOrTenantOwnership,
    key: { type: String, required: true, immutable: true },
    version: { type: Number, required: true, immutable: true, min: 1 },
    title: { type: String, required: true },
    shortTitle: { type: String, default: null },
    issuingBody: { type: String, default: null },
    /** The act that approved it, e.g. "delibera consiliare n. 117 del 22-12-2020". */
    approvedBy: { type: String, default: null },
    inForceFrom: { type: String, default: null },
    status: {
      type: String,
      enum: ['importing', 'in-force', 'superseded'],
      required: true,
      default: 'importing',
    },
    kind: { type: String, enum: ['catalogue', 'regolamento'], required: true },
    contentHash: { type: String, required: true, immutable: true },
    articleCount: { type: Number, required: true },
    /** What the importer could not place, with line numbers. */
    importProblems: { type: [problemSchema], default: [] },
    origin: { type: String, enum: ['file', 'upload', 'cli'], required: true },
  },
  {
    timestamps: true,
    toJSON: jsonView(),
  },
);
regulationSchema.plugin(tenantScoped, { shared: true });
regulationSchema.index({ organisationId: 1, key: 1, version: 1 }, { unique: true });

export type RegulationRecord = InferSchemaType<typeof regulationSchema>;
export const Regulation = mongoose.model('Regulation', regulationSchema);

const articleSchema = new mongoose.Schema(
  {
    ...sharedOrTenantOwnership,
    regulationId: { type: mongoose.Schema.Types.ObjectId, ref: 'Regulation', required: true },
    /** As written: "5", "2-quaterdecies"; `occurrence` tells apart two articles numbered alike. */
    number: { type: String, required: true },
    occurrence: { type: Number, required: true, default: 1 },
    position: { type: Number, required: true },
    title: { type: String, default: null },
    titolo: { type: String, default: null },
    capo: { type: String, default: null },
    /** Commi with their points, as JSON text (nested, variable shape). */
    commi: { type: String, required: true },
    /** Lower-case, accent-free text of number, title and body, for word search. */
    searchText: { type: String, required: true },
  },
  {
    toJSON: jsonView({ hidden: ['searchText'], parsed: ['commi'] }),
  },
);
articleSchema.plugin(tenantScoped, { shared: true });
articleSchema.index({ regulationId: 1, position: 1 });
articleSchema.index({ regulationId: 1, number: 1 });

export const RegulationArticle = mongoose.model('RegulationArticle', articleSchema);
