/**
 * Entry point of `npm run worker`: a process that only runs queued jobs. Any
 * number of them, on any machine, can share the service's MongoDB and S3; each
 * takes jobs as it has room, and resumes those whose worker died.
 */
// First: schemas call zod's .openapi() as their modules load; the service gets it through app.ts.
import './platform/api.js';
import { registerJobHandlers } from './jobs.js';
import { startAppointmentMaintenance } from './appointments/service.js';
import { RenderPool } from './documents/render-pool.js';
import { ConfigError, loadConfig, type Config } from './platform/config.js';
import { connectDatabase, disconnectDatabase } from './platform/db.js';
import { resolveBackends } from './platform/embedded.js';
import { createJobQueue, defaultWorkerName, type JobQueue } from './platform/jobs.js';
import { createLogger, type Logger } from './platform/logger.js';
import { ObjectStorage } from './platform/storage.js';

/** A worker cannot start the embedded servers: it must reach the service's own. */
const requiredSettings = ['MONGODB_URI', 'S3_ENDPOINT'] as const;

function loadWorkerConfig(): Config {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) exitWithConfigError(error.message);
    throw error;
  }
  const missing = requiredSettings.filter((name) => !config[name]);
  if (missing.length > 0) {
    exitWithConfigError(
      `Invalid configuration: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required by the worker, which uses the service's MongoDB and S3 and starts no embedded server`,
    );
  }
  return config;
}

function exitWithConfigError(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(78);
}

interface RunningWorker {
  queue: JobQueue;
  renderPool: RenderPool;
  storage: ObjectStorage;
}

async function startWorker(config: Config, logger: Logger): Promise<RunningWorker> {
  // With both settings given, nothing embedded is started: this only maps the S3 settings.
  const backends = await resolveBackends(config, logger);
  const connection = await connectDatabase({
    uri: backends.mongodbUri,
    dbName: config.MONGODB_DATABASE,
    retries: config.MONGODB_CONNECT_RETRIES,
    logger,
  });
  if (!connection.db) throw new Error('MongoDB connection has no database handle');
  const storage = new ObjectStorage(backends.s3);
  const renderPool = new RenderPool(config.RENDER_THREADS);
  const queue = createJobQueue({
    db: connection.db,
    logger,
    workerName: defaultWorkerName('worker'),
    stopTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    lockLifetimeMs: config.JOBS_LOCK_LIFETIME_MS,
    processEveryMs: config.JOBS_POLL_MS,
    concurrency: config.JOBS_CONCURRENCY,
  });
  registerJobHandlers(queue, { storage, render: renderPool.render, logger });
  await queue.start();
  startAppointmentMaintenance({ storage, render: renderPool.render, logger });
  return { queue, renderPool, storage };
}

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  const logger = createLogger(config.LOG_LEVEL);
  let worker: RunningWorker;
  try {
    worker = await startWorker(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'worker start-up failed');
    process.stderr.write(`Sigillo worker could not start: ${(error as Error).message}\n`);
    process.exit(1);
  }
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'signal received, stopping the worker');
    const stopping = async () => {
      // Running jobs get SHUTDOWN_TIMEOUT_MS to finish; the others resume elsewhere.
      await worker.queue.stop();
      await worker.renderPool.destroy();
      worker.storage.destroy();
      await disconnectDatabase();
    };
    stopping().then(
      () => {
        logger.info('worker stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'worker shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

void main();
