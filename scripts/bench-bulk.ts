/**
 * Benchmark of a bulk issue of autorizzazioni (issue 5): N acts, each numbered,
 * rendered to PDF and DOCX, stored in S3 and recorded, then one ZIP and one
 * merged PDF — end to end through the HTTP API, with the service, FerretDB and
 * MinIO on this machine. Run it pinned to two cores to match the target:
 *
 *   taskset -c 0,1 npm run bench:bulk [-- --acts 1000]
 *
 * Reports the time from the request to the completed job, acts/s, and the peak
 * RSS of the service (which runs the job) and of FerretDB and MinIO.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createOrganisationWithAdmin } from '../server/access/service.js';
import { Person } from '../server/people/model.js';
import { parseConfig } from '../server/platform/config.js';
import { createLogger } from '../server/platform/logger.js';
import { startFerretDb, startMinio } from '../server/platform/local-servers.js';
import { runInTenant } from '../server/platform/tenancy.js';
import { startService } from '../server/service.js';
import { CodiceFiscale } from '../server/people/italian-codes.js';

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** User + system CPU time of a process, from /proc (Linux), in seconds. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak resident set size of a process so far (VmHWM), in MB. */
async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

const acts = argument('acts', 1000);
const work = await mkdtemp(path.join(tmpdir(), 'sigillo-bench-bulk-'));
const cores = (await readFile('/proc/self/status', 'utf8')).match(/Cpus_allowed_list:\s+(.+)/)?.[1];
console.log(`bulk of ${acts} autorizzazioni; CPUs allowed: ${cores ?? '?'}`);

const ferretDb = await startFerretDb({
  dataDir: path.join(work, 'ferretdb'),
  logFile: path.join(work, 'ferretdb.log'),
});
const minio = await startMinio({
  dataDir: path.join(work, 'minio'),
  logFile: path.join(work, 'minio.log'),
  bucket: 'sigillo-bench',
  versioning: true,
});
const config = parseConfig({
  MONGODB_URI: ferretDb.uri,
  MONGODB_DATABASE: 'sigillo_bench',
  S3_ENDPOINT: minio.endpoint,
  S3_BUCKET: minio.bucket,
  S3_REGION: minio.region,
  S3_ACCESS_KEY_ID: minio.accessKeyId,
  S3_SECRET_ACCESS_KEY: minio.secretAccessKey,
  PORT: '0',
  LOG_LEVEL: 'warn',
  JOBS_POLL_MS: '200',
});
const service = await startService(config, {
  logger: createLogger(process.env.BENCH_LOG_LEVEL ?? 'warn'),
  announce: () => {},
});

