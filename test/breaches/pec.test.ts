import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { expectOk, type Ente } from '../appointments/support.js';
import { testEnvironment } from '../support/environment.js';
import { call } from '../support/http.js';
import { assignKey, requestSignatures } from '../signatures/support.js';
import {
  breachEnte,
  createBreach,
  decide,
  download,
  type BreachJson,
  type ProblemJson,
} from './support.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('breaches: the notice to the Garante by PEC', function () {
  this.timeout(120_000);
  let ente: Ente;

  before(async () => {
    ente = await breachEnte();
  });

  it('makes a .eml with the signed notice attached, sends it through SMTP and records the Message-ID', async () => {
    const awareAt = new Date(Date.now() - 2 * 3600_000).toISOString();
    const breach = await createBreach(ente, { awareAt });
    await decide(ente, breach.id, { outcome: 'rischio', reasons: 'Dati sulla salute esposti.' });
    const notice = await expectOk(
      call<{ documentId: string }>('POST', `/api/v1/breaches/${breach.id}/documents/notification`, {
        token: ente.token,
        json: { type: 'completa' },
      }),
      201,
    );
    const emlPath = `/api/v1/breaches/${breach.id}/notices/${notice.documentId}/eml`;

    // Not signed yet: no PEC.
    const unsigned = await call<ProblemJson>('GET', emlPath, { token: ente.token });
    expect(unsigned.status).to.equal(409);
    expect(unsigned.body.detail).to.contain('firmata digitalmente');

    const me = await expectOk(
      call<{ user: { id: string } }>('GET', '/api/v1/me', { token: ente.token }),
    );
    await assignKey(ente, 'ente-seal', me.user.id);
    const request = await requestSignatures(ente, notice.documentId, [
      { userId: me.user.id, mode: 'key' },
    ]);
    await expectOk(
      call('POST', `/api/v1/signature-requests/${request.id}/sign`, { token: ente.token }),
    );
    const document = await expectOk(
      call<{ signedVersions: { file: { sha256: string; fileName: string } }[] }>(
        'GET',
        `/api/v1/documents/${notice.documentId}`,
        { token: ente.token },
      ),
    );
    const signedSha = document.signedVersions[0]!.file.sha256;

    const eml = await download(emlPath, ente.token);
    const parsed = await simpleParser(eml);
    expect(parsed.subject).to.contain('Notifica di violazione dei dati personali');
    expect(parsed.from?.text).to.contain('comune.prova@pec.example');
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.text : '').to.contain(
      'protocollo@pec.gpdp.it',
    );
    expect(parsed.attachments).to.have.length(1);
    expect(parsed.attachments[0]!.contentType).to.equal('application/pdf');
    expect(sha256(parsed.attachments[0]!.content)).to.equal(signedSha);

    const smtp = testEnvironment().smtp;
    const before = smtp.messages.length;
    const sent = await expectOk(
      call<BreachJson & { notifications: { pecMessageId: string | null }[] }>(
        'POST',
        `/api/v1/breaches/${breach.id}/notices/${notice.documentId}/send`,
        { token: ente.token, json: { protocollo: 'PROT-2026-118' } },
      ),
    );
    expect(smtp.messages).to.have.length(before + 1);
    const received = smtp.messages[smtp.messages.length - 1]!;
    expect(received.envelope.to).to.deep.equal(['protocollo@pec.gpdp.it']);
    const onTheWire = await simpleParser(received.raw);
    expect(sha256(onTheWire.attachments[0]!.content)).to.equal(signedSha);
    expect(sent.notifications).to.have.length(1);
    expect(sent.notifications[0]!.pecMessageId).to.equal(onTheWire.messageId);
    expect(sent.status).to.equal('notificata');

    // The first notice is recorded: sending it again is refused before anything goes out.
    const again = await call<ProblemJson>(
      'POST',
      `/api/v1/breaches/${breach.id}/notices/${notice.documentId}/send`,
      { token: ente.token, json: {} },
    );
    expect(again.status).to.equal(409);
    expect(smtp.messages).to.have.length(before + 1);
  });
});
