/**
 * The shipped acts, each generated from its own schema's example through the
 * HTTP API and read back from the PDF and the DOCX as a user would read them:
 * every mandatory element is there, in order, with its accents and
 * typographic characters, and a missing mandatory field is refused with its path.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { call, newTenant, download } from '../support/http.js';
import {
  docxText,
  firstMissingInOrder,
  normalise,
  pdfText,
  qpdfCheck,
} from '../support/readers.js';

type Data = Record<string, unknown>;

interface DocumentResponse {
  id: string;
  title: string;
  documentType: string;
  template: { key: string; version: number };
  pageCount: number;
  links: { pdf: string; docx: string };
}

interface Problem {
  detail: string;
  invalidParams?: { name: string; reason: string }[];
}

interface TemplateSettings {
  title: string;
  documentType: string;
  register: string | null;
}

const templateKeys = [
  'nomina-designato',
  'autorizzazione-trattamento',
  'nomina-rpd',
  'designazione-amministratore-sistema',
  'designazione-responsabile-esterno',
  'autorizzazione-sub-responsabile',
  'revoca',
] as const;
type TemplateKey = (typeof templateKeys)[number];

function templateFile(key: TemplateKey, file: string): string {
  return readFileSync(new URL(`../../templates/${key}/${file}`, import.meta.url), 'utf8');
}

/** The first example of the template's own schema: the input the acts below are read from. */
function example(key: TemplateKey): Data {
  const schema = JSON.parse(templateFile(key, 'schema.json')) as { examples: Data[] };
  const first = schema.examples[0];
  if (!first) throw new Error(`${key}: schema without examples`);
  return structuredClone(first);
}

function settings(key: TemplateKey): TemplateSettings {
  return JSON.parse(templateFile(key, 'template.json')) as TemplateSettings;
}

