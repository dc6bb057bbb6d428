import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { request } from 'node:http';
import { testEnvironment } from '../support/environment.js';
import { newTenant } from '../support/http.js';

/** Starts `server/main.ts` as `npm start` would, against the test servers. */
async function startServiceProcess(): Promise<{
  child: ChildProcessWithoutNullStreams;
  port: number;
  logs: () => string;
}> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: {
      ...process.env,
      ...testEnvironment().serverEnv,
      PORT: '0',
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: '10000',
    },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 30_000);
    const check = () => {
      const match = /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', check);
    child.once('exit', () => reject(new Error(`service exited:\n${output}`)));
  });
  return { child, port, logs: () => output };
}

describe('graceful shutdown', () => {
  it('on SIGTERM finishes the request in flight, refuses new ones, and exits 0', async function () {
    this.timeout(60_000);
    const tenant = await newTenant();
    const { child, port, logs } = await startServiceProcess();
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

    // A request whose body is still arriving when the signal comes.
    const body = JSON.stringify({
      name: 'Carla Gialli',
      email: 'carla.gialli@comune.example',
      roles: ['dpo'],
    });
    const inFlight = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const outgoing = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/v1/admin/users',
          headers: {
            authorization: `Bearer ${tenant.token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        },
      );
      outgoing.on('error', reject);
      outgoing.write(body.slice(0, 10));
      setTimeout(() => {
        child.kill('SIGTERM');
        setTimeout(() => outgoing.end(body.slice(10)), 500);
      }, 300);
    });

    const finished = await inFlight;
    expect(finished.status, finished.text).to.equal(201);
    expect(JSON.parse(finished.text)).to.include({ email: 'carla.gialli@comune.example' });
    expect(await exited).to.equal(0);
    expect(logs()).to.contain('shutdown complete');
    const refused = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(refused).to.equal('refused');
  });
});
