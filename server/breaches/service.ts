/**
 * Data breaches (artt. 33–34 GDPR; seed 002 artt. 31–35): the record, the
 * 72-hour clock, the decision (designato's report → DPO's opinion → Titolare's
 * assessment), the documents the decision allows, the notices sent, the
 * evidence files and the registro delle violazioni.
 */
import mongoose, { type Types } from 'mongoose';
import type { Principal } from '../platform/auth.js';
import { HttpProblem, type InvalidParam } from '../platform/http-problem.js';
import type { ObjectStorage } from '../platform/storage.js';
import type { ModelRenderer } from '../documents/render-pool.js';
import { generateDocument } from '../documents/service.js';
import { addressLine, Organisation, placeOf } from '../organisations/model.js';
import { Person } from '../people/model.js';
import { isDuplicateKey } from '../people/fields.js';
import { assignNumber, markRecorded, todayInRome } from '../registers/service.js';
import { Settore } from '../settori/model.js';
import { Supplier } from '../suppliers/model.js';
import {
  breachClock,
  formatRome,
  formatRomeLong,
  notificationDeadline,
  parseDateTime,
  processorLate,
  romeDate,
  type BreachClock,
} from './clock.js';
import {
  Breach,
  BreachEvidence,
  BreachStep,
  exemptionLabels,
  severityLabels,
  type BreachDocument,
  type BreachDocumentKind,
  type BreachNature,
  type BreachStatus,
  defaultGravity,
  type Exemption,
  type GravityLevel,
  type NotificationType,
  type ReporterKind,
  type SeverityAssessment,
} from './model.js';

export interface BreachDependencies {
  storage: ObjectStorage;
  render: ModelRenderer;
}

type Author = Pick<Principal, 'userId' | 'name'>;
const author = (principal: Author) => ({
  userId: principal.userId.toString(),
  name: principal.name,
});

/** The register the breaches are numbered in (art. 33(5) GDPR; seed 002 art. 35). */
export const breachRegisterKey = 'registro-violazioni';

const unprocessable = (title: string, invalidParams: InvalidParam[]) =>
  HttpProblem.unprocessable(title, invalidParams);

/** Who reported the breach: required by the schema, so always there on a saved record. */
function reporterOf(breach: BreachDocument) {
  const reporter = breach.reportedBy;
  if (!reporter) throw new Error(`breach ${breach._id.toString()} has no reporter`);
  return reporter;
}

function illegalMove(breach: BreachDocument, detail: string): HttpProblem {
  return HttpProblem.conflict(detail, { currentState: breach.status });
}

// ---------------------------------------------------------------------------
// Record
// ---------------------------------------------------------------------------

export interface BreachFields {
  title?: string | undefined;
  occurred?:
    | { start: string; end?: string | null | undefined; approximate?: boolean | undefined }
    | null
    | undefined;
  awareAt?: string | undefined;
  awarenessMeans?: string | undefined;
  reportedBy?:
    | {
        kind: ReporterKind;
        name: string;
        processorAwareAt?: string | null | undefined;
        supplierId?: string | null | undefined;
      }
    | undefined;
  description?: string | undefined;
  howItHappened?: string | null | undefined;
  natures?: BreachNature[] | undefined;
  dataSubjects?: { categories: string[]; approxCount?: number | null | undefined } | undefined;
  records?:
    { categories?: string[] | undefined; approxCount?: number | null | undefined } | undefined;
  dataCategories?: string[] | undefined;
  specialCategories?: boolean | undefined;
  judicialData?: boolean | undefined;
  recipients?: string[] | undefined;
  systems?: string[] | undefined;
  paperArchives?: string[] | undefined;
  securityMeasures?: string[] | undefined;
  encrypted?: boolean | undefined;
  likelyConsequences?: string[] | undefined;
  measuresTaken?: string[] | undefined;
  measuresProposed?: string[] | undefined;
  crossBorderStates?: string[] | undefined;
  otherAuthorities?: string[] | undefined;
  settoreId?: string | null | undefined;
  delayReasons?: string | null | undefined;
}

/** Instants from the input; routes have already checked each string parses. */
function instant(value: string): Date {
  return parseDateTime(value);
}

async function applyFields(breach: BreachDocument, fields: BreachFields, now: Date): Promise<void> {
  const problems: InvalidParam[] = [];
  const set = <K extends keyof BreachFields>(
    key: K,
    apply: (value: NonNullable<BreachFields[K]>) => void,
  ) => {
    const value = fields[key];
    if (value !== undefined && value !== null) apply(value);
  };
  set('title', (value) => (breach.title = value));
  if (fields.occurred === null) breach.occurred = null;
  set('occurred', (value) => {
    breach.occurred = {
      start: instant(value.start),
      end: value.end ? instant(value.end) : null,
      approximate: value.approximate ?? false,
    };
  });
  set('awareAt', (value) => (breach.awareAt = instant(value)));
  set('awarenessMeans', (value) => (breach.awarenessMeans = value));
  set('reportedBy', (value) => {
    breach.reportedBy = {
      kind: value.kind,
      name: value.name,
      processorAwareAt: value.processorAwareAt ? instant(value.processorAwareAt) : null,
      supplierId: value.supplierId ? new mongoose.Types.ObjectId(value.supplierId) : null,
    };
  });
  set('description', (value) => (breach.description = value));
  if (fields.howItHappened !== undefined) breach.howItHappened = fields.howItHappened;
  set('natures', (value) => (breach.natures = value));
  set('dataSubjects', (value) => {
    breach.dataSubjects = { categories: value.categories, approxCount: value.approxCount ?? null };
  });
  set('records', (value) => {
    breach.records = {
      categories: value.categories ?? [],
      approxCount: value.approxCount ?? null,
    };
  });
  for (const key of [
    'dataCategories',
    'recipients',
    'systems',
    'paperArchives',
    'securityMeasures',
    'likelyConsequences',
    'measuresTaken',
    'measuresProposed',
    'otherAuthorities',
    'crossBorderStates',
  ] as const) {
    const value = fields[key];
    if (value !== undefined) breach.set(key, value);
  }
  for (const key of ['specialCategories', 'judicialData', 'encrypted'] as const) {
    const value = fields[key];
    if (value !== undefined) breach.set(key, value);
  }
  if (fields.delayReasons !== undefined) breach.delayReasons = fields.delayReasons;
  if (fields.settoreId !== undefined) {
    if (fields.settoreId === null) breach.settoreId = null;
    else {
      const settore = await Settore.findById(fields.settoreId);
      if (!settore) {
        problems.push({ name: 'body.settoreId', reason: 'settore inesistente nell’ente' });
      } else breach.settoreId = settore._id;
    }
  }
  if (fields.reportedBy?.supplierId) {
    const supplier = await Supplier.findById(fields.reportedBy.supplierId);
    if (!supplier) {
      problems.push({
        name: 'body.reportedBy.supplierId',
        reason: 'fornitore inesistente nell’ente',
      });
    }
  }

  // Rules across fields, on the record as it would be.
  const awareAt = breach.awareAt;
  if (awareAt.getTime() > now.getTime() + 5 * 60_000) {
    problems.push({ name: 'body.awareAt', reason: 'non può essere nel futuro' });
  }
  const occurred = breach.occurred;
  if (occurred) {
    if (occurred.end && occurred.end.getTime() < occurred.start.getTime()) {
      problems.push({ name: 'body.occurred.end', reason: 'precede l’inizio della violazione' });
    }
    if (occurred.start.getTime() > awareAt.getTime()) {
      problems.push({
        name: 'body.occurred.start',
        reason: 'la violazione non può iniziare dopo che l’ente ne è venuto a conoscenza',
      });
    }
  }
  const reporter = reporterOf(breach);
  if (reporter.kind === 'responsabile') {
    if (!reporter.processorAwareAt) {
      problems.push({
        name: 'body.reportedBy.processorAwareAt',
        reason:
          'indicare quando il responsabile ha scoperto la violazione (art. 7 del Regolamento: 48 ore)',
      });
    } else if (reporter.processorAwareAt.getTime() > awareAt.getTime()) {
      problems.push({
        name: 'body.reportedBy.processorAwareAt',
        reason: 'il responsabile non può averla scoperta dopo che l’ente ne è venuto a conoscenza',
      });
    }
  } else if (reporter.processorAwareAt || reporter.supplierId) {
    problems.push({
      name: 'body.reportedBy.processorAwareAt',
      reason: 'solo per una segnalazione di un responsabile del trattamento',
    });
  }
  if (breach.natures.length === 0) {
    problems.push({
      name: 'body.natures',
      reason: 'almeno una: riservatezza, integrita, disponibilita',
    });
  }
  if (problems.length > 0) throw unprocessable('Violazione non valida', problems);
}

