import { expect } from 'chai';
import mongoose from 'mongoose';
import { Dpia, DpiaVersion } from '../../server/dpia/model.js';
import { runInTenant } from '../../server/platform/tenancy.js';
import { addCalendarDays, todayInRome } from '../../server/registers/service.js';
import { call, newTenant } from '../support/http.js';
import { normalise, pdfText } from '../support/readers.js';
import { partitaIva, tokenWithRoles } from '../support/registry.js';
import { expectOk, readyEnte, type Ente, type Problem } from '../appointments/support.js';
import {
  answers,
  completeChanges,
  download,
  risk,
  type DpiaJson,
  type ScreeningJson,
} from './support.js';

interface ChangesJson {
  from: number | null;
  to: number;
  changes: {
    path: string;
    change: string;
    before?: unknown;
    after?: unknown;
    description: string;
  }[];
}

interface WithDocument<T> {
  documentId: string;
  record: T;
}

function screen(ente: Ente, body: Record<string, unknown>, token = ente.token) {
  return call<ScreeningJson & Problem>(
    'POST',
    `/api/v1/processing-activities/${ente.activityId}/dpia-screenings`,
    { token, json: body },
  );
}

async function mandatoryScreening(ente: Ente): Promise<ScreeningJson> {
  return expectOk(
    screen(ente, {
      answers: answers(['b', 'C4', 'C7', 'G6']),
      dpoOpinion: { text: 'L’RPD concorda sulla necessità della DPIA.', givenOn: '2026-01-05' },
    }),
    201,
  );
}

async function newDpia(ente: Ente): Promise<DpiaJson> {
  const screening = await mandatoryScreening(ente);
  return expectOk(
    call<DpiaJson>('POST', '/api/v1/dpias', {
      token: ente.token,
      json: { screeningId: screening.id },
    }),
    201,
  );
}

function patch(ente: Ente, dpia: { id: string }, json: unknown) {
  return call<DpiaJson & Problem>('PATCH', `/api/v1/dpias/${dpia.id}`, { token: ente.token, json });
}

async function completeDpia(ente: Ente, overrides: Record<string, unknown> = {}) {
  const dpia = await newDpia(ente);
  return expectOk(patch(ente, dpia, completeChanges(overrides)));
}

async function documentText(ente: Ente, documentId: string): Promise<string> {
  return normalise(
    await pdfText(await download(`/api/v1/documents/${documentId}/pdf`, ente.token)),
  );
}

const highRiskChanges = () =>
  completeChanges({
    risks: [
      risk('accesso-illegittimo', [4, 4], [3, 3], ['ACC-02', 'DPI-12'], {
        title: 'Accesso illegittimo alla cartella sociale',
        residualNote:
          'Gli operatori della cooperativa accedono da postazioni non gestite dall’ente.',
      }),
      risk('modifica-indesiderata', [2, 3], [1, 2], ['ACC-02']),
      risk('scomparsa', [2, 2], [1, 2], ['BAK-01']),
    ],
    dpoOpinion: {
      conclusion: 'favorevole-con-osservazioni',
      text: 'Il rischio di accesso illegittimo resta elevato: consultare il Garante.',
      givenOn: '2026-01-10',
    },
  });

