import { expect } from 'chai';
import { call, newTenant } from '../support/http.js';

describe('HTTP basics', () => {
  it('answers 404 problem+json for an unknown route, with or without a token', async () => {
    const anonymous = await call<{ status: number; title: string }>('GET', '/no/such/route');
    expect(anonymous.status).to.equal(404);
    expect(anonymous.contentType).to.contain('application/problem+json');
    expect(anonymous.body.status).to.equal(404);
    const tenant = await newTenant();
    const authenticated = await call('GET', '/api/v1/no-such-thing', { token: tenant.token });
    expect(authenticated.status).to.equal(404);
  });

  it('answers 400 problem+json for malformed JSON and keeps serving', async () => {
    const tenant = await newTenant();
    const response = await call<{ detail: string; stack?: string }>('POST', '/api/v1/admin/users', {
      token: tenant.token,
      rawBody: '{"name": "Mario", ',
    });
    expect(response.status).to.equal(400);
    expect(response.contentType).to.contain('application/problem+json');
    expect(response.body.detail).to.contain('JSON');
    expect(response.body).not.to.have.property('stack');
    expect((await call('GET', '/healthz')).status).to.equal(200);
  });

  it('answers 413 problem+json for an oversize body, stores nothing, and keeps serving', async () => {
    const tenant = await newTenant();
    const huge = {
      name: 'Mario Rossi',
      email: 'mario@comune.example',
      roles: ['admin'],
      padding: 'x'.repeat(2 * 1024 * 1024),
    };
    const response = await call('POST', '/api/v1/admin/users', { token: tenant.token, json: huge });
    expect(response.status).to.equal(413);
    expect(response.contentType).to.contain('application/problem+json');
    const users = await call<{ email: string }[]>('GET', '/api/v1/admin/users', {
      token: tenant.token,
    });
    expect(users.body.map((user) => user.email)).not.to.include('mario@comune.example');
    expect((await call('GET', '/healthz')).status).to.equal(200);
  });

  it('rejects unknown fields instead of silently dropping them', async () => {
    const tenant = await newTenant();
    const response = await call<{ invalidParams: { name: string }[] }>(
      'POST',
      '/api/v1/admin/users',
      {
        token: tenant.token,
        json: {
          name: 'Mario Rossi',
          email: 'mario@comune.example',
          roles: ['legal'],
          isSuperuser: true,
        },
      },
    );
    expect(response.status).to.equal(400);
    expect(response.body.invalidParams[0]?.name).to.equal('body');
  });

  it('gives every response a request id, reusing a sane incoming one', async () => {
    const generated = await call('GET', '/healthz');
    expect(generated.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    const reused = await call('GET', '/healthz', { headers: { 'x-request-id': 'abc-123' } });
    expect(reused.headers.get('x-request-id')).to.equal('abc-123');
    const refused = await call('GET', '/healthz', {
      headers: { 'x-request-id': 'bad id <script>' },
    });
    expect(refused.headers.get('x-request-id')).not.to.contain('<');
  });

  it('sends security headers', async () => {
    const response = await call('GET', '/healthz');
    expect(response.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(response.headers.get('x-powered-by')).to.equal(null);
  });
});
