/**
 * The records an act is written from, loaded once per act: the ente, the
 * appointee, the authority, the settori and processing activities in scope.
 */
import type { Types } from 'mongoose';
import { Organisation } from '../organisations/model.js';
import type { TemplateVersionDocument } from '../templates/model.js';
import { findTemplate } from '../templates/service.js';
import { Person } from '../people/model.js';
import { ProcessingActivity } from '../processing/model.js';
import { Settore } from '../settori/model.js';
import { Supplier } from '../suppliers/model.js';
import { activeStatuses, Appointment, type AppointmentDocument } from './model.js';

export type OrganisationDoc = InstanceType<typeof Organisation>;
export type PersonDoc = InstanceType<typeof Person>;
export type SupplierDoc = InstanceType<typeof Supplier>;
export type SettoreDoc = InstanceType<typeof Settore>;
export type ActivityDoc = InstanceType<typeof ProcessingActivity>;

export interface ActFacts {
  organisation: OrganisationDoc;
  person: PersonDoc | null;
  supplier: SupplierDoc | null;
  settori: SettoreDoc[];
  activities: ActivityDoc[];
  /** The Sindaco (the ente's legal representative), when the ente has said who it is. */
  sindaco: PersonDoc | null;
  /** For acts of a Designato: the Designato's appointment and person. */
  designato: {
    appointment: AppointmentDocument;
    person: PersonDoc | null;
    /** The Designato's own settore, from their decreto (not the act's scope). */
    settore: SettoreDoc | null;
  } | null;
  /** For a sub-responsabile: the processor's appointment and firm. */
  processor: { appointment: AppointmentDocument; supplier: SupplierDoc | null } | null;
  contactPerson: PersonDoc | null;
}

/** Organisations change rarely; a bulk job asks for the same one a thousand times. */
export class FactCache {
  private readonly organisations = new Map<string, Promise<OrganisationDoc | null>>();
  private readonly people = new Map<string, Promise<PersonDoc | null>>();
  private readonly settori = new Map<string, Promise<SettoreDoc | null>>();
  private readonly activities = new Map<string, Promise<ActivityDoc | null>>();
  private readonly appointments = new Map<string, Promise<AppointmentDocument | null>>();
  private readonly templates = new Map<string, Promise<TemplateVersionDocument>>();

  template(key: string): Promise<TemplateVersionDocument> {
    let found = this.templates.get(key);
    if (!found) {
      found = findTemplate(key);
      this.templates.set(key, found);
    }
    return found;
  }

  async preloadPeople(ids: (Types.ObjectId | null | undefined)[]): Promise<PersonDoc[]> {
    const wanted = ids.filter((id): id is Types.ObjectId => Boolean(id));
    const people = await Person.find({ _id: { $in: wanted } });
    for (const person of people) this.people.set(person.id, Promise.resolve(person));
    return people;
  }

  organisation(id: Types.ObjectId) {
    return memo(this.organisations, id, () => Organisation.findById(id));
  }
  person(id: Types.ObjectId | null | undefined) {
    return id ? memo(this.people, id, () => Person.findById(id)) : Promise.resolve(null);
  }
  settore(id: Types.ObjectId) {
    return memo(this.settori, id, () => Settore.findById(id));
  }
  activity(id: Types.ObjectId) {
    return memo(this.activities, id, () => ProcessingActivity.findById(id));
  }
  appointment(id: Types.ObjectId | null | undefined) {
    return id ? memo(this.appointments, id, () => Appointment.findById(id)) : Promise.resolve(null);
  }
}

function memo<T>(
  cache: Map<string, Promise<T>>,
  id: Types.ObjectId,
  load: () => PromiseLike<T>,
): Promise<T> {
  const key = id.toString();
  let found = cache.get(key);
  if (!found) {
    found = Promise.resolve(load());
    cache.set(key, found);
  }
  return found;
}

export async function loadFacts(
  appointment: AppointmentDocument,
  cache = new FactCache(),
): Promise<ActFacts> {
  const organisation = await cache.organisation(appointment.organisationId);
  if (!organisation) throw new Error('organisation of a tenant record not found');
  const [person, supplier, settori, activities, sindaco, contactPerson] = await Promise.all([
    cache.person(appointment.personId),
    appointment.supplierId ? Supplier.findById(appointment.supplierId) : Promise.resolve(null),
    Promise.all(appointment.settoreIds.map((id) => cache.settore(id))),
    Promise.all(appointment.processingActivityIds.map((id) => cache.activity(id))),
    cache.person(organisation.legalRepresentative?.personId),
    cache.person(appointment.dpo?.contactPersonId),
  ]);
  let designato: ActFacts['designato'] = null;
  if (appointment.authority.kind === 'designato') {
    const designatoAppointment = await cache.appointment(appointment.authority.appointmentId);
    if (designatoAppointment) {
      const ownSettore = designatoAppointment.settoreIds[0];
      designato = {
        appointment: designatoAppointment,
        person: await cache.person(designatoAppointment.personId),
        settore: ownSettore ? await cache.settore(ownSettore) : null,
      };
    }
  }
  let processor: ActFacts['processor'] = null;
  if (appointment.processor?.processorAppointmentId) {
    const processorAppointment = await cache.appointment(
      appointment.processor.processorAppointmentId,
    );
    if (processorAppointment) {
      processor = {
        appointment: processorAppointment,
        supplier: processorAppointment.supplierId
          ? await Supplier.findById(processorAppointment.supplierId)
          : null,
      };
    }
  }
  return {
    organisation,
    person,
    supplier,
    settori: settori.filter((settore): settore is SettoreDoc => settore !== null),
    activities: activities.filter((activity): activity is ActivityDoc => activity !== null),
    sindaco,
    designato,
    processor,
    contactPerson,
  };
}

export function isActive(appointment: { status: string }): boolean {
  return (activeStatuses as readonly string[]).includes(appointment.status);
}
