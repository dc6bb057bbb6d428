import type { Types } from 'mongoose';
import { HttpProblem, type InvalidParam } from '../platform/http-problem.js';
import { inUseProblem, referenceProblem, sortSpec, type Reference } from '../people/fields.js';
import { Person } from '../people/model.js';
import { Settore } from './model.js';

export interface SettoreInput {
  name: string;
  code?: string | null | undefined;
  managerId?: string | null | undefined;
  email?: string | null | undefined;
}

export type SettoreChanges = Partial<SettoreInput> & { archived?: boolean | undefined };

export async function findSettore(settoreId: string) {
  const settore = await Settore.findById(settoreId);
  if (!settore) throw HttpProblem.notFound(`Settore ${settoreId} non trovato`);
  return settore;
}

/** The manager must be a person of the same ente, still in service. */
async function checkManager(managerId: string | null | undefined): Promise<void> {
  if (!managerId) return;
  const manager = await Person.findById(managerId);
  const problems: InvalidParam[] = [];
  if (!manager) problems.push({ name: 'body.managerId', reason: "persona inesistente nell'ente" });
  else if (manager.archived) {
    problems.push({ name: 'body.managerId', reason: 'la persona è archiviata' });
  }
  if (problems.length > 0) throw referenceProblem(problems);
}

export async function createSettore(input: SettoreInput) {
  await checkManager(input.managerId);
  return Settore.create(input);
}

/** People still assigned to the settore. */
async function settoreReferences(settoreId: Types.ObjectId): Promise<Reference[]> {
  const people = await Person.find({ settoreId, archived: false }).sort({ searchName: 1 });
  return people.map((person) => ({
    kind: 'person' as const,
    id: person.id,
    description: `${person.firstName} ${person.lastName} vi è assegnato/a`,
  }));
}

async function refuseIfReferenced(settore: Awaited<ReturnType<typeof findSettore>>) {
  const references = await settoreReferences(settore._id);
  if (references.length > 0) throw inUseProblem(`Il settore «${settore.name}»`, references);
}

export async function updateSettore(settoreId: string, changes: SettoreChanges) {
  const settore = await findSettore(settoreId);
  const { archived, ...fields } = changes;
  await checkManager(fields.managerId);
  if (archived === true && !settore.archived) await refuseIfReferenced(settore);
  settore.set({ ...fields, ...(archived === undefined ? {} : { archived }) });
  await settore.save();
  return settore;
}

/** Archives rather than deletes: acts already made keep pointing to the settore. */
export async function archiveSettore(settoreId: string) {
  const settore = await findSettore(settoreId);
  if (settore.archived) return settore;
  await refuseIfReferenced(settore);
  settore.archived = true;
  await settore.save();
  return settore;
}

export async function listSettori(query: {
  includeArchived: 'true' | 'false';
  sort: string;
  limit: number;
  offset: number;
}) {
  const filter = query.includeArchived === 'true' ? {} : { archived: false };
  const [items, total] = await Promise.all([
    Settore.find(filter).sort(sortSpec(query.sort)).skip(query.offset).limit(query.limit),
    Settore.countDocuments(filter),
  ]);
  return { items, total };
}
