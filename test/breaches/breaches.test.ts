import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { expectOk, readyEnte, type Ente } from '../appointments/support.js';
import { call } from '../support/http.js';
import { pdfText } from '../support/readers.js';
import { tokenWithRoles } from '../support/registry.js';
import {
  breachEnte,
  breachInput,
  createBreach,
  decide,
  download,
  upload,
  type BreachJson,
  type ProblemJson,
} from './support.js';

const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

const communicationRequest = {
  contact: {
    office: 'Settore Servizi alla Persona',
    phone: '051 6461111',
    email: 'servizisociali@comune.calderaradireno.bo.it',
  },
  advice: ['Diffidare di telefonate che chiedono dati personali a nome del Comune'],
  communicationChannel: 'Lettera raccomandata a ciascun interessato',
};

async function generate(ente: Ente, breachId: string, kind: string, json: unknown = {}) {
  return call<{ documentId: string; record: BreachJson } & ProblemJson>(
    'POST',
    `/api/v1/breaches/${breachId}/documents/${kind}`,
    { token: ente.token, json },
  );
}

async function pdfOf(ente: Ente, documentId: string): Promise<string> {
  return (await pdfText(await download(`/api/v1/documents/${documentId}/pdf`, ente.token)))
    .replace(/\s+/g, ' ')
    .trim();
}

const kinds = ['designato-report', 'dpo-opinion', 'notification', 'communication', 'public-notice'];

/** Tries every kind of document: returns those generated, and checks the others are refused with 409. */
async function documentsAllowed(ente: Ente, breachId: string): Promise<Map<string, string>> {
  const made = new Map<string, string>();
  for (const kind of kinds) {
    const body =
      kind === 'public-notice'
        ? { ...communicationRequest, publication: { channels: ['Albo pretorio online'] } }
        : kind === 'communication'
          ? communicationRequest
          : {};
    const response = await generate(ente, breachId, kind, body);
    if (response.status === 201) made.set(kind, response.body.documentId);
    else {
      expect(response.status, `${kind}: ${JSON.stringify(response.body)}`).to.equal(409);
      expect(response.body.detail).to.be.a('string').and.not.empty;
    }
  }
  return made;
}

