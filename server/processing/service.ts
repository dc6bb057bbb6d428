import { Types } from 'mongoose';
import type { Principal } from '../platform/auth.js';
import { HttpProblem, problemFromZod, type InvalidParam } from '../platform/http-problem.js';
import { Settore } from '../settori/model.js';
import {
  processingActivityInputSchema,
  type ProcessingActivityChanges,
  type ProcessingActivityInput,
} from './input.js';
import {
  ProcessingActivity,
  searchable,
  type ProcessingActivityDocument,
  type ProcessingActivityRecord,
} from './model.js';

export function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: number }).code === 11000;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function author(principal: Principal) {
  return { userId: principal.userId, name: principal.name };
}

/** The stored fields an input sets, with the defaults of the fields it leaves out. */
export function recordFields(input: ProcessingActivityInput) {
  return {
    name: input.name,
    code: input.code ?? null,
    purposes: input.purposes,
    legalBasis: [...new Set(input.legalBasis)],
    controllerRole: input.controllerRole ?? 'titolare',
    otherControllers: input.otherControllers ?? [],
    dataSubjectCategories: input.dataSubjectCategories,
    personalDataCategories: input.personalDataCategories.map((category) => ({
      name: category.name,
      special: category.special ?? 'none',
    })),
    recipients: input.recipients ?? [],
    transfersOutsideEU: {
      present: input.transfersOutsideEU?.present ?? false,
      countries: input.transfersOutsideEU?.countries ?? [],
      safeguards: input.transfersOutsideEU?.safeguards ?? null,
    },
    retention: input.retention,
    securityMeasures: input.securityMeasures ?? [],
    settoreId: input.settoreId ? new Types.ObjectId(input.settoreId) : null,
    databases: (input.databases ?? []).map((database) => ({
      name: database.name,
      kind: database.kind,
      notes: database.notes ?? null,
    })),
    processors: input.processors ?? [],
    dpiaRequired: input.dpiaRequired ?? 'da-valutare',
  };
}

/** A stored entry as the input that would write it again: the base a change is applied to. */
export function storedInput(record: ProcessingActivityRecord): ProcessingActivityInput {
  return {
    name: record.name,
    code: record.code ?? null,
    purposes: [...record.purposes],
    legalBasis: [...record.legalBasis],
    controllerRole: record.controllerRole,
    otherControllers: [...record.otherControllers],
    dataSubjectCategories: [...record.dataSubjectCategories],
    personalDataCategories: record.personalDataCategories.map((category) => ({
      name: category.name,
      special: category.special,
    })),
    recipients: [...record.recipients],
    transfersOutsideEU: {
      present: record.transfersOutsideEU?.present ?? false,
      countries: [...(record.transfersOutsideEU?.countries ?? [])],
      safeguards: record.transfersOutsideEU?.safeguards ?? null,
    },
    retention: record.retention,
    securityMeasures: [...record.securityMeasures],
    settoreId: record.settoreId ? record.settoreId.toString() : null,
    databases: record.databases.map((database) => ({
      name: database.name,
      kind: database.kind,
      notes: database.notes ?? null,
    })),
    processors: [...record.processors],
    dpiaRequired: record.dpiaRequired,
  };
}

/**
 * Why each of these settore ids cannot be used: absent from the ente, or archived.
 * Settori are tenant-scoped, so one of another ente is simply not found.
 */
export async function settoreProblems(ids: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const found = await Settore.find({ _id: { $in: unique } }, { archived: 1 });
  const archived = new Set(
    found.filter((settore) => settore.archived).map((settore) => settore.id),
  );
  const existing = new Set(found.map((settore) => settore.id));
  const problems = new Map<string, string>();
  for (const id of unique) {
    if (!existing.has(id.toLowerCase())) problems.set(id, "settore inesistente nell'ente");
    else if (archived.has(id.toLowerCase())) problems.set(id, 'il settore è archiviato');
  }
  return problems;
}

async function assertSettoreUsable(settoreId: string | null | undefined): Promise<void> {
  if (!settoreId) return;
  const problem = (await settoreProblems([settoreId])).get(settoreId);
  if (problem) {
    throw HttpProblem.badRequest(`Settore ${settoreId} non utilizzabile: ${problem}`, [
      { name: 'body.settoreId', reason: problem },
    ]);
  }
}

