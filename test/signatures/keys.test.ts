/**
 * The key back-ends (PKCS#12 file, PKCS#11 token) and the key configuration,
 * against a development PKI made fresh in a temp dir. No database needed.
 */
import { execFile } from 'node:child_process';
import { verify, X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import pkcs11js from 'pkcs11js';
import {
  DEV_TOKEN_LABEL,
  ensureDevPki,
  findSoftHsmModule,
  type DevPki,
} from '../../server/signatures/dev-pki.js';
import {
  KeyConfigurationError,
  KeyRing,
  loadKeyConfiguration,
  type KeyConfiguration,
  type KeyEntry,
} from '../../server/signatures/keys/index.js';
import { ecdsaRawToDer, pkcs11ErrorCode } from '../../server/signatures/keys/pkcs11.js';
import { openPkcs12Signer } from '../../server/signatures/keys/pkcs12.js';
import { SignerUnavailableError, type KeySigner } from '../../server/signatures/signer.js';

const run = promisify(execFile);
const repositoryRoot = path.resolve(import.meta.dirname, '..', '..');

async function expectUnavailable(
  promise: Promise<unknown>,
  reason: SignerUnavailableError['reason'],
): Promise<SignerUnavailableError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(SignerUnavailableError);
    expect((error as SignerUnavailableError).reason).to.equal(reason);
    return error as SignerUnavailableError;
  }
  expect.fail(`expected SignerUnavailableError '${reason}'`);
}

async function verifies(signer: KeySigner, data: Uint8Array, signature: Uint8Array) {
  const [leaf] = await signer.certificates();
  if (!leaf) expect.fail('signer without certificate');
  return verify('sha256', data, new X509Certificate(leaf).publicKey, signature);
}

