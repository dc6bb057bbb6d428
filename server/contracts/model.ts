import mongoose, { type InferSchemaType } from 'mongoose';
import { tenantOwnership, tenantScoped } from '../platform/tenancy.js';
import { jsonView } from '../platform/json-view.js';
import { stateChangeSchema } from '../platform/state-log.js';

export const contractVariants = ['responsabile', 'contitolare'] as const;
export type ContractVariant = (typeof contractVariants)[number];
export const contractStatuses = ['draft', 'issued', 'signed', 'terminated'] as const;
export type ContractStatus = (typeof contractStatuses)[number];

const measureSchema = new mongoose.Schema(
  { area: { type: String, required: true }, description: { type: String, required: true } },
  { _id: false },
);

const subProcessorSchema = new mongoose.Schema(
  {
    name: { type: String, required: true },
    seat: { type: String, required: true },
    vatNumber: { type: String, required: true },
    activities: { type: String, required: true },
  },
  { _id: false },
);

/**
 * The act binding the awarded supplier to the role the tender stated: an art. 28
 * contract (responsabile) or an art. 26 agreement (contitolare). Prefilled at
 * award from the tender and the registro; it cannot be issued incomplete.
 */
const contractSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    variant: { type: String, enum: contractVariants, required: true, immutable: true },
    tenderId: { type: mongoose.Schema.Types.ObjectId, ref: 'Tender', required: true },
    supplierId: { type: mongoose.Schema.Types.ObjectId, ref: 'Supplier', required: true },
    status: { type: String, enum: contractStatuses, required: true, default: 'draft' },
    subject: { type: String, required: true },
    startDate: { type: String, default: null },
    endDate: { type: String, default: null },
    processing: {
      natureAndPurpose: { type: String, default: null },
      dataTypes: { type: [String], default: [] },
      specialCategories: { type: Boolean, default: false },
      dataSubjectCategories: { type: [String], default: [] },
      operations: { type: [String], default: [] },
      location: { type: String, default: null },
    },
    measures: { type: [measureSchema], default: [] },
    subProcessors: { type: [subProcessorSchema], default: [] },
    subProcessorAuthorisation: {
      type: String,
      enum: ['specifica', 'generale'],
      required: true,
      default: 'specifica',
    },
    /** Seed 002 art. 7: objection window on a general authorisation's changes. */
    noticeDays: { type: Number, required: true, default: 30, min: 30 },
    /** Seed 002 art. 7: breach notice to the controller within 48 hours at most. */
    breachNoticeHours: { type: Number, required: true, default: 48, min: 1, max: 48 },
    jointAgreement: {
      purposes: { type: [String], default: [] },
      responsibilities: {
        type: [
          new mongoose.Schema(
            { party: { type: String, required: true }, tasks: { type: [String], default: [] } },
            { _id: false },
          ),
        ],
        default: [],
      },
      contactPoint: {
        description: { type: String, default: null },
        contact: { type: String, default: null },
      },
      availability: { type: String, default: null },
    },
    documentId: { type: mongoose.Schema.Types.ObjectId, ref: 'GeneratedDocument', default: null },
    /** The latest Allegato III listing the sub-processors authorised now. */
    subProcessorsAnnexId: {
      type: mongoose.Schema.Types.ObjectId,
      ref: 'GeneratedDocument',
      default: null,
    },
    registration: {
      type: new mongoose.Schema(
        {
          registerKey: { type: String, required: true },
          year: { type: Number, required: true },
          number: { type: Number, required: true },
          date: { type: String, required: true },
        },
        { _id: false },
      ),
      default: null,
    },
    transitions: { type: [stateChangeSchema], default: [] },
  },
  { timestamps: true, minimize: false, toJSON: jsonView() },
);
contractSchema.plugin(tenantScoped);
contractSchema.index({ organisationId: 1, tenderId: 1 });
contractSchema.index({ organisationId: 1, supplierId: 1 });

export type ContractRecord = InferSchemaType<typeof contractSchema>;
export const Contract = mongoose.model('Contract', contractSchema);
export type ContractDocument = InstanceType<typeof Contract>;
