import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { call, download } from '../support/http.js';
import { docxText, firstMissingInOrder, normalise, pdfText } from '../support/readers.js';
import { codiceFiscale, partitaIva } from '../support/registry.js';
import { expectOk, readyEnte, type Ente, type Problem } from '../appointments/support.js';
import { addCalendarDays, todayInRome } from '../../server/registers/service.js';

interface TenderJson {
  id: string;
  cig: string;
  status: string;
  clauseDocumentId: string | null;
}
interface ContractJson {
  id: string;
  variant: string;
  status: string;
  documentId: string | null;
  registration: { registerKey: string; number: number; date: string } | null;
  processing: { dataTypes: string[]; dataSubjectCategories: string[] };
  measures: { area: string; description: string }[];
}

const contractChecklist = JSON.parse(
  readFileSync(
    new URL('../../templates/contratto-responsabile/checklist.json', import.meta.url),
    'utf8',
  ),
) as { id: string; printed: string }[];

let cigCounter = 0;
function nextCig(prefix: string): string {
  cigCounter += 1;
  return `${prefix}${String(cigCounter).padStart(10 - prefix.length, '0')}`;
}

async function supplier(ente: Ente, complete: boolean, vatSeed: string) {
  return expectOk(
    call<{ id: string }>('POST', '/api/v1/suppliers', {
      token: ente.token,
      json: {
        name: 'Cooperativa sociale Il Ponte',
        vatNumber: partitaIva(vatSeed),
        pec: 'ilponte@pec.example.it',
        ...(complete
          ? {
              address: { street: 'Via Emilia 10', cap: '40100', city: 'Bologna', province: 'BO' },
              legalRepresentative: {
                name: 'Giulia Ferri',
                taxCode: codiceFiscale({
                  firstName: 'Giulia',
                  lastName: 'Ferri',
                  gender: 'F',
                  born: '1972-05-04',
                }),
              },
            }
          : {}),
      },
    }),
    201,
  );
}

async function awardedTender(ente: Ente, role: string, supplierId: string) {
  const tender = await expectOk(
    call<TenderJson>('POST', '/api/v1/tenders', {
      token: ente.token,
      json: {
        cig: nextCig('F'),
        object: 'Servizio di assistenza domiciliare 2027-2029',
        procedure: 'procedura-aperta',
        privacyRole: role,
        processingActivityIds: [ente.activityId],
      },
    }),
    201,
  );
  await expectOk(
    call('POST', `/api/v1/tenders/${tender.id}/publish`, { token: ente.token, json: {} }),
  );
  await expectOk(
    call('POST', `/api/v1/tenders/${tender.id}/award`, { token: ente.token, json: { supplierId } }),
  );
  return tender;
}

