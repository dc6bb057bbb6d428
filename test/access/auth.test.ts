import { expect } from 'chai';
import mongoose from 'mongoose';
import { ApiToken, User } from '../../server/access/model.js';
import { hashApiToken } from '../../server/platform/auth.js';
import { runInTenant } from '../../server/platform/tenancy.js';
import { call, newTenant } from '../support/http.js';

describe('authentication and roles', () => {
  it('answers 401 with problem+json when the token is missing', async () => {
    const response = await call('GET', '/api/v1/me');
    expect(response.status).to.equal(401);
    expect(response.contentType).to.contain('application/problem+json');
    expect(response.headers.get('www-authenticate')).to.equal('Bearer');
  });

  it('answers 401 for a malformed or unknown token', async () => {
    expect((await call('GET', '/api/v1/me', { token: 'not-a-token' })).status).to.equal(401);
    const unknown = 'sgl_' + 'A'.repeat(43);
    expect((await call('GET', '/api/v1/me', { token: unknown })).status).to.equal(401);
  });

  it('lets a valid token in and tells the caller who it is', async () => {
    const tenant = await newTenant();
    const response = await call<{ user: { roles: string[] }; organisation: { name: string } }>(
      'GET',
      '/api/v1/me',
      { token: tenant.token },
    );
    expect(response.status).to.equal(200);
    expect(response.body.user.roles).to.deep.equal(['admin']);
    expect(response.body.organisation.name).to.equal(tenant.organisation.name);
  });

  it('answers 401 for a revoked token, and revocation is kept in the database', async () => {
    const tenant = await newTenant();
    const created = await call<{ id: string }>('POST', '/api/v1/admin/users', {
      token: tenant.token,
      json: { name: 'Laura Bianchi', email: 'laura.bianchi@comune.example', roles: ['legal'] },
    });
    expect(created.status).to.equal(201);
    const issued = await call<{ id: string; token: string }>(
      'POST',
      `/api/v1/admin/users/${created.body.id}/tokens`,
      { token: tenant.token, json: { label: 'portatile' } },
    );
    expect(issued.status).to.equal(201);
    expect((await call('GET', '/api/v1/me', { token: issued.body.token })).status).to.equal(200);

    const revoked = await call<{ revokedAt: string }>(
      'DELETE',
      `/api/v1/admin/tokens/${issued.body.id}`,
      {
        token: tenant.token,
      },
    );
    expect(revoked.status).to.equal(200);
    expect(revoked.body.revokedAt).to.be.a('string');
    expect((await call('GET', '/api/v1/me', { token: issued.body.token })).status).to.equal(401);
    const stored = await ApiToken.findById(issued.body.id).setOptions({ crossTenant: true });
    expect(stored?.revokedAt).to.be.instanceOf(Date);
  });

  it('answers 403 naming the roles when a valid token lacks the role', async () => {
    const tenant = await newTenant();
    const user = await call<{ id: string }>('POST', '/api/v1/admin/users', {
      token: tenant.token,
      json: { name: 'Paolo Verdi', email: 'paolo.verdi@comune.example', roles: ['segreteria'] },
    });
    const issued = await call<{ token: string }>(
      'POST',
      `/api/v1/admin/users/${user.body.id}/tokens`,
      {
        token: tenant.token,
        json: { label: 'ufficio' },
      },
    );
    const response = await call<{ detail: string }>('GET', '/api/v1/admin/users', {
      token: issued.body.token,
    });
    expect(response.status).to.equal(403);
    expect(response.contentType).to.contain('application/problem+json');
    expect(response.body.detail).to.contain('admin');
    // The body of a forbidden request is never acted on.
    const attempt = await call('POST', '/api/v1/admin/users', {
      token: issued.body.token,
      json: { name: 'Intruso', email: 'intruso@comune.example', roles: ['admin'] },
    });
    expect(attempt.status).to.equal(403);
    expect(
      await User.countDocuments({ email: 'intruso@comune.example' }).setOptions({
        crossTenant: true,
      }),
    ).to.equal(0);
  });

  it("answers 404 for another tenant's user and token, and never touches them", async () => {
    const first = await newTenant();
    const second = await newTenant();
    const secondsUser = await call<{ id: string }>('POST', '/api/v1/admin/users', {
      token: second.token,
      json: { name: 'Anna Neri', email: 'anna.neri@altro.example', roles: ['dpo'] },
    });
    const secondsToken = await call<{ id: string; token: string }>(
      'POST',
      `/api/v1/admin/users/${secondsUser.body.id}/tokens`,
      { token: second.token, json: { label: 'dpo' } },
    );

    expect(
      (await call('GET', `/api/v1/admin/users/${secondsUser.body.id}`, { token: first.token }))
        .status,
    ).to.equal(404);
    const patch = await call('PATCH', `/api/v1/admin/users/${secondsUser.body.id}`, {
      token: first.token,
      json: { active: false },
    });
    expect(patch.status).to.equal(404);
    const revoke = await call('DELETE', `/api/v1/admin/tokens/${secondsToken.body.id}`, {
      token: first.token,
    });
    expect(revoke.status).to.equal(404);
    const list = await call<{ id: string }[]>('GET', '/api/v1/admin/users', { token: first.token });
    expect(list.body.map((user) => user.id)).not.to.include(secondsUser.body.id);

    // The other tenant's records are as they were.
    expect((await call('GET', '/api/v1/me', { token: secondsToken.body.token })).status).to.equal(
      200,
    );
    const stored = await runInTenant(second.organisation._id, () =>
      User.findById(secondsUser.body.id).exec(),
    );
    expect(stored?.active).to.equal(true);
  });

  it('shows a token once and stores only its SHA-256', async () => {
    const tenant = await newTenant();
    const listed = await call<Record<string, unknown>[]>('GET', '/api/v1/admin/tokens', {
      token: tenant.token,
    });
    expect(listed.status).to.equal(200);
    expect(listed.body).to.have.length(1);
    for (const token of listed.body) {
      expect(token).not.to.have.property('tokenHash');
      expect(token).not.to.have.property('token');
      expect(JSON.stringify(token)).not.to.contain(tenant.token);
      expect(JSON.stringify(token)).not.to.contain(hashApiToken(tenant.token));
    }
    const raw = await mongoose.connection
      .collection('apitokens')
      .findOne({ organisationId: tenant.organisation._id });
    expect(raw?.tokenHash).to.equal(hashApiToken(tenant.token));
    expect(JSON.stringify(raw)).not.to.contain(tenant.token);
  });

  it('refuses to leave an organisation without an active administrator', async () => {
    const tenant = await newTenant();
    const response = await call<{ detail: string }>(
      'PATCH',
      `/api/v1/admin/users/${tenant.admin.id}`,
      {
        token: tenant.token,
        json: { roles: ['segreteria'] },
      },
    );
    expect(response.status).to.equal(409);
    expect(response.body.detail).to.contain('amministratore');
    expect((await call('GET', '/api/v1/admin/users', { token: tenant.token })).status).to.equal(
      200,
    );
  });

  it('validates user input and names each bad field', async () => {
    const tenant = await newTenant();
    const response = await call<{ invalidParams: { name: string }[] }>(
      'POST',
      '/api/v1/admin/users',
      {
        token: tenant.token,
        json: { name: 'X', email: 'not-an-email', roles: ['sindaco'] },
      },
    );
    expect(response.status).to.equal(400);
    expect(response.body.invalidParams.map((param) => param.name)).to.have.members([
      'body.name',
      'body.email',
      'body.roles.0',
    ]);
    const duplicate = {
      name: 'Gianni Blu',
      email: 'gianni@comune.example',
      roles: ['procurement'],
    };
    expect(
      (await call('POST', '/api/v1/admin/users', { token: tenant.token, json: duplicate })).status,
    ).to.equal(201);
    expect(
      (await call('POST', '/api/v1/admin/users', { token: tenant.token, json: duplicate })).status,
    ).to.equal(409);
    const badId = await call('GET', '/api/v1/admin/users/123', { token: tenant.token });
    expect(badId.status).to.equal(400);
  });
});
