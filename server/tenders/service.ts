import type { Principal } from '../platform/auth.js';
import { HttpProblem, type InvalidParam } from '../platform/http-problem.js';
import { isDuplicateKey, referenceProblem } from '../people/fields.js';
import { Person } from '../people/model.js';
import { ProcessingActivity } from '../processing/model.js';
import { Settore } from '../settori/model.js';
import { Supplier } from '../suppliers/model.js';
import {
  Tender,
  type SupplierPrivacyRole,
  type TenderDocument,
  type TenderStatus,
} from './model.js';

export interface TenderInput {
  cig: string;
  object: string;
  procedure: TenderDocument['procedure'];
  lots?: { number: number; cig: string; object: string }[] | undefined;
  rupId?: string | null | undefined;
  settoreId?: string | null | undefined;
  publicationDate?: string | null | undefined;
  deadline?: string | null | undefined;
  processingActivityIds?: string[] | undefined;
  privacyRole?: SupplierPrivacyRole | null | undefined;
}

export interface RoleAnswers {
  jointlyDeterminesPurposes: boolean;
  decidesPurposesAlone: boolean;
  usesDataForOwnPurposes: boolean;
  actsOnlyOnInstructions: boolean;
}

/**
 * The supplier's role from the answers, with the reasons an officer can put in
 * the file (EDPB guidelines 07/2020 on controller and processor; artt. 4(7),
 * 4(8), 26, 28 GDPR).
 */
export function suggestRole(answers: RoleAnswers): {
  role: SupplierPrivacyRole;
  reasons: string[];
} {
  if (answers.jointlyDeterminesPurposes) {
    return {
      role: 'contitolare',
      reasons: [
        'il fornitore determina congiuntamente all’ente le finalità e i mezzi del trattamento: contitolarità ai sensi dell’art. 26 del Regolamento (UE) 2016/679',
        'va stipulato un accordo che definisca le rispettive responsabilità, in particolare per l’esercizio dei diritti degli interessati, e un punto di contatto',
      ],
    };
  }
  if (answers.decidesPurposesAlone || answers.usesDataForOwnPurposes) {
    return {
      role: 'titolare-autonomo',
      reasons: [
        answers.decidesPurposesAlone
          ? 'il fornitore determina autonomamente finalità e mezzi del trattamento (art. 4, n. 7, del Regolamento (UE) 2016/679)'
          : 'il fornitore tratta i dati anche per finalità proprie, distinte da quelle dell’ente',
        'il fornitore è titolare autonomo: non va nominato responsabile, ma il bando ne richiama gli obblighi di titolare',
      ],
    };
  }
  return {
    role: 'responsabile',
    reasons: [
      answers.actsOnlyOnInstructions
        ? 'il fornitore tratta i dati per conto dell’ente e soltanto su sue istruzioni documentate (art. 4, n. 8, e art. 28, par. 3, lett. a), del Regolamento (UE) 2016/679)'
        : 'il fornitore tratta i dati per conto dell’ente senza determinarne finalità e mezzi: agisce per conto del titolare (art. 4, n. 8, del Regolamento (UE) 2016/679)',
      'all’aggiudicazione va designato responsabile del trattamento con contratto o atto che contenga gli elementi dell’art. 28, par. 3',
    ],
  };
}

async function referenceProblems(input: Partial<TenderInput>): Promise<InvalidParam[]> {
  const problems: InvalidParam[] = [];
  if (input.rupId) {
    const rup = await Person.findById(input.rupId);
    if (!rup || rup.archived)
      problems.push({ name: 'body.rupId', reason: "persona inesistente nell'ente o archiviata" });
  }
  if (input.settoreId) {
    const settore = await Settore.findById(input.settoreId);
    if (!settore || settore.archived)
      problems.push({
        name: 'body.settoreId',
        reason: "settore inesistente nell'ente o archiviato",
      });
  }
  for (const [index, id] of (input.processingActivityIds ?? []).entries()) {
    const activity = await ProcessingActivity.findById(id);
    if (!activity || activity.archived) {
      problems.push({
        name: `body.processingActivityIds.${index}`,
        reason: "trattamento inesistente nel registro dell'ente o archiviato",
      });
    }
  }
  return problems;
}

function duplicateCig(cig: string): HttpProblem {
  return HttpProblem.conflict(`Esiste già una gara con CIG ${cig}`, {
    invalidParams: [{ name: 'body.cig', reason: 'CIG già presente nell’ente' }],
  });
}

export async function createTender(input: TenderInput, principal: Principal) {
  const problems = await referenceProblems(input);
  if (problems.length > 0) throw referenceProblem(problems);
  try {
    return await Tender.create({
      ...input,
      status: 'draft',
      transitions: [{ from: null, to: 'draft', at: new Date(), by: principal.name }],
    });
  } catch (error) {
    if (isDuplicateKey(error)) throw duplicateCig(input.cig);
    throw error;
  }
}

