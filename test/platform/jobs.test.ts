import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import {
  ClaimingJobRepository,
  createJobQueue,
  type JobQueue,
  type JobQueueOptions,
  type JobStatus,
} from '../../server/platform/jobs.js';
import { createLogger } from '../../server/platform/logger.js';
import { testEnvironment } from '../support/environment.js';

const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A collection of its own for each test, apart from the in-process service's queue. */
const uniqueName = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;

function database() {
  const db = mongoose.connection.db;
  if (!db) throw new Error('the test environment has no database connection');
  return db;
}

function queueOn(collection: string, options: Partial<JobQueueOptions> = {}): JobQueue {
  return createJobQueue({
    db: database(),
    logger,
    collection,
    workerName: 'test',
    processEveryMs: 100,
    lockLifetimeMs: 5_000,
    stopTimeoutMs: 5_000,
    ...options,
  });
}

async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    }
    await sleep(100);
  }
}

const settled = (status: JobStatus | null) =>
  status?.state === 'completed' || status?.state === 'failed';

describe('job queue', () => {
  describe('running jobs', () => {
    let queue: JobQueue;
    const ran: string[] = [];

    before(async () => {
      queue = queueOn(uniqueName('test_jobs'));
      queue.define<{ act: string }>('test.echo', async ({ act }) => {
        ran.push(act);
        await sleep(10);
      });
      queue.define('test.fail', async () => {
        await sleep(10);
        throw new Error('registro non trovato');
      });
      await queue.start();
    });

    after(async () => {
      await queue.stop();
    });

    it('runs an enqueued job once and reports it completed', async () => {
      const id = await queue.enqueue('test.echo', { act: 'atto-1' });
      expect(id).to.match(/^[0-9a-f]{24}$/);
      const status = await waitFor('completion', () => queue.status(id), settled, 15_000);
      expect(status).to.include({ state: 'completed' });
      expect(status?.lastRunAt).to.be.instanceOf(Date);
      expect(status?.lastFinishedAt).to.be.instanceOf(Date);
      expect(status?.failReason).to.equal(undefined);
      await sleep(500);
      expect(ran).to.deep.equal(['atto-1']);
    });

    it('reports a job whose handler throws as failed, with the reason', async () => {
      const id = await queue.enqueue('test.fail', {});
      const status = await waitFor('failure', () => queue.status(id), settled, 15_000);
      expect(status).to.include({ state: 'failed', failReason: 'registro non trovato' });
    });

    it('reports a job not yet taken as queued, and an unknown id as null', async () => {
      const idle = queueOn(uniqueName('test_jobs'));
      const id = await idle.enqueue('test.echo', { act: 'atto-2' });
      expect(await idle.status(id)).to.deep.equal({ state: 'queued' });
      expect(await idle.status('0123456789abcdef01234567')).to.equal(null);
      expect(await idle.status('not-an-id')).to.equal(null);
    });
  });

  describe('a worker killed mid-job', () => {
    const jobsCollection = uniqueName('test_jobs');
    const itemsCollection = uniqueName('test_items');
    const children: ChildProcess[] = [];

    function startWorker(name: string): { child: ChildProcess; output: () => string } {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'test/platform/fixtures/jobs-worker.ts'],
        {
          env: {
            ...process.env,
            ...testEnvironment().serverEnv,
            JOBS_COLLECTION: jobsCollection,
            ITEMS_COLLECTION: itemsCollection,
            WORKER_NAME: name,
            LOCK_LIFETIME_MS: '1500',
            ITEM_DELAY_MS: '10',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      children.push(child);
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      return { child, output: () => output };
    }

    const exited = (child: ChildProcess) =>
      new Promise<number | null>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
        else child.once('exit', (code) => resolve(code));
      });

    after(async () => {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      await Promise.all(children.map(exited));
    });

    it('is resumed by another worker, and every item is done exactly once', async function () {
      this.timeout(60_000);
      const items = database().collection<{ run: string; item: number; by: string }>(
        itemsCollection,
      );
      await items.createIndex({ run: 1, item: 1 }, { unique: true });
      const queue = queueOn(jobsCollection);
      const run = 'issue-200-acts';
      const id = await queue.enqueue('test.items', { run, count: 200 });

      const first = startWorker('first');
      const recordedBeforeKill = await waitFor(
        'the first worker to record some items',
        () => items.countDocuments({ run }),
        (count) => count >= 40,
        30_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\nworker output:\n${first.output()}`);
      });
      first.child.kill('SIGKILL');
      await exited(first.child);
      const recordedByFirst = await items.countDocuments({ run, by: 'first' });
      expect(recordedByFirst).to.be.at.least(recordedBeforeKill).and.below(200);
      expect((await queue.status(id))?.state).to.equal('running');

      const second = startWorker('second');
      const status = await waitFor('the job to end', () => queue.status(id), settled, 45_000).catch(
        (error: Error) => {
          throw new Error(`${error.message}\nworker output:\n${second.output()}`);
        },
      );
      expect(status?.state, second.output()).to.equal('completed');

      const recorded = await items.find({ run }).toArray();
      expect(recorded).to.have.length(200);
      expect(new Set(recorded.map((entry) => entry.item)).size).to.equal(200);
      expect(recorded.filter((entry) => entry.by === 'first')).to.have.length(recordedByFirst);
      expect(recorded.filter((entry) => entry.by === 'second')).to.have.length(
        200 - recordedByFirst,
      );

      second.child.kill('SIGTERM');
      expect(await exited(second.child)).to.equal(0);
    });
  });

  describe('two workers at once', () => {
    const collection = uniqueName('test_jobs');
    const connections: Connection[] = [];
    const queues: JobQueue[] = [];

    after(async () => {
      await Promise.all(queues.map((queue) => queue.stop()));
      await Promise.all(connections.map((connection) => connection.close()));
    });

    it('never run the same job both', async function () {
      this.timeout(60_000);
      const runs = database().collection<{ job: string; worker: string }>(uniqueName('test_runs'));
      for (const worker of ['left', 'right']) {
        // Each worker on its own connection, as separate processes would be.
        const connection = await mongoose
          .createConnection(testEnvironment().serverEnv.MONGODB_URI ?? '', {
            dbName: testEnvironment().config.MONGODB_DATABASE,
          })
          .asPromise();
        connections.push(connection);
        if (!connection.db) throw new Error('no database handle');
        const queue = queueOn(collection, {
          db: connection.db,
          workerName: worker,
          processEveryMs: 50,
          concurrency: 3,
        });
        queue.define<{ n: number }>('test.once', async (_data, job) => {
          await runs.insertOne({ job: job.id, worker });
          await sleep(20);
          await job.touch();
        });
        queues.push(queue);
      }
      const [left, right] = queues as [JobQueue, JobQueue];
      const ids: string[] = [];
      for (let n = 0; n < 30; n += 1) ids.push(await left.enqueue('test.once', { n }));
      await Promise.all([left.start(), right.start()]);

      await waitFor(
        'all jobs to complete',
        () => Promise.all(ids.map((id) => right.status(id))),
        (statuses) => statuses.every((status) => status?.state === 'completed'),
        45_000,
      );
      const recorded = await runs.find().toArray();
      const perJob = new Map<string, string[]>();
      for (const entry of recorded)
        perJob.set(entry.job, [...(perJob.get(entry.job) ?? []), entry.worker]);
      const twice = [...perJob].filter(([, workers]) => workers.length > 1);
      expect(twice, 'jobs run more than once').to.deep.equal([]);
      expect([...perJob.keys()].sort()).to.deep.equal([...ids].sort());
      // Both took part, or the test would prove nothing about two workers.
      expect(new Set(recorded.map((entry) => entry.worker))).to.have.property('size', 2);
    });
  });

  describe('claims, the lock that holds on FerretDB', () => {
    const lockLifetimeMs = 60_000;
    let collection: string;

    beforeEach(() => {
      collection = uniqueName('test_jobs');
    });

    async function repository(worker: string): Promise<ClaimingJobRepository> {
      const repo = new ClaimingJobRepository(database(), collection, lockLifetimeMs, worker);
      await repo.connect();
      await repo.createIndexes();
      return repo;
    }

    const next = (repo: ClaimingJobRepository) =>
      repo.getNextJobToRun(
        'test.claim',
        new Date(Date.now() + 1_000),
        new Date(Date.now() - lockLifetimeMs),
        undefined,
        undefined,
      );

    async function enqueue(repo: ClaimingJobRepository): Promise<string> {
      const saved = await repo.saveJob(
        { name: 'test.claim', data: {}, priority: 0, nextRunAt: new Date(), type: 'normal' },
        undefined,
      );
      return String(saved._id);
    }

    it('gives a job to one worker only', async () => {
      const [first, second] = [await repository('first'), await repository('second')];
      const id = await enqueue(first);
      const taken = await Promise.all([next(first), next(second), next(first), next(second)]);
      expect(taken.filter((job) => String(job?._id) === id)).to.have.length(1);
    });

    it('lets another worker take a job released unstarted', async () => {
      const [first, second] = [await repository('first'), await repository('second')];
      const id = await enqueue(first);
      expect(String((await next(first))?._id)).to.equal(id);
      expect(await next(second)).to.equal(undefined);
      await first.unlockJobs([id]);
      expect(String((await next(second))?._id)).to.equal(id);
    });

    it('passes over a claim whose worker died before locking, once older than a lease', async () => {
      const [first, second] = [await repository('first'), await repository('second')];
      const id = await enqueue(first);
      const job = await database()
        .collection(collection)
        .findOne({ _id: new mongoose.Types.ObjectId(id) });
      const claims = database().collection<{ _id: string; claimedAt: Date }>(
        `${collection}_claims`,
      );
      const key = `${id}@unlocked/${(job?.nextRunAt as Date).getTime()}/unreleased`;
      await claims.insertOne({ _id: key, claimedAt: new Date() });
      expect(await next(second), 'a fresh claim holds').to.equal(undefined);
      await claims.updateOne({ _id: key }, { $set: { claimedAt: new Date(0) } });
      expect(String((await next(second))?._id), 'a stale claim does not').to.equal(id);
    });
  });

  describe('npm run worker', () => {
    function runWorker(env: Record<string, string>) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'server/worker.ts'], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
      return { child, exit, output: () => output };
    }

    it('exits 78 with one line when MONGODB_URI is missing', async function () {
      this.timeout(30_000);
      const worker = runWorker({ ...testEnvironment().serverEnv, MONGODB_URI: '' });
      expect(await worker.exit).to.equal(78);
      const lines = worker
        .output()
        .split('\n')
        .filter((line) => line.includes('MONGODB_URI'));
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^Invalid configuration: MONGODB_URI is required by the worker, /);
    });

    it('starts taking jobs and stops cleanly on SIGTERM', async function () {
      this.timeout(30_000);
      const worker = runWorker({ ...testEnvironment().serverEnv, LOG_LEVEL: 'info' });
      await waitFor(
        'the worker to start processing',
        () => Promise.resolve(worker.output()),
        (output) => output.includes('job queue processing') || worker.child.exitCode !== null,
        20_000,
      );
      expect(worker.output()).to.contain('job queue processing');
      worker.child.kill('SIGTERM');
      expect(await worker.exit, worker.output()).to.equal(0);
      expect(worker.output()).to.contain('worker stopped');
    });
  });
});
