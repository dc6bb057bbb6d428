import { expect } from 'chai';
import mongoose from 'mongoose';
import { runInTenant } from '../../server/platform/tenancy.js';
import { ProcessingActivity } from '../../server/processing/model.js';
import { Settore } from '../../server/settori/model.js';
import { call, newTenant } from '../support/http.js';
import {
  socialServicesActivity,
  tokenWithRoles,
  type ActivityBody,
  type ProblemBody,
} from './support.js';

const base = '/api/v1/processing-activities';

describe('registro delle attività di trattamento', () => {
  it('creates, reads, changes and archives an entry, as stored in the database', async () => {
    const tenant = await newTenant();
    const created = await call<ActivityBody>('POST', base, {
      token: tenant.token,
      json: socialServicesActivity(),
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.headers.get('location')).to.equal(`${base}/${created.body.id}`);
    expect(created.body).to.include({
      name: 'Servizi sociali',
      code: 'T05',
      controllerRole: 'titolare',
      dpiaRequired: 'si',
      archived: false,
      organisationId: tenant.organisation.id,
    });
    expect(created.body.createdBy.userId).to.equal(tenant.admin.id);
    expect(created.body.personalDataCategories[0]).to.deep.equal({
      name: 'Dati anagrafici',
      special: 'none',
    });
    expect(created.body.transfersOutsideEU).to.deep.equal({
      present: false,
      countries: [],
      safeguards: null,
    });
    expect(created.body).not.to.have.property('searchText');
    expect(created.body).not.to.have.property('codeKey');

    const raw = await mongoose.connection
      .collection('processingactivities')
      .findOne({ _id: new mongoose.Types.ObjectId(created.body.id) });
    expect(String(raw?.organisationId)).to.equal(tenant.organisation.id);
    expect(raw?.legalBasis).to.deep.equal(['art6.1.e', 'art9.2.g', 'art9.2.h']);
    expect(raw?.databases).to.have.length(2);
    expect(raw?.codeKey).to.equal(`${tenant.organisation.id}:t05`);

    const read = await call<ActivityBody>('GET', `${base}/${created.body.id}`, {
      token: tenant.token,
    });
    expect(read.status).to.equal(200);
    expect(read.body).to.deep.equal(created.body);

    const segreteria = await tokenWithRoles(tenant.token, ['segreteria']);
    const changed = await call<ActivityBody>('PATCH', `${base}/${created.body.id}`, {
      token: segreteria,
      json: {
        retention: '10 anni; 50 anni per i minori in tutela',
        transfersOutsideEU: {
          present: true,
          countries: ['Svizzera'],
          safeguards: 'Decisione di adeguatezza',
        },
      },
    });
    expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
    expect(changed.body.retention).to.equal('10 anni; 50 anni per i minori in tutela');
    expect(changed.body.purposes).to.deep.equal(socialServicesActivity().purposes);
    expect(changed.body.updatedBy.name).to.equal('Utente segreteria');
    const stored = await runInTenant(tenant.organisation._id, () =>
      ProcessingActivity.findById(created.body.id).exec(),
    );
    expect(stored?.transfersOutsideEU?.countries).to.deep.equal(['Svizzera']);
    expect(stored?.retention).to.equal('10 anni; 50 anni per i minori in tutela');

    const archived = await call<ActivityBody>('DELETE', `${base}/${created.body.id}`, {
      token: tenant.token,
    });
    expect(archived.status).to.equal(200);
    expect(archived.body.archived).to.equal(true);
    expect(archived.body.archivedAt).to.be.a('string');
    const afterArchive = await ProcessingActivity.findById(created.body.id).setOptions({
      crossTenant: true,
    });
    expect(afterArchive?.archived, 'archiving keeps the record').to.equal(true);

    const listed = await call<ActivityBody[]>('GET', base, { token: tenant.token });
    expect(listed.body).to.have.length(0);
    const withArchived = await call<ActivityBody[]>('GET', `${base}?archived=true`, {
      token: tenant.token,
    });
    expect(withArchived.body.map((activity) => activity.id)).to.deep.equal([created.body.id]);
    const frozen = await call('PATCH', `${base}/${created.body.id}`, {
      token: tenant.token,
      json: { name: 'Servizi sociali e abitativi' },
    });
    expect(frozen.status).to.equal(409);

    const restored = await call<ActivityBody>('POST', `${base}/${created.body.id}/restore`, {
      token: tenant.token,
    });
    expect(restored.body.archived).to.equal(false);
    expect((await call<ActivityBody[]>('GET', base, { token: tenant.token })).body).to.have.length(
      1,
    );
  });

  it('names each bad field, cross-field rules included', async () => {
    const tenant = await newTenant();
    const response = await call<ProblemBody>('POST', base, {
      token: tenant.token,
      json: socialServicesActivity({
        name: ' ',
        purposes: [],
        legalBasis: ['art6.1.z'],
        retention: undefined,
        transfersOutsideEU: { present: true },
        databases: [{ name: 'Cartella', kind: 'digitale' }],
        controllerRole: 'contitolare',
        settoreId: 'settore-uno',
      }),
    });
    expect(response.status).to.equal(400);
    expect(response.contentType).to.contain('application/problem+json');
    const names = response.body.invalidParams.map((param) => param.name);
    expect(names).to.have.members([
      'body.name',
      'body.purposes',
      'body.legalBasis.0',
      'body.retention',
      'body.transfersOutsideEU.countries',
      'body.transfersOutsideEU.safeguards',
      'body.databases.0.kind',
      'body.settoreId',
    ]);
    const reason = (name: string) =>
      response.body.invalidParams.find((param) => param.name === name)?.reason;
    expect(reason('body.transfersOutsideEU.countries')).to.contain('paesi');
    expect(reason('body.name')).to.equal('non può essere vuoto');

    // Once the fields are valid one by one, the rules between them are checked.
    const incoherent = await call<ProblemBody>('POST', base, {
      token: tenant.token,
      json: socialServicesActivity({
        legalBasis: ['art6.1.e'],
        controllerRole: 'contitolare',
        personalDataCategories: [
          { name: 'Dati sanitari', special: 'art9' },
          { name: 'Condanne penali', special: 'art10' },
        ],
      }),
    });
    expect(incoherent.status).to.equal(400);
    expect(incoherent.body.invalidParams.map((param) => param.name)).to.have.members([
      'body.legalBasis',
      'body.legalBasis',
      'body.otherControllers',
    ]);
    expect(incoherent.body.detail).to.contain('body.legalBasis');

    const noArt6 = await call<ProblemBody>('POST', base, {
      token: tenant.token,
      json: socialServicesActivity({ legalBasis: ['art9.2.g'] }),
    });
    expect(noArt6.body.invalidParams).to.deep.equal([
      {
        name: 'body.legalBasis',
        reason: 'indicare almeno una base giuridica dell’art. 6, par. 1 GDPR',
      },
    ]);

    const created = await call<ActivityBody>('POST', base, {
      token: tenant.token,
      json: socialServicesActivity(),
    });
    // A change is checked together with what is stored: dropping the art. 9 data leaves a stray art. 9 basis.
    const patch = await call<ProblemBody>('PATCH', `${base}/${created.body.id}`, {
      token: tenant.token,
      json: { personalDataCategories: [{ name: 'Dati anagrafici' }] },
    });
    expect(patch.status).to.equal(400);
    expect(patch.body.invalidParams.map((param) => param.name)).to.deep.equal(['body.legalBasis']);
    const empty = await call('PATCH', `${base}/${created.body.id}`, {
      token: tenant.token,
      json: {},
    });
    expect(empty.status).to.equal(400);
    expect(
      await ProcessingActivity.countDocuments().setOptions({ crossTenant: true }),
    ).to.be.greaterThan(0);
    const stored = await runInTenant(tenant.organisation._id, () =>
      ProcessingActivity.find().exec(),
    );
    expect(stored).to.have.length(1);
  });

  it('derives the special and judicial data flags and filters on them', async () => {
    const tenant = await newTenant();
    const social = await call<ActivityBody>('POST', base, {
      token: tenant.token,
      json: socialServicesActivity(),
    });
    expect(social.body.hasSpecialData).to.equal(true);
    expect(social.body.hasJudicialData).to.equal(false);
    const tributi = await call<ActivityBody>('POST', base, {
      token: tenant.token,
      json: {
        name: 'Tributi locali',
        purposes: ['Accertamento e riscossione di IMU e TARI'],
        legalBasis: ['art6.1.c', 'art6.1.e'],
        dataSubjectCategories: ['Contribuenti'],
        personalDataCategories: [{ name: 'Dati catastali' }],
        retention: '5 anni dalla scadenza del termine di accertamento',
      },
    });
    expect(tributi.status, JSON.stringify(tributi.body)).to.equal(201);
    expect(tributi.body.hasSpecialData).to.equal(false);
    expect(tributi.body.code).to.equal(null);

    const judicial = await call<ActivityBody>('PATCH', `${base}/${tributi.body.id}`, {
      token: tenant.token,
      json: {
        legalBasis: ['art6.1.c', 'art2-octies'],
        personalDataCategories: [
          { name: 'Dati catastali' },
          { name: 'Sentenze in materia tributaria', special: 'art10' },
        ],
      },
    });
    expect(judicial.status, JSON.stringify(judicial.body)).to.equal(200);
    expect(judicial.body.hasJudicialData).to.equal(true);
    const raw = await mongoose.connection
      .collection('processingactivities')
      .findOne({ _id: new mongoose.Types.ObjectId(tributi.body.id) });
    expect(raw?.hasJudicialData).to.equal(true);
    expect(raw?.hasSpecialData).to.equal(false);

    const special = await call<ActivityBody[]>('GET', `${base}?hasSpecialData=true`, {
      token: tenant.token,
    });
    expect(special.body.map((activity) => activity.name)).to.deep.equal(['Servizi sociali']);
    const notSpecial = await call<ActivityBody[]>('GET', `${base}?hasSpecialData=false`, {
      token: tenant.token,
    });
    expect(notSpecial.body.map((activity) => activity.name)).to.deep.equal(['Tributi locali']);
    const withJudicial = await call<ActivityBody[]>('GET', `${base}?hasJudicialData=true`, {
      token: tenant.token,
    });
    expect(withJudicial.body.map((activity) => activity.name)).to.deep.equal(['Tributi locali']);
  });

  it('pages, sorts and searches ignoring case and accents', async () => {
    const tenant = await newTenant();
    const names = ['Tributi', 'anagrafe', 'Elettorale', 'Attività produttive', 'Biblioteca'];
    for (const [index, name] of names.entries()) {
      const response = await call('POST', base, {
        token: tenant.token,
        json: {
          name,
          code: `T0${index + 1}`,
          purposes: [index === 2 ? 'Tenuta delle liste elettorali' : `Gestione ${name}`],
          legalBasis: ['art6.1.e'],
          dataSubjectCategories: ['Cittadini'],
          personalDataCategories: [{ name: 'Dati anagrafici' }],
          retention: 'Permanente',
        },
      });
      expect(response.status).to.equal(201);
    }
    const firstPage = await call<ActivityBody[]>('GET', `${base}?limit=2&offset=0`, {
      token: tenant.token,
    });
    expect(firstPage.headers.get('x-total-count')).to.equal('5');
    expect(firstPage.body.map((activity) => activity.name)).to.deep.equal([
      'anagrafe',
      'Attività produttive',
    ]);
    const lastPage = await call<ActivityBody[]>('GET', `${base}?limit=2&offset=4`, {
      token: tenant.token,
    });
    expect(lastPage.body.map((activity) => activity.name)).to.deep.equal(['Tributi']);
    const byCode = await call<ActivityBody[]>('GET', `${base}?sort=-code&limit=1`, {
      token: tenant.token,
    });
    expect(byCode.body[0]?.code).to.equal('T05');

    const search = await call<ActivityBody[]>('GET', `${base}?q=attivita`, {
      token: tenant.token,
    });
    expect(search.body.map((activity) => activity.name)).to.deep.equal(['Attività produttive']);
    const inPurposes = await call<ActivityBody[]>('GET', `${base}?q=LISTE%20elettorali`, {
      token: tenant.token,
    });
    expect(inPurposes.body.map((activity) => activity.name)).to.deep.equal(['Elettorale']);
    expect(inPurposes.headers.get('x-total-count')).to.equal('1');

    const badQuery = await call<ProblemBody>('GET', `${base}?limit=0&sort=colore`, {
      token: tenant.token,
    });
    expect(badQuery.status).to.equal(400);
    expect(badQuery.body.invalidParams.map((param) => param.name)).to.have.members([
      'query.limit',
      'query.sort',
    ]);
  });

  it('keeps codes unique within an ente only', async () => {
    const first = await newTenant();
    const second = await newTenant();
    expect(
      (await call('POST', base, { token: first.token, json: socialServicesActivity() })).status,
    ).to.equal(201);
    const duplicate = await call<ProblemBody>('POST', base, {
      token: first.token,
      json: socialServicesActivity({ code: 't05', name: 'Altro' }),
    });
    expect(duplicate.status).to.equal(409);
    expect(duplicate.body.invalidParams[0]?.name).to.equal('body.code');
    expect(
      (await call('POST', base, { token: second.token, json: socialServicesActivity() })).status,
    ).to.equal(201);
    for (let index = 0; index < 2; index += 1) {
      const withoutCode = await call('POST', base, {
        token: first.token,
        json: socialServicesActivity({ code: undefined }),
      });
      expect(withoutCode.status).to.equal(201);
    }
  });

  it("answers 404 for another ente's entry and never touches it", async () => {
    const first = await newTenant();
    const second = await newTenant();
    const theirs = await call<ActivityBody>('POST', base, {
      token: second.token,
      json: socialServicesActivity(),
    });
    const path = `${base}/${theirs.body.id}`;
    expect((await call('GET', path, { token: first.token })).status).to.equal(404);
    expect(
      (await call('PATCH', path, { token: first.token, json: { name: 'Preso' } })).status,
    ).to.equal(404);
    expect((await call('DELETE', path, { token: first.token })).status).to.equal(404);
    expect((await call('POST', `${path}/restore`, { token: first.token })).status).to.equal(404);
    const listed = await call<ActivityBody[]>('GET', `${base}?archived=all`, {
      token: first.token,
    });
    expect(listed.body).to.deep.equal([]);
    const stored = await runInTenant(second.organisation._id, () =>
      ProcessingActivity.findById(theirs.body.id).exec(),
    );
    expect(stored?.name).to.equal('Servizi sociali');
    expect(stored?.archived).to.equal(false);
  });

  it('lets legal and procurement read, and only admin, segreteria and dpo write', async () => {
    const tenant = await newTenant();
    const legal = await tokenWithRoles(tenant.token, ['legal']);
    const procurement = await tokenWithRoles(tenant.token, ['procurement']);
    const dpo = await tokenWithRoles(tenant.token, ['dpo']);
    const created = await call<ActivityBody>('POST', base, {
      token: dpo,
      json: socialServicesActivity(),
    });
    expect(created.status).to.equal(201);
    const path = `${base}/${created.body.id}`;
    for (const reader of [legal, procurement]) {
      expect((await call('GET', base, { token: reader })).status).to.equal(200);
      expect((await call('GET', path, { token: reader })).status).to.equal(200);
      expect((await call('GET', `${base}/legal-bases`, { token: reader })).status).to.equal(200);
    }
    const attempts = [
      await call<ProblemBody>('POST', base, {
        token: legal,
        json: socialServicesActivity({ code: 'T99' }),
      }),
      await call<ProblemBody>('PATCH', path, { token: procurement, json: { name: 'Cambiato' } }),
      await call<ProblemBody>('DELETE', path, { token: legal }),
    ];
    for (const attempt of attempts) {
      expect(attempt.status).to.equal(403);
      expect(attempt.body.detail).to.contain('segreteria');
    }
    const stored = await runInTenant(tenant.organisation._id, () =>
      ProcessingActivity.find().exec(),
    );
    expect(stored.map((activity) => [activity.name, activity.archived])).to.deep.equal([
      ['Servizi sociali', false],
    ]);
    expect((await call('GET', base)).status).to.equal(401);
  });

  it('accepts only a settore of the ente that is not archived', async () => {
    const tenant = await newTenant();
    const other = await newTenant();
    const [servizi, chiuso] = await runInTenant(tenant.organisation._id, () =>
      Promise.all([
        Settore.create({ name: 'Servizi alla persona' }),
        Settore.create({ name: 'Settore soppresso', archived: true }),
      ]),
    );
    const foreign = await runInTenant(other.organisation._id, () =>
      Settore.create({ name: 'Settore di un altro ente' }),
    );
    const created = await call<ActivityBody>('POST', base, {
      token: tenant.token,
      json: socialServicesActivity({ settoreId: servizi.id }),
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.settoreId).to.equal(servizi.id);
    const bySettore = await call<ActivityBody[]>('GET', `${base}?settoreId=${servizi.id}`, {
      token: tenant.token,
    });
    expect(bySettore.body).to.have.length(1);

    for (const [settore, reason] of [
      [foreign, 'inesistente'],
      [chiuso, 'archiviato'],
    ] as const) {
      const refused = await call<ProblemBody>('PATCH', `${base}/${created.body.id}`, {
        token: tenant.token,
        json: { settoreId: settore.id },
      });
      expect(refused.status).to.equal(400);
      expect(refused.body.invalidParams[0]?.name).to.equal('body.settoreId');
      expect(refused.body.invalidParams[0]?.reason).to.contain(reason);
    }
    const cleared = await call<ActivityBody>('PATCH', `${base}/${created.body.id}`, {
      token: tenant.token,
      json: { settoreId: null },
    });
    expect(cleared.body.settoreId).to.equal(null);
  });

  it('lists the legal bases with their labels and documents the routes', async () => {
    const tenant = await newTenant();
    const bases = await call<{ code: string; group: string; label: string }[]>(
      'GET',
      `${base}/legal-bases`,
      { token: tenant.token },
    );
    expect(bases.body.filter((basis) => basis.group === 'art6')).to.have.length(6);
    expect(bases.body.filter((basis) => basis.group === 'art9')).to.have.length(10);
    expect(bases.body.find((basis) => basis.code === 'art2-octies')?.label).to.contain(
      'D.Lgs. 196/2003',
    );
    const openApi = await call<{ paths: Record<string, Record<string, { summary: string }>> }>(
      'GET',
      '/openapi.json',
    );
    expect(openApi.body.paths[base]).to.have.keys(['get', 'post']);
    expect(openApi.body.paths[`${base}/import`]?.post?.summary).to.contain('Tutto o niente');
    expect(openApi.body.paths[`${base}/{activityId}`]).to.have.keys(['get', 'patch', 'delete']);
  });
});
