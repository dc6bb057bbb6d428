/**
 * Sigillo's signature verifier, held to files made by independent tools:
 * certificates from the openssl CLI, PAdES signatures (and their validation,
 * which the verifier must agree with) from pyHanko, CAdES envelopes from
 * `openssl cms`. Nothing here is signed by Sigillo itself.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { renderPdf } from '../../server/documents/render-pdf.js';
import {
  codiceFiscaleFromSerialNumber,
  NotAPdfError,
  NotASignedEnvelopeError,
  parsePdfDate,
  UnreadablePdfError,
  verifyCadesEnvelope,
  verifyPdfSignatures,
  type SignatureReport,
} from '../../server/signatures/verify.js';
import { sampleDecreto } from '../documents/sample-model.js';
import {
  createOpensslPki,
  EC_SIGNER_CODICE_FISCALE,
  PKCS12_PASSPHRASE,
  RSA_SIGNER_CODICE_FISCALE,
  type OpensslPki,
  type PkiIdentity,
} from '../support/openssl-pki.js';

const run = promisify(execFile);
const PYHANKO_SCRIPT = path.join(import.meta.dirname, '../support/pyhanko_sign.py');

interface PyHankoVerdict {
  field: string;
  error?: string;
  intact: boolean;
  valid: boolean;
  trusted: boolean;
  coverage: 'ENTIRE_FILE' | 'ENTIRE_REVISION' | 'CONTIGUOUS_BLOCK_FROM_START' | 'UNCLEAR' | null;
  modificationLevel: 'NONE' | 'LTA_UPDATES' | 'FORM_FILLING' | 'ANNOTATIONS' | 'OTHER' | null;
  bottomLine: boolean;
  signingCertificateSerial: string;
  timestamp: { intact: boolean; valid: boolean; trusted: boolean; time: string } | null;
}

interface PyHankoCmsVerdict {
  intact: boolean;
  valid: boolean;
  trusted: boolean;
  bottomLine: boolean;
  signingCertificateSerial: string;
}

/** Runs pyhanko_sign.py on a batch of operations: one interpreter start for all of them. */
function pyhanko(operations: object[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [PYHANKO_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(Buffer.concat(stdout).toString('utf8')) as unknown[]);
      else reject(new Error(`pyhanko_sign.py exited ${code}: ${Buffer.concat(stderr).toString()}`));
    });
    child.stdin.end(JSON.stringify(operations));
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** pyHanko's modification levels, in Sigillo's three words. */
function modificationsFromPyHanko(
  level: PyHankoVerdict['modificationLevel'],
): SignatureReport['modificationsAfter'] {
  if (level === null || level === 'NONE') return 'none';
  if (level === 'LTA_UPDATES' || level === 'FORM_FILLING') return 'signatures-only';
  return 'other';
}

/** Sigillo's report and pyHanko's verdict say the same of every signature. */
function expectAgreement(reports: SignatureReport[], verdicts: PyHankoVerdict[]): void {
  expect(reports.map((report) => report.fieldName)).to.have.members(
    verdicts.map((verdict) => verdict.field),
  );
  for (const report of reports) {
    const verdict = verdicts.find((candidate) => candidate.field === report.fieldName);
    const where = `${report.fieldName}: ${JSON.stringify(verdict)}`;
    if (!verdict) throw new Error(`pyHanko did not see ${report.fieldName}`);
    expect(verdict.error, where).to.equal(undefined);
    expect(report.signer.certificateSerial, where).to.equal(verdict.signingCertificateSerial);
    expect(report.intact, where).to.equal(verdict.intact && verdict.valid);
    // pyHanko does not look for a chain once the signature is broken; Sigillo still does.
    if (verdict.intact && verdict.valid) expect(report.trusted, where).to.equal(verdict.trusted);
    expect(report.coversWholeDocument, where).to.equal(verdict.coverage === 'ENTIRE_FILE');
    expect(report.coversRevision, where).to.equal(
      verdict.coverage === 'ENTIRE_FILE' || verdict.coverage === 'ENTIRE_REVISION',
    );
    expect(report.modificationsAfter, where).to.equal(
      modificationsFromPyHanko(verdict.modificationLevel),
    );
    expect(report.valid, where).to.equal(verdict.bottomLine);
    if (verdict.timestamp) {
      expect(report.timestamp?.intact, where).to.equal(
        verdict.timestamp.intact && verdict.timestamp.valid,
      );
    }
  }
}

