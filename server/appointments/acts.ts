/**
 * What each role's act says, built from the records, and the rules of law and
 * of the regolamento an act must satisfy before it gets a number.
 */
import type { InvalidParam } from '../platform/http-problem.js';
import { addressLine, placeOf } from '../organisations/model.js';
import { todayInRome } from '../registers/service.js';
import type { AppointmentDocument, AppointmentRole } from './model.js';
import { isActive, type ActFacts, type PersonDoc } from './facts.js';

type Data = Record<string, unknown>;

/** The template of each role's nomina; a contitolarità agreement is recorded, not generated. */
export const nominaTemplates: Record<AppointmentRole, string | null> = {
  designato: 'nomina-designato',
  autorizzato: 'autorizzazione-trattamento',
  rpd: 'nomina-rpd',
  'amministratore-sistema': 'designazione-amministratore-sistema',
  'responsabile-esterno': 'designazione-responsabile-esterno',
  'sub-responsabile': 'autorizzazione-sub-responsabile',
  contitolare: null,
};
export const revocaTemplate = 'revoca';

/** How an act names the role, for subjects, registers and the revoca. */
export const roleDescriptions: Record<AppointmentRole, { act: string; role: string }> = {
  designato: {
    act: 'decreto di nomina del Designato al trattamento dei dati personali',
    role: 'Designato al trattamento dei dati personali',
  },
  autorizzato: {
    act: 'atto di autorizzazione al trattamento dei dati personali',
    role: 'Autorizzato al trattamento dei dati personali',
  },
  rpd: {
    act: 'decreto di nomina del Responsabile della protezione dei dati',
    role: 'Responsabile della protezione dei dati (RPD)',
  },
  'amministratore-sistema': {
    act: 'atto di designazione dell’Amministratore di sistema',
    role: 'Amministratore di sistema',
  },
  'responsabile-esterno': {
    act: 'atto di designazione del Responsabile del trattamento',
    role: 'Responsabile del trattamento ai sensi dell’art. 28 del Regolamento (UE) 2016/679',
  },
  'sub-responsabile': {
    act: 'autorizzazione al ricorso a un sub-responsabile del trattamento',
    role: 'Sub-responsabile del trattamento',
  },
  contitolare: {
    act: 'accordo di contitolarità',
    role: 'Contitolare del trattamento',
  },
};

/** The role as said of a woman: "Designata", "Autorizzata", "Amministratrice di sistema". */
function feminine(role: string): string {
  return role
    .replace(/^Designato\b/, 'Designata')
    .replace(/^Autorizzato\b/, 'Autorizzata')
    .replace(/^Amministratore\b/, 'Amministratrice');
}

/** Where a role's act is numbered: by who adopts it. */
export function registerFor(appointment: AppointmentDocument): string {
  if (appointment.role === 'contitolare') return 'accordi-contitolarita';
  return appointment.authority.kind === 'designato' ? 'atti-designato' : 'decreti-sindaco';
}

const fullName = (person: PersonDoc) => `${person.firstName} ${person.lastName}`;

function persona(person: PersonDoc): Data {
  return compact({ nome: fullName(person), genere: person.gender, titolo: person.title });
}

/** Drops undefined and null members: templates take absent fields, never blanks. */
function compact(data: Data): Data {
  return Object.fromEntries(
    Object.entries(data).filter(([, value]) => value !== undefined && value !== null),
  );
}

function settoreName(facts: ActFacts): string | undefined {
  return facts.settori[0]?.name;
}

function authorityData(appointment: AppointmentDocument, facts: ActFacts): Data | undefined {
  if (appointment.authority.kind === 'sindaco') {
    return facts.sindaco ? { carica: 'sindaco', ...persona(facts.sindaco) } : undefined;
  }
  const designato = facts.designato;
  if (!designato?.person) return undefined;
  const settore = designato.settore?.name;
  return compact({
    carica: 'designato',
    ...persona(designato.person),
    qualifica: designato.person.role ?? (settore ? `Responsabile del ${settore}` : undefined),
    settore,
  });
}

function commonData(facts: ActFacts): Data {
  const dpo = facts.organisation.dpo;
  return compact({
    luogo: placeOf(facts.organisation),
    rpd: dpo ? { nome: dpo.name, contatto: dpo.pec ?? dpo.email } : undefined,
  });
}

function trattamenti(facts: ActFacts): string[] {
  return facts.activities.map((activity) => activity.name);
}

function datesData(appointment: AppointmentDocument): Data {
  return compact({ decorrenza: appointment.startDate, scadenza: appointment.endDate });
}

/**
 * The template input of the appointment's nomina, without numero and dataAtto,
 * which come from the register.
 */
