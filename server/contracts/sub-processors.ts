/**
 * Sub-processors of a processor contract (art. 28(2),(4) GDPR; seed 002 art. 7):
 * a specific authorisation is asked and decided; under a general authorisation
 * each change is notified and the controller may object within the contract's
 * notice period, counted in calendar days in Europe/Rome, after which the change
 * stands. Every decision is answered by letter; approved sub-processors join the
 * contract's list (its Allegato III).
 */
import mongoose, { type InferSchemaType } from 'mongoose';
import type { Principal } from '../platform/auth.js';
import { HttpProblem } from '../platform/http-problem.js';
import { jsonView } from '../platform/json-view.js';
import { tenantOwnership, tenantScoped } from '../platform/tenancy.js';
import { generateDocument } from '../documents/service.js';
import { addCalendarDays, todayInRome } from '../registers/service.js';
import { Contract } from './model.js';
import { contractParties, enteSide, type ContractDependencies } from './service.js';

export const requestStatuses = [
  'pending',
  'approved',
  'refused',
  'objected',
  'accepted-by-silence',
] as const;

const subProcessorRequestSchema = new mongoose.Schema(
  {
    ...tenantOwnership,
    contractId: { type: mongoose.Schema.Types.ObjectId, ref: 'Contract', required: true },
    kind: { type: String, enum: ['specifica', 'generale'], required: true },
    subProcessor: {
      name: { type: String, required: true },
      seat: { type: String, required: true },
      vatNumber: { type: String, required: true },
      activities: { type: String, required: true },
    },
    receivedOn: { type: String, required: true },
    /** Last day the controller may object (general authorisation only). */
    objectionDeadline: { type: String, default: null },
    status: { type: String, enum: requestStatuses, required: true, default: 'pending' },
    decidedOn: { type: String, default: null },
    reason: { type: String, default: null },
    letterDocumentId: {
      type: mongoose.Schema.Types.ObjectId,
      ref: 'GeneratedDocument',
      default: null,
    },
  },
  { timestamps: true, minimize: false, toJSON: jsonView() },
);
subProcessorRequestSchema.plugin(tenantScoped);
subProcessorRequestSchema.index({ organisationId: 1, contractId: 1 });
subProcessorRequestSchema.index({ organisationId: 1, status: 1 });

export type SubProcessorRequestRecord = InferSchemaType<typeof subProcessorRequestSchema>;
export const SubProcessorRequest = mongoose.model('SubProcessorRequest', subProcessorRequestSchema);
type RequestDocument = InstanceType<typeof SubProcessorRequest>;

export async function receiveRequest(
  contractId: string,
  input: {
    subProcessor: { name: string; seat: string; vatNumber: string; activities: string };
    receivedOn?: string | undefined;
  },
) {
  const contract = await Contract.findById(contractId);
  if (!contract) throw HttpProblem.notFound(`Contratto ${contractId} non trovato`);
  if (contract.variant !== 'responsabile' || !['issued', 'signed'].includes(contract.status)) {
    throw HttpProblem.conflict(
      `I sub-responsabili riguardano un contratto ex art. 28 emesso: il contratto è ${contract.variant}, stato "${contract.status}"`,
      { currentState: contract.status },
    );
  }
  const receivedOn = input.receivedOn ?? todayInRome();
  if (receivedOn > todayInRome()) {
    throw new HttpProblem(
      422,
      'Data non valida',
      'La richiesta non può essere ricevuta in futuro',
      {
        invalidParams: [{ name: 'body.receivedOn', reason: 'data futura' }],
      },
    );
  }
  const kind = contract.subProcessorAuthorisation;
  return SubProcessorRequest.create({
    contractId: contract._id,
    kind,
    subProcessor: input.subProcessor,
    receivedOn,
    objectionDeadline:
      kind === 'generale' ? addCalendarDays(receivedOn, contract.noticeDays) : null,
  });
}

/** General-authorisation changes whose objection window has closed stand (seed 002 art. 7). */
export async function settleLapsedRequests(today = todayInRome()): Promise<number> {
  const lapsed = await SubProcessorRequest.find({
    status: 'pending',
    kind: 'generale',
    objectionDeadline: { $lt: today },
  });
  for (const request of lapsed) {
    request.set({ status: 'accepted-by-silence', decidedOn: request.objectionDeadline });
    await request.save();
    await addToContract(request);
  }
  return lapsed.length;
}

async function addToContract(request: RequestDocument) {
  const contract = await Contract.findById(request.contractId);
  if (!contract) return null;
  const sub = request.subProcessor;
  if (!sub || contract.subProcessors.some((existing) => existing.vatNumber === sub.vatNumber))
    return contract;
  contract.subProcessors.push({
    name: sub.name,
    seat: sub.seat,
    vatNumber: sub.vatNumber,
    activities: sub.activities,
  });
  return contract.save();
}

