/**
 * Contracts at award: prefilled from the tender and the registro, completed by
 * procurement, refused while incomplete (every gap listed at once), numbered in
 * their register and generated like every other act.
 */
import type { Types } from 'mongoose';
import type { Principal } from '../platform/auth.js';
import { HttpProblem, type InvalidParam } from '../platform/http-problem.js';
import type { ObjectStorage } from '../platform/storage.js';
import type { ModelRenderer } from '../documents/render-pool.js';
import { generateDocument } from '../documents/service.js';
import { addressLine, Organisation, placeOf } from '../organisations/model.js';
import { Person } from '../people/model.js';
import { genderFromCodiceFiscale } from '../people/italian-codes.js';
import { ProcessingActivity } from '../processing/model.js';
import { actDocumentId, assignNumber, markRecorded } from '../registers/service.js';
import { Supplier } from '../suppliers/model.js';
import { Tender } from '../tenders/model.js';
import { measureCatalogue } from './measures.js';
import { Contract, type ContractDocument } from './model.js';

export interface ContractDependencies {
  storage: ObjectStorage;
  render: ModelRenderer;
}

/** What a client may set on a draft contract. */
export interface ContractChanges {
  startDate?: string | null | undefined;
  endDate?: string | null | undefined;
  processing?:
    | {
        natureAndPurpose?: string | null | undefined;
        dataTypes?: string[] | undefined;
        specialCategories?: boolean | undefined;
        dataSubjectCategories?: string[] | undefined;
        operations?: string[] | undefined;
        location?: string | null | undefined;
      }
    | undefined;
  measures?: { area: string; description: string }[] | undefined;
  /** Codes of the measure catalogue (data/misure/catalogo.json), added to `measures`. */
  measureCodes?: string[] | undefined;
  subProcessors?:
    { name: string; seat: string; vatNumber: string; activities: string }[] | undefined;
  subProcessorAuthorisation?: 'specifica' | 'generale' | undefined;
  breachNoticeHours?: number | undefined;
  jointAgreement?:
    | {
        purposes?: string[] | undefined;
        responsibilities?: { party: string; tasks: string[] }[] | undefined;
        contactPoint?: { description: string; contact: string } | undefined;
        availability?: string | undefined;
      }
    | undefined;
}

const defaultOperations = [
  'raccolta',
  'registrazione',
  'organizzazione',
  'conservazione',
  'consultazione',
  'elaborazione',
  'cancellazione',
];

export async function findContract(contractId: string) {
  const contract = await Contract.findById(contractId);
  if (!contract) throw HttpProblem.notFound(`Contratto ${contractId} non trovato`);
  return contract;
}

function wrongState(contract: ContractDocument, action: string): HttpProblem {
  return HttpProblem.conflict(
    `Impossibile ${action}: il contratto è nello stato "${contract.status}"`,
    { currentState: contract.status },
  );
}

/** The draft at award, filled from the tender's processing activities. */
export async function draftContract(
  tenderId: string,
  changes: ContractChanges,
  principal: Principal,
) {
  const tender = await Tender.findById(tenderId);
  if (!tender) throw HttpProblem.notFound(`Gara ${tenderId} non trovata`);
  if (tender.status !== 'awarded' || !tender.awardedSupplierId) {
    throw HttpProblem.conflict(
      `Il contratto si prepara all'aggiudicazione: la gara è nello stato "${tender.status}"`,
      { currentState: tender.status },
    );
  }
  if (tender.privacyRole !== 'responsabile' && tender.privacyRole !== 'contitolare') {
    throw new HttpProblem(
      422,
      'Nessun atto da stipulare',
      'Il fornitore è titolare autonomo: non si designa né si stipula un accordo di contitolarità',
      {
        invalidParams: [
          { name: 'privacyRole', reason: `ruolo ${tender.privacyRole ?? 'assente'}` },
        ],
      },
    );
  }
  const existing = await Contract.findOne({ tenderId: tender._id, status: { $ne: 'terminated' } });
  if (existing) return existing;
  const activities = await ProcessingActivity.find({ _id: { $in: tender.processingActivityIds } });
  const unique = (values: string[]) => [...new Set(values)];
  const contract = new Contract({
    variant: tender.privacyRole,
    tenderId: tender._id,
    supplierId: tender.awardedSupplierId,
    subject: tender.object,
    processing: {
      natureAndPurpose: activities.length
        ? `Trattamento dei dati personali necessario all'esecuzione del servizio «${tender.object}», per le finalità: ${unique(activities.flatMap((activity) => activity.purposes)).join('; ')}`
        : null,
      dataTypes: unique(
        activities.flatMap((activity) =>
          activity.personalDataCategories.map((category) => category.name),
        ),
      ),
      specialCategories: activities.some((activity) => activity.hasSpecialData),
      dataSubjectCategories: unique(
        activities.flatMap((activity) => activity.dataSubjectCategories),
      ),
      operations: defaultOperations,
    },
    measures: unique(activities.flatMap((activity) => activity.securityMeasures)).map(
      (description) => ({ area: 'Misure previste dal registro dei trattamenti', description }),
    ),
    jointAgreement: {
      purposes: unique(activities.flatMap((activity) => activity.purposes)),
    },
    transitions: [{ from: null, to: 'draft', at: new Date(), by: principal.name }],
  });
  const measures = await resolveMeasures(
    changes,
    contract.measures.map((measure) => ({ area: measure.area, description: measure.description })),
  );
  const { measureCodes: _codes, ...fields } = { ...changes, measures };
  contract.set(stripUndefined(fields));
  return contract.save();
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, field]) => field !== undefined),
  ) as Partial<T>;
}

