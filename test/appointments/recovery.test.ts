import { expect } from 'chai';
import mongoose from 'mongoose';
import { completePendingActs } from '../../server/appointments/service.js';
import { Appointment } from '../../server/appointments/model.js';
import { GeneratedDocument } from '../../server/documents/model.js';
import { RenderPool } from '../../server/documents/render-pool.js';
import { assignNumber } from '../../server/registers/service.js';
import { listRegisterEntries, todayInRome } from '../../server/registers/service.js';
import { runInTenant } from '../../server/platform/tenancy.js';
import { testEnvironment } from '../support/environment.js';
import { call } from '../support/http.js';
import { pdfText } from '../support/readers.js';
import { expectOk, issue, issuedDesignato, readyEnte, type AppointmentJson } from './support.js';

describe('appointments: a crash between numbering and storing', () => {
  let pool: RenderPool;
  before(() => {
    pool = new RenderPool(1);
  });
  after(() => pool.destroy());

  it('completes the numbered act with its number, leaving no gap, whether retried or swept', async function () {
    this.timeout(60_000);
    const ente = await readyEnte({ employees: 3 });
    await issuedDesignato(ente);
    const organisationId = new mongoose.Types.ObjectId(ente.organisationId);
    const drafts: AppointmentJson[] = [];
    for (const employee of ente.employees) {
      drafts.push(
        await expectOk(
          call<AppointmentJson>('POST', '/api/v1/appointments', {
            token: ente.token,
            json: { role: 'autorizzato', personId: employee.id, settoreIds: [ente.settoreId] },
          }),
          201,
        ),
      );
    }
    const [first, second, third] = drafts;
    // The process numbers two acts and dies before rendering and storing them.
    for (const draft of [first, second]) {
      await runInTenant(organisationId, () =>
        assignNumber({
          registerKey: 'atti-designato',
          actKey: `appointment:${draft?.id ?? ''}:nomina`,
          subject: 'atto interrotto',
        }),
      );
    }
    await runInTenant(organisationId, async () => {
      const entries = (
        await listRegisterEntries({
          registerKey: 'atti-designato',
          year: Number(todayInRome().slice(0, 4)),
          limit: 200,
          offset: 0,
        })
      ).items;
      expect(entries.map((entry) => [entry.number, entry.status])).to.deep.equal([
        [1, 'reserved'],
        [2, 'reserved'],
      ]);
      expect(
        await GeneratedDocument.countDocuments({ 'registration.registerKey': 'atti-designato' }),
      ).to.equal(0);
    });

    // Another act issued meanwhile takes the next number: the reserved ones are not reused.
    const third_ = await issue(ente, third?.id ?? '');
    expect(third_.status).to.equal(200);
    expect(third_.body.acts[0]?.number).to.equal(3);

    // The user retries the first; the maintenance sweep finishes the second.
    const retried = await issue(ente, first?.id ?? '');
    expect(retried.status).to.equal(200);
    expect(retried.body.acts[0]?.number).to.equal(1);
    const swept = await completePendingActs(
      { storage: testEnvironment().service.storage, render: pool.render },
      0,
    );
    expect(swept).to.equal(1);

    await runInTenant(organisationId, async () => {
      const recovered = await Appointment.findById(second?.id);
      expect(recovered?.status).to.equal('issued');
      expect(recovered?.acts.map((act) => act.number)).to.deep.equal([2]);
      const entries = (
        await listRegisterEntries({
          registerKey: 'atti-designato',
          year: Number(todayInRome().slice(0, 4)),
          limit: 200,
          offset: 0,
        })
      ).items;
      expect(entries.map((entry) => [entry.number, entry.status])).to.deep.equal([
        [1, 'recorded'],
        [2, 'recorded'],
        [3, 'recorded'],
      ]);
      const documents = await GeneratedDocument.find({
        'registration.registerKey': 'atti-designato',
      });
      expect(documents.map((document) => document.registration?.number).sort()).to.deep.equal([
        1, 2, 3,
      ]);
      const second_ = documents.find((document) => document.registration?.number === 2);
      const stored = await testEnvironment().service.storage.get(second_?.pdf.key ?? '', {
        expectedSha256: second_?.pdf.sha256 ?? '',
      });
      expect(await pdfText(stored.body)).to.contain('N. 2 DEL');
    });
    // A second sweep finds nothing left to do.
    expect(
      await completePendingActs(
        { storage: testEnvironment().service.storage, render: pool.render },
        0,
      ),
    ).to.equal(0);
  });
});
