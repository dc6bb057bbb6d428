/**
 * A durable job queue on the service's own MongoDB, for work too long for one
 * request (issuing a thousand acts, say). It is agenda with its MongoDB backend:
 * every process that starts a queue on the same database and collection takes
 * part, whether the service itself (JOBS_IN_PROCESS) or any number of
 * `npm run worker` processes on any machine.
 *
 * A running job holds a lease: a lock that its handler renews with `touch()`.
 * When the process running it dies, the lease lapses after `lockLifetimeMs` and
 * another worker runs the job again from the start, so handlers must be
 * idempotent: record each piece of work done and skip it on a second run.
 *
 * FerretDB 1.x runs findAndModify and update as a read followed by an
 * unconditional write of the whole document, outside any transaction, so
 * agenda's lock (a findOneAndUpdate on `lockedAt: null`) lets several workers
 * take the same job at once. The claim is therefore made with an insert under a
 * unique `_id` into a side collection, which FerretDB does make atomic; see
 * ClaimingJobRepository.
 */
import { hostname } from 'node:os';
import { MongoJobRepository, ObjectId } from '@agendajs/mongo-backend';
import {
  Agenda,
  computeJobState,
  type AgendaBackend,
  type Job,
  type JobId,
  type JobParameters,
  type JobRepositoryOptions,
} from 'agenda';
import type { Collection, Db, MongoServerError } from 'mongodb';
import type { Logger } from './logger.js';

export type JobState = 'queued' | 'running' | 'completed' | 'failed';

export interface JobStatus {
  state: JobState;
  failReason?: string;
  lastRunAt?: Date;
  lastFinishedAt?: Date;
}

/** What a handler sees of the job it runs. */
export interface RunningJob {
  readonly id: string;
  /** Renews the lease; call it at least once per `lockLifetimeMs`, e.g. after each item. */
  touch(): Promise<void>;
}

export type JobHandler<T> = (data: T, job: RunningJob) => Promise<void>;

export interface JobQueue {
  /** Registers the handler of a job type; this process will run that type once started. */
  define<T>(name: string, handler: JobHandler<T>): void;
  /** Stores a job to run as soon as a worker is free; returns its id. Needs no start(). */
  enqueue<T>(name: string, data: T): Promise<string>;
  /** The job's state, or null for an unknown id. */
  status(id: string): Promise<JobStatus | null>;
  /** Starts taking and running jobs of the defined types. */
  start(): Promise<void>;
  /** Takes no more jobs and waits up to `stopTimeoutMs` for running ones to finish. */
  stop(): Promise<void>;
}

export interface JobQueueOptions {
  /** The database holding the queue: the mongoose connection's `db`. */
  db: Db;
  logger: Logger;
  /** Names this process in the job documents and logs. */
  workerName?: string;
  /** How long a lease lasts without touch(); after a crash, how long until the job is resumed. */
  lockLifetimeMs?: number;
  /** How often the database is polled for jobs to run. */
  processEveryMs?: number;
  /** Jobs this process runs at once. */
  concurrency?: number;
  /** How long stop() waits for running jobs; those still running are resumed elsewhere later. */
  stopTimeoutMs?: number;
  /** The jobs collection; its claims live in `<collection>_claims`. */
  collection?: string;
}

export const defaultJobOptions = {
  lockLifetimeMs: 2 * 60_000,
  processEveryMs: 2_000,
  concurrency: 2,
  stopTimeoutMs: 10_000,
  collection: 'jobs',
};

export function defaultWorkerName(role: string): string {
  return `${role}@${hostname()}:${process.pid}`;
}