export function nominaData(
  appointment: AppointmentDocument,
  facts: ActFacts,
  superseded: { number: number; date: string } | null,
): Data {
  const base = commonData(facts);
  const person = facts.person;
  const settore = settoreName(facts);
  const dates = datesData(appointment);
  switch (appointment.role) {
    case 'designato':
      return compact({
        ...base,
        sindaco: facts.sindaco ? persona(facts.sindaco) : undefined,
        designato: person
          ? compact({
              ...persona(person),
              qualifica: person.role ?? (settore ? `Responsabile del ${settore}` : undefined),
            })
          : undefined,
        settore,
        trattamenti: trattamenti(facts),
        bancheDati: appointment.databases,
        compiti: appointment.tasks.length > 0 ? appointment.tasks : undefined,
        ...dates,
        sostituisce: superseded ? { numero: superseded.number, data: superseded.date } : undefined,
      });
    case 'autorizzato':
      return compact({
        ...base,
        autorita: authorityData(appointment, facts),
        autorizzato: person
          ? compact({
              ...persona(person),
              qualifica: person.role ?? 'dipendente dell’ente',
              codiceFiscale: person.taxCode,
            })
          : undefined,
        settore,
        trattamenti: trattamenti(facts),
        bancheDati: appointment.databases,
        istruzioni: appointment.instructions,
        ...dates,
      });
    case 'rpd': {
      const dpo = appointment.dpo;
      const firm = facts.supplier;
      const designazione = dpo
        ? compact({
            tipo: dpo.kind,
            nome: person ? fullName(person) : firm?.name,
            genere: person?.gender,
            titolo: person?.title,
            referente:
              dpo.kind === 'societa' && facts.contactPerson
                ? persona(facts.contactPerson)
                : undefined,
            email: dpo.email,
            pec: dpo.pec,
            telefono: dpo.phone,
            affidamento: dpo.engagement,
          })
        : undefined;
      return compact({
        ...base,
        rpd: designazione
          ? { nome: designazione.nome, contatto: dpo?.pec ?? dpo?.email }
          : undefined,
        sindaco: facts.sindaco ? persona(facts.sindaco) : undefined,
        designazione,
        requisiti: dpo?.qualifications,
        compiti: appointment.tasks.length > 0 ? appointment.tasks : undefined,
        ...dates,
      });
    }
    case 'amministratore-sistema': {
      const admin = appointment.systemAdministrator;
      return compact({
        ...base,
        autorita: authorityData(appointment, facts),
        amministratore: person
          ? compact({
              ...persona(person),
              qualifica: person.role ?? 'dipendente dell’ente',
              esterno: admin?.external ?? false,
              societa: admin?.firm,
            })
          : undefined,
        sistemi: admin?.systems,
        funzioni: admin?.functions,
        verificaAnnuale: admin?.yearlyCheck
          ? { responsabile: admin.yearlyCheck.responsible, termine: admin.yearlyCheck.deadline }
          : undefined,
        conservazioneLogMesi: admin?.logRetentionMonths ?? 6,
        ...dates,
      });
    }
    case 'responsabile-esterno': {
      const supplier = facts.supplier;
      const processor = appointment.processor;
      return compact({
        ...base,
        autorita: authorityData(appointment, facts),
        responsabile: supplier
          ? compact({
              ragioneSociale: supplier.name,
              sede: addressLine(supplier.address),
              partitaIva: supplier.vatNumber,
              legaleRappresentante: supplier.legalRepresentative?.name,
              pec: supplier.pec,
            })
          : undefined,
        contratto: processor?.contract
          ? compact({
              oggetto: processor.contract.subject,
              estremi: processor.contract.reference,
              cig: processor.contract.cig,
            })
          : undefined,
        trattamenti: trattamenti(facts),
        naturaFinalita: processor?.natureAndPurpose,
        tipiDati: processor?.dataTypes,
        categorieInteressati: processor?.dataSubjectCategories,
        ...dates,
      });
    }
    case 'sub-responsabile': {
      const supplier = facts.supplier;
      const main = facts.processor;
      const contract = main?.appointment.processor?.contract ?? appointment.processor?.contract;
      return compact({
        ...base,
        autorita: authorityData(appointment, facts),
        responsabile: main?.supplier
          ? { ragioneSociale: main.supplier.name, partitaIva: main.supplier.vatNumber }
          : undefined,
        subResponsabile: supplier
          ? compact({
              ragioneSociale: supplier.name,
              sede: addressLine(supplier.address),
              partitaIva: supplier.vatNumber,
            })
          : undefined,
        contratto: contract
          ? compact({ oggetto: contract.subject, estremi: contract.reference, cig: contract.cig })
          : undefined,
        attivita: appointment.tasks,
        tipoAutorizzazione: appointment.processor?.authorisationKind,
        decorrenza: appointment.startDate,
      });
    }
    case 'contitolare':
      return {};
  }
}

