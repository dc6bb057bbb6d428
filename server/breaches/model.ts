/**
 * Personal data breaches (artt. 33–34 GDPR; seed 002 artt. 31–35): the record
 * of what happened and when the ente became aware, the steps of the decision
 * (designato's report, DPO's opinion, Titolare's assessment), the documents
 * generated and the notices sent. Evidence files and decision steps are their
 * own inserted records: on FerretDB v1 an insert on a unique key is the only
 * atomic write, so a step is claimed by inserting it, never by a conditional update.
 */
import mongoose, { type InferSchemaType } from 'mongoose';
import { jsonView } from '../platform/json-view.js';
import { stateChangeSchema } from '../platform/state-log.js';
import { tenantOwnership, tenantScoped } from '../platform/tenancy.js';

/** Confidentiality, integrity, availability breach (WP250; the Garante's form). */
export const breachNatures = ['riservatezza', 'integrita', 'disponibilita'] as const;
export type BreachNature = (typeof breachNatures)[number];
export const breachNatureLabels: Record<BreachNature, string> = {
  riservatezza: 'violazione della riservatezza (divulgazione o accesso non autorizzati)',
  integrita: 'violazione dell’integrità (modifica non autorizzata)',
  disponibilita: 'violazione della disponibilità (perdita o distruzione)',
};

export const reporterKinds = ['dipendente', 'responsabile', 'altro'] as const;
export type ReporterKind = (typeof reporterKinds)[number];

export const severityAssessments = ['nessun-rischio', 'rischio', 'rischio-elevato'] as const;
export type SeverityAssessment = (typeof severityAssessments)[number];
export const severityLabels: Record<SeverityAssessment, string> = {
  'nessun-rischio': 'nessun rischio per i diritti e le libertà degli interessati',
  rischio: 'rischio per i diritti e le libertà degli interessati',
  'rischio-elevato': 'rischio elevato per i diritti e le libertà degli interessati',
};

/** Severity as the Garante's form grades it. */
export const gravityLevels = ['bassa', 'media', 'alta', 'molto-alta'] as const;
export type GravityLevel = (typeof gravityLevels)[number];
export const defaultGravity: Record<SeverityAssessment, GravityLevel> = {
  'nessun-rischio': 'bassa',
  rischio: 'media',
  'rischio-elevato': 'alta',
};

/** Art. 34(3) GDPR, a)–c). */
export const exemptions = ['a', 'b', 'c'] as const;
export type Exemption = (typeof exemptions)[number];
export const exemptionLabels: Record<Exemption, string> = {
  a: 'art. 34, par. 3, lett. a), GDPR: dati resi incomprensibili (es. cifratura)',
  b: 'art. 34, par. 3, lett. b), GDPR: misure successive che scongiurano il rischio elevato',
  c: 'art. 34, par. 3, lett. c), GDPR: comunicazione individuale sproporzionata, sostituita da una comunicazione pubblica',
};

export const breachStatuses = [
  'aperta',
  'relazionata',
  'parere-acquisito',
  'valutata',
  'notificata',
  'chiusa',
] as const;
export type BreachStatus = (typeof breachStatuses)[number];

export const documentKinds = [
  'designato-report',
  'dpo-opinion',
  'notification',
  'communication',
  'public-notice',
] as const;
export type BreachDocumentKind = (typeof documentKinds)[number];

export const notificationTypes = ['preliminare', 'completa', 'integrativa'] as const;
export type NotificationType = (typeof notificationTypes)[number];

const authorSchema = new mongoose.Schema(
  { userId: { type: String, required: true }, name: { type: String, required: true } },
  { _id: false },
);

const countSchema = new mongoose.Schema(
  {
    categories: { type: [String], default: [] },
    /** Approximate number (art. 33(3)(a)); null when not known yet. */
    approxCount: { type: Number, default: null },
  },
  { _id: false },
);

