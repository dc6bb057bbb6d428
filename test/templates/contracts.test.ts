/**
 * The privacy contracts: the tender clause in its three roles, the art. 28
 * contract in the structure of the EU standard contractual clauses
 * (Decision 2021/915) and the art. 26 joint-controller agreement. Each is
 * generated through the HTTP API and read back from the PDF and the DOCX:
 * every mandatory element is there, in order, each role prints its own duties,
 * and each missing required field is refused with 422 naming its path.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
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
  title: string;
  documentType: string;
  template: { key: string; version: number };
  pageCount: number;
  links: { pdf: string; docx: string };
}

interface Problem {
  invalidParams?: { name: string; reason: string }[];
}

const templateKeys = ['clausola-gara', 'contratto-responsabile', 'accordo-contitolarita'] as const;
type TemplateKey = (typeof templateKeys)[number];

function templateFile(key: TemplateKey, file: string): string {
  return readFileSync(new URL(`../../templates/${key}/${file}`, import.meta.url), 'utf8');
}

function schemaOf(key: TemplateKey): { examples: Data[] } {
  return JSON.parse(templateFile(key, 'schema.json')) as { examples: Data[] };
}

/** The first example of the template's own schema. */
function example(key: TemplateKey): Data {
  const first = schemaOf(key).examples[0];
  if (!first) throw new Error(`${key}: schema without examples`);
  return structuredClone(first);
}

function isRecord(value: unknown): value is Data {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function child(value: unknown, key: string): unknown {
  if (Array.isArray(value)) return value[Number(key)];
  return isRecord(value) ? value[key] : undefined;
}

/** Removes data.a.0.b, or sets it when a value is given; array indexes are allowed on the way. */
function change(data: Data, path: readonly string[], value?: unknown): Data {
  const target = path.slice(0, -1).reduce<unknown>(child, data);
  const last = path[path.length - 1];
  if (!isRecord(target) || last === undefined) throw new Error(`no field ${path.join('.')}`);
  if (value === undefined) delete target[last];
  else target[last] = value;
  return data;
}

/** Every field path the example fills in: object keys, and the first item of each list. */
function filledPaths(value: unknown, prefix: string[] = []): string[][] {
  const paths: string[][] = [];
  if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      paths.push([...prefix, key], ...filledPaths(item, [...prefix, key]));
    }
  } else if (Array.isArray(value) && value.length > 0) {
    paths.push(...filledPaths(value[0], [...prefix, '0']));
  }
  return paths;
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);

/** The example's fields the schema cannot do without: the example stops validating without them. */
function requiredPaths(key: TemplateKey): string[] {
  const validate = ajv.compile(schemaOf(key));
  return filledPaths(example(key))
    .filter((path) => !validate(change(example(key), path)))
    .map((path) => path.join('.'));
}

interface ContractCase {
  name: string;
  key: TemplateKey;
  data: () => Data;
  /** Repeated in the footer of every page. */
  footer: string;
  /** The body, in reading order, as both the PDF and the DOCX must show it. */
  phrases: string[];
  /** Printed for other variants only: must not be there. */
  absent?: string[];
  /** The place and date line the signatures follow. */
  placeDate: string;
  /** Side by side after the place and date (and before any annex). */
  signatures: string[];
  /** Annex headings, each on a page of its own after the signatures. */
  annexes?: string[];
}

const responsabileDuties = [
  'In qualità di Responsabile del trattamento l’Aggiudicatario, ai sensi dell’art. 28, par. 3, del Regolamento (UE) 2016/679:',
  'a) tratta i dati personali soltanto su istruzione documentata dell’Ente',
  'b) garantisce che le persone autorizzate al trattamento si siano impegnate alla riservatezza',
  'c) adotta tutte le misure tecniche e organizzative richieste ai sensi dell’art. 32 del GDPR',
  'd) ricorre a un altro responsabile (sub-responsabile) solo previa autorizzazione scritta',
  'l’Ente può opporsi entro 30 giorni',
  'e) assiste l’Ente con misure tecniche e organizzative adeguate',
  'f) assiste l’Ente nel garantire il rispetto degli obblighi di cui agli artt. da 32 a 36 del GDPR',
  'g) al termine della prestazione, su scelta dell’Ente, cancella o restituisce tutti i dati personali',
  'h) mette a disposizione dell’Ente tutte le informazioni necessarie',
  'Inoltre, ai sensi dell’art. 7 del Regolamento dell’ente, l’Aggiudicatario:',
  'notifica all’Ente ogni violazione dei dati personali entro 48 ore dalla sua identificazione',
  'designa gli amministratori di sistema',
  'verifica con cadenza almeno annuale l’efficacia delle misure',
  'forma periodicamente le persone autorizzate al trattamento',
  'ai sensi dell’art. 30, par. 2, del Regolamento (UE) 2016/679',
];
const contitolareDuties = [
  'In qualità di Contitolare del trattamento l’Aggiudicatario:',
  'stipula con l’Ente, prima dell’avvio dei trattamenti, l’accordo di contitolarità previsto dall’art. 26, par. 1, del Regolamento (UE) 2016/679',
  'con particolare riguardo all’esercizio dei diritti degli interessati e agli obblighi di informazione di cui agli artt. 13 e 14 del GDPR',
  'concorda con l’Ente il punto di contatto per gli interessati',
  'il contenuto essenziale dell’accordo è messo a disposizione dell’interessato, ai sensi dell’art. 26, par. 2',
  'l’interessato può esercitare i propri diritti nei confronti di e contro ciascun contitolare, ai sensi dell’art. 26, par. 3',
];
const autonomoDuties = [
  'In qualità di Titolare autonomo del trattamento l’Aggiudicatario:',
  'osserva in proprio tutti gli obblighi che il GDPR pone in capo al titolare del trattamento',
  'l’informativa agli interessati ai sensi degli artt. 13 e 14',
  'notifica al Garante per la protezione dei dati personali e comunica agli interessati, quando dovuto, le violazioni dei dati personali di cui è titolare',
  'mantiene la riservatezza sulle informazioni e sui dati di cui venga a conoscenza',
];

