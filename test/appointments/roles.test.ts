/**
 * One act for each privacy role, issued through the HTTP API and read back from
 * the PDF and the DOCX as a user would read them: the mandatory content of
 * DOMAIN.md for the act, in order, with the number the register gave it, and the
 * register each act is filed under.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { testEnvironment } from '../support/environment.js';
import { call } from '../support/http.js';
import { docxText, firstMissingInOrder, normalise, pdfText } from '../support/readers.js';
import { createPerson, partitaIva } from '../support/registry.js';
import {
  expectOk,
  issue,
  issuedDesignato,
  readyEnte,
  type AppointmentJson,
  type Ente,
  type Problem,
} from './support.js';

type Act = AppointmentJson['acts'][number];

interface Supplier {
  id: string;
  name: string;
  vatNumber: string;
}

interface RegisterEntry {
  registerKey: string;
  year: number;
  number: number;
  actKey: string;
  date: string;
  subject: string;
  status: string;
  documentId: string | null;
}

interface RegisterSummary {
  key: string;
  name: string;
  year: number;
  count: number;
  lastNumber: number;
  pending: number;
}

const place = 'Calderara di Reno, ';
const dpoOfTheEnte = 'Lepida S.c.p.A. (dpo-team@lepida.it)';
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

/** Today in Italy, AAAA-MM-GG. */
function romeToday(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Rome' }).format(new Date());
}

/** "25 novembre 2026", "1° dicembre 2026": the Italian long form of an AAAA-MM-GG date. */
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

/** "Decreto del Sindaco n. 4 del 25 novembre 2026": how the footer and later acts cite an act. */
function estremi(kind: string, act: Act): string {
  return `${kind} n. ${act.number} ${withDate('del', 'dell’', act.date)}`;
}

function heading(kind: string, act: Act): string {
  return estremi(kind, act).toUpperCase();
}

