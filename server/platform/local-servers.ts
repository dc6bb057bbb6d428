/**
 * Local FerretDB and MinIO, built from their Go modules with the machine's Go
 * and run as child processes. Used by the embedded default of `npm start`, by
 * the test suite and by `scripts/local-servers.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BucketAlreadyOwnedByYou,
  CreateBucketCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import mongoose from 'mongoose';

export const FERRETDB_VERSION = 'v1.24.2';
/** MinIO publishes no semantic versions, so its module is pinned by pseudo-version. */
export const MINIO_MODULE_VERSION = 'v0.0.0-20260212201848-7aac2a2c5b7c';

/** The folder holding package.json, whether running from sources or from dist/. */
export function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

const repoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
const ferretDbWrapperDir = path.join(repoRoot, 'scripts', 'servers', 'ferretdb');

export class LocalServerError extends Error {
  override name = 'LocalServerError';
}

export interface RunningServer {
  readonly name: string;
  /** Process id, for measuring the server's CPU use. */
  readonly pid: number;
  readonly port: number;
  readonly logFile: string;
  stop(): Promise<void>;
}

export interface RunningFerretDb extends RunningServer {
  readonly uri: string;
}

export interface RunningMinio extends RunningServer {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly bucket: string;
  readonly region: string;
}

export function defaultCacheDir(): string {
  const configured = process.env.SIGILLO_CACHE_DIR;
  if (configured) return path.resolve(configured);
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg ? xdg : path.join(homedir(), '.cache'), 'sigillo');
}

type Progress = (line: string) => void;

/** Runs a build command, its output going to a log; rejects with the log's tail on failure. */
async function runBuild(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string; timeoutMs: number },
): Promise<void> {
  await mkdir(path.dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'w' });
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const outcome = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, error }));
    child.once('close', (code) => resolve({ code }));
  });
  clearTimeout(timer);
  await new Promise<void>((resolve) => log.end(resolve));
  if (outcome.error) {
    throw new LocalServerError(
      `cannot run '${command}': ${outcome.error.message} (is Go installed and on PATH?)`,
    );
  }
  if (outcome.code !== 0) {
    const tail = (await readFile(options.logFile, 'utf8')).trim().split('\n').slice(-15).join('\n');
    throw new LocalServerError(
      `'${command} ${args.join(' ')}' failed (exit ${String(outcome.code)}); log ${options.logFile}:\n${tail}`,
    );
  }
}

async function ferretDbBinaryPath(cacheDir: string): Promise<string> {
  // The wrapper's sources are part of the key so that a change to them rebuilds.
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) {
    hash.update(await readFile(path.join(ferretDbWrapperDir, file)));
  }
  const key = hash.digest('hex').slice(0, 12);
  return path.join(cacheDir, 'bin', `ferretdb-${FERRETDB_VERSION}-${key}`);
}

