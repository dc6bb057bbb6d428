/**
 * Appointments and their lifecycle: draft → issued → signed → accepted →
 * revoked / expired / superseded. Issuing and revoking produce numbered acts.
 * Each act is written to survive a crash at any step: its number is bound to it
 * first (server/registers), its document id is derived from that binding, and a
 * retry, by the user or by the recovery sweep, completes the same act.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Types } from 'mongoose';
import type { Principal } from '../platform/auth.js';
import { HttpProblem, type InvalidParam } from '../platform/http-problem.js';
import { findRepoRoot } from '../platform/local-servers.js';
import type { Logger } from '../platform/logger.js';
import { runInTenant } from '../platform/tenancy.js';
import type { ObjectStorage } from '../platform/storage.js';
import type { templateContextFor } from '../documents/service.js';
import { generateDocument } from '../documents/service.js';
import type { ModelRenderer } from '../documents/render-pool.js';
import { findTemplate, validateTemplateInput } from '../templates/service.js';
import { Person } from '../people/model.js';
import { isDuplicateKey } from '../people/fields.js';
import { ProcessingActivity } from '../processing/model.js';
import { Settore } from '../settori/model.js';
import { Supplier } from '../suppliers/model.js';
import {
  assignNumber,
  findRegistration,
  markRecorded,
  actDocumentId,
  pendingActs,
  type Registration,
  todayInRome,
} from '../registers/service.js';
import {
  issueProblems,
  nominaData,
  nominaTemplates,
  registerFor,
  revocaData,
  revocaTemplate,
  roleDescriptions,
} from './acts.js';
import type { FactCache } from './facts.js';
import { isActive, loadFacts, type ActFacts } from './facts.js';
import type { AppointmentChanges, NewAppointment } from './input.js';
import {
  activeStatuses,
  Appointment,
  type AppointmentDocument,
  type AppointmentRole,
  type AppointmentStatus,
} from './model.js';

export type Actor = Pick<Principal, 'organisationId' | 'userId' | 'name'>;

export interface ActDependencies {
  storage: ObjectStorage;
  render: ModelRenderer;
  /** Shared by the acts of one bulk job. */
  cache?: FactCache;
  /**
   * Runs numbering one act at a time: a bulk job numbering its own acts in
   * turn spares the database the races of concurrent numbering.
   */
  numbering?: <T>(work: () => Promise<T>) => Promise<T>;
  /** Receives each act's files as they are stored (a bulk job assembles them). */
  onStored?: (documentId: Types.ObjectId, files: { pdf: Uint8Array; docx: Uint8Array }) => void;
}

/** Templates by key, loaded once per bulk job (a job uses the version current at its start). */
function templateFor(key: string, deps: ActDependencies) {
  return deps.cache ? deps.cache.template(key) : findTemplate(key);
}

const defaultLegalBasis: Record<AppointmentRole, string> = {
  designato: 'art. 2-quaterdecies del D.Lgs. 196/2003',
  autorizzato: 'art. 29 del Regolamento (UE) 2016/679 e art. 2-quaterdecies del D.Lgs. 196/2003',
  rpd: 'artt. 37–39 del Regolamento (UE) 2016/679',
  'amministratore-sistema':
    'provvedimento del Garante per la protezione dei dati personali del 27 novembre 2008',
  'responsabile-esterno': 'art. 28 del Regolamento (UE) 2016/679',
  'sub-responsabile': 'art. 28, parr. 2 e 4, del Regolamento (UE) 2016/679',
  contitolare: 'art. 26 del Regolamento (UE) 2016/679',
};

const repoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
let standardInstructions: Promise<string[]> | undefined;

/** The instructions Sigillo attaches to an autorizzazione when the ente gives none. */
export function loadStandardInstructions(): Promise<string[]> {
  standardInstructions ??= readFile(
    path.join(repoRoot, 'data', 'atti', 'istruzioni-autorizzati.json'),
    'utf8',
  ).then((text) => JSON.parse(text) as string[]);
  return standardInstructions;
}

export async function findAppointment(appointmentId: string | Types.ObjectId) {
  const appointment = await Appointment.findById(appointmentId);
  if (!appointment) throw HttpProblem.notFound(`Nomina ${appointmentId.toString()} non trovata`);
  return appointment;
}