async function download(path: string, token: string): Promise<Buffer> {
  const response = await fetch(`${testEnvironment().service.url}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status, path).to.equal(200);
  return Buffer.from(await response.arrayBuffer());
}

interface ActExpectation {
  /** "Decreto del Sindaco", "Atto della Designata". */
  kind: string;
  /** The body after the heading, in reading order. */
  phrases: string[];
  /** Side by side on the page: only their presence after the place and date counts. */
  signatures: string[];
}

/**
 * Reads the act's PDF and DOCX and checks every mandatory phrase in order. The
 * PDF repeats the letterhead and the footer on each page: both are checked, then
 * taken out so that a sentence running across pages reads whole. Word keeps the
 * letterhead and the footer in the page header and footer, which docxText skips.
 */
async function expectAct(ente: Ente, act: Act | undefined, expected: ActExpectation) {
  expect(act, 'act').to.not.equal(undefined);
  if (!act) return;
  expect(act.documentId, 'documentId').to.be.a('string');
  const documentId = act.documentId ?? '';
  const footer = estremi(expected.kind, act);
  const raw = await pdfText(await download(`/api/v1/documents/${documentId}/pdf`, ente.token));
  const letterhead = /^COMUNE DI CALDERARA DI RENO \d+$/m;
  expect(raw.trimStart().split('\n')[0], 'letterhead').to.match(letterhead);
  expect(normalise(raw), 'footer').to.contain(`${footer} – pagina 1 di `);
  const pdf = raw
    .replace(/^\f?COMUNE DI CALDERARA DI RENO \d+$/gm, ' ')
    .replace(/^\f?.* – pagina \d+ di \d+$/gm, ' ');
  const docx = await docxText(await download(`/api/v1/documents/${documentId}/docx`, ente.token));
  const phrases = [heading(expected.kind, act), ...expected.phrases];
  for (const [format, text] of [
    ['PDF', pdf],
    ['DOCX', docx],
  ] as const) {
    expect(
      firstMissingInOrder(text, phrases),
      `${format}: phrase missing or out of order`,
    ).to.equal(undefined);
    const flat = normalise(text);
    const afterDate = flat.slice(flat.lastIndexOf(`${place}${longDate(act.date)}`));
    expect(
      expected.signatures.filter((phrase) => !afterDate.includes(phrase)),
      `${format}: signature block after the place and date`,
    ).to.deep.equal([]);
  }
}

function placeAndDate(act: Act | undefined): string {
  return `${place}${longDate(act?.date ?? '')}`;
}

async function draft(ente: Ente, json: Record<string, unknown>): Promise<AppointmentJson> {
  return expectOk(
    call<AppointmentJson>('POST', '/api/v1/appointments', { token: ente.token, json }),
    201,
  );
}

async function issued(ente: Ente, json: Record<string, unknown>): Promise<AppointmentJson> {
  return expectOk(issue(ente, (await draft(ente, json)).id));
}

async function supplier(ente: Ente, json: Record<string, unknown>): Promise<Supplier> {
  return expectOk(call<Supplier>('POST', '/api/v1/suppliers', { token: ente.token, json }), 201);
}

async function registerEntries(ente: Ente, key: string, year: number) {
  const response = await call<RegisterEntry[]>(
    'GET',
    `/api/v1/registers/${key}/${year}?limit=200`,
    {
      token: ente.token,
    },
  );
  expect(response.status).to.equal(200);
  return { entries: response.body, total: Number(response.headers.get('x-total-count')) };
}

/** Runs the step once, however many tests ask for its result. */
function once<T>(step: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= step());
}

const standardInstructions = JSON.parse(
  readFileSync(new URL('../../data/atti/istruzioni-autorizzati.json', import.meta.url), 'utf8'),
) as string[];

/** The art. 28(3) a)–h) duties, one distinctive phrase each. */
const article28Duties = [
  'ai sensi dell’art. 28, par. 3, del Regolamento (UE) 2016/679:',
  'tratta i dati personali soltanto su istruzione documentata del Titolare, anche in caso di trasferimento di dati personali verso un paese terzo',
  'si siano impegnate alla riservatezza o abbiano un adeguato obbligo legale di riservatezza',
  'adotta tutte le misure tecniche e organizzative richieste ai sensi dell’art. 32 del GDPR',
  'vi ricorre solo previa autorizzazione scritta, specifica o generale, del Titolare',
  'il Titolare può opporvisi entro 30 giorni',
  'gli stessi obblighi in materia di protezione dei dati',
  'richieste per l’esercizio dei diritti dell’interessato di cui al capo III del GDPR',
  'obblighi di cui agli artt. da 32 a 36 del GDPR',
  'su scelta del Titolare, cancella o gli restituisce tutti i dati personali',
  'consente e contribuisce alle attività di revisione, comprese le ispezioni',
];

/** Seed 002 art. 7: what the regolamento adds to art. 28. */
const regolamentoDuties = [
  'ai sensi dell’art. 7 del Regolamento comunale, inoltre:',
  'entro 48 ore dalla sua identificazione',
  'per consentire al Titolare la notifica al Garante entro 72 ore',
  'designa gli amministratori di sistema',
  'con cadenza almeno annuale',
  'formazione periodica',
  'ai sensi dell’art. 30, par. 2, del Regolamento (UE) 2016/679',
  'di riservare al Titolare il diritto',
];

const emiliaDigitale = {
  name: 'Emilia Digitale S.r.l.',
  vatNumber: partitaIva('0312345678'),
  pec: 'emiliadigitale@pec.it',
  address: { street: 'Via della Liberazione 15', cap: '40128', city: 'Bologna', province: 'BO' },
  legalRepresentative: { name: 'Paolo Conti' },
};

const nordDataCenter = {
  name: 'Nord Data Center S.p.A.',
  vatNumber: partitaIva('0498765432'),
  address: {
    street: 'Via Giovanni Battista Pirelli 30',
    cap: '20124',
    city: 'Milano',
    province: 'MI',
  },
};

const processorTerms = {
  contract: {
    subject: 'Servizio di gestione della cartella sociale informatizzata',
    reference: 'determinazione n. 412 del 3-11-2026',
    cig: 'B4C2D7E91F',
  },
  natureAndPurpose:
    'raccolta, registrazione, conservazione e consultazione dei dati delle cartelle sociali per l’erogazione del servizio',
  dataTypes: ['dati anagrafici e di contatto', 'dati relativi alla salute'],
  dataSubjectCategories: ['richiedenti e beneficiari delle prestazioni sociali', 'minori'],
};

describe('appointments: one act for each role', () => {
  let ente: Ente;
  let designato: AppointmentJson;
  let emilia: Supplier;
  let nord: Supplier;
  let employee: { id: string; taxCode: string };

  before(async function () {
    this.timeout(60_000);
    ente = await readyEnte();
    designato = await issuedDesignato(ente);
    emilia = await supplier(ente, emiliaDigitale);
    nord = await supplier(ente, nordDataCenter);
    employee = await createPerson(
      ente.token,
      'Chiara',
      'Bassi',
      { role: 'Istruttore amministrativo', settoreId: ente.settoreId },
      'F',
    );
  });

  const rpd = once(async () => {
    const person = await createPerson(ente.token, 'Luca', 'Bianchi', { role: 'Funzionario' });
    return issued(ente, {
      role: 'rpd',
      personId: person.id,
      dpo: {
        kind: 'persona',
        email: 'rpd@comune.calderara.bo.it',
        pec: 'rpd@pec.comune.calderara.bo.it',
        phone: '051 6461111',
        qualifications:
          'laurea in giurisprudenza, master in protezione dei dati personali e dieci anni di esperienza come RPD di enti locali',
      },
    });
  });

  const administrator = once(async () => {
    const person = await createPerson(
      ente.token,
      'Giulia',
      'Neri',
      { title: 'ing', role: 'Istruttore direttivo informatico' },
      'F',
    );
    return issued(ente, {
      role: 'amministratore-sistema',
      personId: person.id,
      systemAdministrator: {
        systems: ['Rete locale, firewall e VPN', 'Server applicativi e database del Comune'],
        functions: [
          'gestione delle utenze, delle credenziali e dei profili di autorizzazione',
          'gestione dei salvataggi e del ripristino dei dati',
        ],
        yearlyCheck: {
          responsible: 'il Segretario comunale',
          deadline: 'entro il 31 gennaio di ogni anno',
        },
      },
    });
  });

  const processor = once(() =>
    issued(ente, {
      role: 'responsabile-esterno',
      supplierId: emilia.id,
      processor: processorTerms,
      processingActivityIds: [ente.activityId],
    }),
  );

  const subProcessor = once(async () =>
    issued(ente, {
      role: 'sub-responsabile',
      supplierId: nord.id,
      processor: { processorAppointmentId: (await processor()).id, authorisationKind: 'specifica' },
      tasks: [
        'hosting dell’infrastruttura cloud qualificata',
        'salvataggio giornaliero cifrato delle basi di dati',
      ],
    }),
  );

  const authorised = once(() =>
    issued(ente, { role: 'autorizzato', personId: employee.id, settoreIds: [ente.settoreId] }),
  );

  const revoked = once(async () =>
    expectOk(
      call<AppointmentJson>('POST', `/api/v1/appointments/${(await authorised()).id}/revoke`, {
        token: ente.token,
        json: { reason: 'trasferimento della dipendente al Settore Tributi' },
      }),
    ),
  );

  it('rpd: a person as DPO, by decreto of the Sindaco with art. 37(7) communication and publication', async () => {
    const appointment = await rpd();
    expect(appointment).to.include({
      role: 'rpd',
      status: 'issued',
      appointeeName: 'Luca Bianchi',
    });
    expect(appointment.authority).to.deep.equal({ kind: 'sindaco', appointmentId: null });
    const [act] = appointment.acts;
    expect(act).to.include({ kind: 'nomina', registerKey: 'decreti-sindaco' });
    await expectAct(ente, act, {
      kind: 'Decreto del Sindaco',
      phrases: [
        'OGGETTO: Designazione di Luca Bianchi quale Responsabile della protezione dei dati personali (RPD/DPO) ai sensi dell’art. 37 del Regolamento (UE) 2016/679 e dell’art. 8 del Regolamento comunale',
        'IL SINDACO',
        'VISTI:',
        'il Regolamento (UE) 2016/679 del Parlamento europeo e del Consiglio del 27 aprile 2016',
        'sezione 4 del capo IV (artt. 37, 38 e 39)',
        'l’art. 37, par. 1, lett. a), del Regolamento (UE) 2016/679',
        'come modificato dal Decreto legislativo 10 agosto 2018, n. 101',
        'approvato con delibera consiliare n. 117 del 22-12-2020, e in particolare l’art. 8 («Responsabile della protezione dei dati (D.P.O.)»)',
        'l’art. 50 del Decreto legislativo 18 agosto 2000, n. 267',
        'CONSIDERATO che, ai sensi dell’art. 37, par. 5, del Regolamento (UE) 2016/679',
        'Luca Bianchi possiede le qualità professionali richieste, in quanto: laurea in giurisprudenza, master in protezione dei dati personali e dieci anni di esperienza come RPD di enti locali',
        'RITENUTO',
        'DECRETA',
        'di designare Luca Bianchi Responsabile della protezione dei dati personali (RPD/DPO)',
        'posta elettronica: rpd@comune.calderara.bo.it',
        'posta elettronica certificata (PEC): rpd@pec.comune.calderara.bo.it',
        'telefono: 051 6461111',
        'ai sensi dell’art. 39, par. 1, del Regolamento (UE) 2016/679',
        'informare e fornire consulenza al Titolare del trattamento',
        'cooperare con il Garante per la protezione dei dati personali',
        'ai sensi dell’art. 38 del GDPR, l’indipendenza del RPD e le risorse necessarie',
        `la designazione ha effetto ${withDate('dal', 'dall’', act?.date ?? '')}, salvo revoca motivata`,
        'di comunicare i dati di contatto del RPD al Garante per la protezione dei dati personali, ai sensi dell’art. 37, par. 7, del Regolamento (UE) 2016/679',
        'nella sezione «Amministrazione trasparente»',
        'di notificare il presente decreto al RPD, Luca Bianchi (rpd@pec.comune.calderara.bo.it), che lo sottoscrive per accettazione',
        'di disporre la pubblicazione del presente decreto all’Albo pretorio online',
        placeAndDate(act),
      ],
      signatures: [
        'Il Sindaco',
        'Giampiero Falzone',
        'Per accettazione, il Responsabile della protezione dei dati',
        'Luca Bianchi',
      ],
    });

    // Art. 37(7): the communication to the Garante and the publication are recorded on the appointment.
    const communicated = await expectOk(
      call<AppointmentJson & { dpo: Record<string, unknown> }>(
        'POST',
        `/api/v1/appointments/${appointment.id}/dpo-communication`,
        {
          token: ente.token,
          json: {
            garanteCommunication: { date: act?.date, protocol: 'GPDP 0123456' },
            publication: {
              date: act?.date,
              url: 'https://www.comune.calderara.bo.it/amministrazione-trasparente/rpd',
            },
          },
        },
      ),
    );
    expect(communicated.dpo).to.deep.include({
      garanteCommunication: { date: act?.date, protocol: 'GPDP 0123456' },
      publication: {
        date: act?.date,
        url: 'https://www.comune.calderara.bo.it/amministrazione-trasparente/rpd',
      },
    });
  });

  it('rpd: a second DPO without supersedesId is refused with 409 naming the one in office; with it, replaces him by a revoca', async () => {
    const first = await rpd();
    const before = await registerEntries(ente, 'decreti-sindaco', first.acts[0]?.year ?? 0);
    const person = await createPerson(ente.token, 'Anna', 'Ferri', { title: 'avv' }, 'F');
    const second = await draft(ente, {
      role: 'rpd',
      personId: person.id,
      dpo: {
        kind: 'persona',
        email: 'anna.ferri@studioferri.example.it',
        qualifications: 'avvocata esperta in diritto amministrativo e protezione dei dati',
      },
    });
    const refused = await call<Problem & { activeAppointmentId?: string }>(
      'POST',
      `/api/v1/appointments/${second.id}/issue`,
      { token: ente.token },
    );
    expect(refused.status).to.equal(409);
    expect(refused.body.detail).to.contain('Luca Bianchi');
    expect(refused.body.detail).to.contain(`supersedesId=${first.id}`);
    expect(refused.body.activeAppointmentId).to.equal(first.id);
    const after = await registerEntries(ente, 'decreti-sindaco', first.acts[0]?.year ?? 0);
    expect(after.total, 'no number taken by the refused act').to.equal(before.total);

    await expectOk(
      call('PATCH', `/api/v1/appointments/${second.id}`, {
        token: ente.token,
        json: { supersedesId: first.id },
      }),
    );
    const replacing = await expectOk(issue(ente, second.id));
    expect(replacing.status).to.equal('issued');
    const old = await expectOk(
      call<AppointmentJson>('GET', `/api/v1/appointments/${first.id}`, { token: ente.token }),
    );
    expect(old.status).to.equal('superseded');
    expect(old.supersededById).to.equal(second.id);
    const revoca = old.acts.find((act) => act.kind === 'revoca');
    expect(revoca?.registerKey).to.equal('decreti-sindaco');
    expect(revoca?.number).to.equal((replacing.acts[0]?.number ?? 0) + 1);
    const nomina = old.acts[0];
    await expectAct(ente, revoca, {
      kind: 'Decreto del Sindaco',
      phrases: [
        `OGGETTO: Revoca del decreto di nomina del Responsabile della protezione dei dati n. ${nomina?.number} ${withDate('del', 'dell’', nomina?.date ?? '')} – Luca Bianchi, Responsabile della protezione dei dati (RPD).`,
        'IL SINDACO',
        'VISTI:',
        'come modificato dal Decreto legislativo 10 agosto 2018, n. 101',
        `il decreto di nomina del Responsabile della protezione dei dati n. ${nomina?.number}`,
        '(registro dei decreti del Sindaco)',
        'per la seguente motivazione: sostituzione con nuova nomina a Responsabile della protezione dei dati (RPD)',
        'DECRETA',
        'di revocare',
        'Luca Bianchi è contestualmente sostituito nel ruolo da Anna Ferri, Responsabile della protezione dei dati (RPD), con la stessa decorrenza',
        'di notificare il presente decreto a Luca Bianchi, che lo sottoscrive per ricevuta, e di comunicarlo a Anna Ferri',
        placeAndDate(revoca),
      ],
      signatures: ['Il Sindaco', 'Giampiero Falzone', 'Per ricevuta', 'Luca Bianchi'],
    });
  });

  it('amministratore-sistema: individual designation with systems, functions, yearly check and logs kept 6 months', async () => {
    const appointment = await administrator();
    const [act] = appointment.acts;
    expect(act).to.include({ kind: 'nomina', registerKey: 'decreti-sindaco' });
    await expectAct(ente, act, {
      kind: 'Decreto del Sindaco',
      phrases: [
        'OGGETTO: Designazione individuale dell’ing. Giulia Neri quale amministratore di sistema ai sensi del provvedimento del Garante per la protezione dei dati personali del 27 novembre 2008',
        'IL SINDACO',
        'VISTI:',
        'il Regolamento (UE) 2016/679',
        'come modificato dal Decreto legislativo 10 agosto 2018, n. 101',
        '(G.U. n. 300 del 24 dicembre 2008)',
        'approvato con delibera consiliare n. 117 del 22-12-2020, e in particolare l’art. 23',
        'CONSIDERATO',
        'previa valutazione dell’esperienza, della capacità e dell’affidabilità',
        'RITENUTO',
        'DECRETA',
        'di designare l’ing. Giulia Neri, Istruttore direttivo informatico, amministratore di sistema',
        'Rete locale, firewall e VPN',
        'Server applicativi e database del Comune',
        'di attribuire all’ing. Giulia Neri le seguenti funzioni di amministratore di sistema',
        'gestione delle utenze, delle credenziali e dei profili di autorizzazione',
        'gestione dei salvataggi e del ripristino dei dati',
        'sono registrati (access log)',
        'sono conservati per un periodo non inferiore a 6 mesi;',
        'è oggetto di verifica con cadenza almeno annuale, entro il 31 gennaio di ogni anno',
        'soggetto incaricato della verifica: il Segretario comunale',
        'nell’elenco degli amministratori di sistema',
        `ha effetto ${withDate('dal', 'dall’', act?.date ?? '')} fino a revoca`,
        'di notificare il presente decreto all’ing. Giulia Neri, che lo sottoscrive per accettazione',
        dpoOfTheEnte,
        placeAndDate(act),
      ],
      signatures: [
        'Il Sindaco',
        'Giampiero Falzone',
        'Per accettazione, l’amministratore di sistema',
        'Giulia Neri',
      ],
    });
  });

  it('amministratore-sistema: refused with 422 naming systemAdministrator.yearlyCheck and .functions, without a number', async () => {
    const year = Number(romeToday().slice(0, 4));
    const before = await registerEntries(ente, 'decreti-sindaco', year);
    const person = await createPerson(ente.token, 'Marco', 'Sala', { role: 'Tecnico informatico' });
    const incomplete = await draft(ente, {
      role: 'amministratore-sistema',
      personId: person.id,
      systemAdministrator: { systems: ['Rete locale'], functions: [] },
    });
    const refused = await issue(ente, incomplete.id);
    expect(refused.status).to.equal(422);
    const names = (refused.body.invalidParams ?? []).map((param) => param.name);
    expect(names).to.include.members([
      'systemAdministrator.yearlyCheck',
      'systemAdministrator.functions',
    ]);
    expect(names).to.not.include('systemAdministrator.systems');

    // With the functions only the yearly check is missing, and it alone is named.
    await expectOk(
      call('PATCH', `/api/v1/appointments/${incomplete.id}`, {
        token: ente.token,
        json: {
          systemAdministrator: { systems: ['Rete locale'], functions: ['gestione delle utenze'] },
        },
      }),
    );
    const still = await issue(ente, incomplete.id);
    expect(still.status).to.equal(422);
    expect((still.body.invalidParams ?? []).map((param) => param.name)).to.deep.equal([
      'systemAdministrator.yearlyCheck',
    ]);
    expect(
      (
        await call<AppointmentJson>('GET', `/api/v1/appointments/${incomplete.id}`, {
          token: ente.token,
        })
      ).body.status,
    ).to.equal('draft');
    expect((await registerEntries(ente, 'decreti-sindaco', year)).total).to.equal(before.total);

    // Logs kept less than six months are refused as input.
    const shortLogs = await call<Problem>('POST', '/api/v1/appointments', {
      token: ente.token,
      json: {
        role: 'amministratore-sistema',
        personId: person.id,
        systemAdministrator: {
          systems: ['Rete locale'],
          functions: ['gestione delle utenze'],
          yearlyCheck: { responsible: 'il Segretario comunale', deadline: 'entro il 31 gennaio' },
          logRetentionMonths: 3,
        },
      },
    });
    expect(shortLogs.status).to.equal(400);
    expect((shortLogs.body.invalidParams ?? []).map((param) => param.name)).to.include(
      'body.systemAdministrator.logRetentionMonths',
    );
  });

  it('responsabile-esterno: art. 28 designation with the contract, a)–h) duties and breach notice within 48 hours', async () => {
    const appointment = await processor();
    expect(appointment).to.include({
      role: 'responsabile-esterno',
      status: 'issued',
      supplierId: emilia.id,
      appointeeName: 'Emilia Digitale S.r.l.',
    });
    const [act] = appointment.acts;
    expect(act).to.include({ kind: 'nomina', registerKey: 'decreti-sindaco' });
    await expectAct(ente, act, {
      kind: 'Decreto del Sindaco',
      phrases: [
        'OGGETTO: Designazione di Emilia Digitale S.r.l. quale Responsabile del trattamento dei dati personali ai sensi dell’art. 28 del Regolamento (UE) 2016/679 – Servizio di gestione della cartella sociale informatizzata (CIG B4C2D7E91F).',
        'IL SINDACO',
        'VISTI:',
        'il Regolamento (UE) 2016/679',
        'come modificato dal Decreto legislativo 10 agosto 2018, n. 101',
        'e in particolare l’art. 7 («Responsabili esterni di trattamento»)',
        'l’art. 50 del Decreto legislativo 18 agosto 2000, n. 267',
        'affidato a Emilia Digitale S.r.l. con determinazione n. 412 del 3-11-2026 (CIG B4C2D7E91F)',
        'CONSIDERATO',
        'ai sensi dell’art. 28, par. 1, del Regolamento (UE) 2016/679',
        'RITENUTO',
        'DECRETA',
        `di designare Emilia Digitale S.r.l., con sede in Via della Liberazione 15, 40128 Bologna (BO), partita IVA ${emiliaDigitale.vatNumber}, PEC emiliadigitale@pec.it, in persona del legale rappresentante pro tempore Paolo Conti`,
        'Responsabile del trattamento dei dati personali ai sensi dell’art. 28',
        'materia disciplinata, cioè i trattamenti affidati:',
        'Servizi sociali',
        `natura e finalità del trattamento: ${processorTerms.natureAndPurpose}`,
        'tipo di dati personali:',
        'dati anagrafici e di contatto',
        'dati relativi alla salute',
        'categorie di interessati:',
        'richiedenti e beneficiari delle prestazioni sociali',
        'minori',
        `durata: ${withDate('dal', 'dall’', act?.date ?? '')} per tutta la durata del contratto`,
        ...article28Duties,
        ...regolamentoDuties,
        'il presente decreto costituisce parte integrante del contratto',
        dpoOfTheEnte,
        placeAndDate(act),
      ],
      signatures: [
        'Il Sindaco',
        'Giampiero Falzone',
        'Per accettazione, il legale rappresentante di Emilia Digitale S.r.l.',
        'Paolo Conti',
      ],
    });
  });

  it('sub-responsabile: specific authorisation to the processor, with its obligations flowed down', async () => {
    const main = await processor();
    const appointment = await subProcessor();
    expect(appointment).to.include({
      role: 'sub-responsabile',
      status: 'issued',
      supplierId: nord.id,
    });
    const [act] = appointment.acts;
    expect(act).to.include({ kind: 'nomina', registerKey: 'decreti-sindaco' });
    expect(act?.number).to.be.above(main.acts[0]?.number ?? 0);
    await expectAct(ente, act, {
      kind: 'Decreto del Sindaco',
      phrases: [
        'OGGETTO: Autorizzazione specifica a Emilia Digitale S.r.l., Responsabile del trattamento, al ricorso a Nord Data Center S.p.A. quale sub-responsabile del trattamento ai sensi dell’art. 28, par. 2, del Regolamento (UE) 2016/679 – Servizio di gestione della cartella sociale informatizzata (CIG B4C2D7E91F).',
        'IL SINDACO',
        'VISTI:',
        'e in particolare l’art. 28, paragrafi 2 e 4',
        'come modificato dal Decreto legislativo 10 agosto 2018, n. 101',
        'e in particolare l’art. 7 («Responsabili esterni di trattamento»)',
        `affidato a Emilia Digitale S.r.l., partita IVA ${emiliaDigitale.vatNumber}, con determinazione n. 412 del 3-11-2026 (CIG B4C2D7E91F)`,
        'CONSIDERATO',
        'RITENUTO',
        'DECRETA',
        `di autorizzare Emilia Digitale S.r.l. (partita IVA ${emiliaDigitale.vatNumber})`,
        `a ricorrere a Nord Data Center S.p.A., con sede in Via Giovanni Battista Pirelli 30, 20124 Milano (MI), partita IVA ${nordDataCenter.vatNumber}`,
        'hosting dell’infrastruttura cloud qualificata',
        'salvataggio giornaliero cifrato delle basi di dati',
        'la presente autorizzazione è specifica',
        'richiede una nuova autorizzazione scritta del Titolare',
        'gli stessi obblighi in materia di protezione dei dati personali contenuti nell’atto di designazione del Responsabile, e in particolare quelli di cui all’art. 28, par. 3, del Regolamento (UE) 2016/679',
        'il Responsabile conserva nei confronti del Titolare l’intera responsabilità',
        'lo informa senza ritardo di ogni violazione dei dati personali subita dal Sub-responsabile',
        `ha effetto ${withDate('dal', 'dall’', act?.date ?? '')}`,
        dpoOfTheEnte,
        placeAndDate(act),
      ],
      signatures: [
        'Il Sindaco',
        'Giampiero Falzone',
        'Per accettazione, il legale rappresentante del Responsabile del trattamento',
        'Emilia Digitale S.r.l.',
      ],
    });

    // A processor not (yet) in office cannot authorise a sub-processor.
    const notIssued = await draft(ente, {
      role: 'responsabile-esterno',
      supplierId: emilia.id,
      processor: processorTerms,
      processingActivityIds: [ente.activityId],
    });
    const orphan = await draft(ente, {
      role: 'sub-responsabile',
      supplierId: nord.id,
      processor: { processorAppointmentId: notIssued.id, authorisationKind: 'specifica' },
      tasks: ['hosting'],
    });
    const refused = await issue(ente, orphan.id);
    expect(refused.status).to.equal(422);
    expect((refused.body.invalidParams ?? []).map((param) => param.name)).to.include(
      'processor.processorAppointmentId',
    );
  });

  it('autorizzato: by the settore’s Designata, with the standard instructions annexed as Allegato A', async () => {
    const appointment = await authorised();
    expect(appointment.authority).to.deep.equal({
      kind: 'designato',
      appointmentId: designato.id,
    });
    expect(appointment.instructions).to.deep.equal(standardInstructions);
    const [act] = appointment.acts;
    expect(act).to.include({ kind: 'nomina', registerKey: 'atti-designato' });
    const annex = [
      'Allegato A – Istruzioni per il trattamento dei dati personali',
      estremi('Atto della Designata', act ?? ({} as Act)),
      'Chiara Bassi, autorizzata al trattamento dei dati personali ai sensi dell’art. 29 del Regolamento (UE) 2016/679, si attiene alle seguenti istruzioni:',
      ...standardInstructions.map((instruction) => instruction.replace(/;$/, '')),
      'Per ricevuta e presa visione delle istruzioni, l’autorizzata',
      'Chiara Bassi',
    ];
    await expectAct(ente, act, {
      kind: 'Atto della Designata',
      phrases: [
        'OGGETTO: Autorizzazione al trattamento dei dati personali ai sensi dell’art. 29 del Regolamento (UE) 2016/679 e dell’art. 2-quaterdecies del D.Lgs. 196/2003 – Chiara Bassi, Istruttore amministrativo – Settore Servizi alla Persona.',
        'LA DESIGNATA AL TRATTAMENTO',
        'Responsabile del Settore Servizi alla Persona',
        'VISTI:',
        'il Regolamento (UE) 2016/679',
        'come modificato dal Decreto legislativo 10 agosto 2018, n. 101',
        'l’art. 2-quaterdecies, comma 2, del D.Lgs. 196/2003',
        'e in particolare l’art. 6 («Soggetti incaricati al trattamento dei dati personali»)',
        'il decreto del Sindaco con il quale la sottoscritta dott.ssa Maria Rossi, Responsabile del Settore Servizi alla Persona, è stata nominata Designata',
        'CONSIDERATO',
        'Chiara Bassi, Istruttore amministrativo, assegnata al Settore Servizi alla Persona',
        'RITENUTO pertanto di autorizzare Chiara Bassi',
        'DISPONE',
        `di autorizzare Chiara Bassi (codice fiscale ${employee.taxCode}), Istruttore amministrativo in servizio presso il Settore Servizi alla Persona, al trattamento dei dati personali`,
        'Servizi sociali',
        'Cartella sociale informatizzata',
        'Fascicoli degli utenti',
        'le istruzioni per il trattamento dei dati personali contenute nell’Allegato A',
        `ha effetto ${withDate('dal', 'dall’', act?.date ?? '')} fino a revoca`,
        'nell’elenco dei soggetti autorizzati al trattamento del Settore Servizi alla Persona',
        'di notificare il presente atto, con l’Allegato A, all’autorizzata, che lo sottoscrive per ricevuta e accettazione',
        dpoOfTheEnte,
        placeAndDate(act),
        ...annex,
      ],
      signatures: [
        'La Designata al trattamento – Responsabile del Settore Servizi alla Persona',
        'Maria Rossi',
        'Per ricevuta e accettazione, l’autorizzata',
        'Chiara Bassi',
      ],
    });
  });

  it('revoca: the Designata revokes the autorizzazione by a numbered act of her register', async () => {
    const nomina = (await authorised()).acts[0];
    const appointment = await revoked();
    expect(appointment.status).to.equal('revoked');
    expect(appointment.endDate).to.equal(appointment.acts[1]?.date);
    expect(appointment.transitions.map((transition) => transition.to)).to.deep.equal([
      'draft',
      'issued',
      'revoked',
    ]);
    const act = appointment.acts[1];
    expect(act).to.include({ kind: 'revoca', registerKey: 'atti-designato' });
    expect(act?.number).to.be.above(nomina?.number ?? 0);
    const nominaEstremi = `n. ${nomina?.number} ${withDate('del', 'dell’', nomina?.date ?? '')}`;
    await expectAct(ente, act, {
      kind: 'Atto della Designata',
      phrases: [
        `OGGETTO: Revoca dell’atto di autorizzazione al trattamento dei dati personali ${nominaEstremi} – Chiara Bassi`,
        'LA DESIGNATA AL TRATTAMENTO',
        'Responsabile del Settore Servizi alla Persona',
        'VISTI:',
        'il Regolamento (UE) 2016/679',
        'come modificato dal Decreto legislativo 10 agosto 2018, n. 101',
        'il decreto del Sindaco con il quale la sottoscritta dott.ssa Maria Rossi',
        `l’atto di autorizzazione al trattamento dei dati personali ${nominaEstremi} (registro degli atti dei Designati)`,
        'CONSIDERATO che ricorrono i presupposti per la revoca, per la seguente motivazione: trasferimento della dipendente al Settore Tributi',
        'RITENUTO pertanto di procedere alla revoca',
        'DISPONE',
        `di revocare, per la motivazione espressa in premessa e con effetto ${withDate('dal', 'dall’', act?.date ?? '')}, l’atto di autorizzazione al trattamento dei dati personali ${nominaEstremi}`,
        'Chiara Bassi cessa dal ruolo',
        'la disattivazione delle credenziali di autenticazione',
        'di notificare il presente atto a Chiara Bassi, che lo sottoscrive per ricevuta',
        dpoOfTheEnte,
        placeAndDate(act),
      ],
      signatures: [
        'La Designata al trattamento – Responsabile del Settore Servizi alla Persona',
        'Maria Rossi',
        'Per ricevuta',
        'Chiara Bassi',
      ],
    });
  });

  /** Every act of this ente, whichever tests ran before, with its appointment. */
  async function allActs() {
    await Promise.all([rpd(), administrator(), processor(), subProcessor(), revoked()]);
    const listed = await call<AppointmentJson[]>('GET', '/api/v1/appointments?limit=200', {
      token: ente.token,
    });
    expect(listed.status).to.equal(200);
    return listed.body.flatMap((appointment) =>
      appointment.acts.map((act) => ({ appointment, act })),
    );
  }

  it('files acts of the Sindaco under decreti-sindaco and acts of a Designato under atti-designato, numbered 1, 2, 3… per register', async () => {
    const acts = await allActs();
    const year = acts[0]?.act.year ?? 0;
    for (const { appointment, act } of acts) {
      expect(act.registerKey, `${appointment.role} ${act.kind}`).to.equal(
        appointment.authority.kind === 'sindaco' ? 'decreti-sindaco' : 'atti-designato',
      );
      expect(act.year).to.equal(year);
    }
    for (const key of ['decreti-sindaco', 'atti-designato']) {
      const own = acts.filter(({ act }) => act.registerKey === key);
      const { entries, total } = await registerEntries(ente, key, year);
      expect(total, key).to.equal(own.length);
      expect(
        entries.map((entry) => entry.number),
        `${key}: consecutive from 1`,
      ).to.deep.equal(Array.from({ length: own.length }, (_, index) => index + 1));
      for (const entry of entries) {
        const match = own.find(({ act }) => act.number === entry.number);
        expect(match, `${key} n. ${entry.number}`).to.not.equal(undefined);
        expect(entry).to.include({
          actKey: `appointment:${match?.appointment.id}:${match?.act.kind}`,
          status: 'recorded',
          documentId: match?.act.documentId,
          date: match?.act.date,
        });
        expect(entry.subject).to.contain(match?.appointment.appointeeName);
      }
    }
    // The Designato's own decreto is the Sindaco's first act; the Designata's first is the autorizzazione.
    expect(designato.acts[0]).to.include({ registerKey: 'decreti-sindaco', number: 1 });
    expect((await authorised()).acts[0]).to.include({ registerKey: 'atti-designato', number: 1 });
    const sindaco = acts.filter(({ act }) => act.registerKey === 'decreti-sindaco');
    const designata = acts.filter(({ act }) => act.registerKey === 'atti-designato');
    expect(sindaco.length).to.be.at.least(7);
    expect(designata.map(({ appointment, act }) => [appointment.role, act.kind])).to.deep.include([
      'autorizzato',
      'revoca',
    ]);
  });

  it('lists the ente’s registers with their count, last number and no pending act', async () => {
    const acts = await allActs();
    const year = acts[0]?.act.year ?? 0;
    const response = await call<RegisterSummary[]>('GET', '/api/v1/registers', {
      token: ente.token,
    });
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    const count = (key: string) => acts.filter(({ act }) => act.registerKey === key).length;
    expect(response.body).to.deep.equal([
      {
        key: 'atti-designato',
        name: 'Atti del Designato',
        year,
        count: count('atti-designato'),
        lastNumber: count('atti-designato'),
        pending: 0,
      },
      {
        key: 'decreti-sindaco',
        name: 'Decreti del Sindaco',
        year,
        count: count('decreti-sindaco'),
        lastNumber: count('decreti-sindaco'),
        pending: 0,
      },
    ]);
  });
});

describe('appointments: a processor designated by the Designata', () => {
  it('is an act of the Designata, in atti-designato, naming her settore from her own decreto', async function () {
    this.timeout(60_000);
    const ente = await readyEnte();
    const designato = await issuedDesignato(ente);
    const emilia = await supplier(ente, emiliaDigitale);
    // No settoreIds: the Designata who adopts the act is known, and so is her settore.
    const response = await issue(
      ente,
      (
        await draft(ente, {
          role: 'responsabile-esterno',
          supplierId: emilia.id,
          authority: { kind: 'designato', appointmentId: designato.id },
          processor: processorTerms,
          processingActivityIds: [ente.activityId],
        })
      ).id,
    );
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    const [act] = response.body.acts;
    expect(act).to.include({ kind: 'nomina', registerKey: 'atti-designato', number: 1 });
    await expectAct(ente, act, {
      kind: 'Atto della Designata',
      phrases: [
        'OGGETTO: Designazione di Emilia Digitale S.r.l. quale Responsabile del trattamento dei dati personali',
        'LA DESIGNATA AL TRATTAMENTO',
        'Responsabile del Settore Servizi alla Persona',
        'VISTI:',
        'il decreto del Sindaco con il quale la sottoscritta dott.ssa Maria Rossi, Responsabile del Settore Servizi alla Persona, è stata nominata Designata al trattamento dei dati personali per i trattamenti di competenza del Settore Servizi alla Persona',
        'DISPONE',
        'di designare Emilia Digitale S.r.l.',
        ...article28Duties,
        'entro 48 ore dalla sua identificazione',
        'il presente atto costituisce parte integrante del contratto',
        placeAndDate(act),
      ],
      signatures: [
        'La Designata al trattamento – Responsabile del Settore Servizi alla Persona',
        'Maria Rossi',
        'Per accettazione, il legale rappresentante di Emilia Digitale S.r.l.',
        'Paolo Conti',
      ],
    });
  });
});