export async function createBreach(fields: BreachFields, principal: Principal, now = new Date()) {
  const breach = new Breach({
    title: fields.title,
    awareAt: fields.awareAt ? instant(fields.awareAt) : undefined,
    awarenessMeans: fields.awarenessMeans,
    reportedBy: fields.reportedBy
      ? { kind: fields.reportedBy.kind, name: fields.reportedBy.name }
      : undefined,
    description: fields.description,
    status: 'aperta',
    transitions: [{ from: null, to: 'aperta', at: now, by: principal.name }],
    createdBy: author(principal),
  });
  await applyFields(breach, fields, now);
  // Numbered in the registro delle violazioni by the year the ente became aware.
  const registration = await assignNumber({
    registerKey: breachRegisterKey,
    actKey: `violazione:${breach._id.toString()}`,
    subject: breach.title,
    date: romeDate(breach.awareAt),
  });
  breach.register = { year: registration.year, number: registration.number };
  await breach.save();
  await markRecorded(`violazione:${breach._id.toString()}`, null);
  return breach;
}

export async function findBreach(breachId: string | Types.ObjectId) {
  const breach = await Breach.findById(breachId);
  if (!breach) throw HttpProblem.notFound(`Violazione ${breachId.toString()} non trovata`);
  return breach;
}

export async function updateBreach(
  breachId: string,
  fields: BreachFields,
  principal: Principal,
  now = new Date(),
) {
  const breach = await findBreach(breachId);
  if (breach.status === 'chiusa') {
    throw illegalMove(breach, 'La violazione è chiusa: non si modifica più');
  }
  if (fields.awareAt !== undefined && breach.firstNotifiedAt) {
    const next = instant(fields.awareAt);
    if (next.getTime() !== breach.awareAt.getTime()) {
      throw illegalMove(
        breach,
        'La notifica al Garante è già stata inviata con questo momento di conoscenza: non si cambia',
      );
    }
  }
  await applyFields(breach, fields, now);
  breach.updatedBy = author(principal);
  await breach.save();
  return breach;
}

export interface BreachListQuery {
  overdue?: 'true' | 'false' | undefined;
  status?: BreachStatus | undefined;
  limit: number;
  offset: number;
}

export async function listBreaches(query: BreachListQuery, now = new Date()) {
  const filter: Record<string, unknown> = {};
  if (query.status) filter.status = query.status;
  if (query.overdue === 'true') {
    // Unnotified, past the 72 hours, and not found risk-free by the Titolare.
    filter.firstNotifiedAt = null;
    filter.awareAt = { $lt: new Date(now.getTime() - 72 * 3_600_000) };
  }
  let breaches = await Breach.find(filter).sort({ awareAt: -1 });
  breaches = breaches.filter((breach) => {
    if (query.overdue === undefined) return true;
    return clockOf(breach, now).overdue === (query.overdue === 'true');
  });
  return {
    items: breaches.slice(query.offset, query.offset + query.limit),
    total: breaches.length,
  };
}

export function clockOf(breach: BreachDocument, now = new Date()): BreachClock {
  return breachClock({
    awareAt: breach.awareAt,
    now,
    notifiedAt: breach.firstNotifiedAt ?? null,
    notificationDue: breach.assessment?.outcome !== 'nessun-rischio',
  });
}

/** What the decision allows to generate now, and why not the others. */
export function documentPermissions(
  breach: BreachDocument,
): Record<BreachDocumentKind, { allowed: boolean; reason: string | null }> {
  const assessment = breach.assessment;
  const allowed = { allowed: true, reason: null };
  const refused = (reason: string) => ({ allowed: false, reason });
  const noAssessment = refused('la valutazione del Titolare non è ancora registrata');
  return {
    'designato-report': breach.designatoReport
      ? allowed
      : refused('la relazione del Designato non è ancora registrata'),
    'dpo-opinion': breach.dpoOpinion
      ? allowed
      : refused('il parere dell’RPD non è ancora registrato'),
    notification: !assessment
      ? noAssessment
      : assessment.outcome === 'nessun-rischio'
        ? refused(
            'il Titolare ha escluso il rischio: la violazione si annota nel registro senza notifica al Garante (art. 33 del Regolamento)',
          )
        : allowed,
    communication: !assessment
      ? noAssessment
      : assessment.outcome !== 'rischio-elevato'
        ? refused(
            'la comunicazione agli interessati è dovuta solo con un rischio elevato (art. 34, par. 1, GDPR)',
          )
        : assessment.exemption
          ? refused(
              `non dovuta: ${exemptionLabels[assessment.exemption]}${assessment.exemption === 'c' ? ' (generare l’avviso pubblico)' : ''}`,
            )
          : allowed,
    'public-notice': !assessment
      ? noAssessment
      : assessment.outcome === 'rischio-elevato' && assessment.exemption === 'c'
        ? allowed
        : refused(
            'l’avviso pubblico sostituisce la comunicazione individuale solo con un rischio elevato e l’esenzione dell’art. 34, par. 3, lett. c), GDPR',
          ),
  };
}

