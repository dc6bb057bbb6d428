import { expect } from 'chai';
import { Settore } from '../../server/settori/model.js';
import { runInTenant } from '../../server/platform/tenancy.js';
import { call, newTenant } from '../support/http.js';
import { createPerson, tokenWithRoles } from '../support/registry.js';

interface SettoreJson {
  id: string;
  name: string;
  code: string | null;
  managerId: string | null;
  email: string | null;
  archived: boolean;
}

interface Problem {
  detail: string;
  invalidParams?: { name: string; reason: string }[];
  references?: { kind: string; id: string; description: string }[];
}

describe('settori', () => {
  it('creates, lists, updates and archives a settore, as the database shows', async () => {
    const tenant = await newTenant();
    const manager = await createPerson(tenant.token, 'Giovanni', 'Ricci');
    const created = await call<SettoreJson>('POST', '/api/v1/settori', {
      token: tenant.token,
      json: {
        name: 'Area amministrativa',
        code: 'AA',
        managerId: manager.id,
        email: 'Segreteria@Comune.Example.it',
      },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body).to.include({
      name: 'Area amministrativa',
      code: 'AA',
      managerId: manager.id,
      email: 'segreteria@comune.example.it',
      archived: false,
    });
    await call('POST', '/api/v1/settori', { token: tenant.token, json: { name: 'Area tecnica' } });

    const list = await call<SettoreJson[]>('GET', '/api/v1/settori', { token: tenant.token });
    expect(list.headers.get('x-total-count')).to.equal('2');
    expect(list.body.map((settore) => settore.name)).to.deep.equal([
      'Area amministrativa',
      'Area tecnica',
    ]);
    const reversed = await call<SettoreJson[]>('GET', '/api/v1/settori?sort=-name&limit=1', {
      token: tenant.token,
    });
    expect(reversed.body.map((settore) => settore.name)).to.deep.equal(['Area tecnica']);

    const patched = await call<SettoreJson>('PATCH', `/api/v1/settori/${created.body.id}`, {
      token: tenant.token,
      json: { name: 'Area affari generali', managerId: null, code: null },
    });
    expect(patched.status).to.equal(200);
    expect(patched.body).to.include({ name: 'Area affari generali', managerId: null, code: null });
    const stored = await runInTenant(tenant.organisation._id, () =>
      Settore.findById(created.body.id).exec(),
    );
    expect(stored?.name).to.equal('Area affari generali');
    expect(stored?.managerId).to.equal(null);

    const archived = await call<SettoreJson>('DELETE', `/api/v1/settori/${created.body.id}`, {
      token: tenant.token,
    });
    expect(archived.status).to.equal(200);
    expect(archived.body.archived).to.equal(true);
    const after = await call<SettoreJson[]>('GET', '/api/v1/settori', { token: tenant.token });
    expect(after.body.map((settore) => settore.name)).to.deep.equal(['Area tecnica']);
    const still = await runInTenant(tenant.organisation._id, () =>
      Settore.findById(created.body.id).exec(),
    );
    expect(still?.archived).to.equal(true);
  });

  it('answers 422 naming body.managerId for a manager of another ente or archived', async () => {
    const tenant = await newTenant();
    const other = await newTenant();
    const foreigner = await createPerson(other.token, 'Marco', 'Bruno');
    const response = await call<Problem>('POST', '/api/v1/settori', {
      token: tenant.token,
      json: { name: 'Ragioneria', managerId: foreigner.id },
    });
    expect(response.status).to.equal(422);
    expect(response.body.invalidParams).to.deep.equal([
      { name: 'body.managerId', reason: "persona inesistente nell'ente" },
    ]);
    const settore = await call<SettoreJson>('POST', '/api/v1/settori', {
      token: tenant.token,
      json: { name: 'Ragioneria' },
    });
    const patch = await call<Problem>('PATCH', `/api/v1/settori/${settore.body.id}`, {
      token: tenant.token,
      json: { managerId: foreigner.id },
    });
    expect(patch.status).to.equal(422);
    expect(patch.body.invalidParams?.[0]?.name).to.equal('body.managerId');

    const retired = await createPerson(tenant.token, 'Aldo', 'Moretti');
    await call('DELETE', `/api/v1/people/${retired.id}`, { token: tenant.token });
    const archivedManager = await call<Problem>('PATCH', `/api/v1/settori/${settore.body.id}`, {
      token: tenant.token,
      json: { managerId: retired.id },
    });
    expect(archivedManager.status).to.equal(422);
    expect(archivedManager.body.invalidParams?.[0]?.reason).to.equal('la persona è archiviata');

    const bad = await call<Problem>('POST', '/api/v1/settori', {
      token: tenant.token,
      json: { name: '', email: 'ufficio@', managerId: '123' },
    });
    expect(bad.status).to.equal(400);
    expect(bad.body.invalidParams?.map((param) => param.name).sort()).to.deep.equal([
      'body.email',
      'body.managerId',
      'body.name',
    ]);
  });

  it('refuses with 409 to archive a settore people are still assigned to', async () => {
    const tenant = await newTenant();
    const settore = await call<SettoreJson>('POST', '/api/v1/settori', {
      token: tenant.token,
      json: { name: 'Servizi sociali' },
    });
    const assistant = await createPerson(
      tenant.token,
      'Rita',
      'Galli',
      { settoreId: settore.body.id },
      'F',
    );
    const refused = await call<Problem>('DELETE', `/api/v1/settori/${settore.body.id}`, {
      token: tenant.token,
    });
    expect(refused.status).to.equal(409);
    expect(refused.body.detail).to.contain('Servizi sociali').and.to.contain('Rita Galli');
    expect(refused.body.references).to.deep.equal([
      { kind: 'person', id: assistant.id, description: 'Rita Galli vi è assegnato/a' },
    ]);
    const stored = await runInTenant(tenant.organisation._id, () =>
      Settore.findById(settore.body.id).exec(),
    );
    expect(stored?.archived).to.equal(false);

    await call('PATCH', `/api/v1/people/${assistant.id}`, {
      token: tenant.token,
      json: { settoreId: null },
    });
    const archived = await call('DELETE', `/api/v1/settori/${settore.body.id}`, {
      token: tenant.token,
    });
    expect(archived.status).to.equal(200);
  });

  it("answers 404 for another ente's settore and 403 to readers who write", async () => {
    const tenant = await newTenant();
    const other = await newTenant();
    const theirs = await call<SettoreJson>('POST', '/api/v1/settori', {
      token: other.token,
      json: { name: 'Tributi' },
    });
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const response = await call(method, `/api/v1/settori/${theirs.body.id}`, {
        token: tenant.token,
        ...(method === 'PATCH' ? { json: { name: 'Preso' } } : {}),
      });
      expect(response.status, method).to.equal(404);
    }
    const stored = await runInTenant(other.organisation._id, () =>
      Settore.findById(theirs.body.id).exec(),
    );
    expect(stored?.name).to.equal('Tributi');
    expect(stored?.archived).to.equal(false);

    const legal = await tokenWithRoles(tenant.token, ['legal']);
    expect((await call('GET', '/api/v1/settori', { token: legal })).status).to.equal(200);
    const refused = await call('POST', '/api/v1/settori', { token: legal, json: { name: 'X' } });
    expect(refused.status).to.equal(403);
    const dpo = await tokenWithRoles(tenant.token, ['dpo']);
    expect(
      (await call('POST', '/api/v1/settori', { token: dpo, json: { name: 'Sistemi informativi' } }))
        .status,
    ).to.equal(201);
  });
});
