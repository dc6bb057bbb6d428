/**
 * An ente ready for appointments: profile with Sindaco and DPO, a settore with
 * its manager, the settore's processing activities, and some employees.
 */
import { call, newTenant } from '../support/http.js';
import { createPerson } from '../support/registry.js';
import { socialServicesActivity } from '../processing/support.js';

export interface AppointmentJson {
  id: string;
  role: string;
  status: string;
  personId: string | null;
  supplierId: string | null;
  appointeeName: string;
  authority: { kind: string; appointmentId: string | null };
  settoreIds: string[];
  processingActivityIds: string[];
  databases: string[];
  instructions: string[];
  startDate: string | null;
  endDate: string | null;
  supersedesId: string | null;
  supersededById: string | null;
  acts: {
    kind: 'nomina' | 'revoca';
    documentId: string | null;
    registerKey: string;
    year: number;
    number: number;
    date: string;
  }[];
  transitions: { from: string | null; to: string; at: string; by: { name: string } }[];
}

export interface Problem {
  status: number;
  detail: string;
  currentState?: string;
  invalidParams?: { name: string; reason: string }[];
}

export interface Ente {
  token: string;
  organisationId: string;
  sindaco: { id: string };
  settoreId: string;
  manager: { id: string };
  activityId: string;
  employees: { id: string }[];
}

export async function expectOk<T>(
  response: Promise<{ status: number; body: T }>,
  status = 200,
): Promise<T> {
  const result = await response;
  if (result.status !== status) {
    throw new Error(`expected ${status}, got ${result.status}: ${JSON.stringify(result.body)}`);
  }
  return result.body;
}

export async function readyEnte(
  options: { employees?: number; name?: string } = {},
): Promise<Ente> {
  const tenant = await newTenant(options.name ?? 'Comune di Calderara di Reno');
  const token = tenant.token;
  const sindaco = await createPerson(token, 'Giampiero', 'Falzone', { role: 'Sindaco' });
  await expectOk(
    call('PATCH', '/api/v1/organisation', {
      token,
      json: {
        address: {
          street: 'Piazza Marconi 7',
          cap: '40012',
          city: 'Calderara di Reno',
          province: 'BO',
        },
        legalRepresentative: { personId: sindaco.id, role: 'Sindaco pro tempore' },
        dpo: { kind: 'firm', name: 'Lepida S.c.p.A.', email: 'dpo-team@lepida.it' },
        regolamentoKey: 'calderara-di-reno-2020',
      },
    }),
  );
  const manager = await createPerson(
    token,
    'Maria',
    'Rossi',
    { title: 'dott', role: 'Responsabile del Settore Servizi alla Persona' },
    'F',
  );
  const settore = await expectOk(
    call<{ id: string }>('POST', '/api/v1/settori', {
      token,
      json: { name: 'Settore Servizi alla Persona', managerId: manager.id },
    }),
    201,
  );
  await expectOk(
    call('PATCH', `/api/v1/people/${manager.id}`, { token, json: { settoreId: settore.id } }),
  );
  const activity = await expectOk(
    call<{ id: string }>('POST', '/api/v1/processing-activities', {
      token,
      json: socialServicesActivity({ settoreId: settore.id }),
    }),
    201,
  );
  const employees: { id: string }[] = [];
  for (let index = 0; index < (options.employees ?? 2); index += 1) {
    employees.push(
      await createPerson(
        token,
        `Impiegato${String.fromCharCode(65 + (index % 26))}`,
        `Numero${index}`,
        {
          role: 'Istruttore amministrativo',
          settoreId: settore.id,
        },
      ),
    );
  }
  return {
    token,
    organisationId: tenant.organisation.id,
    sindaco,
    settoreId: settore.id,
    manager,
    activityId: activity.id,
    employees,
  };
}

export function issue(ente: Ente, appointmentId: string) {
  return call<AppointmentJson & Problem>('POST', `/api/v1/appointments/${appointmentId}/issue`, {
    token: ente.token,
  });
}

export async function issuedDesignato(ente: Ente): Promise<AppointmentJson> {
  const draft = await expectOk(
    call<AppointmentJson>('POST', '/api/v1/appointments', {
      token: ente.token,
      json: { role: 'designato', personId: ente.manager.id, settoreIds: [ente.settoreId] },
    }),
    201,
  );
  return expectOk(issue(ente, draft.id));
}