export function presentBreach(breach: BreachDocument, now = new Date()) {
  const reporter = reporterOf(breach);
  return {
    ...(breach.toJSON() as Record<string, unknown>),
    awareAtLocal: formatRome(breach.awareAt),
    clock: clockOf(breach, now),
    processorLate:
      reporter.kind === 'responsabile' && reporter.processorAwareAt
        ? processorLate(reporter.processorAwareAt, breach.awareAt)
        : null,
    documentsAllowed: documentPermissions(breach),
  };
}

// ---------------------------------------------------------------------------
// Decision
// ---------------------------------------------------------------------------

const stepOrder: { step: string; from: BreachStatus; to: BreachStatus; label: string }[] = [
  {
    step: 'designato-report',
    from: 'aperta',
    to: 'relazionata',
    label: 'la relazione del Designato',
  },
  {
    step: 'dpo-opinion',
    from: 'relazionata',
    to: 'parere-acquisito',
    label: 'il parere dell’RPD',
  },
  {
    step: 'assessment',
    from: 'parere-acquisito',
    to: 'valutata',
    label: 'la valutazione del Titolare',
  },
];

/**
 * Moves the breach one step, recording who and when. The step is claimed by
 * inserting it under a unique id first: of two concurrent callers one loses the
 * insert (409), whatever FerretDB does with the update that follows.
 */
async function takeStep(
  breach: BreachDocument,
  step: string,
  principal: Principal,
  now: Date,
  apply: () => void,
) {
  const move = stepOrder.find((entry) => entry.step === step);
  if (!move) throw new Error(`unknown step ${step}`);
  if (breach.status !== move.from) {
    const previous = stepOrder.find((entry) => entry.to === move.from);
    throw illegalMove(
      breach,
      breach.status === move.from ||
        stepOrder.findIndex((entry) => entry.from === breach.status) <
          stepOrder.findIndex((entry) => entry.step === step)
        ? `Prima ${previous?.label ?? 'il passo precedente'}: ${move.label} segue (stato attuale ${breach.status})`
        : `${move.label[0]!.toUpperCase()}${move.label.slice(1)} è già registrata o superata (stato attuale ${breach.status})`,
    );
  }
  const claimId = `${breach._id.toString()}:${step}`;
  try {
    await BreachStep.create({
      _id: claimId,
      breachId: breach._id,
      step,
      at: now,
      by: author(principal),
    });
  } catch (error) {
    if (isDuplicateKey(error)) {
      throw illegalMove(breach, `${move.label} è già stata registrata da un’altra richiesta`);
    }
    throw error;
  }
  try {
    apply();
    breach.status = move.to;
    breach.transitions.push({ from: move.from, to: move.to, at: now, by: principal.name });
    breach.updatedBy = author(principal);
    await breach.save();
  } catch (error) {
    await BreachStep.deleteOne({ _id: claimId }).catch(() => undefined);
    throw error;
  }
  return breach;
}

export async function recordDesignatoReport(
  breachId: string,
  input: {
    designato?: string | undefined;
    designatoPersonId?: string | undefined;
    gender?: 'M' | 'F' | undefined;
    text: string;
  },
  principal: Principal,
  now = new Date(),
) {
  const breach = await findBreach(breachId);
  let designato = input.designato;
  let gender = input.gender;
  // The designato is a person of the ente's registry, or the manager of the breach's settore.
  let personId = input.designatoPersonId;
  if (!personId && !designato && breach.settoreId) {
    const settore = await Settore.findById(breach.settoreId);
    personId = settore?.managerId?.toString();
  }
  if (personId) {
    const person = await Person.findById(personId);
    if (!person) {
      throw unprocessable('Relazione non valida', [
        { name: 'body.designatoPersonId', reason: 'persona inesistente nell’ente' },
      ]);
    }
    designato ??= `${person.firstName} ${person.lastName}`;
    gender ??= person.gender;
  }
  if (!designato) {
    throw unprocessable('Relazione incompleta', [
      {
        name: 'body.designato',
        reason: 'indicare il Designato (o il settore della violazione, col suo responsabile)',
      },
    ]);
  }
  const name = designato;
  return takeStep(breach, 'designato-report', principal, now, () => {
    breach.designatoReport = {
      designato: name,
      gender: gender ?? null,
      text: input.text,
      at: now,
      by: author(principal),
    };
  });
}

export async function recordDpoOpinion(
  breachId: string,
  input: {
    assessment: SeverityAssessment;
    reasons: string;
    recommendedMeasures?: string[] | undefined;
    exemption?: Exemption | undefined;
    severity?: GravityLevel | undefined;
  },
  principal: Principal,
  now = new Date(),
) {
  const breach = await findBreach(breachId);
  if (input.exemption && input.assessment !== 'rischio-elevato') {
    throw unprocessable('Parere non valido', [
      {
        name: 'body.exemption',
        reason: 'le esenzioni dell’art. 34, par. 3, GDPR valgono solo con un rischio elevato',
      },
    ]);
  }
  return takeStep(breach, 'dpo-opinion', principal, now, () => {
    breach.dpoOpinion = {
      assessment: input.assessment,
      reasons: input.reasons,
      recommendedMeasures: input.recommendedMeasures ?? [],
      exemption: input.exemption ?? null,
      severity: input.severity ?? null,
      at: now,
      by: author(principal),
    };
  });
}

export interface AssessmentInput {
  outcome: SeverityAssessment;
  reasons: string;
  exemption?: Exemption | undefined;
  exemptionExplanation?: string | undefined;
  publicNotice?: boolean | undefined;
  severity?: GravityLevel | undefined;
}

export async function recordAssessment(
  breachId: string,
  input: AssessmentInput,
  principal: Principal,
  now = new Date(),
) {
  const breach = await findBreach(breachId);
  const problems: InvalidParam[] = [];
  if (input.exemption && input.outcome !== 'rischio-elevato') {
    problems.push({
      name: 'body.exemption',
      reason: 'le esenzioni dell’art. 34, par. 3, GDPR valgono solo con un rischio elevato',
    });
  }
  if (input.exemption && !input.exemptionExplanation) {
    problems.push({
      name: 'body.exemptionExplanation',
      reason: `spiegare perché ricorre l’esenzione: ${exemptionLabels[input.exemption]}`,
    });
  }
  if (input.publicNotice === true && input.exemption !== 'c') {
    problems.push({
      name: 'body.publicNotice',
      reason:
        'l’avviso pubblico sostituisce le comunicazioni individuali solo con l’esenzione c) (sforzi sproporzionati)',
    });
  }
  if (input.exemption === 'c' && input.publicNotice === false) {
    problems.push({
      name: 'body.publicNotice',
      reason:
        'con l’esenzione c) gli interessati vanno informati con una comunicazione pubblica (art. 34, par. 3, lett. c), GDPR)',
    });
  }
  if (
    input.outcome === 'nessun-rischio' &&
    breach.natures.includes('disponibilita') &&
    !breach.measuresTaken.length
  ) {
    // Seed 002 art. 33 c.2: loss or destruction is not made harmless by encryption.
    problems.push({
      name: 'body.outcome',
      reason:
        'perdita o distruzione dei dati: l’inintelligibilità non basta (art. 33, comma 2, del Regolamento); indicare le misure adottate (measuresTaken) o valutare il rischio',
    });
  }
  if (problems.length > 0) throw unprocessable('Valutazione non valida', problems);
  return takeStep(breach, 'assessment', principal, now, () => {
    breach.assessment = {
      outcome: input.outcome,
      reasons: input.reasons,
      exemption: input.exemption ?? null,
      exemptionExplanation: input.exemptionExplanation ?? null,
      publicNotice: input.exemption === 'c',
      severity: input.severity ?? defaultGravity[input.outcome],
      at: now,
      by: author(principal),
    };
  });
}

