/**
 * Screenings, DPIAs, their versions and the prior consultation of the Garante
 * (artt. 35–36 GDPR; seed 002 artt. 9, 25–27 and 30). Every printed act goes
 * through generateDocument with the data its template's schema asks for.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mongoose, { type Types } from 'mongoose';
import type { Principal } from '../platform/auth.js';
import { HttpProblem, type InvalidParam } from '../platform/http-problem.js';
import { findRepoRoot } from '../platform/local-servers.js';
import type { ObjectStorage } from '../platform/storage.js';
import type { ModelRenderer } from '../documents/render-pool.js';
import { generateDocument } from '../documents/service.js';
import { measureCatalogue } from '../contracts/measures.js';
import { addressLine, Organisation, placeOf } from '../organisations/model.js';
import { Person } from '../people/model.js';
import { isDuplicateKey } from '../people/fields.js';
import {
  legalBases,
  ProcessingActivity,
  type ProcessingActivityDocument,
} from '../processing/model.js';
import { actDocumentId, addCalendarDays, todayInRome } from '../registers/service.js';
import { Settore } from '../settori/model.js';
import { contentChanges, type ContentChange } from './changes.js';
import type { measureKinds } from './model.js';
import {
  Dpia,
  DpiaScreening,
  DpiaVersion,
  highResidualRisks,
  necessityAspectLabels,
  necessityAspects,
  requiredRiskEvents,
  riskEventLabels,
  riskLevel,
  type DecisionOutcome,
  type DpiaDocument,
  type DpoConclusion,
  type NecessityAspect,
  type RiskEvent,
} from './model.js';
import {
  art35Cases,
  art35Letters,
  assessScreening,
  criterionCodes,
  dpiaToBePerformed,
  garanteListTypes,
  garanteTypeCodes,
  wp248Criteria,
  type ScreeningAnswers,
} from './screening.js';

export interface DpiaDependencies {
  storage: ObjectStorage;
  render: ModelRenderer;
}

type Author = Pick<Principal, 'userId' | 'name'>;
const author = (principal: Author) => ({ userId: principal.userId, name: principal.name });

/** Art. 36(2): the Garante answers within eight weeks, extendable by six. */
export const consultationAnswerDays = 8 * 7;
export const consultationExtensionDays = 6 * 7;

const unprocessable = (title: string, invalidParams: InvalidParam[]) =>
  HttpProblem.unprocessable(title, invalidParams);

/** A calendar date plus whole years; 29 February becomes 1 March. */
export function addYears(date: string, years: number): string {
  const value = new Date(`${date}T12:00:00Z`);
  value.setUTCFullYear(value.getUTCFullYear() + years);
  return value.toISOString().slice(0, 10);
}

/** A calendar date plus whole months, kept within the target month (31 January + 1 → 28/29 February). */
export function addMonths(date: string, months: number): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const target = new Date(Date.UTC(year, month - 1 + months, 1, 12));
  const lastDay = new Date(
    Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0, 12),
  ).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return target.toISOString().slice(0, 10);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

// ---------------------------------------------------------------------------
// The measure catalogue
// ---------------------------------------------------------------------------

export interface DpiaCatalogueMeasure {
  code: string;
  title: string;
  kind: (typeof measureKinds)[number];
  description: string;
  /** The feared events the measure addresses, to suggest it for a risk. */
  risks: string[];
}

interface ShippedMeasure extends Omit<DpiaCatalogueMeasure, 'description'> {
  description?: string;
}

const repoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
let catalogue: Promise<DpiaCatalogueMeasure[]> | undefined;

/**
 * data/dpia/misure.json: measures against the risks to data subjects. Those that
 * are art. 32 security measures already in data/misure/catalogo.json are listed
 * by code only and take their description from there, so the two never differ.
 */
export function dpiaMeasureCatalogue(): Promise<DpiaCatalogueMeasure[]> {
  catalogue ??= Promise.all([
    readFile(path.join(repoRoot, 'data', 'dpia', 'misure.json'), 'utf8'),
    measureCatalogue(),
  ]).then(([text, securityMeasures]) =>
    (JSON.parse(text) as ShippedMeasure[]).map((entry) => {
      const description =
        entry.description ??
        securityMeasures.find((measure) => measure.code === entry.code)?.description;
      if (!description) {
        throw new Error(
          `data/dpia/misure.json: ${entry.code} has no description and is not in data/misure/catalogo.json`,
        );
      }
      return { ...entry, description };
    }),
  );
  catalogue.catch(() => {
    catalogue = undefined;
  });
  return catalogue;
}

// ---------------------------------------------------------------------------
// Shared look-ups
// ---------------------------------------------------------------------------

async function findActivity(activityId: string | Types.ObjectId) {
  const activity = await ProcessingActivity.findById(activityId);
  if (!activity) throw HttpProblem.notFound(`Trattamento ${activityId.toString()} non trovato`);
  return activity;
}

async function settoreName(activity: ProcessingActivityDocument): Promise<string | null> {
  if (!activity.settoreId) return null;
  const settore = await Settore.findById(activity.settoreId);
  return settore?.name ?? null;
}

/** The ente and who signs for it; 422 naming what the profile lacks. */
async function enteAndSignatory(organisationId: Types.ObjectId) {
  const organisation = await Organisation.findById(organisationId);
  if (!organisation) throw HttpProblem.notFound('Ente non trovato');
  const representative = organisation.legalRepresentative
    ? await Person.findById(organisation.legalRepresentative.personId)
    : null;
  return {
    organisation,
    signatory: representative
      ? {
          nome: `${representative.firstName} ${representative.lastName}`,
          carica: organisation.legalRepresentative?.role ?? 'Sindaco pro tempore',
        }
      : null,
  };
}

const missingSignatory: InvalidParam = {
  name: 'organisation.legalRepresentative',
  reason: 'indicare nel profilo dell’ente il legale rappresentante che firma',
};

// ---------------------------------------------------------------------------
// Screening
// ---------------------------------------------------------------------------

export interface ScreeningInput {
  answers: ScreeningAnswers;
  decision?: { performDpia: boolean; reason: string } | undefined;
  dpoOpinion?: { text: string; givenOn?: string | undefined; by?: string | undefined } | undefined;
  screenedOn?: string | undefined;
}

export async function screenActivity(
  activityId: string,
  input: ScreeningInput,
  principal: Principal,
) {
  const activity = await findActivity(activityId);
  if (activity.archived) {
    throw HttpProblem.conflict(`Il trattamento ${activityId} è archiviato`, {
      currentState: 'archived',
    });
  }
  const assessment = assessScreening(input.answers);
  const problems: InvalidParam[] = [];
  if (assessment.outcome === 'raccomandata' && !input.decision) {
    problems.push({
      name: 'body.decision',
      reason:
        'con un solo criterio la DPIA è raccomandata: il Titolare decide se procedere e ne indica il motivo (art. 25, comma 6, del Regolamento dell’ente)',
    });
  }
  if (assessment.outcome === 'obbligatoria' && input.decision?.performDpia === false) {
    problems.push({
      name: 'body.decision.performDpia',
      reason: `la DPIA è obbligatoria: ${assessment.reasons[0] ?? ''}`,
    });
  }
  const screenedOn = input.screenedOn ?? todayInRome();
  if (screenedOn > todayInRome()) {
    problems.push({ name: 'body.screenedOn', reason: 'la data non può essere futura' });
  }
  if (problems.length > 0) throw unprocessable('Verifica preliminare non accettata', problems);
  const answerList = <Code extends string>(
    codes: readonly Code[],
    answers: Record<Code, { applies: boolean; reason?: string | null | undefined }>,
  ) =>
    codes.map((code) => ({
      code,
      applies: answers[code].applies,
      reason: answers[code].reason ?? null,
    }));
  const toBePerformed = dpiaToBePerformed(assessment.outcome, input.decision);
  const screening = await DpiaScreening.create({
    processingActivityId: activity._id,
    screenedOn,
    answers: {
      art35: answerList(art35Letters, input.answers.art35),
      criteria: answerList(criterionCodes, input.answers.criteria),
      garanteList: answerList(garanteTypeCodes, input.answers.garanteList),
    },
    outcome: assessment.outcome,
    reasons: assessment.reasons,
    triggers: assessment.triggers,
    innovativeTechnologyDiscounted: assessment.innovativeTechnologyDiscounted,
    decision: input.decision ?? null,
    dpiaToBePerformed: toBePerformed,
    dpoOpinion: input.dpoOpinion
      ? {
          text: input.dpoOpinion.text,
          givenOn: input.dpoOpinion.givenOn ?? null,
          by: input.dpoOpinion.by ?? null,
        }
      : null,
    createdBy: author(principal),
  });
  // The registro's own "DPIA required" answer follows the latest screening.
  await ProcessingActivity.updateOne(
    { _id: activity._id },
    { $set: { dpiaRequired: toBePerformed ? 'si' : 'no' } },
  );
  return screening;
}

