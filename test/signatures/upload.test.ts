import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { expectOk } from '../appointments/support.js';
import { testEnvironment } from '../support/environment.js';
import { call } from '../support/http.js';
import { validateWithPyHanko } from '../support/pyhanko.js';
import {
  download,
  generatedNomina,
  p7mWithOpenssl,
  requestSignatures,
  signWithPyHanko,
  signingEnte,
  uploadSignedFile,
  type RequestJson,
  type SigningEnte,
} from './support.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface DocumentJson {
  signedVersions: { number: number; format: string; source: string; file: { sha256: string } }[];
}

describe('signed outside and uploaded back: PAdES PDF or CAdES .p7m, verified before acceptance', function () {
  this.timeout(180_000);
  let ente: SigningEnte;
  let passphrase: string;

  before(async () => {
    ente = await signingEnte();
    passphrase = testEnvironment().pki.secrets.SIGILLO_SEAL_PASSWORD!;
  });

  async function outsideRequest() {
    const { documentId } = await generatedNomina(ente);
    const request = await requestSignatures(ente, documentId, [
      { userId: ente.clerk.userId, mode: 'outside', fieldName: 'sindaco' },
    ]);
    const toSign = await download(`/api/v1/signature-requests/${request.id}/pdf`, ente.clerk.token);
    expect(toSign.status).to.equal(200);
    return { documentId, request, pdf: toSign.bytes };
  }

  async function expectNothingStored(documentId: string, requestId: string) {
    const document = await expectOk(
      call<DocumentJson>('GET', `/api/v1/documents/${documentId}`, { token: ente.token }),
    );
    expect(document.signedVersions).to.deep.equal([]);
    const request = await expectOk(
      call<RequestJson>('GET', `/api/v1/signature-requests/${requestId}`, { token: ente.token }),
    );
    expect(request.status).to.equal('open');
    expect(request.signers[0]!.status).to.equal('current');
  }

  it('accepts a PDF signed with pyHanko on the downloaded version, and both validators agree', async () => {
    const { documentId, request, pdf } = await outsideRequest();
    const signed = await signWithPyHanko(pdf, {
      pkcs12: testEnvironment().pki.p12.funzionarioEc,
      passphrase,
      field: 'sindaco',
    });
    const accepted = await uploadSignedFile(request.id, ente.clerk.token, signed, 'firmato.pdf');
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(200);
    expect(accepted.body.status).to.equal('completed');
    const document = await expectOk(
      call<DocumentJson>('GET', `/api/v1/documents/${documentId}`, { token: ente.token }),
    );
    expect(document.signedVersions).to.have.length(1);
    expect(document.signedVersions[0]).to.include({ format: 'pades', source: 'upload' });
    expect(document.signedVersions[0]!.file.sha256).to.equal(sha256(signed));
    const stored = await download(`/api/v1/documents/${documentId}/signed`, ente.token);
    expect(stored.bytes.equals(signed)).to.equal(true);
    const [pyhanko] = await validateWithPyHanko(stored.bytes, {
      trustAnchorFile: testEnvironment().pki.caFile,
    });
    const verified = await expectOk(
      call<{
        signatures: { valid: boolean; intact: boolean; signer: { codiceFiscale: string } }[];
      }>('GET', `/api/v1/documents/${documentId}/signatures`, { token: ente.token }),
    );
    expect(pyhanko!.valid).to.equal(true);
    expect(verified.signatures).to.have.length(1);
    expect(verified.signatures[0]!.valid).to.equal(pyhanko!.valid);
    expect(verified.signatures[0]!.intact).to.equal(pyhanko!.intact);
    expect(verified.signatures[0]!.signer.codiceFiscale).to.equal('RSSMRA80A41H501U');
    const trail = await expectOk(
      call<{ type: string; detail: string }[]>(
        'GET',
        `/api/v1/documents/${documentId}/audit-trail`,
        { token: ente.token },
      ),
    );
    expect(trail.map((event) => event.type)).to.include.members([
      'viewed',
      'uploaded',
      'completed',
    ]);
  });

  it('accepts a .p7m envelope of exactly the issued PDF made with openssl cms', async () => {
    const { documentId, request, pdf } = await outsideRequest();
    const envelope = await p7mWithOpenssl(pdf, {
      pkcs12: testEnvironment().pki.p12.seal,
      passphrase,
    });
    const accepted = await uploadSignedFile(
      request.id,
      ente.clerk.token,
      envelope,
      'documento.pdf.p7m',
    );
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(200);
    const document = await expectOk(
      call<DocumentJson>('GET', `/api/v1/documents/${documentId}`, { token: ente.token }),
    );
    expect(document.signedVersions[0]).to.include({ format: 'cades', source: 'upload' });
    const verified = await expectOk(
      call<{ signatures: { kind: string; valid: boolean }[] }>(
        'GET',
        `/api/v1/documents/${documentId}/signatures`,
        { token: ente.token },
      ),
    );
    expect(verified.signatures.map((report) => [report.kind, report.valid])).to.deep.equal([
      ['CAdES', true],
    ]);
  });

  it('accepts a .p7m envelope of the issued DOCX', async () => {
    const { documentId, request } = await outsideRequest();
    const docx = await download(`/api/v1/documents/${documentId}/docx`, ente.clerk.token);
    const envelope = await p7mWithOpenssl(docx.bytes, {
      pkcs12: testEnvironment().pki.p12.funzionarioEc,
      passphrase,
    });
    const accepted = await uploadSignedFile(
      request.id,
      ente.clerk.token,
      envelope,
      'documento.docx.p7m',
    );
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(200);
    const verified = await expectOk(
      call<{ signatures: { kind: string; valid: boolean; signer: { codiceFiscale: string } }[] }>(
        'GET',
        `/api/v1/documents/${documentId}/signatures`,
        { token: ente.token },
      ),
    );
    expect(
      verified.signatures.map((report) => [report.kind, report.valid, report.signer.codiceFiscale]),
    ).to.deep.equal([['CAdES', true, 'RSSMRA80A41H501U']]);
  });

  it('refuses, with the reason and nothing stored: another document, no signature, truncated, tampered, not a PDF, untrusted or expired certificate, too big', async () => {
    const { documentId, request, pdf } = await outsideRequest();
    const pki = testEnvironment().pki;
    const other = await outsideRequest();
    const signedOther = await signWithPyHanko(other.pdf, {
      pkcs12: pki.p12.funzionarioEc,
      passphrase,
      field: 'sindaco',
    });
    const signedRight = await signWithPyHanko(pdf, {
      pkcs12: pki.p12.funzionarioEc,
      passphrase,
      field: 'sindaco',
    });
    const tampered = Buffer.from(signedRight);
    const inside = pdf.length - 200;
    tampered[inside] = tampered[inside]! ^ 0x01;
    const cases: { name: string; bytes: Uint8Array; fileName: string; reasons: string[] }[] = [
      {
        name: 'another document',
        bytes: signedOther,
        fileName: 'a.pdf',
        reasons: ['wrong-document'],
      },
      { name: 'unsigned', bytes: pdf, fileName: 'b.pdf', reasons: ['unsigned'] },
      {
        name: 'truncated',
        bytes: signedRight.subarray(0, signedRight.length - 4000),
        fileName: 'c.pdf',
        reasons: ['unreadable', 'broken', 'partial-coverage'],
      },
      { name: 'tampered', bytes: tampered, fileName: 'd.pdf', reasons: ['broken'] },
      {
        name: 'not a PDF',
        bytes: Buffer.from('Questo non è un PDF, anche se il nome lo dice.\n'),
        fileName: 'e.pdf',
        reasons: ['not-signed-file'],
      },
      {
        name: 'untrusted CA',
        bytes: await signWithPyHanko(pdf, {
          pkcs12: pki.p12.stranger,
          passphrase,
          field: 'sindaco',
        }),
        fileName: 'f.pdf',
        reasons: ['unknown-certificate'],
      },
      {
        name: 'p7m of another document',
        bytes: await p7mWithOpenssl(other.pdf, { pkcs12: pki.p12.seal, passphrase }),
        fileName: 'g.pdf.p7m',
        reasons: ['wrong-document'],
      },
    ];
    for (const refused of cases) {
      const response = await uploadSignedFile(
        request.id,
        ente.clerk.token,
        refused.bytes,
        refused.fileName,
      );
      expect(response.status, `${refused.name}: ${JSON.stringify(response.body)}`).to.equal(422);
      expect(response.contentType).to.contain('application/problem+json');
      expect(refused.reasons, refused.name).to.include(response.body.reason);
      expect(String(response.body.detail)).to.match(/^File rifiutato: /);
    }
    const big = await uploadSignedFile(
      request.id,
      ente.clerk.token,
      Buffer.alloc(50 * 1024 * 1024, 0x20),
      'enorme.pdf',
    );
    expect(big.status).to.equal(413);
    expect(big.contentType).to.contain('application/problem+json');
    await expectNothingStored(documentId, request.id);
    const trail = await expectOk(
      call<{ type: string; detail: string }[]>(
        'GET',
        `/api/v1/documents/${documentId}/audit-trail`,
        { token: ente.token },
      ),
    );
    expect(trail.filter((event) => event.type === 'refused')).to.have.length(cases.length);

    // Only the signer whose turn it is may upload.
    const notTheirTurn = await uploadSignedFile(request.id, ente.token, signedRight, 'x.pdf');
    expect(notTheirTurn.status).to.equal(403);
    await expectNothingStored(documentId, request.id);
  });

  it('refuses a signature made with an expired certificate', async () => {
    const { documentId, request, pdf } = await outsideRequest();
    const signed = await signWithPyHanko(pdf, {
      pkcs12: testEnvironment().pki.p12.expired,
      passphrase,
      field: 'sindaco',
    });
    const response = await uploadSignedFile(request.id, ente.clerk.token, signed, 'scaduto.pdf');
    expect(response.status, JSON.stringify(response.body)).to.equal(422);
    expect(response.body.reason).to.equal('expired-certificate');
    await expectNothingStored(documentId, request.id);
  });

  it('verifies any uploaded file without storing it', async () => {
    const { pdf } = await outsideRequest();
    const signed = await signWithPyHanko(pdf, {
      pkcs12: testEnvironment().pki.p12.funzionarioEc,
      passphrase,
      field: 'sindaco',
    });
    const form = new FormData();
    form.append('file', new Blob([signed]), 'qualsiasi.pdf');
    const response = await fetch(`${testEnvironment().service.url}/api/v1/signatures/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ente.token}` },
      body: form,
    });
    const body = (await response.json()) as {
      format: string;
      signatures: { valid: boolean; signer: { commonName: string } }[];
    };
    expect(response.status).to.equal(200);
    expect(body.format).to.equal('pdf');
    expect(body.signatures.map((report) => [report.signer.commonName, report.valid])).to.deep.equal(
      [['Maria Rossi', true]],
    );
    const garbage = new FormData();
    garbage.append('file', new Blob([Buffer.from('niente')]), 'x.pdf');
    const refused = await fetch(`${testEnvironment().service.url}/api/v1/signatures/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ente.token}` },
      body: garbage,
    });
    expect(refused.status).to.equal(422);
  });
});
