import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { expectOk } from '../appointments/support.js';
import { testEnvironment } from '../support/environment.js';
import { call } from '../support/http.js';
import { validateWithPyHanko } from '../support/pyhanko.js';
import { normalise, pdfText, qpdfCheck } from '../support/readers.js';
import {
  download,
  generatedNomina,
  issuedNomina,
  requestSignatures,
  signingEnte,
  type RequestJson,
  type SigningEnte,
} from './support.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface DocumentJson {
  id: string;
  pdf: { sha256: string };
  signedVersions: {
    number: number;
    file: { sha256: string; size: number };
    format: string;
    source: string;
  }[];
  links: { signed: string | null };
}

interface ReportJson {
  fieldName: string | null;
  signer: { commonName: string | null; codiceFiscale: string | null };
  timestamp: { time: string } | null;
  intact: boolean;
  trusted: boolean;
  valid: boolean;
  coversWholeDocument: boolean;
  modificationsAfter: string;
}

describe('signature requests: ordered signers, keys held by Sigillo', function () {
  this.timeout(120_000);
  let ente: SigningEnte;

  before(async () => {
    ente = await signingEnte();
  });

  it('signs in order with the token key then the file key; each signature stays valid; the act becomes signed then accepted', async () => {
    const { appointment, documentId } = await issuedNomina(ente);
    const before = await expectOk(
      call<DocumentJson>('GET', `/api/v1/documents/${documentId}`, { token: ente.token }),
    );
    const request = await requestSignatures(ente, documentId, [
      { userId: ente.sindacoUser.userId, mode: 'key' },
      { userId: ente.designataUser.userId, mode: 'key' },
    ]);
    expect(request.signers.map((signer) => [signer.fieldName, signer.status])).to.deep.equal([
      ['sindaco', 'current'],
      ['designato', 'waiting'],
    ]);

    // Not the Designata's turn yet: refused, nothing signed.
    const early = await call<{ detail: string }>(
      'POST',
      `/api/v1/signature-requests/${request.id}/sign`,
      { token: ente.designataUser.token },
    );
    expect(early.status).to.equal(403);
    expect(early.body.detail).to.contain('Giampiero Falzone');

    const toSign = await download(
      `/api/v1/signature-requests/${request.id}/pdf`,
      ente.sindacoUser.token,
    );
    expect(toSign.status).to.equal(200);
    expect(sha256(toSign.bytes)).to.equal(before.pdf.sha256);

    const afterFirst = await expectOk(
      call<RequestJson>('POST', `/api/v1/signature-requests/${request.id}/sign`, {
        token: ente.sindacoUser.token,
      }),
    );
    expect(afterFirst.signers.map((signer) => signer.status)).to.deep.equal(['signed', 'current']);
    const signedOnce = await expectOk(
      call<{ status: string }>('GET', `/api/v1/appointments/${appointment.id}`, {
        token: ente.token,
      }),
    );
    expect(signedOnce.status).to.equal('signed');

    const completed = await expectOk(
      call<RequestJson>('POST', `/api/v1/signature-requests/${request.id}/sign`, {
        token: ente.designataUser.token,
      }),
    );
    expect(completed.status).to.equal('completed');
    const accepted = await expectOk(
      call<{ status: string }>('GET', `/api/v1/appointments/${appointment.id}`, {
        token: ente.token,
      }),
    );
    expect(accepted.status).to.equal('accepted');

    // Two immutable signed versions; the unsigned original is unchanged.
    const document = await expectOk(
      call<DocumentJson>('GET', `/api/v1/documents/${documentId}`, { token: ente.token }),
    );
    expect(document.pdf.sha256).to.equal(before.pdf.sha256);
    expect(document.signedVersions.map((version) => version.number)).to.deep.equal([1, 2]);
    const original = await download(`/api/v1/documents/${documentId}/pdf`, ente.token);
    expect(sha256(original.bytes)).to.equal(before.pdf.sha256);
    const first = await download(`/api/v1/documents/${documentId}/signed?version=1`, ente.token);
    const final = await download(`/api/v1/documents/${documentId}/signed`, ente.token);
    expect(sha256(first.bytes)).to.equal(document.signedVersions[0]!.file.sha256);
    expect(sha256(final.bytes)).to.equal(document.signedVersions[1]!.file.sha256);
    // Incremental updates: each version starts with the bytes of the one before.
    expect(first.bytes.subarray(0, original.bytes.length).equals(original.bytes)).to.equal(true);
    expect(final.bytes.subarray(0, first.bytes.length).equals(first.bytes)).to.equal(true);

    // The independent validator: both signatures intact, trusted, time-stamped.
    const pyhanko = await validateWithPyHanko(final.bytes, {
      trustAnchorFile: testEnvironment().pki.caFile,
    });
    expect(pyhanko).to.have.length(2);
    for (const report of pyhanko) {
      expect(report.intact, JSON.stringify(report)).to.equal(true);
      expect(report.valid, JSON.stringify(report)).to.equal(true);
      expect(report.trusted, JSON.stringify(report)).to.equal(true);
      expect(report.timestampValid, JSON.stringify(report)).to.equal(true);
    }
    await qpdfCheck(final.bytes);
    const text = normalise(await pdfText(final.bytes));
    expect(text).to.contain('Documento firmato digitalmente ai sensi del D.Lgs. 82/2005');
    expect(text).to.contain('Mario Bianchi');

    // Sigillo's own verifier says the same, with the codice fiscale from the certificate.
    const verified = await expectOk(
      call<{ version: number; signatures: ReportJson[] }>(
        'GET',
        `/api/v1/documents/${documentId}/signatures`,
        { token: ente.token },
      ),
    );
    expect(verified.version).to.equal(2);
    expect(verified.signatures.map((report) => report.fieldName)).to.deep.equal([
      'sindaco',
      'designato',
    ]);
    for (const report of verified.signatures) {
      expect(report.valid, JSON.stringify(report)).to.equal(true);
      expect(report.timestamp).to.not.equal(null);
    }
    expect(verified.signatures[0]!.signer.codiceFiscale).to.equal('BNCMRA70C15H501Z');
    expect(verified.signatures[0]!.modificationsAfter).to.equal('signatures-only');
    expect(verified.signatures[1]!.signer.codiceFiscale).to.equal('RSSMRA80A41H501U');
    expect(verified.signatures[1]!.coversWholeDocument).to.equal(true);

    // The audit trail chains the hashes: each signature starts from the previous version.
    const trail = await expectOk(
      call<{ type: string; actor: { name: string }; hashBefore: string; hashAfter: string }[]>(
        'GET',
        `/api/v1/documents/${documentId}/audit-trail`,
        { token: ente.token },
      ),
    );
    expect(trail.map((event) => event.type)).to.deep.equal([
      'requested',
      'viewed',
      'signed',
      'signed',
      'completed',
      'verified',
    ]);
    const signedEvents = trail.filter((event) => event.type === 'signed');
    expect(signedEvents[0]!.hashBefore).to.equal(before.pdf.sha256);
    expect(signedEvents[0]!.hashAfter).to.equal(document.signedVersions[0]!.file.sha256);
    expect(signedEvents[1]!.hashBefore).to.equal(document.signedVersions[0]!.file.sha256);
    expect(signedEvents[1]!.hashAfter).to.equal(document.signedVersions[1]!.file.sha256);
    expect(signedEvents.map((event) => event.actor.name)).to.deep.equal([
      'Giampiero Falzone',
      'Maria Rossi',
    ]);

    // The certificate of completion: the trail in a PDF sealed by the ente.
    const certificate = await download(
      `/api/v1/signature-requests/${request.id}/completion-certificate`,
      ente.token,
    );
    expect(certificate.status).to.equal(200);
    expect(certificate.contentType).to.contain('application/pdf');
    const sealed = await validateWithPyHanko(certificate.bytes, {
      trustAnchorFile: testEnvironment().pki.caFile,
    });
    expect(sealed).to.have.length(1);
    expect(sealed[0]!.valid, JSON.stringify(sealed[0])).to.equal(true);
    const certificateText = normalise(await pdfText(certificate.bytes));
    // Hashes wrap inside their table cells.
    const compact = certificateText.replace(/\s+/g, '');
    for (const phrase of ['CERTIFICATO DI COMPLETAMENTO', 'Giampiero Falzone', 'Maria Rossi']) {
      expect(certificateText).to.contain(phrase);
    }
    for (const hash of [documentId, before.pdf.sha256, document.signedVersions[1]!.file.sha256]) {
      expect(compact).to.contain(hash);
    }
    // Asked again, the same certificate.
    const again = await download(
      `/api/v1/signature-requests/${request.id}/completion-certificate`,
      ente.token,
    );
    expect(sha256(again.bytes)).to.equal(sha256(certificate.bytes));
  });

  it('refuses a second open request, unknown fields, users without a key, and signing out of turn or twice', async () => {
    const { documentId } = await generatedNomina(ente);
    const badField = await call<{ invalidParams: { name: string }[] }>(
      'POST',
      `/api/v1/documents/${documentId}/signature-requests`,
      {
        token: ente.token,
        json: { signers: [{ userId: ente.sindacoUser.userId, mode: 'key', fieldName: 'nope' }] },
      },
    );
    expect(badField.status).to.equal(422);
    expect(badField.body.invalidParams[0]!.name).to.equal('signers.0.fieldName');
    const noKey = await call<{ invalidParams: { name: string }[] }>(
      'POST',
      `/api/v1/documents/${documentId}/signature-requests`,
      { token: ente.token, json: { signers: [{ userId: ente.clerk.userId, mode: 'key' }] } },
    );
    expect(noKey.status).to.equal(422);
    expect(noKey.body.invalidParams[0]!.name).to.equal('signers.0.mode');
    const badBody = await call('POST', `/api/v1/documents/${documentId}/signature-requests`, {
      token: ente.token,
      json: { signers: [{ userId: 'x', mode: 'pen' }] },
    });
    expect(badBody.status).to.equal(400);
    expect(badBody.contentType).to.contain('application/problem+json');

    const request = await requestSignatures(ente, documentId, [
      { userId: ente.sindacoUser.userId, mode: 'key' },
    ]);
    const second = await call('POST', `/api/v1/documents/${documentId}/signature-requests`, {
      token: ente.token,
      json: { signers: [{ userId: ente.sindacoUser.userId, mode: 'key' }] },
    });
    expect(second.status).to.equal(409);
    await expectOk(
      call('POST', `/api/v1/signature-requests/${request.id}/sign`, {
        token: ente.sindacoUser.token,
      }),
    );
    const twice = await call<{ currentState: string }>(
      'POST',
      `/api/v1/signature-requests/${request.id}/sign`,
      { token: ente.sindacoUser.token },
    );
    expect(twice.status).to.equal(409);
    expect(twice.body.currentState).to.equal('completed');
    const certificate = await call(
      'GET',
      `/api/v1/signature-requests/${request.id}/completion-certificate`,
      { token: ente.token },
    );
    expect(certificate.status).to.equal(200);
  });

  it('two signing calls racing for the same turn leave one signed version, valid', async () => {
    const { documentId } = await generatedNomina(ente);
    const request = await requestSignatures(ente, documentId, [
      { userId: ente.sindacoUser.userId, mode: 'key' },
      { userId: ente.designataUser.userId, mode: 'key' },
    ]);
    const attempts = await Promise.all(
      [1, 2, 3].map(() =>
        call('POST', `/api/v1/signature-requests/${request.id}/sign`, {
          token: ente.sindacoUser.token,
        }),
      ),
    );
    for (const attempt of attempts) expect([200, 409]).to.include(attempt.status);
    expect(attempts.filter((attempt) => attempt.status === 200)).to.not.have.length(0);
    const document = await expectOk(
      call<DocumentJson>('GET', `/api/v1/documents/${documentId}`, { token: ente.token }),
    );
    expect(document.signedVersions.map((version) => version.number)).to.deep.equal([1]);
    const after = await expectOk(
      call<RequestJson>('GET', `/api/v1/signature-requests/${request.id}`, { token: ente.token }),
    );
    expect(after.signers.map((signer) => signer.status)).to.deep.equal(['signed', 'current']);
    const signed = await download(`/api/v1/documents/${documentId}/signed`, ente.token);
    const [report] = await validateWithPyHanko(signed.bytes, {
      trustAnchorFile: testEnvironment().pki.caFile,
    });
    expect(report!.valid).to.equal(true);
  });
});
