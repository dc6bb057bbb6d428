import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { ConfigError, parseConfig } from '../../server/platform/config.js';

function startWith(
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

describe('configuration', () => {
  it('applies defaults when nothing is set', () => {
    const config = parseConfig({});
    expect(config.PORT).to.equal(3000);
    expect(config.S3_BUCKET).to.equal('sigillo');
    expect(config.MONGODB_URI).to.equal(undefined);
    expect(config.LOG_LEVEL).to.equal('info');
  });

  for (const [variable, value] of [
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['MONGODB_URI', 'http://localhost:27017'],
    ['S3_ENDPOINT', 'ftp://minio'],
    ['LOG_LEVEL', 'loud'],
    ['S3_BUCKET', 'Not_A_Bucket'],
  ] as const) {
    it(`rejects ${variable}=${value} with a message naming ${variable}`, () => {
      expect(() => parseConfig({ [variable]: value })).to.throw(ConfigError, variable);
    });
  }

  it('requires S3 credentials when S3_ENDPOINT is set, without echoing secrets', () => {
    expect(() => parseConfig({ S3_ENDPOINT: 'http://127.0.0.1:9000' })).to.throw(
      ConfigError,
      'S3_ACCESS_KEY_ID',
    );
    try {
      parseConfig({
        S3_ENDPOINT: 'http://127.0.0.1:9000',
        S3_ACCESS_KEY_ID: 'k',
        S3_SECRET_ACCESS_KEY: '',
      });
    } catch (error) {
      expect((error as Error).message).to.contain('S3_SECRET_ACCESS_KEY');
    }
  });

  it('stops `npm start` on a bad PORT with one line naming it, before starting anything', async function () {
    this.timeout(30_000);
    const result = await startWith({ PORT: 'abc' });
    expect(result.code).to.equal(78);
    const lines = result.stderr.trim().split('\n');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^Invalid configuration: PORT /);
    expect(result.stdout).not.to.contain('FerretDB');
  });

  it('stops `npm start` on a malformed MONGODB_URI with one line naming it', async function () {
    this.timeout(30_000);
    const result = await startWith({ MONGODB_URI: 'mongo:/broken' });
    expect(result.code).to.equal(78);
    const lines = result.stderr.trim().split('\n');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^Invalid configuration: MONGODB_URI /);
  });
});
