/**
 * What changed between two versions of a DPIA, field by field, written for this
 * model: risks are matched by their id and measures by their code (so a change
 * of order is no change), lists of texts by their items, risk levels compared as
 * levels as well as scores. Each change carries an Italian sentence, which the
 * next version's draft prints as "modifiche rispetto alla versione precedente".
 */
import {
  necessityAspectLabels,
  riskLevel,
  scaleLabels,
  type NecessityAspect,
  type RiskLevel,
} from './model.js';

export type ChangeKind = 'added' | 'removed' | 'changed';

export interface ContentChange {
  /** Where, e.g. `risks.accesso-illegittimo.residual.level` or `measures.ACC-02`. */
  path: string;
  change: ChangeKind;
  before?: unknown;
  after?: unknown;
  description: string;
}

interface Score {
  likelihood?: number | null;
  severity?: number | null;
}

interface ComparableRisk {
  id: string;
  event: string;
  title: string;
  sources: string[];
  threats: string[];
  impacts: string[];
  measureCodes: string[];
  inherent?: Score | null;
  residual?: Score | null;
  residualNote?: string | null;
}

interface ComparableMeasure {
  code: string;
  title: string;
  kind: string;
  description: string;
  status: string;
  owner?: string | null;
  dueDate?: string | null;
}

/** The content of a version as compared; stored records and plain objects both fit. */
export interface ComparableContent {
  description: {
    name: string;
    code?: string | null;
    settore?: string | null;
    overview?: string | null;
    purposes: string[];
    legalBases: string[];
    dataCategories: string[];
    dataSubjects: string[];
    recipients: string[];
    retention?: string | null;
    systems: string[];
    flows: string[];
    processors: { name: string; role: string; tasks?: string | null }[];
    jointControllers: { name: string; responsibilities?: string | null }[];
  };
  team: string[];
  necessity: { aspect: string; justification?: string | null }[];
  risks: ComparableRisk[];
  measures: ComparableMeasure[];
  dpoOpinion?: { conclusion: string; text: string; givenOn: string; by?: string | null } | null;
  dataSubjectsViews?: {
    sought: boolean;
    method?: string | null;
    summary?: string | null;
    reasonNotSought?: string | null;
  } | null;
  decision?: {
    outcome: string;
    notes?: string | null;
    decidedOn: string;
    departureReason?: string | null;
  } | null;
  revisionDate: string;
}

const longDate = new Intl.DateTimeFormat('it-IT', {
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  timeZone: 'UTC',
});

/** Values as a reader writes them: dates in long form, codes like `in-essere` in words. */
function readable(value: unknown): string {
  if (typeof value === 'boolean') return value ? 'sì' : 'no';
  if (typeof value !== 'string') return JSON.stringify(value);
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return longDate.format(new Date(`${value}T00:00:00Z`));
  return /^[a-z]+(-[a-z]+)+$/.test(value) ? value.replace(/-/g, ' ') : value;
}

/** Printed sentences stay short: the full values are in `before` and `after`. */
function quoted(value: unknown): string {
  if (value === null || value === undefined || value === '') return '(vuoto)';
  const text = readable(value);
  return text.length > 120 ? `«${text.slice(0, 117)}…»` : `«${text}»`;
}

function same(before: unknown, after: unknown): boolean {
  return JSON.stringify(before ?? null) === JSON.stringify(after ?? null);
}

class ChangeList {
  readonly changes: ContentChange[] = [];

  value(path: string, label: string, before: unknown, after: unknown): void {
    if (same(before, after)) return;
    const empty = (value: unknown) => value === null || value === undefined || value === '';
    if (empty(before)) {
      this.changes.push({ path, change: 'added', after, description: `${label}: aggiunto` });
    } else if (empty(after)) {
      this.changes.push({ path, change: 'removed', before, description: `${label}: rimosso` });
    } else {
      this.changes.push({
        path,
        change: 'changed',
        before,
        after,
        description:
          typeof before === 'string' && before.length > 60
            ? `${label}: modificato`
            : `${label}: da ${quoted(before)} a ${quoted(after)}`,
      });
    }
  }

  /** A list of texts: each item added or removed (order does not count). */
  items(
    path: string,
    label: string,
    before: readonly string[],
    after: readonly string[],
    display: (item: string) => string = quoted,
  ): void {
    for (const item of after.filter((value) => !before.includes(value))) {
      this.changes.push({
        path,
        change: 'added',
        after: item,
        description: `${label}: aggiunto ${display(item)}`,
      });
    }
    for (const item of before.filter((value) => !after.includes(value))) {
      this.changes.push({
        path,
        change: 'removed',
        before: item,
        description: `${label}: rimosso ${display(item)}`,
      });
    }
  }

