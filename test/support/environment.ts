/**
 * The servers the tests run against: a real FerretDB and a real MinIO, built
 * from their Go modules and started in a temporary folder by the root hooks,
 * and one in-process Sigillo service using them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig, type Config } from '../../server/platform/config.js';
import { createLogger } from '../../server/platform/logger.js';
import {
  startFerretDb,
  startMinio,
  type RunningFerretDb,
  type RunningMinio,
} from '../../server/platform/local-servers.js';
import { startService, type RunningService } from '../../server/service.js';
import { ensureDevPki, type DevPki } from '../../server/signatures/dev-pki.js';
import { startTestSmtpServer, type TestSmtpServer } from './smtp-server.js';
import { startTestTsa } from './tsa-server.js';

export interface TestEnvironment {
  workDir: string;
  ferretDb: RunningFerretDb;
  minio: RunningMinio;
  config: Config;
  service: RunningService;
  /** Environment variables that point a child process at the test servers. */
  serverEnv: Record<string, string>;
  /** The development CA, keys and SoftHSM2 token the service signs with. */
  pki: DevPki;
  /** The RFC 3161 time-stamping authority (`openssl ts`) the service stamps signatures with. */
  tsaUrl: string;
  /** The SMTP server standing for the ente's PEC provider. */
  smtp: TestSmtpServer;
  restartMinio(): Promise<void>;
}

let current: TestEnvironment | undefined;
let stopTsa: (() => Promise<void>) | undefined;
let stopSmtp: (() => Promise<void>) | undefined;

export function testEnvironment(): TestEnvironment {
  if (!current) throw new Error('the test environment is not started (root hook missing?)');
  return current;
}

const progress = (line: string) => process.stderr.write(`  [test setup] ${line}\n`);

export async function startTestEnvironment(): Promise<TestEnvironment> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'sigillo-test-'));
  const ferretDb = await startFerretDb({
    dataDir: path.join(workDir, 'ferretdb'),
    logFile: path.join(workDir, 'log', 'ferretdb.log'),
    progress,
  });
  const minioOptions = {
    dataDir: path.join(workDir, 'minio'),
    logFile: path.join(workDir, 'log', 'minio.log'),
    bucket: 'sigillo-test',
    versioning: true,
    progress,
  };
  let minio = await startMinio(minioOptions);
  const pki = await ensureDevPki(path.join(workDir, 'pki'));
  // The service reads key passwords and the token PIN from its environment only.
  Object.assign(process.env, pki.secrets);
  if (pki.softhsmConf) process.env.SOFTHSM2_CONF = pki.softhsmConf;
  const tsa = await startTestTsa({
    certFile: pki.tsa.certFile,
    keyFile: pki.tsa.keyFile,
    configFile: pki.tsa.configFile,
    caFile: pki.caFile,
  });
  stopTsa = () => tsa.stop();
  const smtp = await startTestSmtpServer({ user: 'comune@pec.example', pass: 'pec-password' });
  stopSmtp = () => smtp.stop();
  const serverEnv = {
    MONGODB_URI: ferretDb.uri,
    MONGODB_DATABASE: 'sigillo_test',
    S3_ENDPOINT: minio.endpoint,
    S3_BUCKET: minio.bucket,
    S3_REGION: minio.region,
    S3_ACCESS_KEY_ID: minio.accessKeyId,
    S3_SECRET_ACCESS_KEY: minio.secretAccessKey,
    SIGILLO_DATA_DIR: path.join(workDir, 'var'),
    SIGNING_KEYS_FILE: pki.keysFile,
    TRUST_ANCHORS_FILE: pki.caFile,
    TSA_URL: tsa.url,
  };
  const config = parseConfig({
    ...serverEnv,
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    NODE_ENV: 'test',
    // Jobs run in worker processes the tests start and kill (test/appointments/bulk.test.ts).
    JOBS_IN_PROCESS: 'false',
    SMTP_URL: smtp.url,
    SMTP_FROM: 'comune.prova@pec.example',
  });
  const service = await startService(config, {
    logger: createLogger(config.LOG_LEVEL),
    announce: () => undefined,
  });
  current = {
    workDir,
    ferretDb,
    get minio() {
      return minio;
    },
    config,
    service,
    serverEnv,
    pki,
    tsaUrl: tsa.url,
    smtp,
    async restartMinio() {
      await minio.stop();
      minio = await startMinio({
        ...minioOptions,
        port: minio.port,
        accessKeyId: minio.accessKeyId,
        secretAccessKey: minio.secretAccessKey,
      });
    },
  };
  return current;
}

export async function stopTestEnvironment(): Promise<void> {
  if (!current) return;
  const environment = current;
  current = undefined;
  await environment.service.stop();
  await Promise.all([
    environment.minio.stop(),
    environment.ferretDb.stop(),
    stopTsa?.(),
    stopSmtp?.(),
  ]);
  if (!process.env.KEEP_TEST_DATA) await rm(environment.workDir, { recursive: true, force: true });
}