const clausePlaceDate = 'Calderara di Reno, 15 ottobre 2026';
const clauseHead = [
  'Allegato al bando – Clausola in materia di protezione dei dati personali',
  'Procedura',
  'procedura aperta',
  'Servizio di refezione scolastica per gli anni scolastici 2027/2028 e 2028/2029',
  'CIG',
  'B1234567C8',
];
const clauseData = [
  '3. Dati personali e interessati',
  '3.1. Gestione delle iscrizioni al servizio di refezione scolastica',
  'Finalità: erogazione del servizio di refezione scolastica; somministrazione di diete speciali per motivi sanitari o religiosi.',
  'Categorie di dati personali: dati anagrafici e di contatto; dati relativi alla salute (allergie e intolleranze alimentari)',
  'Categorie di interessati: alunni iscritti al servizio; genitori o tutori degli alunni.',
  '3.2. Riscossione delle tariffe dei servizi scolastici',
];
const clauseEnd = [
  'La partecipazione alla procedura comporta l’accettazione integrale della presente clausola',
  '6. Trattamento dei dati dei partecipanti',
  'Il Responsabile della protezione dei dati dell’Ente è Lepida S.c.p.A., contattabile all’indirizzo dpo-team@lepida.it',
  clausePlaceDate,
];

const contractFooter = 'Contratto per il trattamento dei dati personali n. 3 del 18 dicembre 2026';
const agreementFooter = 'Accordo di contitolarità n. 2 dell’11 dicembre 2026';