export async function findScreening(screeningId: string | Types.ObjectId) {
  const screening = await DpiaScreening.findById(screeningId);
  if (!screening) {
    throw HttpProblem.notFound(`Verifica preliminare ${screeningId.toString()} non trovata`);
  }
  return screening;
}

export async function listScreenings(activityId: string) {
  const activity = await findActivity(activityId);
  const screenings = await DpiaScreening.find({ processingActivityId: activity._id });
  return screenings.sort(
    (left, right) =>
      (right.createdAt?.getTime() ?? 0) - (left.createdAt?.getTime() ?? 0) ||
      right.id.localeCompare(left.id),
  );
}

/**
 * The printed screening. Its document id is derived from the screening, so the
 * report is made once: asking again returns the same document.
 */
export async function screeningReport(
  screeningId: string,
  principal: Principal,
  deps: DpiaDependencies,
) {
  const screening = await findScreening(screeningId);
  const activity = await findActivity(screening.processingActivityId);
  const settore = await settoreName(activity);
  const { organisation, signatory } = await enteAndSignatory(screening.organisationId);
  const problems: InvalidParam[] = [];
  if (!activity.code) {
    problems.push({
      name: 'processingActivity.code',
      reason: 'assegnare al trattamento il suo codice nel registro',
    });
  }
  if (!settore) {
    problems.push({
      name: 'processingActivity.settoreId',
      reason: 'indicare nel registro il settore competente per il trattamento',
    });
  }
  if (!signatory) problems.push(missingSignatory);
  if (problems.length > 0 || !activity.code || !settore || !signatory) {
    throw unprocessable('Verifica preliminare non stampabile', problems);
  }
  const answer = (
    list: { code: string; applies: boolean; reason?: string | null }[],
    code: string,
  ) => list.find((item) => item.code === code);
  const withReason = (reason: string | null | undefined) => (reason ? { motivazione: reason } : {});
  const answers = screening.answers;
  const discountedType = (code: string) =>
    code === 'G7' && screening.innovativeTechnologyDiscounted;
  const data: Record<string, unknown> = {
    dataAtto: screening.screenedOn,
    luogo: placeOf(organisation),
    trattamento: {
      codice: activity.code,
      denominazione: activity.name,
      settore,
      finalita: truncate(activity.purposes.join('; '), 2000),
      descrizione: truncate(
        `Interessati: ${activity.dataSubjectCategories.join(', ') || 'non indicati'}. Dati trattati: ${activity.personalDataCategories.map((category) => category.name).join(', ') || 'non indicati'}.`,
        2000,
      ),
    },
    casiArt35: art35Cases.map((item) => {
      const given = answer(answers?.art35 ?? [], item.code);
      return {
        lettera: item.code,
        testo: item.text,
        ricorre: given?.applies ?? false,
        ...withReason(given?.reason),
      };
    }),
    criteri: wp248Criteria.map((item) => {
      const given = answer(answers?.criteria ?? [], item.code);
      return {
        codice: item.code,
        titolo: item.title,
        ricorre: given?.applies ?? false,
        ...withReason(given?.reason),
      };
    }),
    tipiGarante: garanteListTypes.map((item) => {
      const given = answer(answers?.garanteList ?? [], item.code);
      if (discountedType(item.code)) {
        // The list counts this type only with another WP248 criterion: declared alone, it does not hold.
        return {
          codice: item.code,
          titolo: item.title,
          ricorre: false,
          motivazione: truncate(
            `${given?.reason ? `${given.reason} ` : ''}Tecnologia innovativa indicata senza alcun altro criterio delle Linee guida WP248: la tipologia non ricorre.`,
            2000,
          ),
        };
      }
      return {
        codice: item.code,
        titolo: item.title,
        ricorre: given?.applies ?? false,
        ...withReason(given?.reason),
      };
    }),
    esito: screening.outcome,
    motivazioni: screening.reasons.map((reason) => truncate(reason, 2000)),
    ...(screening.decision
      ? {
          decisioneTitolare: truncate(
            `Il Titolare decide ${screening.decision.performDpia ? 'di procedere' : 'di non procedere'} alla valutazione d’impatto: ${screening.decision.reason}`,
            2000,
          ),
        }
      : {}),
    ...(screening.dpoOpinion
      ? {
          parereRpd: {
            testo: screening.dpoOpinion.text,
            ...(screening.dpoOpinion.by
              ? { nome: screening.dpoOpinion.by }
              : organisation.dpo
                ? { nome: organisation.dpo.name }
                : {}),
            ...(screening.dpoOpinion.givenOn ? { data: screening.dpoOpinion.givenOn } : {}),
          },
        }
      : {}),
    firmatario: signatory,
  };
  const document = await generateDocument({
    templateKey: 'dpia-screening',
    data,
    principal,
    storage: deps.storage,
    render: deps.render,
    documentId: actDocumentId(`dpia-screening:${screening.id}`, screening.organisationId),
  });
  if (!screening.reportDocumentId?.equals(document._id)) {
    screening.reportDocumentId = document._id;
    await screening.save();
  }
  return { screening, document };
}

// ---------------------------------------------------------------------------
// The DPIA's content
// ---------------------------------------------------------------------------

export interface Score {
  likelihood: number | null;
  severity: number | null;
}

export interface RiskValue {
  id: string;
  event: RiskEvent;
  title: string;
  sources: string[];
  threats: string[];
  impacts: string[];
  measureCodes: string[];
  inherent: Score;
  residual: Score;
  residualNote: string | null;
}

export interface MeasureValue {
  code: string;
  title: string;
  kind: (typeof measureKinds)[number];
  description: string;
  status: 'in-essere' | 'pianificata';
  owner: string | null;
  dueDate: string | null;
}

export interface DpoOpinionValue {
  conclusion: DpoConclusion;
  text: string;
  givenOn: string;
  by: string | null;
}

export interface DecisionValue {
  outcome: DecisionOutcome;
  notes: string | null;
  decidedOn: string;
  departureReason: string | null;
}

export interface DataSubjectsViewsValue {
  sought: boolean;
  method: string | null;
  summary: string | null;
  reasonNotSought: string | null;
}

/** A DPIA version's content as plain data. */
export interface DpiaContentValue {
  description: {
    name: string;
    code: string | null;
    settore: string | null;
    overview: string | null;
    purposes: string[];
    legalBases: string[];
    dataCategories: string[];
    dataSubjects: string[];
    recipients: string[];
    retention: string | null;
    systems: string[];
    flows: string[];
    processors: { name: string; role: 'responsabile' | 'sub-responsabile'; tasks: string | null }[];
    jointControllers: { name: string; responsibilities: string | null }[];
  };
  team: string[];
  necessity: { aspect: NecessityAspect; justification: string | null }[];
  risks: RiskValue[];
  measures: MeasureValue[];
  dpoOpinion: DpoOpinionValue | null;
  dataSubjectsViews: DataSubjectsViewsValue | null;
  decision: DecisionValue | null;
  revisionDate: string;
}