export async function closeBreach(breachId: string, principal: Principal, now = new Date()) {
  const breach = await findBreach(breachId);
  const assessed = breach.status === 'valutata' || breach.status === 'notificata';
  if (!assessed) {
    throw illegalMove(breach, 'Si chiude una violazione solo dopo la valutazione del Titolare');
  }
  if (clockOf(breach, now).notificationDue && !breach.firstNotifiedAt) {
    throw illegalMove(breach, 'La notifica al Garante è dovuta e non risulta inviata');
  }
  breach.transitions.push({ from: breach.status, to: 'chiusa', at: now, by: principal.name });
  breach.status = 'chiusa';
  breach.closedAt = now;
  breach.updatedBy = author(principal);
  await breach.save();
  return breach;
}

// ---------------------------------------------------------------------------
// Notices sent
// ---------------------------------------------------------------------------

export interface NotificationInput {
  type: NotificationType;
  sentAt: string;
  protocollo?: string | undefined;
  pecMessageId?: string | undefined;
  garanteFileNumber?: string | undefined;
  documentId?: string | undefined;
  delayReasons?: string | undefined;
}

export function lateWithoutReasons(breach: BreachDocument, at: Date, delayReasons?: string | null) {
  return at.getTime() > notificationDeadline(breach.awareAt).getTime() && !delayReasons;
}

/** Which kind of notice may go now: the first is preliminare or completa, the rest integrative. */
export function checkNotificationType(breach: BreachDocument, type: NotificationType) {
  const permission = documentPermissions(breach).notification;
  if (!permission.allowed) throw illegalMove(breach, `Notifica non ammessa: ${permission.reason}`);
  const first = breach.notifications[0];
  if (type === 'integrativa' && !first) {
    throw illegalMove(
      breach,
      'Una notifica integrativa rimanda alla prima (art. 33, par. 4, GDPR): registrare prima l’invio della notifica preliminare o completa',
    );
  }
  if (type !== 'integrativa' && first) {
    throw illegalMove(
      breach,
      `La notifica ${first.type} è già stata inviata: le informazioni successive vanno in una notifica integrativa`,
    );
  }
}

export async function recordNotification(
  breachId: string,
  input: NotificationInput,
  principal: Principal,
  now = new Date(),
) {
  const breach = await findBreach(breachId);
  checkNotificationType(breach, input.type);
  const sentAt = instant(input.sentAt);
  const problems: InvalidParam[] = [];
  if (sentAt.getTime() > now.getTime() + 5 * 60_000) {
    problems.push({ name: 'body.sentAt', reason: 'non può essere nel futuro' });
  }
  if (sentAt.getTime() < breach.awareAt.getTime()) {
    problems.push({
      name: 'body.sentAt',
      reason: 'precede il momento in cui l’ente ne è venuto a conoscenza',
    });
  }
  const delayReasons = input.delayReasons ?? breach.delayReasons;
  if (input.type !== 'integrativa' && lateWithoutReasons(breach, sentAt, delayReasons)) {
    problems.push({
      name: 'body.delayReasons',
      reason: 'notifica oltre le 72 ore: indicare i motivi del ritardo (art. 33, par. 1, GDPR)',
    });
  }
  let documentId: Types.ObjectId | null = null;
  if (input.documentId) {
    const generated = breach.documents.find(
      (document) =>
        document.documentId.toString() === input.documentId && document.kind === 'notification',
    );
    if (!generated) {
      problems.push({
        name: 'body.documentId',
        reason: 'non è una notifica generata per questa violazione',
      });
    } else documentId = generated.documentId;
  }
  if (problems.length > 0) throw unprocessable('Invio non valido', problems);
  if (input.delayReasons) breach.delayReasons = input.delayReasons;
  const late = sentAt.getTime() > notificationDeadline(breach.awareAt).getTime();
  breach.notifications.push({
    type: input.type,
    sentAt,
    protocollo: input.protocollo ?? null,
    pecMessageId: input.pecMessageId ?? null,
    garanteFileNumber: input.garanteFileNumber ?? null,
    documentId,
    late: input.type !== 'integrativa' && late,
    recordedBy: author(principal),
  });
  if (!breach.firstNotifiedAt) {
    breach.firstNotifiedAt = sentAt;
    if (breach.status === 'valutata') {
      breach.transitions.push({ from: 'valutata', to: 'notificata', at: now, by: principal.name });
      breach.status = 'notificata';
    }
  }
  breach.updatedBy = author(principal);
  await breach.save();
  return breach;
}

// ---------------------------------------------------------------------------
// Documents
// ---------------------------------------------------------------------------

export interface DocumentRequest {
  type?: NotificationType | undefined;
  delayReasons?: string | undefined;
  protocollo?: string | undefined;
  /** Integrativa: what it adds to the first notice. */
  additions?: string[] | undefined;
  notifier?:
    | {
        name: string;
        role: string;
        email: string;
        pec?: string | undefined;
        phone?: string | undefined;
      }
    | undefined;
  /** Protocol number of the DPO's contact details sent to the Garante. */
  dpoGaranteProtocol?: string | undefined;
  /** How data subjects are (or will be) told, for the notice's section on communication. */
  communicationChannel?: string | undefined;
  recipient?: { name: string; address?: string | undefined } | undefined;
  contact?:
    { office: string; phone: string; email: string; hours?: string | undefined } | undefined;
  advice?: string[] | undefined;
  publication?:
    { channels: string[]; from?: string | undefined; to?: string | undefined } | undefined;
}

async function enteOf(organisationId: Types.ObjectId) {
  const organisation = await Organisation.findById(organisationId);
  if (!organisation) throw HttpProblem.notFound('Ente non trovato');
  const representative = organisation.legalRepresentative
    ? await Person.findById(organisation.legalRepresentative.personId)
    : null;
  return { organisation, representative };
}

