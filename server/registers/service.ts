import { setTimeout as sleep } from 'node:timers/promises';
import type { Types } from 'mongoose';
import { HttpProblem } from '../platform/http-problem.js';
import { isDuplicateKey } from '../people/fields.js';
import { RegisterEntry } from './model.js';

/** The registers every ente keeps; a template names one by key. */
export const registerNames: Record<string, string> = {
  'decreti-sindaco': 'Decreti del Sindaco',
  'atti-designato': 'Atti del Designato',
  'accordi-contitolarita': 'Accordi di contitolarità',
};

export function registerName(key: string): string {
  return registerNames[key] ?? key;
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
}

function registrationOf(entry: InstanceType<typeof RegisterEntry>): Registration {
  return {
    registerKey: entry.registerKey,
    year: entry.year,
    number: entry.number,
    date: entry.date,
    status: entry.status,
    documentId: entry.documentId ?? null,
  };
}

/**
 * Gives the act its number: the next one of the register's year, or the one it
 * already holds when numbering is retried. Concurrent callers race on the unique
 * (register, year, number) index; the loser reads the new last number and tries
 * the next, so numbers come out consecutive whatever the concurrency.
 */
export async function assignNumber(input: {
  registerKey: string;
  actKey: string;
  subject: string;
  date?: string;
}): Promise<Registration> {
  const held = await RegisterEntry.findOne({ actKey: input.actKey });
  if (held) return registrationOf(held);
  const date = input.date ?? todayInRome();
  const year = Number(date.slice(0, 4));
  for (let attempt = 0; attempt < 500; attempt += 1) {
    const last = await RegisterEntry.findOne({ registerKey: input.registerKey, year })
      .sort({ number: -1 })
      .select({ number: 1 })
      .lean();
    const number = (last?.number ?? 0) + 1;
    try {
      const entry = await RegisterEntry.create({
        registerKey: input.registerKey,
        year,
        number,
        actKey: input.actKey,
        date,
        subject: input.subject,
      });
      return registrationOf(entry);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const raced = await RegisterEntry.findOne({ actKey: input.actKey });
      if (raced) return registrationOf(raced);
      // Spread the retries of many concurrent callers a little.
      await sleep(Math.floor(Math.random() * Math.min(50, 2 + attempt * 2)));
    }
  }
  throw HttpProblem.unavailable(
    `Registro ${registerName(input.registerKey)}: numerazione troppo contesa, riprovare`,
  );
}

/** The act is complete: its document is stored and recorded. */
export async function markRecorded(
  actKey: string,
  documentId: Types.ObjectId | null,
): Promise<void> {
  await RegisterEntry.updateOne(
    { actKey },
    { $set: { status: 'recorded', documentId, recordedAt: new Date() } },
  );
}

export async function findRegistration(actKey: string): Promise<Registration | null> {
  const entry = await RegisterEntry.findOne({ actKey });
  return entry ? registrationOf(entry) : null;
}

/** Acts numbered but never completed (the process died, storage was down): to be finished. */
export async function pendingActKeys(olderThanMs: number, prefix: string): Promise<string[]> {
  const entries = await RegisterEntry.find({
    status: 'reserved',
    createdAt: { $lt: new Date(Date.now() - olderThanMs) },
  })
    .select({ actKey: 1 })
    .lean();
  return entries.map((entry) => entry.actKey).filter((key) => key.startsWith(prefix));
}

export async function listRegisterEntries(query: {
  registerKey: string;
  year: number;
  limit: number;
  offset: number;
}) {
  const filter = { registerKey: query.registerKey, year: query.year };
  const [items, total] = await Promise.all([
    RegisterEntry.find(filter).sort({ number: 1 }).skip(query.offset).limit(query.limit),
    RegisterEntry.countDocuments(filter),
  ]);
  return { items, total };
}

export async function listRegisters() {
  const rows = await RegisterEntry.aggregate<{
    _id: { registerKey: string; year: number };
    count: number;
    last: number;
    reserved: number;
  }>([
    {
      $group: {
        _id: { registerKey: '$registerKey', year: '$year' },
        count: { $sum: 1 },
        last: { $max: '$number' },
        reserved: { $sum: { $cond: [{ $eq: ['$status', 'reserved'] }, 1, 0] } },
      },
    },
    { $sort: { '_id.registerKey': 1, '_id.year': -1 } },
  ]);
  return rows.map((row) => ({
    key: row._id.registerKey,
    name: registerName(row._id.registerKey),
    year: row._id.year,
    count: row.count,
    lastNumber: row.last,
    pending: row.reserved,
  }));
}