const cases: ContractCase[] = [
  {
    name: 'clausola-gara: the awardee as Responsabile (art. 28), with lots',
    key: 'clausola-gara',
    data: () => example('clausola-gara'),
    footer: 'Clausola privacy – CIG B1234567C8',
    phrases: [
      ...clauseHead,
      'Lotto n. 1 – CIG B1234567C9 – Scuole dell’infanzia',
      'Lotto n. 2 – CIG B1234567D0 – Scuole primarie e secondarie di primo grado',
      'Ruolo privacy dell’aggiudicatario',
      'Responsabile del trattamento (art. 28 del Regolamento (UE) 2016/679)',
      '1. Oggetto della clausola',
      'procedura aperta avente ad oggetto «Servizio di refezione scolastica',
      '(CIG B1234567C8), e si applica a ciascuno dei lotti',
      'dell’art. 7, comma 5, del Regolamento dell’ente per la protezione dei dati personali',
      '2. Ruolo dell’Aggiudicatario',
      'assumerà il ruolo di Responsabile del trattamento ai sensi dell’art. 28 del Regolamento (UE) 2016/679',
      'L’Ente resta Titolare del trattamento ai sensi dell’art. 4, n. 7), del Regolamento (UE) 2016/679',
      ...clauseData,
      '4. Obblighi dell’Aggiudicatario',
      ...responsabileDuties,
      '5. Aggiudicazione e accettazione',
      'L’aggiudicazione comporta la designazione dell’Aggiudicatario quale Responsabile del trattamento',
      'previsto dall’art. 28, par. 3, del Regolamento (UE) 2016/679',
      'dichiara di presentare garanzie sufficienti',
      ...clauseEnd,
    ],
    absent: [
      'Contitolare del trattamento',
      'accordo di contitolarità',
      'Titolare autonomo',
      'osserva in proprio',
    ],
    placeDate: clausePlaceDate,
    signatures: [],
  },
  {
    name: 'clausola-gara: the awardee as Contitolare (art. 26)',
    key: 'clausola-gara',
    data: () => ({ ...example('clausola-gara'), ruolo: 'contitolare' }),
    footer: 'Clausola privacy – CIG B1234567C8',
    phrases: [
      ...clauseHead,
      'Contitolare del trattamento (art. 26 del Regolamento (UE) 2016/679)',
      '2. Ruolo dell’Aggiudicatario',
      'determinerà congiuntamente con l’Ente le finalità e i mezzi dei trattamenti indicati al punto 3',
      'assumerà il ruolo di Contitolare del trattamento ai sensi dell’art. 26 del Regolamento (UE) 2016/679',
      ...clauseData.slice(0, 1),
      'L’esecuzione del contratto comporta i seguenti trattamenti, svolti in contitolarità con l’Ente:',
      ...clauseData.slice(1),
      '4. Obblighi dell’Aggiudicatario',
      ...contitolareDuties,
      '5. Aggiudicazione e accettazione',
      'L’aggiudicazione comporta la stipula dell’accordo di contitolarità ai sensi dell’art. 26 del Regolamento (UE) 2016/679',
      ...clauseEnd,
    ],
    absent: [
      'a) tratta i dati personali soltanto su istruzione documentata',
      'Responsabile del trattamento (art. 28',
      'amministratori di sistema',
      'Titolare autonomo',
      'osserva in proprio',
    ],
    placeDate: clausePlaceDate,
    signatures: [],
  },
  {
    name: 'clausola-gara: the awardee as Titolare autonomo, no lots and no processing of the ente',
    key: 'clausola-gara',
    data: () => {
      const data = example('clausola-gara');
      change(data, ['gara', 'lotti']);
      change(data, ['trattamenti']);
      return { ...data, ruolo: 'titolare-autonomo' };
    },
    footer: 'Clausola privacy – CIG B1234567C8',
    phrases: [
      ...clauseHead,
      'Titolare autonomo del trattamento (art. 4, n. 7), del Regolamento (UE) 2016/679)',
      'assumerà il ruolo di Titolare autonomo del trattamento ai sensi dell’art. 4, n. 7), del Regolamento (UE) 2016/679',
      'non è designato Responsabile del trattamento',
      '3. Dati personali e interessati',
      'L’Ente non affida all’Aggiudicatario trattamenti di dati personali di cui sia titolare',
      '4. Obblighi dell’Aggiudicatario',
      ...autonomoDuties,
      '5. Aggiudicazione e accettazione',
      'L’aggiudicazione rende vincolanti gli obblighi del punto 4 come obblighi contrattuali dell’Aggiudicatario',
      ...clauseEnd,
    ],
    absent: [
      'Lotto n.',
      'a) tratta i dati personali soltanto su istruzione documentata',
      'accordo di contitolarità',
      'amministratori di sistema',
      'Gestione delle iscrizioni',
    ],
    placeDate: clausePlaceDate,
    signatures: [],
  },
  {
    name: 'contratto-responsabile: general authorisation of sub-processors, a Designata signs',
    key: 'contratto-responsabile',
    data: () => example('contratto-responsabile'),
    footer: contractFooter,
    phrases: [
      'CONTRATTO PER IL TRATTAMENTO DEI DATI PERSONALI N. 3 DEL 18 DICEMBRE 2026',
      'ai sensi dell’art. 28, par. 3, del Regolamento (UE) 2016/679',
      'Decisione di esecuzione (UE) 2021/915 della Commissione del 4 giugno 2021',
      'Oggetto: Servizio di conservazione digitale e assistenza applicativa',
      '(CIG B4C2D7E91F).',
      'TRA',
      'in qualità di Titolare del trattamento ai sensi dell’art. 4, n. 7), del Regolamento (UE) 2016/679, in persona della dott.ssa Maria Rossi, Responsabile del Settore Servizi Demografici e Designata al trattamento dei dati personali (di seguito «Titolare»)',
      'Emilia Digitale S.r.l., con sede in Via della Liberazione 15, 40128 Bologna (BO), partita IVA 03123456786, PEC emiliadigitale@pec.it, in persona del legale rappresentante pro tempore Paolo Conti',
      'in qualità di Responsabile del trattamento ai sensi dell’art. 28 del Regolamento (UE) 2016/679 (di seguito «Responsabile»)',
      'PREMESSO CHE',
      'LE PARTI CONVENGONO QUANTO SEGUE',
      'SEZIONE I – DISPOSIZIONI GENERALI',
      'Clausola 1 – Scopo e ambito di applicazione',
      'approvato con delibera consiliare n. 117 del 22-12-2020',
      'Clausola 2 – Invariabilità delle clausole',
      'Clausola 3 – Interpretazione',
      'Clausola 4 – Gerarchia',
      'prevalgono le presenti clausole',
      'SEZIONE II – OBBLIGHI DELLE PARTI',
      'Clausola 5 – Descrizione del trattamento',
      'materia disciplinata: i trattamenti connessi all’esecuzione del contratto avente ad oggetto «Servizio di conservazione digitale',
      'durata del trattamento: dal 1° gennaio 2027 al 31 dicembre 2029',
      'natura e finalità del trattamento: trattamento con strumenti elettronici',
      'tipo di dati personali: dati anagrafici e di contatto; dati di stato civile e di cittadinanza',
      'il trattamento riguarda anche categorie particolari di dati personali',
      'categorie di interessati: cittadini residenti e iscritti all’AIRE',
      'Clausola 6 – Diritti e obblighi del Titolare',
      'Il Titolare ha il diritto di verificare, anche mediante audit e ispezioni',
      'Clausola 7 – Obblighi del Responsabile ai sensi dell’art. 28, par. 3, del Regolamento',
      'a) tratta i dati personali soltanto su istruzione documentata del Titolare',
      'lett. a), del Regolamento',
      'b) garantisce che le persone autorizzate al trattamento dei dati personali si siano impegnate alla riservatezza',
      'lett. b), del Regolamento',
      'c) adotta tutte le misure richieste ai sensi dell’art. 32 del Regolamento',
      'lett. c), del Regolamento',
      'd) rispetta le condizioni di cui ai paragrafi 2 e 4 dell’art. 28 del Regolamento',
      'lett. d), del Regolamento',
      'e) tenendo conto della natura del trattamento, assiste il Titolare',
      'lett. e), del Regolamento',
      'f) assiste il Titolare nel garantire il rispetto degli obblighi di cui agli artt. da 32 a 36 del Regolamento',
      'lett. f), del Regolamento',
      'g) su scelta del Titolare, cancella o gli restituisce tutti i dati personali',
      'lett. g), del Regolamento',
      'h) mette a disposizione del Titolare tutte le informazioni necessarie',
      'lett. h), del Regolamento',
      'Clausola 8 – Obblighi delle Parti',
      '8.1. Istruzioni',
      '8.2. Limitazione della finalità',
      '8.3. Durata del trattamento dei dati personali',
      'restituisce al Titolare tutti i dati personali in un formato strutturato',
      '8.4. Sicurezza del trattamento',
      '8.5. Dati sensibili',
      'limitazioni specifiche e garanzie supplementari',
      '8.6. Documentazione e rispetto delle clausole',
      'consente e contribuisce alle attività di revisione',
      '8.7. Ricorso a sub-responsabili del trattamento',
      'Autorizzazione scritta generale.',
      'con almeno 45 giorni di anticipo',
      'Il Titolare può opporsi entro 30 giorni dal momento in cui ne è informato, come previsto dall’art. 7 del Regolamento dell’ente',
      'il Responsabile stipula un contratto che impone al sub-responsabile, nella sostanza, gli stessi obblighi',
      '8.8. Trasferimenti internazionali',
      'Clausola 9 – Obblighi ulteriori previsti dal Regolamento dell’ente',
      'In attuazione dell’art. 7 del Regolamento dell’ente',
      'notifica al Titolare ogni violazione entro 24 ore dalla sua identificazione',
      'conserva l’elenco degli amministratori di sistema',
      'con cadenza almeno annuale',
      'svolge attività di formazione periodica delle persone autorizzate',
      'ai sensi dell’art. 30, par. 2, del Regolamento (UE) 2016/679',
      'Clausola 10 – Assistenza al Titolare',
      'Clausola 11 – Notifica di una violazione dei dati personali',
      'entro 24 ore dall’identificazione della violazione',
      'la descrizione della natura della violazione',
      'SEZIONE III – DISPOSIZIONI FINALI',
      'Clausola 12 – Inosservanza delle clausole e risoluzione',
      'entro un mese dalla sospensione',
      'Clausola 13 – Responsabilità, durata e comunicazioni',
      'Il Responsabile della protezione dei dati (RPD) del Titolare è Lepida S.c.p.A. (dpo-team@lepida.it)',
      'Studio Privacy Emilia S.r.l. (dpo@emiliadigitale.it)',
      'Calderara di Reno, 18 dicembre 2026',
      'Allegato I – Descrizione del trattamento',
      'Materia disciplinata',
      'Durata del trattamento',
      'dal 1° gennaio 2027 al 31 dicembre 2029',
      'Natura e finalità del trattamento',
      'Operazioni di trattamento',
      'raccolta, registrazione, organizzazione, conservazione, consultazione, estrazione, cancellazione',
      'Tipi di dati personali',
      'codice fiscale e numero della carta d’identità',
      'Categorie particolari di dati',
      'Categorie di interessati',
      'dipendenti comunali utenti del gestionale',
      'Luogo del trattamento',
      'data center in Italia (Bologna e Milano)',
      'Allegato II – Misure tecniche e organizzative',
      'Controllo degli accessi logici',
      'autenticazione a due fattori per tutti gli operatori',
      'Cifratura',
      'Continuità operativa',
      'Persone autorizzate',
      'Allegato III – Sub-responsabili autorizzati',
      'che costituiscono l’elenco concordato ai fini dell’autorizzazione scritta generale',
      'Nord Data Center S.p.A.',
      'P. IVA 04987654326',
      'hosting dell’infrastruttura cloud qualificata',
    ],
    absent: [
      'Autorizzazione specifica preventiva',
      'nessun sub-responsabile del trattamento è autorizzato',
    ],
    placeDate: 'Calderara di Reno, 18 dicembre 2026',
    signatures: [
      'Per il Titolare – Responsabile del Settore Servizi Demografici',
      'Maria Rossi',
      'Per il Responsabile – il legale rappresentante di Emilia Digitale S.r.l.',
      'Paolo Conti',
    ],
    annexes: [
      'Allegato I – Descrizione del trattamento',
      'Allegato II – Misure tecniche e organizzative',
      'Allegato III – Sub-responsabili autorizzati',
    ],
  },
  {
    name: 'contratto-responsabile: specific authorisation, no sub-processor, no special data, the Sindaco signs',
    key: 'contratto-responsabile',
    data: () => {
      const data = example('contratto-responsabile');
      for (const path of [
        ['preavvisoGiorni'],
        ['rpdResponsabile'],
        ['responsabile', 'pec'],
        ['regolamento'],
        ['trattamento', 'luogoTrattamento'],
      ]) {
        change(data, path);
      }
      change(data, ['trattamento', 'categorieParticolari'], false);
      return {
        ...data,
        dataAtto: '2027-01-08',
        titolare: {
          rappresentante: { nome: 'Giampiero Falzone', genere: 'M' },
          carica: 'Sindaco pro tempore',
        },
        autorizzazioneSubResponsabili: 'specifica',
        subResponsabili: [],
        oreNotificaViolazione: 48,
      };
    },
    footer: 'Contratto per il trattamento dei dati personali n. 3 dell’8 gennaio 2027',
    phrases: [
      'CONTRATTO PER IL TRATTAMENTO DEI DATI PERSONALI N. 3 DELL’8 GENNAIO 2027',
      'in persona di Giampiero Falzone, Sindaco pro tempore (di seguito «Titolare»)',
      'partita IVA 03123456786, in persona del legale rappresentante pro tempore Paolo Conti',
      '8.5. Dati sensibili',
      'Il trattamento non riguarda categorie particolari di dati personali',
      '8.7. Ricorso a sub-responsabili del trattamento',
      'Autorizzazione specifica preventiva.',
      'almeno 30 giorni prima di ricorrere al sub-responsabile',
      'notifica al Titolare ogni violazione entro 48 ore dalla sua identificazione',
      'Il Responsabile della protezione dei dati (RPD) del Titolare è Lepida S.c.p.A. (dpo-team@lepida.it).',
      'Calderara di Reno, 8 gennaio 2027',
      'Allegato I – Descrizione del trattamento',
      'Categorie particolari di dati no Categorie di interessati',
      'Allegato II – Misure tecniche e organizzative',
      'Allegato III – Sub-responsabili autorizzati',
      'Alla data di sottoscrizione nessun sub-responsabile del trattamento è autorizzato',
      'senza la previa autorizzazione specifica scritta del Titolare, richiesta con almeno 30 giorni di anticipo',
    ],
    absent: [
      'Autorizzazione scritta generale',
      'Nord Data Center',
      'PEC emiliadigitale@pec.it',
      'Studio Privacy Emilia',
      'Luogo del trattamento',
      'il trattamento riguarda anche categorie particolari',
    ],
    placeDate: 'Calderara di Reno, 8 gennaio 2027',
    signatures: ['Per il Titolare – Sindaco pro tempore', 'Giampiero Falzone', 'Paolo Conti'],
    annexes: [
      'Allegato I – Descrizione del trattamento',
      'Allegato II – Misure tecniche e organizzative',
      'Allegato III – Sub-responsabili autorizzati',
    ],
  },
  {
    name: 'accordo-contitolarita: the ente, an ASP and an AUSL',
    key: 'accordo-contitolarita',
    data: () => example('accordo-contitolarita'),
    footer: agreementFooter,
    phrases: [
      'ACCORDO DI CONTITOLARITÀ DEL TRATTAMENTO N. 2 DELL’11 DICEMBRE 2026',
      'ai sensi dell’art. 26 del Regolamento (UE) 2016/679',
      'TRA',
      'in persona di Giampiero Falzone, Sindaco pro tempore',
      'ASP Seneca – Azienda pubblica di servizi alla persona, con sede in Via Marzocchi 1/A, 40017 San Giovanni in Persiceto (BO), codice fiscale 03152761206, in persona della dott.ssa Lucia Bernardi, Direttrice generale',
      'Azienda USL di Bologna, con sede in Via Castiglione 29, 40124 Bologna (BO), codice fiscale 02406911202, in persona del dott. Franco Marchi',
      'PREMESSO CHE',
      'le Parti determinano congiuntamente le finalità e i mezzi del trattamento',
      'LE PARTI CONVENGONO QUANTO SEGUE',
      'Art. 1 – Oggetto',
      'che ha per oggetto la gestione integrata del servizio di assistenza domiciliare socio-sanitaria',
      'Art. 2 – Finalità e mezzi del trattamento',
      'valutazione multidimensionale del bisogno assistenziale',
      'rendicontazione delle prestazioni alla Regione Emilia-Romagna',
      'Art. 3 – Dati personali e interessati',
      'dati relativi alla salute e alla condizione di non autosufficienza',
      'persone non autosufficienti assistite a domicilio',
      'Art. 4 – Ripartizione delle responsabilità',
      '4.1. Comune di Calderara di Reno – compiti assunti:',
      'l’informativa ai sensi degli artt. 13 e 14 del GDPR, anche per conto degli altri contitolari',
      '4.2. ASP Seneca – compiti assunti:',
      'adottare le misure di sicurezza dell’art. 32 del GDPR per la cartella sociale informatizzata',
      '4.3. Azienda USL di Bologna – compiti assunti:',
      'condurre e aggiornare la valutazione d’impatto sulla protezione dei dati',
      'Art. 5 – Obblighi comuni',
      'Art. 6 – Punto di contatto per gli interessati',
      'Le Parti designano quale punto di contatto per gli interessati: Ufficio Servizi sociali del Comune di Calderara di Reno',
      'recapito: servizisociali@comune.calderaradireno.bo.it',
      'Art. 7 – Esercizio dei diritti degli interessati',
      'l’interessato può esercitare i propri diritti ai sensi del GDPR nei confronti di e contro ciascun contitolare del trattamento, come previsto dall’art. 26, par. 3, del Regolamento (UE) 2016/679',
      'Art. 8 – Messa a disposizione del contenuto essenziale dell’accordo',
      'il contenuto essenziale del presente accordo è messo a disposizione dell’interessato mediante pubblicazione dell’estratto',
      'Art. 9 – Responsabilità verso gli interessati e tra le Parti',
      'Art. 10 – Durata',
      'Il presente accordo ha effetto dal 1° gennaio 2027 al 31 dicembre 2029',
      'Art. 11 – Responsabili della protezione dei dati',
      'Lepida S.c.p.A. (dpo-team@lepida.it)',
      'ASP Seneca – Azienda pubblica di servizi alla persona: Lepida S.c.p.A. (dpo-team@lepida.it)',
      'Calderara di Reno, 11 dicembre 2026',
    ],
    placeDate: 'Calderara di Reno, 11 dicembre 2026',
    signatures: [
      'Sindaco pro tempore',
      'Giampiero Falzone',
      'ASP Seneca – Azienda pubblica di servizi alla persona, Direttrice generale',
      'Lucia Bernardi',
      'Azienda USL di Bologna, Direttore del Distretto Pianura Ovest, su delega del Direttore generale',
      'Franco Marchi',
    ],
  },
  {
    name: 'accordo-contitolarita: one co-controller, for as long as the joint processing lasts',
    key: 'accordo-contitolarita',
    data: () => {
      const data = example('accordo-contitolarita');
      change(data, ['scadenza']);
      const contitolari = data.contitolari as Data[];
      const responsabilita = data.responsabilita as Data[];
      return {
        ...data,
        contitolari: contitolari.slice(0, 1),
        responsabilita: responsabilita.slice(0, 2),
      };
    },
    footer: agreementFooter,
    phrases: [
      'ACCORDO DI CONTITOLARITÀ DEL TRATTAMENTO N. 2 DELL’11 DICEMBRE 2026',
      'ASP Seneca – Azienda pubblica di servizi alla persona, con sede in Via Marzocchi 1/A',
      '4.1. Comune di Calderara di Reno – compiti assunti:',
      '4.2. ASP Seneca – compiti assunti:',
      'Il presente accordo ha effetto dal 1° gennaio 2027 per tutta la durata del trattamento in contitolarità',
      'Calderara di Reno, 11 dicembre 2026',
    ],
    absent: ['Azienda USL di Bologna', '4.3.', 'al 31 dicembre 2029'],
    placeDate: 'Calderara di Reno, 11 dicembre 2026',
    signatures: ['Giampiero Falzone', 'Lucia Bernardi'],
  },
];