export async function generateBreachDocument(
  breachId: string,
  kind: BreachDocumentKind,
  request: DocumentRequest,
  principal: Principal,
  deps: BreachDependencies,
  now = new Date(),
) {
  const breach = await findBreach(breachId);
  const permission = documentPermissions(breach)[kind];
  if (!permission.allowed) {
    throw illegalMove(breach, `Documento ${kind} non ammesso: ${permission.reason}`);
  }
  const notificationType = kind === 'notification' ? (request.type ?? 'preliminare') : null;
  if (notificationType) {
    checkNotificationType(breach, notificationType);
    if (notificationType !== 'integrativa') {
      const reasons = request.delayReasons ?? breach.delayReasons;
      if (lateWithoutReasons(breach, now, reasons)) {
        throw unprocessable('Notifica tardiva', [
          {
            name: 'body.delayReasons',
            reason: `le 72 ore sono scadute il ${formatRomeLong(notificationDeadline(breach.awareAt))}: indicare i motivi del ritardo (art. 33, par. 1, GDPR)`,
          },
        ]);
      }
    }
  }
  if (request.delayReasons) breach.delayReasons = request.delayReasons;
  const { organisation, representative } = await enteOf(breach.organisationId);
  const settore = breach.settoreId ? await Settore.findById(breach.settoreId) : null;
  const evidence = await BreachEvidence.find({ breachId: breach._id }).sort({ createdAt: 1 });
  const data = breachTemplateData(kind, {
    breach,
    organisation,
    representative,
    settore,
    evidence,
    notificationType,
    request,
    now,
    today: todayInRome(now),
    place: placeOf(organisation),
    address: addressLine(organisation.address) ?? null,
  });
  const document = await generateDocument({
    templateKey: notificationType === 'integrativa' ? templateKeys.integrativa : templateKeys[kind],
    data,
    principal,
    storage: deps.storage,
    render: deps.render,
  });
  breach.documents.push({
    kind,
    notificationType,
    documentId: document._id,
    generatedAt: now,
    by: author(principal),
  });
  breach.updatedBy = author(principal);
  await breach.save();
  return { breach, document };
}

// ---------------------------------------------------------------------------
// Evidence
// ---------------------------------------------------------------------------

export const evidenceMaxBytes = 10 * 1024 * 1024;

type EvidenceType = 'pdf' | 'png' | 'jpeg' | 'text' | 'eml' | 'zip';
const evidenceContentTypes: Record<EvidenceType, string> = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpeg: 'image/jpeg',
  text: 'text/plain; charset=utf-8',
  eml: 'message/rfc822',
  zip: 'application/zip',
};
const extensionTypes: Record<string, EvidenceType> = {
  pdf: 'pdf',
  png: 'png',
  jpg: 'jpeg',
  jpeg: 'jpeg',
  txt: 'text',
  csv: 'text',
  log: 'text',
  eml: 'eml',
  zip: 'zip',
};

function startsWith(bytes: Uint8Array, signature: number[]): boolean {
  return signature.every((byte, index) => bytes[index] === byte);
}

/** Text: valid UTF-8 without NUL or control bytes other than tab, newlines and form feed. */
function isText(bytes: Uint8Array): boolean {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    for (let index = 0; index < text.length; index += 1) {
      const code = text.charCodeAt(index);
      const allowed = code === 9 || code === 10 || code === 12 || code === 13;
      if ((code < 32 && !allowed) || code === 127) return false;
    }
    return true;
  } catch {
    return false;
  }
}

const emlHeader =
  /^(from|to|subject|date|received|message-id|return-path|mime-version|delivered-to|x-[a-z0-9-]+):/im;

/** What the bytes are, from their signature; undefined for anything not allowed. */
export function detectEvidenceType(bytes: Uint8Array): EvidenceType | undefined {
  if (startsWith(bytes, [0x25, 0x50, 0x44, 0x46, 0x2d])) return 'pdf';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06])) {
    return 'zip';
  }
  if (bytes.byteLength > 0 && isText(bytes)) {
    const head = new TextDecoder().decode(bytes.subarray(0, 4096));
    return emlHeader.test(head.split(/\r?\n\r?\n/)[0] ?? '') ? 'eml' : 'text';
  }
  return undefined;
}

function unsupportedFile(detail: string): HttpProblem {
  return new HttpProblem(415, 'Tipo di file non ammesso', detail, {
    invalidParams: [{ name: 'files.file', reason: detail }],
  });
}

export async function addEvidence(
  breachId: string,
  file: { originalname: string; buffer: Buffer; size: number },
  description: string | undefined,
  principal: Principal,
  storage: ObjectStorage,
) {
  const breach = await findBreach(breachId);
  if (breach.status === 'chiusa') throw illegalMove(breach, 'La violazione è chiusa');
  if (file.size > evidenceMaxBytes) {
    throw new HttpProblem(413, 'File troppo grande', 'Al massimo 10 MB', {
      invalidParams: [{ name: 'files.file', reason: 'al massimo 10 MB' }],
    });
  }
  const fileName = Buffer.from(file.originalname, 'latin1').toString('utf8');
  const extension = /\.([A-Za-z0-9]+)$/.exec(fileName)?.[1]?.toLowerCase() ?? '';
  const expected = extensionTypes[extension];
  if (!expected) {
    throw unsupportedFile(
      `estensione .${extension || '?'} non ammessa: PDF, PNG, JPEG, TXT/CSV, EML o ZIP`,
    );
  }
  const detected = detectEvidenceType(file.buffer);
  // An .eml is text too; a .txt that looks like a message stays a text.
  const matches =
    detected === expected ||
    (expected === 'text' && detected === 'eml') ||
    (expected === 'eml' && detected === 'text');
  if (!detected || !matches) {
    throw unsupportedFile(
      `il contenuto non è un file ${extension.toUpperCase()} (${detected ? `sembra ${detected.toUpperCase()}` : 'tipo non riconosciuto o non ammesso'})`,
    );
  }
  const id = new mongoose.Types.ObjectId();
  const key = `organisations/${breach.organisationId.toString()}/breaches/${breach._id.toString()}/evidence/${id.toString()}`;
  const contentType = evidenceContentTypes[expected === 'eml' ? 'eml' : expected];
  const stored = await storage.put(key, file.buffer, contentType);
  try {
    return await BreachEvidence.create({
      _id: id,
      breachId: breach._id,
      fileName,
      description: description ?? null,
      detectedType: expected,
      contentType,
      size: stored.size,
      sha256: stored.sha256,
      key,
      versionId: stored.versionId ?? null,
      uploadedBy: author(principal),
    });
  } catch (error) {
    await storage.delete(key, stored.versionId).catch(() => undefined);
    throw error;
  }
}