export async function decideRequest(
  requestId: string,
  decision: 'approve' | 'object',
  input: { reason?: string | undefined },
  principal: Principal,
  deps: ContractDependencies,
) {
  await settleLapsedRequests();
  const request = await SubProcessorRequest.findById(requestId);
  if (!request) throw HttpProblem.notFound(`Richiesta ${requestId} non trovata`);
  if (request.status !== 'pending') {
    throw HttpProblem.conflict(`La richiesta è già stata definita: stato "${request.status}"`, {
      currentState: request.status,
    });
  }
  const today = todayInRome();
  if (decision === 'object' && !input.reason) {
    throw new HttpProblem(
      422,
      'Motivo mancante',
      'Indicare il motivo del diniego o dell’opposizione',
      {
        invalidParams: [{ name: 'body.reason', reason: 'campo obbligatorio' }],
      },
    );
  }
  const outcome =
    decision === 'approve'
      ? request.kind === 'specifica'
        ? 'autorizzazione'
        : 'presa-d-atto'
      : request.kind === 'specifica'
        ? 'diniego'
        : 'opposizione';
  const contract = await Contract.findById(request.contractId);
  const parties = contract ? await contractParties(contract) : null;
  const { organisation, supplier, tender, representative } = parties ?? {};
  if (
    !parties ||
    !contract?.registration ||
    !supplier ||
    !tender ||
    !representative ||
    !organisation?.dpo
  ) {
    throw new HttpProblem(
      422,
      'Lettera non generabile',
      "Mancano i dati dell'ente o del contratto",
      {
        invalidParams: [{ name: 'contractId', reason: 'contratto non emesso o ente incompleto' }],
      },
    );
  }
  const sub = request.subProcessor;
  const document = await generateDocument({
    templateKey: 'lettera-sub-responsabile',
    data: {
      dataAtto: today,
      ...enteSide(organisation, representative),
      responsabile: {
        ragioneSociale: supplier.name,
        ...(supplier.pec ? { pec: supplier.pec } : {}),
      },
      contratto: {
        numero: contract.registration.number,
        data: contract.registration.date,
        oggetto: contract.subject,
        cig: tender.cig,
      },
      subResponsabile: {
        ragioneSociale: sub?.name,
        sede: sub?.seat,
        partitaIva: sub?.vatNumber,
        attivita: sub?.activities,
      },
      tipo: request.kind,
      esito: outcome,
      ...(input.reason ? { motivazione: input.reason } : {}),
      ricevutaIl: request.receivedOn,
      ...(request.objectionDeadline ? { termine: request.objectionDeadline } : {}),
      preavvisoGiorni: contract.noticeDays,
      rpd: {
        nome: organisation.dpo.name,
        contatto: organisation.dpo.pec ?? organisation.dpo.email,
      },
    },
    principal,
    storage: deps.storage,
    render: deps.render,
  });
  request.set({
    status:
      decision === 'approve' ? 'approved' : request.kind === 'specifica' ? 'refused' : 'objected',
    decidedOn: today,
    reason: input.reason ?? null,
    letterDocumentId: document._id,
  });
  await request.save();
  if (decision === 'approve') {
    const updated = await addToContract(request);
    if (updated) await writeAnnex(updated, parties, principal, deps);
  }
  return request;
}

/**
 * Allegato III as it stands today: the sub-processors authorised now, issued as
 * its own document beside the signed contract, which stays as it was signed.
 */
export async function issueSubProcessorsAnnex(
  contractId: string,
  principal: Principal,
  deps: ContractDependencies,
) {
  await settleLapsedRequests();
  const contract = await Contract.findById(contractId);
  if (!contract) throw HttpProblem.notFound(`Contratto ${contractId} non trovato`);
  if (contract.variant !== 'responsabile' || !contract.registration) {
    throw HttpProblem.conflict(
      `L'Allegato III riguarda un contratto ex art. 28 emesso: stato "${contract.status}"`,
      { currentState: contract.status },
    );
  }
  return writeAnnex(contract, await contractParties(contract), principal, deps);
}

async function writeAnnex(
  contract: InstanceType<typeof Contract>,
  parties: Awaited<ReturnType<typeof contractParties>>,
  principal: Principal,
  deps: ContractDependencies,
) {
  const { organisation, supplier, tender, representative } = parties;
  if (!contract.registration || !organisation || !supplier || !tender || !representative) {
    throw new HttpProblem(
      422,
      'Allegato non generabile',
      "Mancano i dati dell'ente o del contratto",
      {
        invalidParams: [
          { name: 'organisation.legalRepresentative', reason: "indicare chi firma per l'ente" },
        ],
      },
    );
  }
  const ente = enteSide(organisation, representative);
  const document = await generateDocument({
    templateKey: 'allegato-sub-responsabili',
    data: {
      dataAtto: todayInRome(),
      luogo: ente.luogo,
      contratto: {
        numero: contract.registration.number,
        data: contract.registration.date,
        oggetto: contract.subject,
        cig: tender.cig,
      },
      responsabile: { ragioneSociale: supplier.name, partitaIva: supplier.vatNumber },
      autorizzazione: contract.subProcessorAuthorisation,
      preavvisoGiorni: contract.noticeDays,
      subResponsabili: contract.subProcessors.map((sub) => ({
        ragioneSociale: sub.name,
        sede: sub.seat,
        partitaIva: sub.vatNumber,
        attivita: sub.activities,
      })),
      carica: ente.titolare.carica,
      firmatario: ente.titolare.rappresentante.nome,
    },
    principal,
    storage: deps.storage,
    render: deps.render,
  });
  contract.subProcessorsAnnexId = document._id;
  await contract.save();
  return contract;
}

/** What awaits a decision, the soonest deadline first, with the days left. */
export async function pendingRequests() {
  await settleLapsedRequests();
  const today = todayInRome();
  const pending = await SubProcessorRequest.find({ status: 'pending' }).sort({ receivedOn: 1 });
  return pending.map((request) => ({
    ...(request.toJSON() as Record<string, unknown>),
    daysLeft: request.objectionDeadline
      ? Math.round(
          (Date.parse(`${request.objectionDeadline}T12:00:00Z`) -
            Date.parse(`${today}T12:00:00Z`)) /
            86_400_000,
        )
      : null,
  }));
}