interface ValueCase {
  path: string[];
  value: unknown;
  name: string;
}

/** Wrong values (not missing ones) the schema refuses, with the path invalidParams must name. */
const wrongValues: Record<TemplateKey, ValueCase[]> = {
  'clausola-gara': [
    { path: ['ruolo'], value: 'fornitore', name: 'data.ruolo' },
    { path: ['trattamenti'], value: [], name: 'data.trattamenti' },
    { path: ['gara', 'cig'], value: 'b1234-67c8', name: 'data.gara.cig' },
    { path: ['gara', 'lotti'], value: [], name: 'data.gara.lotti' },
    {
      path: ['trattamenti', '0', 'categorieDati'],
      value: [],
      name: 'data.trattamenti.0.categorieDati',
    },
    { path: ['oggettoGara'], value: 'campo inventato', name: 'data.oggettoGara' },
  ],
  'contratto-responsabile': [
    { path: ['oreNotificaViolazione'], value: 72, name: 'data.oreNotificaViolazione' },
    { path: ['preavvisoGiorni'], value: 15, name: 'data.preavvisoGiorni' },
    {
      path: ['autorizzazioneSubResponsabili'],
      value: 'tacita',
      name: 'data.autorizzazioneSubResponsabili',
    },
    { path: ['misure'], value: [], name: 'data.misure' },
    { path: ['trattamento', 'tipiDati'], value: [], name: 'data.trattamento.tipiDati' },
    {
      path: ['trattamento', 'naturaFinalita'],
      value: 'servizio',
      name: 'data.trattamento.naturaFinalita',
    },
    {
      path: ['responsabile', 'partitaIva'],
      value: '0312345678',
      name: 'data.responsabile.partitaIva',
    },
    { path: ['numero'], value: 0, name: 'data.numero' },
  ],
  'accordo-contitolarita': [
    { path: ['contitolari'], value: [], name: 'data.contitolari' },
    { path: ['finalita'], value: [], name: 'data.finalita' },
    {
      path: ['contitolari', '0', 'codiceFiscale'],
      value: 'ASP-SENECA',
      name: 'data.contitolari.0.codiceFiscale',
    },
    { path: ['responsabilita', '0', 'compiti'], value: [], name: 'data.responsabilita.0.compiti' },
  ],
};