function expectCmsAgreement(reports: SignatureReport[], verdicts: PyHankoCmsVerdict[]): void {
  expect(reports).to.have.length(verdicts.length);
  reports.forEach((report, index) => {
    const verdict = verdicts[index] as PyHankoCmsVerdict;
    const where = JSON.stringify(verdict);
    expect(report.signer.certificateSerial, where).to.equal(verdict.signingCertificateSerial);
    expect(report.intact, where).to.equal(verdict.intact && verdict.valid);
    expect(report.trusted, where).to.equal(verdict.trusted);
    expect(report.valid, where).to.equal(verdict.bottomLine);
  });
}

/** Flips a byte in the middle of the largest stream that ends before `limit`. */
function flipByteInsideAStream(pdf: Uint8Array, limit: number): { bytes: Buffer; at: number } {
  const text = Buffer.from(pdf).toString('latin1').slice(0, limit);
  let best = { start: 0, end: 0 };
  for (const match of text.matchAll(/stream\r?\n/g)) {
    const start = (match.index ?? 0) + match[0].length;
    const end = text.indexOf('endstream', start);
    if (end > start && end - start > best.end - best.start) best = { start, end };
  }
  const at = Math.floor((best.start + best.end) / 2);
  const bytes = Buffer.from(pdf);
  bytes[at] = (bytes[at] ?? 0) ^ 0xff;
  return { bytes, at };
}

