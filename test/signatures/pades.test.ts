/**
 * PAdES signing, judged from the outside: pyHanko validates the signatures
 * offline against the development CA, OpenSSL verifies the CMS, qpdf checks
 * the file structure and poppler reads the visible text back.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import { expect } from 'chai';
import { PDFDocument } from 'pdf-lib';
import { ContentInfo, SignedData, TimeStampReq, TSTInfo } from 'pkijs';
import { ensureDevPki, type DevPki } from '../../server/signatures/dev-pki.js';
import { renderPdf } from '../../server/documents/render-pdf.js';
import type { SignatureArea } from '../../server/documents/pdf-layout.js';
import { KeyRing, loadKeyConfiguration } from '../../server/signatures/keys/index.js';
import { OID } from '../../server/signatures/cms.js';
import {
  PdfSigningError,
  signPdf,
  type SignPdfOptions,
  type SignatureAppearance,
} from '../../server/signatures/pades.js';
import type { KeySigner } from '../../server/signatures/signer.js';
import {
  httpTimestampAuthority,
  TimestampUnavailableError,
  type TimestampAuthority,
} from '../../server/signatures/tsa.js';
import { sampleDecreto } from '../documents/sample-model.js';
import { validateWithPyHanko, type PyHankoReport } from '../support/pyhanko.js';
import { pdfText } from '../support/readers.js';
import { startTestTsa, type TestTsa } from '../support/tsa-server.js';

const run = promisify(execFile);

/** 14:03 in Rome (CET, UTC+1): what the appearance must print. */
const SIGNING_TIME = new Date('2026-11-25T13:03:00Z');
const LAW_LINE = 'Documento firmato digitalmente ai sensi del D.Lgs. 82/2005';

let workDir = '';
let pki: DevPki;
let keyRing: KeyRing;
let seal: KeySigner; // RSA 2048, PKCS#12
let funzionario: KeySigner; // ECDSA P-256, PKCS#12
let tsa: TestTsa;
let act: Uint8Array;
let areas: SignatureArea[];

function area(id: string, name: string, role: string): SignatureAppearance {
  const found = areas.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`the sample act has no signature area "${id}"`);
  return {
    page: found.page,
    x: found.x,
    y: found.y,
    width: found.width,
    height: found.height,
    name,
    role,
  };
}

function options(overrides: Partial<SignPdfOptions> & Pick<SignPdfOptions, 'fieldName'>) {
  return { signer: seal, signingTime: SIGNING_TIME, ...overrides };
}

async function validate(pdf: Uint8Array): Promise<PyHankoReport[]> {
  return validateWithPyHanko(pdf, { trustAnchorFile: pki.caFile });
}

function expectGood(report: PyHankoReport | undefined): void {
  const details = JSON.stringify(report, null, 2);
  expect(report, 'a pyHanko report').to.not.equal(undefined);
  expect(report!.error, details).to.equal(undefined);
  expect(report!.intact, details).to.equal(true);
  expect(report!.valid, details).to.equal(true);
  expect(report!.trusted, details).to.equal(true);
  expect(report!.bottomLine, details).to.equal(true);
}

let fileCounter = 0;
async function writeTemp(bytes: Uint8Array, name = 'document.pdf'): Promise<string> {
  const file = path.join(workDir, `${++fileCounter}-${name}`);
  await writeFile(file, bytes);
  return file;
}

async function qpdfCheck(pdf: Uint8Array): Promise<void> {
  // execFile rejects on any exit status but 0 (qpdf exits 3 on mere warnings).
  const { stdout } = await run('qpdf', ['--check', await writeTemp(pdf)]);
  expect(stdout).to.include('No syntax or stream encoding errors found');
}

/** The last signature's ByteRange content and CMS, read straight from the bytes. */
function lastSignature(pdf: Uint8Array): { byteRange: number[]; content: Buffer; cms: Buffer } {
  const text = Buffer.from(pdf).toString('latin1');
  const matches = [...text.matchAll(/\/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]/g)];
  const byteRange = matches.at(-1)!.slice(1, 5).map(Number);
  const [start, length, secondStart, secondLength] = byteRange as [number, number, number, number];
  const bytes = Buffer.from(pdf);
  const content = Buffer.concat([
    bytes.subarray(start, start + length),
    bytes.subarray(secondStart, secondStart + secondLength),
  ]);
  const padded = Buffer.from(text.slice(start + length + 1, secondStart - 1), 'hex');
  // /Contents is zero-padded: the DER value's own length says where it ends.
  const parsed = asn1js.fromBER(padded);
  return { byteRange, content, cms: padded.subarray(0, parsed.offset) };
}

