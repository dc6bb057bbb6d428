/**
 * Starting and stopping the whole service: backends, database, storage, HTTP.
 */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { bootstrapIfEmpty } from './access/service.js';
import { createApp } from './app.js';
import { RenderPool } from './documents/render-pool.js';
import { registerJobHandlers } from './jobs.js';
import { startAppointmentMaintenance } from './appointments/service.js';
import type { Config } from './platform/config.js';
import { connectDatabase, disconnectDatabase } from './platform/db.js';
import { resolveBackends } from './platform/embedded.js';
import { createJobQueue, defaultWorkerName, type JobQueue } from './platform/jobs.js';
import { findRepoRoot } from './platform/local-servers.js';
import { createLogger, type Logger } from './platform/logger.js';
import { ObjectStorage } from './platform/storage.js';
import { loadShippedRegulations } from './regulations/service.js';
import { loadShippedTemplates } from './templates/service.js';
import { createSigningSetup } from './signatures/setup.js';
import type { SigningSetup } from './signatures/service.js';

const repoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));

export interface RunningService {
  url: string;
  port: number;
  storage: ObjectStorage;
  /** The job queue: enqueue and status always; runs jobs here only with JOBS_IN_PROCESS. */
  jobs: JobQueue;
  logger: Logger;
  /** Stops accepting, lets in-flight requests finish (up to SHUTDOWN_TIMEOUT_MS), closes everything. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Where the first admin token is shown; stdout by default. */
  announce?: (text: string) => void;
}

export async function startService(
  config: Config,
  options: StartOptions = {},
): Promise<RunningService> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const announce = options.announce ?? ((text: string) => process.stdout.write(text));
  const backends = await resolveBackends(config, logger);
  const stopBackends = () => Promise.all(backends.started.map((server) => server.stop()));
  let storage: ObjectStorage | undefined;
  let renderPool: RenderPool | undefined;
  let jobs: JobQueue | undefined;
  let signing: SigningSetup | undefined;
  try {
    const connection = await connectDatabase({
      uri: backends.mongodbUri,
      dbName: config.MONGODB_DATABASE,
      retries: config.MONGODB_CONNECT_RETRIES,
      logger,
    });
    storage = new ObjectStorage(backends.s3);
    await storage.ping(5000).catch((error: Error) => {
      logger.warn(
        { err: error.message },
        'S3 bucket not reachable at start-up; /readyz will say so',
      );
    });

    await loadShippedTemplates(path.join(repoRoot, 'templates'), logger);
    await loadShippedRegulations(path.join(repoRoot, 'data'), logger);
    const bootstrap = await bootstrapIfEmpty(config.BOOTSTRAP_ORGANISATION_NAME);
    if (bootstrap) {
      logger.info({ organisation: bootstrap.organisation.name }, 'first organisation created');
      announce(
        [
          '',
          '================================================================',
          ` Primo avvio: creato l'ente "${bootstrap.organisation.name}"`,
          ` Token API dell'amministratore (mostrato una sola volta):`,
          `   ${bootstrap.token}`,
          ' Usarlo come: Authorization: Bearer <token>',
          '================================================================',
          '',
        ].join('\n'),
      );
    }

    signing = await createSigningSetup(config, logger);
    renderPool = new RenderPool(config.RENDER_THREADS);
    if (!connection.db) throw new Error('MongoDB connection has no database handle');
    jobs = createJobQueue({
      db: connection.db,
      logger,
      workerName: defaultWorkerName('service'),
      stopTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      lockLifetimeMs: config.JOBS_LOCK_LIFETIME_MS,
      processEveryMs: config.JOBS_POLL_MS,
      concurrency: config.JOBS_CONCURRENCY,
    });
    registerJobHandlers(jobs, { storage, render: renderPool.render, logger });
    // Off when separate `npm run worker` processes run the jobs.
    let stopMaintenance = () => {};
    if (config.JOBS_IN_PROCESS) {
      await jobs.start();
      // Background work goes where jobs run: here, or in the workers.
      stopMaintenance = startAppointmentMaintenance({
        storage,
        render: renderPool.render,
        logger,
      });
    }
    const app = createApp({ config, logger, storage, render: renderPool.render, jobs, signing });
    const server: Server = await new Promise((resolve, reject) => {
      const listening = app.listen(config.PORT, config.HOST, () => resolve(listening));
      listening.once('error', reject);
    });
    const port = (server.address() as AddressInfo).port;
    const url = `http://${config.HOST}:${port}`;
    logger.info({ url, docs: `${url}/docs` }, 'Sigillo listening');

    const openStorage = storage;
    const openPool = renderPool;
    const openJobs = jobs;
    const openSigning = signing;
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        logger.info('shutting down: no new connections, finishing requests in flight');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // A keep-alive connection goes idle only when its in-flight response ends.
        const sweeper = setInterval(() => server.closeIdleConnections(), 100);
        server.closeIdleConnections();
        const forced = setTimeout(() => {
          logger.warn('shutdown timeout reached, closing remaining connections');
          server.closeAllConnections();
        }, config.SHUTDOWN_TIMEOUT_MS);
        // Running jobs get the same time to finish; those that do not are resumed later.
        stopMaintenance();
        await Promise.all([closed, openJobs.stop()]);
        clearInterval(sweeper);
        clearTimeout(forced);
        await disconnectDatabase();
        await openSigning.keyRing.close();
        await openPool.destroy();
        openStorage.destroy();
        await stopBackends();
        logger.info('shutdown complete');
      })();
      return stopping;
    };
    return { url, port, storage: openStorage, jobs: openJobs, logger, stop };
  } catch (error) {
    await jobs?.stop().catch(() => undefined);
    await signing?.keyRing.close().catch(() => undefined);
    storage?.destroy();
    await renderPool?.destroy();
    await disconnectDatabase().catch(() => undefined);
    await stopBackends();
    throw error;
  }
}
