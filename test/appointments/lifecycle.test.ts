import { expect } from 'chai';
import { Appointment } from '../../server/appointments/model.js';
import { GeneratedDocument } from '../../server/documents/model.js';
import { RegisterEntry } from '../../server/registers/model.js';
import { listRegisterEntries, todayInRome } from '../../server/registers/service.js';
import { runInTenant } from '../../server/platform/tenancy.js';
import mongoose from 'mongoose';
import { call, download } from '../support/http.js';
import { docxText, firstMissingInOrder, pdfText } from '../support/readers.js';
import {
  expectOk,
  issue,
  issuedDesignato,
  readyEnte,
  type AppointmentJson,
  type Problem,
} from './support.js';

describe('appointments: lifecycle', () => {
  it('issues a designato: numbered decreto, read back in PDF and DOCX, state issued', async () => {
    const ente = await readyEnte();
    const designato = await issuedDesignato(ente);
    expect(designato.status).to.equal('issued');
    expect(designato.acts).to.have.length(1);
    const [act] = designato.acts;
    expect(act).to.include({ kind: 'nomina', registerKey: 'decreti-sindaco', number: 1 });
    const year = Number(act?.date.slice(0, 4));
    expect(act?.year).to.equal(year);
    expect(designato.transitions.map((transition) => transition.to)).to.deep.equal([
      'draft',
      'issued',
    ]);

    const pdf = await pdfText(
      await download(`/api/v1/documents/${act?.documentId ?? ''}/pdf`, ente.token),
    );
    const docx = await docxText(
      await download(`/api/v1/documents/${act?.documentId ?? ''}/docx`, ente.token),
    );
    const expected = [
      'COMUNE DI CALDERARA DI RENO',
      `DECRETO DEL SINDACO N. 1 DEL`,
      'OGGETTO:',
      'IL SINDACO',
      'VISTI:',
      'DECRETA',
      'la dott.ssa Maria Rossi',
      'Designata al trattamento dei dati personali',
      'Settore Servizi alla Persona',
      'Servizi sociali',
      'Cartella sociale informatizzata',
      'Lepida S.c.p.A.',
      'Calderara di Reno,',
      'Giampiero Falzone',
    ];
    expect(firstMissingInOrder(pdf, expected), 'PDF').to.equal(undefined);
    // Word keeps the letterhead in the page header, which a DOCX text reader skips.
    expect(firstMissingInOrder(docx, expected.slice(1)), 'DOCX').to.equal(undefined);

    // The register and the document record agree with the appointment.
    await runInTenant(new mongoose.Types.ObjectId(ente.organisationId), async () => {
      const entries = (
        await listRegisterEntries({
          registerKey: 'decreti-sindaco',
          year: Number(todayInRome().slice(0, 4)),
          limit: 1000,
          offset: 0,
        })
      ).items;
      expect(entries.map((entry) => [entry.number, entry.status])).to.deep.equal([[1, 'recorded']]);
      const document = await GeneratedDocument.findById(act?.documentId);
      expect(document?.registration?.number).to.equal(1);
    });
  });

  it('moves issued → signed → accepted → revoked with who and when, refusing illegal moves', async () => {
    const ente = await readyEnte();
    const designato = await issuedDesignato(ente);
    const path = `/api/v1/appointments/${designato.id}`;

    const early = await call<Problem>('POST', `${path}/accept`, { token: ente.token, json: {} });
    expect(early.status).to.equal(409);
    expect(early.contentType).to.contain('application/problem+json');
    expect(early.body.currentState).to.equal('issued');
    expect(early.body.detail).to.contain('issued');

    const again = await issue(ente, designato.id);
    expect(again.status).to.equal(200);
    expect(again.body.acts).to.have.length(1);

    await expectOk(call('POST', `${path}/sign`, { token: ente.token, json: {} }));
    await expectOk(
      call('POST', `${path}/accept`, { token: ente.token, json: { note: 'firmato il 25/11' } }),
    );
    const patch = await call<Problem>('PATCH', path, {
      token: ente.token,
      json: { databases: ['Altro'] },
    });
    expect(patch.status).to.equal(409);
    expect(patch.body.currentState).to.equal('accepted');

    const revoked = await expectOk(
      call<AppointmentJson>('POST', `${path}/revoke`, {
        token: ente.token,
        json: { reason: 'cessazione dal servizio per pensionamento' },
      }),
    );
    expect(revoked.status).to.equal('revoked');
    expect(revoked.acts.map((act) => [act.kind, act.number])).to.deep.equal([
      ['nomina', 1],
      ['revoca', 2],
    ]);
    expect(revoked.transitions.map((transition) => transition.to)).to.deep.equal([
      'draft',
      'issued',
      'signed',
      'accepted',
      'revoked',
    ]);
    for (const transition of revoked.transitions) {
      expect(transition.by.name).to.be.a('string').and.not.empty;
      expect(Date.parse(transition.at)).to.be.above(0);
    }
    const revoca = revoked.acts[1];
    const text = await pdfText(
      await download(`/api/v1/documents/${revoca?.documentId ?? ''}/pdf`, ente.token),
    );
    expect(
      firstMissingInOrder(text, [
        'N. 2',
        'Maria Rossi',
        `n. 1`,
        'cessazione dal servizio per pensionamento',
      ]),
    ).to.equal(undefined);

    const twice = await call<Problem>('POST', `${path}/revoke`, {
      token: ente.token,
      json: { reason: 'di nuovo' },
    });
    expect(twice.status).to.equal(409);
    expect(twice.body.currentState).to.equal('revoked');
  });

  it('refuses to issue a designato who is not the settore manager, naming the field; no number taken', async () => {
    const ente = await readyEnte();
    const draft = await expectOk(
      call<AppointmentJson>('POST', '/api/v1/appointments', {
        token: ente.token,
        json: {
          role: 'designato',
          personId: ente.employees[0]?.id,
          settoreIds: [ente.settoreId],
        },
      }),
      201,
    );
    const refused = await issue(ente, draft.id);
    expect(refused.status).to.equal(422);
    expect(refused.body.invalidParams?.map((param) => param.name)).to.include('personId');
    expect(refused.body.detail).to.contain('art. 5, comma 3');
    await runInTenant(new mongoose.Types.ObjectId(ente.organisationId), async () => {
      expect(await RegisterEntry.countDocuments({})).to.equal(0);
      expect((await Appointment.findById(draft.id))?.status).to.equal('draft');
    });
  });

  it('refuses to archive a person holding a role in force, naming the act; after the revoca it archives', async () => {
    const ente = await readyEnte({ employees: 1 });
    await issuedDesignato(ente);
    const employee = ente.employees[0]?.id ?? '';
    const draft = await expectOk(
      call<AppointmentJson>('POST', '/api/v1/appointments', {
        token: ente.token,
        json: { role: 'autorizzato', personId: employee, settoreIds: [ente.settoreId] },
      }),
      201,
    );
    const issued = await expectOk(issue(ente, draft.id));
    const refused = await call<
      Problem & { references?: { kind: string; id: string; description: string }[] }
    >('DELETE', `/api/v1/people/${employee}`, { token: ente.token });
    expect(refused.status).to.equal(409);
    expect(
      refused.body.references?.map((reference) => [reference.kind, reference.id]),
    ).to.deep.equal([['appointment', issued.id]]);
    expect(refused.body.detail).to.contain(`atto n. ${issued.acts[0]?.number ?? 0}`);
    await expectOk(
      call('POST', `/api/v1/appointments/${issued.id}/revoke`, {
        token: ente.token,
        json: { reason: 'trasferimento ad altro ente' },
      }),
    );
    const archived = await call<{ archived: boolean }>('DELETE', `/api/v1/people/${employee}`, {
      token: ente.token,
    });
    expect(archived.status).to.equal(200);
    expect(archived.body.archived).to.equal(true);
  });

  it('records a joint-controller agreement in its own register, refusing one without responsibilities', async () => {
    const ente = await readyEnte({ employees: 0 });
    const incomplete = await expectOk(
      call<AppointmentJson>('POST', '/api/v1/appointments', {
        token: ente.token,
        json: {
          role: 'contitolare',
          jointController: {
            parties: ['Unione Terre d’Acqua'],
            subject: 'Gestione associata del servizio di polizia locale',
            responsibilities: [],
          },
        },
      }),
      201,
    );
    expect(incomplete.appointeeName).to.equal('Unione Terre d’Acqua');
    const refused = await issue(ente, incomplete.id);
    expect(refused.status).to.equal(422);
    expect(refused.body.invalidParams?.map((param) => param.name)).to.deep.equal([
      'jointController.responsibilities',
    ]);
    await expectOk(
      call('PATCH', `/api/v1/appointments/${incomplete.id}`, {
        token: ente.token,
        json: {
          jointController: {
            parties: ['Unione Terre d’Acqua'],
            subject: 'Gestione associata del servizio di polizia locale',
            responsibilities: [
              'Il Comune fornisce l’informativa agli interessati (artt. 13-14 GDPR)',
              'L’Unione riscontra le richieste di esercizio dei diritti (artt. 15-22 GDPR)',
            ],
            contactPoint: 'privacy@terredacqua.net',
            signedOn: '2026-11-20',
          },
        },
      }),
    );
    const recorded = await expectOk(issue(ente, incomplete.id));
    expect(recorded.status).to.equal('issued');
    expect(recorded.acts).to.have.length(1);
    expect(recorded.acts[0]).to.include({
      kind: 'nomina',
      registerKey: 'accordi-contitolarita',
      number: 1,
      documentId: null,
    });
  });

  it('gives 50 concurrent issues in one register 50 distinct consecutive numbers', async function () {
    this.timeout(120_000);
    const ente = await readyEnte({ employees: 50 });
    await issuedDesignato(ente);
    const drafts = await Promise.all(
      ente.employees.map((employee) =>
        expectOk(
          call<AppointmentJson>('POST', '/api/v1/appointments', {
            token: ente.token,
            json: { role: 'autorizzato', personId: employee.id, settoreIds: [ente.settoreId] },
          }),
          201,
        ),
      ),
    );
    const issued = await Promise.all(drafts.map((draft) => issue(ente, draft.id)));
    for (const response of issued) {
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
    }
    const numbers = issued.map((response) => response.body.acts[0]?.number ?? 0);
    expect(new Set(numbers).size).to.equal(50);
    expect([...numbers].sort((a, b) => a - b)).to.deep.equal(
      Array.from({ length: 50 }, (_, index) => index + 1),
    );
    expect(issued.every((response) => response.body.acts[0]?.registerKey === 'atti-designato')).to
      .be.true;
  });
});