function signerInfoOf(cms: Uint8Array) {
  const contentInfo = ContentInfo.fromBER(cms);
  return new SignedData({ schema: contentInfo.content }).signerInfos[0]!;
}

/** A Python one-off with pyHanko: adds an empty signature field, as another tool would. */
async function addEmptySignatureField(
  pdf: Uint8Array,
  name: string,
  page: number,
): Promise<Uint8Array> {
  const input = await writeTemp(pdf, 'unsigned.pdf');
  const output = path.join(workDir, `${++fileCounter}-with-field.pdf`);
  const script = `
import sys
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
with open(sys.argv[1], 'rb') as source:
    writer = IncrementalPdfFileWriter(source)
    append_signature_field(writer, SigFieldSpec(sig_field_name=sys.argv[3], on_page=int(sys.argv[4]), box=(60, 600, 290, 680)))
    with open(sys.argv[2], 'wb') as target:
        writer.write(target)
`;
  await run('python3', ['-c', script, input, output, name, String(page)]);
  return new Uint8Array(await readFile(output));
}

/** Signs with pyHanko itself (the seal's PKCS#12), optionally as a certification signature. */
async function pyHankoSign(
  pdf: Uint8Array,
  field: string,
  certification: 'none' | 'no-changes' | 'form-filling',
): Promise<Uint8Array> {
  const input = await writeTemp(pdf, 'to-sign.pdf');
  const output = path.join(workDir, `${++fileCounter}-pyhanko-signed.pdf`);
  const script = `
import sys
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
signer = signers.SimpleSigner.load_pkcs12(sys.argv[3], passphrase=sys.argv[4].encode())
certification = sys.argv[6]
permissions = {'no-changes': fields.MDPPerm.NO_CHANGES, 'form-filling': fields.MDPPerm.FILL_FORMS}
metadata = signers.PdfSignatureMetadata(
    field_name=sys.argv[5],
    certify=certification != 'none',
    **({'docmdp_permissions': permissions[certification]} if certification != 'none' else {}),
)
with open(sys.argv[1], 'rb') as source:
    writer = IncrementalPdfFileWriter(source)
    with open(sys.argv[2], 'wb') as target:
        signers.sign_pdf(writer, metadata, signer=signer, output=target)
`;
  await run('python3', [
    '-c',
    script,
    input,
    output,
    pki.p12.seal,
    pki.secrets.SIGILLO_SEAL_PASSWORD!,
    field,
    certification,
  ]);
  return new Uint8Array(await readFile(output));
}

describe('PAdES signing', function () {
  this.timeout(120_000);

  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'sigillo-pades-'));
    pki = await ensureDevPki(path.join(workDir, 'pki'));
    keyRing = new KeyRing(loadKeyConfiguration(pki.keysFile), { ...process.env, ...pki.secrets });
    [seal, funzionario] = await Promise.all([
      keyRing.signer('ente-seal'),
      keyRing.signer('funzionario-ec'),
    ]);
    expect(seal.keyAlgorithm).to.equal('RSA');
    expect(funzionario.keyAlgorithm).to.equal('ECDSA');
    tsa = await startTestTsa({ ...pki.tsa, caFile: pki.caFile });
    const rendered = await renderPdf(sampleDecreto());
    act = rendered.bytes;
    areas = rendered.signatureAreas;
  });

  after(async () => {
    await tsa?.stop();
    await keyRing?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  describe('signPdf', signPdfTests);
  describe('httpTimestampAuthority', timestampAuthorityTests);
});

