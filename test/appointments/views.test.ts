/**
 * The views over appointments, through the HTTP API: the acts a change of
 * manager calls for, who holds a role now, what expires, who works on personal
 * data without authorisation, and a person's history.
 */
import { expect } from 'chai';
import { testEnvironment } from '../support/environment.js';
import { call } from '../support/http.js';
import { firstMissingInOrder, normalise, pdfText } from '../support/readers.js';
import { createPerson } from '../support/registry.js';
import {
  expectOk,
  issue,
  issuedDesignato,
  readyEnte,
  type AppointmentJson,
  type Ente,
} from './support.js';

type Act = AppointmentJson['acts'][number];

interface PersonJson {
  id: string;
  firstName: string;
  lastName: string;
}

const months = [
  'gennaio',
  'febbraio',
  'marzo',
  'aprile',
  'maggio',
  'giugno',
  'luglio',
  'agosto',
  'settembre',
  'ottobre',
  'novembre',
  'dicembre',
];

/** "25 novembre 2026", "1° dicembre 2026". */
function longDate(iso: string): string {
  const [year, month, day] = iso.split('-').map(Number);
  return `${day === 1 ? '1°' : String(day)} ${months[(month ?? 1) - 1] ?? ''} ${year}`;
}

/** "del 25 novembre 2026", but "dell’8 gennaio 2026" and "dell’11 marzo 2026". */
function withDate(preposition: string, elided: string, iso: string): string {
  const text = longDate(iso);
  return text.startsWith('8 ') || text.startsWith('11 ')
    ? `${elided}${text}`
    : `${preposition} ${text}`;
}

/** Today in Italy, AAAA-MM-GG, moved by some days. */
function romeDay(offsetDays = 0): string {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Rome' }).format(new Date());
  const date = new Date(`${today}T12:00:00Z`);
  date.setUTCDate(date.getUTCDate() + offsetDays);
  return date.toISOString().slice(0, 10);
}

async function actText(ente: Ente, act: Act | undefined): Promise<string> {
  expect(act?.documentId, 'the act has a document').to.be.a('string');
  const response = await fetch(
    `${testEnvironment().service.url}/api/v1/documents/${act?.documentId ?? ''}/pdf`,
    { headers: { authorization: `Bearer ${ente.token}` } },
  );
  expect(response.status).to.equal(200);
  const text = await pdfText(Buffer.from(await response.arrayBuffer()));
  // The running letterhead and footer of each page, out of the way of sentences across pages.
  return text
    .replace(/^\f?COMUNE DI CALDERARA DI RENO \d+$/gm, ' ')
    .replace(/^\f?.* – pagina \d+ di \d+$/gm, ' ');
}

async function draft(ente: Ente, json: Record<string, unknown>): Promise<AppointmentJson> {
  return expectOk(
    call<AppointmentJson>('POST', '/api/v1/appointments', { token: ente.token, json }),
    201,
  );
}

async function authorise(
  ente: Ente,
  personId: string | undefined,
  extra: Record<string, unknown> = {},
): Promise<AppointmentJson> {
  const created = await draft(ente, {
    role: 'autorizzato',
    personId,
    settoreIds: [ente.settoreId],
    ...extra,
  });
  return expectOk(issue(ente, created.id));
}

async function revoke(ente: Ente, appointmentId: string, reason = 'cessazione dal servizio') {
  return expectOk(
    call<AppointmentJson>('POST', `/api/v1/appointments/${appointmentId}/revoke`, {
      token: ente.token,
      json: { reason },
    }),
  );
}

async function get<T>(ente: Ente, path: string): Promise<T> {
  return expectOk(call<T>('GET', path, { token: ente.token }));
}

const ids = (items: { id: string }[]) => items.map((item) => item.id);