async function api<T>(method: string, pathname: string, token: string, json?: unknown) {
  const response = await fetch(`${service.url}${pathname}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const body = (await response.json()) as T;
  if (response.status >= 300) {
    throw new Error(`${method} ${pathname}: ${response.status} ${JSON.stringify(body)}`);
  }
  return body;
}

try {
  // Setup, not timed: an ente with its Sindaco, DPO, a settore, its Designato and N employees.
  const { organisation, token } = await createOrganisationWithAdmin({
    name: 'Comune di Calderara di Reno',
  });
  const person = (firstName: string, lastName: string, day: number, extra = {}) => ({
    firstName,
    lastName,
    gender: 'M' as const,
    taxCode: CodiceFiscale.compute({
      name: firstName,
      surname: lastName,
      gender: 'M',
      day: (day % 28) + 1,
      month: (Math.floor(day / 28) % 12) + 1,
      year: 1960 + Math.floor(day / 336),
      birthplace: 'Bologna',
      birthplaceProvincia: 'BO',
    }),
    ...extra,
  });
  const sindaco = await api<{ id: string }>(
    'POST',
    '/api/v1/people',
    token,
    person('Giampiero', 'Falzone', 0),
  );
  const manager = await api<{ id: string }>(
    'POST',
    '/api/v1/people',
    token,
    person('Mario', 'Rossi', 1, { title: 'dott' }),
  );
  await api('PATCH', '/api/v1/organisation', token, {
    address: {
      street: 'Piazza Marconi 7',
      cap: '40012',
      city: 'Calderara di Reno',
      province: 'BO',
    },
    legalRepresentative: { personId: sindaco.id, role: 'Sindaco pro tempore' },
    dpo: { kind: 'firm', name: 'Lepida S.c.p.A.', email: 'dpo-team@lepida.it' },
    regolamentoKey: 'calderara-di-reno-2020',
  });
  const settore = await api<{ id: string }>('POST', '/api/v1/settori', token, {
    name: 'Settore Servizi Demografici',
    managerId: manager.id,
  });
  await api('POST', '/api/v1/processing-activities', token, {
    name: 'Tenuta dell’anagrafe della popolazione residente',
    purposes: ['Tenuta dei registri anagrafici'],
    legalBasis: ['art6.1.c', 'art6.1.e'],
    retention: 'Illimitata (registri anagrafici)',
    dataSubjectCategories: ['Residenti'],
    personalDataCategories: [{ name: 'Dati anagrafici' }],
    settoreId: settore.id,
    databases: [{ name: 'ANPR', kind: 'informatico' }],
  });
  const employees = Array.from({ length: acts }, (_, index) => {
    const fields = person(`Impiegato`, `Numero${index}`, index + 2, {
      role: 'Istruttore amministrativo',
    });
    return {
      ...fields,
      organisationId: organisation._id,
      settoreId: settore.id,
      kind: 'employee',
      searchName: `numero${index} impiegato`,
    };
  });
  await runInTenant(organisation._id, () => Person.insertMany(employees));
  const designato = await api<{ id: string }>('POST', '/api/v1/appointments', token, {
    role: 'designato',
    personId: manager.id,
    settoreIds: [settore.id],
  });
  await api('POST', `/api/v1/appointments/${designato.id}/issue`, token);

  const cpuBefore = await Promise.all([process.pid, ferretDb.pid, minio.pid].map(cpuSeconds));
  const started = performance.now();
  const bulk = await api<{ id: string; total: number }>(
    'POST',
    '/api/v1/appointment-bulks',
    token,
    { settoreId: settore.id },
  );
  let status: {
    status: string;
    done: number;
    total: number;
    zip: { size: number } | null;
    pdf: { size: number } | null;
  };
  let lastPrint = 0;
  for (;;) {
    status = await api('GET', `/api/v1/appointment-bulks/${bulk.id}`, token);
    if (status.status === 'completed' || status.status === 'failed') break;
    if (performance.now() - lastPrint > 5000) {
      lastPrint = performance.now();
      console.log(
        `  … ${status.done}/${status.total} after ${((lastPrint - started) / 1000).toFixed(1)} s`,
      );
    }
    await sleep(500);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = await Promise.all([process.pid, ferretDb.pid, minio.pid].map(cpuSeconds));
  const [sigillo, ferret, minioCpu] = cpuAfter.map(
    (after, index) => after - (cpuBefore[index] ?? 0),
  );
  console.log(
    `CPU during the bulk: Sigillo ${sigillo?.toFixed(1)} s, FerretDB ${ferret?.toFixed(1)} s, MinIO ${minioCpu?.toFixed(1)} s`,
  );
  console.log(`status: ${status.status}, ${status.done}/${status.total} acts`);
  console.log(`end to end: ${seconds.toFixed(1)} s, ${(status.done / seconds).toFixed(1)} acts/s`);
  console.log(
    `results: ZIP ${((status.zip?.size ?? 0) / 1e6).toFixed(1)} MB, merged PDF ${((status.pdf?.size ?? 0) / 1e6).toFixed(1)} MB`,
  );
  console.log(
    `peak RSS: service ${(await peakRssMb(process.pid)).toFixed(0)} MB, FerretDB ${(await peakRssMb(ferretDb.pid)).toFixed(0)} MB, MinIO ${(await peakRssMb(minio.pid)).toFixed(0)} MB`,
  );
} finally {
  await service.stop();
  await Promise.all([minio.stop(), ferretDb.stop()]);
  await rm(work, { recursive: true, force: true });
}
