import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import mongoose, { type Types } from 'mongoose';
import { HttpProblem } from '../platform/http-problem.js';
import { isDuplicateKey } from '../people/fields.js';
import { currentTenant } from '../platform/tenancy.js';
import { entryIdFor, RegisterCursor, RegisterEntry, RegisterRecord } from './model.js';

/** The registers every ente keeps; a template names one by key. */
export const registerNames: Record<string, string> = {
  'decreti-sindaco': 'Decreti del Sindaco',
  'atti-designato': 'Atti del Designato',
  'accordi-contitolarita': 'Accordi di contitolarità',
  'contratti-privacy': 'Repertorio dei contratti ex art. 28 GDPR',
};

export function registerName(key: string): string {
  return registerNames[key] ?? key;
}

/** A calendar date (AAAA-MM-GG, Rome's) plus N days, counted on the calendar. */
export function addCalendarDays(date: string, days: number): string {
  const value = new Date(`${date}T12:00:00Z`);
  value.setUTCDate(value.getUTCDate() + days);
  return value.toISOString().slice(0, 10);
}

/**
 * The id of a numbered act's document, derived from the act: a retried issue
 * finds the record its first attempt made instead of making a second one.
 */
export function actDocumentId(actKey: string, organisationId: Types.ObjectId): Types.ObjectId {
  const digest = createHash('sha256')
    .update(`${organisationId.toString()}:${actKey}`)
    .digest('hex');
  return new mongoose.Types.ObjectId(digest.slice(0, 24));
}