  /** An optional block (opinion, decision…): given, withdrawn, or changed field by field. */
  block<T extends object>(
    path: string,
    label: string,
    before: T | null | undefined,
    after: T | null | undefined,
    fields: Partial<Record<keyof T & string, string>>,
  ): void {
    if (!before && !after) return;
    if (!before) {
      this.changes.push({ path, change: 'added', after, description: `${label}: aggiunto` });
      return;
    }
    if (!after) {
      this.changes.push({ path, change: 'removed', before, description: `${label}: rimosso` });
      return;
    }
    for (const [field, fieldLabel] of Object.entries(fields) as [keyof T & string, string][]) {
      this.value(`${path}.${field}`, `${label}, ${fieldLabel}`, before[field], after[field]);
    }
  }
}

function levelOf(score: Score | null | undefined): RiskLevel | null {
  return typeof score?.likelihood === 'number' && typeof score.severity === 'number'
    ? riskLevel(score.likelihood, score.severity)
    : null;
}

function scaleValue(value: number | null | undefined): string | null {
  return typeof value === 'number' ? `${value} (${scaleLabels[value - 1] ?? ''})` : null;
}

function compareRisk(
  list: ChangeList,
  before: ComparableRisk,
  after: ComparableRisk,
  measureTitle: (code: string) => string,
): void {
  const path = `risks.${after.id}`;
  const label = `Rischio «${after.title}»`;
  list.value(`${path}.event`, `${label}, evento temuto`, before.event, after.event);
  list.value(`${path}.title`, `${label}, titolo`, before.title, after.title);
  list.items(`${path}.sources`, `${label}, fonti di rischio`, before.sources, after.sources);
  list.items(`${path}.threats`, `${label}, minacce`, before.threats, after.threats);
  list.items(`${path}.impacts`, `${label}, impatti`, before.impacts, after.impacts);
  list.items(
    `${path}.measureCodes`,
    `${label}, misure`,
    before.measureCodes,
    after.measureCodes,
    // Documents number measures M1, M2…: the sentence names the measure, the values keep its code.
    (code) => `«${measureTitle(code)}»`,
  );
  for (const [stage, stageLabel] of [
    ['inherent', 'iniziale'],
    ['residual', 'residua'],
  ] as const) {
    const from = before[stage];
    const to = after[stage];
    list.value(
      `${path}.${stage}.likelihood`,
      `${label}, probabilità ${stageLabel}`,
      scaleValue(from?.likelihood),
      scaleValue(to?.likelihood),
    );
    list.value(
      `${path}.${stage}.severity`,
      `${label}, gravità ${stageLabel}`,
      scaleValue(from?.severity),
      scaleValue(to?.severity),
    );
    list.value(
      `${path}.${stage}.level`,
      `${label}, livello di rischio ${stageLabel === 'iniziale' ? 'iniziale' : 'residuo'}`,
      levelOf(from),
      levelOf(to),
    );
  }
  list.value(
    `${path}.residualNote`,
    `${label}, motivo del rischio residuo`,
    before.residualNote,
    after.residualNote,
  );
}

function compareMeasure(list: ChangeList, before: ComparableMeasure, after: ComparableMeasure) {
  const path = `measures.${after.code}`;
  const label = `Misura «${after.title}»`;
  list.value(`${path}.title`, `${label}, titolo`, before.title, after.title);
  list.value(`${path}.kind`, `${label}, tipo`, before.kind, after.kind);
  list.value(`${path}.description`, `${label}, descrizione`, before.description, after.description);
  list.value(`${path}.status`, `${label}, stato`, before.status, after.status);
  list.value(`${path}.owner`, `${label}, responsabile dell’attuazione`, before.owner, after.owner);
  list.value(`${path}.dueDate`, `${label}, scadenza`, before.dueDate, after.dueDate);
}

