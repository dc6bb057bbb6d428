import { z } from 'zod';
import { italian, objectIdSchema, type Api } from '../platform/api.js';
import { isoDateSchema, paginationQuery, totalCountDescription } from '../people/fields.js';
import { Supplier } from '../suppliers/model.js';
import { Tender } from '../tenders/model.js';
import { addCalendarDays, todayInRome } from '../registers/service.js';
import { measureCatalogue } from './measures.js';
import { Contract, contractStatuses } from './model.js';
import {
  decideRequest,
  issueSubProcessorsAnnex,
  pendingRequests,
  receiveRequest,
  requestStatuses,
} from './sub-processors.js';
import {
  draftContract,
  findContract,
  issueContract,
  signContract,
  updateContract,
  type ContractDependencies,
} from './service.js';

const allRoles = ['admin', 'segreteria', 'procurement', 'legal', 'dpo'] as const;
const writers = ['admin', 'procurement', 'dpo'] as const;
const text = (max: number) =>
  z.string(italian).trim().min(1, 'non può essere vuoto').max(max, `al massimo ${max} caratteri`);
const textList = (max: number, items = 100) => z.array(text(max), italian).max(items);

const changesSchema = z
  .object({
    startDate: isoDateSchema.nullable().optional(),
    endDate: isoDateSchema.nullable().optional(),
    processing: z
      .object({
        natureAndPurpose: text(2000).nullable().optional(),
        dataTypes: textList(300).optional(),
        specialCategories: z.boolean(italian).optional(),
        dataSubjectCategories: textList(300).optional(),
        operations: textList(100).optional(),
        location: text(300).nullable().optional(),
      })
      .strict()
      .optional(),
    measures: z
      .array(z.object({ area: text(200), description: text(2000) }).strict(), italian)
      .max(200)
      .optional()
      .openapi({
        description: 'Allegato II: misure tecniche e organizzative, descritte in concreto',
      }),
    measureCodes: z
      .array(z.string(italian).regex(/^[A-Z]{3}-[0-9]{2}$/, 'codice di misura non valido'), italian)
      .max(100)
      .optional()
      .openapi({ description: 'Misure scelte dal catalogo (GET /api/v1/security-measures)' }),
    subProcessors: z
      .array(
        z
          .object({
            name: text(300),
            seat: text(300),
            vatNumber: z.string(italian).regex(/^[0-9]{11}$/, 'partita IVA: 11 cifre'),
            activities: text(1000),
          })
          .strict(),
        italian,
      )
      .max(100)
      .optional(),
    subProcessorAuthorisation: z.enum(['specifica', 'generale'], italian).optional(),
    breachNoticeHours: z
      .number(italian)
      .int()
      .min(1)
      .max(48, 'al più 48 ore (art. 7 del Regolamento comunale)')
      .optional(),
    jointAgreement: z
      .object({
        purposes: textList(500).optional(),
        responsibilities: z
          .array(z.object({ party: text(300), tasks: textList(1000).min(1) }).strict(), italian)
          .max(20)
          .optional(),
        contactPoint: z
          .object({ description: text(300), contact: text(300) })
          .strict()
          .optional(),
        availability: text(2000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .openapi('ContractChanges');

const contractSchema = z
  .object({
    id: z.string(),
    variant: z.enum(['responsabile', 'contitolare']),
    status: z.enum(contractStatuses),
    tenderId: z.string(),
    supplierId: z.string(),
    documentId: z.string().nullable(),
  })
  .passthrough()
  .openapi('Contract');

const contractIdParams = z.object({ contractId: objectIdSchema });
const conflict = { description: 'Passaggio non ammesso: currentState indica lo stato' };

const subProcessorSchema = z
  .object({
    name: text(300),
    seat: text(300),
    vatNumber: z.string(italian).regex(/^[0-9]{11}$/, 'partita IVA: 11 cifre'),
    activities: text(1000),
  })
  .strict();

const requestSchema = z
  .object({
    id: z.string(),
    contractId: z.string(),
    kind: z.enum(['specifica', 'generale']),
    status: z.enum(requestStatuses),
    receivedOn: z.string(),
    objectionDeadline: z.string().nullable(),
    letterDocumentId: z.string().nullable(),
  })
  .passthrough()
  .openapi('SubProcessorRequest');

export function registerContractRoutes(api: Api, deps: ContractDependencies): void {
  api.route({
    method: 'get',
    path: '/api/v1/security-measures',
    summary: 'Il catalogo delle misure tecniche e organizzative per l’Allegato II dei contratti',
    tags: ['Contratti'],
    access: allRoles,
    responses: {
      200: {
        description: 'Misure',
        schema: z.array(z.object({ code: z.string(), area: z.string(), description: z.string() })),
      },
    },
    handler: async (_input, _request, response) => {
      response.json(await measureCatalogue());
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/contracts/:contractId/sub-processor-requests',
    summary:
      "Registra la richiesta (autorizzazione specifica) o la comunicazione di modifica (autorizzazione generale: si apre il termine per l'opposizione) di un sub-responsabile",
    tags: ['Contratti'],
    access: writers,
    params: contractIdParams,
    body: z
      .object({ subProcessor: subProcessorSchema, receivedOn: isoDateSchema.optional() })
      .strict()
      .openapi('NewSubProcessorRequest'),
    responses: {
      201: { description: 'Richiesta registrata', schema: requestSchema },
      409: conflict,
    },
    handler: async ({ params, body }, _request, response) => {
      response.status(201).json(await receiveRequest(params.contractId, body));
    },
  });

  for (const decision of ['approve', 'object'] as const) {
    api.route({
      method: 'post',
      path: `/api/v1/sub-processor-requests/:requestId/${decision}`,
      summary:
        decision === 'approve'
          ? 'Autorizza il sub-responsabile (o prende atto della modifica), con lettera; entra nell’Allegato III'
          : 'Nega l’autorizzazione o si oppone alla modifica entro il termine, con lettera motivata',
      tags: ['Contratti'],
      access: writers,
      params: z.object({ requestId: objectIdSchema }),
      body: z.object({ reason: text(2000).optional() }).strict(),
      responses: {
        200: { description: 'Decisione registrata', schema: requestSchema },
        409: { description: 'Già definita, o termine per l’opposizione scaduto' },
        422: { description: 'Motivo mancante' },
      },
      handler: async ({ params, body, principal }, _request, response) => {
        response.json(await decideRequest(params.requestId, decision, body, principal, deps));
      },
    });
  }

  api.route({
    method: 'post',
    path: '/api/v1/contracts/:contractId/sub-processors-annex',
    summary:
      "Genera l'Allegato III aggiornato: i sub-responsabili autorizzati oggi (anche quelli accettati per silenzio)",
    tags: ['Contratti'],
    access: writers,
    params: contractIdParams,
    responses: {
      201: { description: 'Contratto con subProcessorsAnnexId aggiornato', schema: contractSchema },
      409: conflict,
    },
    handler: async ({ params, principal }, _request, response) => {
      response.status(201).json(await issueSubProcessorsAnnex(params.contractId, principal, deps));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/contract-views/sub-processor-requests',
    summary:
      'Richieste e modifiche dei sub-responsabili in attesa di decisione, con i giorni rimasti',
    tags: ['Contratti'],
    access: allRoles,
    responses: { 200: { description: 'In attesa', schema: z.array(requestSchema) } },
    handler: async (_input, _request, response) => {
      response.json(await pendingRequests());
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/tenders/:tenderId/contract',
    summary:
      "All'aggiudicazione prepara il contratto ex art. 28 o l'accordo di contitolarità, precompilato da gara e registro",
    tags: ['Contratti'],
    access: writers,
    params: z.object({ tenderId: objectIdSchema }),
    body: changesSchema,
    responses: {
      201: { description: 'Bozza di contratto', schema: contractSchema },
      409: conflict,
      422: { description: 'Fornitore titolare autonomo: nessun atto' },
    },
    handler: async ({ params, body, principal }, _request, response) => {
      const contract = await draftContract(params.tenderId, body, principal);
      response.status(201).location(`/api/v1/contracts/${contract.id}`).json(contract);
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/contracts',
    summary: 'Contratti e accordi privacy',
    tags: ['Contratti'],
    access: allRoles,
    query: z.object({ status: z.enum(contractStatuses).optional(), ...paginationQuery }),
    responses: {
      200: { description: `Contratti. ${totalCountDescription}`, schema: z.array(contractSchema) },
    },
    handler: async ({ query }, _request, response) => {
      const filter = query.status ? { status: query.status } : {};
      const [items, total] = await Promise.all([
        Contract.find(filter)
          .sort({ createdAt: -1, _id: -1 })
          .skip(query.offset)
          .limit(query.limit),
        Contract.countDocuments(filter),
      ]);
      response.setHeader('X-Total-Count', String(total)).json(items);
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/contracts/:contractId',
    summary: 'Un contratto',
    tags: ['Contratti'],
    access: allRoles,
    params: contractIdParams,
    responses: { 200: { description: 'Contratto', schema: contractSchema } },
    handler: async ({ params }, _request, response) => {
      response.json(await findContract(params.contractId));
    },
  });

  api.route({
    method: 'patch',
    path: '/api/v1/contracts/:contractId',
    summary: 'Completa una bozza di contratto',
    tags: ['Contratti'],
    access: writers,
    params: contractIdParams,
    body: changesSchema,
    responses: { 200: { description: 'Bozza aggiornata', schema: contractSchema }, 409: conflict },
    handler: async ({ params, body }, _request, response) => {
      response.json(await updateContract(params.contractId, body));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/contracts/:contractId/issue',
    summary:
      'Emette il contratto: rifiutato (422) finché manca un elemento obbligatorio, tutti elencati; numerato nel suo registro',
    tags: ['Contratti'],
    access: writers,
    params: contractIdParams,
    responses: {
      200: { description: 'Contratto emesso', schema: contractSchema },
      409: conflict,
      422: { description: 'Contratto incompleto: invalidParams elenca ogni elemento mancante' },
    },
    handler: async ({ params, principal }, _request, response) => {
      response.json(await issueContract(params.contractId, principal, deps));
    },
  });

  api.route({
    method: 'post',
    path: '/api/v1/contracts/:contractId/sign',
    summary: 'Registra la firma del contratto (e la gara passa a «contratto firmato»)',
    tags: ['Contratti'],
    access: writers,
    params: contractIdParams,
    responses: { 200: { description: 'Contratto firmato', schema: contractSchema }, 409: conflict },
    handler: async ({ params, principal }, _request, response) => {
      response.json(await signContract(params.contractId, principal));
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/contract-views/unbound-suppliers',
    summary:
      'Fornitori aggiudicatari che trattano dati come responsabili o contitolari senza un atto firmato',
    tags: ['Contratti'],
    access: allRoles,
    responses: {
      200: {
        description: 'Fornitori e gare',
        schema: z.array(
          z.object({
            supplierId: z.string(),
            supplier: z.string(),
            tenderId: z.string(),
            cig: z.string(),
          }),
        ),
      },
    },
    handler: async (_input, _request, response) => {
      const tenders = await Tender.find({
        status: 'awarded',
        privacyRole: { $in: ['responsabile', 'contitolare'] },
      });
      const signed = await Contract.find({ status: 'signed' }).select({ tenderId: 1 }).lean();
      const bound = new Set(signed.map((contract) => contract.tenderId.toString()));
      const open = tenders.filter((tender) => tender.awardedSupplierId && !bound.has(tender.id));
      const suppliers = await Supplier.find({
        _id: { $in: open.map((tender) => tender.awardedSupplierId) },
      });
      const names = new Map(suppliers.map((supplier) => [supplier.id, supplier.name]));
      response.json(
        open.map((tender) => ({
          supplierId: tender.awardedSupplierId?.toString() ?? '',
          supplier: names.get(tender.awardedSupplierId?.toString() ?? '') ?? '',
          tenderId: tender.id,
          cig: tender.cig,
        })),
      );
    },
  });

  api.route({
    method: 'get',
    path: '/api/v1/contract-views/expiring',
    summary: 'Contratti firmati che scadono nei prossimi N giorni',
    tags: ['Contratti'],
    access: allRoles,
    query: z.object({ days: z.coerce.number().int().min(0).max(3650).default(60) }),
    responses: { 200: { description: 'Contratti in scadenza', schema: z.array(contractSchema) } },
    handler: async ({ query }, _request, response) => {
      const today = todayInRome();
      response.json(
        await Contract.find({
          status: { $in: ['issued', 'signed'] },
          endDate: { $gte: today, $lte: addCalendarDays(today, query.days) },
        }).sort({ endDate: 1 }),
      );
    },
  });
}
