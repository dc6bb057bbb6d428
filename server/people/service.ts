import type { Types } from 'mongoose';
import { HttpProblem, type InvalidParam } from '../platform/http-problem.js';
import { Organisation } from '../organisations/model.js';
import { Settore } from '../settori/model.js';
import { activeStatuses, Appointment } from '../appointments/model.js';
import { roleDescriptions } from '../appointments/acts.js';
import {
  inUseProblem,
  isDuplicateKey,
  referenceProblem,
  searchable,
  sortSpec,
  wordsFilter,
  type Reference,
} from './fields.js';
import { genderFromCodiceFiscale } from './italian-codes.js';
import { Person, type personKinds, type personTitles } from './model.js';

export interface PersonInput {
  firstName: string;
  lastName: string;
  title?: (typeof personTitles)[number] | null | undefined;
  gender: 'M' | 'F';
  taxCode: string;
  role?: string | null | undefined;
  settoreId?: string | null | undefined;
  email?: string | null | undefined;
  kind?: (typeof personKinds)[number] | undefined;
}

export type PersonChanges = Partial<PersonInput> & { archived?: boolean | undefined };

export async function findPerson(personId: string) {
  const person = await Person.findById(personId);
  if (!person) throw HttpProblem.notFound(`Persona ${personId} non trovata`);
  return person;
}

/** Whether a person of the ente, not archived, has this id: for references from other records. */
export async function isUsablePerson(personId: string | Types.ObjectId): Promise<boolean> {
  return (await Person.exists({ _id: personId, archived: false })) !== null;
}

async function checkSettore(settoreId: string | null | undefined): Promise<InvalidParam[]> {
  if (!settoreId) return [];
  const settore = await Settore.findById(settoreId);
  if (!settore) return [{ name: 'body.settoreId', reason: "settore inesistente nell'ente" }];
  if (settore.archived) return [{ name: 'body.settoreId', reason: 'il settore è archiviato' }];
  return [];
}

/** The codice fiscale says whether its holder is a man or a woman; a mismatch is a typo. */
function checkGender(taxCode: string, gender: 'M' | 'F'): void {
  if (genderFromCodiceFiscale(taxCode) !== gender) {
    throw HttpProblem.badRequest('Il sesso non corrisponde al codice fiscale', [
      {
        name: 'body.gender',
        reason: `il codice fiscale ${taxCode} è di ${gender === 'M' ? 'una donna' : 'un uomo'}`,
      },
    ]);
  }
}

async function refuseDuplicateTaxCode(taxCode: string, exceptId?: Types.ObjectId): Promise<void> {
  const existing = await Person.findOne({
    taxCode,
    ...(exceptId ? { _id: { $ne: exceptId } } : {}),
  });
  if (existing) throw duplicateTaxCode(taxCode, existing.id, existing.archived);
}

function duplicateTaxCode(taxCode: string, existingId?: string, archived = false): HttpProblem {
  return HttpProblem.conflict(
    `Esiste già una persona con codice fiscale ${taxCode}` +
      (archived ? ' (archiviata: ripristinarla con archived=false)' : ''),
    {
      invalidParams: [{ name: 'body.taxCode', reason: 'codice fiscale già presente nell’ente' }],
      ...(existingId ? { existingId } : {}),
    },
  );
}

export async function createPerson(input: PersonInput) {
  checkGender(input.taxCode, input.gender);
  const problems = await checkSettore(input.settoreId);
  if (problems.length > 0) throw referenceProblem(problems);
  await refuseDuplicateTaxCode(input.taxCode);
  try {
    return await Person.create({
      ...input,
      searchName: searchable(`${input.lastName} ${input.firstName}`),
    });
  } catch (error) {
    // Two concurrent creations pass the look-up; the unique index stops the second.
    if (isDuplicateKey(error)) throw duplicateTaxCode(input.taxCode);
    throw error;
  }
}

