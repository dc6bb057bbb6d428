/**
 * DPIA records (art. 35 GDPR; seed 002 artt. 25–27 and 30): the screening that
 * decides whether one is needed, the DPIA of a processing activity with its
 * current (editable) version, and its frozen versions, each its own inserted
 * record: on FerretDB v1 an insert on a unique key is the only atomic write, so
 * a version is frozen by inserting it, never by mutating an array.
 */
import mongoose, { type InferSchemaType } from 'mongoose';
import { jsonView } from '../platform/json-view.js';
import { tenantOwnership, tenantScoped } from '../platform/tenancy.js';
import { screeningOutcomes } from './screening.js';

/** The three feared events every DPIA assesses (CNIL PIA), plus any other the DPIA adds. */
export const riskEvents = [
  'accesso-illegittimo',
  'modifica-indesiderata',
  'scomparsa',
  'altro',
] as const;
export type RiskEvent = (typeof riskEvents)[number];
export const requiredRiskEvents = [
  'accesso-illegittimo',
  'modifica-indesiderata',
  'scomparsa',
] as const;
export const riskEventLabels: Record<RiskEvent, string> = {
  'accesso-illegittimo': 'accesso illegittimo ai dati',
  'modifica-indesiderata': 'modifica indesiderata dei dati',
  scomparsa: 'scomparsa dei dati',
  altro: 'altro evento',
};

/** Proportionality and the controls protecting rights, as the CNIL PIA groups them. */
export const necessityAspects = [
  'base-giuridica',
  'minimizzazione',
  'esattezza',
  'conservazione',
  'informazione',
  'diritti',
  'responsabili',
  'trasferimenti',
] as const;
export type NecessityAspect = (typeof necessityAspects)[number];
export const necessityAspectLabels: Record<NecessityAspect, string> = {
  'base-giuridica': 'base giuridica e finalità determinate, esplicite e legittime',
  minimizzazione: 'minimizzazione dei dati',
  esattezza: 'esattezza e aggiornamento dei dati',
  conservazione: 'limitazione della conservazione',
  informazione: 'informazione degli interessati',
  diritti: 'esercizio dei diritti degli interessati',
  responsabili: 'responsabili del trattamento e contratti',
  trasferimenti: 'trasferimenti fuori dall’Unione europea',
};

export const measureKinds = ['tecnica', 'organizzativa'] as const;
export const measureStatuses = ['in-essere', 'pianificata'] as const;
export const dpoConclusions = ['favorevole', 'favorevole-con-osservazioni', 'contrario'] as const;
export type DpoConclusion = (typeof dpoConclusions)[number];
export const decisionOutcomes = ['approvata', 'approvata-con-prescrizioni', 'respinta'] as const;
export type DecisionOutcome = (typeof decisionOutcomes)[number];
export const processorRoles = ['responsabile', 'sub-responsabile'] as const;

/** 1 trascurabile, 2 limitata, 3 importante, 4 massima (CNIL PIA scales). */
export const scaleLabels = ['trascurabile', 'limitata', 'importante', 'massima'] as const;

export const riskLevels = ['basso', 'moderato', 'rilevante', 'elevato'] as const;
export type RiskLevel = (typeof riskLevels)[number];

/**
 * Level of a risk from likelihood × severity (1–4 each, CNIL scales), the same
 * four bands the `dpia` template prints and colours on its risk map:
 * - elevato for a product ≥ 9, which is exactly both ≥ 3 (importante or
 *   massima): the upper-right quadrant of the CNIL risk map, risks that must be
 *   avoided or reduced; residual, it is the "high risk" of art. 36(1) GDPR (the
 *   `dpia` schema applies the same test);
 * - rilevante for 6–8 and moderato for 3–4: the quadrants of risks to reduce;
 * - basso for ≤ 2: risks the CNIL map lets the controller accept.
 */
export function riskLevel(likelihood: number, severity: number): RiskLevel {
  const product = likelihood * severity;
  if (product >= 9) return 'elevato';
  if (product >= 6) return 'rilevante';
  if (product >= 3) return 'moderato';
  return 'basso';
}

const scoreSchema = new mongoose.Schema(
  {
    likelihood: { type: Number, min: 1, max: 4, default: null },
    severity: { type: Number, min: 1, max: 4, default: null },
  },
  { _id: false },
);