const standardRiskTitles: Record<(typeof requiredRiskEvents)[number], string> = {
  'accesso-illegittimo': 'Accesso illegittimo ai dati',
  'modifica-indesiderata': 'Modifica indesiderata dei dati',
  scomparsa: 'Scomparsa dei dati',
};

const specialKindLabels: Record<string, string> = {
  art9: 'categoria particolare, art. 9 GDPR',
  art10: 'dati relativi a condanne penali e reati, art. 10 GDPR',
};

/** Security measures of the registro are free text; their kind is a first guess, editable. */
const technicalWords =
  /cifr|crittogra|backup|copi[ae] di sicurezza|password|credenzial|autentica|firewall|antivirus|malware|\blog|tracciament|aggiornament/i;

function emptyScore(): Score {
  return { likelihood: null, severity: null };
}

/** The first version's content, prefilled from the registro (every field stays editable). */
function contentFromActivity(
  activity: ProcessingActivityDocument,
  settore: string | null,
): DpiaContentValue {
  const transfers = activity.transfersOutsideEU;
  return {
    description: {
      name: activity.name,
      code: activity.code ?? null,
      settore,
      overview: null,
      purposes: [...activity.purposes],
      legalBases: activity.legalBasis.map(
        (code) => legalBases.find((basis) => basis.code === code)?.label ?? code,
      ),
      dataCategories: activity.personalDataCategories.map((category) => {
        const special = specialKindLabels[category.special];
        return special ? `${category.name} (${special})` : category.name;
      }),
      dataSubjects: [...activity.dataSubjectCategories],
      recipients: [...activity.recipients],
      retention: activity.retention,
      systems: activity.databases.map(
        (database) =>
          `${database.name} (archivio ${database.kind})${database.notes ? ` – ${database.notes}` : ''}`,
      ),
      flows: [
        ...activity.recipients.map((recipient) => `Comunicazione dei dati a: ${recipient}`),
        ...activity.processors.map(
          (processor) =>
            `Trattamento per conto dell’ente da parte di ${processor}, responsabile del trattamento (art. 28 GDPR)`,
        ),
        ...(transfers?.present
          ? [
              `Trasferimento verso ${transfers.countries.join(', ') || 'paesi terzi'}${transfers.safeguards ? ` (garanzie: ${transfers.safeguards})` : ''}`,
            ]
          : []),
      ],
      processors: activity.processors.map((name) => ({
        name,
        role: 'responsabile' as const,
        tasks: null,
      })),
      jointControllers:
        activity.controllerRole === 'contitolare'
          ? activity.otherControllers.map((name) => ({ name, responsibilities: null }))
          : [],
    },
    team: [],
    necessity: necessityAspects.map((aspect) => ({ aspect, justification: null })),
    risks: requiredRiskEvents.map((event) => ({
      id: event,
      event,
      title: standardRiskTitles[event],
      sources: [],
      threats: [],
      impacts: [],
      measureCodes: [],
      inherent: emptyScore(),
      residual: emptyScore(),
      residualNote: null,
    })),
    measures: activity.securityMeasures.map((text, index) => ({
      code: `LIB-${String(index + 1).padStart(2, '0')}`,
      title: truncate(text, 120),
      kind: technicalWords.test(text) ? 'tecnica' : 'organizzativa',
      description: text,
      status: 'in-essere',
      owner: null,
      dueDate: null,
    })),
    dpoOpinion: null,
    dataSubjectsViews: null,
    decision: null,
    revisionDate: addYears(todayInRome(), 1),
  };
}

/** A stored content (current or frozen) as plain data. */
export function plainContent(content: unknown): DpiaContentValue {
  const value =
    content && typeof (content as { toObject?: unknown }).toObject === 'function'
      ? (content as { toObject: () => unknown }).toObject()
      : content;
  return JSON.parse(JSON.stringify(value)) as DpiaContentValue;
}

/** A DPIA as clients read it: the record plus each risk's level before and after the measures. */
export function presentDpia(dpia: DpiaDocument) {
  const json = dpia.toJSON() as Record<string, unknown>;
  return { ...json, content: presentContent(plainContent(dpia.content)) };
}

export function presentContent(content: DpiaContentValue) {
  const level = (score: Score) =>
    score.likelihood !== null && score.severity !== null
      ? riskLevel(score.likelihood, score.severity)
      : null;
  return {
    ...content,
    risks: content.risks.map((risk) => ({
      ...risk,
      inherent: { ...risk.inherent, level: level(risk.inherent) },
      residual: { ...risk.residual, level: level(risk.residual) },
    })),
  };
}

export async function createDpia(screeningId: string, principal: Principal) {
  const screening = await findScreening(screeningId);
  if (!screening.dpiaToBePerformed) {
    throw HttpProblem.conflict(
      `La verifica preliminare ${screeningId} non conclude per la DPIA (esito «${screening.outcome}»${screening.decision ? ', il Titolare ha deciso di non procedere' : ''})`,
      { currentState: screening.outcome },
    );
  }
  const activity = await findActivity(screening.processingActivityId);
  if (activity.archived) {
    throw HttpProblem.conflict(`Il trattamento ${activity.id} è archiviato`, {
      currentState: 'archived',
    });
  }
  const existing = async () => {
    const found = await Dpia.findOne({ processingActivityId: activity._id });
    return HttpProblem.conflict(
      `Il trattamento ha già una DPIA${found ? ` (${found.id})` : ''}: si rivede quella (POST …/revisions)`,
      found ? { dpiaId: found.id } : {},
    );
  };
  const content = contentFromActivity(activity, await settoreName(activity));
  try {
    // The unique index on processingActivityId makes this insert the one that wins.
    return await Dpia.create({
      processingActivityId: activity._id,
      screeningId: screening._id,
      version: 1,
      versionStartedOn: todayInRome(),
      content,
      createdBy: author(principal),
      updatedBy: author(principal),
    });
  } catch (error) {
    if (isDuplicateKey(error)) throw await existing();
    throw error;
  }
}

export async function findDpia(dpiaId: string | Types.ObjectId) {
  const dpia = await Dpia.findById(dpiaId);
  if (!dpia) throw HttpProblem.notFound(`DPIA ${dpiaId.toString()} non trovata`);
  return dpia;
}

export interface DpiaListQuery {
  processingActivityId?: string | undefined;
  consultationDue?: boolean | undefined;
  limit: number;
  offset: number;
}

/** Days from today (Rome) to a date; negative once it is past. */
export function daysUntil(date: string, today = todayInRome()): number {
  return Math.round(
    (Date.parse(`${date}T12:00:00Z`) - Date.parse(`${today}T12:00:00Z`)) / 86_400_000,
  );
}

export async function listDpias(query: DpiaListQuery) {
  const filter: Record<string, unknown> = {};
  if (query.processingActivityId) {
    filter.processingActivityId = new mongoose.Types.ObjectId(query.processingActivityId);
  }
  if (query.consultationDue !== undefined) {
    filter['priorConsultation.status'] = query.consultationDue
      ? { $in: ['inviata', 'prorogata'] }
      : { $nin: ['inviata', 'prorogata'] };
  }
  const found = await Dpia.find(filter);
  // Pending consultations come soonest deadline first; otherwise the latest changed first.
  const sorted = found.sort((left, right) => {
    if (query.consultationDue) {
      return (left.priorConsultation?.dueDate ?? '').localeCompare(
        right.priorConsultation?.dueDate ?? '',
      );
    }
    return (right.updatedAt?.getTime() ?? 0) - (left.updatedAt?.getTime() ?? 0);
  });
  const items = sorted.slice(query.offset, query.offset + query.limit).map((dpia) => {
    const consultation = dpia.priorConsultation;
    const pending =
      consultation?.dueDate && ['inviata', 'prorogata'].includes(consultation.status)
        ? {
            consultationDeadline: {
              dueDate: consultation.dueDate,
              daysLeft: daysUntil(consultation.dueDate),
              extended: consultation.status === 'prorogata',
            },
          }
        : {};
    return { ...presentDpia(dpia), ...pending };
  });
  return { items, total: found.length };
}

