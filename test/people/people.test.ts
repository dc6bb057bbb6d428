import { expect } from 'chai';
import mongoose from 'mongoose';
import { Person } from '../../server/people/model.js';
import { runInTenant } from '../../server/platform/tenancy.js';
import { call, newTenant } from '../support/http.js';
import {
  altered,
  codiceFiscale,
  createPerson,
  personBody,
  tokenWithRoles,
} from '../support/registry.js';

interface PersonJson {
  id: string;
  organisationId: string;
  firstName: string;
  lastName: string;
  title: string | null;
  gender: 'M' | 'F';
  taxCode: string;
  role: string | null;
  settoreId: string | null;
  email: string | null;
  kind: 'employee' | 'external';
  archived: boolean;
}

interface Problem {
  status: number;
  detail: string;
  invalidParams?: { name: string; reason: string }[];
  references?: { kind: string; id: string; description: string }[];
}

const mario = {
  firstName: 'Mario',
  lastName: 'Rossi',
  title: 'dott',
  gender: 'M',
  taxCode: codiceFiscale({
    firstName: 'Mario',
    lastName: 'Rossi',
    gender: 'M',
    born: '1980-01-01',
  }),
  role: 'Istruttore direttivo amministrativo',
  email: 'Mario.Rossi@Comune.Example.it',
  kind: 'employee',
};