/** Free-text measures followed by the catalogue's, each once. */
async function resolveMeasures(
  changes: ContractChanges,
  current: { area: string; description: string }[],
): Promise<{ area: string; description: string }[] | undefined> {
  if (changes.measureCodes === undefined) return changes.measures;
  const catalogue = await measureCatalogue();
  const unknown = changes.measureCodes
    .map((code, index) => ({ code, index }))
    .filter(({ code }) => !catalogue.some((measure) => measure.code === code));
  if (unknown.length > 0) {
    throw new HttpProblem(
      422,
      'Misure sconosciute',
      'Codici non presenti nel catalogo delle misure',
      {
        invalidParams: unknown.map(({ code, index }) => ({
          name: `body.measureCodes.${index}`,
          reason: `misura ${code} non presente nel catalogo`,
        })),
      },
    );
  }
  const chosen = changes.measureCodes.map((code) => {
    const measure = catalogue.find((candidate) => candidate.code === code);
    return { area: measure?.area ?? '', description: measure?.description ?? '' };
  });
  const all = [...(changes.measures ?? current), ...chosen];
  return all.filter(
    (measure, index) =>
      all.findIndex((other) => other.description === measure.description) === index,
  );
}

export async function updateContract(contractId: string, changes: ContractChanges) {
  const contract = await findContract(contractId);
  if (contract.status !== 'draft') throw wrongState(contract, 'modificare il contratto');
  const measures = await resolveMeasures(
    changes,
    contract.measures.map((measure) => ({ area: measure.area, description: measure.description })),
  );
  const { processing, jointAgreement, measureCodes: _codes, ...rest } = { ...changes, measures };
  contract.set(stripUndefined(rest));
  if (processing) {
    for (const [key, value] of Object.entries(stripUndefined(processing))) {
      contract.set(`processing.${key}`, value);
    }
  }
  if (jointAgreement) {
    for (const [key, value] of Object.entries(stripUndefined(jointAgreement))) {
      contract.set(`jointAgreement.${key}`, value);
    }
  }
  return contract.save();
}

/**
 * Every mandatory element the act would miss, at once (art. 28(3), art. 26,
 * seed 002 art. 7), with the field or record to complete.
 */
/** The records every act about a contract is written from. */
export async function contractParties(contract: {
  organisationId: Types.ObjectId;
  supplierId: Types.ObjectId;
  tenderId: Types.ObjectId;
}) {
  const [organisation, supplier, tender] = await Promise.all([
    Organisation.findById(contract.organisationId),
    Supplier.findById(contract.supplierId),
    Tender.findById(contract.tenderId),
  ]);
  const representative = organisation?.legalRepresentative
    ? await Person.findById(organisation.legalRepresentative.personId)
    : null;
  return { organisation, supplier, tender, representative };
}

type PartyRecords = Awaited<ReturnType<typeof contractParties>>;

