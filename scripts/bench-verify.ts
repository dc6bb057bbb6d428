/**
 * Benchmark of Sigillo's signature verifier on the reference decreto (two
 * pages) signed three times in sequence by pyHanko (one signature with an
 * RFC 3161 time-stamp, two visible): the time of verifyPdfSignatures, first
 * call and then warm.
 *
 * Self-contained: makes a throw-away PKI with the openssl CLI and signs with
 * pyHanko's Python API (python3 with pyHanko installed), all in a temp folder.
 *
 *   npx tsx scripts/bench-verify.ts [--iterations 500]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { renderPdf } from '../server/documents/render-pdf.js';
import { verifyPdfSignatures } from '../server/signatures/verify.js';
import { sampleDecreto } from '../test/documents/sample-model.js';
import { createOpensslPki, PKCS12_PASSPHRASE } from '../test/support/openssl-pki.js';

const PYHANKO_SCRIPT = path.join(import.meta.dirname, '../test/support/pyhanko_sign.py');

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Runs the pyHanko helper on a batch of operations (see its docstring). */
function pyhanko(operations: object[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [PYHANKO_SCRIPT], { stdio: ['pipe', 'ignore', 'pipe'] });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`pyhanko_sign.py exited ${code}: ${Buffer.concat(stderr).toString()}`)),
    );
    child.stdin.end(JSON.stringify(operations));
  });
}

const iterations = argument('iterations', 500);
const dir = await mkdtemp(path.join(tmpdir(), 'sigillo-bench-verify-'));
try {
  const pki = await createOpensslPki(path.join(dir, 'pki'));
  const file = (name: string) => path.join(dir, `${name}.pdf`);
  await writeFile(file('unsigned'), (await renderPdf(sampleDecreto())).bytes);
  const timestamp = {
    certificate: pki.timestampAuthority.certificatePath,
    key: pki.timestampAuthority.keyPath,
    chain: [pki.root.certificatePath],
  };
  const sign = (input: string, output: string, pkcs12: string, field: string, extra = {}) => ({
    op: 'sign',
    input: file(input),
    output: file(output),
    pkcs12,
    passphrase: PKCS12_PASSPHRASE,
    field,
    ...extra,
  });
  await pyhanko([
    sign('unsigned', 'one', pki.rsaSigner.pkcs12Path, 'Sindaco', { timestamp }),
    sign('one', 'two', pki.ecSigner.pkcs12Path, 'Designato', { box: [60, 60, 260, 120] }),
    sign('two', 'three', pki.rsaSigner.pkcs12Path, 'Segretario', {
      box: [320, 60, 520, 120],
      page: 1,
    }),
  ]);
  const pdf = await readFile(file('three'));
  const options = { trustAnchors: [pki.root.certificateDer] };

  const times: number[] = [];
  for (let iteration = 0; iteration < iterations + 1; iteration++) {
    const start = performance.now();
    const reports = await verifyPdfSignatures(pdf, options);
    times.push(performance.now() - start);
    if (reports.length !== 3 || !reports.every((report) => report.valid)) {
      throw new Error(`unexpected verification result: ${JSON.stringify(reports, null, 2)}`);
    }
  }
  const [first, ...warm] = times as [number, ...number[]];
  warm.sort((a, b) => a - b);
  const mean = warm.reduce((sum, time) => sum + time, 0) / warm.length;
  console.log(`3-signature PDF, ${pdf.length} bytes, ${iterations} warm verifications`);
  console.log(`  first call ${first.toFixed(2)} ms`);
  console.log(
    `  mean ${mean.toFixed(2)} ms, p50 ${percentile(warm, 50).toFixed(2)} ms, p95 ${percentile(warm, 95).toFixed(2)} ms`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
