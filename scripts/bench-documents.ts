/**
 * Benchmark of the document pipeline on the reference decreto (nomina-designato):
 *
 *  1. in-process render rate of the PDF and the DOCX renderers, on one core;
 *  2. LibreOffice headless DOCX→PDF conversion of the same DOCX (the path
 *     Carbone and Gotenberg take), for comparison;
 *  3. full generations over HTTP (validate + render both + store in S3 + record
 *     in MongoDB) at 16 concurrent requests, against a local FerretDB and MinIO.
 *
 *   npm run bench:documents [-- --requests 2000 --concurrency 16]
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { createOrganisationWithAdmin } from '../server/access/service.js';
import { buildDocumentModel } from '../server/documents/pipeline.js';
import { renderDocx } from '../server/documents/render-docx.js';
import { renderPdf } from '../server/documents/render-pdf.js';
import { parseConfig } from '../server/platform/config.js';
import { createLogger } from '../server/platform/logger.js';
import { startFerretDb, startMinio } from '../server/platform/local-servers.js';
import { startService } from '../server/service.js';

const run = promisify(execFile);

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** User + system CPU time of another process, from /proc (Linux). */
async function processCpuMs(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100;
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const templateDir = new URL('../templates/nomina-designato/', import.meta.url);
const source = readFileSync(new URL('template.njk', templateDir), 'utf8');
const example = (
  JSON.parse(readFileSync(new URL('schema.json', templateDir), 'utf8')) as {
    examples: Record<string, unknown>[];
  }
).examples[0]!;
const context = { ente: { nome: 'Comune di Calderara di Reno', tipo: 'comune' } };

async function timeRenders(
  label: string,
  render: () => Promise<unknown>,
  iterations: number,
): Promise<number> {
  for (let i = 0; i < 20; i += 1) await render(); // warm-up
  const started = performance.now();
  for (let i = 0; i < iterations; i += 1) await render();
  const perRender = (performance.now() - started) / iterations;
  console.log(
    `${label}: ${perRender.toFixed(2)} ms per render, ${(1000 / perRender).toFixed(0)} renders/s on one core`,
  );
  return perRender;
}

async function libreOfficeConversion(docx: Buffer): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sigillo-bench-lo-'));
  try {
    const file = path.join(dir, 'decreto.docx');
    await writeFile(file, docx);
    const profile = `-env:UserInstallation=file://${dir}/profile`;
    const convert = () =>
      run('soffice', [profile, '--headless', '--convert-to', 'pdf', '--outdir', dir, file], {
        timeout: 120_000,
      });
    await convert(); // first run creates the profile
    const times: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const started = performance.now();
      await convert();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const median = times[1]!;
    console.log(
      `LibreOffice DOCX→PDF: ${median.toFixed(0)} ms per conversion (median of 3, warm profile)`,
    );
    return median;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function httpLoad(requests: number, concurrency: number): Promise<void> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'sigillo-bench-'));
  const ferretDb = await startFerretDb({
    dataDir: path.join(workDir, 'ferretdb'),
    logFile: path.join(workDir, 'ferretdb.log'),
  });
  const minio = await startMinio({
    dataDir: path.join(workDir, 'minio'),
    logFile: path.join(workDir, 'minio.log'),
    bucket: 'sigillo-bench',
  });
  const config = parseConfig({
    MONGODB_URI: ferretDb.uri,
    S3_ENDPOINT: minio.endpoint,
    S3_BUCKET: minio.bucket,
    S3_ACCESS_KEY_ID: minio.accessKeyId,
    S3_SECRET_ACCESS_KEY: minio.secretAccessKey,
    PORT: '0',
    LOG_LEVEL: 'silent',
  });
  const service = await startService(config, {
    logger: createLogger('silent'),
    announce: () => undefined,
  });
  try {
    const { token } = await createOrganisationWithAdmin({ name: 'Comune di Calderara di Reno' });
    const body = JSON.stringify({ template: 'nomina-designato', data: example });
    const generate = async () => {
      const response = await fetch(`${service.url}/api/v1/documents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      await response.arrayBuffer();
      if (response.status !== 201) throw new Error(`HTTP ${response.status}`);
    };
    for (let i = 0; i < 20; i += 1) await generate(); // warm-up
    const cpuBefore = {
      node: process.cpuUsage(),
      ferretDb: await processCpuMs(ferretDb.pid),
      minio: await processCpuMs(minio.pid),
    };
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < requests) {
          next += 1;
          const begun = performance.now();
          await generate();
          latencies.push(performance.now() - begun);
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const nodeCpu = process.cpuUsage(cpuBefore.node);
    const perGeneration = (ms: number) => (ms / requests).toFixed(1);
    const cpu = {
      node: (nodeCpu.user + nodeCpu.system) / 1000,
      ferretDb: (await processCpuMs(ferretDb.pid)) - cpuBefore.ferretDb,
      minio: (await processCpuMs(minio.pid)) - cpuBefore.minio,
    };
    latencies.sort((a, b) => a - b);
    console.log(
      `HTTP POST /api/v1/documents, ${requests} requests at ${concurrency} concurrent: ` +
        `${(requests / elapsed).toFixed(1)} generations/s, ` +
        `p50 ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(0)} ms`,
    );
    console.log(
      `CPU per generation: Sigillo (HTTP, DB and S3 clients, render threads) ${perGeneration(cpu.node)} ms, ` +
        `FerretDB ${perGeneration(cpu.ferretDb)} ms, MinIO ${perGeneration(cpu.minio)} ms ` +
        `(2 cores = 2000 ms of CPU per second)`,
    );
  } finally {
    await service.stop();
    await Promise.all([minio.stop(), ferretDb.stop()]);
    await rm(workDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const iterations = argument('iterations', 200);
  const model = buildDocumentModel(
    { key: 'nomina-designato', version: 0, source },
    example,
    context,
  );
  const pdf = await renderPdf(model);
  console.log(`Reference decreto: ${pdf.pageCount} pages`);
  await timeRenders(
    'Template + markup → model',
    () =>
      Promise.resolve(
        buildDocumentModel({ key: 'nomina-designato', version: 0, source }, example, context),
      ),
    iterations,
  );
  const pdfMs = await timeRenders('PDF render (pdf-lib)', () => renderPdf(model), iterations);
  await timeRenders('DOCX render (docx)', () => renderDocx(model), iterations);
  const loMs = await libreOfficeConversion(await renderDocx(model));
  console.log(`PDF render is ${(loMs / pdfMs).toFixed(0)}× faster than the LibreOffice conversion`);
  await httpLoad(argument('requests', 1000), argument('concurrency', 16));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