export async function listEvidence(breachId: string) {
  const breach = await findBreach(breachId);
  return BreachEvidence.find({ breachId: breach._id }).sort({ createdAt: 1 });
}

export async function findEvidence(breachId: string, evidenceId: string) {
  const breach = await findBreach(breachId);
  const evidence = await BreachEvidence.findById(evidenceId);
  if (!evidence || !evidence.breachId.equals(breach._id)) {
    throw HttpProblem.notFound(`Prova ${evidenceId} non trovata`);
  }
  return evidence;
}

// ---------------------------------------------------------------------------
// Registro delle violazioni
// ---------------------------------------------------------------------------

export interface RegisterRow {
  numero: string;
  dataConoscenza: string;
  dataViolazione: string;
  ufficio: string;
  titolo: string;
  descrizione: string;
  natura: string;
  gravita: string;
  dispositivi: string;
  categorieDati: string;
  categorieInteressati: string;
  numeroInteressati: string;
  destinatari: string;
  misureEsistenti: string;
  misureAdottate: string;
  notificaGarante: string;
  comunicazioneInteressati: string;
  stato: string;
}

function occurredText(breach: BreachDocument): string {
  const occurred = breach.occurred;
  if (!occurred) return 'non nota';
  const start = formatRome(occurred.start);
  const text = occurred.end ? `dal ${start} al ${formatRome(occurred.end)}` : start;
  return occurred.approximate ? `${text} (circa)` : text;
}

function dataCategoriesText(breach: BreachDocument): string {
  return [
    ...breach.dataCategories,
    ...(breach.specialCategories ? ['dati particolari (art. 9 GDPR)'] : []),
    ...(breach.judicialData ? ['dati giudiziari (art. 10 GDPR)'] : []),
  ].join('; ');
}

function communicationText(breach: BreachDocument): string {
  const assessment = breach.assessment;
  if (!assessment) return 'da valutare';
  if (assessment.outcome !== 'rischio-elevato') return 'non dovuta (rischio non elevato)';
  if (assessment.exemption === 'c')
    return 'sostituita da comunicazione pubblica (art. 34, par. 3, lett. c), GDPR)';
  if (assessment.exemption)
    return `non dovuta (art. 34, par. 3, lett. ${assessment.exemption}), GDPR)`;
  const generated = breach.documents.some((document) => document.kind === 'communication');
  return generated ? 'dovuta, predisposta' : 'dovuta';
}

function notificationText(breach: BreachDocument): string {
  const assessment = breach.assessment;
  if (!assessment) return 'da valutare';
  if (assessment.outcome === 'nessun-rischio') return 'non dovuta (nessun rischio)';
  if (breach.notifications.length === 0) return 'dovuta, non inviata';
  return breach.notifications
    .map(
      (notification) =>
        `${notification.type} del ${formatRome(notification.sentAt)}${notification.protocollo ? `, prot. ${notification.protocollo}` : ''}${notification.late ? ' (oltre le 72 ore)' : ''}`,
    )
    .join('; ');
}

/** Every breach of the ente, notified or not, with the fields of seed 002 art. 35 c.2. */
export async function registerRows(): Promise<{ breach: BreachDocument; row: RegisterRow }[]> {
  const breaches = await Breach.find({}).sort({ awareAt: 1 });
  const settori = new Map(
    (await Settore.find({})).map((settore) => [settore._id.toString(), settore.name]),
  );
  return breaches.map((breach) => ({
    breach,
    row: {
      numero: breach.register ? `${breach.register.number}/${breach.register.year}` : '',
      dataConoscenza: formatRome(breach.awareAt),
      dataViolazione: occurredText(breach),
      ufficio: breach.settoreId ? (settori.get(breach.settoreId.toString()) ?? '') : '',
      titolo: breach.title,
      descrizione: breach.description,
      natura: breach.natures.map((nature) => nature).join('; '),
      gravita: breach.assessment ? severityLabels[breach.assessment.outcome] : 'da valutare',
      dispositivi: [
        ...breach.systems,
        ...breach.paperArchives.map((archive) => `archivio cartaceo: ${archive}`),
      ].join('; '),
      categorieDati: dataCategoriesText(breach),
      categorieInteressati: breach.dataSubjects.categories.join('; '),
      numeroInteressati:
        breach.dataSubjects.approxCount === null || breach.dataSubjects.approxCount === undefined
          ? ''
          : String(breach.dataSubjects.approxCount),
      destinatari: breach.recipients.join('; '),
      misureEsistenti: breach.securityMeasures.join('; '),
      misureAdottate: [
        ...breach.measuresTaken,
        ...breach.measuresProposed.map((measure) => `proposta: ${measure}`),
      ].join('; '),
      notificaGarante: notificationText(breach),
      comunicazioneInteressati: communicationText(breach),
      stato: breach.status,
    },
  }));
}

const csvColumns: [keyof RegisterRow, string][] = [
  ['numero', 'Numero'],
  ['dataConoscenza', 'Data e ora di conoscenza'],
  ['dataViolazione', 'Data della violazione'],
  ['ufficio', 'Ufficio competente'],
  ['titolo', 'Titolo'],
  ['descrizione', 'Descrizione'],
  ['natura', 'Natura'],
  ['gravita', 'Gravità'],
  ['dispositivi', 'Dispositivi automatizzati e cartacei coinvolti'],
  ['categorieDati', 'Categorie di dati violati'],
  ['categorieInteressati', 'Categorie di interessati'],
  ['numeroInteressati', 'Numero approssimativo di interessati'],
  ['destinatari', 'Destinatari'],
  ['misureEsistenti', 'Misure di sicurezza presenti'],
  ['misureAdottate', 'Misure adottate'],
  ['notificaGarante', 'Notifica al Garante'],
  ['comunicazioneInteressati', 'Comunicazione agli interessati'],
  ['stato', 'Stato'],
];

/** RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function toCsv(rows: string[][]): string {
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export async function registerCsv(): Promise<string> {
  const rows = await registerRows();
  return toCsv([
    csvColumns.map(([, header]) => header),
    ...rows.map(({ row }) => csvColumns.map(([key]) => row[key])),
  ]);
}

export async function registerPdf(
  principal: Principal,
  deps: BreachDependencies,
  now = new Date(),
) {
  const breaches = await Breach.find({}).sort({ awareAt: 1 });
  const settori = new Map(
    (await Settore.find({})).map((settore) => [settore._id.toString(), settore]),
  );
  const { organisation, representative } = await enteOf(principal.organisationId);
  const data = registerTemplateData({
    breaches,
    settori,
    organisation,
    representative,
    now,
    today: todayInRome(now),
    place: placeOf(organisation),
    address: addressLine(organisation.address) ?? null,
  });
  return generateDocument({
    templateKey: templateKeys.register,
    data,
    principal,
    storage: deps.storage,
    render: deps.render,
  });
}

// ---------------------------------------------------------------------------
// Template data: the records as the templates' input schemas ask for them
// ---------------------------------------------------------------------------

export const templateKeys = {
  'designato-report': 'relazione-designato-violazione',
  'dpo-opinion': 'parere-rpd-violazione',
  notification: 'notifica-violazione',
  integrativa: 'notifica-violazione-integrativa',
  communication: 'comunicazione-interessati',
  'public-notice': 'avviso-pubblico-violazione',
  register: 'registro-violazioni',
} as const;

type OrganisationRecord = InstanceType<typeof Organisation>;
type PersonRecord = InstanceType<typeof Person> | null;
type SettoreRecord = InstanceType<typeof Settore> | null;
type EvidenceRecord = InstanceType<typeof BreachEvidence>;

interface EnteSources {
  organisation: OrganisationRecord;
  representative: PersonRecord;
  now: Date;
  today: string;
  place: string;
  address: string | null;
}

interface BreachSources extends EnteSources {
  breach: BreachDocument;
  settore: SettoreRecord;
  evidence: EvidenceRecord[];
  notificationType: NotificationType | null;
  request: DocumentRequest;
}

const riskCodes: Record<SeverityAssessment, 'nessuno' | 'rischio' | 'elevato'> = {
  'nessun-rischio': 'nessuno',
  rischio: 'rischio',
  'rischio-elevato': 'elevato',
};

/** Drops undefined values and empty optional strings, so the schema names what is missing. */
function compact(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).filter(([, entry]) => entry !== undefined && entry !== null),
  );
}

export function breachCode(breach: BreachDocument): string {
  return breach.register
    ? `DB-${breach.register.year}-${String(breach.register.number).padStart(3, '0')}`
    : `DB-${breach._id.toString().slice(-6)}`;
}

function gravityOf(breach: BreachDocument): GravityLevel | undefined {
  const assessed = breach.assessment?.severity;
  if (assessed) return assessed;
  const opinion = breach.dpoOpinion;
  if (!opinion) return undefined;
  return (opinion.severity as GravityLevel | null) ?? defaultGravity[opinion.assessment];
}

function signatoryOf(sources: EnteSources) {
  const person = sources.representative;
  if (!person) return undefined;
  return compact({
    nome: `${person.firstName} ${person.lastName}`,
    carica: sources.organisation.legalRepresentative?.role ?? 'Sindaco pro tempore',
    genere: person.gender ?? undefined,
  });
}

function titolareOf(sources: EnteSources) {
  const organisation = sources.organisation;
  const taxCode = [organisation.taxCode, organisation.vatNumber].find(
    (code) => code && /^[0-9]{11}$/.test(code),
  );
  return compact({
    codiceFiscale: taxCode,
    indirizzo: sources.address ?? undefined,
    pec: organisation.pec ?? undefined,
    email: organisation.email ?? undefined,
    rappresentanteLegale: signatoryOf(sources),
  });
}

function rpdOf(organisation: OrganisationRecord, request?: DocumentRequest) {
  const dpo = organisation.dpo;
  if (!dpo) return undefined;
  return compact({
    nome: dpo.name,
    referente: dpo.contactPerson ?? undefined,
    email: dpo.email,
    pec: dpo.pec ?? undefined,
    telefono: dpo.phone ?? undefined,
    protocolloComunicazioneGarante: request?.dpoGaranteProtocol,
  });
}

function violazioneOf(breach: BreachDocument, settore: SettoreRecord) {
  const occurred = breach.occurred;
  const subjects = breach.dataSubjects;
  const records = breach.records;
  const assessment = breach.assessment;
  return compact({
    codice: breachCode(breach),
    titolo: breach.title,
    ufficio: settore?.name,
    dataInizio: occurred ? formatRome(occurred.start) : undefined,
    dataFine: occurred?.end ? formatRome(occurred.end) : undefined,
    dataConoscenza: formatRome(breach.awareAt),
    modalitaConoscenza: breach.awarenessMeans,
    scadenza: formatRome(notificationDeadline(breach.awareAt)),
    natura: breach.natures,
    descrizione: breach.description,
    comeAvvenuta: breach.howItHappened ?? undefined,
    sistemi: breach.systems,
    archiviCartacei: breach.paperArchives,
    misureInEssere: breach.securityMeasures,
    interessati:
      subjects.categories.length > 0 && typeof subjects.approxCount === 'number'
        ? { categorie: subjects.categories, numeroApprossimativo: subjects.approxCount }
        : undefined,
    registrazioni:
      typeof records.approxCount === 'number'
        ? compact({
            numeroApprossimativo: records.approxCount,
            nota:
              records.categories.length > 0
                ? `Registrazioni: ${records.categories.join('; ')}`.slice(0, 500)
                : undefined,
          })
        : undefined,
    categorieDati: breach.dataCategories.length > 0 ? breach.dataCategories : undefined,
    datiParticolari: breach.specialCategories,
    datiGiudiziari: breach.judicialData,
    destinatari: breach.recipients,
    conseguenze:
      breach.likelyConsequences.length > 0 ? breach.likelyConsequences.join('; ') : undefined,
    gravita: gravityOf(breach),
    rischio: assessment ? riskCodes[assessment.outcome] : undefined,
    misureAdottate: breach.measuresTaken,
    misureProposte: breach.measuresProposed,
  });
}

/** The section of the notice on telling data subjects (done, planned or not due, and why). */
function communicationSection(breach: BreachDocument, request: DocumentRequest) {
  const assessment = breach.assessment;
  if (!assessment || assessment.outcome !== 'rischio-elevato') {
    return {
      stato: 'non-dovuta',
      motivo:
        'Il Titolare non ha rilevato un rischio elevato per i diritti e le libertà degli interessati (art. 34, par. 1, GDPR).',
    };
  }
  if (assessment.exemption) {
    const exemption = assessment.exemption;
    return compact({
      stato: exemption === 'c' ? 'prevista' : 'non-dovuta',
      ipotesi: exemption,
      canale: exemption === 'c' ? request.communicationChannel : undefined,
      motivo: `${exemptionLabels[exemption]}. ${assessment.exemptionExplanation ?? ''}`.trim(),
    });
  }
  return compact({
    stato: 'prevista',
    canale: request.communicationChannel,
    numeroDestinatari: breach.dataSubjects.approxCount ?? undefined,
  });
}

function dpoOpinionSection(breach: BreachDocument) {
  const opinion = breach.dpoOpinion;
  return opinion ? { data: romeDate(opinion.at), esito: opinion.assessment } : undefined;
}

