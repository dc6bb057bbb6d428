/**
 * The preliminary check on whether a processing activity needs a DPIA (art. 35
 * GDPR; seed 002 art. 25): the three cases of art. 35(3), the nine criteria of
 * the EDPB guidelines WP248 rev.01 the Garante refers to, and the twelve types
 * of the Garante's list (provv. n. 467 dell'11 ottobre 2018, allegato 1).
 * Pure data and a pure function, so that every path is testable on a table.
 */

export const art35Cases = [
  {
    code: 'a',
    text: 'valutazione sistematica e globale di aspetti personali relativi a persone fisiche, basata su un trattamento automatizzato, compresa la profilazione, sulla quale si fondano decisioni che hanno effetti giuridici o incidono in modo analogo significativamente su dette persone fisiche',
  },
  {
    code: 'b',
    text: 'trattamento, su larga scala, di categorie particolari di dati personali di cui all’art. 9, par. 1, o di dati relativi a condanne penali e a reati di cui all’art. 10',
  },
  {
    code: 'c',
    text: 'sorveglianza sistematica su larga scala di una zona accessibile al pubblico',
  },
] as const;

/** In the order of WP248 rev.01, as seed 002 art. 25 c.5 and the Garante list them. */
export const wp248Criteria = [
  {
    code: 'C1',
    title: 'Valutazione o assegnazione di un punteggio, inclusiva di profilazione e previsione',
  },
  {
    code: 'C2',
    title:
      'Processo decisionale automatizzato che ha effetto giuridico o incide in modo analogo significativamente',
  },
  { code: 'C3', title: 'Monitoraggio sistematico degli interessati' },
  { code: 'C4', title: 'Dati sensibili o dati aventi carattere altamente personale' },
  { code: 'C5', title: 'Trattamento di dati su larga scala' },
  { code: 'C6', title: 'Creazione di corrispondenze o combinazione di insiemi di dati' },
  { code: 'C7', title: 'Dati relativi a interessati vulnerabili' },
  {
    code: 'C8',
    title: 'Uso innovativo o applicazione di nuove soluzioni tecnologiche od organizzative',
  },
  {
    code: 'C9',
    title:
      'Trattamento che impedisce agli interessati di esercitare un diritto o di avvalersi di un servizio o di un contratto',
  },
] as const;

/** Allegato 1 al provv. n. 467/2018, in its order. */
export const garanteListTypes = [
  {
    code: 'G1',
    title:
      'Trattamenti valutativi o di scoring su larga scala, nonché trattamenti che comportano la profilazione degli interessati e lo svolgimento di attività predittive',
  },
  {
    code: 'G2',
    title:
      'Trattamenti automatizzati finalizzati ad assumere decisioni che producono effetti giuridici oppure che incidono in modo analogo significativamente sull’interessato',
  },
  {
    code: 'G3',
    title:
      'Trattamenti che prevedono un utilizzo sistematico di dati per l’osservazione, il monitoraggio o il controllo degli interessati, compresa la raccolta di dati attraverso reti, effettuati anche on-line o attraverso app, nonché il trattamento di identificativi univoci in grado di identificare gli utenti di servizi della società dell’informazione',
  },
  {
    code: 'G4',
    title: 'Trattamenti su larga scala di dati aventi carattere estremamente personale',
  },
  {
    code: 'G5',
    title:
      'Trattamenti effettuati nell’ambito del rapporto di lavoro mediante sistemi tecnologici dai quali derivi la possibilità di effettuare un controllo a distanza dell’attività dei dipendenti',
  },
  {
    code: 'G6',
    title:
      'Trattamenti non occasionali di dati relativi a soggetti vulnerabili (minori, disabili, anziani, infermi di mente, pazienti, richiedenti asilo)',
  },
  {
    code: 'G7',
    title:
      'Trattamenti effettuati attraverso l’uso di tecnologie innovative, anche con particolari misure di carattere organizzativo (es. IoT; sistemi di intelligenza artificiale; utilizzo di assistenti vocali on-line attraverso lo scanning vocale e testuale; monitoraggi effettuati da dispositivi wearable; tracciamenti di prossimità come ad es. il wi-fi tracking), ogniqualvolta ricorra anche almeno un altro dei criteri individuati nel WP248 rev.01',
  },
  {
    code: 'G8',
    title:
      'Trattamenti che comportano lo scambio tra diversi titolari di dati su larga scala con modalità telematiche',
  },
  {
    code: 'G9',
    title:
      'Trattamenti di dati personali effettuati mediante interconnessione, combinazione o raffronto di informazioni, compresi i trattamenti che prevedono l’incrocio dei dati di consumo di beni digitali con dati di pagamento',
  },
  {
    code: 'G10',
    title:
      'Trattamenti di categorie particolari di dati ai sensi dell’art. 9 oppure di dati relativi a condanne penali e a reati di cui all’art. 10 interconnessi con altri dati personali raccolti per finalità diverse',
  },
  {
    code: 'G11',
    title:
      'Trattamenti sistematici di dati biometrici, tenendo conto, in particolare, del volume dei dati, della durata, ovvero della persistenza, dell’attività di trattamento',
  },
  {
    code: 'G12',
    title:
      'Trattamenti sistematici di dati genetici, tenendo conto, in particolare, del volume dei dati, della durata, ovvero della persistenza, dell’attività di trattamento',
  },
] as const;

