/**
 * An RFC 3161 time-stamping authority for tests: a node:http server on
 * 127.0.0.1 whose answers come from `openssl ts -reply`, so the tokens Sigillo
 * embeds are made by an independent implementation, not by Sigillo itself.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MAX_QUERY_BYTES = 64 * 1024;

export interface TestTsaOptions {
  /** PEM certificate of the TSA (extendedKeyUsage timeStamping, critical). */
  certFile: string;
  keyFile: string;
  /** An openssl config with the `tsa` section `openssl ts -reply` reads (serial file, policy…). */
  configFile: string;
  /** PEM chain put into the tokens with the TSA certificate. */
  caFile: string;
}

export interface TestTsa {
  url: string;
  /** How many tokens it issued, for tests that check a time-stamp was (not) asked for. */
  readonly issued: number;
  stop(): Promise<void>;
}

export async function startTestTsa(options: TestTsaOptions): Promise<TestTsa> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'sigillo-tsa-'));
  let issued = 0;
  let sequence = 0;
  // openssl increments the serial file in place: one reply at a time.
  let queue: Promise<unknown> = Promise.resolve();

  const reply = async (query: Buffer): Promise<Buffer> => {
    const id = ++sequence;
    const queryFile = path.join(workDir, `query-${id}.tsq`);
    const replyFile = path.join(workDir, `reply-${id}.tsr`);
    await writeFile(queryFile, query);
    try {
      await run('openssl', [
        'ts',
        '-reply',
        '-config',
        options.configFile,
        '-queryfile',
        queryFile,
        '-signer',
        options.certFile,
        '-inkey',
        options.keyFile,
        '-chain',
        options.caFile,
        '-out',
        replyFile,
      ]);
      issued++;
      return await readFile(replyFile);
    } finally {
      await Promise.all([rm(queryFile, { force: true }), rm(replyFile, { force: true })]);
    }
  };

  const server = createServer((request, response) => {
    if (request.method !== 'POST') {
      response.writeHead(405, { Allow: 'POST' }).end();
      return;
    }
    readBody(request)
      .then((query) => {
        const answer = queue.then(() => reply(query));
        queue = answer.catch(() => undefined);
        return answer;
      })
      .then((token) => {
        response
          .writeHead(200, {
            'Content-Type': 'application/timestamp-reply',
            'Content-Length': token.length,
          })
          .end(token);
      })
      .catch((error: unknown) => {
        const stderr = (error as { stderr?: string }).stderr;
        response
          .writeHead(500, { 'Content-Type': 'text/plain' })
          .end(`openssl ts -reply failed: ${stderr ?? String(error)}`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/tsa`,
    get issued() {
      return issued;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue;
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const data = chunk as Buffer;
    size += data.length;
    if (size > MAX_QUERY_BYTES) throw new Error('time-stamp query too large');
    chunks.push(data);
  }
  return Buffer.concat(chunks);
}