// ---------------------------------------------------------------------------
// Changes to the current version
// ---------------------------------------------------------------------------

export interface RiskInput {
  id?: string | undefined;
  event: RiskEvent;
  title?: string | undefined;
  sources?: string[] | undefined;
  threats?: string[] | undefined;
  impacts?: string[] | undefined;
  measureCodes?: string[] | undefined;
  inherent?:
    { likelihood?: number | null | undefined; severity?: number | null | undefined } | undefined;
  residual?:
    { likelihood?: number | null | undefined; severity?: number | null | undefined } | undefined;
  residualNote?: string | null | undefined;
}

export interface MeasureInput {
  code?: string | undefined;
  title?: string | undefined;
  kind?: (typeof measureKinds)[number] | undefined;
  description?: string | undefined;
  status?: 'in-essere' | 'pianificata' | undefined;
  owner?: string | null | undefined;
  dueDate?: string | null | undefined;
}

export interface DpiaChanges {
  description?:
    | {
        name?: string | undefined;
        code?: string | null | undefined;
        settore?: string | null | undefined;
        overview?: string | null | undefined;
        purposes?: string[] | undefined;
        legalBases?: string[] | undefined;
        dataCategories?: string[] | undefined;
        dataSubjects?: string[] | undefined;
        recipients?: string[] | undefined;
        retention?: string | null | undefined;
        systems?: string[] | undefined;
        flows?: string[] | undefined;
        processors?:
          | {
              name: string;
              role?: 'responsabile' | 'sub-responsabile' | undefined;
              tasks?: string | null | undefined;
            }[]
          | undefined;
        jointControllers?:
          { name: string; responsibilities?: string | null | undefined }[] | undefined;
      }
    | undefined;
  team?: string[] | undefined;
  necessity?: Partial<Record<NecessityAspect, string | null | undefined>> | undefined;
  risks?: RiskInput[] | undefined;
  measures?: MeasureInput[] | undefined;
  /** Catalogue measures to add (GET /api/v1/dpia-measures). */
  measureCodes?: string[] | undefined;
  dpoOpinion?:
    | { conclusion: DpoConclusion; text: string; givenOn: string; by?: string | null | undefined }
    | null
    | undefined;
  dataSubjectsViews?:
    | {
        sought: boolean;
        method?: string | null | undefined;
        summary?: string | null | undefined;
        reasonNotSought?: string | null | undefined;
      }
    | null
    | undefined;
  decision?:
    | {
        outcome: DecisionOutcome;
        notes?: string | null | undefined;
        decidedOn: string;
        departureReason?: string | null | undefined;
      }
    | null
    | undefined;
  revisionDate?: string | undefined;
}

function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, field]) => field !== undefined),
  ) as Partial<T>;
}

/**
 * Seed 002 art. 9 c.2: the DPO's opinion does not bind the Titolare, but a
 * decision departing from it must say why. Approving against a contrary
 * opinion departs from it, and so does rejecting against a favourable one.
 */
export function departsFromDpo(
  opinion: { conclusion: DpoConclusion } | null,
  decision: { outcome: DecisionOutcome } | null,
): boolean {
  if (!opinion || !decision) return false;
  if (opinion.conclusion === 'contrario') return decision.outcome !== 'respinta';
  return decision.outcome === 'respinta';
}

async function resolveMeasures(
  current: MeasureValue[],
  changes: DpiaChanges,
  problems: InvalidParam[],
): Promise<MeasureValue[]> {
  if (changes.measures === undefined && changes.measureCodes === undefined) return current;
  const catalogue = await dpiaMeasureCatalogue();
  const fromCatalogue = (code: string | undefined) =>
    code ? catalogue.find((measure) => measure.code === code) : undefined;
  const resolved: MeasureValue[] = [];
  const pendingCodes: number[] = [];
  (changes.measures ?? current).forEach((input, index) => {
    const known = fromCatalogue(input.code);
    const title = input.title ?? known?.title;
    const kind = input.kind ?? known?.kind;
    const description = input.description ?? known?.description;
    const at = `body.measures.${index}`;
    if (!title) problems.push({ name: `${at}.title`, reason: 'misura libera: indicare il titolo' });
    if (!kind) {
      problems.push({
        name: `${at}.kind`,
        reason: 'misura libera: indicare se tecnica o organizzativa',
      });
    }
    if (!description) {
      problems.push({
        name: `${at}.description`,
        reason: 'misura libera: descriverla in concreto',
      });
    }
    if (!input.code) pendingCodes.push(resolved.length);
    resolved.push({
      code: input.code ?? '',
      title: title ?? '',
      kind: kind ?? 'organizzativa',
      description: description ?? '',
      status: input.status ?? 'in-essere',
      owner: input.owner ?? null,
      dueDate: input.dueDate ?? null,
    });
  });
  (changes.measureCodes ?? []).forEach((code, index) => {
    const known = fromCatalogue(code);
    if (!known) {
      problems.push({
        name: `body.measureCodes.${index}`,
        reason: `misura ${code} non presente nel catalogo (GET /api/v1/dpia-measures)`,
      });
    } else if (!resolved.some((measure) => measure.code === code)) {
      resolved.push({
        code,
        title: known.title,
        kind: known.kind,
        description: known.description,
        status: 'in-essere',
        owner: null,
        dueDate: null,
      });
    }
  });
  // Free-text measures without a code get the next LIB-nn not in use.
  let next = 1;
  for (const position of pendingCodes) {
    const used = new Set(resolved.map((measure) => measure.code));
    while (used.has(`LIB-${String(next).padStart(2, '0')}`)) next += 1;
    const measure = resolved[position];
    if (measure) measure.code = `LIB-${String(next).padStart(2, '0')}`;
  }
  resolved.forEach((measure, index) => {
    if (resolved.findIndex((other) => other.code === measure.code) !== index) {
      problems.push({
        name: `body.measures.${index}.code`,
        reason: `codice ${measure.code} già usato da un’altra misura della DPIA`,
      });
    }
  });
  return resolved;
}

function resolveRisks(
  current: RiskValue[],
  changes: DpiaChanges,
  problems: InvalidParam[],
): RiskValue[] {
  if (changes.risks === undefined) return current;
  const resolved: RiskValue[] = [];
  changes.risks.forEach((input, index) => {
    const at = `body.risks.${index}`;
    const standardTitle = input.event === 'altro' ? undefined : standardRiskTitles[input.event];
    const title = input.title ?? standardTitle;
    if (!title) {
      problems.push({
        name: `${at}.title`,
        reason: 'un rischio «altro» va descritto con un titolo',
      });
    }
    let id = input.id;
    if (!id) {
      const base = input.event;
      id = base;
      for (let suffix = 2; resolved.some((risk) => risk.id === id); suffix += 1) {
        id = `${base}-${suffix}`;
      }
    }
    if (resolved.some((risk) => risk.id === id)) {
      problems.push({
        name: `${at}.id`,
        reason: `identificativo ${id} già usato da un altro rischio`,
      });
    }
    resolved.push({
      id,
      event: input.event,
      title: title ?? '',
      sources: input.sources ?? [],
      threats: input.threats ?? [],
      impacts: input.impacts ?? [],
      measureCodes: [...new Set(input.measureCodes ?? [])],
      inherent: {
        likelihood: input.inherent?.likelihood ?? null,
        severity: input.inherent?.severity ?? null,
      },
      residual: {
        likelihood: input.residual?.likelihood ?? null,
        severity: input.residual?.severity ?? null,
      },
      residualNote: input.residualNote ?? null,
    });
  });
  return resolved;
}