describe('breaches: record, decision and documents', function () {
  this.timeout(300_000);
  let ente: Ente;

  before(async () => {
    ente = await breachEnte();
  });

  it('records a breach with its clock, and refuses incoherent input naming the field', async () => {
    const breach = await createBreach(ente, { awareAt: '2026-10-24T23:30' });
    expect(breach.status).to.equal('aperta');
    expect(breach.awareAt).to.equal('2026-10-24T21:30:00.000Z');
    expect(breach.awareAtLocal).to.equal('2026-10-24T23:30:00+02:00');
    expect(breach.clock.deadline).to.equal('2026-10-27T21:30:00.000Z');
    expect(breach.clock.deadlineLocal).to.equal('2026-10-27T22:30:00+01:00');
    expect(breach.clock.overdue).to.equal(true);
    expect(breach.clock.hoursLeft).to.be.below(0);
    expect(breach.register.number).to.be.a('number');

    const noNature = await call<ProblemJson>('POST', '/api/v1/breaches', {
      token: ente.token,
      json: { ...breachInput(ente), natures: [] },
    });
    expect(noNature.status).to.equal(400);
    expect(noNature.body.invalidParams?.map((param) => param.name)).to.include('body.natures');

    const gap = await call<ProblemJson>('POST', '/api/v1/breaches', {
      token: ente.token,
      json: breachInput(ente, { awareAt: '2026-03-29T02:30' }),
    });
    expect(gap.status).to.equal(400);
    expect(gap.body.invalidParams?.[0]?.name).to.equal('body.awareAt');

    const processor = await call<ProblemJson>('POST', '/api/v1/breaches', {
      token: ente.token,
      json: breachInput(ente, {
        reportedBy: { kind: 'responsabile', name: 'Cooperativa Il Ponte' },
      }),
    });
    expect(processor.status).to.equal(422);
    expect(processor.body.invalidParams?.[0]?.name).to.equal('body.reportedBy.processorAwareAt');

    const lateProcessor = await createBreach(ente, {
      awareAt: '2026-05-04T08:15',
      reportedBy: {
        kind: 'responsabile',
        name: 'Cooperativa Il Ponte',
        processorAwareAt: '2026-05-01T09:00',
      },
    });
    expect(lateProcessor.processorLate).to.equal(true);
  });

  it('lists the unnotified breaches past their deadline', async () => {
    const fresh = await createBreach(ente, { awareAt: hoursAgo(2) });
    expect(fresh.clock.overdue).to.equal(false);
    expect(fresh.clock.hoursLeft).to.be.within(69.9, 70);
    const old = await createBreach(ente, { awareAt: hoursAgo(80) });
    const overdue = await expectOk(
      call<BreachJson[]>('GET', '/api/v1/breaches?overdue=true', { token: ente.token }),
    );
    const ids = overdue.map((breach) => breach.id);
    expect(ids).to.include(old.id);
    expect(ids).not.to.include(fresh.id);
    expect(overdue.every((breach) => breach.clock.overdue)).to.equal(true);
  });

  it('keeps the decision in order and answers 409 on illegal moves', async () => {
    const breach = await createBreach(ente, { awareAt: hoursAgo(3) });
    const path = `/api/v1/breaches/${breach.id}`;
    const early = await call<ProblemJson>('POST', `${path}/assessment`, {
      token: ente.token,
      json: { outcome: 'rischio', reasons: 'Troppo presto' },
    });
    expect(early.status).to.equal(409);
    expect(early.body.currentState).to.equal('aperta');
    const notice = await generate(ente, breach.id, 'notification');
    expect(notice.status).to.equal(409);
    const decided = await decide(ente, breach.id, { outcome: 'rischio', reasons: 'Rischio' });
    expect(decided.status).to.equal('valutata');
    expect(decided.transitions.map((move) => move.to)).to.deep.equal([
      'aperta',
      'relazionata',
      'parere-acquisito',
      'valutata',
    ]);
    const again = await call<ProblemJson>('POST', `${path}/dpo-opinion`, {
      token: ente.token,
      json: { assessment: 'rischio', reasons: 'Di nuovo' },
    });
    expect(again.status).to.equal(409);
    const exemptionWithoutHighRisk = await call<ProblemJson>('POST', `${path}/assessment`, {
      token: ente.token,
      json: { outcome: 'rischio', reasons: 'x', exemption: 'a', exemptionExplanation: 'y' },
    });
    expect(exemptionWithoutHighRisk.status).to.equal(422);
  });

  it('refuses a late notice without reasons and accepts it with them', async () => {
    const breach = await createBreach(ente, { awareAt: hoursAgo(100) });
    await decide(ente, breach.id, { outcome: 'rischio', reasons: 'Rischio per gli interessati' });
    const refused = await generate(ente, breach.id, 'notification', { type: 'preliminare' });
    expect(refused.status).to.equal(422);
    expect(refused.body.invalidParams?.[0]?.name).to.equal('body.delayReasons');
    const accepted = await generate(ente, breach.id, 'notification', {
      type: 'preliminare',
      delayReasons:
        'Il responsabile esterno ha trasmesso l’elenco degli interessati solo il quarto giorno.',
    });
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(201);
    const text = await pdfOf(ente, accepted.body.documentId);
    expect(text).to.include('quarto giorno');
    // Recording it sent after the deadline: late, with the reasons already on record.
    const sent = await expectOk(
      call<BreachJson>('POST', `/api/v1/breaches/${breach.id}/notifications`, {
        token: ente.token,
        json: {
          type: 'preliminare',
          sentAt: new Date().toISOString(),
          protocollo: '2026/0020514',
          garanteFileNumber: 'DB-0152347',
          documentId: accepted.body.documentId,
        },
      }),
    );
    expect(sent.status).to.equal('notificata');
    expect(sent.notifications[0]?.late).to.equal(true);
    expect(sent.clock.overdue).to.equal(false);
    // A second preliminare is refused: what follows is an integrativa quoting the first.
    const second = await generate(ente, breach.id, 'notification', { type: 'preliminare' });
    expect(second.status).to.equal(409);
    const supplement = await generate(ente, breach.id, 'notification', {
      type: 'integrativa',
      additions: ['Numero definitivo degli interessati'],
    });
    expect(supplement.status, JSON.stringify(supplement.body)).to.equal(201);
    expect(await pdfOf(ente, supplement.body.documentId)).to.include('DB-0152347');
  });

  const paths: {
    name: string;
    assessment: Record<string, unknown>;
    expected: string[];
    check: Record<string, string[]>;
  }[] = [
    {
      name: 'no risk: only the report and the opinion',
      assessment: {
        outcome: 'nessun-rischio',
        reasons: 'Dati cifrati con AES-256: inintelligibili',
      },
      expected: ['designato-report', 'dpo-opinion'],
      check: { 'designato-report': ['Maria Rossi'], 'dpo-opinion': ['Lepida'] },
    },
    {
      name: 'risk: and the notification',
      assessment: { outcome: 'rischio', reasons: 'Rischio per gli interessati' },
      expected: ['designato-report', 'dpo-opinion', 'notification'],
      check: { notification: ['00543170377', 'Lepida', 'Utenti dei servizi sociali'] },
    },
    {
      name: 'high risk: and the communication to data subjects',
      assessment: { outcome: 'rischio-elevato', reasons: 'Dati sulla salute di persone fragili' },
      expected: ['designato-report', 'dpo-opinion', 'notification', 'communication'],
      check: { communication: ['051 6461111', 'Diffidare di telefonate'] },
    },
    {
      name: 'high risk with exemption c: a public notice instead',
      assessment: {
        outcome: 'rischio-elevato',
        reasons: 'Rischio elevato',
        exemption: 'c',
        exemptionExplanation: 'Oltre diecimila interessati senza recapito aggiornato.',
      },
      expected: ['designato-report', 'dpo-opinion', 'notification', 'public-notice'],
      check: { 'public-notice': ['Albo pretorio online', 'diecimila interessati'] },
    },
    {
      name: 'high risk with exemption a: no communication',
      assessment: {
        outcome: 'rischio-elevato',
        reasons: 'Rischio elevato',
        exemption: 'a',
        exemptionExplanation: 'I dati sottratti erano cifrati con AES-256.',
      },
      expected: ['designato-report', 'dpo-opinion', 'notification'],
      check: {},
    },
  ];

  for (const path of paths) {
    it(`decision path — ${path.name}`, async () => {
      const breach = await createBreach(ente, {
        awareAt: hoursAgo(5),
        ...(path.assessment.outcome === 'nessun-rischio'
          ? { natures: ['riservatezza'], encrypted: true }
          : {}),
      });
      await decide(ente, breach.id, path.assessment);
      const made = await documentsAllowed(ente, breach.id);
      expect([...made.keys()]).to.deep.equal(path.expected);
      for (const [kind, needles] of Object.entries(path.check)) {
        const text = await pdfOf(ente, made.get(kind)!);
        for (const needle of needles) expect(text, kind).to.include(needle);
      }
      const record = await expectOk(
        call<BreachJson>('GET', `/api/v1/breaches/${breach.id}`, { token: ente.token }),
      );
      expect(record.documents.map((document) => document.kind)).to.deep.equal(path.expected);
    });
  }

  it('hides breaches from other entes and lets only writers write', async () => {
    const breach = await createBreach(ente, { awareAt: hoursAgo(1) });
    const other = await readyEnte({ employees: 0, name: 'Comune di Altrove' });
    const seen = await call('GET', `/api/v1/breaches/${breach.id}`, { token: other.token });
    expect(seen.status).to.equal(404);
    const patched = await call('PATCH', `/api/v1/breaches/${breach.id}`, {
      token: other.token,
      json: { title: 'Titolo altrui' },
    });
    expect(patched.status).to.equal(404);
    const list = await expectOk(
      call<BreachJson[]>('GET', '/api/v1/breaches', { token: other.token }),
    );
    expect(list).to.have.length(0);

    const legal = await tokenWithRoles(ente.token, ['legal']);
    const read = await call('GET', `/api/v1/breaches/${breach.id}`, { token: legal });
    expect(read.status).to.equal(200);
    const written = await call('PATCH', `/api/v1/breaches/${breach.id}`, {
      token: legal,
      json: { title: 'Titolo modificato' },
    });
    expect(written.status).to.equal(403);
    const dpo = await tokenWithRoles(ente.token, ['dpo']);
    const byDpo = await call('PATCH', `/api/v1/breaches/${breach.id}`, {
      token: dpo,
      json: { title: 'Titolo modificato dall’RPD' },
    });
    expect(byDpo.status).to.equal(200);
  });
});