/** The ente's side of an act: where it is dated and who signs for it, as templates take them. */
export function enteSide(
  organisation: NonNullable<PartyRecords['organisation']>,
  representative: NonNullable<PartyRecords['representative']>,
) {
  return {
    luogo: placeOf(organisation),
    titolare: {
      rappresentante: {
        nome: `${representative.firstName} ${representative.lastName}`,
        genere: representative.gender,
        ...(representative.title ? { titolo: representative.title } : {}),
      },
      carica: organisation.legalRepresentative?.role ?? 'Sindaco pro tempore',
    },
  };
}

async function gaps(contract: ContractDocument) {
  const problems: InvalidParam[] = [];
  const add = (name: string, reason: string) => problems.push({ name, reason });
  const { organisation, supplier, tender, representative } = await contractParties(contract);
  if (!representative) add('organisation.legalRepresentative', "indicare chi firma per l'ente");
  if (!organisation?.dpo) add('organisation.dpo', "indicare l'RPD dell'ente");
  if (!supplier) add('supplierId', 'fornitore inesistente');
  else {
    if (!supplier.address) add('supplier.address', `indicare la sede di ${supplier.name}`);
    if (!supplier.legalRepresentative) {
      add('supplier.legalRepresentative', `indicare il legale rappresentante di ${supplier.name}`);
    } else if (contract.variant === 'contitolare' && !supplier.legalRepresentative.taxCode) {
      // The agreement names the co-controller's signatory as a person (il/la legale rappresentante).
      add(
        'supplier.legalRepresentative.taxCode',
        `indicare il codice fiscale del legale rappresentante di ${supplier.name}`,
      );
    }
  }
  if (!contract.startDate) add('startDate', 'indicare la decorrenza (durata del trattamento)');
  if (!contract.endDate) add('endDate', 'indicare la scadenza (durata del trattamento)');
  if (contract.startDate && contract.endDate && contract.endDate < contract.startDate) {
    add('endDate', 'la scadenza precede la decorrenza');
  }
  const processing = contract.processing;
  if (!processing?.natureAndPurpose || processing.natureAndPurpose.length < 10) {
    add('processing.natureAndPurpose', 'indicare natura e finalità del trattamento');
  }
  if (!processing?.dataTypes.length)
    add('processing.dataTypes', 'indicare il tipo di dati personali');
  if (!processing?.dataSubjectCategories.length) {
    add('processing.dataSubjectCategories', 'indicare le categorie di interessati');
  }
  if (contract.variant === 'responsabile') {
    if (!processing?.operations.length)
      add('processing.operations', 'indicare le operazioni di trattamento');
    if (contract.measures.length === 0) {
      add('measures', 'descrivere le misure tecniche e organizzative (Allegato II)');
    }
  } else {
    const agreement = contract.jointAgreement;
    if (!agreement?.purposes.length) add('jointAgreement.purposes', 'indicare le finalità comuni');
    if ((agreement?.responsibilities.length ?? 0) < 2) {
      add(
        'jointAgreement.responsibilities',
        'indicare i compiti di ciascun contitolare (art. 26, par. 1)',
      );
    }
    if (!agreement?.contactPoint?.contact) {
      add('jointAgreement.contactPoint', 'indicare il punto di contatto per gli interessati');
    }
    if (!agreement?.availability) {
      add(
        'jointAgreement.availability',
        "indicare come il contenuto essenziale dell'accordo è messo a disposizione (art. 26, par. 2)",
      );
    }
  }
  return { problems, organisation, supplier, tender, representative };
}