const riskSchema = new mongoose.Schema(
  {
    /** Stable across versions, so that changes are matched risk by risk. */
    id: { type: String, required: true },
    event: { type: String, enum: riskEvents, required: true },
    title: { type: String, required: true },
    sources: { type: [String], default: [] },
    threats: { type: [String], default: [] },
    impacts: { type: [String], default: [] },
    /** Codes of the DPIA's measures this risk relies on. */
    measureCodes: { type: [String], default: [] },
    inherent: { type: scoreSchema, default: () => ({}) },
    residual: { type: scoreSchema, default: () => ({}) },
    /** Why the measures do not lower it further (printed in a prior consultation). */
    residualNote: { type: String, default: null },
  },
  { _id: false },
);

const measureSchema = new mongoose.Schema(
  {
    /** A catalogue code (data/dpia/misure.json), or LIB-nn for a free-text measure. */
    code: { type: String, required: true },
    title: { type: String, required: true },
    kind: { type: String, enum: measureKinds, required: true },
    description: { type: String, required: true },
    status: { type: String, enum: measureStatuses, required: true, default: 'in-essere' },
    owner: { type: String, default: null },
    dueDate: { type: String, default: null },
  },
  { _id: false },
);

/** What a DPIA says; the current version holds one, each frozen version its own copy. */
export const dpiaContentSchema = new mongoose.Schema(
  {
    description: {
      name: { type: String, required: true },
      code: { type: String, default: null },
      settore: { type: String, default: null },
      overview: { type: String, default: null },
      purposes: { type: [String], default: [] },
      legalBases: { type: [String], default: [] },
      dataCategories: { type: [String], default: [] },
      dataSubjects: { type: [String], default: [] },
      recipients: { type: [String], default: [] },
      retention: { type: String, default: null },
      systems: { type: [String], default: [] },
      flows: { type: [String], default: [] },
      processors: {
        type: [
          new mongoose.Schema(
            {
              name: { type: String, required: true },
              role: { type: String, enum: processorRoles, required: true },
              tasks: { type: String, default: null },
            },
            { _id: false },
          ),
        ],
        default: [],
      },
      jointControllers: {
        type: [
          new mongoose.Schema(
            {
              name: { type: String, required: true },
              responsibilities: { type: String, default: null },
            },
            { _id: false },
          ),
        ],
        default: [],
      },
    },
    /** Gruppo di lavoro privacy (seed 002 art. 26 c.3). */
    team: { type: [String], default: [] },
    necessity: {
      type: [
        new mongoose.Schema(
          {
            aspect: { type: String, enum: necessityAspects, required: true },
            justification: { type: String, default: null },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
    risks: { type: [riskSchema], default: [] },
    measures: { type: [measureSchema], default: [] },
    dpoOpinion: {
      type: new mongoose.Schema(
        {
          conclusion: { type: String, enum: dpoConclusions, required: true },
          text: { type: String, required: true },
          givenOn: { type: String, required: true },
          by: { type: String, default: null },
        },
        { _id: false },
      ),
      default: null,
    },
    /** Art. 35(9): the views of data subjects, or why they were not sought. */
    dataSubjectsViews: {
      type: new mongoose.Schema(
        {
          sought: { type: Boolean, required: true },
          method: { type: String, default: null },
          summary: { type: String, default: null },
          reasonNotSought: { type: String, default: null },
        },
        { _id: false },
      ),
      default: null,
    },
    decision: {
      type: new mongoose.Schema(
        {
          outcome: { type: String, enum: decisionOutcomes, required: true },
          notes: { type: String, default: null },
          decidedOn: { type: String, required: true },
          /** Seed 002 art. 9 c.2: the DPO's opinion is not binding, but departing from it needs a reason. */
          departureReason: { type: String, default: null },
        },
        { _id: false },
      ),
      default: null,
    },
    /** Seed 002 art. 30: reviewed at least yearly, with the registro. */
    revisionDate: { type: String, required: true },
  },
  { _id: false, minimize: false },
);

const authorSchema = new mongoose.Schema(
  {
    userId: { type: mongoose.Schema.Types.ObjectId, ref: 'User', required: true },
    name: { type: String, required: true },
  },
  { _id: false },
);

const answerSchema = new mongoose.Schema(
  {
    code: { type: String, required: true },
    applies: { type: Boolean, required: true },
    reason: { type: String, default: null },
  },
  { _id: false },
);

/**
 * A screening as made: answers, outcome and reasons never change; a new
 * screening is a new record. Only the id of its printed report is added later.
 */
const screeningSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    processingActivityId: {
      type: mongoose.Schema.Types.ObjectId,
      ref: 'ProcessingActivity',
      required: true,
      immutable: true,
    },
    screenedOn: { type: String, required: true, immutable: true },
    answers: {
      type: new mongoose.Schema(
        {
          art35: { type: [answerSchema], default: [] },
          criteria: { type: [answerSchema], default: [] },
          garanteList: { type: [answerSchema], default: [] },
        },
        { _id: false },
      ),
      required: true,
      immutable: true,
    },
    outcome: { type: String, enum: screeningOutcomes, required: true, immutable: true },
    reasons: { type: [String], default: [], immutable: true },
    triggers: {
      type: new mongoose.Schema(
        {
          art35: { type: [String], default: [] },
          criteria: { type: [String], default: [] },
          garanteList: { type: [String], default: [] },
        },
        { _id: false },
      ),
      required: true,
      immutable: true,
    },
    innovativeTechnologyDiscounted: { type: Boolean, required: true, immutable: true },
    /** The Titolare's choice when the DPIA is not mandatory (seed 002 art. 25 c.6). */
    decision: {
      type: new mongoose.Schema(
        {
          performDpia: { type: Boolean, required: true },
          reason: { type: String, required: true },
        },
        { _id: false },
      ),
      default: null,
      immutable: true,
    },
    dpiaToBePerformed: { type: Boolean, required: true, immutable: true },
    /** Seed 002 art. 9: the DPO advises on whether a DPIA is needed. */
    dpoOpinion: {
      type: new mongoose.Schema(
        {
          text: { type: String, required: true },
          givenOn: { type: String, default: null },
          by: { type: String, default: null },
        },
        { _id: false },
      ),
      default: null,
      immutable: true,
    },
    createdBy: { type: authorSchema, required: true, immutable: true },
    reportDocumentId: {
      type: mongoose.Schema.Types.ObjectId,
      ref: 'GeneratedDocument',
      default: null,
    },
  },
  { timestamps: true, minimize: false, toJSON: jsonView() },
);
screeningSchema.plugin(tenantScoped);
screeningSchema.index({ organisationId: 1, processingActivityId: 1 });

export type DpiaScreeningRecord = InferSchemaType<typeof screeningSchema>;
export const DpiaScreening = mongoose.model('DpiaScreening', screeningSchema);
export type DpiaScreeningDocument = InstanceType<typeof DpiaScreening>;

export const consultationStatuses = ['da-inviare', 'inviata', 'prorogata', 'riscontrata'] as const;

/** Art. 36: the request to the Garante and its clock. */
const priorConsultationSchema = new mongoose.Schema(
  {
    status: { type: String, enum: consultationStatuses, required: true },
    /** The DPIA version the request attaches. */
    version: { type: Number, required: true },
    documentId: { type: mongoose.Schema.Types.ObjectId, ref: 'GeneratedDocument', required: true },
    preparedOn: { type: String, required: true },
    sentOn: { type: String, default: null },
    protocollo: { type: String, default: null },
    /** Eight weeks from sending (art. 36(2)), fourteen once the Garante extends it. */
    dueDate: { type: String, default: null },
    extension: {
      type: new mongoose.Schema(
        {
          notifiedOn: { type: String, required: true },
          protocollo: { type: String, default: null },
        },
        { _id: false },
      ),
      default: null,
    },
    answer: {
      type: new mongoose.Schema(
        {
          receivedOn: { type: String, required: true },
          summary: { type: String, required: true },
        },
        { _id: false },
      ),
      default: null,
    },
  },
  { _id: false },
);

const draftSchema = new mongoose.Schema(
  {
    documentId: { type: mongoose.Schema.Types.ObjectId, ref: 'GeneratedDocument', required: true },
    date: { type: String, required: true },
  },
  { _id: false },
);

/** The DPIA of one processing activity (one per activity, hence per ente). */
const dpiaSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    processingActivityId: {
      type: mongoose.Schema.Types.ObjectId,
      ref: 'ProcessingActivity',
      required: true,
      immutable: true,
    },
    screeningId: { type: mongoose.Schema.Types.ObjectId, ref: 'DpiaScreening', required: true },
    /** Number of the current, editable version; versions below it are frozen DpiaVersion records. */
    version: { type: Number, required: true, default: 1 },
    versionStartedOn: { type: String, required: true },
    content: { type: dpiaContentSchema, required: true },
    /** Derived on every save: some residual risk is `elevato` (see riskLevel). */
    residualHighRisk: { type: Boolean, required: true, default: false },
    highResidualRiskIds: { type: [String], default: [] },
    /** The draft of the current version; cleared when the content changes. */
    draft: { type: draftSchema, default: null },
    priorConsultation: { type: priorConsultationSchema, default: null },
    /** Consultations the Garante answered on earlier versions. */
    pastConsultations: { type: [priorConsultationSchema], default: [] },
    createdBy: { type: authorSchema, required: true, immutable: true },
    updatedBy: { type: authorSchema, required: true },
  },
  { timestamps: true, minimize: false, toJSON: jsonView() },
);
dpiaSchema.plugin(tenantScoped);
dpiaSchema.pre('validate', function deriveResidualRisk() {
  // jsonView() types the schema's options, which hides its fields from `this` here.
  const dpia = this as unknown as {
    content: {
      risks: {
        id: string;
        residual?: { likelihood?: number | null; severity?: number | null } | null;
      }[];
    };
    residualHighRisk: boolean;
    highResidualRiskIds: string[];
  };
  const high = highResidualRisks(dpia.content.risks);
  dpia.residualHighRisk = high.length > 0;
  dpia.highResidualRiskIds = high.map((risk) => risk.id);
});
// One DPIA per processing activity: the insert on this key is what makes it exclusive.
dpiaSchema.index({ processingActivityId: 1 }, { unique: true });
dpiaSchema.index({ organisationId: 1, 'priorConsultation.status': 1 });