const breachDocumentSchema = new mongoose.Schema(
  {
    kind: { type: String, enum: documentKinds, required: true },
    notificationType: { type: String, enum: [...notificationTypes, null], default: null },
    documentId: { type: mongoose.Schema.Types.ObjectId, ref: 'GeneratedDocument', required: true },
    generatedAt: { type: Date, required: true },
    by: { type: authorSchema, required: true },
  },
  { _id: false },
);

const notificationSchema = new mongoose.Schema(
  {
    type: { type: String, enum: notificationTypes, required: true },
    sentAt: { type: Date, required: true },
    /** Protocol number of the ente's outgoing register. */
    protocollo: { type: String, default: null },
    /** The PEC message id, when the notice went by PEC. */
    pecMessageId: { type: String, default: null },
    /** The file number the Garante's procedure gave (an integrativa quotes the first one's). */
    garanteFileNumber: { type: String, default: null },
    documentId: { type: mongoose.Schema.Types.ObjectId, ref: 'GeneratedDocument', default: null },
    late: { type: Boolean, required: true },
    recordedBy: { type: authorSchema, required: true },
  },
  { _id: false },
);

const breachSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    /** Progressive number in the registro delle violazioni, per year of awareness. */
    register: {
      type: new mongoose.Schema(
        {
          year: { type: Number, required: true },
          number: { type: Number, required: true },
        },
        { _id: false },
      ),
      default: null,
    },
    status: { type: String, enum: breachStatuses, required: true, default: 'aperta' },
    title: { type: String, required: true },
    /** When it happened: an instant (end null) or a window; null when not known yet. */
    occurred: {
      type: new mongoose.Schema(
        {
          start: { type: Date, required: true },
          end: { type: Date, default: null },
          approximate: { type: Boolean, default: false },
        },
        { _id: false },
      ),
      default: null,
    },
    /** The instant the ente (Titolare) became aware: the 72 hours start here. */
    awareAt: { type: Date, required: true },
    awarenessMeans: { type: String, required: true },
    reportedBy: {
      kind: { type: String, enum: reporterKinds, required: true },
      name: { type: String, required: true },
      /** For a processor: when it learned of the breach (seed 002 art. 7: 48 hours). */
      processorAwareAt: { type: Date, default: null },
      supplierId: { type: mongoose.Schema.Types.ObjectId, ref: 'Supplier', default: null },
    },
    description: { type: String, required: true },
    howItHappened: { type: String, default: null },
    natures: { type: [String], enum: breachNatures, default: [] },
    dataSubjects: { type: countSchema, default: () => ({}) },
    records: { type: countSchema, default: () => ({}) },
    dataCategories: { type: [String], default: [] },
    /** Art. 9 GDPR data (health, ethnicity, …). */
    specialCategories: { type: Boolean, default: false },
    /** Art. 10 GDPR data (criminal convictions and offences). */
    judicialData: { type: Boolean, default: false },
    /** Who received or could reach the data (seed 002 art. 35 c.2 "destinatari"). */
    recipients: { type: [String], default: [] },
    systems: { type: [String], default: [] },
    paperArchives: { type: [String], default: [] },
    securityMeasures: { type: [String], default: [] },
    /** The data were encrypted with a standard algorithm (seed 002 art. 33 c.1). */
    encrypted: { type: Boolean, default: false },
    likelyConsequences: { type: [String], default: [] },
    measuresTaken: { type: [String], default: [] },
    measuresProposed: { type: [String], default: [] },
    /** Other EU states whose data subjects are involved (cross-border processing). */
    crossBorderStates: { type: [String], default: [] },
    otherAuthorities: { type: [String], default: [] },
    settoreId: { type: mongoose.Schema.Types.ObjectId, ref: 'Settore', default: null },
    /** Why the notice goes after 72 hours (art. 33(1) GDPR). */
    delayReasons: { type: String, default: null },
    designatoReport: {
      type: new mongoose.Schema(
        {
          designato: { type: String, required: true },
          /** For the templates' agreement of titles (dott./dott.ssa). */
          gender: { type: String, enum: ['M', 'F', null], default: null },
          text: { type: String, required: true },
          at: { type: Date, required: true },
          by: { type: authorSchema, required: true },
        },
        { _id: false },
      ),
      default: null,
    },
    dpoOpinion: {
      type: new mongoose.Schema(
        {
          assessment: { type: String, enum: severityAssessments, required: true },
          reasons: { type: String, required: true },
          recommendedMeasures: { type: [String], default: [] },
          /** For a high risk: the art. 34(3) case the DPO sees, if any. */
          exemption: { type: String, enum: [...exemptions, null], default: null },
          severity: { type: String, enum: [...gravityLevels, null], default: null },
          at: { type: Date, required: true },
          by: { type: authorSchema, required: true },
        },
        { _id: false },
      ),
      default: null,
    },
    assessment: {
      type: new mongoose.Schema(
        {
          outcome: { type: String, enum: severityAssessments, required: true },
          reasons: { type: String, required: true },
          exemption: { type: String, enum: [...exemptions, null], default: null },
          exemptionExplanation: { type: String, default: null },
          publicNotice: { type: Boolean, default: false },
          severity: { type: String, enum: gravityLevels, required: true },
          at: { type: Date, required: true },
          by: { type: authorSchema, required: true },
        },
        { _id: false },
      ),
      default: null,
    },
    documents: { type: [breachDocumentSchema], default: [] },
    notifications: { type: [notificationSchema], default: [] },
    /** When the first notice to the Garante went (copied from notifications for the listing). */
    firstNotifiedAt: { type: Date, default: null },
    communicatedAt: { type: Date, default: null },
    closedAt: { type: Date, default: null },
    transitions: { type: [stateChangeSchema], default: [] },
    createdBy: { type: authorSchema, required: true },
    updatedBy: { type: authorSchema, default: null },
  },
  { timestamps: true, minimize: false, toJSON: jsonView() },
);
breachSchema.plugin(tenantScoped);
breachSchema.index({ organisationId: 1, awareAt: -1 });

