import mongoose, { type InferSchemaType, type Types } from 'mongoose';
import { tenantOwnership, tenantScoped } from '../platform/tenancy.js';

/**
 * The legal bases a registro entry can cite. Art. 6(1) is always needed; special
 * categories (art. 9) also need one of the art. 9(2) conditions, and judicial data
 * (art. 10) a legal authorisation (art. 10 GDPR, art. 2-octies Codice).
 */
export const legalBases = [
  {
    code: 'art6.1.a',
    group: 'art6',
    label: "Consenso dell'interessato (art. 6, par. 1, lett. a) GDPR)",
  },
  {
    code: 'art6.1.b',
    group: 'art6',
    label: 'Esecuzione di un contratto o di misure precontrattuali (art. 6, par. 1, lett. b) GDPR)',
  },
  {
    code: 'art6.1.c',
    group: 'art6',
    label: 'Adempimento di un obbligo legale del titolare (art. 6, par. 1, lett. c) GDPR)',
  },
  {
    code: 'art6.1.d',
    group: 'art6',
    label:
      "Salvaguardia degli interessi vitali dell'interessato o di altri (art. 6, par. 1, lett. d) GDPR)",
  },
  {
    code: 'art6.1.e',
    group: 'art6',
    label:
      'Esecuzione di un compito di interesse pubblico o connesso all’esercizio di pubblici poteri (art. 6, par. 1, lett. e) GDPR)',
  },
  {
    code: 'art6.1.f',
    group: 'art6',
    label:
      'Legittimo interesse del titolare o di terzi (art. 6, par. 1, lett. f) GDPR; non applicabile ai trattamenti delle autorità pubbliche nell’esecuzione dei loro compiti)',
  },
  {
    code: 'art9.2.a',
    group: 'art9',
    label: "Consenso esplicito dell'interessato (art. 9, par. 2, lett. a) GDPR)",
  },
  {
    code: 'art9.2.b',
    group: 'art9',
    label:
      'Obblighi e diritti in materia di diritto del lavoro, sicurezza e protezione sociale (art. 9, par. 2, lett. b) GDPR)',
  },
  {
    code: 'art9.2.c',
    group: 'art9',
    label:
      "Interessi vitali dell'interessato fisicamente o giuridicamente incapace (art. 9, par. 2, lett. c) GDPR)",
  },
  {
    code: 'art9.2.d',
    group: 'art9',
    label:
      'Attività di fondazioni, associazioni o organismi senza scopo di lucro (art. 9, par. 2, lett. d) GDPR)',
  },
  {
    code: 'art9.2.e',
    group: 'art9',
    label: "Dati resi manifestamente pubblici dall'interessato (art. 9, par. 2, lett. e) GDPR)",
  },
  {
    code: 'art9.2.f',
    group: 'art9',
    label:
      'Accertare, esercitare o difendere un diritto in sede giudiziaria (art. 9, par. 2, lett. f) GDPR)',
  },
  {
    code: 'art9.2.g',
    group: 'art9',
    label:
      'Motivi di interesse pubblico rilevante (art. 9, par. 2, lett. g) GDPR e art. 2-sexies del D.Lgs. 196/2003)',
  },
  {
    code: 'art9.2.h',
    group: 'art9',
    label:
      'Medicina preventiva o del lavoro, assistenza o terapia sanitaria o sociale (art. 9, par. 2, lett. h) GDPR)',
  },
  {
    code: 'art9.2.i',
    group: 'art9',
    label:
      'Motivi di interesse pubblico nel settore della sanità pubblica (art. 9, par. 2, lett. i) GDPR)',
  },
  {
    code: 'art9.2.j',
    group: 'art9',
    label:
      'Archiviazione nel pubblico interesse, ricerca scientifica o storica, fini statistici (art. 9, par. 2, lett. j) GDPR)',
  },
  {
    code: 'art10',
    group: 'art10',
    label:
      "Trattamento sotto il controllo dell'autorità pubblica o autorizzato dal diritto dell'Unione o degli Stati membri (art. 10 GDPR)",
  },
  {
    code: 'art2-octies',
    group: 'art10',
    label:
      'Trattamento autorizzato da una norma di legge o di regolamento (art. 2-octies del D.Lgs. 196/2003)',
  },
] as const;

export type LegalBasisCode = (typeof legalBases)[number]['code'];
export type LegalBasisGroup = (typeof legalBases)[number]['group'];
export const legalBasisCodes = legalBases.map((basis) => basis.code) as [
  LegalBasisCode,
  ...LegalBasisCode[],
];

export const controllerRoles = ['titolare', 'contitolare', 'responsabile'] as const;
export type ControllerRole = (typeof controllerRoles)[number];
export const dataSpecialKinds = ['none', 'art9', 'art10'] as const;
export type DataSpecialKind = (typeof dataSpecialKinds)[number];
export const databaseKinds = ['informatico', 'cartaceo', 'misto'] as const;
export const dpiaAnswers = ['si', 'no', 'da-valutare'] as const;