/** The required fields of each example, as the schema declares them (conditional ones for the example's values). */
const expectedRequired: Record<TemplateKey, string[]> = {
  'clausola-gara': [
    'dataAtto',
    'luogo',
    'gara',
    'gara.cig',
    'gara.oggetto',
    'gara.procedura',
    'gara.lotti.0.numero',
    'gara.lotti.0.cig',
    'gara.lotti.0.oggetto',
    'ruolo',
    'trattamenti',
    'trattamenti.0.nome',
    'trattamenti.0.finalita',
    'trattamenti.0.categorieDati',
    'trattamenti.0.categorieInteressati',
    'rpd',
    'rpd.nome',
    'rpd.contatto',
  ],
  'contratto-responsabile': [
    'numero',
    'dataAtto',
    'luogo',
    'titolare',
    'titolare.rappresentante',
    'titolare.rappresentante.nome',
    'titolare.rappresentante.genere',
    'titolare.carica',
    'responsabile',
    'responsabile.ragioneSociale',
    'responsabile.sede',
    'responsabile.partitaIva',
    'responsabile.legaleRappresentante',
    'gara',
    'gara.cig',
    'gara.oggetto',
    'contratto',
    'contratto.oggetto',
    'contratto.decorrenza',
    'contratto.scadenza',
    'trattamento',
    'trattamento.naturaFinalita',
    'trattamento.tipiDati',
    'trattamento.categorieParticolari',
    'trattamento.categorieInteressati',
    'trattamento.operazioni',
    'misure',
    'misure.0.area',
    'misure.0.descrizione',
    'subResponsabili',
    'subResponsabili.0.ragioneSociale',
    'subResponsabili.0.sede',
    'subResponsabili.0.partitaIva',
    'subResponsabili.0.attivita',
    'autorizzazioneSubResponsabili',
    'oreNotificaViolazione',
    'rpd',
    'rpd.nome',
    'rpd.contatto',
    'rpdResponsabile.nome',
    'rpdResponsabile.contatto',
  ],
  'accordo-contitolarita': [
    'numero',
    'dataAtto',
    'luogo',
    'titolare',
    'titolare.rappresentante',
    'titolare.rappresentante.nome',
    'titolare.rappresentante.genere',
    'titolare.carica',
    'contitolari',
    'contitolari.0.denominazione',
    'contitolari.0.sede',
    'contitolari.0.codiceFiscale',
    'contitolari.0.rappresentante',
    'contitolari.0.rappresentante.nome',
    'contitolari.0.rappresentante.genere',
    'contitolari.0.carica',
    'contitolari.0.rpd.nome',
    'contitolari.0.rpd.contatto',
    'oggetto',
    'finalita',
    'tipiDati',
    'categorieInteressati',
    'responsabilita',
    'responsabilita.0.soggetto',
    'responsabilita.0.compiti',
    'puntoContatto',
    'puntoContatto.descrizione',
    'puntoContatto.contatto',
    'messaAdisposizione',
    'decorrenza',
    'rpd',
    'rpd.nome',
    'rpd.contatto',
  ],
};

