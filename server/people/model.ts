import mongoose, { type InferSchemaType } from 'mongoose';
import { tenantOwnership, tenantScoped } from '../platform/tenancy.js';
import { jsonView } from '../platform/json-view.js';

/** Titles as written before a name; with `gender` a template writes "dott.ssa" or "dott.". */
export const personTitles = ['dott', 'ing', 'avv', 'arch', 'geom', 'rag', 'prof', 'sig'] as const;
export const personKinds = ['employee', 'external'] as const;
export const genders = ['M', 'F'] as const;

/**
 * A person the ente's acts name: an employee (designato, responsabile di settore,
 * the sindaco) or an external person. Never deleted, only archived, so that acts
 * made earlier still point to someone.
 */
const personSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    firstName: { type: String, required: true, trim: true },
    lastName: { type: String, required: true, trim: true },
    title: { type: String, enum: [...personTitles, null], default: null },
    gender: { type: String, enum: genders, required: true },
    taxCode: { type: String, required: true, uppercase: true, trim: true },
    /** Qualifica or job title, e.g. "Istruttore direttivo amministrativo". */
    role: { type: String, default: null, trim: true },
    settoreId: { type: mongoose.Schema.Types.ObjectId, ref: 'Settore', default: null },
    email: { type: String, default: null, trim: true, lowercase: true },
    kind: { type: String, enum: personKinds, required: true, default: 'employee' },
    archived: { type: Boolean, required: true, default: false },
    /** "cognome nome", lower case and without accents: for word search and sorting by name. */
    searchName: { type: String, required: true },
  },
  {
    timestamps: true,
    toJSON: jsonView({ hidden: ['searchName'] }),
  },
);
personSchema.plugin(tenantScoped);
personSchema.index({ organisationId: 1, taxCode: 1 }, { unique: true });
personSchema.index({ organisationId: 1, searchName: 1 });
personSchema.index({ organisationId: 1, settoreId: 1 });

export type PersonRecord = InferSchemaType<typeof personSchema>;
export const Person = mongoose.model('Person', personSchema);