export async function findTender(tenderId: string) {
  const tender = await Tender.findById(tenderId);
  if (!tender) throw HttpProblem.notFound(`Gara ${tenderId} non trovata`);
  return tender;
}

function wrongState(tender: TenderDocument, action: string): HttpProblem {
  return HttpProblem.conflict(`Impossibile ${action}: la gara è nello stato "${tender.status}"`, {
    currentState: tender.status,
  });
}

/** What the call states can change only before it is published. */
export async function updateTender(tenderId: string, changes: Partial<TenderInput>) {
  const tender = await findTender(tenderId);
  if (tender.status !== 'draft') throw wrongState(tender, 'modificare la gara pubblicata');
  const problems = await referenceProblems(changes);
  if (problems.length > 0) throw referenceProblem(problems);
  tender.set(changes);
  try {
    return await tender.save();
  } catch (error) {
    if (isDuplicateKey(error) && changes.cig) throw duplicateCig(changes.cig);
    throw error;
  }
}

export async function assessRole(tenderId: string, answers: RoleAnswers, principal: Principal) {
  const tender = await findTender(tenderId);
  if (tender.status !== 'draft') throw wrongState(tender, 'rivalutare il ruolo privacy');
  const suggestion = suggestRole(answers);
  tender.set({
    privacyRole: suggestion.role,
    roleAssessment: {
      answers,
      suggestedRole: suggestion.role,
      reasons: suggestion.reasons,
      assessedAt: new Date(),
      assessedBy: principal.name,
    },
  });
  return tender.save();
}

const moves: Record<
  'publish' | 'award' | 'sign-contract' | 'close',
  { from: TenderStatus; to: TenderStatus; verb: string }
> = {
  publish: { from: 'draft', to: 'published', verb: 'pubblicare la gara' },
  award: { from: 'published', to: 'awarded', verb: 'aggiudicare la gara' },
  'sign-contract': {
    from: 'awarded',
    to: 'contract-signed',
    verb: 'registrare la firma del contratto',
  },
  close: { from: 'contract-signed', to: 'closed', verb: 'chiudere la gara' },
};

export async function moveTender(
  tenderId: string,
  action: keyof typeof moves,
  input: { supplierId?: string | undefined },
  principal: Principal,
) {
  const tender = await findTender(tenderId);
  const move = moves[action];
  if (tender.status !== move.from) throw wrongState(tender, move.verb);
  const problems: InvalidParam[] = [];
  if (action === 'publish') {
    // Seed 002 art. 7 c.5: the call states the future supplier's privacy role.
    const lotsWithoutRole = tender.lots.filter((lot) => !lot.privacyRole && !tender.privacyRole);
    if (lotsWithoutRole.length > 0) {
      problems.push({
        name: 'lots',
        reason: `indicare il ruolo privacy per i lotti ${lotsWithoutRole.map((lot) => lot.number).join(', ')}`,
      });
    } else if (tender.lots.length === 0 && !tender.privacyRole) {
      problems.push({
        name: 'privacyRole',
        reason:
          'il bando deve indicare il ruolo privacy del futuro fornitore (art. 7, comma 5, del Regolamento comunale)',
      });
    }
    const roles = tender.lots.length
      ? tender.lots.map((lot) => lot.privacyRole ?? tender.privacyRole)
      : [tender.privacyRole];
    if (
      roles.some((role) => role !== 'titolare-autonomo') &&
      tender.processingActivityIds.length === 0
    ) {
      problems.push({
        name: 'processingActivityIds',
        reason: 'indicare i trattamenti del registro che il servizio comporta',
      });
    }
  }
  if (action === 'award') {
    const supplier = input.supplierId ? await Supplier.findById(input.supplierId) : null;
    if (!supplier || supplier.archived) {
      problems.push({
        name: 'body.supplierId',
        reason: "indicare un fornitore dell'ente, non archiviato",
      });
    } else tender.awardedSupplierId = supplier._id;
  }
  if (problems.length > 0) {
    throw new HttpProblem(
      422,
      'Passaggio non ammesso',
      problems.map((problem) => problem.reason).join('; '),
      {
        invalidParams: problems,
      },
    );
  }
  tender.status = move.to;
  tender.transitions.push({ from: move.from, to: move.to, at: new Date(), by: principal.name });
  return tender.save();
}

export async function listTenders(query: {
  status?: TenderStatus | undefined;
  limit: number;
  offset: number;
}) {
  const filter = query.status ? { status: query.status } : {};
  const [items, total] = await Promise.all([
    Tender.find(filter).sort({ createdAt: -1, _id: -1 }).skip(query.offset).limit(query.limit),
    Tender.countDocuments(filter),
  ]);
  return { items, total };
}