/** The revoca's input: which act ends, why, from when, and who takes over. */
export function revocaData(
  appointment: AppointmentDocument,
  facts: ActFacts,
  revocation: {
    reason: string;
    effectiveDate: string;
    successor?: { name: string; role?: string } | undefined;
  },
): Data {
  const nomina = appointment.acts.find((act) => act.kind === 'nomina');
  const settore = settoreName(facts);
  const description = roleDescriptions[appointment.role];
  return compact({
    ...commonData(facts),
    autorita: authorityData(appointment, facts),
    attoRevocato: nomina
      ? {
          descrizione: description.act,
          numero: nomina.number,
          data: nomina.date,
          registro: nomina.registerKey,
        }
      : undefined,
    soggetto: facts.person
      ? compact({ nome: fullName(facts.person), genere: facts.person.gender })
      : { nome: appointment.appointeeName },
    ruolo: ((role: string) =>
      settore && (appointment.role === 'designato' || appointment.role === 'autorizzato')
        ? `${role} del ${settore}`
        : role)(facts.person?.gender === 'F' ? feminine(description.role) : description.role),
    motivo: revocation.reason,
    decorrenza: revocation.effectiveDate,
    sostituto: revocation.successor
      ? compact({ nome: revocation.successor.name, ruolo: revocation.successor.role })
      : undefined,
  });
}

/**
 * The rules an act must satisfy when it is issued (DOMAIN.md "Who is who",
 * seed 002 Titolo II). Each broken rule names the field to fix.
 */
