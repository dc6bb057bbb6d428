import { expect } from 'chai';
import mongoose from 'mongoose';
import { GeneratedDocument } from '../../server/documents/model.js';
import { HttpProblem } from '../../server/platform/http-problem.js';
import { runInTenant } from '../../server/platform/tenancy.js';
import { KeyRing, loadKeyConfiguration } from '../../server/signatures/keys/index.js';
import { SignatureEvent, SignatureRequest } from '../../server/signatures/model.js';
import { signWithKey, type SigningContext } from '../../server/signatures/service.js';
import { testEnvironment } from '../support/environment.js';
import { generatedNomina, requestSignatures, signingEnte, type SigningEnte } from './support.js';

/**
 * The token's PIN and presence, as the service meets them: a wrong PIN or a
 * missing token is a 503 and nothing half-signed is stored.
 */
describe('signing with an unusable key', function () {
  this.timeout(60_000);
  let ente: SigningEnte;

  before(async () => {
    ente = await signingEnte();
  });

  function contextWith(keyRing: KeyRing): SigningContext {
    const environment = testEnvironment();
    return {
      setup: {
        keyRing,
        trustAnchors: [],
        sealKeyId: 'ente-seal',
        uploadLimitBytes: 1024 * 1024,
      },
      storage: environment.service.storage,
      // Signing renders nothing.
      render: () => Promise.reject(new Error('no rendering expected')),
    };
  }

  async function expectRefusedWith503(keyRing: KeyRing, reason: string) {
    const { documentId } = await generatedNomina(ente);
    const request = await requestSignatures(ente, documentId, [
      { userId: ente.sindacoUser.userId, mode: 'key' },
    ]);
    const organisationId = new mongoose.Types.ObjectId(ente.organisationId);
    const principal = {
      userId: new mongoose.Types.ObjectId(ente.sindacoUser.userId),
      organisationId,
      tokenId: new mongoose.Types.ObjectId(),
      roles: ['segreteria' as const],
      name: ente.sindacoUser.name,
    };
    await runInTenant(organisationId, async () => {
      try {
        await signWithKey(request.id, principal, contextWith(keyRing));
        expect.fail('signing should have been refused');
      } catch (error) {
        expect(error).to.be.instanceOf(HttpProblem);
        expect((error as HttpProblem).status).to.equal(503);
        expect((error as HttpProblem).extensions.reason).to.equal(reason);
      }
      const document = await GeneratedDocument.findById(documentId);
      expect(document!.signedVersions).to.have.length(0);
      const stored = await SignatureRequest.findById(request.id);
      expect(stored!.status).to.equal('open');
      expect(stored!.signers[0]!.status).to.equal('current');
      const signed = await SignatureEvent.countDocuments({ documentId, type: 'signed' });
      expect(signed).to.equal(0);
    });
    await keyRing.close();
  }

  it('a wrong token PIN → 503 wrong-pin, nothing stored', async () => {
    const configuration = loadKeyConfiguration(testEnvironment().pki.keysFile);
    await expectRefusedWith503(
      new KeyRing(configuration, { ...process.env, SIGILLO_TOKEN_PIN: '000000' }),
      'wrong-pin',
    );
  });

  it('a token that is not there → 503 token-missing, nothing stored', async () => {
    const configuration = loadKeyConfiguration(testEnvironment().pki.keysFile);
    const withoutToken = {
      ...configuration,
      keys: configuration.keys.map((key) =>
        key.backend === 'pkcs11' ? { ...key, tokenLabel: 'token-scollegato' } : key,
      ),
    };
    await expectRefusedWith503(new KeyRing(withoutToken, process.env), 'token-missing');
  });
});