/** Applies the changes over the current content; every problem is listed at once (422). */
async function applyChanges(
  current: DpiaContentValue,
  changes: DpiaChanges,
): Promise<DpiaContentValue> {
  const problems: InvalidParam[] = [];
  const { processors, jointControllers, ...descriptionTexts } = changes.description ?? {};
  const description: DpiaContentValue['description'] = {
    ...current.description,
    ...defined(descriptionTexts),
    processors:
      processors?.map((processor) => ({
        name: processor.name,
        role: processor.role ?? 'responsabile',
        tasks: processor.tasks ?? null,
      })) ?? current.description.processors,
    jointControllers:
      jointControllers?.map((controller) => ({
        name: controller.name,
        responsibilities: controller.responsibilities ?? null,
      })) ?? current.description.jointControllers,
  };
  const necessity = necessityAspects.map((aspect) => {
    const given = changes.necessity?.[aspect];
    const stored = current.necessity.find((item) => item.aspect === aspect)?.justification ?? null;
    return { aspect, justification: given === undefined ? stored : given };
  });
  const measures = await resolveMeasures(current.measures, changes, problems);
  const risks = resolveRisks(current.risks, changes, problems);
  const measureCodes = new Set(measures.map((measure) => measure.code));
  risks.forEach((risk, index) => {
    risk.measureCodes.forEach((code, position) => {
      if (!measureCodes.has(code)) {
        problems.push({
          name: `body.risks.${index}.measureCodes.${position}`,
          reason: `la misura ${code} non è tra le misure della DPIA`,
        });
      }
    });
  });
  const dpoOpinion =
    changes.dpoOpinion === undefined
      ? current.dpoOpinion
      : changes.dpoOpinion && { ...changes.dpoOpinion, by: changes.dpoOpinion.by ?? null };
  const decision =
    changes.decision === undefined
      ? current.decision
      : changes.decision && {
          outcome: changes.decision.outcome,
          notes: changes.decision.notes ?? null,
          decidedOn: changes.decision.decidedOn,
          departureReason: changes.decision.departureReason ?? null,
        };
  const dataSubjectsViews =
    changes.dataSubjectsViews === undefined
      ? current.dataSubjectsViews
      : changes.dataSubjectsViews && {
          sought: changes.dataSubjectsViews.sought,
          method: changes.dataSubjectsViews.method ?? null,
          summary: changes.dataSubjectsViews.summary ?? null,
          reasonNotSought: changes.dataSubjectsViews.reasonNotSought ?? null,
        };
  if (decision && !dpoOpinion) {
    problems.push({
      name: 'body.dpoOpinion',
      reason:
        'il Titolare decide dopo aver sentito l’RPD (art. 35, par. 2, GDPR): registrare prima il parere',
    });
  }
  if (departsFromDpo(dpoOpinion, decision) && !decision?.departureReason) {
    problems.push({
      name: 'body.decision.departureReason',
      reason: `la decisione «${decision?.outcome ?? ''}» si discosta dal parere «${dpoOpinion?.conclusion ?? ''}» dell’RPD: va motivata (art. 9, comma 2, del Regolamento dell’ente)`,
    });
  }
  if (decision?.outcome === 'approvata-con-prescrizioni' && !decision.notes) {
    problems.push({ name: 'body.decision.notes', reason: 'indicare le prescrizioni' });
  }
  if (dataSubjectsViews?.sought) {
    if (!dataSubjectsViews.method) {
      problems.push({
        name: 'body.dataSubjectsViews.method',
        reason: 'indicare come sono state raccolte',
      });
    }
    if (!dataSubjectsViews.summary) {
      problems.push({
        name: 'body.dataSubjectsViews.summary',
        reason: 'riassumere le opinioni e come se ne è tenuto conto',
      });
    }
  } else if (dataSubjectsViews && !dataSubjectsViews.reasonNotSought) {
    problems.push({
      name: 'body.dataSubjectsViews.reasonNotSought',
      reason:
        'indicare perché le opinioni degli interessati non sono state raccolte (art. 35, par. 9, GDPR)',
    });
  }
  if (problems.length > 0) throw unprocessable('Modifica della DPIA non accettata', problems);
  return {
    description,
    team: changes.team ?? current.team,
    necessity,
    risks,
    measures,
    dpoOpinion,
    dataSubjectsViews,
    decision,
    revisionDate: changes.revisionDate ?? current.revisionDate,
  };
}

/** The version sent to the Garante is what the Garante reads: it changes only through a revision. */
function assertEditable(dpia: DpiaDocument): void {
  const consultation = dpia.priorConsultation;
  if (
    consultation &&
    consultation.version === dpia.version &&
    consultation.status !== 'da-inviare'
  ) {
    throw HttpProblem.conflict(
      `La versione ${dpia.version} è stata inviata al Garante: per modificarla avviare una revisione (POST …/revisions)`,
      { currentState: consultation.status },
    );
  }
}

export async function updateDpia(dpiaId: string, changes: DpiaChanges, principal: Principal) {
  const dpia = await findDpia(dpiaId);
  assertEditable(dpia);
  const before = plainContent(dpia.content);
  const after = await applyChanges(before, changes);
  if (JSON.stringify(before) !== JSON.stringify(after)) {
    dpia.set('content', after);
    // The draft printed the content as it was.
    dpia.draft = null;
  }
  dpia.updatedBy = author(principal);
  return dpia.save();
}

// ---------------------------------------------------------------------------
// The draft (template `dpia`)
// ---------------------------------------------------------------------------

/** Everything the draft would miss, named by its place in the content. */
function draftGaps(content: DpiaContentValue): InvalidParam[] {
  const problems: InvalidParam[] = [];
  const add = (name: string, reason: string) => problems.push({ name, reason });
  const description = content.description;
  const lists = [
    ['purposes', 'indicare le finalità'],
    ['legalBases', 'indicare le basi giuridiche'],
    ['dataCategories', 'indicare le categorie di dati'],
    ['dataSubjects', 'indicare le categorie di interessati'],
    ['recipients', 'indicare i destinatari (o che i dati non sono comunicati a terzi)'],
    ['systems', 'indicare i sistemi e i supporti (applicazioni, server, archivi cartacei)'],
    ['flows', 'indicare i flussi dei dati (raccolta, comunicazioni, interconnessioni)'],
  ] as const;
  for (const [field, reason] of lists) {
    if (description[field].length === 0) add(`content.description.${field}`, reason);
  }
  if (!description.retention)
    add('content.description.retention', 'indicare i tempi di conservazione');
  for (const item of content.necessity) {
    if (!item.justification) {
      add(
        `content.necessity.${item.aspect}`,
        `giustificare: ${necessityAspectLabels[item.aspect]} (art. 35, par. 7, lett. b), GDPR)`,
      );
    }
  }
  for (const event of requiredRiskEvents) {
    if (!content.risks.some((risk) => risk.event === event)) {
      add(
        'content.risks',
        `manca il rischio di ${riskEventLabels[event]} (art. 35, par. 7, lett. c), GDPR)`,
      );
    }
  }
  if (content.risks.length > 30) add('content.risks', 'al più 30 rischi');
  content.risks.forEach((risk) => {
    const at = `content.risks.${risk.id}`;
    if (risk.sources.length === 0) add(`${at}.sources`, 'indicare le fonti di rischio');
    if (risk.threats.length === 0) add(`${at}.threats`, 'indicare le minacce');
    if (risk.impacts.length === 0) add(`${at}.impacts`, 'indicare gli impatti sugli interessati');
    if (risk.measureCodes.length === 0)
      add(`${at}.measureCodes`, 'indicare le misure che trattano il rischio');
    for (const stage of ['inherent', 'residual'] as const) {
      for (const axis of ['likelihood', 'severity'] as const) {
        if (risk[stage][axis] === null) {
          add(
            `${at}.${stage}.${axis}`,
            `indicare ${axis === 'likelihood' ? 'la probabilità' : 'la gravità'} ${stage === 'inherent' ? 'prima delle misure' : 'residua'} (1–4)`,
          );
        }
      }
    }
  });
  if (content.measures.length === 0)
    add('content.measures', 'indicare le misure previste (art. 35, par. 7, lett. d), GDPR)');
  if (content.measures.length > 99) add('content.measures', 'al più 99 misure');
  if (!content.dataSubjectsViews) {
    add(
      'content.dataSubjectsViews',
      'indicare le opinioni degli interessati o perché non sono state raccolte (art. 35, par. 9, GDPR)',
    );
  }
  // The DPO's opinion and the Titolare's decision come after the draft: the DPO works on it.
  return problems;
}