export function breachTemplateData(
  kind: BreachDocumentKind,
  sources: BreachSources,
): Record<string, unknown> {
  const { breach, settore, request, organisation } = sources;
  const common = compact({
    dataAtto: sources.today,
    luogo: sources.place,
    protocollo: request.protocollo,
  });
  const violazione = violazioneOf(breach, settore);
  switch (kind) {
    case 'designato-report': {
      const report = breach.designatoReport;
      const opinion = breach.dpoOpinion;
      const reporter = reporterOf(breach);
      return compact({
        ...common,
        titolare: titolareOf(sources),
        rpd: rpdOf(organisation),
        violazione: compact({
          ...violazione,
          ...(report ? {} : {}),
        }),
        segnalazione: {
          da: reporter.name,
          carica:
            reporter.kind === 'dipendente'
              ? 'Dipendente dell’ente'
              : reporter.kind === 'responsabile'
                ? 'Responsabile del trattamento (art. 28 GDPR)'
                : 'Soggetto esterno',
          data: formatRome(breach.awareAt),
          canale: breach.awarenessMeans,
        },
        responsabileEsterno:
          reporter.kind === 'responsabile'
            ? { denominazione: reporter.name, dataComunicazione: formatRome(breach.awareAt) }
            : undefined,
        parereRpd: report
          ? compact({
              dataRichiesta: formatRome(report.at),
              dataParere: opinion ? romeDate(opinion.at) : undefined,
              esito: opinion?.assessment,
            })
          : undefined,
        firmatario: report
          ? compact({
              nome: report.designato,
              carica: `Designato al trattamento${settore ? `, ${settore.name}` : ''}`.slice(0, 200),
              genere: report.gender ?? undefined,
            })
          : undefined,
      });
    }
    case 'dpo-opinion': {
      const opinion = breach.dpoOpinion;
      const report = breach.designatoReport;
      const dpo = organisation.dpo;
      const esito = opinion?.assessment;
      return compact({
        ...common,
        rpd: rpdOf(organisation),
        violazione,
        richiesta: report
          ? {
              data: formatRome(report.at),
              richiedente: compact({
                nome: report.designato,
                carica: 'Designato al trattamento',
                genere: report.gender ?? undefined,
              }),
            }
          : undefined,
        valutazione: opinion
          ? compact({
              esito,
              motivazioni: [opinion.reasons],
              misureSufficienti: opinion.recommendedMeasures.length === 0,
              misureRaccomandate: opinion.recommendedMeasures,
              notificaGarante: esito !== 'nessun-rischio',
              comunicazioneInteressati: esito === 'rischio-elevato' && !opinion.exemption,
              ipotesiEsclusione: opinion.exemption ?? undefined,
            })
          : undefined,
        firmatario: dpo
          ? {
              nome: dpo.contactPerson ?? dpo.name,
              carica: 'Responsabile della protezione dei dati',
            }
          : undefined,
      });
    }
    case 'notification': {
      const type = sources.notificationType ?? 'preliminare';
      const first = breach.notifications[0];
      const late =
        type !== 'integrativa' &&
        sources.now.getTime() > notificationDeadline(breach.awareAt).getTime();
      const reasons = request.delayReasons ?? breach.delayReasons ?? undefined;
      const notifier = request.notifier;
      const signatory = signatoryOf(sources);
      return compact({
        ...common,
        notifica: compact({
          tipo: type,
          riferimentoPrima:
            type === 'integrativa' && first
              ? compact({
                  numero: first.garanteFileNumber ?? first.protocollo ?? undefined,
                  data: romeDate(first.sentAt),
                })
              : undefined,
          integrazioni: type === 'integrativa' ? request.additions : undefined,
          canale: 'procedura telematica del Garante',
        }),
        titolare: titolareOf(sources),
        rpd: rpdOf(organisation, request),
        notificante: notifier
          ? compact({
              nome: notifier.name,
              carica: notifier.role,
              email: notifier.email,
              pec: notifier.pec,
              telefono: notifier.phone,
            })
          : compact({
              nome: signatory?.nome,
              carica: signatory?.carica,
              email: organisation.email ?? undefined,
              pec: organisation.pec ?? undefined,
            }),
        violazione: compact({
          ...violazione,
          dataNotifica: formatRome(sources.now),
          tardiva: late,
          ritardo: late && reasons ? { motivi: reasons } : undefined,
        }),
        comunicazioneInteressati: communicationSection(breach, request),
        transfrontaliero: {
          stati: breach.crossBorderStates,
          altreAutorita: breach.otherAuthorities,
        },
        parereRpd: dpoOpinionSection(breach),
        allegati: sources.evidence
          .slice(0, 20)
          .map((file) => `${file.fileName} (SHA-256 ${file.sha256})`),
        firmatario: signatory,
      });
    }
    case 'communication':
    case 'public-notice': {
      const first = breach.notifications[0];
      const contact = request.contact;
      return compact({
        ...common,
        destinatario:
          kind === 'communication' && request.recipient
            ? compact({ nome: request.recipient.name, indirizzo: request.recipient.address })
            : undefined,
        rpd: rpdOf(organisation),
        violazione,
        notifica: first
          ? compact({
              tipo: first.type,
              numero: first.garanteFileNumber ?? first.protocollo ?? undefined,
            })
          : undefined,
        contatto: contact
          ? compact({
              ufficio: contact.office,
              telefono: contact.phone,
              email: contact.email,
              orari: contact.hours,
            })
          : undefined,
        consigli: request.advice,
        ...(kind === 'public-notice'
          ? {
              pubblicazione: request.publication
                ? compact({
                    canali: request.publication.channels,
                    dal: request.publication.from ?? sources.today,
                    al: request.publication.to,
                  })
                : undefined,
              motivoAvviso: breach.assessment?.exemptionExplanation ?? undefined,
            }
          : {}),
        firmatario: signatoryOf(sources),
      });
    }
  }
}

function registerEntry(breach: BreachDocument, settore: SettoreRecord) {
  const assessment = breach.assessment;
  const first = breach.notifications[0];
  const notificaGarante = first
    ? compact({
        stato: 'effettuata',
        data: formatRome(first.sentAt),
        numero: first.garanteFileNumber ?? first.protocollo ?? undefined,
      })
    : assessment?.outcome === 'nessun-rischio'
      ? { stato: 'non-dovuta', motivo: assessment.reasons }
      : assessment
        ? { stato: 'dovuta' }
        : { stato: 'in-valutazione' };
  return compact({
    violazione: violazioneOf(breach, settore),
    notificaGarante,
    comunicazioneInteressati: assessment ? communicationSection(breach, {}) : undefined,
  });
}

export function registerTemplateData(
  sources: EnteSources & { breaches: BreachDocument[]; settori: Map<string, SettoreRecord> },
): Record<string, unknown> {
  return compact({
    dataEstrazione: formatRome(sources.now),
    luogo: sources.place,
    firmatario: signatoryOf(sources),
    violazioni: sources.breaches.map((breach) =>
      registerEntry(
        breach,
        breach.settoreId ? (sources.settori.get(breach.settoreId.toString()) ?? null) : null,
      ),
    ),
  });
}