/** Lower case without accents, so that "attivita" finds "attività". */
export function searchable(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[’']/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Codes are unique per ente regardless of case: "t01" and "T01" are the same entry. */
export function codeKeyFor(organisationId: Types.ObjectId, code: string): string {
  return `${organisationId.toString()}:${code.trim().toLowerCase()}`;
}

const personSchema = new mongoose.Schema(
  {
    userId: { type: mongoose.Schema.Types.ObjectId, ref: 'User', required: true },
    name: { type: String, required: true },
  },
  { _id: false },
);

const dataCategorySchema = new mongoose.Schema(
  {
    name: { type: String, required: true, trim: true },
    special: { type: String, enum: dataSpecialKinds, required: true, default: 'none' },
  },
  { _id: false },
);

const databaseSchema = new mongoose.Schema(
  {
    name: { type: String, required: true, trim: true },
    kind: { type: String, enum: databaseKinds, required: true },
    notes: { type: String, default: null },
  },
  { _id: false },
);

/**
 * One entry of the registro delle attività di trattamento (art. 30 GDPR; seed 002
 * art. 14). The ente's own contact details and the DPO's belong to the ente, not
 * to each entry, and are added when the registro is printed.
 */
const processingActivitySchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    name: { type: String, required: true, trim: true },
    code: { type: String, default: null, trim: true },
    purposes: {
      type: [String],
      validate: (value: string[]) => value.length > 0,
    },
    legalBasis: {
      type: [{ type: String, enum: legalBasisCodes }],
      validate: (value: string[]) => value.length > 0,
    },
    controllerRole: { type: String, enum: controllerRoles, required: true, default: 'titolare' },
    /** The other joint controllers (art. 26), or the controllers served as processor (art. 30(2)(a)). */
    otherControllers: { type: [String], default: [] },
    dataSubjectCategories: { type: [String], default: [] },
    personalDataCategories: { type: [dataCategorySchema], default: [] },
    /** Derived from personalDataCategories on every save, kept as fields so that lists can filter on them. */
    hasSpecialData: { type: Boolean, required: true, default: false },
    hasJudicialData: { type: Boolean, required: true, default: false },
    recipients: { type: [String], default: [] },
    transfersOutsideEU: {
      present: { type: Boolean, required: true, default: false },
      countries: { type: [String], default: [] },
      safeguards: { type: String, default: null },
    },
    retention: { type: String, required: true, trim: true },
    securityMeasures: { type: [String], default: [] },
    /** A settore of the ente (server/settori), checked to exist and be in use when assigned. */
    settoreId: { type: mongoose.Schema.Types.ObjectId, ref: 'Settore', default: null },
    databases: { type: [databaseSchema], default: [] },
    /** Responsabili esterni (art. 28) as written; they become supplier references once suppliers exist. */
    processors: { type: [String], default: [] },
    dpiaRequired: { type: String, enum: dpiaAnswers, required: true, default: 'da-valutare' },
    archived: { type: Boolean, required: true, default: false },
    archivedAt: { type: Date, default: null },
    archivedBy: { type: personSchema, default: null },
    createdBy: { type: personSchema, required: true },
    updatedBy: { type: personSchema, required: true },
    origin: {
      source: { type: String, enum: ['api', 'csv'], required: true, default: 'api' },
      /** The CSV import that created the entry: lets a failed import remove what it wrote. */
      importId: { type: mongoose.Schema.Types.ObjectId, default: null },
      row: { type: Number, default: null },
    },
    /**
     * `<organisationId>:<code in lower case>`, present only when there is a code.
     * Codes are unique per ente; a unique index on one sparse field does that on
     * FerretDB v1 (no partial indexes) and on MongoDB alike, where a compound
     * sparse index would still index, and collide on, entries without a code.
     */
    codeKey: { type: String, default: undefined },
    searchText: { type: String, required: true, default: '' },
    nameSort: { type: String, required: true, default: '' },
  },
  {
    timestamps: true,
    minimize: false,
    // Spelled out rather than jsonView(): a typed options object here would hide the
    // schema's field types from the pre('validate') hook below.
    toJSON: {
      virtuals: true,
      versionKey: false,
      transform: (_document, returned: Record<string, unknown>) => {
        delete returned._id;
        delete returned.codeKey;
        delete returned.searchText;
        delete returned.nameSort;
        return returned;
      },
    },
  },
);
processingActivitySchema.plugin(tenantScoped);

// Runs after tenantScoped's own pre('validate'), which fills in organisationId used by codeKey.
processingActivitySchema.pre('validate', function deriveFields() {
  const categories = this.personalDataCategories;
  this.hasSpecialData = categories.some((category) => category.special === 'art9');
  this.hasJudicialData = categories.some((category) => category.special === 'art10');
  const code = this.code?.trim() ? this.code.trim() : null;
  this.code = code;
  this.codeKey = code ? codeKeyFor(this.organisationId, code) : undefined;
  this.searchText = searchable([this.code ?? '', this.name, ...this.purposes].join(' '));
  this.nameSort = searchable(this.name);
});

processingActivitySchema.index({ codeKey: 1 }, { unique: true, sparse: true });
processingActivitySchema.index({ organisationId: 1, archived: 1, nameSort: 1 });
processingActivitySchema.index({ organisationId: 1, settoreId: 1 });

export type ProcessingActivityRecord = InferSchemaType<typeof processingActivitySchema>;
export const ProcessingActivity = mongoose.model('ProcessingActivity', processingActivitySchema);
export type ProcessingActivityDocument = InstanceType<typeof ProcessingActivity>;