function unprocessable(detail: string, invalidParams: InvalidParam[]): HttpProblem {
  return new HttpProblem(422, 'Atto non emettibile', detail, { invalidParams });
}

function wrongState(appointment: AppointmentDocument, action: string): HttpProblem {
  return HttpProblem.conflict(
    `Impossibile ${action}: la nomina è nello stato "${appointment.status}"`,
    { currentState: appointment.status },
  );
}

async function appointeeName(fields: {
  personId?: string | null | undefined;
  supplierId?: string | null | undefined;
}): Promise<{ name: string; problems: InvalidParam[] }> {
  const problems: InvalidParam[] = [];
  let name = '';
  if (fields.personId) {
    const person = await Person.findById(fields.personId);
    if (!person) problems.push({ name: 'personId', reason: "persona inesistente nell'ente" });
    else if (person.archived)
      problems.push({ name: 'personId', reason: 'la persona è archiviata' });
    else name = `${person.firstName} ${person.lastName}`;
  }
  if (fields.supplierId) {
    const supplier = await Supplier.findById(fields.supplierId);
    if (!supplier) problems.push({ name: 'supplierId', reason: "fornitore inesistente nell'ente" });
    else if (supplier.archived) {
      problems.push({ name: 'supplierId', reason: 'il fornitore è archiviato' });
    } else name ||= supplier.name;
  }
  return { name, problems };
}

/** The Designato in office for a settore, if any. */
export async function currentDesignato(settoreId: Types.ObjectId | string) {
  return Appointment.findOne({
    role: 'designato',
    status: { $in: activeStatuses },
    settoreIds: settoreId,
  });
}

/**
 * Fills what the records already know: the settore's activities and databases,
 * the settore's Designato as authority of an autorizzazione, standard instructions.
 */
async function withDefaults(
  role: AppointmentRole,
  fields: Omit<NewAppointment, 'role'>,
): Promise<{ values: Record<string, unknown>; problems: InvalidParam[] }> {
  const problems: InvalidParam[] = [];
  const values: Record<string, unknown> = { ...fields };
  const settoreIds = fields.settoreIds ?? [];
  for (const [index, id] of settoreIds.entries()) {
    const settore = await Settore.findById(id);
    if (!settore)
      problems.push({ name: `settoreIds.${index}`, reason: "settore inesistente nell'ente" });
  }
  let activityIds = fields.processingActivityIds;
  if (activityIds === undefined && settoreIds.length > 0 && role !== 'sub-responsabile') {
    const activities = await ProcessingActivity.find({
      settoreId: { $in: settoreIds },
      archived: false,
    })
      .select({ _id: 1 })
      .lean();
    activityIds = activities.map((activity) => activity._id.toString());
    values.processingActivityIds = activityIds;
  }
  const activities = await ProcessingActivity.find({ _id: { $in: activityIds ?? [] } }).lean();
  for (const [index, id] of (activityIds ?? []).entries()) {
    if (!activities.some((activity) => activity._id.toString() === id)) {
      problems.push({
        name: `processingActivityIds.${index}`,
        reason: "trattamento inesistente nel registro dell'ente",
      });
    }
  }
  if (fields.databases === undefined) {
    values.databases = [
      ...new Set(activities.flatMap((activity) => activity.databases.map((db) => db.name))),
    ];
  }
  const authorityKind =
    fields.authority?.kind ?? (role === 'autorizzato' ? 'designato' : 'sindaco');
  let authorityAppointmentId = fields.authority?.appointmentId ?? null;
  if (authorityKind === 'designato' && !authorityAppointmentId && settoreIds[0]) {
    authorityAppointmentId = (await currentDesignato(settoreIds[0]))?.id ?? null;
  }
  values.authority = { kind: authorityKind, appointmentId: authorityAppointmentId };
  if (role === 'autorizzato' && fields.instructions === undefined) {
    values.instructions = await loadStandardInstructions();
  }
  if (fields.legalBasis === undefined) values.legalBasis = defaultLegalBasis[role];
  return { values, problems };
}

