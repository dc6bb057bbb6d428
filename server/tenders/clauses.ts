/**
 * The privacy clause procurement attaches to a call for tender (seed 002 art. 7
 * c.5): generated from the tender, its processing activities and the role it
 * states, to one tender or to many at once.
 */
import type { Types } from 'mongoose';
import type { Principal } from '../platform/auth.js';
import { HttpProblem } from '../platform/http-problem.js';
import type { ObjectStorage } from '../platform/storage.js';
import type { ModelRenderer } from '../documents/render-pool.js';
import { generateDocument, templateContextFor } from '../documents/service.js';
import { Organisation, placeOf } from '../organisations/model.js';
import { ProcessingActivity } from '../processing/model.js';
import { todayInRome } from '../registers/service.js';
import { findTemplate } from '../templates/service.js';
import { Tender, type TenderDocument } from './model.js';

const procedureNames: Record<string, string> = {
  'affidamento-diretto': 'affidamento diretto',
  'procedura-negoziata': 'procedura negoziata',
  'procedura-aperta': 'procedura aperta',
  'procedura-ristretta': 'procedura ristretta',
  'accordo-quadro': 'accordo quadro',
  altro: 'altra procedura',
};

export interface ClauseDependencies {
  storage: ObjectStorage;
  render: ModelRenderer;
}

type Role = NonNullable<TenderDocument['privacyRole']>;

/**
 * The clauses a call needs: one for the whole tender, or one per role when its
 * lots state different ones ("lots can share or differ").
 */
function clauseGroups(tender: TenderDocument): { role: Role | null; lots: number[] }[] {
  if (tender.lots.length === 0) return [{ role: tender.privacyRole ?? null, lots: [] }];
  const groups = new Map<string, { role: Role | null; lots: number[] }>();
  for (const lot of tender.lots) {
    const role = lot.privacyRole ?? tender.privacyRole ?? null;
    const key = role ?? 'none';
    const group = groups.get(key) ?? { role, lots: [] };
    group.lots.push(lot.number);
    groups.set(key, group);
  }
  // A single group covers every lot: it is the tender's clause.
  return [...groups.values()];
}

async function clauseData(
  tender: TenderDocument,
  organisationId: Types.ObjectId,
  group: { role: Role | null; lots: number[] },
  everyLot: boolean,
) {
  if (!group.role) {
    throw new HttpProblem(
      422,
      'Clausola non generabile',
      `La gara non indica ancora il ruolo privacy del futuro fornitore${group.lots.length ? ` per i lotti ${group.lots.join(', ')}` : ''} (art. 7, comma 5, del Regolamento comunale)`,
      { invalidParams: [{ name: 'privacyRole', reason: 'ruolo privacy mancante' }] },
    );
  }
  const [organisation, activities] = await Promise.all([
    Organisation.findById(organisationId),
    ProcessingActivity.find({ _id: { $in: tender.processingActivityIds } }),
  ]);
  const dpo = organisation?.dpo;
  const lots = tender.lots.filter((lot) => everyLot || group.lots.includes(lot.number));
  return {
    dataAtto: todayInRome(),
    luogo: organisation ? placeOf(organisation) : '',
    gara: {
      cig: tender.cig,
      oggetto: tender.object,
      procedura: procedureNames[tender.procedure] ?? tender.procedure,
      ...(lots.length > 0
        ? { lotti: lots.map((lot) => ({ numero: lot.number, cig: lot.cig, oggetto: lot.object })) }
        : {}),
    },
    ruolo: group.role,
    trattamenti: activities.map((activity) => ({
      nome: activity.name,
      finalita: activity.purposes,
      categorieDati: activity.personalDataCategories.map((category) => category.name),
      categorieInteressati: activity.dataSubjectCategories,
    })),
    ...(dpo ? { rpd: { nome: dpo.name, contatto: dpo.pec ?? dpo.email } } : {}),
  };
}

/** Generates the tender's clause(s) and attaches them (new versions replace the old). */
export async function attachClause(
  tenderId: string,
  principal: Principal,
  deps: ClauseDependencies,
  shared?: {
    template: Awaited<ReturnType<typeof findTemplate>>;
    sources: Awaited<ReturnType<typeof templateContextFor>>;
  },
) {
  const tender = await Tender.findById(tenderId);
  if (!tender) throw HttpProblem.notFound(`Gara ${tenderId} non trovata`);
  if (tender.status !== 'draft' && tender.status !== 'published') {
    throw HttpProblem.conflict(
      `La clausola si allega al bando: la gara è nello stato "${tender.status}"`,
      { currentState: tender.status },
    );
  }
  const groups = clauseGroups(tender);
  // Every group is checked before any document is made: all or nothing.
  const inputs = [];
  for (const group of groups) {
    inputs.push({
      group,
      data: await clauseData(tender, principal.organisationId, group, groups.length === 1),
    });
  }
  const clauses = [];
  for (const { group, data } of inputs) {
    const document = await generateDocument({
      templateKey: 'clausola-gara',
      data,
      principal,
      storage: deps.storage,
      render: deps.render,
      ...(shared ?? {}),
    });
    clauses.push({
      role: group.role as Role,
      lots: groups.length === 1 ? [] : group.lots,
      documentId: document._id,
    });
  }
  tender.set({ clauses, clauseDocumentId: clauses[0]?.documentId ?? null });
  await tender.save();
  return { tender, documents: clauses };
}

export interface ClauseResult {
  tenderId: string;
  status: 'attached' | 'refused';
  documentId?: string;
  reason?: string;
}

/** The same call for many tenders: each is attached or refused on its own. */
export async function attachClauses(
  tenderIds: string[],
  principal: Principal,
  deps: ClauseDependencies,
): Promise<ClauseResult[]> {
  const shared = {
    template: await findTemplate('clausola-gara'),
    sources: await templateContextFor(principal.organisationId, deps.storage),
  };
  const results: ClauseResult[] = [];
  for (const tenderId of tenderIds) {
    try {
      const { documents } = await attachClause(tenderId, principal, deps, shared);
      results.push({
        tenderId,
        status: 'attached',
        documentId: documents[0]?.documentId.toString() ?? '',
      });
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      const invalid = (
        error.extensions.invalidParams as { name: string; reason: string }[] | undefined
      )
        ?.map((param) => `${param.name}: ${param.reason}`)
        .join('; ');
      results.push({ tenderId, status: 'refused', reason: invalid ?? error.detail ?? error.title });
    }
  }
  return results;
}