describe('signing keys', function () {
  this.timeout(60_000);

  let workDir: string;
  let pki: DevPki;
  let configuration: KeyConfiguration;
  /** The secrets are handed to each KeyRing; process.env keeps only SOFTHSM2_CONF. */
  let secretsEnv: NodeJS.ProcessEnv;
  let previousSoftHsmConf: string | undefined;
  const rings: KeyRing[] = [];

  const ring = (env: NodeJS.ProcessEnv = secretsEnv, keys: KeyConfiguration = configuration) => {
    const keyRing = new KeyRing(keys, env);
    rings.push(keyRing);
    return keyRing;
  };

  /** The dev configuration with one entry changed, written next to the real keys.json. */
  async function variant(id: string, change: Partial<KeyEntry>): Promise<KeyConfiguration> {
    const json = JSON.parse(await readFile(pki.keysFile, 'utf8')) as {
      keys: Record<string, unknown>[];
    };
    const keys = json.keys.map((key) => (key.id === id ? { ...key, ...change } : key));
    const file = path.join(pki.dir, `keys-${id}-${Object.keys(change).join('-')}.json`);
    await writeFile(file, JSON.stringify({ keys }));
    return loadKeyConfiguration(file);
  }

  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'sigillo-keys-'));
    pki = await ensureDevPki(path.join(workDir, 'pki'));
    configuration = loadKeyConfiguration(pki.keysFile);
    secretsEnv = { ...process.env, ...pki.secrets };
    previousSoftHsmConf = process.env.SOFTHSM2_CONF;
    process.env.SOFTHSM2_CONF = pki.softhsmConf;
  });

  afterEach(async () => {
    // Closing every ring finalises the PKCS#11 module, so each test starts from scratch.
    await Promise.all(rings.splice(0).map((keyRing) => keyRing.close()));
  });

  after(async () => {
    if (previousSoftHsmConf === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = previousSoftHsmConf;
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  describe('signers', () => {
    const expectations = [
      { id: 'ente-seal', algorithm: 'RSA', subject: 'CN=Sigillo elettronico - Ente di prova' },
      { id: 'funzionario-ec', algorithm: 'ECDSA', subject: 'serialNumber=TINIT-RSSMRA80A41H501U' },
      { id: 'expired', algorithm: 'RSA', subject: 'O=Ente di prova' },
      { id: 'stranger', algorithm: 'RSA', subject: 'CN=Firmatario sconosciuto' },
      { id: 'sindaco-hsm', algorithm: 'RSA', subject: 'serialNumber=TINIT-BNCMRA70C15H501Z' },
      { id: 'designato-hsm', algorithm: 'ECDSA', subject: 'serialNumber=TINIT-VRDGLI85M50F205X' },
    ] as const;

    for (const { id, algorithm, subject } of expectations) {
      it(`${id} signs with ${algorithm} and the signature verifies against its certificate`, async () => {
        const signer = await ring().signer(id);
        expect(signer.id).to.equal(id);
        expect(signer.keyAlgorithm).to.equal(algorithm);
        const data = new TextEncoder().encode(`Determina n. 1/2025 firmata da ${id}`);
        const signature = await signer.sign(data);
        expect(await verifies(signer, data, signature)).to.equal(true);
        expect(await verifies(signer, new TextEncoder().encode('altro'), signature)).to.equal(
          false,
        );
        const [leaf] = await signer.certificates();
        expect(new X509Certificate(leaf as Uint8Array).subject.split('\n')).to.include(subject);
      });
    }

    it('lists the certificates signer first, then its issuer', async () => {
      const caDer = new X509Certificate(await readFile(pki.caFile)).raw;
      for (const id of ['ente-seal', 'funzionario-ec', 'sindaco-hsm', 'designato-hsm']) {
        const certificates = await (await ring().signer(id)).certificates();
        expect(certificates, id).to.have.length(2);
        const [leaf, issuer] = certificates.map((der) => new X509Certificate(der));
        expect(leaf?.checkIssued(issuer as X509Certificate), id).to.equal(true);
        expect(Buffer.from(certificates[1] as Uint8Array).equals(caDer), id).to.equal(true);
      }
      const stranger = await (await ring().signer('stranger')).certificates();
      expect(Buffer.from(stranger[1] as Uint8Array).equals(caDer)).to.equal(false);
    });

    it('gives the certificates of the expired key with a notAfter in the past', async () => {
      const [leaf] = await (await ring().signer('expired')).certificates();
      expect(new Date(new X509Certificate(leaf as Uint8Array).validTo).getTime()).to.be.below(
        Date.now() - 24 * 60 * 60 * 1000,
      );
    });

    it('turns the token ECDSA r||s into DER that verifies, signature after signature', async () => {
      // Around 1 in 128 signatures has an r or s needing a leading zero byte or fewer bytes.
      const signer = await ring().signer('designato-hsm');
      const data = new TextEncoder().encode('ECDSA');
      const signatures = await Promise.all(Array.from({ length: 400 }, () => signer.sign(data)));
      for (const signature of signatures) {
        expect(await verifies(signer, data, signature)).to.equal(true);
      }
    });

    it('encodes r||s as minimal positive DER INTEGERs', () => {
      const r = Buffer.alloc(32);
      r[0] = 0x80; // high bit set: DER needs a 0x00 sign byte
      r[31] = 0x01;
      const s = Buffer.alloc(32);
      s[2] = 0x7f; // two leading zero bytes: DER drops them
      s[31] = 0x02;
      const expected = Buffer.concat([
        Buffer.from([0x30, 35 + 32, 0x02, 33, 0x00]),
        r,
        Buffer.from([0x02, 30]),
        s.subarray(2),
      ]);
      expect(Buffer.from(ecdsaRawToDer(Buffer.concat([r, s]))).toString('hex')).to.equal(
        expected.toString('hex'),
      );
    });

    it('serialises concurrent token signatures on its one session', async () => {
      const signer = await ring().signer('sindaco-hsm');
      const messages = Array.from({ length: 40 }, (_, index) =>
        new TextEncoder().encode(`${index}`),
      );
      const signatures = await Promise.all(messages.map((message) => signer.sign(message)));
      for (const [index, signature] of signatures.entries()) {
        expect(await verifies(signer, messages[index] as Uint8Array, signature)).to.equal(true);
      }
    });

    it('signs a PKCS#12 key at well over 100 signatures a second', async () => {
      const signer = await ring().signer('ente-seal');
      const data = new Uint8Array(32);
      const started = performance.now();
      for (let index = 0; index < 200; index += 1) await signer.sign(data);
      const perSecond = 200 / ((performance.now() - started) / 1000);
      expect(perSecond).to.be.above(100);
    });
  });

  describe('PKCS#11 token', () => {
    it('keeps its private keys sensitive and unextractable: CKA_VALUE cannot be read', () => {
      const library = new pkcs11js.PKCS11();
      library.load(findSoftHsmModule());
      library.C_Initialize();
      try {
        const slot = library
          .C_GetSlotList(true)
          .find((candidate) => library.C_GetTokenInfo(candidate).label.trim() === DEV_TOKEN_LABEL);
        if (!slot) expect.fail('dev token not found');
        const session = library.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
        library.C_Login(session, pkcs11js.CKU_USER, pki.secrets.SIGILLO_TOKEN_PIN);
        for (const label of ['sindaco', 'designato']) {
          library.C_FindObjectsInit(session, [
            { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
            { type: pkcs11js.CKA_LABEL, value: label },
          ]);
          const [key] = library.C_FindObjects(session, 2);
          library.C_FindObjectsFinal(session);
          if (!key) expect.fail(`no private key ${label}`);
          const [extractable, sensitive, neverExtractable] = library.C_GetAttributeValue(
            session,
            key,
            [
              { type: pkcs11js.CKA_EXTRACTABLE },
              { type: pkcs11js.CKA_SENSITIVE },
              { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
            ],
          );
          expect(extractable?.value[0], `${label} CKA_EXTRACTABLE`).to.equal(0);
          expect(sensitive?.value[0], `${label} CKA_SENSITIVE`).to.equal(1);
          expect(neverExtractable?.value[0], `${label} CKA_NEVER_EXTRACTABLE`).to.equal(1);
          const secretAttributes =
            label === 'sindaco'
              ? [pkcs11js.CKA_VALUE, pkcs11js.CKA_PRIVATE_EXPONENT, pkcs11js.CKA_PRIME_1]
              : [pkcs11js.CKA_VALUE];
          for (const type of secretAttributes) {
            let code: number | undefined;
            try {
              library.C_GetAttributeValue(session, key, [{ type }]);
            } catch (error) {
              code = pkcs11ErrorCode(error);
            }
            expect(
              [pkcs11js.CKR_ATTRIBUTE_SENSITIVE, pkcs11js.CKR_ATTRIBUTE_TYPE_INVALID],
              `${label} attribute ${type}`,
            ).to.include(code);
          }
        }
        library.C_Logout(session);
        library.C_CloseSession(session);
      } finally {
        library.C_Finalize();
        library.close();
      }
    });

    it('never asks the token for key material', async () => {
      const source = await readFile(
        path.join(repositoryRoot, 'server/signatures/keys/pkcs11.ts'),
        'utf8',
      );
      for (const forbidden of ['pkcs11js.CKA_VALUE', 'CKA_PRIVATE_EXPONENT', 'C_WrapKey']) {
        expect(source).not.to.contain(forbidden);
      }
    });

    it("refuses a wrong PIN with 'wrong-pin', then opens once the PIN is fixed", async () => {
      const env: NodeJS.ProcessEnv = { ...secretsEnv, SIGILLO_TOKEN_PIN: '000000' };
      const keyRing = ring(env);
      const error = await expectUnavailable(keyRing.signer('sindaco-hsm'), 'wrong-pin');
      expect(error.message).to.contain('SIGILLO_TOKEN_PIN');
      expect(error.message).not.to.contain(pki.secrets.SIGILLO_TOKEN_PIN);
      env.SIGILLO_TOKEN_PIN = pki.secrets.SIGILLO_TOKEN_PIN;
      const signer = await keyRing.signer('sindaco-hsm');
      const data = new TextEncoder().encode('PIN corretto');
      expect(await verifies(signer, data, await signer.sign(data))).to.equal(true);
    });

    it("still says 'wrong-pin' when another signer has the token logged in already", async () => {
      const loggedIn = await ring().signer('designato-hsm');
      await expectUnavailable(
        ring({ ...secretsEnv, SIGILLO_TOKEN_PIN: '000000' }).signer('sindaco-hsm'),
        'wrong-pin',
      );
      // And the failure logged nobody out.
      const data = new TextEncoder().encode('ancora connesso');
      expect(await verifies(loggedIn, data, await loggedIn.sign(data))).to.equal(true);
    });

    it('lets two keys of one token sign side by side and close in any order', async () => {
      const first = ring();
      const second = ring();
      const sindaco = await first.signer('sindaco-hsm');
      const designato = await second.signer('designato-hsm');
      await first.close();
      const data = new TextEncoder().encode('dopo la chiusura dell’altra');
      expect(await verifies(designato, data, await designato.sign(data))).to.equal(true);
      let closedSignerSigned = true;
      try {
        await sindaco.sign(data);
      } catch {
        closedSignerSigned = false;
      }
      expect(closedSignerSigned).to.equal(false);
    });

    it("answers 'token-missing' for an unknown token label", async () => {
      const keys = await variant('sindaco-hsm', { tokenLabel: 'nessun-token' });
      const error = await expectUnavailable(
        ring(secretsEnv, keys).signer('sindaco-hsm'),
        'token-missing',
      );
      expect(error.message).to.contain('nessun-token').and.to.contain(DEV_TOKEN_LABEL);
    });

    it("answers 'key-missing' for an unknown key label or a certificate of another key", async () => {
      const noKey = await variant('sindaco-hsm', { keyLabel: 'assessore' });
      await expectUnavailable(ring(secretsEnv, noKey).signer('sindaco-hsm'), 'key-missing');
      const otherCertificate = await variant('sindaco-hsm', {
        certificateFile: 'seal-certificate-does-not-exist.pem',
      });
      await expectUnavailable(
        ring(secretsEnv, otherCertificate).signer('sindaco-hsm'),
        'file-unreadable',
      );
      const mismatched = await variant('sindaco-hsm', { certificateFile: 'tsa.pem' });
      const error = await expectUnavailable(
        ring(secretsEnv, mismatched).signer('sindaco-hsm'),
        'key-missing',
      );
      expect(error.message).to.contain('does not match');
    });

    it("answers 'module-missing' when the PKCS#11 module is not there", async () => {
      const keys = await variant('sindaco-hsm', { module: '/nonexistent/libpkcs11.so' });
      await expectUnavailable(ring(secretsEnv, keys).signer('sindaco-hsm'), 'module-missing');
    });

    it("answers 'secret-missing' when the PIN variable is unset", async () => {
      const env = { ...secretsEnv };
      delete env.SIGILLO_TOKEN_PIN;
      await expectUnavailable(ring(env).signer('designato-hsm'), 'secret-missing');
    });
  });

  describe('PKCS#12 files', () => {
    it("answers 'wrong-password' for a wrong password, and opens once it is fixed", async () => {
      const env: NodeJS.ProcessEnv = { ...secretsEnv, SIGILLO_SEAL_PASSWORD: 'sbagliata' };
      const keyRing = ring(env);
      await expectUnavailable(keyRing.signer('ente-seal'), 'wrong-password');
      env.SIGILLO_SEAL_PASSWORD = pki.secrets.SIGILLO_SEAL_PASSWORD;
      expect((await keyRing.signer('ente-seal')).keyAlgorithm).to.equal('RSA');
    });

    it("answers 'secret-missing' when the password variable is unset or empty", async () => {
      const env = { ...secretsEnv };
      delete env.SIGILLO_SEAL_PASSWORD;
      await expectUnavailable(ring(env).signer('ente-seal'), 'secret-missing');
      await expectUnavailable(
        ring({ ...secretsEnv, SIGILLO_SEAL_PASSWORD: '' }).signer('funzionario-ec'),
        'secret-missing',
      );
    });

    it("answers 'file-unreadable' for a missing or garbage file", async () => {
      const missing = await variant('ente-seal', { file: 'non-esiste.p12' });
      await expectUnavailable(ring(secretsEnv, missing).signer('ente-seal'), 'file-unreadable');
      const garbage = await variant('ente-seal', { file: 'ca.pem' });
      await expectUnavailable(ring(secretsEnv, garbage).signer('ente-seal'), 'file-unreadable');
    });

    it('reads a legacy 3DES file too, and explains that RC2 ones need re-exporting', async () => {
      const password = pki.secrets.SIGILLO_SEAL_PASSWORD as string;
      const env = { ...process.env, SIGILLO_SEAL_PASSWORD: password };
      const plain = path.join(workDir, 'seal-plain.pem');
      const tripleDes = path.join(workDir, 'seal-3des.p12');
      const rc2 = path.join(workDir, 'seal-rc2.p12');
      const pass = [
        '-passin',
        'env:SIGILLO_SEAL_PASSWORD',
        '-passout',
        'env:SIGILLO_SEAL_PASSWORD',
      ];
      await run('openssl', ['pkcs12', '-in', pki.p12.seal, '-nodes', '-out', plain, ...pass], {
        env,
      });
      try {
        await run(
          'openssl',
          ['pkcs12', '-export', '-in', plain, '-out', tripleDes, ...pass].concat([
            '-certpbe',
            'PBE-SHA1-3DES',
            '-keypbe',
            'PBE-SHA1-3DES',
            '-macalg',
            'sha1',
          ]),
          { env },
        );
        const signer = await openPkcs12Signer(
          { id: 'legacy', file: tripleDes, passwordEnv: 'SIGILLO_SEAL_PASSWORD' },
          env,
        );
        const data = new TextEncoder().encode('3DES');
        expect(await verifies(signer, data, await signer.sign(data))).to.equal(true);
        await expectUnavailable(
          openPkcs12Signer(
            { id: 'legacy', file: tripleDes, passwordEnv: 'SIGILLO_SEAL_PASSWORD' },
            { SIGILLO_SEAL_PASSWORD: 'sbagliata' },
          ),
          'wrong-password',
        );

        await run('openssl', ['pkcs12', '-export', '-legacy', '-in', plain, '-out', rc2, ...pass], {
          env,
        });
        const error = await expectUnavailable(
          openPkcs12Signer({ id: 'rc2', file: rc2, passwordEnv: 'SIGILLO_SEAL_PASSWORD' }, env),
          'file-unreadable',
        );
        expect(error.message).to.contain('RC2');
      } finally {
        await rm(plain, { force: true });
      }
    });

    it('keeps the private key in memory: signing costs no file access', async () => {
      const copy = path.join(workDir, 'seal-copy.p12');
      await writeFile(copy, await readFile(pki.p12.seal));
      const signer = await openPkcs12Signer(
        { id: 'copy', file: copy, passwordEnv: 'SIGILLO_SEAL_PASSWORD' },
        secretsEnv,
      );
      await rm(copy);
      const data = new TextEncoder().encode('senza file');
      expect(await verifies(signer, data, await signer.sign(data))).to.equal(true);
    });
  });

  describe('key configuration', () => {
    async function writeConfiguration(name: string, content: unknown): Promise<string> {
      const file = path.join(workDir, 'configs', name);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
      return file;
    }

    const validPkcs11 = {
      id: 'sindaco-hsm',
      label: 'Sindaco',
      backend: 'pkcs11',
      module: '/usr/lib/softhsm/libsofthsm2.so',
      tokenLabel: 'sigillo-dev',
      keyLabel: 'sindaco',
      pinEnv: 'SIGILLO_TOKEN_PIN',
      certificateFile: 'sindaco.pem',
    };

    it('resolves relative paths against the folder of the JSON file', () => {
      const entry = configuration.keys.find((key) => key.id === 'ente-seal');
      expect(entry).to.include({ backend: 'pkcs12', file: pki.p12.seal });
      const hsm = configuration.keys.find((key) => key.id === 'sindaco-hsm');
      expect(hsm).to.include({
        certificateFile: path.join(pki.dir, 'sindaco.pem'),
        chainFile: pki.caFile,
      });
    });

    it('names the field that is wrong', async () => {
      const missingPin = await writeConfiguration('missing-pin.json', {
        keys: [
          { id: 'a', label: 'A', backend: 'pkcs12', file: 'a.p12', passwordEnv: 'A_PASSWORD' },
          { ...validPkcs11, pinEnv: undefined },
        ],
      });
      expect(() => loadKeyConfiguration(missingPin))
        .to.throw(KeyConfigurationError)
        .with.property('message')
        .that.contains('keys[1].pinEnv');

      const badBackend = await writeConfiguration('bad-backend.json', {
        keys: [{ ...validPkcs11, backend: 'smartcard' }],
      });
      expect(() => loadKeyConfiguration(badBackend)).to.throw(/keys\[0\]\.backend/);

      const badEnvName = await writeConfiguration('bad-env.json', {
        keys: [{ ...validPkcs11, pinEnv: 'not a variable' }],
      });
      expect(() => loadKeyConfiguration(badEnvName)).to.throw(/keys\[0\]\.pinEnv/);
    });

    it('refuses secrets written into the file, duplicate ids and broken JSON', async () => {
      const withPassword = await writeConfiguration('with-password.json', {
        keys: [
          {
            id: 'a',
            label: 'A',
            backend: 'pkcs12',
            file: 'a.p12',
            passwordEnv: 'A_PASSWORD',
            password: 'segreta',
          },
        ],
      });
      expect(() => loadKeyConfiguration(withPassword))
        .to.throw(/keys\[0\]/)
        .with.property('message')
        .that.contains('password')
        .and.not.contains('segreta');

      const duplicate = await writeConfiguration('duplicate.json', {
        keys: [validPkcs11, validPkcs11],
      });
      expect(() => loadKeyConfiguration(duplicate)).to.throw(/keys\[1\]\.id: duplicate/);

      const broken = await writeConfiguration('broken.json', '{ "keys": [ ');
      expect(() => loadKeyConfiguration(broken)).to.throw(/not valid JSON/);
      expect(() => loadKeyConfiguration(path.join(workDir, 'configs', 'none.json'))).to.throw(
        /cannot be read/,
      );
    });

    it('describes the keys without secrets and refuses unknown ids', async () => {
      const keyRing = ring();
      expect(keyRing.ids()).to.deep.equal([
        'ente-seal',
        'funzionario-ec',
        'expired',
        'stranger',
        'sindaco-hsm',
        'designato-hsm',
      ]);
      for (const description of keyRing.describe()) {
        expect(Object.keys(description).sort()).to.deep.equal(['backend', 'id', 'label']);
      }
      expect(JSON.stringify(keyRing.describe())).not.to.contain(pki.secrets.SIGILLO_SEAL_PASSWORD);
      await expectUnavailable(keyRing.signer('sconosciuta'), 'unknown-key');
    });

    it('opens each key once and hands out the same signer', async () => {
      const keyRing = ring();
      const [first, second] = await Promise.all([
        keyRing.signer('sindaco-hsm'),
        keyRing.signer('sindaco-hsm'),
      ]);
      expect(first).to.equal(second);
      expect(await keyRing.signer('sindaco-hsm')).to.equal(first);
    });
  });

  describe('development PKI', () => {
    it('reuses a complete folder: the second call keeps the same CA', async () => {
      const caBefore = await readFile(pki.caFile, 'utf8');
      const started = performance.now();
      const again = await ensureDevPki(pki.dir);
      expect(performance.now() - started).to.be.below(500);
      expect(await readFile(again.caFile, 'utf8')).to.equal(caBefore);
      expect(again.secrets).to.deep.equal(pki.secrets);
    });

    it('builds once when called concurrently, and rebuilds an incomplete folder', async () => {
      const dir = path.join(workDir, 'concurrent');
      const [first, second] = await Promise.all([ensureDevPki(dir), ensureDevPki(dir)]);
      expect(await readFile(first.caFile, 'utf8')).to.equal(await readFile(second.caFile, 'utf8'));
      expect(first.secrets).to.deep.equal(second.secrets);

      const incomplete = path.join(workDir, 'incomplete');
      await mkdir(incomplete);
      await writeFile(path.join(incomplete, 'ca.pem'), 'half-written');
      const rebuilt = await ensureDevPki(incomplete);
      expect(await readFile(rebuilt.caFile, 'utf8')).to.contain('BEGIN CERTIFICATE');
      expect(await readFile(rebuilt.keysFile, 'utf8')).to.contain('sindaco-hsm');
    });

    it('writes secrets.env readable by its owner only, and keys.json without secrets', async () => {
      expect((await stat(path.join(pki.dir, 'secrets.env'))).mode & 0o077).to.equal(0);
      const keysJson = await readFile(pki.keysFile, 'utf8');
      for (const secret of Object.values(pki.secrets)) expect(keysJson).not.to.contain(secret);
    });

    it('makes a TSA that `openssl ts -reply` accepts and that chains to the CA', async () => {
      const data = path.join(workDir, 'tsa-data.txt');
      const query = path.join(workDir, 'request.tsq');
      const reply = path.join(workDir, 'response.tsr');
      await writeFile(data, 'marca temporale');
      await run('openssl', ['ts', '-query', '-data', data, '-sha256', '-cert', '-out', query]);
      await run('openssl', [
        'ts',
        '-reply',
        '-config',
        pki.tsa.configFile,
        '-queryfile',
        query,
        '-out',
        reply,
      ]);
      const { stdout } = await run('openssl', [
        'ts',
        '-verify',
        '-in',
        reply,
        '-queryfile',
        query,
        '-CAfile',
        pki.caFile,
        '-untrusted',
        pki.tsa.certFile,
      ]);
      expect(stdout).to.contain('Verification: OK');
      const tsa = new X509Certificate(await readFile(pki.tsa.certFile));
      expect(tsa.keyUsage).to.deep.equal(['1.3.6.1.5.5.7.3.8']);
    });

    it('issues token certificates for the public keys generated inside the token', async () => {
      for (const [id, file] of [
        ['sindaco-hsm', 'sindaco.pem'],
        ['designato-hsm', 'designato.pem'],
      ] as const) {
        const fromFile = new X509Certificate(await readFile(path.join(pki.dir, file)));
        expect(fromFile.verify(new X509Certificate(await readFile(pki.caFile)).publicKey)).to.equal(
          true,
        );
        const signer = await ring().signer(id);
        const data = new TextEncoder().encode(id);
        expect(verify('sha256', data, fromFile.publicKey, await signer.sign(data))).to.equal(true);
      }
    });

    it('leaves no generated key material in the repository', async () => {
      const { stdout } = await run('git', ['status', '--porcelain', '--untracked-files=all'], {
        cwd: repositoryRoot,
      });
      const generated = stdout
        .split('\n')
        .filter((line) =>
          /\.(p12|pfx|key)$|-key\.pem$|secrets\.env$|softhsm2\.conf$|\/tokens\//.test(line),
        );
      expect(generated).to.deep.equal([]);
      const { stdout: ignored } = await run('git', ['check-ignore', 'var/dev-pki/seal.p12'], {
        cwd: repositoryRoot,
      });
      expect(ignored.trim()).to.equal('var/dev-pki/seal.p12');
    });
  });
});
