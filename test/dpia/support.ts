/**
 * Helpers for the DPIA tests: screening answers, an ente with a processing
 * activity, and the changes that complete a DPIA's first version.
 */
import {
  art35Letters,
  criterionCodes,
  garanteTypeCodes,
  type Art35Letter,
  type CriterionCode,
  type GaranteTypeCode,
  type ScreeningAnswers,
} from '../../server/dpia/screening.js';

type Answers = Record<string, { applies: boolean; reason?: string }>;

/** Every question answered no, except those listed, which are answered yes with a reason. */
export function answers(
  yes: (Art35Letter | CriterionCode | GaranteTypeCode)[] = [],
): ScreeningAnswers {
  const chosen: readonly string[] = yes;
  const group = (codes: readonly string[]): Answers =>
    Object.fromEntries(
      codes.map((code) => [
        code,
        chosen.includes(code)
          ? { applies: true, reason: `Motivo per ${code}` }
          : { applies: false },
      ]),
    );
  return {
    art35: group(art35Letters),
    criteria: group(criterionCodes),
    garanteList: group(garanteTypeCodes),
  } as ScreeningAnswers;
}

export interface ScreeningJson {
  id: string;
  processingActivityId: string;
  outcome: string;
  reasons: string[];
  triggers: { art35: string[]; criteria: string[]; garanteList: string[] };
  dpiaToBePerformed: boolean;
  reportDocumentId: string | null;
  answers: { art35: { code: string; applies: boolean; reason: string | null }[] };
}

export interface Score {
  likelihood: number | null;
  severity: number | null;
  level: string | null;
}

export interface RiskJson {
  id: string;
  event: string;
  title: string;
  sources: string[];
  measureCodes: string[];
  inherent: Score;
  residual: Score;
}

export interface DpiaJson {
  id: string;
  processingActivityId: string;
  screeningId: string;
  version: number;
  versionStartedOn: string;
  residualHighRisk: boolean;
  highResidualRiskIds: string[];
  draft: { documentId: string; date: string } | null;
  content: {
    description: {
      name: string;
      code: string | null;
      settore: string | null;
      purposes: string[];
      legalBases: string[];
      dataCategories: string[];
      dataSubjects: string[];
      recipients: string[];
      retention: string | null;
      systems: string[];
      flows: string[];
      processors: { name: string; role: string; tasks: string | null }[];
    };
    necessity: { aspect: string; justification: string | null }[];
    risks: RiskJson[];
    measures: { code: string; title: string; kind: string; status: string }[];
    dpoOpinion: { conclusion: string } | null;
    decision: { outcome: string; departureReason: string | null } | null;
    revisionDate: string;
  };
  priorConsultation: {
    status: string;
    version: number;
    documentId: string;
    sentOn: string | null;
    protocollo: string | null;
    dueDate: string | null;
    extension: { notifiedOn: string } | null;
  } | null;
  consultationDeadline?: { dueDate: string; daysLeft: number; extended: boolean };
}

export { download } from '../support/http.js';

const risk = (
  event: string,
  inherent: [number, number],
  residual: [number, number],
  measureCodes: string[],
  extra: Record<string, unknown> = {},
) => ({
  event,
  sources: ['Operatori interni non autorizzati', 'Attaccanti esterni'],
  threats: ['Uso di credenziali sottratte'],
  impacts: ['Diffusione di informazioni sulla salute dei beneficiari'],
  measureCodes,
  inherent: { likelihood: inherent[0], severity: inherent[1] },
  residual: { likelihood: residual[0], severity: residual[1] },
  ...extra,
});

/**
 * Everything a first version needs for its draft: justifications, the three
 * risks (none high once treated), catalogue and free measures, the DPO's
 * favourable opinion and an approving decision.
 */
export function completeChanges(overrides: Record<string, unknown> = {}) {
  return {
    description: {
      overview:
        'Il Settore Servizi alla Persona gestisce la cartella sociale dei beneficiari di contributi e di assistenza domiciliare.',
    },
    team: ['Dott.ssa Maria Rossi, Responsabile del Settore Servizi alla Persona'],
    necessity: {
      'base-giuridica': 'Compiti di interesse pubblico attribuiti dalla L. 328/2000.',
      minimizzazione: 'Raccolti i soli dati necessari alla valutazione del bisogno.',
      esattezza: 'Verifica dell’ISEE con la banca dati INPS.',
      conservazione: 'Dieci anni dalla chiusura della cartella, poi scarto.',
      informazione: 'Informativa consegnata al primo colloquio.',
      diritti: 'Istanze gestite dal Settore entro un mese.',
      responsabili: 'La cooperativa è designata responsabile con contratto ex art. 28.',
      trasferimenti: 'Nessun trasferimento fuori dall’Unione europea.',
    },
    measureCodes: ['ACC-02', 'BAK-01', 'DPI-12'],
    risks: [
      risk('accesso-illegittimo', [3, 3], [2, 2], ['ACC-02', 'DPI-12']),
      risk('modifica-indesiderata', [2, 3], [1, 2], ['ACC-02']),
      risk('scomparsa', [2, 2], [1, 2], ['BAK-01']),
    ],
    dpoOpinion: {
      conclusion: 'favorevole',
      text: 'Le misure sono adeguate ai rischi individuati.',
      givenOn: '2026-01-10',
    },
    dataSubjectsViews: {
      sought: false,
      reasonNotSought: 'I beneficiari sono rappresentati dalla consulta del volontariato sociale.',
    },
    decision: { outcome: 'approvata', decidedOn: '2026-01-12' },
    ...overrides,
  };
}

export { risk };
