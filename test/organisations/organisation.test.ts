import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { Organisation } from '../../server/organisations/model.js';
import { testEnvironment } from '../support/environment.js';
import { call, newTenant } from '../support/http.js';
import { createPerson, partitaIva, tokenWithRoles } from '../support/registry.js';

interface OrganisationJson {
  id: string;
  name: string;
  kind: string;
  province: string | null;
  address: { street: string; cap: string; city: string; province: string } | null;
  pec: string | null;
  email: string | null;
  taxCode: string | null;
  vatNumber: string | null;
  legalRepresentative: {
    personId: string;
    role: string;
    appointmentAct: string | null;
    since: string | null;
  } | null;
  dpo: Record<string, unknown> | null;
  regolamentoKey: string | null;
  logo: { sha256: string; contentType: string; size: number; url: string } | null;
}

interface Problem {
  status: number;
  detail: string;
  invalidParams?: { name: string; reason: string }[];
}

/** A 1×1 transparent PNG. */
const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

function uploadLogo(token: string, bytes: Buffer, fileName = 'logo.png') {
  const form = new FormData();
  form.append('logo', new Blob([bytes]), fileName);
  return fetch(`${testEnvironment().service.url}/api/v1/organisation/logo`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The Calvatone DPO as its privacy policy names it: a firm, not a person. */
const gaspari = {
  kind: 'firm',
  name: 'Grafiche E. Gaspari',
  email: 'privacy@gaspari.it',
  pec: 'privacy@pec.egaspari.net',
};

describe('organisation profile', () => {
  it('starts empty, takes a complete profile and keeps it in the database', async () => {
    const tenant = await newTenant('Comune di Calderara di Reno');
    const empty = await call<OrganisationJson>('GET', '/api/v1/organisation', {
      token: tenant.token,
    });
    expect(empty.status).to.equal(200);
    expect(empty.body).to.include({
      id: tenant.organisation.id,
      kind: 'comune',
      province: null,
      taxCode: null,
      dpo: null,
      logo: null,
    });

    const sindaco = await createPerson(tenant.token, 'Giampiero', 'Falzone');
    const profile = {
      province: 'bo',
      address: {
        street: 'Piazza Marconi 7',
        cap: '40012',
        city: 'Calderara di Reno',
        province: 'BO',
      },
      pec: 'Comune.Calderara@Cert.Provincia.BO.it',
      email: 'urp@comune.calderaradireno.bo.it',
      taxCode: '00488410010',
      vatNumber: partitaIva('0123456789'),
      legalRepresentative: {
        personId: sindaco.id,
        role: 'Sindaco pro tempore',
        appointmentAct: 'proclamazione del 10 giugno 2024',
        since: '2024-06-10',
      },
      dpo: { ...gaspari, contactPerson: 'Mario Bianchi', phone: '0375 123456' },
      regolamentoKey: 'calderara-di-reno-2020',
    };
    const patched = await call<OrganisationJson>('PATCH', '/api/v1/organisation', {
      token: tenant.token,
      json: profile,
    });
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
    expect(patched.body.province).to.equal('BO');
    expect(patched.body.pec).to.equal('comune.calderara@cert.provincia.bo.it');
    expect(patched.body.legalRepresentative).to.deep.equal(profile.legalRepresentative);
    expect(patched.body.dpo).to.deep.include({
      kind: 'firm',
      name: 'Grafiche E. Gaspari',
      contactPerson: 'Mario Bianchi',
      pec: 'privacy@pec.egaspari.net',
      appointedOn: null,
    });
    const read = await call<OrganisationJson>('GET', '/api/v1/organisation', {
      token: tenant.token,
    });
    expect(read.body).to.deep.equal(patched.body);

    const stored = await Organisation.findById(tenant.organisation._id);
    expect(stored?.taxCode).to.equal('00488410010');
    expect(stored?.address?.cap).to.equal('40012');
    expect(stored?.legalRepresentative?.personId.toString()).to.equal(sindaco.id);
    expect(stored?.dpo?.email).to.equal('privacy@gaspari.it');
    expect(stored?.regolamentoKey).to.equal('calderara-di-reno-2020');

    // Only what is sent changes; null removes an optional part.
    const partial = await call<OrganisationJson>('PATCH', '/api/v1/organisation', {
      token: tenant.token,
      json: { vatNumber: null, dpo: null },
    });
    expect(partial.status).to.equal(200);
    expect(partial.body.vatNumber).to.equal(null);
    expect(partial.body.dpo).to.equal(null);
    expect(partial.body.taxCode).to.equal('00488410010');
    expect(partial.body.legalRepresentative?.personId).to.equal(sindaco.id);
  });

  it('lists every invalid field of a PATCH, and changes nothing', async () => {
    const tenant = await newTenant();
    const response = await call<Problem>('PATCH', '/api/v1/organisation', {
      token: tenant.token,
      json: {
        kind: 'condominio',
        province: 'XX',
        address: { street: 'Via Roma 1', cap: '4001', city: '', province: 'Bologna' },
        pec: 'protocollo@',
        email: 'ufficio at comune',
        taxCode: '00488410011',
        vatNumber: '0129750195',
        legalRepresentative: { personId: 'nessuno', role: '', since: '2024-02-30' },
        dpo: { kind: 'società', name: 'Gaspari', email: 'privacy@gaspari.it', phone: 'abc' },
        regolamentoKey: 'Regolamento Privacy',
      },
    });
    expect(response.status).to.equal(400);
    expect(response.contentType).to.contain('application/problem+json');
    const reasons = Object.fromEntries(
      (response.body.invalidParams ?? []).map((param) => [param.name, param.reason]),
    );
    expect(Object.keys(reasons).sort()).to.deep.equal([
      'body.address.cap',
      'body.address.city',
      'body.address.province',
      'body.dpo.kind',
      'body.dpo.phone',
      'body.email',
      'body.kind',
      'body.legalRepresentative.personId',
      'body.legalRepresentative.role',
      'body.legalRepresentative.since',
      'body.pec',
      'body.province',
      'body.regolamentoKey',
      'body.taxCode',
      'body.vatNumber',
    ]);
    expect(reasons['body.taxCode']).to.equal('codice fiscale non valido (cifra di controllo)');
    expect(reasons['body.vatNumber']).to.equal('la partita IVA ha 11 cifre');
    expect(reasons['body.address.cap']).to.equal('il CAP ha 5 cifre');
    expect(reasons['body.pec']).to.equal('indirizzo PEC non valido');
    expect(reasons['body.legalRepresentative.since']).to.equal('data non valida: usare AAAA-MM-GG');
    expect(response.body.detail).to.contain('body.province');

    const empty = await call<Problem>('PATCH', '/api/v1/organisation', {
      token: tenant.token,
      json: {},
    });
    expect(empty.status).to.equal(400);
    const unknown = await call<Problem>('PATCH', '/api/v1/organisation', {
      token: tenant.token,
      json: { organisationId: '665f1c2e8a1b2c3d4e5f6a7b' },
    });
    expect(unknown.status).to.equal(400);

    const stored = await Organisation.findById(tenant.organisation._id);
    expect(stored?.kind).to.equal('comune');
    expect(stored?.province).to.equal(null);
    expect(stored?.taxCode).to.equal(null);
  });

  it('answers 422 for a legal representative of another ente and a regolamento it cannot see', async () => {
    const tenant = await newTenant();
    const other = await newTenant();
    const foreigner = await createPerson(other.token, 'Stefano', 'Rinaldi');
    const form = new FormData();
    form.append('key', 'regolamento-altrui');
    form.append('acceptProblems', 'true');
    form.append(
      'file',
      new Blob([
        'Art. 1 - Oggetto\n1. Il presente regolamento disciplina il trattamento dei dati.\n',
      ]),
      'regolamento.md',
    );
    const imported = await fetch(`${testEnvironment().service.url}/api/v1/regulations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other.token}` },
      body: form,
    });
    expect(imported.status).to.equal(201);
    expect(
      (
        await call('PATCH', '/api/v1/organisation', {
          token: other.token,
          json: { regolamentoKey: 'regolamento-altrui' },
        })
      ).status,
      'the owner sees its own regolamento',
    ).to.equal(200);

    const response = await call<Problem>('PATCH', '/api/v1/organisation', {
      token: tenant.token,
      json: {
        legalRepresentative: { personId: foreigner.id, role: 'Sindaco pro tempore' },
        regolamentoKey: 'regolamento-altrui',
      },
    });
    expect(response.status).to.equal(422);
    expect(response.body.invalidParams?.map((param) => param.name)).to.deep.equal([
      'body.legalRepresentative.personId',
      'body.regolamentoKey',
    ]);
    // The GDPR is a regulation, but not a regolamento an ente adopts.
    const gdpr = await call<Problem>('PATCH', '/api/v1/organisation', {
      token: tenant.token,
      json: { regolamentoKey: 'gdpr' },
    });
    expect(gdpr.status).to.equal(422);
    const stored = await Organisation.findById(tenant.organisation._id);
    expect(stored?.legalRepresentative).to.equal(null);
    expect(stored?.regolamentoKey).to.equal(null);
  });

  it('lets every role read the profile but only admin and segreteria change it', async () => {
    const tenant = await newTenant();
    const segreteria = await tokenWithRoles(tenant.token, ['segreteria']);
    const changed = await call<OrganisationJson>('PATCH', '/api/v1/organisation', {
      token: segreteria,
      json: { pec: 'protocollo@pec.comune.example.it' },
    });
    expect(changed.status).to.equal(200);
    for (const role of ['dpo', 'legal', 'procurement'] as const) {
      const token = await tokenWithRoles(tenant.token, [role]);
      expect((await call('GET', '/api/v1/organisation', { token })).status, role).to.equal(200);
      const refused = await call('PATCH', '/api/v1/organisation', {
        token,
        json: { pec: 'intruso@pec.example.it' },
      });
      expect(refused.status, role).to.equal(403);
      expect((await uploadLogo(token, png)).status, role).to.equal(403);
    }
    const stored = await Organisation.findById(tenant.organisation._id);
    expect(stored?.pec).to.equal('protocollo@pec.comune.example.it');
    expect(stored?.logo).to.equal(null);
  });

  it('stores the logo with its SHA-256 and serves the same bytes back', async () => {
    const tenant = await newTenant();
    expect(
      (await call('GET', '/api/v1/organisation/logo', { token: tenant.token })).status,
    ).to.equal(404);
    const uploaded = await uploadLogo(tenant.token, png);
    const body = (await uploaded.json()) as OrganisationJson;
    expect(uploaded.status, JSON.stringify(body)).to.equal(200);
    expect(body.logo).to.deep.include({
      sha256: sha256(png),
      contentType: 'image/png',
      size: png.length,
      url: '/api/v1/organisation/logo',
    });
    expect(body.logo).not.to.have.property('key');

    const stored = await Organisation.findById(tenant.organisation._id);
    expect(stored?.logo?.sha256).to.equal(sha256(png));
    expect(stored?.logo?.key).to.contain(tenant.organisation.id);
    const object = await testEnvironment().service.storage.head(stored!.logo!.key);
    expect(object.sha256).to.equal(sha256(png));

    const reader = await tokenWithRoles(tenant.token, ['legal']);
    const download = await fetch(`${testEnvironment().service.url}/api/v1/organisation/logo`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    expect(download.status).to.equal(200);
    expect(download.headers.get('content-type')).to.equal('image/png');
    expect(download.headers.get('x-content-sha256')).to.equal(sha256(png));
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(sha256(bytes)).to.equal(sha256(png));

    // A JPEG replaces it; what the client calls the file does not matter.
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 7)]);
    const replaced = await uploadLogo(tenant.token, jpeg, 'logo.png');
    expect(replaced.status).to.equal(200);
    const again = await fetch(`${testEnvironment().service.url}/api/v1/organisation/logo`, {
      headers: { authorization: `Bearer ${tenant.token}` },
    });
    expect(again.headers.get('content-type')).to.equal('image/jpeg');
    expect(sha256(Buffer.from(await again.arrayBuffer()))).to.equal(sha256(jpeg));

    // Another ente has no logo of its own and cannot see this one.
    const other = await newTenant();
    expect(
      (await call('GET', '/api/v1/organisation/logo', { token: other.token })).status,
    ).to.equal(404);
  });

  it('refuses a logo that is not PNG or JPEG, or is larger than 512 KB', async () => {
    const tenant = await newTenant();
    const text = await uploadLogo(
      tenant.token,
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
      'logo.svg',
    );
    const problem = (await text.json()) as Problem;
    expect(text.status).to.equal(422);
    expect(problem.invalidParams?.[0]?.name).to.equal('files.logo');

    const large = Buffer.concat([png.subarray(0, 8), Buffer.alloc(512 * 1024)]);
    const tooLarge = await uploadLogo(tenant.token, large);
    expect(tooLarge.status).to.equal(413);

    const missing = await fetch(`${testEnvironment().service.url}/api/v1/organisation/logo`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tenant.token}` },
      body: new FormData(),
    });
    expect(missing.status).to.equal(400);
    const stored = await Organisation.findById(tenant.organisation._id);
    expect(stored?.logo).to.equal(null);
  });
});