const dpoConclusionText: Record<DpoConclusion, string> = {
  favorevole: 'favorevole',
  'favorevole-con-osservazioni': 'favorevole con osservazioni',
  contrario: 'contrario',
};
const decisionOutcomeText: Record<DecisionOutcome, string> = {
  approvata: 'approvata',
  'approvata-con-prescrizioni': 'approvata con prescrizioni',
  respinta: 'respinta',
};

/** Risks and measures print as R1…, M1…, in the DPIA's order. */
function printedCodes(content: DpiaContentValue) {
  const measureCode = new Map(
    content.measures.map((measure, index) => [measure.code, `M${index + 1}`]),
  );
  const riskCode = new Map(content.risks.map((risk, index) => [risk.id, `R${index + 1}`]));
  return { measureCode, riskCode };
}

function printedMeasure(measure: MeasureValue, code: string) {
  return {
    codice: code,
    titolo: truncate(measure.title, 300),
    tipo: measure.kind,
    descrizione: truncate(measure.description, 4000),
  };
}

async function previousVersionChanges(dpia: DpiaDocument, content: DpiaContentValue) {
  if (dpia.version <= 1) return undefined;
  const previous = await findFrozenVersion(dpia, dpia.version - 1);
  const changes = contentChanges(plainContent(previous.content), content);
  const lines = changes.map((change) => truncate(change.description, 1000));
  const modifiche =
    lines.length === 0
      ? [
          'Nessuna modifica del contenuto: riesame periodico (art. 35, par. 11, GDPR; art. 30 del Regolamento dell’ente)',
        ]
      : lines.length > 100
        ? [...lines.slice(0, 99), `… e altre ${lines.length - 99} modifiche`]
        : lines;
  return { versione: previous.number, data: previous.frozenOn, modifiche };
}

export async function generateDraft(dpiaId: string, principal: Principal, deps: DpiaDependencies) {
  const dpia = await findDpia(dpiaId);
  const content = plainContent(dpia.content);
  const problems = draftGaps(content);
  const { organisation, signatory } = await enteAndSignatory(dpia.organisationId);
  if (!signatory) problems.push(missingSignatory);
  const opinion = content.dpoOpinion;
  const decision = content.decision;
  const views = content.dataSubjectsViews;
  if (problems.length > 0 || !signatory || !views) {
    throw unprocessable('Bozza di DPIA incompleta', problems);
  }
  const screening = await DpiaScreening.findById(dpia.screeningId);
  const { measureCode, riskCode } = printedCodes(content);
  const today = todayInRome();
  const previous = await previousVersionChanges(dpia, content);
  const description = content.description;
  const data: Record<string, unknown> = {
    versione: dpia.version,
    dataVersione: today,
    ...(previous ? { revisionePrecedente: previous } : {}),
    prossimaRevisione: content.revisionDate,
    luogo: placeOf(organisation),
    ...(content.team.length > 0 ? { gruppoLavoro: content.team } : {}),
    ...(screening && screening.outcome !== 'non-obbligatoria'
      ? {
          screening: {
            data: screening.screenedOn,
            esito: screening.outcome,
            motivazioni: screening.reasons.map((reason) => truncate(reason, 1000)),
          },
        }
      : {}),
    descrizione: {
      trattamento: description.name,
      ...(description.code ? { codice: description.code } : {}),
      ...(description.settore ? { settore: description.settore } : {}),
      ...(description.overview ? { contesto: description.overview } : {}),
      finalita: description.purposes,
      basiGiuridiche: description.legalBases,
      categorieDati: description.dataCategories,
      interessati: description.dataSubjects,
      destinatari: description.recipients,
      conservazione: description.retention,
      sistemi: description.systems,
      flussi: description.flows,
    },
    necessitaProporzionalita: content.necessity.map((item) => ({
      aspetto: item.aspect,
      giustificazione: item.justification,
    })),
    rischi: content.risks.map((risk) => ({
      codice: riskCode.get(risk.id),
      evento: risk.event,
      titolo: risk.title,
      fonti: risk.sources,
      minacce: risk.threats,
      impatti: risk.impacts,
      probabilita: risk.inherent.likelihood,
      gravita: risk.inherent.severity,
      misure: risk.measureCodes.map((code) => measureCode.get(code) ?? code),
      probabilitaResidua: risk.residual.likelihood,
      gravitaResidua: risk.residual.severity,
    })),
    misure: content.measures.map((measure) => ({
      ...printedMeasure(measure, measureCode.get(measure.code) ?? ''),
      stato: measure.status,
      ...(measure.owner ? { responsabile: measure.owner } : {}),
      ...(measure.dueDate ? { scadenza: measure.dueDate } : {}),
    })),
    ...(opinion
      ? {
          parereRpd: {
            ...((opinion.by ?? organisation.dpo?.name)
              ? { nome: opinion.by ?? organisation.dpo?.name }
              : {}),
            data: opinion.givenOn,
            esito: dpoConclusionText[opinion.conclusion],
            testo: opinion.text,
          },
        }
      : {}),
    ...(decision?.departureReason ? { motivazioneDifformita: decision.departureReason } : {}),
    ...(views.sought
      ? { opinioniInteressati: { modalita: views.method, sintesi: views.summary } }
      : { opinioniInteressati: null, opinioniNonRaccolte: views.reasonNotSought }),
    ...(decision
      ? {
          decisioneTitolare: {
            esito: decisionOutcomeText[decision.outcome],
            data: decision.decidedOn,
            ...(decision.notes ? { note: decision.notes } : {}),
          },
        }
      : {}),
    consultazionePreventiva: highResidualRisks(content.risks).length > 0,
    firmatario: signatory,
  };
  const document = await generateDocument({
    templateKey: 'dpia',
    data,
    principal,
    storage: deps.storage,
    render: deps.render,
  });
  dpia.draft = { documentId: document._id, date: today };
  await dpia.save();
  return { dpia, document };
}

// ---------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------

/** A frozen version's id follows from the DPIA and the number: looked up by key, inserted once. */
function versionIdOf(
  dpia: { _id: Types.ObjectId; organisationId: Types.ObjectId },
  number: number,
) {
  return actDocumentId(`dpia-version:${dpia._id.toString()}:${number}`, dpia.organisationId);
}

async function findFrozenVersion(dpia: DpiaDocument, number: number) {
  const version = await DpiaVersion.findById(versionIdOf(dpia, number));
  if (!version) throw HttpProblem.notFound(`La DPIA non ha una versione ${number}`);
  return version;
}

/**
 * Freezes the current version as its own record and starts the next one from
 * it. The insert under the version's key decides: of two concurrent revisions
 * one inserts; the other finds the same content frozen and completes the move
 * (as does a retry after a crash between the two writes); a different content
 * frozen under that number is a conflict.
 */
