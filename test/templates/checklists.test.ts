/**
 * Completeness checklists. A template's checklist.json lists the mandatory
 * elements of its document type (DOMAIN.md; art. 28, par. 3, and art. 26 of
 * the GDPR; art. 7 of the seed regolamento), each with the input field that
 * supplies it (null for fixed text) and a phrase the document prints for it
 * with the schema's first example. Here every such template is generated from
 * that example through the HTTP API: each phrase must be in the PDF and in the
 * DOCX, and the example without a required input must be refused with 422
 * naming its path, so that no mandatory element can come out blank.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { call, newTenant, download } from '../support/http.js';
import { docxText, normalise, pdfText } from '../support/readers.js';

type Data = Record<string, unknown>;

interface ChecklistItem {
  id: string;
  label: string;
  input: string | null;
  printed: string;
}

interface DocumentResponse {
  links: { pdf: string; docx: string };
}

interface Problem {
  invalidParams?: { name: string; reason: string }[];
}

const templatesDirectory = new URL('../../templates/', import.meta.url);

function templateFile(key: string, file: string): string {
  return readFileSync(new URL(`${key}/${file}`, templatesDirectory), 'utf8');
}

/** The templates that carry a checklist, found on disk. */
const keys = readdirSync(templatesDirectory, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .filter((key) => existsSync(new URL(`${key}/checklist.json`, templatesDirectory)))
  .sort();

function checklist(key: string): ChecklistItem[] {
  return JSON.parse(templateFile(key, 'checklist.json')) as ChecklistItem[];
}

function schemaOf(key: string): { examples: Data[] } {
  return JSON.parse(templateFile(key, 'schema.json')) as { examples: Data[] };
}

function example(key: string): Data {
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

/** The value at a dotted input path such as "trattamenti.0.finalita". */
function valueAt(data: Data, path: string): unknown {
  return path.split('.').reduce<unknown>(child, data);
}

/** A copy of the data without the field at the dotted path. */
function without(data: Data, path: string): Data {
  const copy = structuredClone(data);
  const segments = path.split('.');
  const parent = segments.slice(0, -1).reduce<unknown>(child, copy);
  const last = segments[segments.length - 1];
  if (!isRecord(parent) || last === undefined) throw new Error(`no field ${path}`);
  delete parent[last];
  return copy;
}

const art28Duties = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((letter) => `art28-3-${letter}`);

/**
 * The items each document type cannot do without: every art. 28 document lists each duty
 * of art. 28, par. 3, a) to h); the DPIA documents the parts of art. 35, par. 7, and of
 * art. 36, par. 3, the screening every source of the obligation.
 */
const mandatoryItems: Readonly<Record<string, readonly string[]>> = {
  'accordo-contitolarita': [
    'art26-1-responsabilita',
    'art26-1-punto-contatto',
    'art26-2-contenuto-essenziale',
  ],
  'clausola-gara': art28Duties,
  'contratto-responsabile': art28Duties,
  'designazione-responsabile-esterno': art28Duties,
  'dpia-screening': [
    'art35-3-a',
    'art35-3-b',
    'art35-3-c',
    'wp248',
    'garante-tipologie',
    'esito',
    'motivazioni',
  ],
  dpia: [
    'art35-7-a',
    'art35-7-b',
    'art35-7-c',
    'art35-7-d',
    'rischio-accesso',
    'rischio-modifica',
    'rischio-scomparsa',
    'mappa',
    'parere-rpd',
    'opinioni-interessati',
    'decisione',
    'art36',
    'riesame',
  ],
  'consultazione-preventiva': [
    'art36-3-a',
    'art36-3-b-finalita',
    'art36-3-b-mezzi',
    'art36-3-c',
    'art36-3-d',
    'art36-3-e',
    'art36-3-f',
    'rischi-residui',
    'art36-2',
    'termine-previsto',
  ],
  'notifica-violazione': [
    'tipo-notifica',
    'titolare-cf',
    'notificante',
    'art33-3-b',
    'data-violazione',
    'data-conoscenza',
    'scadenza',
    'ritardo',
    'art33-3-a-natura',
    'art33-3-a-interessati',
    'art33-3-a-registrazioni',
    'art33-3-c',
    'art33-3-d-adottate',
    'art33-3-d-proposte',
    'comunicazione-interessati',
    'transfrontaliero',
  ],
  'notifica-violazione-integrativa': ['riferimento-prima', 'art33-4', 'art33-3-b'],
  'comunicazione-interessati': [
    'art34-2-natura',
    'art34-2-rpd',
    'art34-2-conseguenze',
    'art34-2-misure-adottate',
    'consigli',
  ],
  'avviso-pubblico-violazione': [
    'art34-3-c',
    'art34-2-natura',
    'art34-2-rpd',
    'art34-2-conseguenze',
    'art34-2-misure-adottate',
    'consigli',
    'pubblicazione',
  ],
  'relazione-designato-violazione': [
    'fatti',
    'data-violazione',
    'conoscenza',
    'categorie-dati',
    'sistemi',
    'prime-misure',
    'parere-rpd',
  ],
  'parere-rpd-violazione': ['esito', 'motivazioni', 'notifica', 'comunicazione', 'non-vincolante'],
  'registro-violazioni': [
    'ente',
    'data-estrazione',
    'ufficio',
    'descrizione',
    'gravita',
    'dispositivi',
    'dati-destinatari',
    'misure-presenti',
    'misure-adottate',
  ],
};

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);

/** Required for this example: its schema refuses the example without it (conditional requirements included). */
function isRequired(key: string, path: string): boolean {
  const validate = ajv.compile(schemaOf(key));
  return !validate(without(example(key), path));
}

describe('completeness checklists of the templates', () => {
  let token: string;

  before(async () => {
    token = (await newTenant('Comune di Calderara di Reno')).token;
  });

  it('covers the art. 28 acts, the tender clause, the joint-controller agreement and the DPIA acts', () => {
    expect(keys).to.include.members([
      'accordo-contitolarita',
      'clausola-gara',
      'contratto-responsabile',
      'designazione-responsabile-esterno',
      'dpia-screening',
      'dpia',
      'consultazione-preventiva',
    ]);
  });

  for (const key of keys) {
    describe(key, () => {
      it('has well-formed items whose inputs exist in the example', () => {
        const items = checklist(key);
        expect(items, 'items').to.have.length.greaterThan(5);
        const data = example(key);
        const problems: string[] = [];
        const seen = new Set<string>();
        for (const item of items) {
          if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(item.id)) problems.push(`${item.id}: id`);
          if (seen.has(item.id)) problems.push(`${item.id}: repeated id`);
          seen.add(item.id);
          if (typeof item.label !== 'string' || item.label.trim().length < 5) {
            problems.push(`${item.id}: label`);
          }
          if (typeof item.printed !== 'string' || item.printed.trim().length < 2) {
            problems.push(`${item.id}: printed`);
          }
          if (item.input !== null && valueAt(data, item.input) === undefined) {
            problems.push(`${item.id}: input ${item.input} not in the example`);
          }
        }
        expect(problems).to.deep.equal([]);
        const mandatory = mandatoryItems[key];
        expect(mandatory, `${key}: the items its document type cannot do without`).to.be.an(
          'array',
        );
        expect(items.map((item) => item.id)).to.include.members([...(mandatory ?? [])]);
      });

      it('prints every element in the PDF and the DOCX generated from the example', async function () {
        this.timeout(60_000);
        const created = await call<DocumentResponse>('POST', '/api/v1/documents', {
          token,
          json: { template: key, data: example(key) },
        });
        expect(created.status, JSON.stringify(created.body)).to.equal(201);
        const pdf = normalise(await pdfText(await download(created.body.links.pdf, token)));
        const docx = normalise(await docxText(await download(created.body.links.docx, token)));
        const items = checklist(key);
        const missing = (text: string) =>
          items.filter((item) => !text.includes(normalise(item.printed))).map((item) => item.id);
        expect(missing(pdf), `${key}: checklist ids not printed in the PDF`).to.deep.equal([]);
        expect(missing(docx), `${key}: checklist ids not printed in the DOCX`).to.deep.equal([]);
      });

      it('refuses the example without each required input, naming its path', async () => {
        const unnamed: string[] = [];
        let asked = 0;
        for (const item of checklist(key)) {
          if (item.input === null || !isRequired(key, item.input)) continue;
          asked += 1;
          const response = await call<Problem>('POST', '/api/v1/documents', {
            token,
            json: { template: key, data: without(example(key), item.input) },
          });
          const names = (response.body.invalidParams ?? []).map((param) => param.name);
          if (response.status !== 422 || !names.includes(`data.${item.input}`)) {
            unnamed.push(`${item.id} (${item.input}) → ${response.status} ${names.join(', ')}`);
          }
        }
        expect(asked, `${key}: required inputs in the checklist`).to.be.greaterThan(3);
        expect(unnamed, `${key}: checklist inputs not refused by name`).to.deep.equal([]);
      });
    });
  }
});