describe('appointment views', () => {
  describe('a change of the settore’s manager', () => {
    it('proposes the nomina of the new manager and the revoca of the Designato, and applying it supersedes the old decreto', async function () {
      this.timeout(60_000);
      const ente = await readyEnte();
      const old = await issuedDesignato(ente);
      const oldNomina = old.acts[0];
      expect(await get(ente, '/api/v1/appointment-views/manager-changes')).to.deep.equal([]);

      const successor = await createPerson(
        ente.token,
        'Stefano',
        'Galli',
        {
          title: 'dott',
          role: 'Responsabile del Settore Servizi alla Persona',
          settoreId: ente.settoreId,
        },
        'M',
      );
      await expectOk(
        call('PATCH', `/api/v1/settori/${ente.settoreId}`, {
          token: ente.token,
          json: { managerId: successor.id },
        }),
      );

      const proposals = await get<Record<string, unknown>[]>(
        ente,
        '/api/v1/appointment-views/manager-changes',
      );
      expect(proposals).to.deep.equal([
        {
          settoreId: ente.settoreId,
          settore: 'Settore Servizi alla Persona',
          newManager: { personId: successor.id, name: 'Stefano Galli' },
          current: { appointmentId: old.id, name: 'Maria Rossi', status: 'issued' },
          acts: [
            { kind: 'nomina', role: 'designato', personId: successor.id },
            { kind: 'revoca', appointmentId: old.id },
          ],
          draftId: null,
        },
      ]);

      const applied = await expectOk(
        call<AppointmentJson>(
          'POST',
          `/api/v1/appointment-views/manager-changes/${ente.settoreId}`,
          { token: ente.token },
        ),
        201,
      );
      expect(applied).to.include({
        role: 'designato',
        status: 'draft',
        personId: successor.id,
        supersedesId: old.id,
      });
      expect(applied.settoreIds).to.deep.equal([ente.settoreId]);
      expect(applied.processingActivityIds).to.deep.equal(old.processingActivityIds);
      expect(applied.databases).to.deep.equal(old.databases);
      expect(applied.acts).to.deep.equal([]);
      // Applying again finds the same draft; the proposal now points at it.
      const again = await expectOk(
        call<AppointmentJson>(
          'POST',
          `/api/v1/appointment-views/manager-changes/${ente.settoreId}`,
          { token: ente.token },
        ),
        201,
      );
      expect(again.id).to.equal(applied.id);
      const pointing = await get<{ draftId: string | null }[]>(
        ente,
        '/api/v1/appointment-views/manager-changes',
      );
      expect(pointing.map((proposal) => proposal.draftId)).to.deep.equal([applied.id]);

      const issued = await expectOk(issue(ente, applied.id));
      expect(issued.status).to.equal('issued');
      const nomina = issued.acts[0];
      expect(nomina).to.include({
        kind: 'nomina',
        registerKey: 'decreti-sindaco',
        number: (oldNomina?.number ?? 0) + 1,
      });
      const oldEstremi = `n. ${oldNomina?.number} ${withDate('del', 'dell’', oldNomina?.date ?? '')}`;
      expect(
        firstMissingInOrder(await actText(ente, nomina), [
          `DECRETO DEL SINDACO N. ${nomina?.number} ${withDate('del', 'dell’', nomina?.date ?? '').toUpperCase()}`,
          'IL SINDACO',
          'DECRETA',
          'di nominare il dott. Stefano Galli',
          'Designato al trattamento dei dati personali',
          `in sostituzione del decreto del Sindaco ${oldEstremi}, che cessa di avere efficacia dalla decorrenza della presente nomina`,
          'Servizi sociali',
          'Cartella sociale informatizzata',
          'Per accettazione, il Designato',
          'Stefano Galli',
        ]),
        'the new decreto',
      ).to.equal(undefined);

      const superseded = await get<AppointmentJson>(ente, `/api/v1/appointments/${old.id}`);
      expect(superseded.status).to.equal('superseded');
      expect(superseded.supersededById).to.equal(issued.id);
      expect(superseded.endDate).to.equal(nomina?.date);
      expect(
        superseded.transitions.map((transition) => [transition.from, transition.to]),
      ).to.deep.equal([
        [null, 'draft'],
        ['draft', 'issued'],
        ['issued', 'superseded'],
      ]);
      const revoca = superseded.acts[1];
      expect(revoca).to.include({
        kind: 'revoca',
        registerKey: 'decreti-sindaco',
        number: (nomina?.number ?? 0) + 1,
      });
      const revocaText = await actText(ente, revoca);
      expect(
        firstMissingInOrder(revocaText, [
          `DECRETO DEL SINDACO N. ${revoca?.number} ${withDate('del', 'dell’', revoca?.date ?? '').toUpperCase()}`,
          `OGGETTO: Revoca del decreto di nomina del Designato al trattamento dei dati personali ${oldEstremi} – Maria Rossi`,
          'IL SINDACO',
          'VISTI:',
          `il decreto di nomina del Designato al trattamento dei dati personali ${oldEstremi} (registro dei decreti del Sindaco)`,
          'per la seguente motivazione: cessazione dall’incarico di responsabile apicale del settore e contestuale nomina del nuovo Designato (art. 5, comma 3, del Regolamento comunale)',
          'DECRETA',
          `di revocare, per la motivazione espressa in premessa e con effetto ${withDate('dal', 'dall’', nomina?.date ?? '')}`,
          'Maria Rossi è contestualmente sostituita nel ruolo da Stefano Galli, Designato al trattamento dei dati personali, con la stessa decorrenza',
          'di notificare il presente decreto a Maria Rossi, che lo sottoscrive per ricevuta, e di comunicarlo a Stefano Galli',
          `Calderara di Reno, ${longDate(revoca?.date ?? '')}`,
        ]),
        'the revoca of the old decreto',
      ).to.equal(undefined);
      expect(normalise(revocaText)).to.contain('Per ricevuta');

      expect(await get(ente, '/api/v1/appointment-views/manager-changes')).to.deep.equal([]);
      const holders = await get<AppointmentJson[]>(
        ente,
        `/api/v1/appointment-views/holders?settoreId=${ente.settoreId}&role=designato`,
      );
      expect(ids(holders)).to.deep.equal([issued.id]);
    });

    it('has nothing to apply while the Designato in office is the manager', async () => {
      const ente = await readyEnte();
      await issuedDesignato(ente);
      const refused = await call<{ detail: string }>(
        'POST',
        `/api/v1/appointment-views/manager-changes/${ente.settoreId}`,
        { token: ente.token },
      );
      expect(refused.status).to.equal(409);
    });
  });

  describe('holders', () => {
    it('lists the Designato and the autorizzati in force by settore and by processing activity, not revoked or draft ones', async function () {
      this.timeout(60_000);
      const ente = await readyEnte({ employees: 3 });
      const [first, second, third] = ente.employees;
      const designato = await issuedDesignato(ente);
      const kept = await authorise(ente, first?.id);
      const ended = await authorise(ente, second?.id);
      await revoke(ente, ended.id);
      await draft(ente, { role: 'autorizzato', personId: third?.id, settoreIds: [ente.settoreId] });
      // Signed and accepted is still in force.
      for (const action of ['sign', 'accept']) {
        await expectOk(
          call('POST', `/api/v1/appointments/${kept.id}/${action}`, {
            token: ente.token,
            json: {},
          }),
        );
      }
      // A role outside the settore.
      const administrator = await draft(ente, {
        role: 'amministratore-sistema',
        personId: third?.id,
        systemAdministrator: {
          systems: ['Rete locale'],
          functions: ['gestione delle utenze'],
          yearlyCheck: { responsible: 'il Segretario comunale', deadline: 'entro il 31 gennaio' },
        },
      });
      await expectOk(issue(ente, administrator.id));

      const bySettore = await get<AppointmentJson[]>(
        ente,
        `/api/v1/appointment-views/holders?settoreId=${ente.settoreId}`,
      );
      expect(bySettore.map((holder) => [holder.id, holder.role, holder.status])).to.deep.equal([
        [kept.id, 'autorizzato', 'accepted'],
        [designato.id, 'designato', 'issued'],
      ]);
      const byActivity = await get<AppointmentJson[]>(
        ente,
        `/api/v1/appointment-views/holders?processingActivityId=${ente.activityId}`,
      );
      expect(ids(byActivity)).to.deep.equal([kept.id, designato.id]);
      const authorisedOnly = await get<AppointmentJson[]>(
        ente,
        `/api/v1/appointment-views/holders?settoreId=${ente.settoreId}&role=autorizzato`,
      );
      expect(ids(authorisedOnly)).to.deep.equal([kept.id]);
      const everyone = await get<AppointmentJson[]>(ente, '/api/v1/appointment-views/holders');
      expect(ids(everyone)).to.have.members([kept.id, designato.id, administrator.id]);
    });
  });

  describe('expiry', () => {
    it('lists what ends within N days, and expires what has ended on the next views call', async function () {
      this.timeout(60_000);
      const ente = await readyEnte({ employees: 2 });
      const [first, second] = ente.employees;
      await issuedDesignato(ente);
      const soon = await authorise(ente, first?.id, { endDate: romeDay(10) });
      const ended = await authorise(ente, second?.id, {
        startDate: romeDay(-60),
        endDate: romeDay(-1),
      });
      expect(ended.status).to.equal('issued');
      const before = await get<AppointmentJson>(ente, `/api/v1/appointments/${ended.id}`);
      expect(before.status, 'nothing expires before a views call').to.equal('issued');

      const within30 = await get<AppointmentJson[]>(
        ente,
        '/api/v1/appointment-views/expiring?days=30',
      );
      expect(ids(within30)).to.deep.equal([soon.id]);
      const within5 = await get<AppointmentJson[]>(
        ente,
        '/api/v1/appointment-views/expiring?days=5',
      );
      expect(ids(within5)).to.deep.equal([]);

      const expired = await get<AppointmentJson>(ente, `/api/v1/appointments/${ended.id}`);
      expect(expired.status).to.equal('expired');
      const last = expired.transitions[expired.transitions.length - 1];
      expect(last).to.include({ from: 'issued', to: 'expired' });
      expect(last?.by.name).to.equal('Sigillo (scadenza automatica)');
      expect(Date.parse(last?.at ?? '')).to.be.above(0);
      expect(
        expired.acts.map((act) => act.kind),
        'expiry issues no act',
      ).to.deep.equal(['nomina']);
      const stillSoon = await get<AppointmentJson>(ente, `/api/v1/appointments/${soon.id}`);
      expect(stillSoon.status).to.equal('issued');
      const holders = await get<AppointmentJson[]>(
        ente,
        `/api/v1/appointment-views/holders?settoreId=${ente.settoreId}&role=autorizzato`,
      );
      expect(ids(holders)).to.deep.equal([soon.id]);
    });

    it('refuses an autorizzazione whose end date falls before the date it takes effect', async function () {
      this.timeout(60_000);
      const ente = await readyEnte({ employees: 1 });
      await issuedDesignato(ente);
      // No startDate: the act takes effect on its own date, today, after the end date.
      const backwards = await draft(ente, {
        role: 'autorizzato',
        personId: ente.employees[0]?.id,
        settoreIds: [ente.settoreId],
        endDate: romeDay(-1),
      });
      const refused = await issue(ente, backwards.id);
      expect(refused.status, JSON.stringify(refused.body.acts ?? refused.body)).to.equal(422);
      expect((refused.body.invalidParams ?? []).map((param) => param.name)).to.include('endDate');
    });
  });

  describe('unauthorised people', () => {
    it('lists the employees of settori with processing activities holding no authorisation, until they are authorised', async function () {
      this.timeout(60_000);
      const ente = await readyEnte({ employees: 2 });
      const [first, second] = ente.employees;
      const listed = async () =>
        ids(await get<PersonJson[]>(ente, '/api/v1/appointment-views/unauthorised-people'));

      // Not listed: an external consultant of the settore, an employee of a settore without
      // processing activities, a person of no settore (the Sindaco).
      await createPerson(ente.token, 'Franco', 'Esterni', {
        kind: 'external',
        settoreId: ente.settoreId,
      });
      const tributi = await expectOk(
        call<{ id: string }>('POST', '/api/v1/settori', {
          token: ente.token,
          json: { name: 'Settore Tributi' },
        }),
        201,
      );
      await createPerson(ente.token, 'Paola', 'Tributi', { settoreId: tributi.id }, 'F');

      // Sorted by surname: Numero0, Numero1, Rossi (the manager).
      expect(await listed()).to.deep.equal([first?.id, second?.id, ente.manager.id]);
      await issuedDesignato(ente);
      expect(await listed(), 'the Designata is covered by her decreto').to.deep.equal([
        first?.id,
        second?.id,
      ]);
      const authorisation = await authorise(ente, first?.id);
      expect(await listed()).to.deep.equal([second?.id]);
      await revoke(ente, authorisation.id);
      expect(await listed(), 'listed again once revoked').to.deep.equal([first?.id, second?.id]);
    });
  });

  describe('a person’s history', () => {
    it('gives every appointment of the person, in the order they were made', async function () {
      this.timeout(60_000);
      const ente = await readyEnte({ employees: 2 });
      const [person, other] = ente.employees;
      await issuedDesignato(ente);
      const firstAuthorisation = await authorise(ente, person?.id);
      await revoke(ente, firstAuthorisation.id, 'assegnazione temporanea ad altro ufficio');
      const administrator = await draft(ente, {
        role: 'amministratore-sistema',
        personId: person?.id,
        systemAdministrator: {
          systems: ['Rete locale'],
          functions: ['gestione delle utenze'],
          yearlyCheck: { responsible: 'il Segretario comunale', deadline: 'entro il 31 gennaio' },
        },
      });
      await expectOk(issue(ente, administrator.id));
      const secondAuthorisation = await authorise(ente, person?.id);
      const pending = await draft(ente, {
        role: 'autorizzato',
        personId: person?.id,
        settoreIds: [ente.settoreId],
        endDate: romeDay(365),
      });
      await authorise(ente, other?.id);

      const history = await get<AppointmentJson[]>(
        ente,
        `/api/v1/people/${person?.id}/appointments`,
      );
      expect(
        history.map((appointment) => [appointment.id, appointment.role, appointment.status]),
      ).to.deep.equal([
        [firstAuthorisation.id, 'autorizzato', 'revoked'],
        [administrator.id, 'amministratore-sistema', 'issued'],
        [secondAuthorisation.id, 'autorizzato', 'issued'],
        [pending.id, 'autorizzato', 'draft'],
      ]);
      expect(history.every((appointment) => appointment.personId === person?.id)).to.be.true;
      const managerHistory = await get<AppointmentJson[]>(
        ente,
        `/api/v1/people/${ente.manager.id}/appointments`,
      );
      expect(managerHistory.map((appointment) => appointment.role)).to.deep.equal(['designato']);
    });
  });
});