describe('tenders: clauses and contracts', function () {
  this.timeout(120_000);

  it('attaches the clause to one tender, read back with its CIG, role and data', async () => {
    const ente = await readyEnte({ employees: 0 });
    const cig = nextCig('G');
    const tender = await expectOk(
      call<TenderJson>('POST', '/api/v1/tenders', {
        token: ente.token,
        json: {
          cig,
          object: 'Servizio di assistenza domiciliare',
          procedure: 'procedura-aperta',
          privacyRole: 'responsabile',
          processingActivityIds: [ente.activityId],
        },
      }),
      201,
    );
    const attached = await expectOk(
      call<{ documentId: string; tender: TenderJson }>(
        'POST',
        `/api/v1/tenders/${tender.id}/clause`,
        {
          token: ente.token,
        },
      ),
      201,
    );
    expect(attached.tender.clauseDocumentId).to.equal(attached.documentId);
    const expected = [
      cig,
      'Servizio di assistenza domiciliare',
      'Dati relativi alla salute',
      'Minori',
    ];
    const pdf = await pdfText(
      await download(`/api/v1/documents/${attached.documentId}/pdf`, ente.token),
    );
    const docx = await docxText(
      await download(`/api/v1/documents/${attached.documentId}/docx`, ente.token),
    );
    for (const text of [pdf, docx]) {
      expect(firstMissingInOrder(text, expected)).to.equal(undefined);
      expect(text).to.match(/art\. 28/);
    }
  });

  it('gives lots that state different roles a clause each, refusing a lot with no role', async () => {
    const ente = await readyEnte({ employees: 0 });
    const tender = await expectOk(
      call<TenderJson>('POST', '/api/v1/tenders', {
        token: ente.token,
        json: {
          cig: nextCig('J'),
          object: 'Servizi sociali integrati',
          procedure: 'procedura-aperta',
          processingActivityIds: [ente.activityId],
          lots: [
            {
              number: 1,
              cig: nextCig('K'),
              object: 'Assistenza domiciliare',
              privacyRole: 'responsabile',
            },
            {
              number: 2,
              cig: nextCig('K'),
              object: 'Trasporto sociale',
              privacyRole: 'responsabile',
            },
            { number: 3, cig: nextCig('K'), object: 'Consulenza legale' },
          ],
        },
      }),
      201,
    );
    const refused = await call<Problem>('POST', `/api/v1/tenders/${tender.id}/clause`, {
      token: ente.token,
    });
    expect(refused.status).to.equal(422);
    expect(refused.body.detail).to.contain('lotti 3');
    const unpublished = await call<Problem>('POST', `/api/v1/tenders/${tender.id}/publish`, {
      token: ente.token,
      json: {},
    });
    expect(unpublished.body.invalidParams?.map((param) => param.name)).to.deep.equal(['lots']);

    const lots = [
      {
        number: 1,
        cig: 'K000000001',
        object: 'Assistenza domiciliare',
        privacyRole: 'responsabile',
      },
      { number: 2, cig: 'K000000002', object: 'Trasporto sociale', privacyRole: 'responsabile' },
      {
        number: 3,
        cig: 'K000000003',
        object: 'Consulenza legale',
        privacyRole: 'titolare-autonomo',
      },
    ];
    await expectOk(
      call('PATCH', `/api/v1/tenders/${tender.id}`, { token: ente.token, json: { lots } }),
    );
    const attached = await expectOk(
      call<{ clauses: { role: string; lots: number[]; documentId: string }[] }>(
        'POST',
        `/api/v1/tenders/${tender.id}/clause`,
        { token: ente.token },
      ),
      201,
    );
    expect(attached.clauses.map((clause) => [clause.role, clause.lots])).to.deep.equal([
      ['responsabile', [1, 2]],
      ['titolare-autonomo', [3]],
    ]);
    const [processorClause, autonomousClause] = await Promise.all(
      attached.clauses.map(async (clause) =>
        normalise(
          await pdfText(await download(`/api/v1/documents/${clause.documentId}/pdf`, ente.token)),
        ),
      ),
    );
    expect(processorClause).to.contain('Trasporto sociale');
    expect(processorClause).to.not.contain('Consulenza legale');
    expect(processorClause).to.match(/art\. 28/);
    expect(autonomousClause).to.contain('Consulenza legale');
    expect(autonomousClause).to.not.contain('Trasporto sociale');
    expect(autonomousClause).to.contain('Titolare autonomo');
  });

  it('attaches clauses to 20 tenders at once, refusing the one with no privacy role', async () => {
    const ente = await readyEnte({ employees: 0 });
    const ids: string[] = [];
    for (let index = 0; index < 20; index += 1) {
      const tender = await expectOk(
        call<TenderJson>('POST', '/api/v1/tenders', {
          token: ente.token,
          json: {
            cig: nextCig('H'),
            object: `Servizio numero ${index + 1}`,
            procedure: 'procedura-negoziata',
            ...(index === 7
              ? {}
              : { privacyRole: index % 2 ? 'responsabile' : 'titolare-autonomo' }),
            processingActivityIds: [ente.activityId],
          },
        }),
        201,
      );
      ids.push(tender.id);
    }
    const results = await expectOk(
      call<{ tenderId: string; status: string; documentId?: string; reason?: string }[]>(
        'POST',
        '/api/v1/tender-clauses',
        { token: ente.token, json: { tenderIds: ids } },
      ),
    );
    expect(results.map((result) => result.tenderId)).to.deep.equal(ids);
    expect(results.filter((result) => result.status === 'attached')).to.have.length(19);
    expect(results[7]).to.include({ status: 'refused' });
    expect(results[7]?.reason).to.contain('privacyRole');
    for (const [index, id] of ids.entries()) {
      const tender = await expectOk(
        call<TenderJson>('GET', `/api/v1/tenders/${id}`, { token: ente.token }),
      );
      expect(tender.clauseDocumentId).to.equal(index === 7 ? null : results[index]?.documentId);
    }
  });

  it('refuses an art. 28 contract with gaps, listing them all; complete, it is numbered and prints every part', async () => {
    const ente = await readyEnte({ employees: 0 });
    const incompleteSupplier = await supplier(ente, false, '0456789012');
    const tender = await awardedTender(ente, 'responsabile', incompleteSupplier.id);
    const before = await expectOk(
      call<{ tenderId: string }[]>('GET', '/api/v1/contract-views/unbound-suppliers', {
        token: ente.token,
      }),
    );
    expect(before.map((row) => row.tenderId)).to.deep.equal([tender.id]);

    const draft = await expectOk(
      call<ContractJson>('POST', `/api/v1/tenders/${tender.id}/contract`, {
        token: ente.token,
        json: {},
      }),
      201,
    );
    expect(draft.variant).to.equal('responsabile');
    expect(draft.processing.dataTypes).to.include('Dati relativi alla salute');
    expect(draft.processing.dataSubjectCategories).to.include('Minori');
    expect(draft.measures.map((measure) => measure.description)).to.include('Accesso per ruolo');

    const refused = await call<Problem>('POST', `/api/v1/contracts/${draft.id}/issue`, {
      token: ente.token,
    });
    expect(refused.status).to.equal(422);
    expect(refused.body.invalidParams?.map((param) => param.name)).to.have.members([
      'supplier.address',
      'supplier.legalRepresentative',
      'startDate',
      'endDate',
    ]);

    await expectOk(
      call('PATCH', `/api/v1/suppliers/${incompleteSupplier.id}`, {
        token: ente.token,
        json: {
          address: { street: 'Via Emilia 10', cap: '40100', city: 'Bologna', province: 'BO' },
          legalRepresentative: { name: 'Giulia Ferri' },
        },
      }),
    );
    await expectOk(
      call('PATCH', `/api/v1/contracts/${draft.id}`, {
        token: ente.token,
        json: {
          startDate: '2027-01-01',
          endDate: '2029-12-31',
          measures: [
            {
              area: 'Controllo degli accessi',
              description: 'Autenticazione a due fattori per gli operatori',
            },
          ],
          subProcessors: [
            {
              name: 'Cloud Emilia S.r.l.',
              seat: 'Via Stalingrado 1, 40128 Bologna (BO)',
              vatNumber: partitaIva('0567890123'),
              activities: 'Conservazione della cartella sociale informatizzata',
            },
          ],
        },
      }),
    );
    const issued = await expectOk(
      call<ContractJson>('POST', `/api/v1/contracts/${draft.id}/issue`, { token: ente.token }),
    );
    expect(issued.status).to.equal('issued');
    expect(issued.registration).to.include({ registerKey: 'contratti-privacy', number: 1 });
    const pdf = await pdfText(
      await download(`/api/v1/documents/${issued.documentId ?? ''}/pdf`, ente.token),
    );
    const docx = await docxText(
      await download(`/api/v1/documents/${issued.documentId ?? ''}/docx`, ente.token),
    );
    for (const text of [pdf, docx]) {
      expect(
        firstMissingInOrder(text, [
          tender.cig,
          'Cooperativa sociale Il Ponte',
          'Giulia Ferri',
          'Dati relativi alla salute',
          'Allegato I',
          'Allegato II',
          'Autenticazione a due fattori per gli operatori',
          'Allegato III',
          'Cloud Emilia S.r.l.',
        ]),
      ).to.equal(undefined);
      // Art. 28(3) a)–h) and seed 002's additions, as the template's checklist states them.
      const missing = contractChecklist
        // The breach deadline prints this contract's hours, checked below.
        .filter(
          (item) => /^(art28-3-|seed002-)/.test(item.id) && item.id !== 'seed002-violazione-48h',
        )
        .filter((item) => !normalise(text).includes(normalise(item.printed)))
        .map((item) => item.id);
      expect(missing).to.deep.equal([]);
      expect(normalise(text)).to.contain('entro 48 ore dall’identificazione della violazione');
      expect(text).to.contain('48 ore');
    }

    await expectOk(call('POST', `/api/v1/contracts/${draft.id}/sign`, { token: ente.token }));
    const tenderAfter = await expectOk(
      call<TenderJson>('GET', `/api/v1/tenders/${tender.id}`, { token: ente.token }),
    );
    expect(tenderAfter.status).to.equal('contract-signed');
    const after = await expectOk(
      call<unknown[]>('GET', '/api/v1/contract-views/unbound-suppliers', { token: ente.token }),
    );
    expect(after).to.deep.equal([]);
    const expiring = await expectOk(
      call<ContractJson[]>('GET', '/api/v1/contract-views/expiring?days=3650', {
        token: ente.token,
      }),
    );
    expect(expiring.map((contract) => contract.id)).to.deep.equal([draft.id]);
  });

  it('makes a joint-controller agreement for a contitolare, refusing it without responsibilities and contact point', async () => {
    const ente = await readyEnte({ employees: 0 });
    const partner = await supplier(ente, true, '0678901234');
    const tender = await awardedTender(ente, 'contitolare', partner.id);
    const draft = await expectOk(
      call<ContractJson>('POST', `/api/v1/tenders/${tender.id}/contract`, {
        token: ente.token,
        json: { startDate: '2027-01-01', endDate: '2028-12-31' },
      }),
      201,
    );
    expect(draft.variant).to.equal('contitolare');
    const refused = await call<Problem>('POST', `/api/v1/contracts/${draft.id}/issue`, {
      token: ente.token,
    });
    expect(refused.status).to.equal(422);
    expect(refused.body.invalidParams?.map((param) => param.name)).to.have.members([
      'jointAgreement.responsibilities',
      'jointAgreement.contactPoint',
      'jointAgreement.availability',
    ]);
    await expectOk(
      call('PATCH', `/api/v1/contracts/${draft.id}`, {
        token: ente.token,
        json: {
          jointAgreement: {
            responsibilities: [
              {
                party: 'Comune',
                tasks: ['rende l’informativa agli interessati (artt. 13 e 14 GDPR)'],
              },
              {
                party: 'Cooperativa sociale Il Ponte',
                tasks: ['riscontra le richieste di accesso (art. 15 GDPR)'],
              },
            ],
            contactPoint: {
              description: 'Ufficio servizi sociali',
              contact: 'sociali@comune.example.it',
            },
            availability: 'Pubblicazione del contenuto essenziale sul sito istituzionale',
          },
        },
      }),
    );
    const issued = await expectOk(
      call<ContractJson>('POST', `/api/v1/contracts/${draft.id}/issue`, { token: ente.token }),
    );
    expect(issued.registration).to.include({ registerKey: 'accordi-contitolarita', number: 1 });
    const pdf = await pdfText(
      await download(`/api/v1/documents/${issued.documentId ?? ''}/pdf`, ente.token),
    );
    for (const phrase of [
      'art. 26',
      'Cooperativa sociale Il Ponte',
      'riscontra le richieste di accesso',
      'sociali@comune.example.it',
      'Pubblicazione del contenuto essenziale sul sito istituzionale',
    ]) {
      expect(pdf).to.contain(phrase);
    }
  });

  it('takes Allegato II measures from the catalogue by code, refusing unknown codes', async () => {
    const ente = await readyEnte({ employees: 0 });
    const processor = await supplier(ente, true, '0945678901');
    const tender = await awardedTender(ente, 'responsabile', processor.id);
    const catalogue = await expectOk(
      call<{ code: string; description: string }[]>('GET', '/api/v1/security-measures', {
        token: ente.token,
      }),
    );
    const chosen = catalogue.filter((measure) => ['ACC-02', 'BAK-01'].includes(measure.code));
    expect(chosen).to.have.length(2);
    const draft = await expectOk(
      call<ContractJson>('POST', `/api/v1/tenders/${tender.id}/contract`, {
        token: ente.token,
        json: {
          startDate: '2027-01-01',
          endDate: '2027-12-31',
          measureCodes: ['ACC-02', 'BAK-01'],
        },
      }),
      201,
    );
    expect(draft.measures.map((measure) => measure.description)).to.include.members(
      chosen.map((measure) => measure.description),
    );
    const unknown = await call<Problem>('PATCH', `/api/v1/contracts/${draft.id}`, {
      token: ente.token,
      json: { measureCodes: ['ACC-02', 'XYZ-99'] },
    });
    expect(unknown.status).to.equal(422);
    expect(unknown.body.invalidParams?.map((param) => param.name)).to.deep.equal([
      'body.measureCodes.1',
    ]);
    const issued = await expectOk(
      call<ContractJson>('POST', `/api/v1/contracts/${draft.id}/issue`, { token: ente.token }),
    );
    const pdf = await pdfText(
      await download(`/api/v1/documents/${issued.documentId ?? ''}/pdf`, ente.token),
    );
    for (const measure of chosen) {
      expect(normalise(pdf)).to.contain(measure.description);
    }
  });

  it('prepares no act for an autonomous controller', async () => {
    const ente = await readyEnte({ employees: 0 });
    const autonomous = await supplier(ente, true, '0789012345');
    const tender = await awardedTender(ente, 'titolare-autonomo', autonomous.id);
    const refused = await call<Problem>('POST', `/api/v1/tenders/${tender.id}/contract`, {
      token: ente.token,
      json: {},
    });
    expect(refused.status).to.equal(422);
    expect(refused.body.detail).to.contain('titolare autonomo');
  });
});