export async function createAppointment(input: NewAppointment, actor: Actor) {
  const { role, ...fields } = input;
  const { values, problems } = await withDefaults(role, fields);
  const appointee = await appointeeName(fields);
  problems.push(...appointee.problems);
  if (role === 'contitolare' && !appointee.name) {
    appointee.name = fields.jointController?.parties.join(', ') ?? '';
  }
  if (!appointee.name && problems.length === 0) {
    problems.push({
      name: 'personId',
      reason: 'indicare la persona (personId) o il fornitore (supplierId)',
    });
  }
  if (problems.length > 0) throw unprocessable('Dati della nomina non validi', problems);
  return Appointment.create({
    ...values,
    role,
    appointeeName: appointee.name,
    status: 'draft',
    transitions: [{ from: null, to: 'draft', at: new Date(), by: actorOf(actor) }],
  });
}

function actorOf(actor: Pick<Actor, 'userId' | 'name'>) {
  return { userId: actor.userId, name: actor.name };
}

export async function updateDraft(appointmentId: string, changes: AppointmentChanges) {
  const appointment = await findAppointment(appointmentId);
  if (appointment.status !== 'draft') throw wrongState(appointment, 'modificare la nomina');
  const merged = {
    personId: appointment.personId?.toString() ?? null,
    supplierId: appointment.supplierId?.toString() ?? null,
    settoreIds: appointment.settoreIds.map((id) => id.toString()),
    ...changes,
  };
  const { values, problems } = await withDefaults(appointment.role, {
    ...merged,
    // Defaults apply only to what the change touches.
    processingActivityIds:
      changes.processingActivityIds ??
      (changes.settoreIds ? undefined : appointment.processingActivityIds.map(String)),
    databases:
      changes.databases ?? (changes.processingActivityIds ? undefined : appointment.databases),
    instructions: changes.instructions ?? appointment.instructions,
    legalBasis: changes.legalBasis ?? appointment.legalBasis,
    authority: changes.authority ?? {
      kind: appointment.authority.kind,
      appointmentId: appointment.authority.appointmentId?.toString() ?? null,
    },
  });
  const appointee = await appointeeName(merged);
  problems.push(...appointee.problems);
  if (problems.length > 0) throw unprocessable('Dati della nomina non validi', problems);
  const updated = await Appointment.findOneAndUpdate(
    { _id: appointment._id, status: 'draft' },
    { $set: { ...values, appointeeName: appointee.name || appointment.appointeeName } },
    { returnDocument: 'after' },
  );
  if (!updated) throw wrongState(await findAppointment(appointmentId), 'modificare la nomina');
  return updated;
}

export async function deleteDraft(appointmentId: string) {
  const appointment = await findAppointment(appointmentId);
  const deleted = await Appointment.deleteOne({ _id: appointment._id, status: 'draft' });
  if (deleted.deletedCount !== 1) throw wrongState(appointment, 'eliminare la nomina');
}

const nominaKey = (appointment: AppointmentDocument) => `appointment:${appointment.id}:nomina`;
const revocaKey = (appointment: AppointmentDocument) => `appointment:${appointment.id}:revoca`;

function subjectOf(appointment: AppointmentDocument, kind: 'nomina' | 'revoca'): string {
  const description = roleDescriptions[appointment.role];
  return kind === 'nomina'
    ? `${description.act[0]?.toUpperCase() ?? ''}${description.act.slice(1)}: ${appointment.appointeeName}`
    : `Revoca del ${description.act}: ${appointment.appointeeName}`;
}

interface PlannedAct {
  actKey: string;
  registerKey: string;
  templateKey: string | null;
  subject: string;
  data: Record<string, unknown>;
  /** The act takes effect on its own date unless the appointment says otherwise. */
  startsOnActDate: boolean;
}

function actData(plan: PlannedAct, number: number, date: string): Record<string, unknown> {
  return {
    ...plan.data,
    ...(plan.startsOnActDate && plan.data.decorrenza === undefined ? { decorrenza: date } : {}),
    numero: number,
    dataAtto: date,
  };
}

