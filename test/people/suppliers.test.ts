import { expect } from 'chai';
import { Supplier } from '../../server/suppliers/model.js';
import { runInTenant } from '../../server/platform/tenancy.js';
import { call, newTenant } from '../support/http.js';
import { altered, codiceFiscale, partitaIva, tokenWithRoles } from '../support/registry.js';

interface SupplierJson {
  id: string;
  name: string;
  vatNumber: string;
  taxCode: string | null;
  pec: string | null;
  email: string | null;
  address: { street: string; cap: string; city: string; province: string } | null;
  legalRepresentative: { name: string; taxCode: string | null } | null;
  archived: boolean;
}

interface Problem {
  detail: string;
  invalidParams?: { name: string; reason: string }[];
}

const metarete = {
  name: 'Metarete S.r.l.',
  vatNumber: '00488410010',
  taxCode: '00488410010',
  pec: 'Metarete@PEC.example.it',
  address: { street: 'Via Mantova 71', cap: '26100', city: 'Cremona', province: 'CR' },
  legalRepresentative: {
    name: 'Mario Rossi',
    taxCode: codiceFiscale({
      firstName: 'Mario',
      lastName: 'Rossi',
      gender: 'M',
      born: '1980-01-01',
    }),
  },
};

describe('suppliers', () => {
  it('creates, reads, updates and archives a supplier, as the database shows', async () => {
    const tenant = await newTenant();
    const created = await call<SupplierJson>('POST', '/api/v1/suppliers', {
      token: tenant.token,
      json: metarete,
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body).to.deep.include({
      name: 'Metarete S.r.l.',
      vatNumber: '00488410010',
      pec: 'metarete@pec.example.it',
      email: null,
      address: metarete.address,
      legalRepresentative: { name: 'Mario Rossi', taxCode: 'RSSMRA80A01A944I' },
      archived: false,
    });
    const read = await call<SupplierJson>('GET', `/api/v1/suppliers/${created.body.id}`, {
      token: tenant.token,
    });
    expect(read.body).to.deep.equal(created.body);

    const patched = await call<SupplierJson>('PATCH', `/api/v1/suppliers/${created.body.id}`, {
      token: tenant.token,
      json: { email: 'info@metarete.example.it', legalRepresentative: { name: 'Anna Verdi' } },
    });
    expect(patched.status).to.equal(200);
    expect(patched.body.legalRepresentative).to.deep.equal({ name: 'Anna Verdi', taxCode: null });
    const stored = await runInTenant(tenant.organisation._id, () =>
      Supplier.findById(created.body.id).exec(),
    );
    expect(stored?.email).to.equal('info@metarete.example.it');
    expect(stored?.vatNumber).to.equal('00488410010');

    const archived = await call<SupplierJson>('DELETE', `/api/v1/suppliers/${created.body.id}`, {
      token: tenant.token,
    });
    expect(archived.body.archived).to.equal(true);
    const listed = await call<SupplierJson[]>('GET', '/api/v1/suppliers', { token: tenant.token });
    expect(listed.body).to.deep.equal([]);
    expect(
      await runInTenant(tenant.organisation._id, () => Supplier.countDocuments().exec()),
    ).to.equal(1);
  });

  it('accepts computed partite IVA and rejects altered ones, naming each field', async () => {
    const tenant = await newTenant();
    for (const [index, firstTen] of ['0123456789', '1234567890', '0246813579'].entries()) {
      const response = await call('POST', '/api/v1/suppliers', {
        token: tenant.token,
        json: { name: `Fornitore ${index}`, vatNumber: partitaIva(firstTen) },
      });
      expect(response.status, firstTen).to.equal(201);
    }
    for (const position of [0, 4, 10]) {
      const response = await call<Problem>('POST', '/api/v1/suppliers', {
        token: tenant.token,
        json: { name: 'Alterato', vatNumber: altered('00488410010', position) },
      });
      expect(response.status).to.equal(400);
      expect(response.body.invalidParams).to.deep.equal([
        { name: 'body.vatNumber', reason: 'partita IVA non valida (cifra di controllo)' },
      ]);
    }
    const everything = await call<Problem>('POST', '/api/v1/suppliers', {
      token: tenant.token,
      json: {
        name: '',
        vatNumber: '0129750195',
        taxCode: 'ABC',
        pec: 'pec@',
        email: 'mail',
        address: { street: 'Via Mantova 71', cap: 'CR100', city: 'Cremona', province: 'ZZ' },
        legalRepresentative: { name: 'Mario Rossi', taxCode: altered('RSSMRA80A01A944I', 8) },
      },
    });
    expect(everything.status).to.equal(400);
    expect(everything.body.invalidParams?.map((param) => param.name).sort()).to.deep.equal([
      'body.address.cap',
      'body.address.province',
      'body.email',
      'body.legalRepresentative.taxCode',
      'body.name',
      'body.pec',
      'body.taxCode',
      'body.vatNumber',
    ]);
    // A sole trader's codice fiscale is the owner's personal one.
    const soleTrader = await call('POST', '/api/v1/suppliers', {
      token: tenant.token,
      json: {
        name: 'Rossi Mario impianti',
        vatNumber: partitaIva('0111111111'),
        taxCode: 'RSSMRA80A01A944I',
      },
    });
    expect(soleTrader.status).to.equal(201);
  });

  it('answers 409 for a partita IVA already in the ente', async () => {
    const tenant = await newTenant();
    expect(
      (await call('POST', '/api/v1/suppliers', { token: tenant.token, json: metarete })).status,
    ).to.equal(201);
    const again = await call<Problem>('POST', '/api/v1/suppliers', {
      token: tenant.token,
      json: { name: 'Metarete di nuovo', vatNumber: metarete.vatNumber },
    });
    expect(again.status).to.equal(409);
    expect(again.body.invalidParams?.[0]?.name).to.equal('body.vatNumber');
  });

  it('pages, searches and sorts suppliers', async () => {
    const tenant = await newTenant();
    const names = ['Zeta Servizi', 'Alfa Informatica', 'Società Ëlite', 'Beta Consulting'];
    for (const [index, name] of names.entries()) {
      await call('POST', '/api/v1/suppliers', {
        token: tenant.token,
        json: { name, vatNumber: partitaIva(`012345678${index}`) },
      });
    }
    const page = await call<SupplierJson[]>('GET', '/api/v1/suppliers?limit=2&offset=1', {
      token: tenant.token,
    });
    expect(page.headers.get('x-total-count')).to.equal('4');
    expect(page.body.map((supplier) => supplier.name)).to.deep.equal([
      'Beta Consulting',
      'Società Ëlite',
    ]);
    const found = await call<SupplierJson[]>('GET', '/api/v1/suppliers?q=societa%20elite', {
      token: tenant.token,
    });
    expect(found.body.map((supplier) => supplier.name)).to.deep.equal(['Società Ëlite']);
    const descending = await call<SupplierJson[]>('GET', '/api/v1/suppliers?sort=-name', {
      token: tenant.token,
    });
    expect(descending.body[0]?.name).to.equal('Zeta Servizi');
  });

  it('lets procurement write suppliers; legal only reads; other entes get 404', async () => {
    const tenant = await newTenant();
    const procurement = await tokenWithRoles(tenant.token, ['procurement']);
    const created = await call<SupplierJson>('POST', '/api/v1/suppliers', {
      token: procurement,
      json: metarete,
    });
    expect(created.status).to.equal(201);
    const legal = await tokenWithRoles(tenant.token, ['legal']);
    expect(
      (await call('GET', `/api/v1/suppliers/${created.body.id}`, { token: legal })).status,
    ).to.equal(200);
    const refused = await call('PATCH', `/api/v1/suppliers/${created.body.id}`, {
      token: legal,
      json: { name: 'Cambiato' },
    });
    expect(refused.status).to.equal(403);
    expect(
      (await call('DELETE', `/api/v1/suppliers/${created.body.id}`, { token: legal })).status,
    ).to.equal(403);

    const other = await newTenant();
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const response = await call(method, `/api/v1/suppliers/${created.body.id}`, {
        token: other.token,
        ...(method === 'PATCH' ? { json: { name: 'Preso' } } : {}),
      });
      expect(response.status, method).to.equal(404);
    }
    const stored = await runInTenant(tenant.organisation._id, () =>
      Supplier.findById(created.body.id).exec(),
    );
    expect(stored?.name).to.equal('Metarete S.r.l.');
    expect(stored?.archived).to.equal(false);
  });
});