export async function reviseDpia(dpiaId: string, principal: Principal, expectedVersion?: number) {
  const dpia = await findDpia(dpiaId);
  // A client naming the version it means to freeze does not freeze the next one by a repeated click.
  if (expectedVersion !== undefined && expectedVersion !== dpia.version) {
    throw HttpProblem.conflict(
      `La versione corrente è la ${dpia.version}, non la ${expectedVersion}: la revisione è già avvenuta`,
      { currentState: `versione ${dpia.version}` },
    );
  }
  const content = plainContent(dpia.content);
  const number = dpia.version;
  const today = todayInRome();
  try {
    await DpiaVersion.create({
      _id: versionIdOf(dpia, number),
      dpiaId: dpia._id,
      number,
      startedOn: dpia.versionStartedOn,
      frozenOn: today,
      frozenBy: author(principal),
      screeningId: dpia.screeningId,
      content,
      residualHighRisk: dpia.residualHighRisk,
      highResidualRiskIds: dpia.highResidualRiskIds,
      draft: dpia.draft ? { documentId: dpia.draft.documentId, date: dpia.draft.date } : null,
    });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const frozen = await DpiaVersion.findById(versionIdOf(dpia, number));
    if (!frozen || JSON.stringify(plainContent(frozen.content)) !== JSON.stringify(content)) {
      throw HttpProblem.conflict(
        `La versione ${number} è già stata congelata con un contenuto diverso: ricaricare la DPIA`,
        { currentState: `versione ${number}` },
      );
    }
  }
  dpia.set({
    version: number + 1,
    versionStartedOn: today,
    draft: null,
    updatedBy: author(principal),
  });
  // The new version is assessed anew: the DPO's opinion and the decision belong to the old one.
  dpia.set('content', {
    ...content,
    dpoOpinion: null,
    decision: null,
    revisionDate: addYears(today, 1),
  });
  return dpia.save();
}

export interface VersionSummary {
  number: number;
  frozen: boolean;
  startedOn: string;
  frozenOn: string | null;
  frozenBy: { userId: string; name: string } | null;
  residualHighRisk: boolean;
  draftDocumentId: string | null;
}

export async function listVersions(dpiaId: string): Promise<VersionSummary[]> {
  const dpia = await findDpia(dpiaId);
  const numbers = Array.from({ length: dpia.version - 1 }, (_, index) => index + 1);
  const frozen = await DpiaVersion.find({
    _id: { $in: numbers.map((number) => versionIdOf(dpia, number)) },
  });
  return [
    ...frozen
      .sort((left, right) => left.number - right.number)
      .map((version) => ({
        number: version.number,
        frozen: true,
        startedOn: version.startedOn,
        frozenOn: version.frozenOn,
        frozenBy: { userId: version.frozenBy.userId.toString(), name: version.frozenBy.name },
        residualHighRisk: version.residualHighRisk,
        draftDocumentId: version.draft?.documentId.toString() ?? null,
      })),
    {
      number: dpia.version,
      frozen: false,
      startedOn: dpia.versionStartedOn,
      frozenOn: null,
      frozenBy: null,
      residualHighRisk: dpia.residualHighRisk,
      draftDocumentId: dpia.draft?.documentId.toString() ?? null,
    },
  ];
}

async function contentOfVersion(dpia: DpiaDocument, number: number) {
  if (number === dpia.version) return plainContent(dpia.content);
  if (number < 1 || number > dpia.version) {
    throw HttpProblem.notFound(`La DPIA non ha una versione ${number}`);
  }
  return plainContent((await findFrozenVersion(dpia, number)).content);
}

export async function getVersion(dpiaId: string, number: number) {
  const dpia = await findDpia(dpiaId);
  if (number === dpia.version) {
    return {
      number,
      frozen: false,
      startedOn: dpia.versionStartedOn,
      draftDocumentId: dpia.draft?.documentId.toString() ?? null,
      content: presentContent(plainContent(dpia.content)),
    };
  }
  if (number < 1 || number > dpia.version) {
    throw HttpProblem.notFound(`La DPIA non ha una versione ${number}`);
  }
  const version = await findFrozenVersion(dpia, number);
  return {
    ...(version.toJSON() as Record<string, unknown>),
    frozen: true,
    draftDocumentId: version.draft?.documentId.toString() ?? null,
    content: presentContent(plainContent(version.content)),
  };
}

export async function versionChanges(
  dpiaId: string,
  number: number,
): Promise<{ from: number | null; to: number; changes: ContentChange[] }> {
  const dpia = await findDpia(dpiaId);
  const after = await contentOfVersion(dpia, number);
  if (number === 1) return { from: null, to: 1, changes: [] };
  const before = await contentOfVersion(dpia, number - 1);
  return { from: number - 1, to: number, changes: contentChanges(before, after) };
}

// ---------------------------------------------------------------------------
// Prior consultation of the Garante (art. 36; seed 002 art. 27)
// ---------------------------------------------------------------------------

export interface ConsultationRequestInput {
  protocollo?: string | undefined;
  otherInformation?: string[] | undefined;
  attachments?: string[] | undefined;
}

function noConsultation(dpia: DpiaDocument, action: string): HttpProblem {
  return HttpProblem.conflict(
    `Impossibile ${action}: ${dpia.priorConsultation ? `la consultazione è nello stato «${dpia.priorConsultation.status}»` : 'nessuna richiesta di consultazione preparata'}`,
    { currentState: dpia.priorConsultation?.status ?? null },
  );
}

/**
 * The request for prior consultation of the Garante, for the current version
 * with a residual high risk. It attaches the DPIA in full: if the version has
 * no draft yet, the draft is generated first.
 */