/** Renders, stores and records the numbered act; the same call again completes it. */
async function produceAct(
  appointment: AppointmentDocument,
  plan: PlannedAct,
  actor: Actor,
  deps: ActDependencies,
  sources: Awaited<ReturnType<typeof templateContextFor>> | undefined,
  known: Registration | null,
) {
  const number = async () =>
    known ??
    assignNumber({
      registerKey: plan.registerKey,
      actKey: plan.actKey,
      subject: plan.subject,
      knownUnnumbered: true,
    });
  const registration = await (deps.numbering ? deps.numbering(number) : number());
  let documentId: Types.ObjectId | null = null;
  if (plan.templateKey) {
    const template = await templateFor(plan.templateKey, deps);
    const document = await generateDocument({
      templateKey: plan.templateKey,
      template,
      data: actData(plan, registration.number, registration.date),
      principal: actor,
      storage: deps.storage,
      render: deps.render,
      documentId: actDocumentId(plan.actKey, appointment.organisationId),
      // A number given just now: no earlier attempt can have stored this act's document.
      documentIsNew: registration.fresh,
      registration,
      ...(deps.onStored
        ? {
            onStored: (files: { pdf: Uint8Array; docx: Uint8Array }) =>
              deps.onStored?.(actDocumentId(plan.actKey, appointment.organisationId), files),
          }
        : {}),
      ...(sources ? { sources } : {}),
    });
    documentId = document._id;
  }

  if (registration.status !== 'recorded') await markRecorded(plan.actKey, documentId);
  return { registration, documentId };
}

/** Checks the act can be written before it takes a number: numbers are never given back. */
async function checkRenderable(plan: PlannedAct, deps: ActDependencies): Promise<void> {
  if (!plan.templateKey) return;
  const template = await templateFor(plan.templateKey, deps);
  try {
    validateTemplateInput(template, actData(plan, 1, todayInRome()));
  } catch (error) {
    if (error instanceof HttpProblem) {
      throw new HttpProblem(
        422,
        'Atto non emettibile',
        `Mancano dati obbligatori per l'atto (modello ${plan.templateKey}): completare le schede indicate`,
        error.extensions,
      );
    }
    throw error;
  }
}

async function nominaPlan(appointment: AppointmentDocument, facts: ActFacts): Promise<PlannedAct> {
  let superseded: { number: number; date: string } | null = null;
  if (appointment.supersedesId) {
    const old = await Appointment.findById(appointment.supersedesId);
    const act = old?.acts.find((candidate) => candidate.kind === 'nomina');
    if (act) superseded = { number: act.number, date: act.date };
  }
  return {
    actKey: nominaKey(appointment),
    registerKey: registerFor(appointment),
    templateKey: nominaTemplates[appointment.role],
    subject: subjectOf(appointment, 'nomina'),
    data: nominaData(appointment, facts, superseded),
    startsOnActDate: appointment.role !== 'designato',
  };
}

async function issueRuleChecks(appointment: AppointmentDocument, facts: ActFacts) {
  const problems = issueProblems(appointment, facts);
  if (problems.length > 0) {
    throw unprocessable(
      `La nomina non può essere emessa: ${problems.map((problem) => problem.reason).join('; ')}`,
      problems,
    );
  }
  const role = appointment.role;
  // One holder at a time: a second DPO, or a second Designato for a settore, must replace the first.
  if (role === 'rpd' || role === 'designato') {
    const holder = await Appointment.findOne({
      _id: { $ne: appointment._id },
      role,
      status: { $in: activeStatuses },
      ...(role === 'designato' ? { settoreIds: appointment.settoreIds[0] } : {}),
    });
    if (holder && holder.id !== appointment.supersedesId?.toString()) {
      throw HttpProblem.conflict(
        role === 'rpd'
          ? `L'ente ha già un RPD in carica (${holder.appointeeName}): indicare supersedesId=${holder.id} per sostituirlo`
          : `Il settore ha già un Designato in carica (${holder.appointeeName}): indicare supersedesId=${holder.id} per sostituirlo`,
        { activeAppointmentId: holder.id },
      );
    }
  }
  if (appointment.supersedesId) {
    const old = await Appointment.findById(appointment.supersedesId);
    if (!old || old.role !== appointment.role || !isActive(old)) {
      throw unprocessable('La nomina da sostituire non è valida', [
        {
          name: 'supersedesId',
          reason: old
            ? `la nomina da sostituire deve essere dello stesso ruolo e in carica (stato: ${old.status})`
            : 'nomina inesistente',
        },
      ]);
    }
  }
}

/**
 * Issues the appointment: checks the rules, numbers the act, renders and stores
 * it, and moves the record to "issued". Retrying after a failure or a crash
 * completes the same act with the same number.
 */