/** The changes from `before` to `after`, in the order of the document. */
export function contentChanges(
  before: ComparableContent,
  after: ComparableContent,
): ContentChange[] {
  const list = new ChangeList();
  const from = before.description;
  const to = after.description;
  list.value('description.name', 'Denominazione del trattamento', from.name, to.name);
  list.value('description.code', 'Codice nel registro', from.code, to.code);
  list.value('description.settore', 'Settore', from.settore, to.settore);
  list.value('description.overview', 'Contesto', from.overview, to.overview);
  list.items('description.purposes', 'Finalità', from.purposes, to.purposes);
  list.items('description.legalBases', 'Basi giuridiche', from.legalBases, to.legalBases);
  list.items(
    'description.dataCategories',
    'Categorie di dati',
    from.dataCategories,
    to.dataCategories,
  );
  list.items('description.dataSubjects', 'Interessati', from.dataSubjects, to.dataSubjects);
  list.items('description.recipients', 'Destinatari', from.recipients, to.recipients);
  list.value('description.retention', 'Conservazione', from.retention, to.retention);
  list.items('description.systems', 'Sistemi e supporti', from.systems, to.systems);
  list.items('description.flows', 'Flussi di dati', from.flows, to.flows);
  const processorLine = (item: { name: string; role: string; tasks?: string | null }) =>
    `${item.name} (${item.role}${item.tasks ? `: ${item.tasks}` : ''})`;
  list.items(
    'description.processors',
    'Responsabili del trattamento',
    from.processors.map(processorLine),
    to.processors.map(processorLine),
  );
  const jointLine = (item: { name: string; responsibilities?: string | null }) =>
    `${item.name}${item.responsibilities ? `: ${item.responsibilities}` : ''}`;
  list.items(
    'description.jointControllers',
    'Contitolari',
    from.jointControllers.map(jointLine),
    to.jointControllers.map(jointLine),
  );
  list.items('team', 'Gruppo di lavoro', before.team, after.team);

  const aspects = new Set([...before.necessity, ...after.necessity].map((item) => item.aspect));
  for (const aspect of aspects) {
    const label = necessityAspectLabels[aspect as NecessityAspect] ?? aspect;
    list.value(
      `necessity.${aspect}.justification`,
      `Necessità e proporzionalità, ${label}`,
      before.necessity.find((item) => item.aspect === aspect)?.justification,
      after.necessity.find((item) => item.aspect === aspect)?.justification,
    );
  }

  const titles = new Map(
    [...before.measures, ...after.measures].map((measure) => [measure.code, measure.title]),
  );
  const measureTitle = (code: string) => titles.get(code) ?? code;
  for (const risk of after.risks) {
    const earlier = before.risks.find((candidate) => candidate.id === risk.id);
    if (!earlier) {
      list.changes.push({
        path: `risks.${risk.id}`,
        change: 'added',
        after: risk,
        description: `Aggiunto il rischio «${risk.title}»${levelOf(risk.residual) ? ` (rischio residuo ${levelOf(risk.residual)})` : ''}`,
      });
    } else compareRisk(list, earlier, risk, measureTitle);
  }
  for (const risk of before.risks.filter(
    (candidate) => !after.risks.some((other) => other.id === candidate.id),
  )) {
    list.changes.push({
      path: `risks.${risk.id}`,
      change: 'removed',
      before: risk,
      description: `Eliminato il rischio «${risk.title}»`,
    });
  }

  for (const measure of after.measures) {
    const earlier = before.measures.find((candidate) => candidate.code === measure.code);
    if (!earlier) {
      list.changes.push({
        path: `measures.${measure.code}`,
        change: 'added',
        after: measure,
        description: `Aggiunta la misura «${measure.title}» (${readable(measure.status)})`,
      });
    } else compareMeasure(list, earlier, measure);
  }
  for (const measure of before.measures.filter(
    (candidate) => !after.measures.some((other) => other.code === candidate.code),
  )) {
    list.changes.push({
      path: `measures.${measure.code}`,
      change: 'removed',
      before: measure,
      description: `Eliminata la misura «${measure.title}»`,
    });
  }

  list.block('dpoOpinion', 'Parere dell’RPD', before.dpoOpinion, after.dpoOpinion, {
    conclusion: 'esito',
    text: 'testo',
    givenOn: 'data',
    by: 'autore',
  });
  list.block(
    'dataSubjectsViews',
    'Opinioni degli interessati',
    before.dataSubjectsViews,
    after.dataSubjectsViews,
    {
      sought: 'raccolte',
      method: 'modalità',
      summary: 'sintesi',
      reasonNotSought: 'motivo della mancata raccolta',
    },
  );
  list.block('decision', 'Decisione del Titolare', before.decision, after.decision, {
    outcome: 'esito',
    notes: 'note',
    decidedOn: 'data',
    departureReason: 'motivo della difformità dal parere dell’RPD',
  });
  list.value(
    'revisionDate',
    'Data della prossima revisione',
    before.revisionDate,
    after.revisionDate,
  );
  return list.changes;
}
