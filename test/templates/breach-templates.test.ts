/**
 * The data breach acts (artt. 33–34 GDPR; seed 002 artt. 31–35) generated through the
 * service from their schemas' examples and read back as a user reads them: the
 * notice to the Garante and its supplementary notice, the letter to the data
 * subjects and the public notice, the designato's report, the DPO's opinion and the
 * register. Every element of each checklist must be in the PDF and in the DOCX, in
 * the checklist's order. The schema rules that matter are refused by name: a late
 * notice without the reasons for the delay, a supplementary notice without the
 * reference to the first one, a communication "not due" without the reason.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { call, newTenant, download } from '../support/http.js';
import { docxText, firstMissingInOrder, normalise, pdfText } from '../support/readers.js';

type Data = Record<string, unknown>;

interface ChecklistItem {
  id: string;
  printed: string;
}

interface DocumentResponse {
  documentType: string;
  links: { pdf: string; docx: string };
}

interface Problem {
  invalidParams?: { name: string; reason: string }[];
}

const templates: Readonly<Record<string, string>> = {
  'notifica-violazione': 'notifica-violazione',
  'notifica-violazione-integrativa': 'notifica-violazione',
  'comunicazione-interessati': 'comunicazione-interessati',
  'avviso-pubblico-violazione': 'comunicazione-interessati',
  'relazione-designato-violazione': 'altro',
  'parere-rpd-violazione': 'altro',
  'registro-violazioni': 'altro',
};

function templateFile(key: string, file: string): string {
  return readFileSync(new URL(`../../templates/${key}/${file}`, import.meta.url), 'utf8');
}

function example(key: string): Data {
  const schema = JSON.parse(templateFile(key, 'schema.json')) as { examples: Data[] };
  const first = schema.examples[0];
  if (!first) throw new Error(`${key}: schema without examples`);
  return structuredClone(first);
}

function checklist(key: string): ChecklistItem[] {
  return JSON.parse(templateFile(key, 'checklist.json')) as ChecklistItem[];
}

function record(value: unknown): Data {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('not an object');
  }
  return value as Data;
}

async function refusedNames(token: string, template: string, data: Data): Promise<string[]> {
  const response = await call<Problem>('POST', '/api/v1/documents', {
    token,
    json: { template, data },
  });
  expect(response.status, JSON.stringify(response.body)).to.equal(422);
  return (response.body.invalidParams ?? []).map((param) => param.name);
}

describe('data breach templates', () => {
  let token: string;

  before(async () => {
    token = (await newTenant('Comune di Calderara di Reno')).token;
  });

  for (const [key, documentType] of Object.entries(templates)) {
    it(`${key}: every mandatory element in order in the PDF and the DOCX`, async function () {
      this.timeout(90_000);
      const created = await call<DocumentResponse>('POST', '/api/v1/documents', {
        token,
        json: { template: key, data: example(key) },
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(created.body.documentType).to.equal(documentType);
      const phrases = checklist(key).map((item) => item.printed);
      expect(phrases.length, `${key}: checklist`).to.be.greaterThan(5);
      const pdf = normalise(await pdfText(await download(created.body.links.pdf, token)));
      const docx = normalise(await docxText(await download(created.body.links.docx, token)));
      expect(firstMissingInOrder(pdf, phrases), `${key}: PDF`).to.equal(undefined);
      expect(firstMissingInOrder(docx, phrases), `${key}: DOCX`).to.equal(undefined);
    });
  }

  it('prints the times of the notice in Europe/Rome, summer time included', async function () {
    this.timeout(60_000);
    const data = example('notifica-violazione');
    const violazione = record(data.violazione);
    violazione.dataConoscenza = '2026-07-01T08:00:00Z';
    violazione.scadenza = '2026-07-04T08:00:00Z';
    violazione.dataNotifica = '2026-07-03T14:30:00Z';
    violazione.tardiva = false;
    delete violazione.ritardo;
    const created = await call<DocumentResponse>('POST', '/api/v1/documents', {
      token,
      json: { template: 'notifica-violazione', data },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const docx = normalise(await docxText(await download(created.body.links.docx, token)));
    expect(
      firstMissingInOrder(docx, [
        'il 1° luglio 2026, ore 10:00',
        'il 4 luglio 2026, ore 10:00',
        'il 3 luglio 2026, ore 16:30',
        'Notifica entro 72 ore sì',
      ]),
    ).to.equal(undefined);
    expect(docx).not.to.include('Motivi del ritardo');
  });

  it('refuses a late notice without the reasons for the delay', async () => {
    const data = example('notifica-violazione');
    delete record(data.violazione).ritardo;
    expect(await refusedNames(token, 'notifica-violazione', data)).to.include(
      'data.violazione.ritardo',
    );
  });

  it('refuses a supplementary notice without the reference to the first notice', async () => {
    const data = example('notifica-violazione');
    data.notifica = { tipo: 'integrativa', integrazioni: ['Numero definitivo degli interessati'] };
    expect(await refusedNames(token, 'notifica-violazione', data)).to.include(
      'data.notifica.riferimentoPrima',
    );
    const supplementary = example('notifica-violazione-integrativa');
    delete record(supplementary.notifica).riferimentoPrima;
    expect(await refusedNames(token, 'notifica-violazione-integrativa', supplementary)).to.include(
      'data.notifica.riferimentoPrima',
    );
  });

  it('refuses a communication "not due" without its reason', async () => {
    const data = example('notifica-violazione');
    data.comunicazioneInteressati = { stato: 'non-dovuta', ipotesi: 'a' };
    expect(await refusedNames(token, 'notifica-violazione', data)).to.include(
      'data.comunicazioneInteressati.motivo',
    );
  });

  it('prints a supplementary notice with only what it adds', async function () {
    this.timeout(60_000);
    const created = await call<DocumentResponse>('POST', '/api/v1/documents', {
      token,
      json: {
        template: 'notifica-violazione-integrativa',
        data: example('notifica-violazione-integrativa'),
      },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const docx = normalise(await docxText(await download(created.body.links.docx, token)));
    expect(docx).to.include('Notifica n. DB-0152347 del 12 novembre 2026');
    expect(docx).not.to.include('Natura della violazione');
    expect(docx).not.to.include('Descrizione della violazione');
  });
});