describe('contracts: sub-processors', function () {
  this.timeout(120_000);

  async function issuedContract(
    ente: Ente,
    authorisation: 'specifica' | 'generale',
    vatSeed: string,
  ) {
    const processor = await supplier(ente, true, vatSeed);
    const tender = await awardedTender(ente, 'responsabile', processor.id);
    const draft = await expectOk(
      call<ContractJson>('POST', `/api/v1/tenders/${tender.id}/contract`, {
        token: ente.token,
        json: {
          startDate: '2027-01-01',
          endDate: '2029-12-31',
          subProcessorAuthorisation: authorisation,
        },
      }),
      201,
    );
    return expectOk(
      call<ContractJson>('POST', `/api/v1/contracts/${draft.id}/issue`, { token: ente.token }),
    );
  }

  const cloud = (vatSeed: string) => ({
    name: 'Cloud Emilia S.r.l.',
    seat: 'Via Stalingrado 1, 40128 Bologna (BO)',
    vatNumber: partitaIva(vatSeed),
    activities: 'conservazione della cartella sociale informatizzata',
  });

  interface RequestJson {
    id: string;
    status: string;
    objectionDeadline: string | null;
    letterDocumentId: string | null;
    daysLeft?: number | null;
  }

  it('under a general authorisation: 30-day objection window in Rome days, objection by letter, silence accepts', async () => {
    const ente = await readyEnte({ employees: 0 });
    const contract = await issuedContract(ente, 'generale', '0890123456');
    const today = todayInRome();
    const recent = await expectOk(
      call<RequestJson>('POST', `/api/v1/contracts/${contract.id}/sub-processor-requests`, {
        token: ente.token,
        json: { subProcessor: cloud('0901234567') },
      }),
      201,
    );
    expect(recent.objectionDeadline).to.equal(addCalendarDays(today, 30));
    const old = await expectOk(
      call<RequestJson>('POST', `/api/v1/contracts/${contract.id}/sub-processor-requests`, {
        token: ente.token,
        json: {
          subProcessor: { ...cloud('0912345678'), name: 'Archivi Padani S.p.A.' },
          receivedOn: addCalendarDays(today, -31),
        },
      }),
      201,
    );
    const waiting = await expectOk(
      call<RequestJson[]>('GET', '/api/v1/contract-views/sub-processor-requests', {
        token: ente.token,
      }),
    );
    expect(waiting.map((request) => [request.id, request.daysLeft])).to.deep.equal([
      [recent.id, 30],
    ]);
    const lapsed = await call<Problem>('POST', `/api/v1/sub-processor-requests/${old.id}/object`, {
      token: ente.token,
      json: { reason: 'troppo tardi' },
    });
    expect(lapsed.status).to.equal(409);
    expect(lapsed.body.currentState).to.equal('accepted-by-silence');

    const noReason = await call<Problem>(
      'POST',
      `/api/v1/sub-processor-requests/${recent.id}/object`,
      {
        token: ente.token,
        json: {},
      },
    );
    expect(noReason.status).to.equal(422);
    const objected = await expectOk(
      call<RequestJson>('POST', `/api/v1/sub-processor-requests/${recent.id}/object`, {
        token: ente.token,
        json: { reason: 'conservazione dei dati in un paese terzo senza decisione di adeguatezza' },
      }),
    );
    expect(objected.status).to.equal('objected');
    const letter = normalise(
      await pdfText(
        await download(`/api/v1/documents/${objected.letterDocumentId ?? ''}/pdf`, ente.token),
      ),
    );
    for (const phrase of ['si oppone', 'Cloud Emilia S.r.l.', 'paese terzo', 'art. 28']) {
      expect(letter).to.contain(phrase);
    }
    const after = await expectOk(
      call<ContractJson & { subProcessors: { name: string }[] }>(
        'GET',
        `/api/v1/contracts/${contract.id}`,
        {
          token: ente.token,
        },
      ),
    );
    expect(after.subProcessors.map((sub) => sub.name)).to.deep.equal(['Archivi Padani S.p.A.']);
    const withAnnex = await expectOk(
      call<{ subProcessorsAnnexId: string }>(
        'POST',
        `/api/v1/contracts/${contract.id}/sub-processors-annex`,
        { token: ente.token },
      ),
      201,
    );
    const annex = normalise(
      await pdfText(
        await download(`/api/v1/documents/${withAnnex.subProcessorsAnnexId}/pdf`, ente.token),
      ),
    );
    expect(annex).to.contain('Archivi Padani S.p.A.');
    expect(annex).to.not.contain('Cloud Emilia S.r.l.');
  });

  it('under a specific authorisation: the request is authorised by letter and joins the annex', async () => {
    const ente = await readyEnte({ employees: 0 });
    const contract = await issuedContract(ente, 'specifica', '0923456789');
    const request = await expectOk(
      call<RequestJson>('POST', `/api/v1/contracts/${contract.id}/sub-processor-requests`, {
        token: ente.token,
        json: { subProcessor: cloud('0934567890') },
      }),
      201,
    );
    expect(request.objectionDeadline).to.equal(null);
    const approved = await expectOk(
      call<RequestJson>('POST', `/api/v1/sub-processor-requests/${request.id}/approve`, {
        token: ente.token,
        json: {},
      }),
    );
    expect(approved.status).to.equal('approved');
    const letter = normalise(
      await pdfText(
        await download(`/api/v1/documents/${approved.letterDocumentId ?? ''}/pdf`, ente.token),
      ),
    );
    expect(letter).to.contain('autorizza');
    expect(letter).to.contain('Allegato III');
    const after = await expectOk(
      call<{ subProcessors: { name: string }[]; subProcessorsAnnexId: string | null }>(
        'GET',
        `/api/v1/contracts/${contract.id}`,
        { token: ente.token },
      ),
    );
    expect(after.subProcessors.map((sub) => sub.name)).to.deep.equal(['Cloud Emilia S.r.l.']);
    const annex = normalise(
      await pdfText(
        await download(`/api/v1/documents/${after.subProcessorsAnnexId ?? ''}/pdf`, ente.token),
      ),
    );
    expect(
      firstMissingInOrder(annex, [
        'ALLEGATO III',
        'Cloud Emilia S.r.l.',
        'conservazione della cartella sociale',
      ]),
    ).to.equal(undefined);
    const again = await call<Problem>(
      'POST',
      `/api/v1/sub-processor-requests/${request.id}/approve`,
      {
        token: ente.token,
        json: {},
      },
    );
    expect(again.status).to.equal(409);
  });
});
