/**
 * The questions the segreteria and the DPO ask of the appointments: who holds
 * which role now, what expires soon, who works on data without authorisation,
 * a person's history, and which acts a change of manager calls for.
 */
import { addCalendarDays, todayInRome } from '../registers/service.js';
import { Person } from '../people/model.js';
import { ProcessingActivity } from '../processing/model.js';
import { Settore } from '../settori/model.js';
import { activeStatuses, Appointment, type AppointmentRole } from './model.js';

export async function currentHolders(filter: {
  role?: AppointmentRole | undefined;
  settoreId?: string | undefined;
  processingActivityId?: string | undefined;
}) {
  return Appointment.find({
    status: { $in: activeStatuses },
    ...(filter.role ? { role: filter.role } : {}),
    ...(filter.settoreId ? { settoreIds: filter.settoreId } : {}),
    ...(filter.processingActivityId ? { processingActivityIds: filter.processingActivityId } : {}),
  }).sort({ role: 1, appointeeName: 1 });
}

export async function expiringWithin(days: number, today = todayInRome()) {
  return Appointment.find({
    status: { $in: activeStatuses },
    endDate: { $gte: today, $lte: addCalendarDays(today, days) },
  }).sort({ endDate: 1 });
}

/**
 * Employees of settori that process personal data (an entry of the registro)
 * holding neither an authorisation nor a designation in force.
 */
export async function unauthorisedPeople() {
  const activities = await ProcessingActivity.find({ archived: false, settoreId: { $ne: null } })
    .select({ settoreId: 1 })
    .lean();
  const processingSettori = [
    ...new Set(activities.map((activity) => activity.settoreId?.toString()).filter(Boolean)),
  ] as string[];
  const covered = await Appointment.find({
    role: { $in: ['autorizzato', 'designato'] },
    status: { $in: activeStatuses },
    personId: { $ne: null },
  })
    .select({ personId: 1 })
    .lean();
  const coveredIds = new Set(covered.map((appointment) => appointment.personId?.toString()));
  const people = await Person.find({
    archived: false,
    kind: 'employee',
    settoreId: { $in: processingSettori },
  }).sort({ searchName: 1 });
  return people.filter((person) => !coveredIds.has(person.id));
}

export async function personHistory(personId: string) {
  return Appointment.find({ personId }).sort({ createdAt: 1 });
}

export interface ManagerChangeProposal {
  settoreId: string;
  settore: string;
  newManager: { personId: string; name: string };
  current: { appointmentId: string; name: string; status: string };
  /** The pair of acts: the nomina of the new manager, the revoca of the old designation. */
  acts: [
    { kind: 'nomina'; role: 'designato'; personId: string },
    { kind: 'revoca'; appointmentId: string },
  ];
  /** The draft already prepared for the new nomina, if someone applied the proposal. */
  draftId: string | null;
}

/**
 * A designation follows the apical post (seed 002 art. 5 c.3): wherever a
 * settore's manager is no longer the Designato in office, Sigillo proposes the
 * new manager's nomina and the revoca of the outgoing designation.
 */
export async function managerChangeProposals(): Promise<ManagerChangeProposal[]> {
  const designati = await Appointment.find({
    role: 'designato',
    status: { $in: activeStatuses },
  });
  const proposals: ManagerChangeProposal[] = [];
  for (const designation of designati) {
    const settoreId = designation.settoreIds[0];
    if (!settoreId) continue;
    const settore = await Settore.findById(settoreId);
    if (!settore?.managerId || settore.managerId.equals(designation.personId)) {
      continue;
    }
    const manager = await Person.findById(settore.managerId);
    if (!manager) continue;
    const draft = await Appointment.findOne({
      role: 'designato',
      status: 'draft',
      supersedesId: designation._id,
      personId: manager._id,
    });
    proposals.push({
      settoreId: settore.id,
      settore: settore.name,
      newManager: { personId: manager.id, name: `${manager.firstName} ${manager.lastName}` },
      current: {
        appointmentId: designation.id,
        name: designation.appointeeName,
        status: designation.status,
      },
      acts: [
        { kind: 'nomina', role: 'designato', personId: manager.id },
        { kind: 'revoca', appointmentId: designation.id },
      ],
      draftId: draft?.id ?? null,
    });
  }
  return proposals;
}