export function createJobQueue(options: JobQueueOptions): JobQueue {
  const settings = { ...defaultJobOptions, ...definedOnly(options) };
  const workerName = options.workerName ?? defaultWorkerName('jobs');
  const logger = options.logger.child({ component: 'jobs', worker: workerName });
  const repository = new ClaimingJobRepository(
    options.db,
    settings.collection,
    settings.lockLifetimeMs,
    workerName,
  );
  const backend: AgendaBackend = {
    name: 'MongoDB with insert-based claims',
    repository,
    // The connection is the caller's: stopping the queue must not close it.
    ownsConnection: false,
    connect: () => repository.connect(),
    disconnect: () => Promise.resolve(),
  };
  const agenda = new Agenda({
    backend,
    name: workerName,
    processEvery: settings.processEveryMs,
    defaultLockLifetime: settings.lockLifetimeMs,
    maxConcurrency: settings.concurrency,
    defaultConcurrency: settings.concurrency,
    // Locking no more jobs than can run keeps jobs from waiting, lease ticking, in a local queue.
    lockLimit: settings.concurrency,
    defaultLockLimit: settings.concurrency,
    removeOnComplete: false,
  });
  agenda.on('error', (error) => logger.error({ err: error }, 'job queue error'));
  agenda.on('start', (job) => logger.info({ job: describe(job) }, 'job started'));
  agenda.on('success', (job) => logger.info({ job: describe(job) }, 'job completed'));
  agenda.on('fail', (error, job) => logger.warn({ job: describe(job), err: error }, 'job failed'));

  // Index creation is a query that can fail; agenda's own connect() must not, as it rejects unobserved.
  let prepared: Promise<void> | undefined;
  const prepare = () => {
    prepared ??= agenda.ready
      .then(() => repository.createIndexes())
      .catch((error: unknown) => {
        prepared = undefined;
        throw error;
      });
    return prepared;
  };
  let started = false;

  return {
    define<T>(name: string, handler: JobHandler<T>) {
      agenda.define<T>(name, async (job: Job<T>) => {
        const running: RunningJob = { id: String(job.attrs._id), touch: () => renew(job) };
        await handler(job.attrs.data, running);
      });
    },
    async enqueue<T>(name: string, data: T) {
      await prepare();
      const job = await agenda.now<T>(name, data);
      return String(job.attrs._id);
    },
    async status(id: string) {
      if (!/^[0-9a-f]{24}$/i.test(id)) return null;
      await prepare();
      const job = await repository.getJobById(id);
      if (!job) return null;
      const state = computeJobState(job);
      return {
        state:
          state === 'running' || state === 'completed' || state === 'failed' ? state : 'queued',
        ...(state === 'failed' && job.failReason ? { failReason: job.failReason } : {}),
        ...(job.lastRunAt ? { lastRunAt: job.lastRunAt } : {}),
        ...(job.lastFinishedAt ? { lastFinishedAt: job.lastFinishedAt } : {}),
      };
    },
    async start() {
      await prepare();
      await agenda.start();
      started = true;
      logger.info(
        { types: Object.keys(agenda.definitions), concurrency: settings.concurrency },
        'job queue processing',
      );
    },
    async stop() {
      if (!started) return;
      started = false;
      const result = await agenda.drain({ timeout: settings.stopTimeoutMs });
      if (result.running > 0) {
        logger.warn(
          { running: result.running },
          'jobs still running at stop; another worker resumes them when their lease lapses',
        );
      }
    },
  };
}

/**
 * Renews the lease, trying again after a failed write: FerretDB on SQLite answers
 * "database is locked" when writers pile up, which must not fail a long job.
 * A job agenda has cancelled (its lease lapsed) is not renewed.
 */
async function renew(job: Job): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await job.touch();
      return;
    } catch (error) {
      if (job.getCanceledMessage() !== undefined || attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}

function describe(job: Job): { id: string; name: string } {
  return { id: String(job.attrs._id), name: job.attrs.name };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, entry]) => entry !== undefined),
  ) as Partial<T>;
}

interface ClaimDocument {
  _id: string;
  jobId: string;
  claimedAt: Date;
  by: string;
}

/** The fields of a stored job that make up its lock state. */
interface LockFields {
  _id?: ObjectId;
  lockedAt?: Date | null;
  nextRunAt: Date | null;
  /** Set by ClaimingJobRepository.release; not an agenda field. */
  releasedAt?: Date | null;
}

/** How many ready jobs one look at the queue considers, in case the first ones are claimed. */
const candidatesPerScan = 5;

/**
 * agenda's MongoDB repository with the lock taken through a claim document.
 *
 * A worker reads a ready job, then inserts a claim whose `_id` names the job
 * and the lock state it saw (`lockedAt`, `nextRunAt`). Only one insert of that
 * `_id` succeeds, so only one worker takes the job out of that state; the
 * winner re-reads the job to make sure the state is still the one it claimed,
 * then writes its `lockedAt`. Every change of lock state (a new lease, a
 * touch, a release) gives a new claim `_id`, so a lapsed lease can be claimed
 * again. A claim whose worker died before writing `lockedAt` is passed over
 * once it is older than a lease, with a numbered `_id` of its own.
 */
export class ClaimingJobRepository extends MongoJobRepository {
  private readonly claims: Collection<ClaimDocument>;
  private readonly scanning = new Set<string>();

  constructor(
    db: Db,
    collection: string,
    private readonly lockLifetimeMs: number,
    private readonly workerName: string,
  ) {
    super({ mongo: db, db: { collection }, ensureIndex: false });
    this.claims = db.collection<ClaimDocument>(`${collection}_claims`);
  }

  async createIndexes(): Promise<void> {
    await this.collection.createIndex(
      { name: 1, nextRunAt: 1, priority: -1, lockedAt: 1, disabled: 1 },
      { name: 'findAndLockNextJobIndex' },
    );
    await this.claims.createIndex({ jobId: 1 });
  }

  override async getNextJobToRun(
    jobName: string,
    nextScanAt: Date,
    lockDeadline: Date,
    now: Date | undefined,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    // agenda polls on a timer without waiting for the previous scan: on a slow database
    // scans would pile up, every one of them writing claims.
    if (this.scanning.has(jobName)) return undefined;
    this.scanning.add(jobName);
    try {
      return await this.lockNextJob(jobName, nextScanAt, lockDeadline, now ?? new Date(), options);
    } finally {
      this.scanning.delete(jobName);
    }
  }

