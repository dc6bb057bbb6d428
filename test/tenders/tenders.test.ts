import { expect } from 'chai';
import { call } from '../support/http.js';
import { partitaIva } from '../support/registry.js';
import { expectOk, readyEnte, type Problem } from '../appointments/support.js';

interface TenderJson {
  id: string;
  cig: string;
  status: string;
  privacyRole: string | null;
  roleAssessment: { suggestedRole: string; reasons: string[] } | null;
  awardedSupplierId: string | null;
  transitions: { from: string | null; to: string; by: string }[];
}

const noAnswers = {
  jointlyDeterminesPurposes: false,
  decidesPurposesAlone: false,
  usesDataForOwnPurposes: false,
  actsOnlyOnInstructions: false,
};

describe('tenders', () => {
  it('registers a tender with a valid CIG, refusing a malformed or repeated one', async () => {
    const ente = await readyEnte({ employees: 0 });
    const bad = await call<Problem>('POST', '/api/v1/tenders', {
      token: ente.token,
      json: {
        cig: 'ABC-12',
        object: 'Servizio di mensa scolastica',
        procedure: 'procedura-aperta',
      },
    });
    expect(bad.status).to.equal(400);
    expect(bad.contentType).to.contain('application/problem+json');
    expect(bad.body.invalidParams?.map((param) => param.name)).to.deep.equal(['body.cig']);

    const created = await expectOk(
      call<TenderJson>('POST', '/api/v1/tenders', {
        token: ente.token,
        json: {
          cig: 'b1234567c8',
          object: 'Servizio di mensa scolastica 2027-2029',
          procedure: 'procedura-aperta',
          settoreId: ente.settoreId,
          lots: [
            { number: 1, cig: 'B1234567C9', object: 'Scuole dell’infanzia' },
            { number: 2, cig: 'B1234567D0', object: 'Scuole primarie' },
          ],
        },
      }),
      201,
    );
    expect(created).to.include({ cig: 'B1234567C8', status: 'draft', privacyRole: null });

    const again = await call<Problem>('POST', '/api/v1/tenders', {
      token: ente.token,
      json: { cig: 'B1234567C8', object: 'Altro', procedure: 'affidamento-diretto' },
    });
    expect(again.status).to.equal(409);
    expect(again.body.detail).to.contain('B1234567C8');

    const sameLots = await call<Problem>('POST', '/api/v1/tenders', {
      token: ente.token,
      json: {
        cig: 'C1234567C8',
        object: 'Lotti',
        procedure: 'procedura-aperta',
        lots: [
          { number: 1, cig: 'C1234567C9', object: 'A' },
          { number: 1, cig: 'C1234567D0', object: 'B' },
        ],
      },
    });
    expect(sameLots.status).to.equal(400);
    expect(sameLots.body.invalidParams?.[0]?.name).to.equal('body.lots');
  });

  it('suggests each of the three roles from the answers and records the reasons', async () => {
    const ente = await readyEnte({ employees: 0 });
    const cases = [
      [{ ...noAnswers, actsOnlyOnInstructions: true }, 'responsabile', 'art. 28, par. 3'],
      [{ ...noAnswers, jointlyDeterminesPurposes: true }, 'contitolare', 'art. 26'],
      [{ ...noAnswers, decidesPurposesAlone: true }, 'titolare-autonomo', 'art. 4, n. 7'],
      [{ ...noAnswers, usesDataForOwnPurposes: true }, 'titolare-autonomo', 'finalità proprie'],
    ] as const;
    for (const [index, [answers, role, citation]] of cases.entries()) {
      const tender = await expectOk(
        call<TenderJson>('POST', '/api/v1/tenders', {
          token: ente.token,
          json: { cig: `D00000000${index}`, object: 'Servizio', procedure: 'procedura-negoziata' },
        }),
        201,
      );
      const assessed = await expectOk(
        call<TenderJson>('POST', `/api/v1/tenders/${tender.id}/role-assessment`, {
          token: ente.token,
          json: answers,
        }),
      );
      expect(assessed.privacyRole).to.equal(role);
      expect(assessed.roleAssessment?.suggestedRole).to.equal(role);
      expect(assessed.roleAssessment?.reasons.join(' ')).to.contain(citation);
    }
    const incomplete = await call<Problem>(
      'POST',
      '/api/v1/tenders/000000000000000000000000/role-assessment',
      {
        token: ente.token,
        json: { jointlyDeterminesPurposes: true },
      },
    );
    expect(incomplete.status).to.equal(400);
    expect(incomplete.body.invalidParams?.map((param) => param.name)).to.include(
      'body.decidesPurposesAlone',
    );
  });

  it('publishes only with the privacy role and the processing involved, then awards to a supplier', async () => {
    const ente = await readyEnte({ employees: 0 });
    const tender = await expectOk(
      call<TenderJson>('POST', '/api/v1/tenders', {
        token: ente.token,
        json: {
          cig: 'E123456789',
          object: 'Assistenza domiciliare',
          procedure: 'procedura-aperta',
        },
      }),
      201,
    );
    const path = `/api/v1/tenders/${tender.id}`;
    const early = await call<Problem>('POST', `${path}/publish`, { token: ente.token, json: {} });
    expect(early.status).to.equal(422);
    expect(early.body.invalidParams?.map((param) => param.name)).to.deep.equal([
      'privacyRole',
      'processingActivityIds',
    ]);
    expect(early.body.detail).to.contain('art. 7, comma 5');

    await expectOk(
      call('PATCH', path, {
        token: ente.token,
        json: { privacyRole: 'responsabile', processingActivityIds: [ente.activityId] },
      }),
    );
    const published = await expectOk(
      call<TenderJson>('POST', `${path}/publish`, { token: ente.token, json: {} }),
    );
    expect(published.status).to.equal('published');

    const locked = await call<Problem>('PATCH', path, {
      token: ente.token,
      json: { object: 'Altro' },
    });
    expect(locked.status).to.equal(409);
    expect(locked.body.currentState).to.equal('published');

    const noSupplier = await call<Problem>('POST', `${path}/award`, {
      token: ente.token,
      json: {},
    });
    expect(noSupplier.status).to.equal(422);
    expect(noSupplier.body.invalidParams?.[0]?.name).to.equal('body.supplierId');

    const supplier = await expectOk(
      call<{ id: string }>('POST', '/api/v1/suppliers', {
        token: ente.token,
        json: { name: 'Cooperativa sociale Il Ponte', vatNumber: partitaIva('0345678901') },
      }),
      201,
    );
    const awarded = await expectOk(
      call<TenderJson>('POST', `${path}/award`, {
        token: ente.token,
        json: { supplierId: supplier.id },
      }),
    );
    expect(awarded).to.include({ status: 'awarded', awardedSupplierId: supplier.id });
    expect(awarded.transitions.map((transition) => transition.to)).to.deep.equal([
      'draft',
      'published',
      'awarded',
    ]);
    const twice = await call<Problem>('POST', `${path}/publish`, { token: ente.token, json: {} });
    expect(twice.status).to.equal(409);
    expect(twice.body.currentState).to.equal('awarded');
  });
});