describe('the privacy contracts: tender clause, art. 28 contract, joint-controller agreement', () => {
  let token: string;

  before(async () => {
    token = (await newTenant('Comune di Calderara di Reno')).token;
  });

  it('files each under its document type and register', () => {
    const settings = templateKeys.map((key) => {
      const parsed = JSON.parse(templateFile(key, 'template.json')) as {
        documentType: string;
        register: string | null;
      };
      return [key, parsed.documentType, parsed.register];
    });
    expect(settings).to.deep.equal([
      ['clausola-gara', 'clausola-gara', null],
      ['contratto-responsabile', 'contratto-responsabile', 'contratti-privacy'],
      ['accordo-contitolarita', 'accordo-contitolarita', 'accordi-contitolarita'],
    ]);
  });

  for (const contract of cases) {
    it(`${contract.name}: every mandatory element, in order, in the PDF and the DOCX`, async function () {
      this.timeout(60_000);
      const created = await call<DocumentResponse>('POST', '/api/v1/documents', {
        token,
        json: { template: contract.key, data: contract.data() },
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(created.body.template.key).to.equal(contract.key);
      expect(created.body.documentType).to.equal(contract.key);
      expect(created.body.title).to.contain(contract.footer);

      const pdf = await download(created.body.links.pdf, token);
      await qpdfCheck(pdf);
      const text = await pdfText(pdf);
      const wordText = await docxText(await download(created.body.links.docx, token));

      for (const [format, content] of [
        ['PDF', text],
        ['DOCX', wordText],
      ] as const) {
        const flat = normalise(content);
        expect(
          firstMissingInOrder(content, contract.phrases),
          `${format} phrase missing or out of order`,
        ).to.equal(undefined);
        expect(
          (contract.absent ?? []).filter((phrase) => flat.includes(phrase)),
          `${format} phrases of another variant`,
        ).to.deep.equal([]);
        const afterDate = flat.slice(flat.lastIndexOf(contract.placeDate));
        const firstAnnex = contract.annexes?.[0];
        const block = firstAnnex ? afterDate.slice(0, afterDate.indexOf(firstAnnex)) : afterDate;
        expect(
          contract.signatures.filter((phrase) => !block.includes(phrase)),
          `${format} signature block after the place and date`,
        ).to.deep.equal([]);
      }

      const flat = normalise(text);
      expect(flat, 'letterhead').to.contain('COMUNE DI CALDERARA DI RENO');
      expect(flat, 'intestazione').to.contain('Città metropolitana di Bologna');
      for (let page = 1; page <= created.body.pageCount; page += 1) {
        expect(flat, `footer of page ${page}`).to.contain(
          `${contract.footer} – pagina ${page} di ${created.body.pageCount}`,
        );
      }
      // pdftotext ends each page with a form feed: every annex opens a page of its own.
      const pages = text.split('\f').map(normalise);
      const signaturePage = pages.findIndex((page) => page.includes(contract.placeDate));
      let previous = signaturePage;
      for (const annex of contract.annexes ?? []) {
        const page = pages.findIndex((content) => content.includes(annex));
        expect(page, `${annex} on a page after the previous part`).to.be.greaterThan(previous);
        previous = page;
      }
    });
  }

  for (const key of templateKeys) {
    it(`${key}: each missing required field is refused with 422 naming its path`, async () => {
      const required = requiredPaths(key);
      expect(required, `${key}: the fields its schema requires`).to.deep.equal(
        expectedRequired[key],
      );
      const unnamed: string[] = [];
      for (const path of required) {
        const response = await call<Problem>('POST', '/api/v1/documents', {
          token,
          json: { template: key, data: change(example(key), path.split('.')) },
        });
        const names = (response.body.invalidParams ?? []).map((param) => param.name);
        if (response.status !== 422 || !names.includes(`data.${path}`)) {
          unnamed.push(`${path} → ${response.status} ${names.join(', ')}`);
        }
      }
      expect(unnamed, `${key}: removed fields not refused by name`).to.deep.equal([]);
    });

    it(`${key}: a wrong value is refused with 422 naming its path`, async () => {
      for (const wrong of wrongValues[key]) {
        const response = await call<Problem>('POST', '/api/v1/documents', {
          token,
          json: { template: key, data: change(example(key), wrong.path, wrong.value) },
        });
        const label = `${key} with ${wrong.path.join('.')} = ${JSON.stringify(wrong.value)}`;
        expect(response.status, label).to.equal(422);
        expect(
          (response.body.invalidParams ?? []).map((param) => param.name),
          label,
        ).to.include(wrong.name);
      }
    });
  }

  it('clausola-gara: the titolare autonomo may go without processing of the ente, the others may not', async () => {
    for (const [ruolo, status] of [
      ['titolare-autonomo', 201],
      ['responsabile', 422],
      ['contitolare', 422],
    ] as const) {
      const data = { ...change(example('clausola-gara'), ['trattamenti']), ruolo };
      const response = await call<Problem>('POST', '/api/v1/documents', {
        token,
        json: { template: 'clausola-gara', data },
      });
      expect(response.status, ruolo).to.equal(status);
      if (status === 422) {
        expect(
          response.body.invalidParams?.map((param) => param.name),
          ruolo,
        ).to.include('data.trattamenti');
      }
    }
  });

  it('contratto-responsabile: a specific authorisation may ask less notice than the 30-day objection window', async () => {
    const data = {
      ...example('contratto-responsabile'),
      autorizzazioneSubResponsabili: 'specifica',
      preavvisoGiorni: 15,
    };
    const response = await call<DocumentResponse>('POST', '/api/v1/documents', {
      token,
      json: { template: 'contratto-responsabile', data },
    });
    expect(response.status, JSON.stringify(response.body)).to.equal(201);
    const text = normalise(await pdfText(await download(response.body.links.pdf, token)));
    expect(text).to.contain('almeno 15 giorni prima di ricorrere al sub-responsabile');
  });
});