export type BreachRecord = InferSchemaType<typeof breachSchema>;
export const Breach = mongoose.model('Breach', breachSchema);
export type BreachDocument = InstanceType<typeof Breach>;

/**
 * A decision step claimed once: `_id` is `<breachId>:<step>`, so two concurrent
 * callers cannot both record the same step (the insert of the second fails).
 */
const breachStepSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    ...tenantOwnership,
    breachId: { type: mongoose.Schema.Types.ObjectId, ref: 'Breach', required: true },
    step: { type: String, required: true },
    at: { type: Date, required: true },
    by: { type: authorSchema, required: true },
  },
  { timestamps: false },
);
breachStepSchema.plugin(tenantScoped);
export const BreachStep = mongoose.model('BreachStep', breachStepSchema);

/** An evidence file: the bytes in object storage, the record with their SHA-256. */
const breachEvidenceSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    breachId: { type: mongoose.Schema.Types.ObjectId, ref: 'Breach', required: true },
    fileName: { type: String, required: true },
    description: { type: String, default: null },
    /** What the bytes are, from their signature (not from the name). */
    detectedType: { type: String, required: true },
    contentType: { type: String, required: true },
    size: { type: Number, required: true },
    sha256: { type: String, required: true },
    key: { type: String, required: true },
    versionId: { type: String, default: null },
    uploadedBy: { type: authorSchema, required: true },
  },
  { timestamps: true, toJSON: jsonView({ hidden: ['key', 'versionId'] }) },
);
breachEvidenceSchema.plugin(tenantScoped);
breachEvidenceSchema.index({ organisationId: 1, breachId: 1 });
export const BreachEvidence = mongoose.model('BreachEvidence', breachEvidenceSchema);
