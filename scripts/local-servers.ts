/**
 * Builds, starts and stops the local FerretDB and MinIO by hand.
 *
 *   npm run servers -- build            build both (once per machine)
 *   npm run servers -- start [--ports]  start both on var/, print their settings, stop on Ctrl-C
 *
 * `--ports 27017,9000` asks for fixed ports; otherwise free ones are picked.
 */
import path from 'node:path';
import {
  defaultCacheDir,
  ensureFerretDbBinary,
  ensureMinioBinary,
  LocalServerError,
  startFerretDb,
  startMinio,
} from '../server/platform/local-servers.js';

const progress = (line: string) => process.stdout.write(`${line}\n`);

async function build(): Promise<void> {
  const cacheDir = defaultCacheDir();
  progress(`Cache: ${cacheDir}`);
  const started = Date.now();
  // One after the other: each Go build already uses every core.
  await ensureFerretDbBinary(cacheDir, progress);
  await ensureMinioBinary(cacheDir, progress);
  progress(`Both servers ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function start(ports: number[]): Promise<void> {
  const dataDir = path.resolve(process.env.SIGILLO_DATA_DIR ?? 'var');
  const ferretDb = await startFerretDb({
    dataDir: path.join(dataDir, 'ferretdb'),
    logFile: path.join(dataDir, 'log', 'ferretdb.log'),
    port: ports[0] ?? 0,
    progress,
  });
  const minio = await startMinio({
    dataDir: path.join(dataDir, 'minio'),
    logFile: path.join(dataDir, 'log', 'minio.log'),
    bucket: process.env.S3_BUCKET ?? 'sigillo',
    port: ports[1] ?? 0,
    progress,
  }).catch(async (error: unknown) => {
    await ferretDb.stop();
    throw error;
  });
  progress(
    [
      'Servers running; point Sigillo at them with:',
      `  MONGODB_URI=${ferretDb.uri}`,
      `  S3_ENDPOINT=${minio.endpoint}`,
      `  S3_BUCKET=${minio.bucket}`,
      `  S3_ACCESS_KEY_ID=${minio.accessKeyId}`,
      `  S3_SECRET_ACCESS_KEY=${minio.secretAccessKey}`,
      `Logs: ${ferretDb.logFile}, ${minio.logFile}. Ctrl-C stops both.`,
    ].join('\n'),
  );
  const stop = () => {
    void Promise.all([ferretDb.stop(), minio.stop()]).then(() => {
      progress('Stopped.');
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

const [command, ...rest] = process.argv.slice(2);
const portsFlag = rest.indexOf('--ports');
const ports =
  portsFlag >= 0 ? (rest[portsFlag + 1] ?? '').split(',').map((port) => Number(port)) : [];

const run = command === 'build' ? build() : command === 'start' ? start(ports) : undefined;
if (!run) {
  process.stderr.write('usage: npm run servers -- build | start [--ports MONGO,S3]\n');
  process.exit(2);
}
run.catch((error: unknown) => {
  const message = error instanceof LocalServerError ? error.message : String(error);
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
