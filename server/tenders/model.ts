import mongoose, { type InferSchemaType } from 'mongoose';
import { tenantOwnership, tenantScoped } from '../platform/tenancy.js';
import { jsonView } from '../platform/json-view.js';
import { stateChangeSchema } from '../platform/state-log.js';

/** The supplier's privacy role the call for tender must state (seed 002 art. 7 c.5). */
export const supplierPrivacyRoles = ['responsabile', 'contitolare', 'titolare-autonomo'] as const;
export type SupplierPrivacyRole = (typeof supplierPrivacyRoles)[number];

export const tenderStatuses = [
  'draft',
  'published',
  'awarded',
  'contract-signed',
  'closed',
] as const;
export type TenderStatus = (typeof tenderStatuses)[number];

export const procedures = [
  'affidamento-diretto',
  'procedura-negoziata',
  'procedura-aperta',
  'procedura-ristretta',
  'accordo-quadro',
  'altro',
] as const;

const lotSchema = new mongoose.Schema(
  {
    number: { type: Number, required: true, min: 1 },
    cig: { type: String, required: true },
    object: { type: String, required: true },
    /** A lot may state its own role; otherwise the tender's applies. */
    privacyRole: { type: String, enum: [...supplierPrivacyRoles, null], default: null },
  },
  { _id: false },
);

/** The answers that decided the role, and the reasons Sigillo drew from them. */
const roleAssessmentSchema = new mongoose.Schema(
  {
    answers: {
      jointlyDeterminesPurposes: { type: Boolean, required: true },
      decidesPurposesAlone: { type: Boolean, required: true },
      usesDataForOwnPurposes: { type: Boolean, required: true },
      actsOnlyOnInstructions: { type: Boolean, required: true },
    },
    suggestedRole: { type: String, enum: supplierPrivacyRoles, required: true },
    reasons: { type: [String], default: [] },
    assessedAt: { type: Date, required: true },
    assessedBy: { type: String, required: true },
  },
  { _id: false },
);

/**
 * A call for tender and the privacy role it states for the future supplier.
 * The role is chosen before publication: the award binds the supplier to it.
 */
const tenderSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    cig: { type: String, required: true, uppercase: true, trim: true },
    object: { type: String, required: true, trim: true },
    procedure: { type: String, enum: procedures, required: true },
    lots: { type: [lotSchema], default: [] },
    /** Responsabile unico del progetto (d.lgs. 36/2023, art. 15). */
    rupId: { type: mongoose.Schema.Types.ObjectId, ref: 'Person', default: null },
    settoreId: { type: mongoose.Schema.Types.ObjectId, ref: 'Settore', default: null },
    publicationDate: { type: String, default: null },
    deadline: { type: String, default: null },
    status: { type: String, enum: tenderStatuses, required: true, default: 'draft' },
    processingActivityIds: {
      type: [mongoose.Schema.Types.ObjectId],
      ref: 'ProcessingActivity',
      default: [],
    },
    privacyRole: { type: String, enum: [...supplierPrivacyRoles, null], default: null },
    roleAssessment: { type: roleAssessmentSchema, default: null },
    awardedSupplierId: { type: mongoose.Schema.Types.ObjectId, ref: 'Supplier', default: null },
    /** The privacy clause attached to the call (a generated document); the first one when lots differ. */
    clauseDocumentId: {
      type: mongoose.Schema.Types.ObjectId,
      ref: 'GeneratedDocument',
      default: null,
    },
    /** One clause per role when lots state different roles; lots empty = the whole tender. */
    clauses: {
      type: [
        new mongoose.Schema(
          {
            role: { type: String, enum: supplierPrivacyRoles, required: true },
            lots: { type: [Number], default: [] },
            documentId: {
              type: mongoose.Schema.Types.ObjectId,
              ref: 'GeneratedDocument',
              required: true,
            },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
    transitions: { type: [stateChangeSchema], default: [] },
  },
  { timestamps: true, minimize: false, toJSON: jsonView() },
);
tenderSchema.plugin(tenantScoped);
tenderSchema.index({ organisationId: 1, cig: 1 }, { unique: true });

export type TenderRecord = InferSchemaType<typeof tenderSchema>;
export const Tender = mongoose.model('Tender', tenderSchema);
export type TenderDocument = InstanceType<typeof Tender>;