export async function updatePerson(personId: string, changes: PersonChanges) {
  const person = await findPerson(personId);
  const { archived, ...fields } = changes;
  if (fields.taxCode !== undefined || fields.gender !== undefined) {
    checkGender(fields.taxCode ?? person.taxCode, fields.gender ?? person.gender);
  }
  const problems = await checkSettore(fields.settoreId);
  if (problems.length > 0) throw referenceProblem(problems);
  if (fields.taxCode !== undefined && fields.taxCode !== person.taxCode) {
    await refuseDuplicateTaxCode(fields.taxCode, person._id);
  }
  if (archived === true && !person.archived) await refuseIfReferenced(person);
  person.set({ ...fields, ...(archived === undefined ? {} : { archived }) });
  person.searchName = searchable(`${person.lastName} ${person.firstName}`);
  try {
    await person.save();
  } catch (error) {
    if (isDuplicateKey(error)) throw duplicateTaxCode(person.taxCode);
    throw error;
  }
  return person;
}

/**
 * What still names the person: a settore it manages, the ente it represents, a
 * privacy role it holds (to be revoked first, by its own act).
 */
export async function personReferences(person: {
  _id: Types.ObjectId;
  organisationId: Types.ObjectId;
}): Promise<Reference[]> {
  const [settori, organisation, appointments] = await Promise.all([
    Settore.find({ managerId: person._id, archived: false }),
    // The organisation is the tenant root, not tenant-scoped: it is named explicitly.
    Organisation.findOne({
      _id: person.organisationId,
      'legalRepresentative.personId': person._id,
    }),
    Appointment.find({ personId: person._id, status: { $in: activeStatuses } }),
  ]);
  return [
    ...settori.map((settore) => ({
      kind: 'settore' as const,
      id: settore.id,
      description: `responsabile del settore «${settore.name}»`,
    })),
    ...appointments.map((appointment) => {
      const nomina = appointment.acts.find((act) => act.kind === 'nomina');
      return {
        kind: 'appointment' as const,
        id: appointment.id,
        description: `${roleDescriptions[appointment.role].role} in carica${
          nomina
            ? ` (atto n. ${nomina.number} del ${nomina.date}, registro ${nomina.registerKey})`
            : ''
        }: revocarla prima di archiviare la persona`,
      };
    }),
    ...(organisation
      ? [
          {
            kind: 'organisation' as const,
            id: organisation.id,
            description: `legale rappresentante dell'ente (${organisation.legalRepresentative?.role ?? ''})`,
          },
        ]
      : []),
  ];
}

async function refuseIfReferenced(person: Awaited<ReturnType<typeof findPerson>>): Promise<void> {
  const references = await personReferences(person);
  if (references.length > 0) {
    throw inUseProblem(`La persona ${person.firstName} ${person.lastName}`, references);
  }
}

/** Archives rather than deletes: acts already made keep pointing to the person. */
export async function archivePerson(personId: string) {
  const person = await findPerson(personId);
  if (person.archived) return person;
  await refuseIfReferenced(person);
  person.archived = true;
  await person.save();
  return person;
}

export interface PeopleQuery {
  q?: string | undefined;
  settoreId?: string | undefined;
  kind?: (typeof personKinds)[number] | undefined;
  includeArchived: 'true' | 'false';
  sort: string;
  limit: number;
  offset: number;
}

export async function listPeople(query: PeopleQuery) {
  const filter = {
    ...(query.includeArchived === 'true' ? {} : { archived: false }),
    ...(query.settoreId ? { settoreId: query.settoreId } : {}),
    ...(query.kind ? { kind: query.kind } : {}),
    ...wordsFilter('searchName', query.q),
  };
  const [items, total] = await Promise.all([
    Person.find(filter)
      .sort(sortSpec(query.sort, { lastName: 'searchName' }))
      .skip(query.offset)
      .limit(query.limit),
    Person.countDocuments(filter),
  ]);
  return { items, total };
}