describe('signature verifier', function () {
  let workDir = '';
  let pki: OpensslPki;
  let options: { trustAnchors: Uint8Array[] };
  const files: Record<string, string> = {};
  const verdicts: Record<string, PyHankoVerdict[]> = {};
  const cmsVerdicts: Record<string, PyHankoCmsVerdict[]> = {};
  const read = (name: string) => readFile(files[name] as string);

  before(async function () {
    this.timeout(180_000);
    workDir = await mkdtemp(path.join(tmpdir(), 'sigillo-verify-'));
    pki = await createOpensslPki(path.join(workDir, 'pki'));
    options = { trustAnchors: [pki.root.certificateDer] };
    for (const name of [
      'unsigned',
      'single',
      'triple-1',
      'triple-2',
      'triple',
      'untrusted',
      'expired',
      'modified',
      'retitled',
      'timestamped',
      'tampered',
    ]) {
      files[name] = path.join(workDir, `${name}.pdf`);
    }
    const rendered = await renderPdf(sampleDecreto());
    expect(rendered.pageCount).to.equal(2);
    await writeFile(files.unsigned as string, rendered.bytes);

    const timestamp = {
      certificate: pki.timestampAuthority.certificatePath,
      key: pki.timestampAuthority.keyPath,
      chain: [pki.root.certificatePath],
    };
    const sign = (
      input: string,
      output: string,
      signer: PkiIdentity,
      field: string,
      extra: { box?: number[]; page?: number; timestamp?: typeof timestamp } = {},
    ) => ({
      op: 'sign',
      input: files[input],
      output: files[output],
      pkcs12: signer.pkcs12Path,
      passphrase: PKCS12_PASSPHRASE,
      field,
      ...extra,
    });
    const validate = (name: string) => ({
      op: 'validate',
      input: files[name],
      trustRoots: [pki.root.certificatePath],
    });
    await pyhanko([
      sign('unsigned', 'single', pki.rsaSigner, 'Sindaco', { timestamp }),
      // Three signatures in sequence: invisible, then visible on page 1 and on page 2.
      sign('unsigned', 'triple-1', pki.rsaSigner, 'Sindaco', { timestamp }),
      sign('triple-1', 'triple-2', pki.ecSigner, 'Designato', { box: [60, 60, 260, 120] }),
      sign('triple-2', 'triple', pki.rsaSigner, 'Segretario', {
        box: [320, 60, 520, 120],
        page: 1,
      }),
      sign('unsigned', 'untrusted', pki.untrustedSigner, 'Firma'),
      // pyHanko's signer does not check the certificate's validity: it signs "now" with it.
      sign('unsigned', 'expired', pki.expiredSigner, 'Firma'),
      { op: 'append-page-content', input: files.single, output: files.modified },
      {
        op: 'set-title',
        input: files.single,
        output: files.retitled,
        title: 'Decreto del Sindaco n. 13 del 24 novembre 2026',
      },
      { op: 'timestamp-document', input: files.single, output: files.timestamped, timestamp },
    ]);

    const single = await read('single');
    const firstRangeEnd = single.indexOf('/Contents <');
    const { bytes: tampered, at } = flipByteInsideAStream(single, firstRangeEnd);
    expect(at).to.be.below(firstRangeEnd);
    await writeFile(files.tampered as string, tampered);

    files['single.p7m'] = path.join(workDir, 'single.pdf.p7m');
    files['double.p7m'] = path.join(workDir, 'double.pdf.p7m');
    // prettier-ignore
    await run('openssl', [
      'cms', '-sign', '-binary', '-nodetach', '-outform', 'DER', '-md', 'sha256', '-cades',
      '-in', files.unsigned as string, '-signer', pki.rsaSigner.certificatePath,
      '-inkey', pki.rsaSigner.keyPath, '-out', files['single.p7m'],
    ]);
    // prettier-ignore
    await run('openssl', [
      'cms', '-resign', '-binary', '-nodetach', '-inform', 'DER', '-outform', 'DER',
      '-md', 'sha256', '-cades', '-in', files['single.p7m'],
      '-signer', pki.ecSigner.certificatePath, '-inkey', pki.ecSigner.keyPath,
      '-out', files['double.p7m'],
    ]);

    const checked = [
      'single',
      'triple',
      'untrusted',
      'expired',
      'modified',
      'retitled',
      'timestamped',
    ];
    const results = await pyhanko([
      ...[...checked, 'tampered'].map(validate),
      ...['single.p7m', 'double.p7m'].map((name) => ({ ...validate(name), op: 'validate-cms' })),
    ]);
    [...checked, 'tampered'].forEach((name, index) => {
      verdicts[name] = results[index] as PyHankoVerdict[];
    });
    cmsVerdicts['single.p7m'] = results.at(-2) as PyHankoCmsVerdict[];
    cmsVerdicts['double.p7m'] = results.at(-1) as PyHankoCmsVerdict[];
  });

  after(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  describe('PAdES', () => {
    it('reports one valid, time-stamped signature and who signed it', async () => {
      const reports = await verifyPdfSignatures(await read('single'), options);
      expect(reports).to.have.length(1);
      const [report] = reports as [SignatureReport];
      expect(report).to.deep.include({
        fieldName: 'Sindaco',
        kind: 'PAdES',
        subFilter: 'ETSI.CAdES.detached',
        digestAlgorithm: 'SHA-256',
        issuer: 'C=IT, O=Sigillo test, CN=Sigillo Test Root CA',
        coversWholeDocument: true,
        coversRevision: true,
        intact: true,
        certificateValidAtSigningTime: true,
        trusted: true,
        modificationsAfter: 'none',
        valid: true,
        problems: [],
      });
      expect(report.signer).to.deep.equal({
        commonName: 'Maria Rossi',
        codiceFiscale: RSA_SIGNER_CODICE_FISCALE,
        subject:
          'C=IT, O=Comune di Prova, GN=Maria, SN=Rossi, serialNumber=TINIT-RSSMRA80A41H501U, CN=Maria Rossi',
        certificateSerial: verdicts.single?.[0]?.signingCertificateSerial,
      });
      expect(Date.now() - Date.parse(report.signingTime ?? '')).to.be.within(0, 10 * 60_000);
      expect(report.timestamp).to.include({ authority: 'Sigillo Test TSA', intact: true });
      expect(Date.parse(report.timestamp?.time ?? '')).to.equal(
        Date.parse(verdicts.single?.[0]?.timestamp?.time ?? ''),
      );
      expectAgreement(reports, verdicts.single ?? []);
    });

    it('accepts three sequential signatures, each later one only adding a signature', async () => {
      const reports = await verifyPdfSignatures(await read('triple'), options);
      expect(reports.map((report) => report.fieldName)).to.deep.equal([
        'Sindaco',
        'Designato',
        'Segretario',
      ]);
      expect(reports.map((report) => report.valid)).to.deep.equal([true, true, true]);
      expect(reports.map((report) => report.modificationsAfter)).to.deep.equal([
        'signatures-only',
        'signatures-only',
        'none',
      ]);
      expect(reports.map((report) => report.coversWholeDocument)).to.deep.equal([
        false,
        false,
        true,
      ]);
      expect(reports.map((report) => report.coversRevision)).to.deep.equal([true, true, true]);
      expect(reports[1]?.signer).to.include({
        commonName: 'Niccolò Bianchi',
        codiceFiscale: EC_SIGNER_CODICE_FISCALE,
      });
      expect(reports.every((report) => report.problems.length === 0)).to.equal(true);
      expectAgreement(reports, verdicts.triple ?? []);
    });

    it('finds the signatures of the earlier revisions in the same bytes', async () => {
      const bytes = await read('triple');
      const earlier = await read('triple-2');
      expect(Buffer.from(bytes).subarray(0, earlier.length).equals(earlier)).to.equal(true);
      const reports = await verifyPdfSignatures(earlier, options);
      expect(reports.map((report) => [report.fieldName, report.modificationsAfter])).to.deep.equal([
        ['Sindaco', 'signatures-only'],
        ['Designato', 'none'],
      ]);
    });

    it('takes a document time-stamp added later as a signature-only change', async () => {
      const reports = await verifyPdfSignatures(await read('timestamped'), options);
      expect(reports).to.have.length(2);
      const [signature, documentTimestamp] = reports as [SignatureReport, SignatureReport];
      expect(signature).to.include({ modificationsAfter: 'signatures-only', valid: true });
      expect(documentTimestamp).to.include({
        subFilter: 'ETSI.RFC3161',
        coversWholeDocument: true,
        intact: true,
        trusted: true,
        valid: true,
      });
      expect(documentTimestamp.signer.commonName).to.equal('Sigillo Test TSA');
      expectAgreement(reports, verdicts.timestamped ?? []);
    });

    it('notices one byte changed inside the signed range', async () => {
      const reports = await verifyPdfSignatures(await read('tampered'), options);
      expect(reports).to.have.length(1);
      expect(reports[0]).to.include({ intact: false, valid: false, trusted: true });
      expect(reports[0]?.problems).to.include(
        "l'impronta non corrisponde: il documento è stato modificato dopo la firma",
      );
      expectAgreement(reports, verdicts.tampered ?? []);
    });

    it('rejects an incremental update that changes the page after signing', async () => {
      const reports = await verifyPdfSignatures(await read('modified'), options);
      expect(reports).to.have.length(1);
      expect(reports[0]).to.include({
        intact: true,
        coversRevision: true,
        coversWholeDocument: false,
        modificationsAfter: 'other',
        valid: false,
      });
      expect(reports[0]?.problems.join('\n')).to.match(
        /modificato dopo la firma con modifiche diverse dall'aggiunta di firme: .*pagina/,
      );
      expectAgreement(reports, verdicts.modified ?? []);
    });

    it('takes a retitled document as changed, where pyHanko lets /Info change', async () => {
      // The renderer shows /Title in the viewer's title bar: a new title after
      // signing relabels the act. pyHanko's default policy accepts any /Info update.
      const reports = await verifyPdfSignatures(await read('retitled'), options);
      expect(reports[0]).to.include({ intact: true, modificationsAfter: 'other', valid: false });
      expect(reports[0]?.problems.join('\n')).to.include(
        'i metadati del documento sono cambiati (/Title)',
      );
      const [verdict] = verdicts.retitled ?? [];
      expect(verdict).to.include({ modificationLevel: 'LTA_UPDATES', bottomLine: true });
    });

    it('does not trust a signer whose CA is not a trust anchor', async () => {
      const reports = await verifyPdfSignatures(await read('untrusted'), options);
      expect(reports[0]).to.include({
        intact: true,
        trusted: false,
        certificateValidAtSigningTime: true,
        valid: false,
      });
      expect(reports[0]?.problems).to.deep.equal([
        "il certificato non è emesso da un'autorità di certificazione attendibile",
      ]);
      expectAgreement(reports, verdicts.untrusted ?? []);
    });

    it('trusts nothing when the deployment configures no anchor', async () => {
      const reports = await verifyPdfSignatures(await read('single'), { trustAnchors: [] });
      expect(reports[0]).to.include({ intact: true, trusted: false, valid: false });
    });

    it('flags a certificate that had expired when the document was signed', async () => {
      const reports = await verifyPdfSignatures(await read('expired'), options);
      expect(reports[0]).to.include({
        intact: true,
        certificateValidAtSigningTime: false,
        trusted: false,
        valid: false,
      });
      expect(reports[0]?.problems).to.have.length(1);
      expect(reports[0]?.problems[0]).to.match(
        /^il certificato del firmatario non era valido alla data della firma .*al 2020-12-31/,
      );
      expectAgreement(reports, verdicts.expired ?? []);
    });

    it('gives [] for a PDF without signatures', async () => {
      expect(await verifyPdfSignatures(await read('unsigned'), options)).to.deep.equal([]);
    });

    it('throws UnreadablePdfError on a truncated PDF', async () => {
      const single = await read('single');
      const error = await rejectionOf(
        verifyPdfSignatures(single.subarray(0, Math.floor(single.length / 2)), options),
      );
      expect(error).to.be.instanceOf(UnreadablePdfError);
      expect(error.message).to.include('%%EOF');

      // Cut inside the last incremental update: the earlier revisions still end in %%EOF.
      const triple = await read('triple');
      const cut = await rejectionOf(
        verifyPdfSignatures(triple.subarray(0, triple.length - 200), options),
      );
      expect(cut).to.be.instanceOf(UnreadablePdfError);
      expect(cut.message).to.include('troncato');
    });

    it('throws NotAPdfError on anything else', async () => {
      for (const bytes of [
        Buffer.from('questo non è un PDF'),
        new Uint8Array(0),
        await read('single.p7m'),
      ]) {
        const error = await rejectionOf(verifyPdfSignatures(bytes, options));
        expect(error).to.be.instanceOf(NotAPdfError);
        expect(error.message).to.equal("il file non è un PDF: manca l'intestazione %PDF-");
      }
    });

    it('measures the verification of the three-signature PDF', async () => {
      const bytes = await read('triple');
      const times: number[] = [];
      for (let iteration = 0; iteration < 60; iteration++) {
        const start = performance.now();
        await verifyPdfSignatures(bytes, options);
        times.push(performance.now() - start);
      }
      const first = times[0] as number;
      const warm = times.slice(10).sort((a, b) => a - b);
      const mean = warm.reduce((sum, time) => sum + time, 0) / warm.length;
      const p95 = warm[Math.floor(warm.length * 0.95)] as number;
      console.log(
        `      3-signature PDF (${bytes.length} bytes): first ${first.toFixed(1)} ms, then mean ${mean.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`,
      );
    });
  });

  describe('CAdES (.p7m)', () => {
    it('gives back exactly the signed PDF and its valid signer', async () => {
      const { content, signatures } = await verifyCadesEnvelope(await read('single.p7m'), options);
      expect(Buffer.from(content).equals(await read('unsigned'))).to.equal(true);
      expect(signatures).to.have.length(1);
      expect(signatures[0]).to.deep.include({
        fieldName: null,
        kind: 'CAdES',
        subFilter: null,
        digestAlgorithm: 'SHA-256',
        intact: true,
        trusted: true,
        certificateValidAtSigningTime: true,
        coversWholeDocument: true,
        modificationsAfter: 'none',
        valid: true,
        timestamp: null,
        problems: [],
      });
      expect(signatures[0]?.signer.codiceFiscale).to.equal(RSA_SIGNER_CODICE_FISCALE);
      expect(signatures[0]?.signingTime).to.be.a('string');
      expectCmsAgreement(signatures, cmsVerdicts['single.p7m'] ?? []);
    });

    it('reports every signer of an envelope signed twice, in DER, base64 or PEM', async () => {
      const der = await read('double.p7m');
      const base64 = der.toString('base64');
      const pem = `-----BEGIN PKCS7-----\n${base64.replace(/.{64}/g, '$&\n')}\n-----END PKCS7-----\n`;
      for (const input of [der, Buffer.from(base64), Buffer.from(pem)]) {
        const { content, signatures } = await verifyCadesEnvelope(input, options);
        expect(Buffer.from(content).equals(await read('unsigned'))).to.equal(true);
        expect(signatures.map((signature) => signature.signer.codiceFiscale)).to.have.members([
          RSA_SIGNER_CODICE_FISCALE,
          EC_SIGNER_CODICE_FISCALE,
        ]);
        expect(signatures.map((signature) => signature.valid)).to.deep.equal([true, true]);
        expectCmsAgreement(signatures, cmsVerdicts['double.p7m'] ?? []);
      }
      // The input is left as it was given.
      expect(der.equals(await read('double.p7m'))).to.equal(true);
    });

    it('agrees with openssl cms -verify on the content', async () => {
      const out = path.join(workDir, 'openssl-content.pdf');
      // prettier-ignore
      await run('openssl', [
        'cms', '-verify', '-binary', '-inform', 'DER', '-in', files['double.p7m'] as string,
        '-CAfile', pki.root.certificatePath, '-out', out,
      ]);
      const { content } = await verifyCadesEnvelope(await read('double.p7m'), options);
      expect(Buffer.from(content).equals(await readFile(out))).to.equal(true);
    });

    it('throws NotASignedEnvelopeError on anything else', async () => {
      for (const bytes of [
        await read('unsigned'),
        Buffer.from('non è una busta'),
        Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]),
      ]) {
        const error = await rejectionOf(verifyCadesEnvelope(bytes, options));
        expect(error).to.be.instanceOf(NotASignedEnvelopeError);
        expect(error.message).to.match(/busta firmata CAdES/);
      }
    });
  });

  describe('fields', () => {
    it('reads the codice fiscale from TINIT- serial numbers or bare ones', () => {
      expect(codiceFiscaleFromSerialNumber('TINIT-RSSMRA80A41H501U')).to.equal('RSSMRA80A41H501U');
      expect(codiceFiscaleFromSerialNumber('rssmra80a41h501u')).to.equal('RSSMRA80A41H501U');
      expect(codiceFiscaleFromSerialNumber('TINIT-12345678901')).to.equal(null);
      expect(codiceFiscaleFromSerialNumber('IT:RSSMRA80A41H501U')).to.equal(null);
      expect(codiceFiscaleFromSerialNumber(null)).to.equal(null);
    });

    it('reads PDF dates with and without offsets', () => {
      expect(parsePdfDate("D:20261124093000+01'00'")?.toISOString()).to.equal(
        '2026-11-24T08:30:00.000Z',
      );
      expect(parsePdfDate('D:20261124093000Z')?.toISOString()).to.equal('2026-11-24T09:30:00.000Z');
      expect(parsePdfDate('D:2026')?.toISOString()).to.equal('2026-01-01T00:00:00.000Z');
      expect(parsePdfDate('ieri')).to.equal(null);
    });
  });
});