function isRecord(value: unknown): value is Data {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Removes data.a.b.c, or sets it when a value is given. */
function change(data: Data, path: readonly string[], value?: unknown): Data {
  const parents = path.slice(0, -1);
  const last = path[path.length - 1];
  let target: unknown = data;
  for (const key of parents) target = isRecord(target) ? target[key] : undefined;
  if (!isRecord(target) || last === undefined) throw new Error(`no field ${path.join('.')}`);
  if (value === undefined) delete target[last];
  else target[last] = value;
  return data;
}

interface ActCase {
  name: string;
  key: TemplateKey;
  data: () => Data;
  /** The act's estremi, repeated in the footer of every page. */
  footer: string;
  /** The body, in reading order, as both the PDF and the DOCX must show it. */
  phrases: string[];
  /** Side by side on the page, so only their presence after the place and date counts. */
  signatures: string[];
}

const place = 'Calderara di Reno, ';

const acts: ActCase[] = [
  {
    name: 'nomina-designato: the reference decreto',
    key: 'nomina-designato',
    data: () => example('nomina-designato'),
    footer: 'Decreto del Sindaco n. 12 del 24 novembre 2026',
    phrases: [
      'DECRETO DEL SINDACO N. 12 DEL 24 NOVEMBRE 2026',
      'OGGETTO: Nomina della Designata al trattamento dei dati personali ai sensi dell’art. 2-quaterdecies del D.Lgs. 196/2003',
      'IL SINDACO',
      'VISTI:',
      'il Regolamento (UE) 2016/679 del Parlamento europeo e del Consiglio del 27 aprile 2016',
      'come modificato dal Decreto legislativo 10 agosto 2018, n. 101',
      'approvato con delibera consiliare n. 117 del 22-12-2020, e in particolare l’art. 5 («Designato del trattamento»)',
      'CONSIDERATO',
      'RITENUTO',
      'DECRETA',
      'di nominare la dott.ssa Maria Rossi, nata a Bologna il 1° marzo 1975',
      'Designata al trattamento dei dati personali',
      'Tenuta dell’anagrafe della popolazione residente',
      'ANPR – Anagrafe nazionale della popolazione residente',
      'coadiuvare nel censimento dei trattamenti',
      'ha effetto dalla data di notifica e coincide con la durata dell’incarico di posizione apicale, ai sensi dell’art. 5, comma 3, del Regolamento comunale',
      'Lepida S.c.p.A. (dpo-team@lepida.it)',
      'nella sezione «Amministrazione trasparente» del sito istituzionale',
      `${place}24 novembre 2026`,
    ],
    signatures: [
      'Il Sindaco',
      'Giampiero Falzone',
      'Per accettazione, la Designata',
      'Maria Rossi',
    ],
  },
  {
    name: 'nomina-designato: with decorrenza, scadenza and the decreto it supersedes',
    key: 'nomina-designato',
    data: () => ({
      ...example('nomina-designato'),
      decorrenza: '2027-01-01',
      scadenza: '2027-12-31',
      sostituisce: { numero: 3, data: '2026-01-08' },
    }),
    footer: 'Decreto del Sindaco n. 12 del 24 novembre 2026',
    phrases: [
      'DECRETO DEL SINDACO N. 12 DEL 24 NOVEMBRE 2026',
      'DECRETA',
      'di nominare la dott.ssa Maria Rossi',
      'in sostituzione del decreto del Sindaco n. 3 dell’8 gennaio 2026, che cessa di avere efficacia dalla decorrenza della presente nomina',
      'ha effetto dal 1° gennaio 2027 fino al 31 dicembre 2027 e comunque non oltre la durata dell’incarico di posizione apicale, ai sensi dell’art. 5, comma 3, del Regolamento comunale',
      `${place}24 novembre 2026`,
    ],
    signatures: ['Il Sindaco', 'Per accettazione, la Designata', 'Maria Rossi'],
  },
  {
    name: 'autorizzazione-trattamento: by the Designata, with the instructions annexed',
    key: 'autorizzazione-trattamento',
    data: () => example('autorizzazione-trattamento'),
    footer: 'Atto della Designata n. 27 del 24 novembre 2026',
    phrases: [
      'ATTO DELLA DESIGNATA N. 27 DEL 24 NOVEMBRE 2026',
      'OGGETTO: Autorizzazione al trattamento dei dati personali ai sensi dell’art. 29 del Regolamento (UE) 2016/679 e dell’art. 2-quaterdecies del D.Lgs. 196/2003 – Luca Bianchi, Istruttore amministrativo dell’Ufficio Anagrafe – Settore Servizi Demografici.',
      'LA DESIGNATA AL TRATTAMENTO',
      'Responsabile del Settore Servizi Demografici',
      'VISTI:',
      'Regolamento (UE) 2016/679',
      'come modificato dal Decreto legislativo 10 agosto 2018, n. 101',
      'l’art. 2-quaterdecies, comma 2, del D.Lgs. 196/2003',
      'approvato con delibera consiliare n. 117 del 22-12-2020, e in particolare l’art. 6 («Soggetti incaricati al trattamento dei dati personali»)',
      'la sottoscritta dott.ssa Maria Rossi, Responsabile del Settore Servizi Demografici, è stata nominata Designata',
      'CONSIDERATO',
      'l’art. 32, par. 4, del Regolamento (UE) 2016/679',
      'RITENUTO pertanto di autorizzare Luca Bianchi',
      'DISPONE',
      'di autorizzare Luca Bianchi (codice fiscale BNCLCU88E12A944A), Istruttore amministrativo dell’Ufficio Anagrafe in servizio presso il Settore Servizi Demografici, al trattamento dei dati personali ai sensi dell’art. 29 del Regolamento (UE) 2016/679',
      'Rilascio della carta d’identità elettronica',
      'Archivio cartaceo delle pratiche anagrafiche',
      'di impartire all’autorizzato le istruzioni per il trattamento dei dati personali contenute nell’Allegato A',
      'ha effetto dal 1° dicembre 2026 fino a revoca',
      'di iscrivere l’autorizzato nell’elenco dei soggetti autorizzati al trattamento del Settore Servizi Demografici',
      'di notificare il presente atto, con l’Allegato A, all’autorizzato, che lo sottoscrive per ricevuta e accettazione',
      'Lepida S.c.p.A. (dpo-team@lepida.it)',
      `${place}24 novembre 2026`,
      'Allegato A – Istruzioni per il trattamento dei dati personali',
      'Atto della Designata n. 27 del 24 novembre 2026',
      'Luca Bianchi, autorizzato al trattamento dei dati personali',
      'custodire con cura le credenziali di autenticazione',
      'osservare la regola della «scrivania pulita»',
      'in armadi o cassetti chiusi a chiave',
      'in nessun caso su dispositivi, supporti di memoria, caselle di posta elettronica o servizi cloud personali',
      'segnalare immediatamente al Designato al trattamento qualsiasi violazione dei dati personali',
      'inoltrare senza ritardo al Designato al trattamento le richieste degli interessati',
    ],
    signatures: [
      'La Designata al trattamento – Responsabile del Settore Servizi Demografici',
      'Maria Rossi',
      'Per ricevuta e accettazione, l’autorizzato',
      'Luca Bianchi',
      'Per ricevuta e presa visione delle istruzioni, l’autorizzato',
    ],
  },
  {
    name: 'nomina-rpd: a company as DPO, with its referente',
    key: 'nomina-rpd',
    data: () => example('nomina-rpd'),
    footer: 'Decreto del Sindaco n. 14 dell’11 dicembre 2026',
    phrases: [
      'DECRETO DEL SINDACO N. 14 DELL’11 DICEMBRE 2026',
      'OGGETTO: Designazione di Lepida S.c.p.A. quale Responsabile della protezione dei dati personali (RPD/DPO) ai sensi dell’art. 37 del Regolamento (UE) 2016/679 e dell’art. 8 del Regolamento comunale',
      'IL SINDACO',
      'VISTI:',
      'l’art. 37, par. 1, lett. a), del Regolamento (UE) 2016/679',
      'come modificato dal Decreto legislativo 10 agosto 2018, n. 101',
      'approvato con delibera consiliare n. 117 del 22-12-2020, e in particolare l’art. 8 («Responsabile della protezione dei dati (D.P.O.)»)',
      'determinazione del Responsabile del Settore Affari Generali n. 512 del 15-12-2025',
      'CONSIDERATO che, ai sensi dell’art. 37, par. 5, del Regolamento (UE) 2016/679',
      'Lepida S.c.p.A., nella persona dell’avv. Anna Ferri',
      'possiede le qualità professionali richieste, in quanto: la società, in house',
      'RITENUTO',
      'DECRETA',
      'di designare Lepida S.c.p.A., nella persona dell’avv. Anna Ferri',
      'Responsabile della protezione dei dati personali (RPD/DPO)',
      'posta elettronica: dpo-team@lepida.it',
      'posta elettronica certificata (PEC): segreteria@pec.lepida.it',
      'telefono: 051 6338800',
      'ai sensi dell’art. 39, par. 1, del Regolamento (UE) 2016/679',
      'informare e fornire consulenza al Titolare del trattamento',
      'sorvegliare l’osservanza del GDPR',
      'fornire, se richiesto, un parere in merito alla valutazione d’impatto',
      'cooperare con il Garante per la protezione dei dati personali',
      'fungere da punto di contatto per il Garante',
      'art. 38, par. 4, del Regolamento (UE) 2016/679',
      'ai sensi dell’art. 38 del GDPR, l’indipendenza del RPD e le risorse necessarie',
      'non riceva alcuna istruzione per quanto riguarda l’esecuzione dei propri compiti',
      'ha effetto dal 1° gennaio 2027 fino al 31 dicembre 2028, salvo revoca motivata',
      'di comunicare i dati di contatto del RPD al Garante per la protezione dei dati personali, ai sensi dell’art. 37, par. 7, del Regolamento (UE) 2016/679, mediante la procedura telematica',
      'nella sezione «Amministrazione trasparente»',
      'di notificare il presente decreto al RPD, Lepida S.c.p.A. (segreteria@pec.lepida.it), che lo sottoscrive per accettazione',
      `${place}11 dicembre 2026`,
    ],
    signatures: [
      'Il Sindaco',
      'Giampiero Falzone',
      'Per accettazione, la referente per Lepida S.c.p.A.',
      'Anna Ferri',
    ],
  },
  {
    name: 'designazione-amministratore-sistema: by the Sindaco',
    key: 'designazione-amministratore-sistema',
    data: () => example('designazione-amministratore-sistema'),
    footer: 'Decreto del Sindaco n. 15 dell’8 dicembre 2026',
    phrases: [
      'DECRETO DEL SINDACO N. 15 DELL’8 DICEMBRE 2026',
      'OGGETTO: Designazione individuale dell’ing. Giulia Neri quale amministratore di sistema ai sensi del provvedimento del Garante per la protezione dei dati personali del 27 novembre 2008, come modificato dal provvedimento del 25 giugno 2009.',
      'IL SINDACO',
      'VISTI:',
      'Regolamento (UE) 2016/679',
      'come modificato dal Decreto legislativo 10 agosto 2018, n. 101',
      '«Misure e accorgimenti prescritti ai titolari dei trattamenti effettuati con strumenti elettronici relativamente alle attribuzioni delle funzioni di amministratore di sistema» (G.U. n. 300 del 24 dicembre 2008)',
      'approvato con delibera consiliare n. 117 del 22-12-2020, e in particolare l’art. 23',
      'CONSIDERATO',
      'previa valutazione dell’esperienza, della capacità e dell’affidabilità',
      'RITENUTO',
      'DECRETA',
      'di designare l’ing. Giulia Neri, sistemista del Servizio Informatico Associato Terred’acqua (SIAT), amministratore di sistema',
      'Rete locale, firewall e VPN',
      'di attribuire all’ing. Giulia Neri le seguenti funzioni di amministratore di sistema',
      'gestione delle utenze, delle credenziali e dei profili di autorizzazione',
      'access log',
      'completezza, inalterabilità e possibilità di verifica della loro integrità',
      'conservati per un periodo non inferiore a 12 mesi, superiore al minimo di sei mesi prescritto dal provvedimento',
      'oggetto di verifica con cadenza almeno annuale, entro il 31 gennaio di ogni anno',
      'soggetto incaricato della verifica: il Designato al trattamento del Settore Affari Generali',
      'nell’elenco degli amministratori di sistema, tenuto costantemente aggiornato',
      'ha effetto dal 1° gennaio 2027 fino a revoca',
      'di notificare il presente decreto all’ing. Giulia Neri, che lo sottoscrive per accettazione',
      'Lepida S.c.p.A. (dpo-team@lepida.it)',
      `${place}8 dicembre 2026`,
    ],
    signatures: [
      'Il Sindaco',
      'Giampiero Falzone',
      'Per accettazione, l’amministratore di sistema',
      'Giulia Neri',
    ],
  },
  {
    name: 'designazione-responsabile-esterno: by the Designata, with art. 28(3) a)–h)',
    key: 'designazione-responsabile-esterno',
    data: () => example('designazione-responsabile-esterno'),
    footer: 'Atto della Designata n. 16 del 30 novembre 2026',
    phrases: [
      'ATTO DELLA DESIGNATA N. 16 DEL 30 NOVEMBRE 2026',
      'OGGETTO: Designazione di Emilia Digitale S.r.l. quale Responsabile del trattamento dei dati personali ai sensi dell’art. 28 del Regolamento (UE) 2016/679 – Servizio di conservazione digitale',
      '(CIG B4C2D7E91F).',
      'LA DESIGNATA AL TRATTAMENTO',
      'VISTI:',
      'come modificato dal Decreto legislativo 10 agosto 2018, n. 101',
      'e in particolare l’art. 7 («Responsabili esterni di trattamento»)',
      'con il compito di designare i responsabili esterni del trattamento',
      'affidato a Emilia Digitale S.r.l. con determinazione del Responsabile del Settore Servizi Demografici n. 412 del 3-11-2026 (CIG B4C2D7E91F)',
      'CONSIDERATO',
      'ai sensi dell’art. 28, par. 1, del Regolamento (UE) 2016/679',
      'RITENUTO',
      'DISPONE',
      'di designare Emilia Digitale S.r.l., con sede in Via della Liberazione 15, 40128 Bologna (BO), partita IVA 03123456786, PEC emiliadigitale@pec.it, in persona del legale rappresentante pro tempore Paolo Conti',
      'Responsabile del trattamento',
      'materia disciplinata, cioè i trattamenti affidati:',
      'Conservazione digitale degli atti e dei registri',
      'natura e finalità del trattamento: raccolta, registrazione, conservazione',
      'tipo di dati personali:',
      'dati di stato civile e di cittadinanza',
      'categorie di interessati:',
      'cittadini residenti e iscritti all’AIRE',
      'durata: dal 1° gennaio 2027 fino al 31 dicembre 2029',
      'ai sensi dell’art. 28, par. 3, del Regolamento (UE) 2016/679:',
      'tratta i dati personali soltanto su istruzione documentata del Titolare, anche in caso di trasferimento di dati personali verso un paese terzo',
      'si siano impegnate alla riservatezza o abbiano un adeguato obbligo legale di riservatezza',
      'adotta tutte le misure tecniche e organizzative richieste ai sensi dell’art. 32 del GDPR',
      'vi ricorre solo previa autorizzazione scritta, specifica o generale, del Titolare',
      'il Titolare può opporvisi entro 30 giorni',
      'gli stessi obblighi in materia di protezione dei dati',
      'conserva nei confronti del Titolare l’intera responsabilità',
      'richieste per l’esercizio dei diritti dell’interessato di cui al capo III del GDPR',
      'obblighi di cui agli artt. da 32 a 36 del GDPR',
      'su scelta del Titolare, cancella o gli restituisce tutti i dati personali',
      'consente e contribuisce alle attività di revisione, comprese le ispezioni',
      'ai sensi dell’art. 7 del Regolamento comunale, inoltre:',
      'entro 48 ore dalla sua identificazione',
      'designa gli amministratori di sistema',
      'con cadenza almeno annuale',
      'formazione periodica',
      'ai sensi dell’art. 30, par. 2, del Regolamento (UE) 2016/679',
      'di riservare al Titolare il diritto',
      'il presente atto costituisce parte integrante del contratto',
      'Lepida S.c.p.A. (dpo-team@lepida.it)',
      `${place}30 novembre 2026`,
    ],
    signatures: [
      'La Designata al trattamento – Responsabile del Settore Servizi Demografici',
      'Maria Rossi',
      'Per accettazione, il legale rappresentante di Emilia Digitale S.r.l.',
      'Paolo Conti',
    ],
  },
  {
    name: 'autorizzazione-sub-responsabile: a specific authorisation by the Sindaco',
    key: 'autorizzazione-sub-responsabile',
    data: () => example('autorizzazione-sub-responsabile'),
    footer: 'Decreto del Sindaco n. 17 del 14 dicembre 2026',
    phrases: [
      'DECRETO DEL SINDACO N. 17 DEL 14 DICEMBRE 2026',
      'OGGETTO: Autorizzazione specifica a Emilia Digitale S.r.l., Responsabile del trattamento, al ricorso a Nord Data Center S.p.A. quale sub-responsabile del trattamento ai sensi dell’art. 28, par. 2, del Regolamento (UE) 2016/679',
      'IL SINDACO',
      'VISTI:',
      'e in particolare l’art. 28, paragrafi 2 e 4',
      'come modificato dal Decreto legislativo 10 agosto 2018, n. 101',
      'approvato con delibera consiliare n. 117 del 22-12-2020, e in particolare l’art. 7 («Responsabili esterni di trattamento»)',
      'CONSIDERATO',
      'RITENUTO',
      'DECRETA',
      'di autorizzare Emilia Digitale S.r.l. (partita IVA 03123456786)',
      'a ricorrere a Nord Data Center S.p.A., con sede in Via Giovanni Battista Pirelli 30, 20124 Milano (MI), partita IVA 04987654326',
      'hosting dell’infrastruttura cloud qualificata',
      'la presente autorizzazione è specifica',
      'richiede una nuova autorizzazione scritta del Titolare',
      'gli stessi obblighi in materia di protezione dei dati personali contenuti nell’atto di designazione del Responsabile',
      'ai sensi dell’art. 28, par. 4, del Regolamento (UE) 2016/679, qualora il Sub-responsabile ometta di adempiere ai propri obblighi in materia di protezione dei dati, il Responsabile conserva nei confronti del Titolare l’intera responsabilità',
      'ha effetto dal 1° gennaio 2027',
      'Lepida S.c.p.A. (dpo-team@lepida.it)',
      `${place}14 dicembre 2026`,
    ],
    signatures: [
      'Il Sindaco',
      'Giampiero Falzone',
      'Per accettazione, il legale rappresentante del Responsabile del trattamento',
      'Emilia Digitale S.r.l.',
    ],
  },
  {
    name: 'revoca: of a Designata’s decreto, with her successor',
    key: 'revoca',
    data: () => example('revoca'),
    footer: 'Decreto del Sindaco n. 21 del 22 dicembre 2026',
    phrases: [
      'DECRETO DEL SINDACO N. 21 DEL 22 DICEMBRE 2026',
      'OGGETTO: Revoca del decreto di nomina del Designato al trattamento dei dati personali n. 12 del 24 novembre 2026 – Maria Rossi, Designata al trattamento dei dati personali del Settore Servizi Demografici.',
      'IL SINDACO',
      'VISTI:',
      'Regolamento (UE) 2016/679',
      'come modificato dal Decreto legislativo 10 agosto 2018, n. 101',
      'approvato con delibera consiliare n. 117 del 22-12-2020, e in particolare l’art. 5',
      'il decreto di nomina del Designato al trattamento dei dati personali n. 12 del 24 novembre 2026 (registro dei decreti del Sindaco)',
      'CONSIDERATO che ricorrono i presupposti per la revoca, per la seguente motivazione: la cessazione, dal 31 dicembre 2026, dell’incarico di posizione apicale',
      'RITENUTO',
      'DECRETA',
      'di revocare, per la motivazione espressa in premessa e con effetto dal 1° gennaio 2027, il decreto di nomina',
      'Maria Rossi cessa dal ruolo di Designata al trattamento dei dati personali del Settore Servizi Demografici',
      'Maria Rossi è contestualmente sostituita nel ruolo da Stefano Galli',
      'la disattivazione delle credenziali di autenticazione e la revoca dei profili di autorizzazione e dei diritti di accesso',
      'l’aggiornamento del registro delle attività di trattamento',
      'di notificare il presente decreto a Maria Rossi, che lo sottoscrive per ricevuta',
      'al Responsabile della protezione dei dati (RPD), Lepida S.c.p.A. (dpo-team@lepida.it)',
      'di disporre la pubblicazione del presente decreto all’Albo pretorio online e nella sezione «Amministrazione trasparente»',
      `${place}22 dicembre 2026`,
    ],
    signatures: ['Il Sindaco', 'Giampiero Falzone', 'Per ricevuta', 'Maria Rossi'],
  },
];

interface MissingCase {
  /** The field to remove, or to set to `value`. */
  path: string[];
  value?: unknown;
  /** What invalidParams must name. */
  name: string;
}

/** Mandatory fields of each template; conditional ones are asked of the example's own values. */
const missingFields: Record<TemplateKey, MissingCase[]> = {
  'nomina-designato': [
    { path: ['designato', 'qualifica'], name: 'data.designato.qualifica' },
    { path: ['rpd'], name: 'data.rpd' },
    { path: ['sostituisce'], value: { numero: 3 }, name: 'data.sostituisce.data' },
  ],
  'autorizzazione-trattamento': [
    { path: ['istruzioni'], name: 'data.istruzioni' },
    { path: ['istruzioni'], value: [], name: 'data.istruzioni' },
    { path: ['autorizzato', 'qualifica'], name: 'data.autorizzato.qualifica' },
    { path: ['autorita', 'settore'], name: 'data.autorita.settore' },
    { path: ['decorrenza'], name: 'data.decorrenza' },
  ],
  'nomina-rpd': [
    { path: ['requisiti'], name: 'data.requisiti' },
    { path: ['designazione', 'referente'], name: 'data.designazione.referente' },
    { path: ['designazione', 'tipo'], value: 'persona', name: 'data.designazione.genere' },
    { path: ['designazione', 'email'], name: 'data.designazione.email' },
  ],
  'designazione-amministratore-sistema': [
    { path: ['funzioni'], name: 'data.funzioni' },
    { path: ['verificaAnnuale'], name: 'data.verificaAnnuale' },
    { path: ['verificaAnnuale', 'termine'], name: 'data.verificaAnnuale.termine' },
    { path: ['conservazioneLogMesi'], value: 3, name: 'data.conservazioneLogMesi' },
    { path: ['amministratore', 'qualifica'], name: 'data.amministratore.qualifica' },
  ],
  'designazione-responsabile-esterno': [
    { path: ['naturaFinalita'], name: 'data.naturaFinalita' },
    { path: ['categorieInteressati'], name: 'data.categorieInteressati' },
    { path: ['responsabile', 'partitaIva'], name: 'data.responsabile.partitaIva' },
    { path: ['autorita', 'qualifica'], name: 'data.autorita.qualifica' },
  ],
  'autorizzazione-sub-responsabile': [
    { path: ['tipoAutorizzazione'], name: 'data.tipoAutorizzazione' },
    { path: ['subResponsabile', 'sede'], name: 'data.subResponsabile.sede' },
    { path: ['attivita'], value: [], name: 'data.attivita' },
    { path: ['rpd', 'contatto'], name: 'data.rpd.contatto' },
  ],
  revoca: [
    { path: ['motivo'], name: 'data.motivo' },
    { path: ['attoRevocato', 'numero'], name: 'data.attoRevocato.numero' },
    { path: ['decorrenza'], name: 'data.decorrenza' },
    { path: ['ruolo'], name: 'data.ruolo' },
  ],
};

describe('the acts of the appointments', () => {
  let token: string;

  before(async () => {
    token = (await newTenant('Comune di Calderara di Reno')).token;
  });

  for (const act of acts) {
    it(`${act.name}: every mandatory element, in order, in the PDF and the DOCX`, async function () {
      this.timeout(60_000);
      const created = await call<DocumentResponse>('POST', '/api/v1/documents', {
        token,
        json: { template: act.key, data: act.data() },
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(created.body.template.key).to.equal(act.key);
      expect(created.body.documentType).to.equal(settings(act.key).documentType);
      expect(created.body.title).to.contain(act.footer);

      const pdf = await download(created.body.links.pdf, token);
      await qpdfCheck(pdf);
      const text = await pdfText(pdf);
      const flat = normalise(text);
      expect(flat, 'letterhead').to.contain('COMUNE DI CALDERARA DI RENO');
      expect(flat, 'intestazione').to.contain('Città metropolitana di Bologna');
      expect(firstMissingInOrder(text, act.phrases), 'PDF phrase missing or out of order').to.equal(
        undefined,
      );
      const afterDate = flat.slice(flat.lastIndexOf(place));
      expect(
        act.signatures.filter((phrase) => !afterDate.includes(phrase)),
        'PDF signature block after the place and date',
      ).to.deep.equal([]);
      for (let page = 1; page <= created.body.pageCount; page += 1) {
        expect(flat, `footer of page ${page}`).to.contain(
          `${act.footer} – pagina ${page} di ${created.body.pageCount}`,
        );
      }

      const wordText = await docxText(await download(created.body.links.docx, token));
      expect(
        firstMissingInOrder(wordText, act.phrases),
        'DOCX phrase missing or out of order',
      ).to.equal(undefined);
      const wordFlat = normalise(wordText);
      const wordAfterDate = wordFlat.slice(wordFlat.lastIndexOf(place));
      expect(
        act.signatures.filter((phrase) => !wordAfterDate.includes(phrase)),
        'DOCX signature block after the place and date',
      ).to.deep.equal([]);
    });
  }

  for (const key of templateKeys) {
    it(`${key}: a missing mandatory field is refused with 422 naming its path`, async () => {
      for (const missing of missingFields[key]) {
        const data = change(example(key), missing.path, missing.value);
        const response = await call<Problem>('POST', '/api/v1/documents', {
          token,
          json: { template: key, data },
        });
        const label = `${key} without ${missing.path.join('.')}`;
        expect(response.status, label).to.equal(422);
        expect(
          (response.body.invalidParams ?? []).map((param) => param.name),
          label,
        ).to.include(missing.name);
      }
    });
  }

  it('ships the register and document type each act is filed under', () => {
    expect(
      templateKeys.map((key) => [key, settings(key).documentType, settings(key).register]),
    ).to.deep.equal([
      ['nomina-designato', 'decreto-nomina', 'decreti-sindaco'],
      ['autorizzazione-trattamento', 'atto-autorizzazione', 'atti-designato'],
      ['nomina-rpd', 'decreto-nomina', 'decreti-sindaco'],
      ['designazione-amministratore-sistema', 'decreto-nomina', 'decreti-sindaco'],
      ['designazione-responsabile-esterno', 'contratto-responsabile', 'decreti-sindaco'],
      ['autorizzazione-sub-responsabile', 'contratto-responsabile', 'decreti-sindaco'],
      ['revoca', 'decreto-revoca', 'decreti-sindaco'],
    ]);
  });

  it('gives the autorizzazione example the standard instructions for authorised persons', () => {
    const standard = JSON.parse(
      readFileSync(new URL('../../data/atti/istruzioni-autorizzati.json', import.meta.url), 'utf8'),
    ) as unknown;
    expect(standard).to.be.an('array').with.length.within(12, 20);
    expect(example('autorizzazione-trattamento').istruzioni).to.deep.equal(standard);
  });
});
