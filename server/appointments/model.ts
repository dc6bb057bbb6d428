import mongoose, { type InferSchemaType } from 'mongoose';
import { tenantOwnership, tenantScoped } from '../platform/tenancy.js';
import { jsonView } from '../platform/json-view.js';

/** The privacy roles of DOMAIN.md "Who is who", as API values. */
export const appointmentRoles = [
  'designato',
  'autorizzato',
  'rpd',
  'amministratore-sistema',
  'responsabile-esterno',
  'sub-responsabile',
  'contitolare',
] as const;
export type AppointmentRole = (typeof appointmentRoles)[number];

export const appointmentStatuses = [
  'draft',
  'issued',
  'signed',
  'accepted',
  'revoked',
  'expired',
  'superseded',
] as const;
export type AppointmentStatus = (typeof appointmentStatuses)[number];

/** In force: the appointee holds the role. */
export const activeStatuses: readonly AppointmentStatus[] = ['issued', 'signed', 'accepted'];

export const authorityKinds = ['sindaco', 'designato'] as const;
export type AuthorityKind = (typeof authorityKinds)[number];

const actorSchema = new mongoose.Schema(
  {
    userId: { type: mongoose.Schema.Types.ObjectId, ref: 'User', default: null },
    name: { type: String, required: true },
  },
  { _id: false },
);

const authoritySchema = new mongoose.Schema(
  {
    kind: { type: String, enum: authorityKinds, required: true },
    /** The Designato's own appointment, when the authority is a Designato. */
    appointmentId: { type: mongoose.Schema.Types.ObjectId, ref: 'Appointment', default: null },
  },
  { _id: false },
);

const transitionSchema = new mongoose.Schema(
  {
    from: { type: String, enum: appointmentStatuses, default: null },
    to: { type: String, enum: appointmentStatuses, required: true },
    at: { type: Date, required: true },
    by: { type: actorSchema, required: true },
    note: { type: String, default: null },
  },
  { _id: false },
);

/** An act issued for the appointment: its nomina or its revoca, with its number. */
const issuedActSchema = new mongoose.Schema(
  {
    kind: { type: String, enum: ['nomina', 'revoca'], required: true },
    documentId: { type: mongoose.Schema.Types.ObjectId, ref: 'GeneratedDocument', default: null },
    registerKey: { type: String, required: true },
    year: { type: Number, required: true },
    number: { type: Number, required: true },
    date: { type: String, required: true },
  },
  { _id: false },
);

const dpoSchema = new mongoose.Schema(
  {
    kind: { type: String, enum: ['persona', 'societa'], required: true },
    /** For a firm: the natural person who acts as its contact (referente). */
    contactPersonId: { type: mongoose.Schema.Types.ObjectId, ref: 'Person', default: null },
    email: { type: String, required: true },
    pec: { type: String, default: null },
    phone: { type: String, default: null },
    /** Estremi of the contract or determinazione when the DPO is external. */
    engagement: { type: String, default: null },
    /** Art. 37(5): why the appointee has the professional qualities required. */
    qualifications: { type: String, required: true },
    /** Art. 37(7): communication of the contact data to the Garante. */
    garanteCommunication: {
      type: new mongoose.Schema(
        { date: { type: String, required: true }, protocol: { type: String, required: true } },
        { _id: false },
      ),
      default: null,
    },
    /** Publication of the contact data ("Amministrazione trasparente"). */
    publication: {
      type: new mongoose.Schema(
        { date: { type: String, required: true }, url: { type: String, required: true } },
        { _id: false },
      ),
      default: null,
    },
  },
  { _id: false },
);

const systemAdministratorSchema = new mongoose.Schema(
  {
    systems: { type: [String], default: [] },
    functions: { type: [String], default: [] },
    yearlyCheck: {
      type: new mongoose.Schema(
        {
          responsible: { type: String, required: true },
          deadline: { type: String, required: true },
        },
        { _id: false },
      ),
      default: null,
    },
    logRetentionMonths: { type: Number, default: 6, min: 6 },
    external: { type: Boolean, default: false },
    firm: { type: String, default: null },
  },
  { _id: false },
);

const contractSchema = new mongoose.Schema(
  {
    subject: { type: String, required: true },
    reference: { type: String, default: null },
    cig: { type: String, default: null },
  },
  { _id: false },
);

