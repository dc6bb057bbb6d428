/**
 * The job types of Sigillo. Each component that has long work to queue adds the
 * registration of its handlers here, so that the service (JOBS_IN_PROCESS) and
 * every `npm run worker` process run the same set of job types.
 */
import { registerBulkJobs } from './appointments/bulk.js';
import type { ModelRenderer } from './documents/render-pool.js';
import type { JobQueue } from './platform/jobs.js';
import type { Logger } from './platform/logger.js';
import type { ObjectStorage } from './platform/storage.js';

/** What job handlers may use; the same in the service and in a worker. */
export interface JobDependencies {
  storage: ObjectStorage;
  render: ModelRenderer;
  logger: Logger;
}

/**
 * Defines every job type on `queue`. Handlers must be idempotent: a job whose
 * worker died is run again from the start by another worker.
 */
export function registerJobHandlers(queue: JobQueue, dependencies: JobDependencies): void {
  registerBulkJobs(queue, dependencies);
}
