import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { runInTenant } from '../../server/platform/tenancy.js';
import { parseLegalBasis } from '../../server/processing/csv-import.js';
import { ProcessingActivity } from '../../server/processing/model.js';
import { call, newTenant } from '../support/http.js';
import {
  tokenWithRoles,
  uploadCsv,
  type ActivityBody,
  type ImportReportBody,
  type ProblemBody,
} from './support.js';

const base = '/api/v1/processing-activities';
const examplePath = new URL('../../data/esempi/registro-trattamenti-esempio.csv', import.meta.url);

const header =
  'codice;nome;finalita;base_giuridica;interessati;dati;dati_particolari;dati_giudiziari;destinatari;trasferimenti_extra_ue;paesi_extra_ue;garanzie_trasferimento;conservazione;misure_sicurezza;banche_dati';

function activitiesOf(tenant: Awaited<ReturnType<typeof newTenant>>) {
  return runInTenant(tenant.organisation._id, () =>
    ProcessingActivity.find().sort({ code: 1 }).exec(),
  );
}

describe('registro dei trattamenti: import CSV', () => {
  it('imports the shipped example: every row created, as stored', async () => {
    const tenant = await newTenant();
    const segreteria = await tokenWithRoles(tenant.token, ['segreteria']);
    const response = await uploadCsv(segreteria, await readFile(examplePath));
    const report = response.body as ImportReportBody;
    expect(response.status, JSON.stringify(report)).to.equal(201);
    expect(report).to.include({ stored: true, created: 8, updated: 0 });
    expect(report.rows.map((row) => [row.row, row.status, row.code])).to.deep.equal([
      [2, 'created', 'T01'],
      [3, 'created', 'T02'],
      [4, 'created', 'T03'],
      [5, 'created', 'T04'],
      [6, 'created', 'T05'],
      [7, 'created', 'T06'],
      [8, 'created', 'T07'],
      [9, 'created', 'T08'],
    ]);

    const stored = await activitiesOf(tenant);
    expect(stored).to.have.length(8);
    const byCode = new Map(stored.map((activity) => [activity.code, activity]));
    expect(stored.every((activity) => activity.origin?.source === 'csv')).to.equal(true);
    expect(byCode.get('T01')?.hasSpecialData).to.equal(false);
    expect(byCode.get('T05')?.hasSpecialData).to.equal(true);
    expect(byCode.get('T05')?.dpiaRequired).to.equal('si');
    expect(byCode.get('T06')?.hasJudicialData).to.equal(true);
    expect(byCode.get('T06')?.legalBasis).to.deep.equal([
      'art6.1.c',
      'art6.1.e',
      'art9.2.g',
      'art10',
      'art2-octies',
    ]);
    expect(byCode.get('T06')?.transfersOutsideEU?.present).to.equal(true);
    expect(byCode.get('T06')?.transfersOutsideEU?.countries).to.deep.equal(['Svizzera']);
    expect(byCode.get('T08')?.dpiaRequired).to.equal('da-valutare');
    expect(byCode.get('T03')?.retention).to.contain('; fascicoli personali');
    expect(
      byCode.get('T01')?.databases.map((database) => [database.name, database.kind]),
    ).to.deep.equal([
      ['ANPR - Anagrafe nazionale della popolazione residente', 'informatico'],
      ['Schedario anagrafico storico', 'cartaceo'],
    ]);
    expect(byCode.get('T01')?.createdBy?.name).to.equal('Utente segreteria');

    const special = await call<ActivityBody[]>('GET', `${base}?hasSpecialData=true&limit=200`, {
      token: tenant.token,
    });
    expect(special.headers.get('x-total-count')).to.equal('6');

    // The same file again updates by code instead of duplicating.
    const again = await uploadCsv(tenant.token, await readFile(examplePath));
    const againReport = again.body as ImportReportBody;
    expect(again.status).to.equal(200);
    expect(againReport).to.include({ created: 0, updated: 8 });
    expect(await activitiesOf(tenant)).to.have.length(8);
  });

  it('stores nothing when rows are wrong, and names each row and column', async () => {
    const tenant = await newTenant();
    const csv = [
      header,
      'A1;Anagrafe;Tenuta anagrafe;6.1.c;Residenti;Dati anagrafici;;;;no;;;Permanente;;ANPR (informatico)',
      'A2;Servizi sociali;Contributi;6.1.e;Beneficiari;Dati anagrafici;Salute;;;no;;;10 anni;;',
      'A3;Tributi;Riscossione;6.1.c|7.1.z;Contribuenti;Dati catastali;;;;si;;;;;',
      'A4;Protocollo;Protocollazione;6.1.c;Cittadini;Dati anagrafici;;;;no;;;Permanente;;Archivio (cartaceo)',
    ].join('\n');
    const response = await uploadCsv(tenant.token, csv);
    const problem = response.body as ProblemBody & ImportReportBody;
    expect(response.status).to.equal(422);
    expect(response.contentType).to.contain('application/problem+json');
    expect(problem.stored).to.equal(false);
    expect(problem.created).to.equal(0);
    expect(problem.detail).to.contain('3, 4');
    expect(problem.rows.map((row) => [row.row, row.status])).to.deep.equal([
      [2, 'valid'],
      [3, 'error'],
      [4, 'error'],
      [5, 'valid'],
    ]);
    const errorsOf = (row: number) =>
      problem.rows.find((report) => report.row === row)?.errors ?? [];
    expect(errorsOf(3).map((error) => error.column)).to.deep.equal(['base_giuridica']);
    expect(errorsOf(3)[0]?.reason).to.contain('art. 9');
    expect(errorsOf(4).map((error) => error.column)).to.have.members([
      'base_giuridica',
      'paesi_extra_ue',
      'garanzie_trasferimento',
      'conservazione',
    ]);
    expect(errorsOf(4).find((error) => error.column === 'base_giuridica')?.reason).to.contain(
      '"7.1.z"',
    );
    expect(problem.invalidParams.map((param) => param.name)).to.include(
      'files.file.riga3.base_giuridica',
    );
    expect(await activitiesOf(tenant)).to.have.length(0);
  });

  it('refuses a file with the wrong separator or encoding with a clear 422', async () => {
    const tenant = await newTenant();
    const example = await readFile(examplePath, 'utf8');

    const tabs = await uploadCsv(tenant.token, example.replace(/;/g, '\t'));
    expect(tabs.status).to.equal(422);
    expect((tabs.body as ProblemBody).detail).to.contain('tabulazione');

    const latin1 = await uploadCsv(tenant.token, Buffer.from(example, 'latin1'));
    expect(latin1.status).to.equal(422);
    const latin1Problem = latin1.body as ProblemBody;
    expect(latin1Problem.detail).to.contain('UTF-8');
    expect(latin1Problem.detail).to.contain('riga 2');
    expect(latin1Problem.invalidParams[0]?.name).to.equal('files.file');

    const utf16 = await uploadCsv(
      tenant.token,
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(example, 'utf16le')]),
    );
    expect(utf16.status).to.equal(422);
    expect((utf16.body as ProblemBody).detail).to.contain('UTF-16');

    const xlsx = await uploadCsv(tenant.token, Buffer.from('PK\u0003\u0004rest-of-a-zip'), {
      fileName: 'registro.xlsx',
    });
    expect(xlsx.status).to.equal(422);
    expect((xlsx.body as ProblemBody).detail).to.contain('CSV UTF-8');

    const unknownColumn = await uploadCsv(
      tenant.token,
      `${header.replace('interessati', 'soggetti')}\nA1;x`,
    );
    expect(unknownColumn.status).to.equal(422);
    expect((unknownColumn.body as ProblemBody).detail).to.contain('colonne sconosciute: soggetti');
    expect((unknownColumn.body as ProblemBody).detail).to.contain(
      'colonne obbligatorie mancanti: interessati',
    );

    // A header split by ; over rows split by , is reported row by row.
    const mixed = await uploadCsv(
      tenant.token,
      `${header}\nA1,Anagrafe,Tenuta,6.1.c,Residenti,Dati anagrafici,,,,no,,,Permanente,,`,
    );
    expect(mixed.status).to.equal(422);
    const mixedRow = (mixed.body as ImportReportBody).rows[0];
    expect(mixedRow?.errors[0]?.reason).to.contain('separata da ","');

    const unclosed = await uploadCsv(tenant.token, `${header}\nA1;"Anagrafe;x\nA2;y`);
    expect(unclosed.status).to.equal(422);
    expect((unclosed.body as ProblemBody).detail).to.contain('virgolette aperte e mai chiuse');

    const tooLarge = await uploadCsv(tenant.token, Buffer.alloc(1024 * 1024 + 1, 'a'));
    expect(tooLarge.status).to.equal(413);

    const headerOnly = await uploadCsv(tenant.token, `${header}\n`);
    expect(headerOnly.status).to.equal(422);
    expect(await activitiesOf(tenant)).to.have.length(0);
  });

  it('reads comma-separated files with quotes and a byte-order mark, and checks without storing on dryRun', async () => {
    const tenant = await newTenant();
    const csv =
      '\uFEFFNome,Finalità,Base giuridica,Interessati,Dati,Conservazione,Banche dati\r\n' +
      '"Polizia locale, verbali","Accertamento delle violazioni|Notifica dei verbali","art. 6 par. 1 lett. c)|6(1)(e)",Conducenti,"Targhe, patenti","5 anni; poi scarto","Verbali (misto)|Anagrafe nazionale (ANPR)"\r\n';
    const dryRun = await uploadCsv(tenant.token, csv, { dryRun: true });
    const dryReport = dryRun.body as ImportReportBody;
    expect(dryRun.status, JSON.stringify(dryReport)).to.equal(200);
    expect(dryReport).to.include({ stored: false, created: 0, updated: 0 });
    expect(dryReport.rows[0]?.status).to.equal('valid');
    expect(await activitiesOf(tenant)).to.have.length(0);

    const stored = await uploadCsv(tenant.token, csv);
    expect(stored.status).to.equal(201);
    const [activity] = await activitiesOf(tenant);
    expect(activity?.name).to.equal('Polizia locale, verbali');
    expect(activity?.legalBasis).to.deep.equal(['art6.1.c', 'art6.1.e']);
    expect(activity?.personalDataCategories.map((category) => category.name)).to.deep.equal([
      'Targhe, patenti',
    ]);
    expect(activity?.databases.map((database) => [database.name, database.kind])).to.deep.equal([
      ['Verbali', 'misto'],
      ['Anagrafe nazionale (ANPR)', 'informatico'],
    ]);
  });

  it('serves a template that imports as it is', async () => {
    const tenant = await newTenant();
    const legal = await tokenWithRoles(tenant.token, ['legal']);
    const template = await call<string>('GET', `${base}/import/template`, { token: legal });
    expect(template.status).to.equal(200);
    expect(template.contentType).to.contain('text/csv');
    expect(template.headers.get('content-disposition')).to.contain('.csv');
    const [headerLine, exampleLine, rest] = template.body.replace(/^\uFEFF/, '').split('\r\n');
    expect(headerLine).to.match(/^codice;nome;finalita;base_giuridica;/);
    expect(exampleLine).to.contain('Anagrafe');
    expect(rest).to.equal('');

    const imported = await uploadCsv(tenant.token, template.body);
    expect(imported.status, JSON.stringify(imported.body)).to.equal(201);
    expect((imported.body as ImportReportBody).created).to.equal(1);

    // Reading the template is for everyone; importing is not.
    const refused = await uploadCsv(legal, template.body);
    expect(refused.status).to.equal(403);
    expect(await activitiesOf(tenant)).to.have.length(1);
  });

  it('refuses duplicate codes in a file and codes of archived entries', async () => {
    const tenant = await newTenant();
    const row = (code: string, name: string) =>
      `${code};${name};Finalità;6.1.e;Cittadini;Dati anagrafici;;;;no;;;Permanente;;`;
    const first = await uploadCsv(tenant.token, [header, row('B1', 'Uno')].join('\n'));
    expect(first.status).to.equal(201);
    const id = (first.body as ImportReportBody).rows[0]!.id!;
    expect((await call('DELETE', `${base}/${id}`, { token: tenant.token })).status).to.equal(200);

    const response = await uploadCsv(
      tenant.token,
      [header, row('b1', 'Uno di nuovo'), row('C1', 'Due'), row('c1', 'Tre')].join('\n'),
    );
    expect(response.status).to.equal(422);
    const report = response.body as ImportReportBody;
    expect(report.rows[0]?.errors[0]?.reason).to.contain('archiviato');
    expect(report.rows[2]?.errors[0]).to.deep.equal({
      column: 'codice',
      reason: 'codice c1 già usato alla riga 3',
    });
    expect(await activitiesOf(tenant)).to.have.length(1);
  });

  it('undoes what it wrote when a write fails midway', async () => {
    const tenant = await newTenant();
    const row = (code: string, name: string) =>
      `${code};${name};Finalità;6.1.e;Cittadini;Dati anagrafici;;;;no;;;Permanente;;`;
    const first = await uploadCsv(
      tenant.token,
      [header, row('D1', 'Originale uno'), row('D4', 'Originale quattro')].join('\n'),
    );
    expect(first.status).to.equal(201);

    // New rows are inserted first, then existing ones updated: the first update goes through, the second fails.
    const prototype = ProcessingActivity.prototype as { save: (...args: unknown[]) => unknown };
    const save = prototype.save;
    let saves = 0;
    prototype.save = function (this: unknown, ...args: unknown[]) {
      saves += 1;
      return saves === 2 ? Promise.reject(new Error('database went away')) : save.apply(this, args);
    };
    let response: Awaited<ReturnType<typeof uploadCsv>>;
    try {
      response = await uploadCsv(
        tenant.token,
        [header, row('D2', 'Nuovo'), row('D1', 'Modificato'), row('D4', 'Modificato')].join('\n'),
      );
    } finally {
      prototype.save = save;
    }
    expect(response.status).to.equal(500);
    expect(saves).to.equal(2);
    const stored = await activitiesOf(tenant);
    expect(stored.map((activity) => [activity.code, activity.name])).to.deep.equal([
      ['D1', 'Originale uno'],
      ['D4', 'Originale quattro'],
    ]);
  });

  it('reads the legal bases as Italians write them', () => {
    expect(parseLegalBasis('6.1.e')).to.equal('art6.1.e');
    expect(parseLegalBasis('art6.1.a')).to.equal('art6.1.a');
    expect(parseLegalBasis('Art. 6, par. 1, lett. c) GDPR')).to.equal('art6.1.c');
    expect(parseLegalBasis('9(2)(g)')).to.equal('art9.2.g');
    expect(parseLegalBasis('art. 10')).to.equal('art10');
    expect(parseLegalBasis('art. 2-octies D.Lgs. 196/2003')).to.equal('art2-octies');
    expect(parseLegalBasis('6.1.g')).to.equal(undefined);
    expect(parseLegalBasis('9.2.k')).to.equal(undefined);
    expect(parseLegalBasis('consenso')).to.equal(undefined);
  });
});
