import mongoose, { type InferSchemaType } from 'mongoose';
import { tenantOwnership, tenantScoped } from '../platform/tenancy.js';
import { jsonView } from '../platform/json-view.js';

/**
 * One number of a register (e.g. "Decreti del Sindaco", 2026, n. 12), bound to
 * the act it numbers from the moment it exists. A number is only ever created by
 * inserting this record, and the unique indexes below make the insert the one
 * atomic step of numbering: there is no counter that can move ahead of the
 * entries, so a crash can leave an act half-issued but never a gap or a reused
 * number. The half-issued act keeps its number and is completed on retry.
 */
const registerEntrySchema = new mongoose.Schema(
  {
    /**
     * "<ente>:<actKey>": one entry per act, found by key (FerretDB v1 scans for
     * any other filter). The number is unique through the index below, and
     * inserts are atomic on FerretDB too, where conditional updates are not.
     */
    _id: { type: String, required: true },
    ...tenantOwnership,
    registerKey: { type: String, required: true, immutable: true },
    year: { type: Number, required: true, immutable: true },
    number: { type: Number, required: true, immutable: true, min: 1 },
    /** Which act holds the number, e.g. "appointment:<id>:nomina". One number per act. */
    actKey: { type: String, required: true, immutable: true },
    /** The act's date (Europe/Rome), fixed at numbering so that a retried act keeps it. */
    date: { type: String, required: true, immutable: true },
    subject: { type: String, required: true },
  },
  { timestamps: true, toJSON: jsonView() },
);
registerEntrySchema.plugin(tenantScoped);
registerEntrySchema.index(
  { organisationId: 1, registerKey: 1, year: 1, number: 1 },
  { unique: true },
);
registerEntrySchema.index({ organisationId: 1, actKey: 1 }, { unique: true });

export type RegisterEntryRecord = InferSchemaType<typeof registerEntrySchema>;
export const RegisterEntry = mongoose.model('RegisterEntry', registerEntrySchema);

/**
 * The act holding an entry is complete: its document is stored and recorded.
 * A record of its own, inserted, rather than a flag updated on the entry:
 * FerretDB v1 rewrites by scanning the collection on every update, and the
 * entries only grow. An entry without a record is an act still pending.
 */
const registerRecordSchema = new mongoose.Schema({
  /** The entry's _id. */
  _id: { type: String, required: true },
  ...tenantOwnership,
  documentId: { type: mongoose.Schema.Types.ObjectId, ref: 'GeneratedDocument', default: null },
  recordedAt: { type: Date, required: true, default: () => new Date() },
});
registerRecordSchema.plugin(tenantScoped);

export const RegisterRecord = mongoose.model('RegisterRecord', registerRecordSchema);

/**
 * Where to start looking for the next free number of a register's year. Only a
 * hint: it may lag behind the entries (a crash, a concurrent writer), never run
 * ahead of them, so numbering probes forward from it to the first free number.
 */
const registerCursorSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    ...tenantOwnership,
    last: { type: Number, required: true, default: 0 },
  },
  { timestamps: true },
);
registerCursorSchema.plugin(tenantScoped);

export const RegisterCursor = mongoose.model('RegisterCursor', registerCursorSchema);

export function entryIdFor(organisationId: { toString(): string }, actKey: string): string {
  return `${organisationId.toString()}:${actKey}`;
}