/** Builds FerretDB once per machine (per wrapper version) and returns the binary's path. */
export async function ensureFerretDbBinary(
  cacheDir = defaultCacheDir(),
  progress: Progress = () => undefined,
): Promise<string> {
  const binary = await ferretDbBinaryPath(cacheDir);
  if (existsSync(binary)) return binary;
  progress(`Building FerretDB ${FERRETDB_VERSION} from its Go module (first run only)…`);
  await mkdir(cacheDir, { recursive: true });
  const tmpDir = await mkdtemp(path.join(cacheDir, 'build-'));
  try {
    await runBuild('go', ['build', '-trimpath', '-o', path.join(tmpDir, 'ferretdb'), '.'], {
      cwd: ferretDbWrapperDir,
      env: { ...process.env, CGO_ENABLED: '0' },
      logFile: path.join(cacheDir, 'logs', 'build-ferretdb.log'),
      timeoutMs: 20 * 60_000,
    });
    await mkdir(path.dirname(binary), { recursive: true });
    // Renaming makes the binary appear whole, even when two builds race.
    await rename(path.join(tmpDir, 'ferretdb'), binary);
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
  progress(`FerretDB built: ${binary}`);
  return binary;
}

/** Builds MinIO once per machine with `go install` and returns the binary's path. */
export async function ensureMinioBinary(
  cacheDir = defaultCacheDir(),
  progress: Progress = () => undefined,
): Promise<string> {
  const binary = path.join(cacheDir, 'bin', `minio-${MINIO_MODULE_VERSION}`);
  if (existsSync(binary)) return binary;
  progress('Building MinIO from its Go module (first run only, several minutes)…');
  await mkdir(cacheDir, { recursive: true });
  const tmpDir = await mkdtemp(path.join(cacheDir, 'build-'));
  try {
    await runBuild(
      'go',
      ['install', '-trimpath', `github.com/minio/minio@${MINIO_MODULE_VERSION}`],
      {
        cwd: tmpDir,
        env: { ...process.env, GOBIN: tmpDir, CGO_ENABLED: '0' },
        logFile: path.join(cacheDir, 'logs', 'build-minio.log'),
        timeoutMs: 40 * 60_000,
      },
    );
    await mkdir(path.dirname(binary), { recursive: true });
    await rename(path.join(tmpDir, 'minio'), binary);
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
  progress(`MinIO built: ${binary}`);
  return binary;
}

/** Asks the kernel for a port nobody is listening on. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  // Last resort when the parent exits without stopping its servers.
  for (const child of liveChildren) child.kill('SIGKILL');
});

interface SpawnedServer {
  child: ChildProcess;
  exited: Promise<number | null>;
  hasExited(): boolean;
}

async function spawnServer(
  binary: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
): Promise<SpawnedServer> {
  await mkdir(path.dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  // Own process group: a Ctrl-C in the terminal reaches the service only, which then
  // stops these servers after its requests in flight have finished.
  const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  liveChildren.add(child);
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', () => {
      done = true;
      resolve(null);
    });
    child.once('exit', (code) => {
      done = true;
      liveChildren.delete(child);
      resolve(code);
    });
  });
  void exited.then(() => log.end());
  return { child, exited, hasExited: () => done };
}

async function stopServer(server: SpawnedServer, timeoutMs = 10_000): Promise<void> {
  if (server.hasExited()) return;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), timeoutMs);
  await server.exited;
  clearTimeout(timer);
}

async function logTail(logFile: string): Promise<string> {
  try {
    return (await readFile(logFile, 'utf8')).trim().split('\n').slice(-10).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `probe` until it succeeds; fails fast if the process dies, and after `timeoutMs`. */
async function waitUntilReady(
  name: string,
  server: SpawnedServer,
  logFile: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.hasExited()) {
      throw new LocalServerError(
        `${name} exited during start-up; log ${logFile}:\n${await logTail(logFile)}`,
      );
    }
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stopServer(server);
  throw new LocalServerError(
    `${name} did not answer within ${timeoutMs} ms; log ${logFile}:\n${await logTail(logFile)}`,
  );
}

export interface FerretDbOptions {
  dataDir: string;
  logFile: string;
  /** 0 or undefined picks a free port. */
  port?: number;
  cacheDir?: string;
  progress?: Progress;
  startTimeoutMs?: number;
}

export async function startFerretDb(options: FerretDbOptions): Promise<RunningFerretDb> {
  const binary = await ensureFerretDbBinary(options.cacheDir, options.progress);
  const port = options.port ? options.port : await findFreePort();
  if (await isPortOpen(port))
    throw new LocalServerError(`FerretDB: port ${port} is already in use`);
  await mkdir(options.dataDir, { recursive: true });
  const server = await spawnServer(
    binary,
    ['-listen', `127.0.0.1:${port}`, '-data', options.dataDir],
    process.env,
    options.logFile,
  );
  const uri = `mongodb://127.0.0.1:${port}/`;
  await waitUntilReady(
    'FerretDB',
    server,
    options.logFile,
    async () => {
      const client = new mongoose.mongo.MongoClient(uri, {
        serverSelectionTimeoutMS: 1000,
        connectTimeoutMS: 1000,
      });
      try {
        const reply = await client.db('admin').command({ ping: 1 });
        return reply.ok === 1;
      } finally {
        await client.close();
      }
    },
    options.startTimeoutMs ?? 30_000,
  );
  return {
    name: 'FerretDB',
    pid: server.child.pid ?? 0,
    port,
    uri,
    logFile: options.logFile,
    stop: () => stopServer(server),
  };
}

export interface MinioOptions {
  dataDir: string;
  logFile: string;
  bucket: string;
  region?: string;
  port?: number;
  /** Credentials; when omitted they are generated once and kept in the data folder. */
  accessKeyId?: string;
  secretAccessKey?: string;
  versioning?: boolean;
  cacheDir?: string;
  progress?: Progress;
  startTimeoutMs?: number;
}

async function minioCredentials(
  dataDir: string,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  // Kept beside (not inside) the data folder: MinIO owns everything inside it.
  const file = `${dataDir.replace(/\/+$/, '')}.credentials.json`;
  try {
    const stored = JSON.parse(await readFile(file, 'utf8')) as {
      accessKeyId: string;
      secretAccessKey: string;
    };
    return stored;
  } catch {
    const generated = {
      accessKeyId: `sigillo-${randomBytes(4).toString('hex')}`,
      secretAccessKey: randomBytes(24).toString('base64url'),
    };
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(generated), { mode: 0o600 });
    return generated;
  }
}