describe('breaches: register and evidence', function () {
  this.timeout(300_000);
  let ente: Ente;

  before(async () => {
    ente = await breachEnte();
  });

  it('lists notified and unnotified breaches in the CSV and the PDF register', async () => {
    const quiet = await createBreach(ente, {
      title: 'Smarrimento di una chiavetta USB cifrata',
      awareAt: hoursAgo(30),
      natures: ['riservatezza'],
      description: 'Chiavetta USB cifrata smarrita, con "virgolette", virgole e\nuna riga nuova.',
    });
    await decide(ente, quiet.id, { outcome: 'nessun-rischio', reasons: 'Cifratura AES-256' });
    const notified = await createBreach(ente, {
      title: 'Attacco ransomware al server del protocollo',
      awareAt: hoursAgo(10),
    });
    await decide(ente, notified.id, { outcome: 'rischio', reasons: 'Rischio' });
    await expectOk(
      call('POST', `/api/v1/breaches/${notified.id}/notifications`, {
        token: ente.token,
        json: { type: 'completa', sentAt: hoursAgo(1), protocollo: '2026/0031111' },
      }),
    );

    const csv = await call<string>('GET', '/api/v1/breach-register.csv', { token: ente.token });
    expect(csv.status).to.equal(200);
    expect(csv.contentType).to.include('text/csv');
    const rows: Record<string, string>[] = parse(csv.body, { columns: true });
    expect(rows).to.have.length(2);
    const byTitle = new Map(rows.map((row) => [row.Titolo, row]));
    const quietRow = byTitle.get('Smarrimento di una chiavetta USB cifrata')!;
    expect(quietRow.Descrizione).to.equal(
      'Chiavetta USB cifrata smarrita, con "virgolette", virgole e\nuna riga nuova.',
    );
    expect(quietRow['Notifica al Garante']).to.match(/non dovuta/);
    expect(quietRow['Ufficio competente']).to.equal('Settore Servizi alla Persona');
    const notifiedRow = byTitle.get('Attacco ransomware al server del protocollo')!;
    expect(notifiedRow['Notifica al Garante']).to.match(/completa del .*2026\/0031111/);
    expect(notifiedRow['Categorie di dati violati']).to.include('dati particolari (art. 9 GDPR)');

    const pdf = await call<{ documentId: string } & ProblemJson>(
      'POST',
      '/api/v1/breach-register/pdf',
      { token: ente.token },
    );
    expect(pdf.status, JSON.stringify(pdf.body)).to.equal(201);
    const text = (
      await pdfText(await download(`/api/v1/documents/${pdf.body.documentId}/pdf`, ente.token))
    ).replace(/\s+/g, ' ');
    expect(text).to.include('Smarrimento di una chiavetta USB cifrata');
    expect(text).to.include('Attacco ransomware al server del protocollo');
  });

  it('lists every breach in the PDF register, assessed or not, with or without a settore', async () => {
    // A fresh ente: the register holds exactly these three breaches, in order of awareness.
    const own = await breachEnte();
    const notified = await createBreach(own, {
      title: 'Attacco ransomware al server del protocollo',
      awareAt: hoursAgo(50),
    });
    await decide(own, notified.id, { outcome: 'rischio', reasons: 'Rischio' });
    await expectOk(
      call('POST', `/api/v1/breaches/${notified.id}/notifications`, {
        token: own.token,
        json: { type: 'completa', sentAt: hoursAgo(40), protocollo: '2026/0031112' },
      }),
    );
    const quiet = await createBreach(own, {
      title: 'Smarrimento di una chiavetta USB cifrata',
      awareAt: hoursAgo(30),
      natures: ['riservatezza'],
      encrypted: true,
    });
    await decide(own, quiet.id, { outcome: 'nessun-rischio', reasons: 'Cifratura AES-256' });
    const opened = await createBreach(own, {
      title: 'Fascicolo consegnato al destinatario sbagliato',
      awareAt: hoursAgo(2),
      settoreId: null,
    });
    expect(opened.status).to.equal('aperta');

    const pdf = await call<{ documentId: string } & ProblemJson>(
      'POST',
      '/api/v1/breach-register/pdf',
      { token: own.token },
    );
    expect(pdf.status, JSON.stringify(pdf.body)).to.equal(201);
    const text = await pdfOf(own, pdf.body.documentId);
    const code = (breach: BreachJson) =>
      `DB-${breach.register.year}-${String(breach.register.number).padStart(3, '0')}`;
    // Each code, then what the register says of that breach, before the next code.
    const rows: [BreachJson, string[]][] = [
      [notified, ['Gravità: media', 'Garante: notificata il', '(n. 2026/0031112)']],
      [quiet, ['Gravità: bassa', 'Garante: non notificata – Cifratura AES-256']],
      [opened, ['Ufficio: non indicato', 'Gravità: in valutazione', 'Garante: in valutazione']],
    ];
    let from = 0;
    for (const [breach, statuses] of rows) {
      const at = text.indexOf(code(breach), from);
      expect(at, `${code(breach)} in the register`).to.be.at.least(from);
      from = at;
      for (const status of statuses) {
        const found = text.indexOf(status, from);
        expect(found, `${code(breach)}: ${status}`).to.be.at.least(from);
        from = found;
      }
    }
  });

  it('stores an accepted evidence file with its SHA-256 and refuses disguised or oversized ones', async () => {
    const breach = await createBreach(ente, { awareAt: hoursAgo(2) });
    const pdfBytes = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    const accepted = await upload(ente.token, breach.id, pdfBytes, 'denuncia.pdf');
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(201);
    const { createHash } = await import('node:crypto');
    const sha256 = createHash('sha256').update(pdfBytes).digest('hex');
    expect(accepted.body.sha256).to.equal(sha256);
    const listed = await expectOk(
      call<{ id: string; sha256: string; fileName: string }[]>(
        'GET',
        `/api/v1/breaches/${breach.id}/evidence`,
        { token: ente.token },
      ),
    );
    expect(listed.map((file) => [file.fileName, file.sha256])).to.deep.equal([
      ['denuncia.pdf', sha256],
    ]);
    const bytes = await download(
      `/api/v1/breaches/${breach.id}/evidence/${listed[0]!.id}`,
      ente.token,
    );
    expect(bytes.equals(pdfBytes)).to.equal(true);

    const exe = Buffer.concat([
      Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'),
      Buffer.alloc(64),
    ]);
    const disguised = await upload(ente.token, breach.id, exe, 'verbale.pdf');
    expect(disguised.status).to.equal(415);
    expect(disguised.body.invalidParams?.[0]?.name).to.equal('files.file');
    const asText = await upload(ente.token, breach.id, exe, 'note.txt');
    expect(asText.status).to.equal(415);

    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x41);
    const oversized = await upload(ente.token, breach.id, big, 'log.txt');
    expect(oversized.status).to.equal(413);
    expect(oversized.body.invalidParams?.[0]?.name).to.equal('files.file');

    const csv = await upload(
      ente.token,
      breach.id,
      Buffer.from('ora;evento\n08:00;accesso\n'),
      'accessi.csv',
    );
    expect(csv.status).to.equal(201);
  });
});