export type Art35Letter = (typeof art35Cases)[number]['code'];
export type CriterionCode = (typeof wp248Criteria)[number]['code'];
export type GaranteTypeCode = (typeof garanteListTypes)[number]['code'];

export const art35Letters = art35Cases.map((item) => item.code) as [Art35Letter, ...Art35Letter[]];
export const criterionCodes = wp248Criteria.map((item) => item.code) as [
  CriterionCode,
  ...CriterionCode[],
];
export const garanteTypeCodes = garanteListTypes.map((item) => item.code) as [
  GaranteTypeCode,
  ...GaranteTypeCode[],
];

/** The innovative-technology type, which counts only with another WP248 criterion. */
const innovativeTechnologyType: GaranteTypeCode = 'G7';
/** The WP248 criterion that is the same thing as that type, so it cannot be "the other one". */
const innovativeUseCriterion: CriterionCode = 'C8';

export const screeningOutcomes = ['obbligatoria', 'raccomandata', 'non-obbligatoria'] as const;
export type ScreeningOutcome = (typeof screeningOutcomes)[number];

export interface ScreeningAnswer {
  applies: boolean;
  reason?: string | null | undefined;
}

/** Every question answered, yes or no: the screening records that each was considered. */
export interface ScreeningAnswers {
  art35: Record<Art35Letter, ScreeningAnswer>;
  criteria: Record<CriterionCode, ScreeningAnswer>;
  garanteList: Record<GaranteTypeCode, ScreeningAnswer>;
}

export interface ScreeningAssessment {
  outcome: ScreeningOutcome;
  /** Italian sentences citing each case, type or criterion that led to the outcome. */
  reasons: string[];
  /** What counted towards the outcome. */
  triggers: { art35: Art35Letter[]; garanteList: GaranteTypeCode[]; criteria: CriterionCode[] };
  /** G7 was answered yes but no other WP248 criterion holds, so it did not count. */
  innovativeTechnologyDiscounted: boolean;
}

const gdpr = 'Regolamento (UE) 2016/679';
const garanteList = 'dell’elenco allegato al provvedimento del Garante n. 467 dell’11 ottobre 2018';
const wp248 = 'Linee guida WP248 rev.01';
const regolamentoEnte = 'Regolamento dell’ente';

function withReason(sentence: string, reason: string | null | undefined): string {
  return reason ? `${sentence} Motivazione: ${reason}` : sentence;
}

function listed(codes: readonly string[], titles: ReadonlyMap<string, string>): string {
  return codes.map((code) => `${code} (${titles.get(code) ?? ''})`).join('; ');
}

const criterionTitles: ReadonlyMap<string, string> = new Map(
  wp248Criteria.map((item) => [item.code, item.title]),
);