export async function issueContract(
  contractId: string,
  principal: Principal,
  deps: ContractDependencies,
) {
  const contract = await findContract(contractId);
  if (contract.status !== 'draft') throw wrongState(contract, 'emettere il contratto');
  const { problems, organisation, supplier, tender, representative } = await gaps(contract);
  if (problems.length > 0 || !organisation || !supplier || !tender || !representative) {
    throw new HttpProblem(
      422,
      'Contratto incompleto',
      `Mancano elementi obbligatori: ${problems.map((problem) => problem.reason).join('; ')}`,
      { invalidParams: problems },
    );
  }
  const dpo = organisation.dpo;
  const common = {
    ...enteSide(organisation, representative),
    ...(dpo ? { rpd: { nome: dpo.name, contatto: dpo.pec ?? dpo.email } } : {}),
  };
  const processing = contract.processing;
  const registerKey =
    contract.variant === 'responsabile' ? 'contratti-privacy' : 'accordi-contitolarita';
  const templateKey =
    contract.variant === 'responsabile' ? 'contratto-responsabile' : 'accordo-contitolarita';
  const data: Record<string, unknown> =
    contract.variant === 'responsabile'
      ? {
          ...common,
          responsabile: {
            ragioneSociale: supplier.name,
            sede: addressLine(supplier.address),
            partitaIva: supplier.vatNumber,
            legaleRappresentante: supplier.legalRepresentative?.name,
            ...(supplier.pec ? { pec: supplier.pec } : {}),
          },
          gara: { cig: tender.cig, oggetto: tender.object },
          contratto: {
            oggetto: contract.subject,
            decorrenza: contract.startDate,
            scadenza: contract.endDate,
          },
          trattamento: {
            naturaFinalita: processing?.natureAndPurpose,
            tipiDati: processing?.dataTypes,
            categorieParticolari: processing?.specialCategories ?? false,
            categorieInteressati: processing?.dataSubjectCategories,
            operazioni: processing?.operations,
            ...(processing?.location ? { luogoTrattamento: processing.location } : {}),
          },
          misure: contract.measures.map((measure) => ({
            area: measure.area,
            descrizione: measure.description,
          })),
          subResponsabili: contract.subProcessors.map((sub) => ({
            ragioneSociale: sub.name,
            sede: sub.seat,
            partitaIva: sub.vatNumber,
            attivita: sub.activities,
          })),
          autorizzazioneSubResponsabili: contract.subProcessorAuthorisation,
          preavvisoGiorni: contract.noticeDays,
          oreNotificaViolazione: contract.breachNoticeHours,
        }
      : {
          ...common,
          contitolari: [
            {
              denominazione: supplier.name,
              sede: addressLine(supplier.address),
              codiceFiscale: supplier.taxCode ?? supplier.vatNumber,
              rappresentante: {
                nome: supplier.legalRepresentative?.name,
                genere: supplier.legalRepresentative?.taxCode
                  ? genderFromCodiceFiscale(supplier.legalRepresentative.taxCode)
                  : undefined,
              },
              carica: 'legale rappresentante',
            },
          ],
          oggetto: contract.subject,
          finalita: contract.jointAgreement?.purposes,
          tipiDati: processing?.dataTypes,
          categorieInteressati: processing?.dataSubjectCategories,
          responsabilita: contract.jointAgreement?.responsibilities.map((item) => ({
            soggetto: item.party,
            compiti: item.tasks,
          })),
          puntoContatto: {
            descrizione:
              contract.jointAgreement?.contactPoint?.description ??
              'Punto di contatto per gli interessati',
            contatto: contract.jointAgreement?.contactPoint?.contact,
          },
          messaAdisposizione: contract.jointAgreement?.availability,
          decorrenza: contract.startDate,
          ...(contract.endDate ? { scadenza: contract.endDate } : {}),
        };
  const actKey = `contract:${contract.id}`;
  const registration = await assignNumber({
    registerKey,
    actKey,
    subject: `${contract.variant === 'responsabile' ? 'Contratto ex art. 28 GDPR' : 'Accordo di contitolarità'} – ${supplier.name} – CIG ${tender.cig}`,
  });
  const document = await generateDocument({
    templateKey,
    data: { ...data, numero: registration.number, dataAtto: registration.date },
    principal,
    storage: deps.storage,
    render: deps.render,
    documentId: actDocumentId(actKey, contract.organisationId),
    documentIsNew: registration.fresh,
    registration,
  });
  await markRecorded(actKey, document._id);
  contract.set({
    status: 'issued',
    documentId: document._id,
    registration: {
      registerKey: registration.registerKey,
      year: registration.year,
      number: registration.number,
      date: registration.date,
    },
  });
  contract.transitions.push({ from: 'draft', to: 'issued', at: new Date(), by: principal.name });
  return contract.save();
}

export async function signContract(contractId: string, principal: Principal) {
  const contract = await findContract(contractId);
  if (contract.status !== 'issued') throw wrongState(contract, 'registrare la firma');
  contract.status = 'signed';
  contract.transitions.push({ from: 'issued', to: 'signed', at: new Date(), by: principal.name });
  await contract.save();
  // The tender moves on with its contract.
  await Tender.updateOne(
    { _id: contract.tenderId, status: 'awarded' },
    {
      $set: { status: 'contract-signed' },
      $push: {
        transitions: { from: 'awarded', to: 'contract-signed', at: new Date(), by: principal.name },
      },
    },
  );
  return contract;
}
