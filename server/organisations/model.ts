import mongoose, { type InferSchemaType } from 'mongoose';
import { jsonView } from '../platform/json-view.js';

export const organisationKinds = [
  'comune',
  'provincia',
  'citta-metropolitana',
  'regione',
  'unione-di-comuni',
  'altro',
] as const;
export type OrganisationKind = (typeof organisationKinds)[number];

export const dpoKinds = ['person', 'firm'] as const;

/** A postal address; suppliers use it too. */
export const addressSchema = new mongoose.Schema(
  {
    street: { type: String, required: true },
    cap: { type: String, required: true },
    city: { type: String, required: true },
    province: { type: String, required: true },
  },
  { _id: false },
);

export interface PostalAddress {
  street: string;
  cap: string;
  city: string;
  province: string;
}

/** An address on one line as acts write it: "Via Emilia 10, 40100 Bologna (BO)". */
export function addressLine(address: PostalAddress | null | undefined): string | undefined {
  return address
    ? `${address.street}, ${address.cap} ${address.city} (${address.province})`
    : undefined;
}

/** Where the ente's acts are dated: its town, or its name without "Comune di". */
export function placeOf(organisation: {
  name: string;
  address?: PostalAddress | null | undefined;
}): string {
  return (
    organisation.address?.city ??
    organisation.name.replace(/^(comune|provincia|unione)( dei comuni)? di /i, '')
  );
}

/** Who signs for the ente, and by which title: "Sindaco pro tempore". */
const legalRepresentativeSchema = new mongoose.Schema(
  {
    personId: { type: mongoose.Schema.Types.ObjectId, ref: 'Person', required: true },
    role: { type: String, required: true },
    /** E.g. "proclamazione del 10 giugno 2024". */
    appointmentAct: { type: String, default: null },
    since: { type: String, default: null },
  },
  { _id: false },
);

/**
 * The DPO is often a firm (e.g. "Grafiche E. Gaspari" with a contact person)
 * rather than a person, and is not necessarily in the ente's registry of people.
 */
const dpoSchema = new mongoose.Schema(
  {
    kind: { type: String, enum: dpoKinds, required: true },
    name: { type: String, required: true },
    contactPerson: { type: String, default: null },
    email: { type: String, required: true },
    pec: { type: String, default: null },
    phone: { type: String, default: null },
    appointmentAct: { type: String, default: null },
    appointedOn: { type: String, default: null },
  },
  { _id: false },
);

/** The bytes live in object storage; the record keeps their SHA-256 to check them on reading. */
const logoSchema = new mongoose.Schema(
  {
    key: { type: String, required: true },
    sha256: { type: String, required: true },
    contentType: { type: String, required: true },
    size: { type: Number, required: true },
    versionId: { type: String, default: null },
    uploadedAt: { type: Date, required: true },
  },
  {
    _id: false,
    toJSON: {
      // Storage keys and versions are internal; clients download through the API.
      transform: (_document, returned: Record<string, unknown>) => {
        delete returned.key;
        delete returned.versionId;
        return returned;
      },
    },
  },
);

const organisationSchema = new mongoose.Schema(
  {
    name: { type: String, required: true, trim: true },
    kind: { type: String, enum: organisationKinds, required: true, default: 'comune' },
    /** Sigla of the province the ente is in: "Provincia di Cremona" in the acts' heading. */
    province: { type: String, default: null },
    address: { type: addressSchema, default: null },
    pec: { type: String, default: null },
    email: { type: String, default: null },
    /** Codice fiscale numerico dell'ente (11 digits); often equal to the partita IVA. */
    taxCode: { type: String, default: null },
    vatNumber: { type: String, default: null },
    legalRepresentative: { type: legalRepresentativeSchema, default: null },
    dpo: { type: dpoSchema, default: null },
    /** Key of the regolamento privacy the acts cite (the ente's own or a shipped one). */
    regolamentoKey: { type: String, default: null },
    logo: { type: logoSchema, default: null },
  },
  {
    timestamps: true,
    toJSON: jsonView(),
  },
);

export type OrganisationRecord = InferSchemaType<typeof organisationSchema>;

/** The tenant root: every tenant-owned record points to one organisation. */
export const Organisation = mongoose.model('Organisation', organisationSchema);
