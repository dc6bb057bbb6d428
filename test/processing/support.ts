import type { Role } from '../../server/platform/auth.js';
import { testEnvironment } from '../support/environment.js';
import { call } from '../support/http.js';

let users = 0;

/** The token of a new user of the admin's ente holding exactly these roles. */
export async function tokenWithRoles(adminToken: string, roles: Role[]): Promise<string> {
  users += 1;
  const user = await call<{ id: string }>('POST', '/api/v1/admin/users', {
    token: adminToken,
    json: { name: `Utente ${roles.join(' ')}`, email: `trattamenti${users}@ente.example`, roles },
  });
  if (user.status !== 201) throw new Error(`user not created: ${JSON.stringify(user.body)}`);
  const issued = await call<{ token: string }>(
    'POST',
    `/api/v1/admin/users/${user.body.id}/tokens`,
    { token: adminToken, json: { label: 'test' } },
  );
  return issued.body.token;
}

export interface ActivityBody {
  id: string;
  organisationId: string;
  name: string;
  code: string | null;
  purposes: string[];
  legalBasis: string[];
  controllerRole: string;
  personalDataCategories: { name: string; special: string }[];
  hasSpecialData: boolean;
  hasJudicialData: boolean;
  transfersOutsideEU: { present: boolean; countries: string[]; safeguards: string | null };
  retention: string;
  settoreId: string | null;
  databases: { name: string; kind: string; notes: string | null }[];
  dpiaRequired: string;
  archived: boolean;
  archivedAt: string | null;
  createdBy: { userId: string; name: string };
  updatedBy: { userId: string; name: string };
  origin: { source: string; importId: string | null; row: number | null };
}

export interface ProblemBody {
  status: number;
  detail: string;
  invalidParams: { name: string; reason: string }[];
}

export interface ImportReportBody {
  stored: boolean;
  created: number;
  updated: number;
  rows: {
    row: number;
    status: string;
    id?: string;
    code: string | null;
    errors: { column: string | null; reason: string }[];
  }[];
}

/** A complete, valid entry: the servizi sociali of a comune, with health data. */
export function socialServicesActivity(overrides: Record<string, unknown> = {}) {
  return {
    name: 'Servizi sociali',
    code: 'T05',
    purposes: ['Erogazione di contributi economici', 'Assistenza domiciliare'],
    legalBasis: ['art6.1.e', 'art9.2.g', 'art9.2.h'],
    dataSubjectCategories: ['Richiedenti e beneficiari delle prestazioni', 'Minori'],
    personalDataCategories: [
      { name: 'Dati anagrafici' },
      { name: 'Situazione economica e ISEE', special: 'none' },
      { name: 'Dati relativi alla salute', special: 'art9' },
    ],
    recipients: ['Azienda USL', 'INPS'],
    retention: '10 anni dalla chiusura della cartella sociale',
    securityMeasures: ['Fascicoli in armadi chiusi a chiave', 'Accesso per ruolo'],
    databases: [
      { name: 'Cartella sociale informatizzata', kind: 'informatico' },
      { name: 'Fascicoli degli utenti', kind: 'cartaceo', notes: 'Ufficio servizi sociali' },
    ],
    processors: ['Cooperativa sociale Il Ponte'],
    dpiaRequired: 'si',
    ...overrides,
  };
}

export async function uploadCsv(
  token: string,
  content: string | Buffer,
  options: { fileName?: string; dryRun?: boolean } = {},
) {
  const form = new FormData();
  if (options.dryRun !== undefined) form.append('dryRun', String(options.dryRun));
  form.append(
    'file',
    new Blob([typeof content === 'string' ? content : new Uint8Array(content)]),
    options.fileName ?? 'registro.csv',
  );
  const response = await fetch(
    `${testEnvironment().service.url}/api/v1/processing-activities/import`,
    { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form },
  );
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body: (text ? JSON.parse(text) : undefined) as unknown,
  };
}
