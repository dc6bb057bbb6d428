/**
 * Helpers for the breach tests: an ente with the profile the notices print,
 * a complete breach record and the decision steps.
 */
import { expectOk, readyEnte, type Ente } from '../appointments/support.js';
import { testEnvironment } from '../support/environment.js';
import { call } from '../support/http.js';

export interface BreachJson {
  id: string;
  status: string;
  awareAt: string;
  awareAtLocal: string;
  register: { year: number; number: number };
  clock: {
    deadline: string;
    deadlineLocal: string;
    hoursLeft: number;
    overdue: boolean;
    notificationDue: boolean;
  };
  processorLate: boolean | null;
  documents: { kind: string; notificationType: string | null; documentId: string }[];
  notifications: { type: string; sentAt: string; protocollo: string | null; late: boolean }[];
  documentsAllowed: Record<string, { allowed: boolean; reason: string | null }>;
  transitions: { from: string | null; to: string; at: string; by: string }[];
}

export interface ProblemJson {
  status: number;
  detail: string;
  currentState?: string;
  invalidParams?: { name: string; reason: string }[];
}

export async function breachEnte(): Promise<Ente> {
  const ente = await readyEnte({ employees: 0 });
  await expectOk(
    call('PATCH', '/api/v1/organisation', {
      token: ente.token,
      json: {
        taxCode: '00543170377',
        pec: 'comune.calderara@cert.provincia.bo.it',
        email: 'protocollo@comune.calderaradireno.bo.it',
      },
    }),
  );
  return ente;
}

export function breachInput(ente: Ente, overrides: Record<string, unknown> = {}) {
  return {
    title: 'Furto di un computer portatile dei Servizi sociali',
    occurred: { start: '2026-05-03T18:00', end: '2026-05-04T07:30' },
    awareAt: '2026-05-04T08:15',
    awarenessMeans: 'Segnalazione telefonica dell’assistente sociale all’Ufficio protocollo',
    reportedBy: { kind: 'dipendente', name: 'Maria Rossi' },
    description:
      'Dall’auto di servizio è stato sottratto un computer portatile con copia locale della cartella sociale.',
    howItHappened: 'Furto con effrazione dell’auto di servizio parcheggiata in via Roma.',
    natures: ['riservatezza', 'disponibilita'],
    dataSubjects: { categories: ['Utenti dei servizi sociali'], approxCount: 212 },
    records: { categories: ['Cartelle sociali'], approxCount: 1634 },
    dataCategories: ['Dati anagrafici', 'Dati sulla salute'],
    specialCategories: true,
    judicialData: false,
    recipients: ['Autore del furto (ignoto)'],
    systems: ['Computer portatile PC-SOC-07', 'Applicativo Cartella sociale'],
    paperArchives: [],
    securityMeasures: ['Password di accesso al sistema operativo'],
    encrypted: false,
    likelyConsequences: ['Divulgazione di informazioni sulla salute di utenti vulnerabili'],
    measuresTaken: [
      'Revoca delle credenziali memorizzate sul portatile',
      'Denuncia ai Carabinieri',
    ],
    measuresProposed: ['Cifratura del disco di tutti i portatili'],
    settoreId: ente.settoreId,
    ...overrides,
  };
}

export async function createBreach(ente: Ente, overrides: Record<string, unknown> = {}) {
  return expectOk(
    call<BreachJson>('POST', '/api/v1/breaches', {
      token: ente.token,
      json: breachInput(ente, overrides),
    }),
    201,
  );
}

/** Designato's report, DPO's opinion and the Titolare's assessment. */
export async function decide(
  ente: Ente,
  breachId: string,
  assessment: Record<string, unknown>,
): Promise<BreachJson> {
  const path = `/api/v1/breaches/${breachId}`;
  await expectOk(
    call('POST', `${path}/designato-report`, {
      token: ente.token,
      json: { text: 'Il portatile conteneva la copia locale di 212 cartelle sociali.' },
    }),
  );
  await expectOk(
    call('POST', `${path}/dpo-opinion`, {
      token: ente.token,
      json: {
        assessment: assessment.outcome,
        reasons: 'Valutazione dell’RPD sulla gravità della violazione.',
        ...(assessment.exemption ? { exemption: assessment.exemption } : {}),
      },
    }),
  );
  return expectOk(
    call<BreachJson>('POST', `${path}/assessment`, { token: ente.token, json: assessment }),
  );
}

export { download } from '../support/http.js';

export async function upload(
  token: string,
  breachId: string,
  content: Uint8Array,
  fileName: string,
) {
  const form = new FormData();
  form.append('file', new Blob([content]), fileName);
  const response = await fetch(
    `${testEnvironment().service.url}/api/v1/breaches/${breachId}/evidence`,
    { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form },
  );
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> & ProblemJson,
  };
}