export async function issueAppointment(
  appointmentId: string | Types.ObjectId,
  actor: Actor,
  deps: ActDependencies,
  known: {
    sources?: Awaited<ReturnType<typeof templateContextFor>>;
    /** A bulk job loads its rows, and their register entries, in one query each. */
    appointment?: AppointmentDocument;
    registration?: Registration | null;
  } = {},
) {
  const sources = known.sources;
  const appointment = known.appointment ?? (await findAppointment(appointmentId));
  const registration =
    known.registration !== undefined
      ? known.registration
      : await findRegistration(nominaKey(appointment));
  if (appointment.status !== 'draft') {
    if (registration && appointment.acts.some((act) => act.kind === 'nomina')) {
      // Issued already, perhaps by the attempt being retried: finish what may remain.
      await completeSupersession(appointment, actor, deps);
      return appointment;
    }
    throw wrongState(appointment, 'emettere la nomina');
  }
  const facts = await loadFacts(appointment, deps.cache);
  const plan = await nominaPlan(appointment, facts);
  // A numbered act was decided already: finish it even if a rule has changed since.
  if (!registration) {
    await issueRuleChecks(appointment, facts);
    await checkRenderable(plan, deps);
  }
  const act = await produceAct(appointment, plan, actor, deps, sources, registration);
  const current = await recordAct(appointment, act, {
    kind: 'nomina',
    from: ['draft'],
    to: 'issued',
    actor,
    set: (fresh) => ({ startDate: fresh.startDate ?? act.registration.date }),
  });
  await completeSupersession(current, actor, deps);

  return current;
}

/** The appointment replaced by this one is revoked by its own act, naming the successor. */
async function completeSupersession(
  appointment: AppointmentDocument,
  actor: Actor,
  deps: ActDependencies,
): Promise<void> {
  if (!appointment.supersedesId) return;
  const old = await Appointment.findById(appointment.supersedesId);
  if (!old || !isActive(old)) return;
  const description = roleDescriptions[appointment.role];
  await endAppointment(old, 'superseded', actor, deps, {
    reason:
      appointment.role === 'designato'
        ? 'cessazione dall’incarico di responsabile apicale del settore e contestuale nomina del nuovo Designato (art. 5, comma 3, del Regolamento comunale)'
        : `sostituzione con nuova nomina a ${description.role}`,
    effectiveDate: appointment.startDate ?? todayInRome(),
    successor: { name: appointment.appointeeName, role: description.role },
    successorId: appointment._id,
  });
}

/** Revokes or supersedes: the act of revoca first, then the state. */
async function endAppointment(
  appointment: AppointmentDocument,
  to: 'revoked' | 'superseded',
  actor: Actor,
  deps: ActDependencies,
  revocation: {
    reason: string;
    effectiveDate: string;
    successor?: { name: string; role?: string };
    successorId?: Types.ObjectId;
  },
) {
  const registration = await findRegistration(revocaKey(appointment));
  if (!registration && !isActive(appointment)) {
    throw wrongState(appointment, 'revocare la nomina');
  }
  const facts = await loadFacts(appointment, deps.cache);
  const plan: PlannedAct = {
    actKey: revocaKey(appointment),
    registerKey: registerFor(appointment),
    templateKey: appointment.role === 'contitolare' ? null : revocaTemplate,
    subject: subjectOf(appointment, 'revoca'),
    data: revocaData(appointment, facts, revocation),
    startsOnActDate: true,
  };
  if (!registration) await checkRenderable(plan, deps);
  // Kept on the record before numbering so that a crash recovery can rewrite the same act.
  await Appointment.updateOne(
    { _id: appointment._id, revocation: null },
    {
      $set: {
        revocation: {
          reason: revocation.reason,
          effectiveDate: revocation.effectiveDate,
          successorId: revocation.successorId ?? null,
        },
      },
    },
  );
  const act = await produceAct(appointment, plan, actor, deps, undefined, registration);
  return recordAct(appointment, act, {
    kind: 'revoca',
    from: activeStatuses,
    to,
    actor,
    note: revocation.reason,
    set: () => ({
      endDate: revocation.effectiveDate,
      ...(revocation.successorId ? { supersededById: revocation.successorId } : {}),
    }),
  });
}

/**
 * Records a produced act on its appointment and moves the state. The write is
 * by id with whole arrays (FerretDB scans for any richer filter and makes no
 * conditional update atomic anyway): two attempts at the same act write the same
 * thing, and the act's uniqueness rests on its register entry.
 */
