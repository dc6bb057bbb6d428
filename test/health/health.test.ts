import { expect } from 'chai';
import { testEnvironment } from '../support/environment.js';
import { call } from '../support/http.js';

describe('health', () => {
  it('GET /healthz answers 200 while the process lives', async () => {
    const response = await call('GET', '/healthz');
    expect(response.status).to.equal(200);
    expect(response.body).to.deep.equal({ status: 'ok' });
  });

  it('GET /readyz answers 200 when MongoDB and S3 are both reachable', async () => {
    const response = await call<{ checks: Record<string, string> }>('GET', '/readyz');
    expect(response.status).to.equal(200);
    expect(response.body.checks).to.deep.equal({ mongodb: 'ok', s3: 'ok' });
  });

  it('GET /readyz answers 503 naming S3 while MinIO is down, and 200 once it is back', async function () {
    this.timeout(60_000);
    const environment = testEnvironment();
    await environment.minio.stop();
    try {
      const down = await call<{
        unavailable: string[];
        detail: string;
        checks: Record<string, string>;
      }>('GET', '/readyz');
      expect(down.status).to.equal(503);
      expect(down.contentType).to.contain('application/problem+json');
      expect(down.body.unavailable).to.deep.equal(['s3']);
      expect(down.body.detail).to.contain('S3');
      expect(down.body.checks.mongodb).to.equal('ok');
      expect((await call('GET', '/healthz')).status).to.equal(200);
    } finally {
      await environment.restartMinio();
    }
    const up = await call('GET', '/readyz');
    expect(up.status).to.equal(200);
  });
});