/** The risks whose residual likelihood and severity map to `elevato`. */
export function highResidualRisks<
  T extends { residual?: { likelihood?: number | null; severity?: number | null } | null },
>(risks: T[]): T[] {
  return risks.filter(
    (risk) =>
      typeof risk.residual?.likelihood === 'number' &&
      typeof risk.residual.severity === 'number' &&
      riskLevel(risk.residual.likelihood, risk.residual.severity) === 'elevato',
  );
}

export type DpiaRecord = InferSchemaType<typeof dpiaSchema>;
export const Dpia = mongoose.model('Dpia', dpiaSchema);
export type DpiaDocument = InstanceType<typeof Dpia>;
export type DpiaContent = InferSchemaType<typeof dpiaContentSchema>;

/** A frozen version: inserted once under (dpiaId, number), never updated. */
const dpiaVersionSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    dpiaId: { type: mongoose.Schema.Types.ObjectId, ref: 'Dpia', required: true, immutable: true },
    number: { type: Number, required: true, immutable: true },
    startedOn: { type: String, required: true, immutable: true },
    frozenOn: { type: String, required: true, immutable: true },
    frozenBy: { type: authorSchema, required: true, immutable: true },
    screeningId: { type: mongoose.Schema.Types.ObjectId, ref: 'DpiaScreening', required: true },
    content: { type: dpiaContentSchema, required: true, immutable: true },
    residualHighRisk: { type: Boolean, required: true, immutable: true },
    highResidualRiskIds: { type: [String], default: [], immutable: true },
    draft: { type: draftSchema, default: null, immutable: true },
  },
  { timestamps: true, minimize: false, toJSON: jsonView() },
);
dpiaVersionSchema.plugin(tenantScoped);
dpiaVersionSchema.index({ dpiaId: 1, number: 1 }, { unique: true });

export type DpiaVersionRecord = InferSchemaType<typeof dpiaVersionSchema>;
export const DpiaVersion = mongoose.model('DpiaVersion', dpiaVersionSchema);