/**
 * The outcome (seed 002 art. 25 cc. 3–6): `obbligatoria` when a case of art. 35(3)
 * holds, or a type of the Garante's list, or two or more WP248 criteria;
 * `raccomandata` with exactly one criterion (the Titolare decides and records why);
 * otherwise `non-obbligatoria`. The innovative-technology type (G7) counts only
 * when at least one other WP248 criterion holds, as the list itself says;
 * C8 (innovative use) is the same fact, so it is not that other criterion.
 */
export function assessScreening(answers: ScreeningAnswers): ScreeningAssessment {
  const art35 = art35Letters.filter((code) => answers.art35[code].applies);
  const criteria = criterionCodes.filter((code) => answers.criteria[code].applies);
  const otherThanInnovativeUse = criteria.filter((code) => code !== innovativeUseCriterion);
  const declaredTypes = garanteTypeCodes.filter((code) => answers.garanteList[code].applies);
  const innovativeTechnologyDiscounted =
    declaredTypes.includes(innovativeTechnologyType) && otherThanInnovativeUse.length === 0;
  const types = innovativeTechnologyDiscounted
    ? declaredTypes.filter((code) => code !== innovativeTechnologyType)
    : declaredTypes;

  const reasons: string[] = [];
  for (const letter of art35) {
    const text = art35Cases.find((item) => item.code === letter)?.text ?? '';
    reasons.push(
      withReason(
        `Ricorre il caso dell’art. 35, par. 3, lett. ${letter}), del ${gdpr} (art. 25, comma 4, del ${regolamentoEnte}): ${text}.`,
        answers.art35[letter].reason,
      ),
    );
  }
  for (const code of types) {
    const title = garanteListTypes.find((item) => item.code === code)?.title ?? '';
    reasons.push(
      withReason(
        `Ricorre la tipologia ${code} ${garanteList}: ${title}.`,
        answers.garanteList[code].reason,
      ),
    );
  }
  if (innovativeTechnologyDiscounted) {
    reasons.push(
      `La tipologia ${innovativeTechnologyType} ${garanteList} (tecnologie innovative) è indicata, ma non ricorre alcun altro criterio delle ${wp248}: da sola non rende obbligatoria la valutazione d’impatto.`,
    );
  }

  let outcome: ScreeningOutcome;
  if (art35.length > 0 || types.length > 0 || criteria.length >= 2) outcome = 'obbligatoria';
  else if (criteria.length === 1) outcome = 'raccomandata';
  else outcome = 'non-obbligatoria';

  if (criteria.length >= 2) {
    reasons.push(
      `Ricorrono ${criteria.length} criteri delle ${wp248} (almeno due rendono obbligatoria la valutazione d’impatto, art. 25, comma 5, del ${regolamentoEnte}): ${listed(criteria, criterionTitles)}.`,
    );
  } else if (criteria.length === 1) {
    const sentence =
      outcome === 'raccomandata'
        ? `Ricorre un solo criterio delle ${wp248}: ${listed(criteria, criterionTitles)}. La valutazione d’impatto non è obbligatoria ma è raccomandata: il Titolare decide se procedere e ne indica i motivi (art. 25, comma 6, del ${regolamentoEnte}).`
        : `Ricorre inoltre un criterio delle ${wp248}: ${listed(criteria, criterionTitles)}.`;
    reasons.push(sentence);
  }
  if (outcome === 'non-obbligatoria') {
    reasons.push(
      `Non ricorre alcun caso dell’art. 35, par. 3, del ${gdpr}, alcuna tipologia ${garanteList} né alcun criterio delle ${wp248}: la valutazione d’impatto non è obbligatoria.`,
    );
  }
  return {
    outcome,
    reasons,
    triggers: { art35, garanteList: types, criteria },
    innovativeTechnologyDiscounted,
  };
}

/** Whether a DPIA follows: always when mandatory, otherwise as the Titolare decided. */
export function dpiaToBePerformed(
  outcome: ScreeningOutcome,
  decision: { performDpia: boolean } | null | undefined,
): boolean {
  return outcome === 'obbligatoria' || decision?.performDpia === true;
}