const processorSchema = new mongoose.Schema(
  {
    contract: { type: contractSchema, default: null },
    natureAndPurpose: { type: String, default: null },
    dataTypes: { type: [String], default: [] },
    dataSubjectCategories: { type: [String], default: [] },
    /** For a sub-responsabile: the processor's appointment it is authorised under. */
    processorAppointmentId: {
      type: mongoose.Schema.Types.ObjectId,
      ref: 'Appointment',
      default: null,
    },
    authorisationKind: { type: String, enum: ['specifica', 'generale', null], default: null },
  },
  { _id: false },
);

const jointControllerSchema = new mongoose.Schema(
  {
    parties: { type: [String], default: [] },
    subject: { type: String, required: true },
    /** Art. 26(1): who does what, in particular towards data subjects. */
    responsibilities: { type: [String], default: [] },
    contactPoint: { type: String, default: null },
    signedOn: { type: String, default: null },
  },
  { _id: false },
);

/**
 * A privacy role given to someone, from its draft to its end, with every act
 * issued for it. Appointments are never deleted once issued: they are history.
 */
const appointmentSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    role: { type: String, enum: appointmentRoles, required: true, immutable: true },
    status: { type: String, enum: appointmentStatuses, required: true, default: 'draft' },
    /** A person of the ente's registry, or a supplier (processors, a DPO firm). */
    personId: { type: mongoose.Schema.Types.ObjectId, ref: 'Person', default: null },
    supplierId: { type: mongoose.Schema.Types.ObjectId, ref: 'Supplier', default: null },
    /** The appointee's name as the act writes it, kept for history and lists. */
    appointeeName: { type: String, required: true },
    authority: { type: authoritySchema, required: true },
    legalBasis: { type: String, required: true },
    settoreIds: { type: [mongoose.Schema.Types.ObjectId], ref: 'Settore', default: [] },
    processingActivityIds: {
      type: [mongoose.Schema.Types.ObjectId],
      ref: 'ProcessingActivity',
      default: [],
    },
    databases: { type: [String], default: [] },
    tasks: { type: [String], default: [] },
    instructions: { type: [String], default: [] },
    startDate: { type: String, default: null },
    endDate: { type: String, default: null },
    dpo: { type: dpoSchema, default: null },
    systemAdministrator: { type: systemAdministratorSchema, default: null },
    processor: { type: processorSchema, default: null },
    jointController: { type: jointControllerSchema, default: null },
    supersedesId: { type: mongoose.Schema.Types.ObjectId, ref: 'Appointment', default: null },
    supersededById: { type: mongoose.Schema.Types.ObjectId, ref: 'Appointment', default: null },
    revocation: {
      type: new mongoose.Schema(
        {
          reason: { type: String, required: true },
          effectiveDate: { type: String, required: true },
          successorId: { type: mongoose.Schema.Types.ObjectId, ref: 'Appointment', default: null },
        },
        { _id: false },
      ),
      default: null,
    },
    acts: { type: [issuedActSchema], default: [] },
    transitions: { type: [transitionSchema], default: [] },
    bulkJobId: { type: mongoose.Schema.Types.ObjectId, ref: 'BulkIssue', default: null },
    bulkIndex: { type: Number, default: null },
    /**
     * Unique per ente: "<job>:<row>" for an appointment made by a bulk job, so a
     * resumed job finds its rows instead of duplicating them; the id otherwise.
     * (A partial unique index would say this directly; FerretDB v1 lacks them.)
     */
    uniqueKey: { type: String, required: true, immutable: true },
  },
  { timestamps: true, minimize: false, toJSON: jsonView() },
);
appointmentSchema.plugin(tenantScoped);
appointmentSchema.index({ organisationId: 1, role: 1, status: 1 });
appointmentSchema.index({ organisationId: 1, personId: 1 });
appointmentSchema.index({ organisationId: 1, settoreIds: 1 });
appointmentSchema.index({ organisationId: 1, endDate: 1 });
appointmentSchema.index({ organisationId: 1, uniqueKey: 1 }, { unique: true });
appointmentSchema.index({ organisationId: 1, bulkJobId: 1, bulkIndex: 1 });
appointmentSchema.pre(
  'validate',
  function defaultUniqueKey(this: { uniqueKey?: string | null; _id: mongoose.Types.ObjectId }) {
    if (!this.uniqueKey) this.uniqueKey = this._id.toString();
  },
);

export type AppointmentRecord = InferSchemaType<typeof appointmentSchema>;
export const Appointment = mongoose.model('Appointment', appointmentSchema);
export type AppointmentDocument = InstanceType<typeof Appointment>;