describe('DPIA: screening, record, drafts, prior consultation and versions', function () {
  this.timeout(120_000);

  it('records a screening, keeps it as made and prints its report', async () => {
    const ente = await readyEnte({ employees: 0 });
    const screening = await mandatoryScreening(ente);
    expect(screening.outcome).to.equal('obbligatoria');
    expect(screening.dpiaToBePerformed).to.equal(true);
    expect(screening.triggers).to.deep.include({ art35: ['b'], garanteList: ['G6'] });
    const reasons = screening.reasons.join('\n');
    expect(reasons).to.contain('art. 35, par. 3, lett. b)');
    expect(reasons).to.contain('tipologia G6');
    expect(reasons).to.contain('C4');

    // The registro's own answer follows.
    const activity = await expectOk(
      call<{ dpiaRequired: string }>('GET', `/api/v1/processing-activities/${ente.activityId}`, {
        token: ente.token,
      }),
    );
    expect(activity.dpiaRequired).to.equal('si');

    // One criterion: the Titolare must decide, with a reason.
    const undecided = await screen(ente, { answers: answers(['C4']) });
    expect(undecided.status).to.equal(422);
    expect(undecided.body.invalidParams?.map((param) => param.name)).to.deep.equal([
      'body.decision',
    ]);
    const declined = await expectOk(
      screen(ente, {
        answers: answers(['C4']),
        decision: { performDpia: false, reason: 'Dati sanitari trattati solo in forma aggregata.' },
      }),
      201,
    );
    expect(declined.outcome).to.equal('raccomandata');
    expect(declined.dpiaToBePerformed).to.equal(false);
    // A mandatory DPIA cannot be declined.
    const refused = await screen(ente, {
      answers: answers(['a']),
      decision: { performDpia: false, reason: 'Non si ritiene necessaria.' },
    });
    expect(refused.status).to.equal(422);
    expect(refused.body.invalidParams?.[0]?.name).to.equal('body.decision.performDpia');
    // An unanswered question is a bad request naming it.
    const partial = answers([]) as unknown as { criteria: Record<string, unknown> };
    delete partial.criteria.C9;
    const missing = await screen(ente, { answers: partial });
    expect(missing.status).to.equal(400);
    expect(missing.body.invalidParams?.map((param) => param.name)).to.include(
      'body.answers.criteria.C9',
    );

    const listed = await expectOk(
      call<ScreeningJson[]>(
        'GET',
        `/api/v1/processing-activities/${ente.activityId}/dpia-screenings`,
        { token: ente.token },
      ),
    );
    expect(listed.map((item) => item.id)).to.deep.equal([declined.id, screening.id]);

    // Readers read, only writers write; another ente sees nothing.
    const legal = await tokenWithRoles(ente.token, ['legal']);
    expect(
      (await call('GET', `/api/v1/dpia-screenings/${screening.id}`, { token: legal })).status,
    ).to.equal(200);
    expect((await screen(ente, { answers: answers([]) }, legal)).status).to.equal(403);
    const other = await newTenant();
    expect(
      (await call('GET', `/api/v1/dpia-screenings/${screening.id}`, { token: other.token })).status,
    ).to.equal(404);

    const report = await expectOk(
      call<WithDocument<ScreeningJson>>('POST', `/api/v1/dpia-screenings/${screening.id}/report`, {
        token: ente.token,
      }),
      201,
    );
    expect(report.record.reportDocumentId).to.equal(report.documentId);
    const text = await documentText(ente, report.documentId);
    for (const phrase of [
      'Servizi sociali',
      'T05',
      'Settore Servizi alla Persona',
      'G6',
      'obbligatori',
    ]) {
      expect(text, phrase).to.contain(phrase);
    }
    expect(text).to.contain('Giampiero Falzone');
    // Asking again gives the same document: the report of a screening is made once.
    const again = await expectOk(
      call<WithDocument<ScreeningJson>>('POST', `/api/v1/dpia-screenings/${screening.id}/report`, {
        token: ente.token,
      }),
      201,
    );
    expect(again.documentId).to.equal(report.documentId);
  });

  it('prints innovative technology declared alone as not holding', async () => {
    const ente = await readyEnte({ employees: 0 });
    const screening = await expectOk(screen(ente, { answers: answers(['G7']) }), 201);
    expect(screening.outcome).to.equal('non-obbligatoria');
    const report = await expectOk(
      call<WithDocument<ScreeningJson>>('POST', `/api/v1/dpia-screenings/${screening.id}/report`, {
        token: ente.token,
      }),
      201,
    );
    const text = await documentText(ente, report.documentId);
    expect(text).to.contain('la tipologia non ricorre');
    // Not mandatory and not chosen: no DPIA.
    const refused = await call<Problem>('POST', '/api/v1/dpias', {
      token: ente.token,
      json: { screeningId: screening.id },
    });
    expect(refused.status).to.equal(409);
    expect(refused.body.currentState).to.equal('non-obbligatoria');
  });

  it('starts a DPIA from a screening, prefilled from the registro, and enforces its rules', async () => {
    const ente = await readyEnte({ employees: 0 });
    const screening = await mandatoryScreening(ente);
    const dpia = await expectOk(
      call<DpiaJson>('POST', '/api/v1/dpias', {
        token: ente.token,
        json: { screeningId: screening.id },
      }),
      201,
    );
    expect(dpia.version).to.equal(1);
    const description = dpia.content.description;
    expect(description.name).to.equal('Servizi sociali');
    expect(description.code).to.equal('T05');
    expect(description.settore).to.equal('Settore Servizi alla Persona');
    expect(description.purposes).to.deep.equal([
      'Erogazione di contributi economici',
      'Assistenza domiciliare',
    ]);
    expect(description.dataSubjects).to.deep.equal([
      'Richiedenti e beneficiari delle prestazioni',
      'Minori',
    ]);
    expect(description.dataCategories).to.include(
      'Dati relativi alla salute (categoria particolare, art. 9 GDPR)',
    );
    expect(description.legalBases.join(' ')).to.contain('art. 9, par. 2, lett. h)');
    expect(description.recipients).to.deep.equal(['Azienda USL', 'INPS']);
    expect(description.retention).to.equal('10 anni dalla chiusura della cartella sociale');
    expect(description.systems[0]).to.contain('Cartella sociale informatizzata');
    expect(description.flows.join(' ')).to.contain('INPS');
    expect(description.flows.join(' ')).to.contain('Cooperativa sociale Il Ponte');
    expect(description.processors).to.deep.equal([
      { name: 'Cooperativa sociale Il Ponte', role: 'responsabile', tasks: null },
    ]);
    expect(dpia.content.necessity.map((item) => item.aspect)).to.have.length(8);
    expect(dpia.content.risks.map((item) => item.event)).to.deep.equal([
      'accesso-illegittimo',
      'modifica-indesiderata',
      'scomparsa',
    ]);
    expect(dpia.content.measures.map((measure) => measure.title)).to.deep.equal([
      'Fascicoli in armadi chiusi a chiave',
      'Accesso per ruolo',
    ]);
    const [year, rest] = [Number(todayInRome().slice(0, 4)), todayInRome().slice(4)];
    expect(dpia.content.revisionDate).to.equal(
      rest === '-02-29' ? `${year + 1}-03-01` : `${year + 1}${rest}`,
    );

    // One per processing activity.
    const second = await call<{ dpiaId: string }>('POST', '/api/v1/dpias', {
      token: ente.token,
      json: { screeningId: screening.id },
    });
    expect(second.status).to.equal(409);
    expect(second.body.dpiaId).to.equal(dpia.id);

    // A risk relying on a measure the DPIA does not have, an unknown catalogue code.
    const badMeasures = await patch(ente, dpia, {
      measureCodes: ['ZZZ-99'],
      risks: [risk('accesso-illegittimo', [3, 3], [2, 2], ['ACC-02'])],
    });
    expect(badMeasures.status).to.equal(422);
    expect(badMeasures.body.invalidParams?.map((param) => param.name)).to.have.members([
      'body.measureCodes.0',
      'body.risks.0.measureCodes.0',
    ]);
    // Out-of-scale scores are bad requests naming the field.
    const outOfScale = await patch(ente, dpia, {
      risks: [risk('accesso-illegittimo', [5, 3], [2, 2], [])],
    });
    expect(outOfScale.status).to.equal(400);
    expect(outOfScale.body.invalidParams?.[0]?.name).to.equal('body.risks.0.inherent.likelihood');

    // Missing one of the three risks: the draft is refused, naming it.
    const complete = completeChanges();
    const withoutDisappearance = await expectOk(
      patch(ente, dpia, { ...complete, risks: complete.risks.slice(0, 2) }),
    );
    expect(withoutDisappearance.content.risks).to.have.length(2);
    const refused = await call<Problem>('POST', `/api/v1/dpias/${dpia.id}/draft`, {
      token: ente.token,
    });
    expect(refused.status).to.equal(422);
    expect(refused.body.invalidParams).to.deep.equal([
      {
        name: 'content.risks',
        reason: 'manca il rischio di scomparsa dei dati (art. 35, par. 7, lett. c), GDPR)',
      },
    ]);

    // The Titolare approving against the DPO's contrary opinion must say why.
    const departing = await patch(ente, dpia, {
      risks: complete.risks,
      dpoOpinion: {
        conclusion: 'contrario',
        text: 'Le misure non bastano.',
        givenOn: '2026-01-10',
      },
      decision: { outcome: 'approvata', decidedOn: '2026-01-12' },
    });
    expect(departing.status).to.equal(422);
    expect(departing.body.invalidParams?.map((param) => param.name)).to.deep.equal([
      'body.decision.departureReason',
    ]);
    // Nor can a decision precede the DPO's opinion.
    const early = await patch(ente, dpia, { dpoOpinion: null });
    expect(early.status).to.equal(422);
    expect(early.body.invalidParams?.[0]?.name).to.equal('body.dpoOpinion');
    const motivated = await expectOk(
      patch(ente, dpia, {
        risks: complete.risks,
        dpoOpinion: {
          conclusion: 'contrario',
          text: 'Le misure non bastano.',
          givenOn: '2026-01-10',
        },
        decision: {
          outcome: 'approvata',
          decidedOn: '2026-01-12',
          departureReason: 'Il servizio è indifferibile; le misure aggiuntive sono pianificate.',
        },
      }),
    );
    expect(motivated.content.decision?.departureReason).to.contain('indifferibile');
    expect(motivated.residualHighRisk).to.equal(false);

    const drafted = await expectOk(
      call<WithDocument<DpiaJson>>('POST', `/api/v1/dpias/${dpia.id}/draft`, { token: ente.token }),
      201,
    );
    expect(drafted.record.draft?.documentId).to.equal(drafted.documentId);
    const text = await documentText(ente, drafted.documentId);
    for (const phrase of [
      'Servizi sociali',
      'Cartella sociale informatizzata',
      'Accesso illegittimo ai dati',
      'Scomparsa dei dati',
      'Autenticazione a più fattori',
      'indifferibile',
    ]) {
      expect(text, phrase).to.contain(phrase);
    }

    // Another ente cannot see it; a reader cannot change it.
    const other = await newTenant();
    expect((await call('GET', `/api/v1/dpias/${dpia.id}`, { token: other.token })).status).to.equal(
      404,
    );
    expect((await patch({ ...ente, token: other.token }, dpia, { team: [] })).status).to.equal(404);
    const procurement = await tokenWithRoles(ente.token, ['procurement']);
    expect((await patch({ ...ente, token: procurement }, dpia, { team: [] })).status).to.equal(403);
  });

  it('prints a draft for the DPO before their opinion and the Titolare’s decision', async () => {
    const ente = await readyEnte({ employees: 0 });
    const dpia = await newDpia(ente);
    await expectOk(patch(ente, dpia, completeChanges({ dpoOpinion: null, decision: null })));
    const drafted = await expectOk(
      call<WithDocument<DpiaJson>>('POST', `/api/v1/dpias/${dpia.id}/draft`, { token: ente.token }),
      201,
    );
    const text = await documentText(ente, drafted.documentId);
    expect(text).to.contain('parere da acquisire');
    expect(text).to.contain('decisione da adottare');
    expect(text).to.not.contain('approva la presente valutazione');
  });

  it('a residual high risk produces the prior consultation and its deadlines', async () => {
    const ente = await readyEnte({ employees: 0 });
    const low = await completeDpia(ente);
    const noNeed = await call<Problem>('POST', `/api/v1/dpias/${low.id}/prior-consultation`, {
      token: ente.token,
      json: {},
    });
    expect(noNeed.status).to.equal(409);

    const dpia = await expectOk(patch(ente, low, highRiskChanges()));
    expect(dpia.residualHighRisk).to.equal(true);
    expect(dpia.highResidualRiskIds).to.deep.equal(['accesso-illegittimo']);
    expect(dpia.content.risks[0]?.residual.level).to.equal('elevato');

    // The request needs the ente's codice fiscale and PEC, and what the processor does.
    const incomplete = await call<Problem>('POST', `/api/v1/dpias/${dpia.id}/prior-consultation`, {
      token: ente.token,
      json: {},
    });
    expect(incomplete.status).to.equal(422);
    expect(incomplete.body.invalidParams?.map((param) => param.name)).to.have.members([
      'organisation.taxCode',
      'organisation.pec',
      'content.description.processors.0.tasks',
    ]);
    await expectOk(
      call('PATCH', '/api/v1/organisation', {
        token: ente.token,
        json: { taxCode: partitaIva('0054317037'), pec: 'protocollo@pec.comune.calderara.bo.it' },
      }),
    );
    await expectOk(
      patch(ente, dpia, {
        description: {
          processors: [
            {
              name: 'Cooperativa sociale Il Ponte',
              tasks: 'Assistenza domiciliare con accesso alla cartella sociale',
            },
          ],
        },
      }),
    );

    const prepared = await expectOk(
      call<WithDocument<DpiaJson>>('POST', `/api/v1/dpias/${dpia.id}/prior-consultation`, {
        token: ente.token,
        json: { otherInformation: ['Il servizio non sarà esteso prima del parere del Garante.'] },
      }),
      201,
    );
    const consultation = prepared.record.priorConsultation;
    expect(consultation?.status).to.equal('da-inviare');
    expect(consultation?.version).to.equal(1);
    // The DPIA is attached in full: its draft was generated for the request.
    expect(prepared.record.draft?.documentId).to.be.a('string');
    const text = await documentText(ente, prepared.documentId);
    for (const phrase of [
      'Garante',
      'art. 36',
      'Accesso illegittimo alla cartella sociale',
      'postazioni non gestite',
      'Lepida S.c.p.A.',
      'Cooperativa sociale Il Ponte',
    ]) {
      expect(text, phrase).to.contain(phrase);
    }

    const today = todayInRome();
    const sent = await expectOk(
      call<DpiaJson>('POST', `/api/v1/dpias/${dpia.id}/prior-consultation/sent`, {
        token: ente.token,
        json: { date: today, protocollo: '2026/0001234' },
      }),
    );
    expect(sent.priorConsultation?.dueDate).to.equal(addCalendarDays(today, 56));
    // The version the Garante reads changes only through a revision.
    const locked = await patch(ente, dpia, { team: ['Altro gruppo'] });
    expect(locked.status).to.equal(409);

    const due = await expectOk(
      call<DpiaJson[]>('GET', '/api/v1/dpias?consultationDue=true', { token: ente.token }),
    );
    expect(due.map((item) => item.id)).to.deep.equal([dpia.id]);
    expect(due[0]?.consultationDeadline).to.deep.equal({
      dueDate: addCalendarDays(today, 56),
      daysLeft: 56,
      extended: false,
    });

    const extended = await expectOk(
      call<DpiaJson>('POST', `/api/v1/dpias/${dpia.id}/prior-consultation/extension`, {
        token: ente.token,
        json: { date: today },
      }),
    );
    expect(extended.priorConsultation?.status).to.equal('prorogata');
    expect(extended.priorConsultation?.dueDate).to.equal(addCalendarDays(today, 14 * 7));
    const twice = await call<Problem>(
      'POST',
      `/api/v1/dpias/${dpia.id}/prior-consultation/extension`,
      { token: ente.token, json: { date: today } },
    );
    expect(twice.status).to.equal(409);

    const answered = await expectOk(
      call<DpiaJson>('POST', `/api/v1/dpias/${dpia.id}/prior-consultation/answer`, {
        token: ente.token,
        json: {
          date: today,
          summary: 'Il Garante prescrive l’accesso solo da postazioni dell’ente.',
        },
      }),
    );
    expect(answered.priorConsultation?.status).to.equal('riscontrata');
    const stillDue = await expectOk(
      call<DpiaJson[]>('GET', '/api/v1/dpias?consultationDue=true', { token: ente.token }),
    );
    expect(stillDue).to.have.length(0);

    // Answered on version 1: a new request needs a new version, and the answer stays on record.
    const sameVersion = await call<Problem>('POST', `/api/v1/dpias/${dpia.id}/prior-consultation`, {
      token: ente.token,
      json: {},
    });
    expect(sameVersion.status).to.equal(409);
    await expectOk(call('POST', `/api/v1/dpias/${dpia.id}/revisions`, { token: ente.token }), 201);
    const unassessed = await call<Problem>('POST', `/api/v1/dpias/${dpia.id}/prior-consultation`, {
      token: ente.token,
      json: {},
    });
    expect(unassessed.status, 'the new version has no DPO opinion yet').to.equal(422);
    const changes = highRiskChanges();
    await expectOk(
      patch(ente, dpia, { dpoOpinion: changes.dpoOpinion, decision: changes.decision }),
    );
    const second = await expectOk(
      call<WithDocument<DpiaJson & { pastConsultations: { status: string; version: number }[] }>>(
        'POST',
        `/api/v1/dpias/${dpia.id}/prior-consultation`,
        { token: ente.token, json: {} },
      ),
      201,
    );
    expect(second.record.priorConsultation?.version).to.equal(2);
    expect(
      second.record.pastConsultations.map((past) => [past.status, past.version]),
    ).to.deep.equal([['riscontrata', 1]]);
  });

  it('refuses an extension notified more than a month after the request was sent', async () => {
    const ente = await readyEnte({ employees: 0 });
    await expectOk(
      call('PATCH', '/api/v1/organisation', {
        token: ente.token,
        json: { taxCode: partitaIva('0054317037'), pec: 'protocollo@pec.comune.calderara.bo.it' },
      }),
    );
    const dpia = await completeDpia(ente);
    await expectOk(
      patch(ente, dpia, {
        ...highRiskChanges(),
        description: {
          processors: [{ name: 'Cooperativa sociale Il Ponte', tasks: 'Assistenza' }],
        },
      }),
    );
    await expectOk(
      call('POST', `/api/v1/dpias/${dpia.id}/prior-consultation`, { token: ente.token, json: {} }),
      201,
    );
    // Sent two months ago: recorded as such in the database, as a request prepared then would be.
    const sentOn = addCalendarDays(todayInRome(), -61);
    await runInTenant(new mongoose.Types.ObjectId(ente.organisationId), () =>
      Dpia.updateOne(
        { _id: dpia.id },
        {
          $set: {
            'priorConsultation.status': 'inviata',
            'priorConsultation.preparedOn': sentOn,
            'priorConsultation.sentOn': sentOn,
            'priorConsultation.dueDate': addCalendarDays(sentOn, 56),
          },
        },
      ).exec(),
    );
    const late = await call<Problem>(
      'POST',
      `/api/v1/dpias/${dpia.id}/prior-consultation/extension`,
      {
        token: ente.token,
        json: { date: todayInRome() },
      },
    );
    expect(late.status).to.equal(422);
    expect(late.body.invalidParams?.[0]?.name).to.equal('body.date');
    const listed = await expectOk(
      call<DpiaJson[]>('GET', '/api/v1/dpias?consultationDue=true', { token: ente.token }),
    );
    expect(listed[0]?.consultationDeadline?.daysLeft).to.equal(-5);
  });

  it('one DPIA per activity and one frozen version per number, also when requests race', async () => {
    const ente = await readyEnte({ employees: 0 });
    const screening = await mandatoryScreening(ente);
    const starts = await Promise.all(
      Array.from({ length: 4 }, () =>
        call<DpiaJson>('POST', '/api/v1/dpias', {
          token: ente.token,
          json: { screeningId: screening.id },
        }),
      ),
    );
    expect(starts.map((start) => start.status).sort()).to.deep.equal([201, 409, 409, 409]);
    const dpia = starts.find((start) => start.status === 201)?.body;
    if (!dpia) throw new Error('no DPIA created');

    // Three clicks on "revise version 1": whichever order they land in, version 1 is
    // frozen once and the DPIA moves to version 2 once; a click that lands after the
    // move is a conflict, one racing it finds the same content frozen and agrees.
    const revisions = await Promise.all(
      Array.from({ length: 3 }, () =>
        call<DpiaJson & Problem>('POST', `/api/v1/dpias/${dpia.id}/revisions`, {
          token: ente.token,
          json: { version: 1 },
        }),
      ),
    );
    for (const revision of revisions) {
      if (revision.status === 201) expect(revision.body.version).to.equal(2);
      else expect(revision.status, JSON.stringify(revision.body)).to.equal(409);
    }
    expect(revisions.some((revision) => revision.status === 201)).to.equal(true);
    const organisationId = new mongoose.Types.ObjectId(ente.organisationId);
    const frozen = await runInTenant(organisationId, () =>
      DpiaVersion.find({ dpiaId: dpia.id }).lean().exec(),
    );
    expect(frozen.map((version) => version.number)).to.deep.equal([1]);
    const stored = await runInTenant(organisationId, () => Dpia.findById(dpia.id).exec());
    expect(stored?.version).to.equal(2);
    // Naming the version to freeze turns a repeated request into a conflict.
    const repeated = await call<Problem>('POST', `/api/v1/dpias/${dpia.id}/revisions`, {
      token: ente.token,
      json: { version: 1 },
    });
    expect(repeated.status).to.equal(409);
  });

  it('revises: old versions stay intact, changes are listed, the draft states its version', async () => {
    const ente = await readyEnte({ employees: 0 });
    const first = await completeDpia(ente);
    const firstDraft = await expectOk(
      call<WithDocument<DpiaJson>>('POST', `/api/v1/dpias/${first.id}/draft`, {
        token: ente.token,
      }),
      201,
    );

    const revised = await expectOk(
      call<DpiaJson>('POST', `/api/v1/dpias/${first.id}/revisions`, { token: ente.token }),
      201,
    );
    expect(revised.version).to.equal(2);
    expect(revised.draft).to.equal(null);
    expect(revised.content.dpoOpinion, 'a new version is assessed anew').to.equal(null);
    expect(revised.content.decision).to.equal(null);

    const organisationId = new mongoose.Types.ObjectId(ente.organisationId);
    const frozenBefore = await runInTenant(organisationId, () =>
      DpiaVersion.find({ dpiaId: first.id }).lean().exec(),
    );
    expect(frozenBefore).to.have.length(1);
    expect(frozenBefore[0]?.number).to.equal(1);
    expect(frozenBefore[0]?.draft?.documentId.toString()).to.equal(firstDraft.documentId);

    const complete = completeChanges();
    const [access, modification, disappearance] = complete.risks;
    await expectOk(
      patch(ente, revised, {
        description: { retention: '5 anni dalla chiusura della cartella sociale' },
        measureCodes: ['DPI-02'],
        risks: [
          {
            ...access,
            residual: { likelihood: 1, severity: 2 },
            measureCodes: ['ACC-02', 'DPI-02'],
          },
          { ...modification, sources: ['Operatori interni non autorizzati'] },
          disappearance,
          {
            event: 'altro',
            title: 'Profilazione dei beneficiari',
            sources: ['Uso dei dati per finalità diverse'],
            threats: ['Incrocio con altre banche dati'],
            impacts: ['Discriminazione nell’accesso ai servizi'],
            measureCodes: ['DPI-02'],
            inherent: { likelihood: 2, severity: 3 },
            residual: { likelihood: 1, severity: 3 },
          },
        ],
      }),
    );

    const versions = await expectOk(
      call<{ number: number; frozen: boolean; draftDocumentId: string | null }[]>(
        'GET',
        `/api/v1/dpias/${first.id}/versions`,
        { token: ente.token },
      ),
    );
    expect(versions.map((version) => [version.number, version.frozen])).to.deep.equal([
      [1, true],
      [2, false],
    ]);
    expect(versions[0]?.draftDocumentId).to.equal(firstDraft.documentId);

    const changes = await expectOk(
      call<ChangesJson>('GET', `/api/v1/dpias/${first.id}/versions/2/changes`, {
        token: ente.token,
      }),
    );
    expect(changes.from).to.equal(1);
    const byPath = new Map(
      changes.changes.map((change) => [`${change.path}:${change.change}`, change]),
    );
    expect(byPath.get('risks.accesso-illegittimo.residual.level:changed')).to.deep.include({
      before: 'moderato',
      after: 'basso',
    });
    expect(byPath.get('description.retention:changed')?.after).to.equal(
      '5 anni dalla chiusura della cartella sociale',
    );
    expect(byPath.has('measures.DPI-02:added')).to.equal(true);
    expect(byPath.has('risks.altro:added')).to.equal(true);
    expect(byPath.get('risks.modifica-indesiderata.sources:removed')?.before).to.equal(
      'Attaccanti esterni',
    );
    expect(byPath.get('risks.accesso-illegittimo.residual.likelihood:changed')).to.deep.include({
      before: '2 (limitata)',
      after: '1 (trascurabile)',
    });
    expect(byPath.has('dpoOpinion:removed')).to.equal(true);

    // Version 1, as stored, is what it was.
    const frozenAfter = await runInTenant(organisationId, () =>
      DpiaVersion.find({ dpiaId: first.id }).lean().exec(),
    );
    expect(JSON.stringify(frozenAfter[0]?.content)).to.equal(
      JSON.stringify(frozenBefore[0]?.content),
    );
    expect(frozenAfter[0]?.content.description?.retention).to.equal(
      '10 anni dalla chiusura della cartella sociale',
    );
    const version1 = await expectOk(
      call<{ content: DpiaJson['content'] }>('GET', `/api/v1/dpias/${first.id}/versions/1`, {
        token: ente.token,
      }),
    );
    expect(version1.content.risks).to.have.length(3);
    expect(
      (await call('GET', `/api/v1/dpias/${first.id}/versions/3`, { token: ente.token })).status,
    ).to.equal(404);

    await expectOk(
      patch(ente, revised, {
        dpoOpinion: complete.dpoOpinion,
        decision: { outcome: 'approvata', decidedOn: '2026-02-01' },
      }),
    );
    const secondDraft = await expectOk(
      call<WithDocument<DpiaJson>>('POST', `/api/v1/dpias/${first.id}/draft`, {
        token: ente.token,
      }),
      201,
    );
    const text = await documentText(ente, secondDraft.documentId);
    expect(text).to.match(/versione 2/i);
    expect(text).to.contain('5 anni dalla chiusura della cartella sociale');
    expect(text).to.contain('Profilazione dei beneficiari');
    const firstText = await documentText(ente, firstDraft.documentId);
    expect(firstText).to.match(/versione 1/i);

    // A third version freezes the second with its draft; the second's changes stay as they were.
    await expectOk(call('POST', `/api/v1/dpias/${first.id}/revisions`, { token: ente.token }), 201);
    const again = await expectOk(
      call<ChangesJson>('GET', `/api/v1/dpias/${first.id}/versions/2/changes`, {
        token: ente.token,
      }),
    );
    expect(
      again.changes.filter(
        (change) => !change.path.startsWith('dpoOpinion') && !change.path.startsWith('decision'),
      ),
    ).to.deep.equal(
      changes.changes.filter(
        (change) => !change.path.startsWith('dpoOpinion') && !change.path.startsWith('decision'),
      ),
    );
    const stored = await runInTenant(organisationId, () =>
      DpiaVersion.find({ dpiaId: first.id }).lean().exec(),
    );
    expect(stored.map((version) => version.number).sort()).to.deep.equal([1, 2]);
    expect(stored.find((version) => version.number === 2)?.draft?.documentId.toString()).to.equal(
      secondDraft.documentId,
    );
  });
});