export async function preparePriorConsultation(
  dpiaId: string,
  input: ConsultationRequestInput,
  principal: Principal,
  deps: DpiaDependencies,
) {
  let dpia = await findDpia(dpiaId);
  const content = plainContent(dpia.content);
  const highRisks = highResidualRisks(content.risks);
  if (highRisks.length === 0) {
    throw HttpProblem.conflict(
      'Nessun rischio residuo elevato: la consultazione preventiva del Garante non è dovuta (art. 36, par. 1, GDPR)',
      { currentState: 'rischio-residuo-non-elevato' },
    );
  }
  const earlier = dpia.priorConsultation;
  if (earlier && (earlier.status === 'inviata' || earlier.status === 'prorogata')) {
    throw noConsultation(dpia, 'preparare una nuova richiesta');
  }
  if (earlier?.status === 'riscontrata' && earlier.version === dpia.version) {
    throw HttpProblem.conflict(
      `Il Garante si è già espresso sulla versione ${dpia.version}: per consultarlo di nuovo avviare una revisione`,
      { currentState: earlier.status },
    );
  }
  const { organisation, signatory } = await enteAndSignatory(dpia.organisationId);
  const problems: InvalidParam[] = [];
  const taxCode = [organisation.taxCode, organisation.vatNumber].find(
    (code) => code && /^[0-9]{11}$/.test(code),
  );
  if (!taxCode) {
    problems.push({ name: 'organisation.taxCode', reason: 'indicare il codice fiscale dell’ente' });
  }
  const address = addressLine(organisation.address);
  if (!address)
    problems.push({ name: 'organisation.address', reason: 'indicare la sede dell’ente' });
  if (!organisation.pec)
    problems.push({ name: 'organisation.pec', reason: 'indicare la PEC dell’ente' });
  const dpo = organisation.dpo;
  if (!dpo) {
    problems.push({
      name: 'organisation.dpo',
      reason: 'indicare l’RPD, punto di contatto per il Garante (art. 36, par. 3, lett. d), GDPR)',
    });
  }
  if (!signatory) problems.push(missingSignatory);
  // The Garante is consulted on an assessed DPIA: the DPO's opinion and the Titolare's decision first.
  if (!content.dpoOpinion)
    problems.push({
      name: 'content.dpoOpinion',
      reason: 'acquisire il parere dell’RPD (art. 35, par. 2, GDPR)',
    });
  if (!content.decision)
    problems.push({ name: 'content.decision', reason: 'registrare la decisione del Titolare' });
  content.description.processors.forEach((processor, index) => {
    if (!processor.tasks) {
      problems.push({
        name: `content.description.processors.${index}.tasks`,
        reason: `indicare i compiti di ${processor.name} (art. 36, par. 3, lett. a), GDPR)`,
      });
    }
  });
  content.description.jointControllers.forEach((controller, index) => {
    if (!controller.responsibilities) {
      problems.push({
        name: `content.description.jointControllers.${index}.responsibilities`,
        reason: `indicare le responsabilità di ${controller.name} (art. 36, par. 3, lett. a), GDPR)`,
      });
    }
  });
  if (content.description.systems.length === 0) {
    problems.push({
      name: 'content.description.systems',
      reason: 'indicare i mezzi del trattamento',
    });
  }
  if (problems.length > 0 || !taxCode || !address || !organisation.pec || !dpo || !signatory) {
    throw unprocessable('Richiesta di consultazione incompleta', problems);
  }
  if (!dpia.draft) dpia = (await generateDraft(dpiaId, principal, deps)).dpia;
  const draft = dpia.draft;
  if (!draft) throw new Error('the draft was just generated');
  const { measureCode, riskCode } = printedCodes(content);
  const today = todayInRome();
  const data: Record<string, unknown> = {
    dataAtto: today,
    luogo: placeOf(organisation),
    ...(input.protocollo ? { protocollo: input.protocollo } : {}),
    titolare: {
      codiceFiscale: taxCode,
      indirizzo: address,
      pec: organisation.pec,
      rappresentanteLegale: signatory,
    },
    rpd: {
      nome: dpo.name,
      ...(dpo.contactPerson ? { referente: dpo.contactPerson } : {}),
      email: dpo.email,
      ...(dpo.pec ? { pec: dpo.pec } : {}),
      ...(dpo.phone ? { telefono: dpo.phone } : {}),
    },
    responsabili: content.description.processors.map((processor) => ({
      denominazione: processor.name,
      ruolo: processor.role,
      compiti: processor.tasks,
    })),
    ...(content.description.jointControllers.length > 0
      ? {
          contitolari: content.description.jointControllers.map((controller) => ({
            denominazione: controller.name,
            responsabilita: controller.responsibilities,
          })),
        }
      : {}),
    trattamento: {
      denominazione: content.description.name,
      ...(content.description.settore ? { settore: content.description.settore } : {}),
      ...(content.description.overview ? { descrizione: content.description.overview } : {}),
      finalita: content.description.purposes,
      mezzi: content.description.systems,
    },
    misure: content.measures.map((measure) =>
      printedMeasure(measure, measureCode.get(measure.code) ?? ''),
    ),
    dpia: { versione: dpia.version, data: draft.date },
    rischiResidui: highRisks.map((risk) => ({
      codice: riskCode.get(risk.id),
      titolo: risk.title,
      probabilitaResidua: risk.residual.likelihood,
      gravitaResidua: risk.residual.severity,
      ...(risk.residualNote ? { motivo: risk.residualNote } : {}),
    })),
    ...(input.otherInformation?.length ? { altreInformazioni: input.otherInformation } : {}),
    ...(input.attachments?.length ? { allegati: input.attachments } : {}),
    // Not sent yet: the term is counted from today, and again from the sent date once recorded.
    terminePrevisto: addCalendarDays(today, consultationAnswerDays),
    firmatario: signatory,
  };
  const document = await generateDocument({
    templateKey: 'consultazione-preventiva',
    data,
    principal,
    storage: deps.storage,
    render: deps.render,
  });
  // An answered consultation of an earlier version stays on record; an unsent draft is replaced.
  const answered = dpia.toObject().priorConsultation;
  if (answered?.status === 'riscontrata') dpia.pastConsultations.push(answered);
  dpia.priorConsultation = {
    status: 'da-inviare',
    version: dpia.version,
    documentId: document._id,
    preparedOn: today,
    sentOn: null,
    protocollo: input.protocollo ?? null,
    dueDate: null,
    extension: null,
    answer: null,
  };
  dpia.updatedBy = author(principal);
  await dpia.save();
  return { dpia, document };
}

export async function recordConsultationSent(
  dpiaId: string,
  input: { date: string; protocollo: string },
  principal: Principal,
) {
  const dpia = await findDpia(dpiaId);
  const consultation = dpia.priorConsultation;
  if (!consultation || consultation.status !== 'da-inviare') {
    throw noConsultation(dpia, 'registrare l’invio');
  }
  const problems: InvalidParam[] = [];
  if (input.date > todayInRome())
    problems.push({ name: 'body.date', reason: 'la data non può essere futura' });
  if (input.date < consultation.preparedOn) {
    problems.push({ name: 'body.date', reason: 'la richiesta è stata preparata dopo questa data' });
  }
  if (problems.length > 0) throw unprocessable('Invio non registrato', problems);
  consultation.status = 'inviata';
  consultation.sentOn = input.date;
  consultation.protocollo = input.protocollo;
  consultation.dueDate = addCalendarDays(input.date, consultationAnswerDays);
  dpia.updatedBy = author(principal);
  return dpia.save();
}

/** Art. 36(2): the Garante may extend by six weeks, telling the controller within one month of receipt. */
export async function recordConsultationExtension(
  dpiaId: string,
  input: { date: string; protocollo?: string | undefined },
  principal: Principal,
) {
  const dpia = await findDpia(dpiaId);
  const consultation = dpia.priorConsultation;
  if (!consultation?.sentOn || consultation.status !== 'inviata') {
    throw noConsultation(dpia, 'registrare la proroga');
  }
  const problems: InvalidParam[] = [];
  if (input.date < consultation.sentOn) {
    problems.push({
      name: 'body.date',
      reason: 'la proroga non può precedere l’invio della richiesta',
    });
  } else if (input.date > addMonths(consultation.sentOn, 1)) {
    problems.push({
      name: 'body.date',
      reason: `la proroga va comunicata entro un mese dal ricevimento della richiesta (entro il ${addMonths(consultation.sentOn, 1)}, art. 36, par. 2, GDPR)`,
    });
  }
  if (input.date > todayInRome())
    problems.push({ name: 'body.date', reason: 'la data non può essere futura' });
  if (problems.length > 0) throw unprocessable('Proroga non registrata', problems);
  consultation.status = 'prorogata';
  consultation.extension = { notifiedOn: input.date, protocollo: input.protocollo ?? null };
  consultation.dueDate = addCalendarDays(
    consultation.sentOn,
    consultationAnswerDays + consultationExtensionDays,
  );
  dpia.updatedBy = author(principal);
  return dpia.save();
}

export async function recordConsultationAnswer(
  dpiaId: string,
  input: { date: string; summary: string },
  principal: Principal,
) {
  const dpia = await findDpia(dpiaId);
  const consultation = dpia.priorConsultation;
  if (!consultation?.sentOn || !['inviata', 'prorogata'].includes(consultation.status)) {
    throw noConsultation(dpia, 'registrare il parere del Garante');
  }
  if (input.date < consultation.sentOn || input.date > todayInRome()) {
    throw unprocessable('Parere non registrato', [
      { name: 'body.date', reason: 'tra l’invio della richiesta e oggi' },
    ]);
  }
  consultation.status = 'riscontrata';
  consultation.answer = { receivedOn: input.date, summary: input.summary };
  dpia.updatedBy = author(principal);
  return dpia.save();
}