export function issueProblems(appointment: AppointmentDocument, facts: ActFacts): InvalidParam[] {
  const problems: InvalidParam[] = [];
  const add = (name: string, reason: string) => problems.push({ name, reason });
  const role = appointment.role;

  if (facts.person?.archived) add('personId', 'la persona è archiviata');
  if (facts.supplier?.archived) add('supplierId', 'il fornitore è archiviato');
  // Without a start date the act takes effect on its own date, which is today's.
  const effective = appointment.startDate ?? todayInRome();
  if (appointment.endDate && appointment.endDate < effective) {
    add(
      'endDate',
      appointment.startDate
        ? 'la data di fine precede la data di inizio'
        : "la data di fine precede la data dell'atto, da cui la nomina ha effetto",
    );
  }
  if (role !== 'rpd' && role !== 'contitolare' && !facts.organisation.dpo) {
    add(
      'organisation.dpo',
      "l'ente non ha indicato il proprio RPD/DPO, a cui l'atto va comunicato (profilo dell'ente)",
    );
  }

  const needsSindaco = appointment.authority.kind === 'sindaco';
  if (needsSindaco && !facts.sindaco) {
    add(
      'organisation.legalRepresentative',
      "l'ente non ha indicato il Sindaco (legale rappresentante) che adotta l'atto",
    );
  }
  if (appointment.authority.kind === 'designato') {
    const designato = facts.designato;
    if (!designato) {
      add('authority.appointmentId', 'indicare la nomina del Designato che adotta l’atto');
    } else if (!designato.settore) {
      add('authority.appointmentId', 'la nomina del Designato indicata non riguarda alcun settore');
    } else if (designato.appointment.role !== 'designato' || !isActive(designato.appointment)) {
      add(
        'authority.appointmentId',
        `l'atto va adottato da un Designato in carica (la nomina indicata è ${designato.appointment.status})`,
      );
    }
  }

  const needsOneSettore = role === 'designato' || role === 'autorizzato';
  if (needsOneSettore && facts.settori.length !== 1) {
    add('settoreIds', 'indicare un solo settore');
  }

  switch (role) {
    case 'designato': {
      if (appointment.authority.kind !== 'sindaco') {
        add('authority.kind', 'il Designato è nominato dal Sindaco con decreto motivato');
      }
      if (!facts.person) add('personId', 'indicare la persona da nominare');
      const settore = facts.settori[0];
      if (facts.person && settore && settore.managerId?.toString() !== facts.person.id) {
        add(
          'personId',
          `la nomina a Designato coincide con l'incarico apicale (art. 5, comma 3, del Regolamento): ${fullName(facts.person)} non è il responsabile del ${settore.name}`,
        );
      }
      if (facts.activities.length === 0) {
        add('processingActivityIds', 'indicare almeno un trattamento del registro');
      }
      if (appointment.databases.length === 0) add('databases', 'indicare almeno una banca dati');
      break;
    }
    case 'autorizzato': {
      if (appointment.authority.kind !== 'designato') {
        add(
          'authority.kind',
          "l'autorizzato è designato per iscritto dal Designato del suo settore",
        );
      }
      if (!facts.person) add('personId', 'indicare la persona da autorizzare');
      const settoreId = facts.settori[0]?.id;
      const designato = facts.designato?.appointment;
      if (
        designato &&
        settoreId &&
        !designato.settoreIds.some((id) => id.toString() === settoreId)
      ) {
        add(
          'authority.appointmentId',
          'il Designato che autorizza deve essere quello del settore della persona autorizzata',
        );
      }
      if (appointment.instructions.length === 0) {
        add('instructions', "allegare le istruzioni per l'autorizzato (art. 29 GDPR)");
      }
      if (facts.activities.length === 0) {
        add('processingActivityIds', 'indicare almeno un trattamento del registro');
      }
      if (appointment.databases.length === 0) add('databases', 'indicare almeno una banca dati');
      break;
    }
    case 'rpd': {
      if (appointment.authority.kind !== 'sindaco') {
        add('authority.kind', "l'RPD è nominato dal Sindaco con decreto motivato");
      }
      if (!facts.person && !facts.supplier) {
        add('personId', 'indicare la persona (o con supplierId la società) designata RPD');
      }
      const dpo = appointment.dpo;
      if (!dpo) add('dpo', 'indicare i dati di contatto e i requisiti dell’RPD');
      else {
        if (dpo.kind === 'societa' && !facts.contactPerson) {
          add('dpo.contactPersonId', 'per una società indicare la persona fisica referente');
        }
        if (dpo.kind === 'persona' && !facts.person) {
          add('personId', 'un RPD persona fisica va scelto tra le persone dell’ente');
        }
      }
      break;
    }
    case 'amministratore-sistema': {
      const admin = appointment.systemAdministrator;
      if (!facts.person) add('personId', 'indicare la persona designata amministratore di sistema');
      if (!admin || admin.functions.length === 0) {
        add(
          'systemAdministrator.functions',
          'elencare gli ambiti di operatività consentiti (provv. Garante 27 novembre 2008, punto 4.2)',
        );
      }
      if (!admin || admin.systems.length === 0) {
        add('systemAdministrator.systems', 'indicare i sistemi amministrati');
      }
      if (!admin?.yearlyCheck) {
        add(
          'systemAdministrator.yearlyCheck',
          "indicare chi verifica ogni anno l'operato dell'amministratore e entro quando (punto 4.4)",
        );
      }
      break;
    }
    case 'responsabile-esterno': {
      const processor = appointment.processor;
      if (!facts.supplier) add('supplierId', 'indicare il fornitore da designare');
      else if (!facts.supplier.address) {
        add('supplierId', `indicare la sede del fornitore ${facts.supplier.name} nella sua scheda`);
      }
      if (!processor?.contract) add('processor.contract', 'indicare il contratto o affidamento');
      if (!processor?.natureAndPurpose) {
        add('processor.natureAndPurpose', 'indicare natura e finalità del trattamento');
      }
      if (!processor || processor.dataTypes.length === 0) {
        add('processor.dataTypes', 'indicare il tipo di dati personali');
      }
      if (!processor || processor.dataSubjectCategories.length === 0) {
        add('processor.dataSubjectCategories', 'indicare le categorie di interessati');
      }
      if (facts.activities.length === 0) {
        add('processingActivityIds', 'indicare almeno un trattamento del registro');
      }
      break;
    }
    case 'sub-responsabile': {
      const main = facts.processor;
      if (!facts.supplier) add('supplierId', 'indicare il sub-responsabile');
      else if (!facts.supplier.address) {
        add('supplierId', `indicare la sede del fornitore ${facts.supplier.name} nella sua scheda`);
      }
      if (!main) {
        add(
          'processor.processorAppointmentId',
          'indicare la designazione del Responsabile che ricorre al sub-responsabile',
        );
      } else if (main.appointment.role !== 'responsabile-esterno' || !isActive(main.appointment)) {
        add(
          'processor.processorAppointmentId',
          `il Responsabile deve essere designato e in carica (stato: ${main.appointment.status})`,
        );
      }
      if (!appointment.processor?.authorisationKind) {
        add('processor.authorisationKind', 'indicare se l’autorizzazione è specifica o generale');
      }
      if (appointment.tasks.length === 0) {
        add('tasks', 'indicare le attività di trattamento affidate al sub-responsabile');
      }
      break;
    }
    case 'contitolare': {
      const agreement = appointment.jointController;
      if (!agreement) add('jointController', 'indicare i termini dell’accordo (art. 26 GDPR)');
      else {
        if (agreement.parties.length === 0)
          add('jointController.parties', 'indicare i contitolari');
        if (agreement.responsibilities.length === 0) {
          add(
            'jointController.responsibilities',
            'indicare le rispettive responsabilità, in particolare verso gli interessati',
          );
        }
      }
      break;
    }
  }
  return problems;
}