function signPdfTests() {
  it('appends a visible RSA signature that pyHanko validates, leaving the original bytes untouched', async () => {
    const signed = await signPdf(
      act,
      options({
        fieldName: 'sindaco',
        reason: 'Il Sindaco – approvazione del decreto',
        location: 'Sant’Elpidio a Mare',
        contactInfo: 'protocollo@comune.example.it',
        appearance: area('sindaco', 'Giovanni Bianchi', 'Il Sindaco'),
      }),
    );

    expect(Buffer.from(signed.subarray(0, act.length)).equals(Buffer.from(act))).to.equal(true);
    const [report, ...others] = await validate(signed);
    expect(others).to.have.length(0);
    expectGood(report);
    expect(report!.fieldName).to.equal('sindaco');
    expect(report!.coverage).to.equal('ENTIRE_FILE');
    expect(report!.signingTime).to.equal('2026-11-25T13:03:00+00:00');
    expect(report!.timestampPresent).to.equal(false);
    await qpdfCheck(signed);

    const text = Buffer.from(signed).toString('latin1');
    expect(text).to.include('/SubFilter /ETSI.CAdES.detached');
    expect(text).to.include('/Filter /Adobe.PPKLite');
    expect(text).to.include('/M (D:20261125130300Z)');
    expect(text).to.match(/\/SigFlags 3\b/);
  });

  it('builds the CAdES attributes PAdES asks for, which OpenSSL verifies too', async () => {
    const signed = await signPdf(act, options({ fieldName: 'sigillo' }));
    const { byteRange, content, cms } = lastSignature(signed);
    expect(byteRange[0]).to.equal(0);
    expect(byteRange[2]! + byteRange[3]!).to.equal(signed.length);

    const signerInfo = signerInfoOf(cms);
    const types = signerInfo.signedAttrs!.attributes.map((attribute) => attribute.type);
    expect(types).to.have.members([OID.contentType, OID.messageDigest, OID.signingCertificateV2]);
    // PAdES carries the claimed signing time in /M, never as a CMS attribute.
    expect(types).to.not.include('1.2.840.113549.1.9.5');
    const digest = signerInfo.signedAttrs!.attributes.find((a) => a.type === OID.messageDigest)!;
    expect(
      Buffer.from((digest.values[0] as asn1js.OctetString).valueBlock.valueHexView).toString('hex'),
    ).to.equal(createHash('sha256').update(content).digest('hex'));
    expect(signerInfo.signatureAlgorithm.algorithmId).to.equal(OID.sha256WithRSAEncryption);
    expect(signerInfo.unsignedAttrs).to.equal(undefined);

    // OpenSSL re-encodes the signed attributes before checking: this also
    // proves they were signed in DER order.
    await run('openssl', [
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      await writeTemp(cms, 'signature.p7s'),
      '-content',
      await writeTemp(content, 'content.bin'),
      '-CAfile',
      pki.caFile,
      '-purpose',
      'any',
      '-out',
      '/dev/null',
    ]);
  });

  it('signs with an ECDSA key (invisible signature)', async () => {
    const signed = await signPdf(act, options({ signer: funzionario, fieldName: 'designato' }));
    const [report] = await validate(signed);
    expectGood(report);
    expect(report!.coverage).to.equal('ENTIRE_FILE');
    const signerInfo = signerInfoOf(lastSignature(signed).cms);
    expect(signerInfo.signatureAlgorithm.algorithmId).to.equal(OID.ecdsaWithSHA256);
    expect(Buffer.from(signed).toString('latin1')).to.include('/Rect [ 0 0 0 0 ]');
    await qpdfCheck(signed);
  });

  it('keeps every earlier signature valid across three sequential signatures', async () => {
    const first = await signPdf(
      act,
      options({
        fieldName: 'sindaco',
        appearance: area('sindaco', 'Giovanni Bianchi', 'Il Sindaco'),
      }),
    );
    const second = await signPdf(
      first,
      options({
        signer: funzionario,
        fieldName: 'designato',
        appearance: area('designato', 'Maria Rossi', 'Per accettazione, il Designato'),
      }),
    );
    const third = await signPdf(second, options({ fieldName: 'sigillo' }));
    expect(Buffer.from(third.subarray(0, second.length)).equals(Buffer.from(second))).to.equal(
      true,
    );
    expect(Buffer.from(second.subarray(0, first.length)).equals(Buffer.from(first))).to.equal(true);

    const reports = await validate(third);
    expect(reports.map((report) => report.fieldName)).to.deep.equal([
      'sindaco',
      'designato',
      'sigillo',
    ]);
    for (const report of reports) expectGood(report);
    for (const earlier of reports.slice(0, 2)) {
      expect(earlier.coverage, earlier.fieldName).to.equal('ENTIRE_REVISION');
      // FORM_FILLING is pyHanko's level for "new signatures and form fields only".
      expect(earlier.modificationLevel, earlier.fieldName).to.equal('FORM_FILLING');
      expect(earlier.docmdpOk, earlier.fieldName).to.equal(true);
    }
    expect(reports[2]!.coverage).to.equal('ENTIRE_FILE');
    expect(reports[2]!.modificationLevel).to.equal('NONE');
    await qpdfCheck(third);
  });

  it('makes a PAdES B-T signature with a time-stamp from the openssl TSA', async () => {
    const before = tsa.issued;
    const signed = await signPdf(
      act,
      options({
        fieldName: 'sindaco',
        timestampAuthority: httpTimestampAuthority(tsa.url, { timeoutMs: 10_000 }),
        appearance: area('sindaco', 'Giovanni Bianchi', 'Il Sindaco'),
      }),
    );
    expect(tsa.issued).to.equal(before + 1);
    const [report] = await validate(signed);
    expectGood(report);
    expect(report!.timestampPresent).to.equal(true);
    expect(report!.timestampValid, JSON.stringify(report)).to.equal(true);

    // The token stamps the signature value, as the signature-time-stamp attribute requires.
    const signerInfo = signerInfoOf(lastSignature(signed).cms);
    const attribute = signerInfo.unsignedAttrs!.attributes[0]!;
    expect(attribute.type).to.equal(OID.signatureTimeStampToken);
    const token = new SignedData({
      schema: new ContentInfo({ schema: attribute.values[0] as asn1js.Sequence }).content,
    });
    const info = TSTInfo.fromBER(token.encapContentInfo.eContent!.getValue());
    expect(
      Buffer.from(info.messageImprint.hashedMessage.valueBlock.valueHexView).toString('hex'),
    ).to.equal(
      createHash('sha256').update(signerInfo.signature.valueBlock.valueHexView).digest('hex'),
    );
    await qpdfCheck(signed);
  });

  it('is no longer intact once one byte of a signed range changes', async () => {
    const signed = await signPdf(act, options({ fieldName: 'sindaco' }));
    const tampered = Uint8Array.from(signed);
    // Inside the first content stream's data: the structure still parses.
    const position = Buffer.from(act).indexOf('stream\n') + 'stream\n'.length + 10;
    tampered[position] = tampered[position]! ^ 0x01;
    const [report] = await validate(tampered);
    expect(report!.intact, JSON.stringify(report)).to.equal(false);
    expect(report!.bottomLine).to.equal(false);
  });

  it('shows the name, the role, the time in Rome and the legal notice', async () => {
    const signed = await signPdf(
      act,
      options({
        fieldName: 'designato',
        signer: funzionario,
        appearance: area('designato', 'Maria Rossi Pèrez', 'Per accettazione, il Designato'),
      }),
    );
    const text = (await pdfText(signed)).replace(/\s+/g, ' ');
    expect(text).to.include('Maria Rossi Pèrez');
    expect(text).to.include('Per accettazione, il Designato Firmato il 25/11/2026 alle 14:03');
    expect(text).to.include(LAW_LINE);
  });

  it('shrinks or wraps the text to fit a small box', async () => {
    const signed = await signPdf(
      act,
      options({
        fieldName: 'piccola',
        appearance: {
          page: 1,
          x: 400,
          y: 100,
          width: 90,
          height: 40,
          name: 'Dott.ssa Maria Teresa Esposito De Laurentiis',
          role: 'Responsabile del Servizio Tributi',
        },
      }),
    );
    const { stdout } = await run('pdftotext', [
      '-f',
      '2',
      '-l',
      '2',
      '-x',
      '400',
      '-y',
      String(842 - 140),
      '-W',
      '90',
      '-H',
      '40',
      '-r',
      '72',
      '-enc',
      'UTF-8',
      await writeTemp(signed),
      '-',
    ]);
    const text = stdout.replace(/\s+/g, ' ');
    for (const word of ['Esposito', 'Tributi', '14:03', '82/2005']) expect(text).to.include(word);
    const [report] = await validate(signed);
    expectGood(report);
  });

  it('refuses to sign a field twice', async () => {
    const signed = await signPdf(act, options({ fieldName: 'sindaco' }));
    const error = await signPdf(signed, options({ fieldName: 'sindaco' })).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(PdfSigningError);
    expect((error as PdfSigningError).reason).to.equal('field-already-signed');
    expect((error as PdfSigningError).message).to.include('"sindaco" is already signed');
  });

  it('fills an empty signature field another tool laid out', async () => {
    const prepared = await addEmptySignatureField(act, 'sindaco', 1);
    const signed = await signPdf(
      prepared,
      options({
        fieldName: 'sindaco',
        appearance: area('sindaco', 'Giovanni Bianchi', 'Il Sindaco'),
      }),
    );
    const [report, ...others] = await validate(signed);
    expect(others).to.have.length(0);
    expectGood(report);
    expect(report!.fieldName).to.equal('sindaco');
    // Filled in place: still one field, and one widget on its page.
    const document = await PDFDocument.load(signed, { updateMetadata: false });
    expect(
      document
        .getForm()
        .getFields()
        .map((field) => field.getName()),
    ).to.deep.equal(['sindaco']);
    expect(document.getPage(1).node.Annots()?.size()).to.equal(1);
    await qpdfCheck(signed);
  });

  it('writes an xref stream when the document ends with one (object streams)', async () => {
    const source = await writeTemp(act, 'classic.pdf');
    const compressed = path.join(workDir, 'object-streams.pdf');
    await run('qpdf', ['--object-streams=generate', source, compressed]);
    const withObjectStreams = new Uint8Array(await readFile(compressed));
    expect(Buffer.from(withObjectStreams).toString('latin1')).to.include('/Type /ObjStm');

    const first = await signPdf(
      withObjectStreams,
      options({
        fieldName: 'sindaco',
        appearance: area('sindaco', 'Giovanni Bianchi', 'Il Sindaco'),
      }),
    );
    const second = await signPdf(first, options({ signer: funzionario, fieldName: 'designato' }));
    const update = Buffer.from(second.subarray(first.length)).toString('latin1');
    expect(update).to.include('/Type /XRef');
    expect(update).to.not.match(/^xref$/m);

    const reports = await validate(second);
    expect(reports).to.have.length(2);
    for (const report of reports) expectGood(report);
    expect(reports[0]!.coverage).to.equal('ENTIRE_REVISION');
    expect(reports[0]!.modificationLevel).to.equal('FORM_FILLING');
    expect(reports[1]!.coverage).to.equal('ENTIRE_FILE');
    await qpdfCheck(second);
  });

  it('signs after a signature pyHanko made, and both stay valid', async () => {
    const first = await pyHankoSign(act, 'approvazione', 'none');
    const signed = await signPdf(
      first,
      options({
        signer: funzionario,
        fieldName: 'designato',
        appearance: area('designato', 'Maria Rossi', 'Per accettazione, il Designato'),
      }),
    );
    const reports = await validate(signed);
    expect(reports.map((report) => report.fieldName)).to.deep.equal(['approvazione', 'designato']);
    for (const report of reports) expectGood(report);
    expect(reports[0]!.coverage).to.equal('ENTIRE_REVISION');
    expect(reports[0]!.modificationLevel).to.equal('FORM_FILLING');
    await qpdfCheck(signed);
  });

  it('adds an invisible signature to a document certified for form filling', async () => {
    // pyHanko flags a new *visible* field after a certification signature
    // (only approval signatures allow one): such documents must come with
    // their fields laid out, which signPdf then fills.
    const certified = await pyHankoSign(act, 'certificazione', 'form-filling');
    const signed = await signPdf(
      certified,
      options({ signer: funzionario, fieldName: 'designato' }),
    );
    const reports = await validate(signed);
    for (const report of reports) expectGood(report);
    expect(reports[0]!.modificationLevel).to.equal('FORM_FILLING');
    expect(reports[0]!.docmdpOk).to.equal(true);
  });

  it('refuses a document certified with no changes allowed', async () => {
    const certified = await pyHankoSign(act, 'certificazione', 'no-changes');
    const error = await signPdf(certified, options({ fieldName: 'sindaco' })).catch(
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(PdfSigningError);
    expect((error as PdfSigningError).reason).to.equal('certified-no-changes');
  });

  it('is deterministic given the same inputs (RSA, no time-stamp)', async () => {
    const appearance = area('sindaco', 'Giovanni Bianchi', 'Il Sindaco');
    const once = await signPdf(act, options({ fieldName: 'sindaco', appearance }));
    const twice = await signPdf(act, options({ fieldName: 'sindaco', appearance }));
    expect(Buffer.from(once).equals(Buffer.from(twice))).to.equal(true);
  });

  it('fails clearly when the CMS would not fit /Contents', async () => {
    const oversized: TimestampAuthority = {
      // A well-formed but absurd 40 KB "token".
      stamp: () =>
        Promise.resolve(
          new Uint8Array(new asn1js.OctetString({ valueHex: new Uint8Array(40_000) }).toBER()),
        ),
    };
    const error = await signPdf(
      act,
      options({ fieldName: 'sindaco', timestampAuthority: oversized }),
    ).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(PdfSigningError);
    expect((error as PdfSigningError).reason).to.equal('signature-too-large');
  });

  it('rejects a page the document does not have', async () => {
    const error = await signPdf(
      act,
      options({
        fieldName: 'sindaco',
        appearance: { ...area('sindaco', 'Giovanni Bianchi', 'Il Sindaco'), page: 7 },
      }),
    ).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(PdfSigningError);
    expect((error as PdfSigningError).reason).to.equal('invalid-appearance');
  });
}

function timestampAuthorityTests() {
  const digest = createHash('sha256').update('firma').digest();
  let proxies: Server[] = [];

  afterEach(async () => {
    await Promise.all(proxies.map((proxy) => new Promise((resolve) => proxy.close(resolve))));
    proxies = [];
  });

  /** A man in the middle that alters each query before the real TSA answers it. */
  async function tamperingProxy(tamper: (request: TimeStampReq) => void): Promise<string> {
    const proxy = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const query = TimeStampReq.fromBER(Buffer.concat(chunks));
        tamper(query);
        fetch(tsa.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/timestamp-query' },
          body: new Uint8Array(query.toSchema().toBER()),
        })
          .then(async (answer) => {
            response.writeHead(answer.status).end(Buffer.from(await answer.arrayBuffer()));
          })
          .catch(() => response.writeHead(502).end());
      });
    });
    proxies.push(proxy);
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`;
  }

  async function failure(url: string): Promise<TimestampUnavailableError> {
    const error = await httpTimestampAuthority(url, { timeoutMs: 5_000 })
      .stamp(digest)
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TimestampUnavailableError);
    return error as TimestampUnavailableError;
  }

  it('returns a token over the digest it was given', async () => {
    const token = await httpTimestampAuthority(tsa.url, { timeoutMs: 10_000 }).stamp(digest);
    const signedData = new SignedData({ schema: ContentInfo.fromBER(token).content });
    const info = TSTInfo.fromBER(signedData.encapContentInfo.eContent!.getValue());
    expect(
      Buffer.from(info.messageImprint.hashedMessage.valueBlock.valueHexView).equals(digest),
    ).to.equal(true);
    expect(signedData.certificates?.length ?? 0).to.be.greaterThan(0);
  });

  it('reports an unreachable authority', async () => {
    const error = await failure('http://127.0.0.1:1/tsa');
    expect(error.reason).to.equal('unreachable');
    expect(error.message).to.include('unreachable');
  });

  it('reports an HTTP error', async () => {
    const proxy = createServer((_request, response) => response.writeHead(503).end());
    proxies.push(proxy);
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const error = await failure(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`);
    expect(error.reason).to.equal('http-error');
    expect(error.message).to.include('503');
  });

  it('reports a refusal (a digest algorithm the TSA does not accept)', async () => {
    const url = await tamperingProxy((query) => {
      query.messageImprint.hashAlgorithm.algorithmId = '1.3.14.3.2.26'; // SHA-1
      query.messageImprint.hashedMessage = new asn1js.OctetString({ valueHex: new Uint8Array(20) });
    });
    const error = await failure(url);
    expect(error.reason).to.equal('refused');
    expect(error.message).to.include('refused');
  });

  it('reports a token over another digest', async () => {
    const url = await tamperingProxy((query) => {
      query.messageImprint.hashedMessage = new asn1js.OctetString({ valueHex: new Uint8Array(32) });
    });
    const error = await failure(url);
    expect(error.reason).to.equal('wrong-imprint');
  });

  it('reports a token with another nonce', async () => {
    const url = await tamperingProxy((query) => {
      query.nonce = new asn1js.Integer({ value: 42 });
    });
    const error = await failure(url);
    expect(error.reason).to.equal('wrong-nonce');
  });
}