export async function startMinio(options: MinioOptions): Promise<RunningMinio> {
  const binary = await ensureMinioBinary(options.cacheDir, options.progress);
  const port = options.port ? options.port : await findFreePort();
  if (await isPortOpen(port)) throw new LocalServerError(`MinIO: port ${port} is already in use`);
  await mkdir(options.dataDir, { recursive: true });
  const credentials =
    options.accessKeyId && options.secretAccessKey
      ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
      : await minioCredentials(options.dataDir);
  const region = options.region ?? 'us-east-1';
  const consolePort = await findFreePort();
  const server = await spawnServer(
    binary,
    [
      'server',
      '--quiet',
      '--address',
      `127.0.0.1:${port}`,
      '--console-address',
      `127.0.0.1:${consolePort}`,
      options.dataDir,
    ],
    {
      ...process.env,
      MINIO_ROOT_USER: credentials.accessKeyId,
      MINIO_ROOT_PASSWORD: credentials.secretAccessKey,
      MINIO_REGION: region,
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
    },
    options.logFile,
  );
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilReady(
    'MinIO',
    server,
    options.logFile,
    async () => {
      const response = await fetch(`${endpoint}/minio/health/ready`, {
        signal: AbortSignal.timeout(1000),
      });
      return response.ok;
    },
    options.startTimeoutMs ?? 30_000,
  );
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials,
  });
  try {
    // Bounded: a start that cannot finish must fail with a message, never hang.
    const bounded = () => ({ abortSignal: AbortSignal.timeout(10_000) });
    await client
      .send(new CreateBucketCommand({ Bucket: options.bucket }), bounded())
      .catch((error) => {
        if (!(error instanceof BucketAlreadyOwnedByYou)) throw error;
      });
    if (options.versioning ?? true) {
      await client.send(
        new PutBucketVersioningCommand({
          Bucket: options.bucket,
          VersioningConfiguration: { Status: 'Enabled' },
        }),
        bounded(),
      );
    }
  } catch (error) {
    await stopServer(server);
    throw new LocalServerError(
      `MinIO started but bucket '${options.bucket}' could not be prepared: ${(error as Error).message}`,
    );
  } finally {
    client.destroy();
  }
  return {
    name: 'MinIO',
    pid: server.child.pid ?? 0,
    port,
    endpoint,
    bucket: options.bucket,
    region,
    ...credentials,
    logFile: options.logFile,
    stop: () => stopServer(server),
  };
}
