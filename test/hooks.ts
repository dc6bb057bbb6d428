/**
 * Mocha root hooks: the real servers start before the first test and stop after the last.
 */
import type { Context } from 'mocha';
import { startTestEnvironment, stopTestEnvironment } from './support/environment.js';

export const mochaHooks = {
  async beforeAll(this: Context) {
    // The first run on a machine builds FerretDB and MinIO from their Go modules.
    this.timeout(40 * 60_000);
    await startTestEnvironment();
  },
  async afterAll(this: Context) {
    this.timeout(60_000);
    await stopTestEnvironment();
  },
};
