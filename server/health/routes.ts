import { z } from 'zod';
import { problemSchema, type Api } from '../platform/api.js';
import { HttpProblem, sendProblem } from '../platform/http-problem.js';
import { pingDatabase } from '../platform/db.js';
import type { ObjectStorage } from '../platform/storage.js';

const checkTimeoutMs = 2000;

const readinessSchema = z
  .object({
    status: z.literal('ready'),
    checks: z.object({ mongodb: z.string(), s3: z.string() }),
    unavailable: z.array(z.enum(['mongodb', 's3'])),
  })
  .openapi('Readiness');

async function check(probe: () => Promise<void>): Promise<string> {
  try {
    await probe();
    return 'ok';
  } catch (error) {
    return `unreachable: ${(error as Error).message || (error as Error).name}`;
  }
}

export function registerHealthRoutes(api: Api, storage: ObjectStorage): void {
  api.route({
    method: 'get',
    path: '/healthz',
    summary: 'Il processo è vivo',
    tags: ['Stato'],
    access: 'public',
    responses: { 200: { description: 'Vivo', schema: z.object({ status: z.literal('ok') }) } },
    handler: (_input, _request, response) => {
      response.json({ status: 'ok' });
    },
  });

  api.route({
    method: 'get',
    path: '/readyz',
    summary: 'MongoDB e S3 sono raggiungibili',
    tags: ['Stato'],
    access: 'public',
    responses: {
      200: { description: 'Pronto', schema: readinessSchema },
      503: {
        description: 'Una dipendenza non risponde; `unavailable` dice quale',
        schema: problemSchema.extend({
          checks: z.object({ mongodb: z.string(), s3: z.string() }),
          unavailable: z.array(z.enum(['mongodb', 's3'])),
        }),
        contentType: 'application/problem+json',
      },
    },
    handler: async (_input, _request, response) => {
      const [mongodb, s3] = await Promise.all([
        check(() => pingDatabase(checkTimeoutMs)),
        check(() => storage.ping(checkTimeoutMs)),
      ]);
      const unavailable = [
        ...(mongodb === 'ok' ? [] : ['mongodb']),
        ...(s3 === 'ok' ? [] : ['s3']),
      ];
      response.setHeader('Cache-Control', 'no-store');
      if (unavailable.length === 0) {
        response.json({ status: 'ready', checks: { mongodb, s3 }, unavailable });
        return;
      }
      const names = unavailable.map((name) => (name === 's3' ? 'S3' : 'MongoDB')).join(' e ');
      sendProblem(
        response,
        HttpProblem.unavailable(`Non raggiungibile: ${names}`, {
          checks: { mongodb, s3 },
          unavailable,
        }),
      );
    },
  });
}