describe('people', () => {
  it('creates, reads, updates and archives a person, as the database shows', async () => {
    const tenant = await newTenant();
    const created = await call<PersonJson>('POST', '/api/v1/people', {
      token: tenant.token,
      json: mario,
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.headers.get('location')).to.equal(`/api/v1/people/${created.body.id}`);
    expect(created.body).to.include({
      firstName: 'Mario',
      lastName: 'Rossi',
      taxCode: 'RSSMRA80A01A944I',
      email: 'mario.rossi@comune.example.it',
      archived: false,
      settoreId: null,
    });
    expect(created.body).not.to.have.property('searchName');
    expect(created.body).not.to.have.property('_id');

    const read = await call<PersonJson>('GET', `/api/v1/people/${created.body.id}`, {
      token: tenant.token,
    });
    expect(read.status).to.equal(200);
    expect(read.body).to.deep.equal(created.body);

    const patched = await call<PersonJson>('PATCH', `/api/v1/people/${created.body.id}`, {
      token: tenant.token,
      json: { role: 'Funzionario', title: null, kind: 'external' },
    });
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
    expect(patched.body).to.include({ role: 'Funzionario', title: null, kind: 'external' });

    const stored = await runInTenant(tenant.organisation._id, () =>
      Person.findById(created.body.id).exec(),
    );
    expect(stored?.organisationId.equals(tenant.organisation._id)).to.equal(true);
    expect(stored?.role).to.equal('Funzionario');
    expect(stored?.searchName).to.equal('rossi mario');

    const archived = await call<PersonJson>('DELETE', `/api/v1/people/${created.body.id}`, {
      token: tenant.token,
    });
    expect(archived.status).to.equal(200);
    expect(archived.body.archived).to.equal(true);
    // Archived, not deleted: the record is still there.
    const raw = await mongoose.connection
      .collection('people')
      .findOne({ _id: new mongoose.Types.ObjectId(created.body.id) });
    expect(raw?.archived).to.equal(true);
    const listed = await call<PersonJson[]>('GET', '/api/v1/people', { token: tenant.token });
    expect(listed.body.map((person) => person.id)).not.to.include(created.body.id);
    const withArchived = await call<PersonJson[]>('GET', '/api/v1/people?includeArchived=true', {
      token: tenant.token,
    });
    expect(withArchived.body.map((person) => person.id)).to.include(created.body.id);

    const restored = await call<PersonJson>('PATCH', `/api/v1/people/${created.body.id}`, {
      token: tenant.token,
      json: { archived: false },
    });
    expect(restored.body.archived).to.equal(false);
  });

  it('pages, filters and sorts the list, with the total in X-Total-Count', async () => {
    const tenant = await newTenant();
    const settore = await call<{ id: string }>('POST', '/api/v1/settori', {
      token: tenant.token,
      json: { name: 'Servizi demografici' },
    });
    const surnames = ['Zanetti', 'Bianchi', 'Ferrari', 'Esposito', 'Colombo', 'Ricci', 'Mancini'];
    for (const [index, lastName] of surnames.entries()) {
      await createPerson(tenant.token, index % 2 === 0 ? 'Luca' : 'Nicolò', lastName, {
        kind: index < 5 ? 'employee' : 'external',
        ...(index < 3 ? { settoreId: settore.body.id } : {}),
      });
    }

    const first = await call<PersonJson[]>('GET', '/api/v1/people?limit=3', {
      token: tenant.token,
    });
    expect(first.status).to.equal(200);
    expect(first.headers.get('x-total-count')).to.equal('7');
    expect(first.body.map((person) => person.lastName)).to.deep.equal([
      'Bianchi',
      'Colombo',
      'Esposito',
    ]);
    const second = await call<PersonJson[]>('GET', '/api/v1/people?limit=3&offset=3', {
      token: tenant.token,
    });
    expect(second.body.map((person) => person.lastName)).to.deep.equal([
      'Ferrari',
      'Mancini',
      'Ricci',
    ]);
    const last = await call<PersonJson[]>('GET', '/api/v1/people?limit=3&offset=6', {
      token: tenant.token,
    });
    expect(last.body.map((person) => person.lastName)).to.deep.equal(['Zanetti']);

    const descending = await call<PersonJson[]>('GET', '/api/v1/people?sort=-lastName&limit=2', {
      token: tenant.token,
    });
    expect(descending.body.map((person) => person.lastName)).to.deep.equal(['Zanetti', 'Ricci']);
    const newest = await call<PersonJson[]>('GET', '/api/v1/people?sort=-createdAt&limit=1', {
      token: tenant.token,
    });
    expect(newest.body[0]?.lastName).to.equal('Mancini');

    const inSettore = await call<PersonJson[]>(
      `GET`,
      `/api/v1/people?settoreId=${settore.body.id}`,
      {
        token: tenant.token,
      },
    );
    expect(inSettore.headers.get('x-total-count')).to.equal('3');
    expect(inSettore.body.map((person) => person.lastName)).to.deep.equal([
      'Bianchi',
      'Ferrari',
      'Zanetti',
    ]);
    const externals = await call<PersonJson[]>('GET', '/api/v1/people?kind=external', {
      token: tenant.token,
    });
    expect(externals.body.map((person) => person.lastName)).to.deep.equal(['Mancini', 'Ricci']);

    // Word search ignores case and accents, and every word must match.
    const nicolo = await call<PersonJson[]>('GET', '/api/v1/people?q=NICOLO', {
      token: tenant.token,
    });
    expect(nicolo.body.map((person) => person.lastName)).to.deep.equal([
      'Bianchi',
      'Esposito',
      'Ricci',
    ]);
    const both = await call<PersonJson[]>('GET', '/api/v1/people?q=nicolò%20ricc', {
      token: tenant.token,
    });
    expect(both.body.map((person) => person.lastName)).to.deep.equal(['Ricci']);

    const bad = await call<Problem>('GET', '/api/v1/people?sort=taxCode&limit=0&kind=x', {
      token: tenant.token,
    });
    expect(bad.status).to.equal(400);
    expect(bad.body.invalidParams?.map((param) => param.name).sort()).to.deep.equal([
      'query.kind',
      'query.limit',
      'query.sort',
    ]);
  });

  it('accepts valid codici fiscali and names each invalid field', async () => {
    const tenant = await newTenant();
    const laura = personBody('Laura', 'Bianchi', {}, 'F');
    const accepted = await call<PersonJson>('POST', '/api/v1/people', {
      token: tenant.token,
      json: { ...laura, taxCode: laura.taxCode.toLowerCase() },
    });
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(201);
    expect(accepted.body.taxCode).to.equal(laura.taxCode);
    const wellKnown = await call('POST', '/api/v1/people', {
      token: tenant.token,
      json: { firstName: 'Matteo', lastName: 'Moretti', gender: 'M', taxCode: 'MRTMTT25D09F205Z' },
    });
    expect(wellKnown.status).to.equal(201);

    const response = await call<Problem>('POST', '/api/v1/people', {
      token: tenant.token,
      json: {
        firstName: ' ',
        lastName: 'Verdi',
        gender: 'X',
        taxCode: altered('RSSMRA80A01A944I', 15),
        email: 'non-una-email',
        title: 'cav',
        settoreId: 'abc',
        kind: 'volontario',
        extra: true,
      },
    });
    expect(response.status).to.equal(400);
    expect(response.contentType).to.contain('application/problem+json');
    const names = response.body.invalidParams?.map((param) => param.name).sort();
    expect(names).to.deep.equal([
      'body',
      'body.email',
      'body.firstName',
      'body.gender',
      'body.kind',
      'body.settoreId',
      'body.taxCode',
      'body.title',
    ]);
    const reasons = Object.fromEntries(
      (response.body.invalidParams ?? []).map((param) => [param.name, param.reason]),
    );
    expect(reasons['body.taxCode']).to.equal('codice fiscale non valido');
    expect(reasons['body.email']).to.equal('indirizzo e-mail non valido');

    const short = await call<Problem>('POST', '/api/v1/people', {
      token: tenant.token,
      json: { firstName: 'Anna', lastName: 'Neri', gender: 'F', taxCode: 'NRENNA80' },
    });
    expect(short.body.invalidParams).to.deep.equal([
      { name: 'body.taxCode', reason: 'il codice fiscale ha 16 caratteri' },
    ]);
    expect(
      await Person.countDocuments({ lastName: 'Verdi' }).setOptions({ crossTenant: true }),
    ).to.equal(0);
  });

  it('refuses a sex that contradicts the codice fiscale', async () => {
    const tenant = await newTenant();
    const response = await call<Problem>('POST', '/api/v1/people', {
      token: tenant.token,
      json: { ...mario, gender: 'F' },
    });
    expect(response.status).to.equal(400);
    expect(response.body.invalidParams?.[0]?.name).to.equal('body.gender');
  });

  it('answers 409 for a codice fiscale already in the ente, but not in another ente', async () => {
    const tenant = await newTenant();
    const other = await newTenant();
    expect(
      (await call('POST', '/api/v1/people', { token: tenant.token, json: mario })).status,
    ).to.equal(201);
    const again = await call<Problem>('POST', '/api/v1/people', {
      token: tenant.token,
      json: { ...mario, firstName: 'Mario Luigi' },
    });
    expect(again.status).to.equal(409);
    expect(again.body.detail).to.contain('RSSMRA80A01A944I');
    expect(again.body.invalidParams?.[0]?.name).to.equal('body.taxCode');
    expect(
      (await call('POST', '/api/v1/people', { token: other.token, json: mario })).status,
    ).to.equal(201);

    const anna = await createPerson(tenant.token, 'Anna', 'Neri', {}, 'F');
    const clash = await call<Problem>('PATCH', `/api/v1/people/${anna.id}`, {
      token: tenant.token,
      json: { taxCode: mario.taxCode, gender: 'M' },
    });
    expect(clash.status).to.equal(409);
  });

  it('answers 422 naming body.settoreId for a settore of another ente or archived', async () => {
    const tenant = await newTenant();
    const other = await newTenant();
    const foreign = await call<{ id: string }>('POST', '/api/v1/settori', {
      token: other.token,
      json: { name: 'Ragioneria' },
    });
    const response = await call<Problem>('POST', '/api/v1/people', {
      token: tenant.token,
      json: { ...mario, settoreId: foreign.body.id },
    });
    expect(response.status).to.equal(422);
    expect(response.body.invalidParams).to.deep.equal([
      { name: 'body.settoreId', reason: "settore inesistente nell'ente" },
    ]);

    const own = await call<{ id: string }>('POST', '/api/v1/settori', {
      token: tenant.token,
      json: { name: 'Polizia locale' },
    });
    await call('DELETE', `/api/v1/settori/${own.body.id}`, { token: tenant.token });
    const archived = await call<Problem>('POST', '/api/v1/people', {
      token: tenant.token,
      json: { ...mario, settoreId: own.body.id },
    });
    expect(archived.status).to.equal(422);
    expect(archived.body.invalidParams?.[0]?.reason).to.equal('il settore è archiviato');
  });

  it("answers 404 for another ente's person and never touches it", async () => {
    const tenant = await newTenant();
    const other = await newTenant();
    const theirs = await createPerson(other.token, 'Giulia', 'Conti', {}, 'F');
    for (const [method, json] of [
      ['GET', undefined],
      ['PATCH', { role: 'Intrusa' }],
      ['DELETE', undefined],
    ] as const) {
      const response = await call(method, `/api/v1/people/${theirs.id}`, {
        token: tenant.token,
        ...(json ? { json } : {}),
      });
      expect(response.status, method).to.equal(404);
    }
    const list = await call<PersonJson[]>('GET', '/api/v1/people?q=conti', { token: tenant.token });
    expect(list.body).to.deep.equal([]);
    const stored = await runInTenant(other.organisation._id, () =>
      Person.findById(theirs.id).exec(),
    );
    expect(stored?.role).to.equal(null);
    expect(stored?.archived).to.equal(false);
  });

  it('lets segreteria and dpo write, legal and procurement only read', async () => {
    const tenant = await newTenant();
    const person = await createPerson(tenant.token, 'Paolo', 'Gallo');
    for (const role of ['segreteria', 'dpo'] as const) {
      const token = await tokenWithRoles(tenant.token, [role]);
      const created = await call('POST', '/api/v1/people', {
        token,
        json: personBody('Sara', `Lombardi ${role}`, {}, 'F'),
      });
      expect(created.status, role).to.equal(201);
    }
    for (const role of ['legal', 'procurement'] as const) {
      const token = await tokenWithRoles(tenant.token, [role]);
      expect((await call('GET', '/api/v1/people', { token })).status, role).to.equal(200);
      expect((await call('GET', `/api/v1/people/${person.id}`, { token })).status).to.equal(200);
      const created = await call<Problem>('POST', '/api/v1/people', {
        token,
        json: personBody('Elena', `Costa ${role}`, {}, 'F'),
      });
      expect(created.status, role).to.equal(403);
      const patched = await call('PATCH', `/api/v1/people/${person.id}`, {
        token,
        json: { role: 'Vietato' },
      });
      expect(patched.status).to.equal(403);
      expect((await call('DELETE', `/api/v1/people/${person.id}`, { token })).status).to.equal(403);
    }
    const stored = await runInTenant(tenant.organisation._id, () =>
      Person.findById(person.id).exec(),
    );
    expect(stored?.role).to.equal(null);
    expect(stored?.archived).to.equal(false);
    expect(
      await runInTenant(tenant.organisation._id, () =>
        Person.countDocuments({ lastName: /^Costa/ }).exec(),
      ),
    ).to.equal(0);
  });

  it('refuses with 409 to archive a person who manages a settore or represents the ente', async () => {
    const tenant = await newTenant();
    const manager = await createPerson(tenant.token, 'Franco', 'Marino');
    const settore = await call<{ id: string }>('POST', '/api/v1/settori', {
      token: tenant.token,
      json: { name: 'Area tecnica', managerId: manager.id },
    });
    expect(settore.status).to.equal(201);
    const sindaco = await createPerson(tenant.token, 'Carla', 'Greco', {}, 'F');
    const profile = await call('PATCH', '/api/v1/organisation', {
      token: tenant.token,
      json: { legalRepresentative: { personId: sindaco.id, role: 'Sindaco pro tempore' } },
    });
    expect(profile.status).to.equal(200);

    const refused = await call<Problem>('DELETE', `/api/v1/people/${manager.id}`, {
      token: tenant.token,
    });
    expect(refused.status).to.equal(409);
    expect(refused.body.detail).to.contain('Area tecnica');
    expect(refused.body.references).to.deep.equal([
      {
        kind: 'settore',
        id: settore.body.id,
        description: 'responsabile del settore «Area tecnica»',
      },
    ]);
    const viaPatch = await call('PATCH', `/api/v1/people/${manager.id}`, {
      token: tenant.token,
      json: { archived: true },
    });
    expect(viaPatch.status).to.equal(409);

    const representative = await call<Problem>('DELETE', `/api/v1/people/${sindaco.id}`, {
      token: tenant.token,
    });
    expect(representative.status).to.equal(409);
    expect(representative.body.references?.[0]?.kind).to.equal('organisation');
    expect(representative.body.detail).to.contain('Sindaco pro tempore');

    const stored = await runInTenant(tenant.organisation._id, () =>
      Person.find({ _id: { $in: [manager.id, sindaco.id] } }).exec(),
    );
    expect(stored.map((person) => person.archived)).to.deep.equal([false, false]);

    // Once the settore has another manager, the person can go.
    const replacement = await createPerson(tenant.token, 'Bruno', 'Fontana');
    await call('PATCH', `/api/v1/settori/${settore.body.id}`, {
      token: tenant.token,
      json: { managerId: replacement.id },
    });
    const archived = await call<PersonJson>('DELETE', `/api/v1/people/${manager.id}`, {
      token: tenant.token,
    });
    expect(archived.status).to.equal(200);
    expect(archived.body.archived).to.equal(true);
  });
});