/** Today's date in Italy as AAAA-MM-GG: acts are dated where they are adopted. */
export function todayInRome(now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Rome',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}

export interface Registration {
  registerKey: string;
  year: number;
  number: number;
  date: string;
  status: 'reserved' | 'recorded';
  documentId: Types.ObjectId | null;
  /** True when this call gave the number: no earlier attempt at the act can have left anything. */
  fresh: boolean;
}

type EntryFields = Pick<
  InstanceType<typeof RegisterEntry>,
  'registerKey' | 'year' | 'number' | 'date'
>;
type RecordFields = { documentId?: Types.ObjectId | null } | null | undefined;

function registrationOf(entry: EntryFields, record: RecordFields): Registration {
  return {
    registerKey: entry.registerKey,
    year: entry.year,
    number: entry.number,
    date: entry.date,
    status: record ? 'recorded' : 'reserved',
    documentId: record?.documentId ?? null,
    fresh: false,
  };
}

/** Entries and their records, by entry id (two queries). */
async function withRecords<T extends { _id: string }>(
  entries: T[],
  crossTenant = false,
): Promise<Map<string, { documentId?: Types.ObjectId | null }>> {
  if (entries.length === 0) return new Map();
  const records = await RegisterRecord.find({ _id: { $in: entries.map((entry) => entry._id) } })
    .select({ documentId: 1 })
    .setOptions({ crossTenant })
    .lean();
  return new Map(records.map((record) => [record._id, record]));
}

/**
 * The last number this process gave in each register's year: where it starts
 * probing next time, without reading the stored cursor. Entries are never
 * deleted, so it can only lag behind them, never run ahead.
 */
const lastNumbers = new Map<string, number>();
/** How often the stored cursor is moved; other processes probe at most this far. */
const cursorStride = 10;

/**
 * Gives the act its number: the next one of the register's year, or the one it
 * already holds when numbering is retried. A number exists only as an entry
 * whose _id is the number, inserted for one act; concurrent callers that reach
 * the same number lose the insert and try the next. Numbers therefore run
 * without gaps or duplicates whatever the concurrency, and a crash at any point
 * leaves either no entry or an entry bound to its act, to be completed.
 */
export async function assignNumber(input: {
  registerKey: string;
  actKey: string;
  subject: string;
  date?: string;
  /** The caller has just looked and found no entry for the act. */
  knownUnnumbered?: boolean;
}): Promise<Registration> {
  const organisationId = currentTenant();
  if (!organisationId) throw new Error('numbering outside a tenant');
  const entryId = entryIdFor(organisationId, input.actKey);
  if (!input.knownUnnumbered) {
    const held = await findRegistration(input.actKey);
    if (held) return held;
  }
  const date = input.date ?? todayInRome();
  const year = Number(date.slice(0, 4));
  const cursorId = `${organisationId.toString()}:${input.registerKey}:${year}`;
  const remembered = lastNumbers.get(cursorId);
  const cursor =
    remembered === undefined ? await RegisterCursor.findById(cursorId).lean() : undefined;
  let number = (remembered ?? cursor?.last ?? 0) + 1;
  for (let attempt = 0; attempt < 10_000; attempt += 1) {
    try {
      const entry = await RegisterEntry.create({
        _id: entryId,
        registerKey: input.registerKey,
        year,
        number,
        actKey: input.actKey,
        date,
        subject: input.subject,
      });
      const previous = lastNumbers.get(cursorId) ?? 0;
      if (number > previous) lastNumbers.set(cursorId, number);
      // The stored cursor is a hint for other processes: kept roughly up to date.
      if (cursor === null) await advanceCursor(cursorId, number, false);
      else if (number % cursorStride === 0 || cursor) await advanceCursor(cursorId, number, true);
      return { ...registrationOf(entry, null), fresh: true };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const raced = await findRegistration(input.actKey);
      if (raced) return raced;
      number += 1;
      // Many callers probing the same numbers at once: let them spread out a little.
      if (attempt > 0 && attempt % 5 === 0) await sleep(Math.floor(Math.random() * 20));
    }
  }
  throw HttpProblem.unavailable(
    `Registro ${registerName(input.registerKey)}: numerazione troppo contesa, riprovare`,
  );
}

async function advanceCursor(cursorId: string, number: number, exists: boolean): Promise<void> {
  try {
    // By id only (FerretDB scans richer filters); a concurrent writer may set a
    // lower number last, which only makes the next caller probe a little more.
    if (exists) {
      await RegisterCursor.updateOne({ _id: cursorId }, { $set: { last: number } }).setOptions({
        crossTenant: true,
      });
    } else await RegisterCursor.create({ _id: cursorId, last: number });
  } catch (error) {
    // Another caller created the cursor first: it moves on with the next number.
    if (!isDuplicateKey(error)) throw error;
  }
}

/** The act is complete: its document is stored and recorded. */
export async function markRecorded(
  actKey: string,
  documentId: Types.ObjectId | null,
): Promise<void> {
  try {
    await RegisterRecord.create({
      _id: entryIdFor(tenantOrFail(), actKey),
      documentId: documentId ?? undefined,
    });
  } catch (error) {
    // Recorded already by a concurrent or earlier attempt at the same act.
    if (!isDuplicateKey(error)) throw error;
  }
}

/** The registrations some acts already hold, by act key (two queries). */
export async function registrationsOf(actKeys: string[]): Promise<Map<string, Registration>> {
  const organisationId = tenantOrFail();
  const entries = await RegisterEntry.find({
    _id: { $in: actKeys.map((actKey) => entryIdFor(organisationId, actKey)) },
  }).lean();
  const records = await withRecords(entries);
  return new Map(
    entries.map((entry) => [entry.actKey, registrationOf(entry, records.get(entry._id))]),
  );
}

function tenantOrFail() {
  const organisationId = currentTenant();
  if (!organisationId) throw new Error('registers are read within a tenant');
  return organisationId;
}

export async function findRegistration(actKey: string): Promise<Registration | null> {
  const id = entryIdFor(tenantOrFail(), actKey);
  const entry = await RegisterEntry.findById(id).lean();
  if (!entry) return null;
  return registrationOf(entry, await RegisterRecord.findById(id).lean());
}

/**
 * Acts numbered but never completed (the process died, storage was down), in
 * every ente: the sweep that completes them runs outside any request.
 */
export async function pendingActs(
  olderThanMs: number,
  prefix: string,
): Promise<{ organisationId: Types.ObjectId; actKey: string }[]> {
  const entries = await RegisterEntry.find({
    createdAt: { $lt: new Date(Date.now() - olderThanMs) },
  })
    .select({ actKey: 1, organisationId: 1 })
    .setOptions({ crossTenant: true })
    .lean();
  const records = await withRecords(entries, true);
  return entries
    .filter((entry) => !records.has(entry._id) && entry.actKey.startsWith(prefix))
    .map((entry) => ({ organisationId: entry.organisationId, actKey: entry.actKey }));
}

export async function listRegisterEntries(query: {
  registerKey: string;
  year: number;
  limit: number;
  offset: number;
}) {
  const filter = { registerKey: query.registerKey, year: query.year };
  const [entries, total] = await Promise.all([
    RegisterEntry.find(filter).sort({ number: 1 }).skip(query.offset).limit(query.limit).lean(),
    RegisterEntry.countDocuments(filter),
  ]);
  const records = await withRecords(entries);
  const items = entries.map((entry) => {
    const registration = registrationOf(entry, records.get(entry._id));
    return {
      id: entry._id,
      registerKey: entry.registerKey,
      year: entry.year,
      number: entry.number,
      actKey: entry.actKey,
      date: entry.date,
      subject: entry.subject,
      status: registration.status,
      documentId: registration.documentId?.toString() ?? null,
    };
  });
  return { items, total };
}

/**
 * The registers in use, per year, with count, last number and acts still pending.
 * Grouped here rather than in an aggregate: FerretDB v1 lacks `$max` in `$group`.
 */
export async function listRegisters() {
  const entries = await RegisterEntry.find({})
    .select({ registerKey: 1, year: 1, number: 1 })
    .lean();
  const records = await withRecords(entries);
  const groups = new Map<
    string,
    { key: string; year: number; count: number; lastNumber: number; pending: number }
  >();
  for (const entry of entries) {
    const id = `${entry.registerKey}:${entry.year}`;
    const group = groups.get(id) ?? {
      key: entry.registerKey,
      year: entry.year,
      count: 0,
      lastNumber: 0,
      pending: 0,
    };
    group.count += 1;
    group.lastNumber = Math.max(group.lastNumber, entry.number);
    if (!records.has(entry._id)) group.pending += 1;
    groups.set(id, group);
  }
  return [...groups.values()]
    .sort((a, b) => a.key.localeCompare(b.key) || b.year - a.year)
    .map((group) => ({ ...group, name: registerName(group.key) }));
}
