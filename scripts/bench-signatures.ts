/**
 * Benchmark of PAdES signing (signPdf) on the reference decreto
 * (nomina-designato, rendered as the service renders it), with the development
 * PKI made in a temp folder:
 *
 *  1. signatures per second on one core, sequentially, for each key back-end:
 *     PKCS#12 RSA 2048 and EC P-256, SoftHSM2 RSA and EC (PKCS#11);
 *  2. the PKCS#12 RSA key on two worker threads (two cores), the deployment target.
 *
 *   tsx scripts/bench-signatures.ts [--signatures 2000] [--workers 2]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { buildDocumentModel } from '../server/documents/pipeline.js';
import { renderPdf } from '../server/documents/render-pdf.js';
import { KeyRing, loadKeyConfiguration } from '../server/signatures/keys/index.js';
import { signPdf, type SignPdfOptions } from '../server/signatures/pades.js';
import { ensureDevPki, type DevPki } from '../server/signatures/dev-pki.js';

const SEAL_KEY = 'ente-seal';
const KEYS: { id: string; label: string }[] = [
  { id: SEAL_KEY, label: 'PKCS#12 RSA 2048' },
  { id: 'funzionario-ec', label: 'PKCS#12 EC P-256' },
  { id: 'sindaco-hsm', label: 'SoftHSM2 RSA (PKCS#11)' },
  { id: 'designato-hsm', label: 'SoftHSM2 EC (PKCS#11)' },
];
const WARM_UP = 50;

interface SignatureBox {
  page: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

interface WorkerInput {
  pki: DevPki;
  pdf: Uint8Array;
  area: SignatureBox;
  signatures: number;
}

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** The reference decreto as the service renders it, and its first signature box. */
async function typicalAct() {
  const templateDir = new URL('../templates/nomina-designato/', import.meta.url);
  const source = readFileSync(new URL('template.njk', templateDir), 'utf8');
  const example = (
    JSON.parse(readFileSync(new URL('schema.json', templateDir), 'utf8')) as {
      examples: Record<string, unknown>[];
    }
  ).examples[0]!;
  const model = buildDocumentModel({ key: 'nomina-designato', version: 1, source }, example, {
    ente: { nome: 'Comune di Calderara di Reno', tipo: 'comune' },
  });
  const rendered = await renderPdf(model);
  const area = rendered.signatureAreas[0];
  if (!area) throw new Error('the reference decreto has no signature box');
  return { pdf: rendered.bytes, pageCount: rendered.pageCount, area };
}

function keyRingFor(pki: DevPki): KeyRing {
  return new KeyRing(loadKeyConfiguration(pki.keysFile), {
    ...process.env,
    ...pki.secrets,
  });
}

function signingOptions(signer: SignPdfOptions['signer'], area: SignatureBox): SignPdfOptions {
  return {
    signer,
    fieldName: 'sindaco',
    signingTime: new Date('2026-11-25T13:03:00Z'),
    reason: 'Il Sindaco – Decreto di designazione',
    location: 'Calderara di Reno',
    appearance: { ...area, name: 'Giovanni Bianchi', role: 'Il Sindaco' },
  };
}

async function signMany(pdf: Uint8Array, options: SignPdfOptions, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i += 1) await signPdf(pdf, options);
  return performance.now() - started;
}

async function benchWorker(): Promise<void> {
  const { pki, pdf, area, signatures } = workerData as WorkerInput;
  const keyRing = keyRingFor(pki);
  try {
    const options = signingOptions(await keyRing.signer(SEAL_KEY), area);
    await signMany(pdf, options, WARM_UP);
    parentPort!.postMessage('ready');
    await new Promise((resolve) => parentPort!.once('message', resolve));
    await signMany(pdf, options, signatures);
    parentPort!.postMessage('done');
  } finally {
    await keyRing.close();
  }
}

async function onWorkers(input: WorkerInput, workers: number): Promise<number> {
  const perWorker = Math.ceil(input.signatures / workers);
  const threads = Array.from(
    { length: workers },
    () =>
      // tsx hooks the main thread only (and Node 20 workers ignore --import):
      // each worker imports this file through tsx's API instead.
      new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ tsImport }) =>
          tsImport(${JSON.stringify(import.meta.url)}, ${JSON.stringify(import.meta.url)}))`,
        { eval: true, workerData: { ...input, signatures: perWorker } },
      ),
  );
  const nextMessage = (worker: Worker) =>
    new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  try {
    await Promise.all(threads.map(nextMessage));
    const started = performance.now();
    const done = Promise.all(threads.map(nextMessage));
    for (const thread of threads) thread.postMessage('go');
    await done;
    return (perWorker * workers * 1000) / (performance.now() - started);
  } finally {
    await Promise.all(threads.map((thread) => thread.terminate()));
  }
}

async function main(): Promise<void> {
  const signatures = argument('signatures', 2000);
  const workers = argument('workers', 2);
  const workDir = await mkdtemp(path.join(tmpdir(), 'sigillo-bench-signatures-'));
  try {
    const pki = await ensureDevPki(path.join(workDir, 'pki'));
    // SoftHSM2 reads its configuration from the environment at C_Initialize.
    process.env.SOFTHSM2_CONF = pki.softhsmConf;
    const act = await typicalAct();
    console.log(
      `Reference decreto: ${act.pageCount} pages, ${(act.pdf.length / 1024).toFixed(1)} KiB; visible signature, no time-stamp`,
    );

    const keyRing = keyRingFor(pki);
    try {
      for (const { id, label } of KEYS) {
        let signer: SignPdfOptions['signer'];
        try {
          signer = await keyRing.signer(id);
        } catch (error) {
          console.log(`${label}: skipped (${(error as Error).message})`);
          continue;
        }
        const options = signingOptions(signer, act.area);
        await signMany(act.pdf, options, WARM_UP);
        const count = id === SEAL_KEY ? signatures : Math.min(signatures, 500);
        const elapsed = await signMany(act.pdf, options, count);
        const perSignature = elapsed / count;
        console.log(
          `${label}: ${perSignature.toFixed(2)} ms per signature, ${(1000 / perSignature).toFixed(0)} signatures/s on one core`,
        );
      }
    } finally {
      await keyRing.close();
    }

    const rate = await onWorkers({ pki, pdf: act.pdf, area: act.area, signatures }, workers);
    console.log(
      `PKCS#12 RSA 2048 on ${workers} worker threads: ${rate.toFixed(0)} signatures/s (target ≥ 100/s on 2 cores)`,
    );
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  benchWorker().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