async function recordAct(
  loaded: AppointmentDocument,
  act: Awaited<ReturnType<typeof produceAct>>,
  move: {
    kind: 'nomina' | 'revoca';
    from: readonly AppointmentStatus[];
    to: AppointmentStatus;
    actor: Actor;
    note?: string;
    set: (fresh: AppointmentDocument) => Record<string, unknown>;
  },
): Promise<AppointmentDocument> {
  // Read again only after a retry: a first attempt's own read is current enough.
  const fresh = act.registration.fresh || loaded.isNew ? loaded : await findAppointment(loaded._id);
  if (fresh.acts.some((recorded) => recorded.kind === move.kind)) return fresh;
  if (!move.from.includes(fresh.status)) {
    throw wrongState(fresh, move.kind === 'nomina' ? 'emettere la nomina' : 'revocare la nomina');
  }
  const acts = [
    ...fresh.acts.map((recorded) => recorded.toObject()),
    {
      kind: move.kind,
      documentId: act.documentId,
      registerKey: act.registration.registerKey,
      year: act.registration.year,
      number: act.registration.number,
      date: act.registration.date,
    },
  ];
  const transitions = [
    ...fresh.transitions.map((transition) => transition.toObject()),
    {
      from: fresh.status,
      to: move.to,
      at: new Date(),
      by: actorOf(move.actor),
      note: move.note ?? null,
    },
  ];
  if (fresh.isNew) {
    // A bulk row is stored once, already issued with its act.
    fresh.set({ status: move.to, acts, transitions, ...move.set(fresh) });
    try {
      return await fresh.save();
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      return findAppointment(fresh._id);
    }
  }
  // The record was read within the tenant just above: addressing it by id stays in the tenant.
  const updated = await Appointment.findOneAndUpdate(
    { _id: fresh._id },
    { $set: { status: move.to, acts, transitions, ...move.set(fresh) } },
    { returnDocument: 'after' },
  ).setOptions({ crossTenant: true });
  if (!updated) throw HttpProblem.notFound(`Nomina ${fresh.id} non trovata`);
  return updated;
}

export async function revokeAppointment(
  appointmentId: string,
  input: { reason: string; effectiveDate?: string | undefined },
  actor: Actor,
  deps: ActDependencies,
) {
  const appointment = await findAppointment(appointmentId);
  if (!isActive(appointment)) throw wrongState(appointment, 'revocare la nomina');
  return endAppointment(appointment, 'revoked', actor, deps, {
    reason: input.reason,
    effectiveDate: input.effectiveDate ?? todayInRome(),
  });
}

const forwardMoves: Partial<Record<AppointmentStatus, { from: AppointmentStatus; verb: string }>> =
  {
    signed: { from: 'issued', verb: 'registrare la firma' },
    accepted: { from: 'signed', verb: "registrare l'accettazione" },
  };

/** Signed by the authority; accepted (countersigned) by the appointee. */
export async function moveForward(
  appointmentId: string,
  to: 'signed' | 'accepted',
  actor: Actor,
  note?: string,
) {
  const move = forwardMoves[to];
  if (!move) throw new Error(`no forward move to ${to}`);
  const moved = await Appointment.findOneAndUpdate(
    { _id: appointmentId, status: move.from },
    {
      $set: { status: to },
      $push: {
        transitions: {
          from: move.from,
          to,
          at: new Date(),
          by: actorOf(actor),
          note: note ?? null,
        },
      },
    },
    { returnDocument: 'after' },
  );
  if (!moved) throw wrongState(await findAppointment(appointmentId), move.verb);
  return moved;
}

const systemActor = { userId: null, name: 'Sigillo (scadenza automatica)' };

/** Appointments whose end date has passed are expired (run on a timer and before views). */
export async function expireDue(
  today = todayInRome(),
  scope: { everyTenant?: boolean } = {},
): Promise<number> {
  const crossTenant = scope.everyTenant === true;
  const due = await Appointment.find({
    status: { $in: activeStatuses },
    endDate: { $ne: null, $lt: today },
  })
    .select({ _id: 1, status: 1 })
    .setOptions({ crossTenant });
  let expired = 0;
  for (const appointment of due) {
    const result = await Appointment.updateOne(
      { _id: appointment._id, status: appointment.status },
      {
        $set: { status: 'expired' },
        $push: {
          transitions: { from: appointment.status, to: 'expired', at: new Date(), by: systemActor },
        },
      },
    ).setOptions({ crossTenant });
    expired += result.modifiedCount;
  }
  return expired;
}