function duplicateCode(code: string | null | undefined): HttpProblem {
  const invalidParams: InvalidParam[] = [
    { name: 'body.code', reason: 'codice già usato da un altro trattamento dell’ente' },
  ];
  return HttpProblem.conflict(`Esiste già un trattamento con codice ${code ?? ''}`, {
    invalidParams,
  });
}

export async function createActivity(input: ProcessingActivityInput, principal: Principal) {
  await assertSettoreUsable(input.settoreId);
  try {
    return await ProcessingActivity.create({
      ...recordFields(input),
      createdBy: author(principal),
      updatedBy: author(principal),
      origin: { source: 'api' },
    });
  } catch (error) {
    if (isDuplicateKey(error)) throw duplicateCode(input.code);
    throw error;
  }
}

export async function findActivity(activityId: string): Promise<ProcessingActivityDocument> {
  const activity = await ProcessingActivity.findById(activityId);
  if (!activity) throw HttpProblem.notFound(`Trattamento ${activityId} non trovato`);
  return activity;
}

/** Applies the changes over the stored entry and validates the whole result, cross-field rules included. */
export async function updateActivity(
  activityId: string,
  changes: ProcessingActivityChanges,
  principal: Principal,
) {
  const activity = await findActivity(activityId);
  if (activity.archived) {
    throw HttpProblem.conflict(
      `Il trattamento ${activityId} è archiviato: ripristinarlo prima di modificarlo`,
    );
  }
  const merged = processingActivityInputSchema.safeParse({
    ...storedInput(activity),
    ...changes,
  });
  if (!merged.success) throw problemFromZod(merged.error, 'body');
  if (changes.settoreId) await assertSettoreUsable(changes.settoreId);
  activity.set({ ...recordFields(merged.data), updatedBy: author(principal) });
  try {
    await activity.save();
  } catch (error) {
    if (isDuplicateKey(error)) throw duplicateCode(merged.data.code);
    throw error;
  }
  return activity;
}

/**
 * Archiving keeps the entry (the registro must show what was processed and when)
 * and keeps any reference to it valid, so it needs no check for references.
 */
export async function archiveActivity(activityId: string, principal: Principal) {
  const activity = await findActivity(activityId);
  if (!activity.archived) {
    activity.set({
      archived: true,
      archivedAt: new Date(),
      archivedBy: author(principal),
      updatedBy: author(principal),
    });
    await activity.save();
  }
  return activity;
}

export async function restoreActivity(activityId: string, principal: Principal) {
  const activity = await findActivity(activityId);
  if (activity.archived) {
    activity.set({
      archived: false,
      archivedAt: null,
      archivedBy: null,
      updatedBy: author(principal),
    });
    await activity.save();
  }
  return activity;
}

export const sortOptions = {
  name: { nameSort: 1 },
  '-name': { nameSort: -1 },
  code: { code: 1 },
  '-code': { code: -1 },
  createdAt: { createdAt: 1 },
  '-createdAt': { createdAt: -1 },
  updatedAt: { updatedAt: 1 },
  '-updatedAt': { updatedAt: -1 },
} as const satisfies Record<string, Record<string, 1 | -1>>;

export interface ActivityFilter {
  q?: string | undefined;
  settoreId?: string | undefined;
  hasSpecialData?: boolean | undefined;
  hasJudicialData?: boolean | undefined;
  dpiaRequired?: string | undefined;
  archived: 'false' | 'true' | 'all';
  sort: keyof typeof sortOptions;
  limit: number;
  offset: number;
}

export async function listActivities(query: ActivityFilter) {
  const filter: Record<string, unknown> = {};
  if (query.archived !== 'all') filter.archived = query.archived === 'true';
  if (query.settoreId) filter.settoreId = new Types.ObjectId(query.settoreId);
  if (query.hasSpecialData !== undefined) filter.hasSpecialData = query.hasSpecialData;
  if (query.hasJudicialData !== undefined) filter.hasJudicialData = query.hasJudicialData;
  if (query.dpiaRequired) filter.dpiaRequired = query.dpiaRequired;
  const words = query.q ? searchable(query.q).split(' ').filter(Boolean) : [];
  if (words.length > 0) {
    filter.$and = words.map((word) => ({ searchText: { $regex: escapeRegex(word) } }));
  }
  const [items, total] = await Promise.all([
    ProcessingActivity.find(filter)
      // _id breaks ties, so that pages neither repeat nor skip entries.
      .sort({ ...sortOptions[query.sort], _id: 1 })
      .skip(query.offset)
      .limit(query.limit),
    ProcessingActivity.countDocuments(filter),
  ]);
  return { items, total };
}