  private async lockNextJob(
    jobName: string,
    nextScanAt: Date,
    lockDeadline: Date,
    lockTime: Date,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    const candidates = await this.collection
      .find({
        name: jobName,
        disabled: { $ne: true },
        $or: [
          { lockedAt: { $eq: null }, nextRunAt: { $lte: nextScanAt } },
          { lockedAt: { $lte: lockDeadline } },
        ],
      })
      .sort({ nextRunAt: 1, priority: -1 })
      .limit(candidatesPerScan)
      .toArray();
    // Workers that look at the same moment would all try the oldest job first.
    for (const candidate of shuffled(candidates)) {
      const locked = await this.claimAndLock(candidate, lockDeadline, lockTime, options);
      if (locked) return locked;
    }
    return undefined;
  }

  /** agenda 6 no longer calls it; kept so that no path locks without a claim. */
  override async lockJob(
    job: JobParameters,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    if (!job._id) return undefined;
    const candidate = await this.collection.findOne({
      _id: new ObjectId(String(job._id)),
      name: job.name,
      lockedAt: null,
      nextRunAt: job.nextRunAt,
      disabled: { $ne: true },
    });
    if (!candidate) return undefined;
    const now = new Date();
    return this.claimAndLock(candidate, this.deadline(now), now, options);
  }

  /**
   * Releases jobs locked here but not started (agenda does so on stop). The
   * release is stamped so that the job's lock state is a new one: the claims of
   * the state it goes back to are spent and would block it.
   */
  override async unlockJob(job: JobParameters): Promise<void> {
    if (job._id) await this.release([job._id]);
  }

  override async unlockJobs(jobIds: (JobId | string)[]): Promise<void> {
    await this.release(jobIds);
  }

  private async release(jobIds: (JobId | string)[]): Promise<void> {
    if (jobIds.length === 0) return;
    await this.collection.updateMany(
      // A job that has started (nextRunAt null) keeps its lease and is resumed when it lapses.
      { _id: { $in: jobIds.map((id) => new ObjectId(String(id))) }, nextRunAt: { $ne: null } },
      { $set: { releasedAt: new Date() }, $unset: { lockedAt: true } },
    );
  }

  // A finished job's claims are spent; removing them keeps the claims collection small.
  override async saveJobState(
    job: JobParameters,
    options: JobRepositoryOptions | undefined,
  ): Promise<void> {
    await super.saveJobState(job, options);
    if (!job.lockedAt && job._id) await this.claims.deleteMany({ jobId: String(job._id) });
  }

  private deadline(now: Date): Date {
    return new Date(now.getTime() - this.lockLifetimeMs);
  }

  private async claimAndLock(
    candidate: LockFields,
    lockDeadline: Date,
    lockTime: Date,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    const _id = candidate._id;
    if (!_id) return undefined;
    const jobId = _id.toHexString();
    const seen = lockState(candidate);
    const claimId = await this.claim(`${jobId}@${seen}`, jobId, lockDeadline, lockTime);
    if (!claimId) return undefined;
    const current = await this.collection.findOne({ _id });
    // The job moved on between our read and our claim (it finished, and its claims were
    // removed). The claim is left: deleting it could race with another worker's of the same _id.
    if (!current || lockState(current) !== seen) return undefined;
    await this.collection.updateOne(
      { _id },
      { $set: { lockedAt: lockTime, lastModifiedBy: options?.lastModifiedBy ?? null } },
    );
    return (await this.getJobById(jobId)) ?? undefined;
  }

  /** Inserts the claim; returns its `_id`, or undefined when another worker holds it. */
  private async claim(
    key: string,
    jobId: string,
    lockDeadline: Date,
    claimedAt: Date,
  ): Promise<string | undefined> {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const claimId = attempt === 0 ? key : `${key}#${attempt}`;
      // A read first: on SQLite every insert, even a refused one, waits for the single writer.
      let held = await this.claims.findOne({ _id: claimId });
      if (held && held.claimedAt > lockDeadline) return undefined;
      if (held) continue;
      try {
        await this.claims.insertOne({ _id: claimId, jobId, claimedAt, by: this.workerName });
        return claimId;
      } catch (error) {
        if ((error as MongoServerError).code !== 11000) throw error;
      }
      held = await this.claims.findOne({ _id: claimId });
      // A fresh claim is another worker's lock; a stale one is a worker that died claiming.
      if (held && held.claimedAt > lockDeadline) return undefined;
    }
    return undefined;
  }
}

function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(Math.random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

function lockState(job: LockFields): string {
  return [
    job.lockedAt?.getTime() ?? 'unlocked',
    job.nextRunAt?.getTime() ?? 'unscheduled',
    job.releasedAt?.getTime() ?? 'unreleased',
  ].join('/');
}