export async function recordDpoCommunication(
  appointmentId: string,
  input: {
    garanteCommunication?: { date: string; protocol: string } | undefined;
    publication?: { date: string; url: string } | undefined;
  },
) {
  const appointment = await findAppointment(appointmentId);
  if (appointment.role !== 'rpd' || !appointment.dpo) {
    throw HttpProblem.conflict('Comunicazione e pubblicazione riguardano solo la nomina dell’RPD');
  }
  if (!isActive(appointment)) throw wrongState(appointment, 'registrare la comunicazione');
  const set: Record<string, unknown> = {};
  if (input.garanteCommunication) set['dpo.garanteCommunication'] = input.garanteCommunication;
  if (input.publication) set['dpo.publication'] = input.publication;
  await Appointment.updateOne({ _id: appointment._id }, { $set: set });
  return findAppointment(appointment._id);
}

/**
 * Finishes, in every ente, the acts a crash or an outage left numbered but not
 * recorded. Numbers are never given back, so the act each belongs to is
 * completed instead, on behalf of whoever prepared it.
 */
export async function completePendingActs(
  deps: ActDependencies,
  olderThanMs = 60_000,
): Promise<number> {
  let completed = 0;
  for (const { organisationId, actKey } of await pendingActs(olderThanMs, 'appointment:')) {
    const [, id, kind] = actKey.split(':');
    if (!id) continue;
    await runInTenant(organisationId, async () => {
      const appointment = await Appointment.findById(id);
      const preparedBy = appointment?.transitions[0]?.by;
      if (!appointment || !preparedBy?.userId) return;
      const actor: Actor = { organisationId, userId: preparedBy.userId, name: preparedBy.name };
      if (kind === 'nomina') await issueAppointment(appointment._id, actor, deps);
      else if (appointment.revocation) {
        const successor = appointment.revocation.successorId
          ? await Appointment.findById(appointment.revocation.successorId)
          : null;
        await endAppointment(appointment, successor ? 'superseded' : 'revoked', actor, deps, {
          reason: appointment.revocation.reason,
          effectiveDate: appointment.revocation.effectiveDate,
          ...(successor
            ? {
                successor: {
                  name: successor.appointeeName,
                  role: roleDescriptions[successor.role].role,
                },
                successorId: successor._id,
              }
            : {}),
        });
      }
      completed += 1;
    });
  }
  return completed;
}

/**
 * The housekeeping that no request triggers: completing interrupted acts and
 * expiring appointments past their end date, in every ente, now and then.
 */
export function startAppointmentMaintenance(
  deps: ActDependencies & { logger: Logger },
  intervalMs = 60_000,
): () => void {
  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
      const completed = await completePendingActs(deps);
      const expired = await expireDue(todayInRome(), { everyTenant: true });
      if (completed + expired > 0) {
        deps.logger.info({ completed, expired }, 'appointment maintenance');
      }
    } catch (error) {
      deps.logger.warn({ err: error }, 'appointment maintenance failed; retried at the next sweep');
    } finally {
      running = false;
    }
  };
  void sweep();
  const timer = setInterval(() => void sweep(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Prepares the new manager's nomina as a draft replacing the outgoing Designato. */
export async function applyManagerChange(settoreId: string, actor: Actor) {
  const settore = await Settore.findById(settoreId);
  if (!settore) throw HttpProblem.notFound(`Settore ${settoreId} non trovato`);
  const current = await currentDesignato(settore._id);
  if (!current || !settore.managerId || settore.managerId.equals(current.personId ?? undefined)) {
    throw HttpProblem.conflict(
      'Nessun cambio di responsabile da recepire: il Designato in carica è il responsabile del settore',
    );
  }
  const existing = await Appointment.findOne({
    role: 'designato',
    status: 'draft',
    supersedesId: current._id,
    personId: settore.managerId,
  });
  if (existing) return existing;
  return createAppointment(
    {
      role: 'designato',
      personId: settore.managerId.toString(),
      settoreIds: [settore.id],
      processingActivityIds: current.processingActivityIds.map(String),
      databases: current.databases,
      ...(current.tasks.length > 0 ? { tasks: current.tasks } : {}),
      supersedesId: current.id,
    },
    actor,
  );
}
