/**
 * A development PKI made on this machine, for the embedded default and the tests:
 * a root CA, PKCS#12 signers (RSA seal, EC person, expired, untrusted), a SoftHSM2
 * token whose keys were generated inside it, a time-stamping authority for
 * `openssl ts -reply`, and the keys.json / secrets.env that tie them together.
 * Nothing here is ever committed: the folder lives in a temp dir or in var/.
 *
 *   tsx scripts/dev-pki.ts [dir]    (default var/dev-pki; the script runs this module)
 *
 * The folder is built once, in a temporary sibling renamed into place when
 * complete, so concurrent callers and interrupted builds never see half of it.
 */
import { spawn } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, webcrypto, type JsonWebKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  BitString,
  Integer,
  OctetString,
  PrintableString,
  Sequence,
  Set as Asn1Set,
  Utf8String,
} from 'asn1js';
import pkcs11js from 'pkcs11js';
import {
  AttributeTypeAndValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtKeyUsage,
  Extension,
  PublicKeyInfo,
  RelativeDistinguishedNames,
  Time,
} from 'pkijs';
import { ecJwkFromPoint, ecPointFromAttribute, findSlotByTokenLabel } from './keys/pkcs11.js';

export interface DevPki {
  dir: string;
  /** Trust anchor bundle: only the development root CA. */
  caFile: string;
  /** keys.json in the SIGNING_KEYS_FILE format. */
  keysFile: string;
  /**
   * SoftHSM2 configuration of the development token. SoftHSM2 reads SOFTHSM2_CONF
   * from the environment at C_Initialize: set `process.env.SOFTHSM2_CONF = pki.softhsmConf`
   * before opening a pkcs11 signer (ensureDevPki leaves the environment as it was).
   */
  softhsmConf: string;
  /** SIGILLO_SEAL_PASSWORD (every .p12), SIGILLO_TOKEN_PIN, SIGILLO_TOKEN_SO_PIN; also in secrets.env. */
  secrets: Record<string, string>;
  /** For `openssl ts -reply -config <configFile>`. */
  tsa: { certFile: string; keyFile: string; configFile: string };
  p12: { seal: string; funzionarioEc: string; expired: string; stranger: string };
}

export const DEV_TOKEN_LABEL = 'sigillo-dev';
export const SEAL_PASSWORD_ENV = 'SIGILLO_SEAL_PASSWORD';
export const TOKEN_PIN_ENV = 'SIGILLO_TOKEN_PIN';
export const TOKEN_SO_PIN_ENV = 'SIGILLO_TOKEN_SO_PIN';
export const TSA_POLICY_OID = '1.3.6.1.4.1.99999.1';

/** Bump when the folder's contents change: older folders are then rebuilt. */
const LAYOUT_VERSION = 1;
const COMPLETE_MARKER = '.complete';
const REQUIRED_FILES = [
  'ca.pem',
  'ca-key.pem',
  'keys.json',
  'secrets.env',
  'softhsm2.conf',
  'seal.p12',
  'funzionario-ec.p12',
  'expired.p12',
  'stranger.p12',
  'stranger-ca.pem',
  'sindaco.pem',
  'designato.pem',
  'tsa.pem',
  'tsa-key.pem',
  'tsa.cnf',
  'tsa-serial',
  'tokens',
];
/** Child mode of this file: generates the token keys in a process of its own. */
const TOKEN_KEYS_COMMAND = '--generate-token-keys';
const TOKEN_PIN_CHILD_ENV = 'DEV_PKI_TOKEN_PIN';
const SOFTHSM_MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so',
];

const subtle = webcrypto.subtle;
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const OID = {
  country: '2.5.4.6',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  givenName: '2.5.4.42',
  surname: '2.5.4.4',
} as const;

const DAY_MS = 24 * 60 * 60 * 1000;

export function findSoftHsmModule(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = env.SOFTHSM2_MODULE ? [env.SOFTHSM2_MODULE] : SOFTHSM_MODULE_CANDIDATES;
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new Error(
      `SoftHSM2 module not found (looked for ${candidates.join(', ')}): install softhsm2 or set SOFTHSM2_MODULE`,
    );
  }
  return found;
}

// ---------------------------------------------------------------------------
// Reusing or building the folder

export async function ensureDevPki(dir: string): Promise<DevPki> {
  const target = path.resolve(dir);
  if (await isComplete(target)) return readDevPki(target);
  await mkdir(path.dirname(target), { recursive: true });
  await removeAbandonedBuilds(target);
  const building = await mkdtemp(`${target}.building-`);
  try {
    await buildDevPki(building, target);
    return await install(building, target);
  } finally {
    await rm(building, { recursive: true, force: true });
  }
}

async function isComplete(dir: string): Promise<boolean> {
  try {
    const marker = JSON.parse(await readFile(path.join(dir, COMPLETE_MARKER), 'utf8')) as {
      version?: unknown;
    };
    if (marker.version !== LAYOUT_VERSION) return false;
    await Promise.all(REQUIRED_FILES.map((file) => stat(path.join(dir, file))));
    return true;
  } catch {
    return false;
  }
}

/** Build folders of processes that died mid-build; live builds take seconds, not an hour. */
async function removeAbandonedBuilds(target: string): Promise<void> {
  const parent = path.dirname(target);
  const prefix = `${path.basename(target)}.`;
  const entries = await readdir(parent).catch(() => [] as string[]);
  await Promise.all(
    entries
      .filter(
        (entry) => entry.startsWith(`${prefix}building-`) || entry.startsWith(`${prefix}stale-`),
      )
      .map(async (entry) => {
        const full = path.join(parent, entry);
        const info = await stat(full).catch(() => undefined);
        if (info && Date.now() - info.mtimeMs > 60 * 60 * 1000) {
          await rm(full, { recursive: true, force: true });
        }
      }),
  );
}

/**
 * Renames the finished build into place. rename(2) only replaces an empty
 * directory, so when another process got there first its folder stays and is used.
 */
async function install(building: string, target: string): Promise<DevPki> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      await rename(building, target);
      return await readDevPki(target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
    if (await isComplete(target)) return readDevPki(target);
    // An incomplete leftover (interrupted older build, hand-made folder): move it aside.
    const aside = `${target}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await rename(target, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    if (await isComplete(aside)) {
      // Another process completed it between the check and the move: put it back.
      try {
        await rename(aside, target);
        return await readDevPki(target);
      } catch {
        // A third process filled the place meanwhile; retry with whatever is there now.
      }
    }
    await rm(aside, { recursive: true, force: true });
  }
  throw new Error(`could not install the development PKI in ${target}`);
}

async function readDevPki(dir: string): Promise<DevPki> {
  const secrets = parseEnvFile(await readFile(path.join(dir, 'secrets.env'), 'utf8'));
  const file = (name: string) => path.join(dir, name);
  return {
    dir,
    caFile: file('ca.pem'),
    keysFile: file('keys.json'),
    softhsmConf: file('softhsm2.conf'),
    secrets,
    tsa: { certFile: file('tsa.pem'), keyFile: file('tsa-key.pem'), configFile: file('tsa.cnf') },
    p12: {
      seal: file('seal.p12'),
      funzionarioEc: file('funzionario-ec.p12'),
      expired: file('expired.p12'),
      stranger: file('stranger.p12'),
    },
  };
}

function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (match?.[1]) values[match[1]] = match[2] ?? '';
  }
  return values;
}

// ---------------------------------------------------------------------------
// Building

function randomSecret(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** Positive 127-bit serial: the first byte stays below 0x80 so DER needs no sign byte. */
function randomSerialNumber(): Uint8Array {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return new Uint8Array(bytes);
}

const rsaAlgorithm = (modulusLength: number) => ({
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
});
const ecAlgorithm = { name: 'ECDSA', namedCurve: 'P-256' };

function generateKeys(algorithm: ReturnType<typeof rsaAlgorithm> | typeof ecAlgorithm) {
  return subtle.generateKey(algorithm, true, ['sign', 'verify']);
}

type NameParts = [oid: string, value: string][];

/**
 * Certificates are built with pkijs rather than @peculiar/x509: x509 2.x pulls in
 * tsyringe, which throws at import time unless a Reflect metadata polyfill
 * (reflect-metadata) is loaded first, and the project has none.
 */
function distinguishedName(parts: NameParts): RelativeDistinguishedNames {
  const printableOnly: readonly string[] = [OID.country, OID.serialNumber];
  // One attribute per RDN, as CAs write them; pkijs would put them all in one multi-valued
  // RDN, so the DER is built here and parsed back (pkijs then re-emits it verbatim).
  const der = new Sequence({
    value: parts.map(
      ([type, value]) =>
        new Asn1Set({
          value: [
            new AttributeTypeAndValue({
              type,
              value: printableOnly.includes(type)
                ? new PrintableString({ value })
                : new Utf8String({ value }),
            }).toSchema(),
          ],
        }),
    ),
  }).toBER(false);
  return RelativeDistinguishedNames.fromBER(der);
}

const KEY_USAGE_BIT = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

/** DER named-bit BIT STRING: bit 0 is the most significant bit, trailing zero bits dropped. */
function keyUsageBits(usages: (keyof typeof KEY_USAGE_BIT)[]): BitString {
  const bits = usages.map((usage) => KEY_USAGE_BIT[usage]);
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
  return new BitString({ valueHex: bytes, unusedBits: 7 - (highest & 7) });
}

function extension(extnID: string, critical: boolean, value: { toBER(): ArrayBuffer }): Extension {
  return new Extension({ extnID, critical, extnValue: value.toBER() });
}

/** Key identifier method 1 of RFC 5280: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(publicKeyInfo: PublicKeyInfo): Buffer {
  return createHash('sha1').update(publicKeyInfo.subjectPublicKey.valueBlock.valueHexView).digest();
}

async function publicKeyInfoOf(publicKey: CryptoKey | Uint8Array): Promise<PublicKeyInfo> {
  const spki =
    publicKey instanceof Uint8Array
      ? publicKey
      : new Uint8Array(await subtle.exportKey('spki', publicKey));
  return PublicKeyInfo.fromBER(spki);
}

interface Issuer {
  certificate: Certificate;
  privateKey: CryptoKey;
}

interface CertificateRequest {
  subject: NameParts;
  /** CryptoKey or SPKI DER (the token keys are known only by their public half). */
  publicKey: CryptoKey | Uint8Array;
  notBefore: Date;
  notAfter: Date;
  keyUsage: (keyof typeof KEY_USAGE_BIT)[];
  extendedKeyUsage?: string[];
  /** Absent for a self-signed CA, whose own key then signs. */
  issuer?: Issuer;
  signingKey?: CryptoKey;
}

async function issueCertificate(request: CertificateRequest): Promise<Certificate> {
  const certificate = new Certificate();
  certificate.version = 2;
  certificate.serialNumber = new Integer({ valueHex: randomSerialNumber() });
  certificate.subject = distinguishedName(request.subject);
  certificate.issuer = request.issuer ? request.issuer.certificate.subject : certificate.subject;
  certificate.notBefore = new Time({ type: 0, value: request.notBefore });
  certificate.notAfter = new Time({ type: 0, value: request.notAfter });
  certificate.subjectPublicKeyInfo = await publicKeyInfoOf(request.publicKey);
  const isCa = !request.issuer;
  const issuerPublicKeyInfo = request.issuer
    ? request.issuer.certificate.subjectPublicKeyInfo
    : certificate.subjectPublicKeyInfo;
  const extensions = [
    extension('2.5.29.19', true, new BasicConstraints({ cA: isCa }).toSchema()),
    extension('2.5.29.15', true, keyUsageBits(request.keyUsage)),
    extension(
      '2.5.29.14',
      false,
      new OctetString({ valueHex: keyIdentifier(certificate.subjectPublicKeyInfo) }),
    ),
  ];
  if (!isCa) {
    extensions.push(
      extension(
        '2.5.29.35',
        false,
        new AuthorityKeyIdentifier({
          keyIdentifier: new OctetString({ valueHex: keyIdentifier(issuerPublicKeyInfo) }),
        }).toSchema(),
      ),
    );
  }
  if (request.extendedKeyUsage) {
    // Critical: `openssl ts -reply` refuses a TSA certificate without a critical timeStamping EKU.
    extensions.push(
      extension(
        '2.5.29.37',
        true,
        new ExtKeyUsage({ keyPurposes: request.extendedKeyUsage }).toSchema(),
      ),
    );
  }
  certificate.extensions = extensions;
  const signingKey = request.issuer?.privateKey ?? request.signingKey;
  if (!signingKey) throw new Error('a self-signed certificate needs its signingKey');
  await certificate.sign(signingKey, 'SHA-256');
  return certificate;
}

function pem(label: string, der: ArrayBuffer | Uint8Array): string {
  const base64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString(
    'base64',
  );
  return `-----BEGIN ${label}-----\n${base64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

function certificatePem(certificate: Certificate): string {
  return pem('CERTIFICATE', certificate.toSchema().toBER(false));
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await subtle.exportKey('pkcs8', key));
}

interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
}

function run(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) =>
      reject(new Error(`${command} could not be started: ${error.message}`)),
    );
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'));
      else {
        reject(
          new Error(
            `${command} ${args[0] ?? ''} failed (exit ${code}): ${Buffer.concat(stderr).toString('utf8').trim()}`,
          ),
        );
      }
    });
    child.stdin.end(options.input ?? '');
  });
}

async function exportPkcs12(
  file: string,
  friendlyName: string,
  key: CryptoKey,
  certificate: Certificate,
  chainFile: string,
  password: string,
): Promise<void> {
  // Key and certificate go through stdin, so no unencrypted leaf key touches the disk;
  // OpenSSL 3's defaults give PBES2/AES-256 + PBKDF2 and an HMAC-SHA256 MAC.
  await run(
    'openssl',
    [
      'pkcs12',
      '-export',
      '-out',
      file,
      '-certfile',
      chainFile,
      '-name',
      friendlyName,
      '-passout',
      `env:${SEAL_PASSWORD_ENV}`,
    ],
    {
      env: { ...process.env, [SEAL_PASSWORD_ENV]: password },
      input: `${await privateKeyPem(key)}${certificatePem(certificate)}`,
    },
  );
  await chmod(file, 0o600);
}

interface TokenPublicKeys {
  sindaco: Uint8Array;
  designato: Uint8Array;
}

/**
 * Initialises the token and has a child process generate the keys in it. The
 * child keeps this process's pkcs11js state untouched: SoftHSM reads SOFTHSM2_CONF
 * once per C_Initialize, and signers already open here may use another token dir.
 */
async function prepareToken(
  buildDir: string,
  modulePath: string,
  pin: string,
  soPin: string,
): Promise<TokenPublicKeys> {
  const tokenDir = path.join(buildDir, 'tokens');
  await mkdir(tokenDir, { mode: 0o700 });
  const buildConf = path.join(buildDir, 'softhsm2.build.conf');
  await writeFile(buildConf, softHsmConf(tokenDir));
  const env = { ...process.env, SOFTHSM2_CONF: buildConf };
  // softhsm2-util takes the PINs only as arguments; they are throw-away development PINs.
  await run(
    'softhsm2-util',
    ['--init-token', '--free', '--label', DEV_TOKEN_LABEL, '--so-pin', soPin, '--pin', pin],
    { env },
  );
  const output = await run(
    process.execPath,
    [
      '--import',
      // createRequire rather than import.meta.resolve: under mocha, tsx may compile this file as CJS.
      pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href,
      fileURLToPath(import.meta.url),
      TOKEN_KEYS_COMMAND,
      modulePath,
      DEV_TOKEN_LABEL,
    ],
    { env: { ...env, [TOKEN_PIN_CHILD_ENV]: pin } },
  );
  await rm(buildConf);
  const parsed = JSON.parse(output.trim().split('\n').pop() ?? '{}') as Record<string, string>;
  if (!parsed.sindaco || !parsed.designato)
    throw new Error(`unexpected key generator output: ${output}`);
  return {
    sindaco: Buffer.from(parsed.sindaco, 'base64'),
    designato: Buffer.from(parsed.designato, 'base64'),
  };
}

function softHsmConf(tokenDir: string): string {
  return [
    '# SoftHSM2 configuration of the Sigillo development token (made by scripts/dev-pki.ts)',
    `directories.tokendir = ${tokenDir}`,
    'objectstore.backend = file',
    'log.level = ERROR',
    'slots.removable = false',
    '',
  ].join('\n');
}

function tsaConf(finalDir: string): string {
  return [
    '# openssl ts -reply -config tsa.cnf -queryfile request.tsq -out response.tsr',
    '[ tsa ]',
    'default_tsa = sigillo_dev_tsa',
    '',
    '[ sigillo_dev_tsa ]',
    `dir = ${finalDir}`,
    'serial = $dir/tsa-serial',
    'crypto_device = builtin',
    'signer_cert = $dir/tsa.pem',
    'certs = $dir/ca.pem',
    'signer_key = $dir/tsa-key.pem',
    'signer_digest = sha256',
    `default_policy = ${TSA_POLICY_OID}`,
    // Only to silence openssl's "no value" complaint; requests never ask for it.
    'other_policies = 1.3.6.1.4.1.99999.2',
    'digests = sha256, sha384, sha512',
    'accuracy = secs:1, millisecs:0, microsecs:0',
    'clock_precision_digits = 0',
    'ordering = no',
    'tsa_name = yes',
    'ess_cert_id_chain = no',
    'ess_cert_id_alg = sha256',
    '',
  ].join('\n');
}

async function buildDevPki(buildDir: string, finalDir: string): Promise<void> {
  const modulePath = findSoftHsmModule();
  const password = randomSecret(18);
  const tokenPin = randomBytes(8).toString('hex');
  const tokenSoPin = randomBytes(8).toString('hex');
  const secrets = {
    [SEAL_PASSWORD_ENV]: password,
    [TOKEN_PIN_ENV]: tokenPin,
    [TOKEN_SO_PIN_ENV]: tokenSoPin,
  };
  const tokenKeys = prepareToken(buildDir, modulePath, tokenPin, tokenSoPin);
  // Keep a rejection here from going unhandled while the other work is awaited.
  tokenKeys.catch(() => undefined);

  const file = (name: string) => path.join(buildDir, name);
  const writeSecretFile = async (name: string, content: string) => {
    await writeFile(file(name), content, { mode: 0o600 });
  };

  const [caKeys, strangerCaKeys, sealKeys, funzionarioKeys, expiredKeys, strangerKeys, tsaKeys] =
    await Promise.all([
      generateKeys(rsaAlgorithm(3072)),
      generateKeys(ecAlgorithm),
      generateKeys(rsaAlgorithm(2048)),
      generateKeys(ecAlgorithm),
      generateKeys(rsaAlgorithm(2048)),
      generateKeys(rsaAlgorithm(2048)),
      generateKeys(rsaAlgorithm(2048)),
    ]);

  const now = Date.now();
  // Back-dated so the expired certificate's whole life falls inside the CA's.
  const caNotBefore = new Date(now - 3 * 365 * DAY_MS);
  const leafNotBefore = new Date(now - DAY_MS);
  const leafNotAfter = new Date(now + 3 * 365 * DAY_MS);
  const rootCa = async (subject: NameParts, keys: CryptoKeyPair): Promise<Issuer> => ({
    privateKey: keys.privateKey,
    certificate: await issueCertificate({
      subject,
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      notBefore: caNotBefore,
      notAfter: new Date(now + 12 * 365 * DAY_MS),
      keyUsage: ['keyCertSign', 'cRLSign'],
    }),
  });
  const [ca, strangerCa] = await Promise.all([
    rootCa(
      [
        [OID.country, 'IT'],
        [OID.organization, 'Sigillo (sviluppo)'],
        [OID.commonName, 'Sigillo Development CA'],
      ],
      caKeys,
    ),
    rootCa(
      [
        [OID.country, 'IT'],
        [OID.organization, 'Ente estraneo'],
        [OID.commonName, 'Stranger Development CA'],
      ],
      strangerCaKeys,
    ),
  ]);
  const signingUsage: CertificateRequest['keyUsage'] = ['digitalSignature', 'nonRepudiation'];
  const personName = (givenName: string, surname: string, taxId: string): NameParts => [
    [OID.country, 'IT'],
    [OID.givenName, givenName],
    [OID.surname, surname],
    [OID.serialNumber, taxId],
    [OID.commonName, `${givenName} ${surname}`],
  ];

  const [
    sealCertificate,
    funzionarioCertificate,
    expiredCertificate,
    strangerCertificate,
    tsaCertificate,
  ] = await Promise.all([
    issueCertificate({
      issuer: ca,
      subject: [
        [OID.country, 'IT'],
        [OID.organization, 'Ente di prova'],
        [OID.commonName, 'Sigillo elettronico - Ente di prova'],
      ],
      publicKey: sealKeys.publicKey,
      notBefore: leafNotBefore,
      notAfter: leafNotAfter,
      keyUsage: signingUsage,
    }),
    issueCertificate({
      issuer: ca,
      subject: personName('Maria', 'Rossi', 'TINIT-RSSMRA80A41H501U'),
      publicKey: funzionarioKeys.publicKey,
      notBefore: leafNotBefore,
      notAfter: leafNotAfter,
      keyUsage: signingUsage,
    }),
    issueCertificate({
      issuer: ca,
      subject: [
        [OID.country, 'IT'],
        [OID.organization, 'Ente di prova'],
        [OID.commonName, 'Sigillo scaduto - Ente di prova'],
      ],
      publicKey: expiredKeys.publicKey,
      notBefore: new Date(now - 2 * 365 * DAY_MS),
      notAfter: new Date(now - 2 * DAY_MS),
      keyUsage: signingUsage,
    }),
    issueCertificate({
      issuer: strangerCa,
      subject: [
        [OID.country, 'IT'],
        [OID.organization, 'Ente estraneo'],
        [OID.commonName, 'Firmatario sconosciuto'],
      ],
      publicKey: strangerKeys.publicKey,
      notBefore: leafNotBefore,
      notAfter: leafNotAfter,
      keyUsage: signingUsage,
    }),
    issueCertificate({
      issuer: ca,
      subject: [
        [OID.country, 'IT'],
        [OID.organization, 'Sigillo (sviluppo)'],
        [OID.commonName, 'Sigillo Development TSA'],
      ],
      publicKey: tsaKeys.publicKey,
      notBefore: leafNotBefore,
      notAfter: leafNotAfter,
      keyUsage: signingUsage,
      extendedKeyUsage: ['1.3.6.1.5.5.7.3.8'],
    }),
  ]);

  await Promise.all([
    writeFile(file('ca.pem'), certificatePem(ca.certificate)),
    writeFile(file('stranger-ca.pem'), certificatePem(strangerCa.certificate)),
    writeSecretFile('ca-key.pem', await privateKeyPem(caKeys.privateKey)),
    writeFile(file('tsa.pem'), certificatePem(tsaCertificate)),
    writeSecretFile('tsa-key.pem', await privateKeyPem(tsaKeys.privateKey)),
    writeFile(file('tsa.cnf'), tsaConf(finalDir)),
    writeFile(file('tsa-serial'), '01\n'),
    writeFile(file('softhsm2.conf'), softHsmConf(path.join(finalDir, 'tokens'))),
    writeSecretFile(
      'secrets.env',
      `${Object.entries(secrets)
        .map(([name, value]) => `${name}=${value}`)
        .join('\n')}\n`,
    ),
  ]);
  await Promise.all([
    exportPkcs12(
      file('seal.p12'),
      'ente-seal',
      sealKeys.privateKey,
      sealCertificate,
      file('ca.pem'),
      password,
    ),
    exportPkcs12(
      file('funzionario-ec.p12'),
      'funzionario-ec',
      funzionarioKeys.privateKey,
      funzionarioCertificate,
      file('ca.pem'),
      password,
    ),
    exportPkcs12(
      file('expired.p12'),
      'expired',
      expiredKeys.privateKey,
      expiredCertificate,
      file('ca.pem'),
      password,
    ),
    exportPkcs12(
      file('stranger.p12'),
      'stranger',
      strangerKeys.privateKey,
      strangerCertificate,
      file('stranger-ca.pem'),
      password,
    ),
  ]);

  const tokenPublicKeys = await tokenKeys;
  const [sindacoCertificate, designatoCertificate] = await Promise.all([
    issueCertificate({
      issuer: ca,
      subject: personName('Mario', 'Bianchi', 'TINIT-BNCMRA70C15H501Z'),
      publicKey: tokenPublicKeys.sindaco,
      notBefore: leafNotBefore,
      notAfter: leafNotAfter,
      keyUsage: signingUsage,
    }),
    issueCertificate({
      issuer: ca,
      subject: personName('Giulia', 'Verdi', 'TINIT-VRDGLI85M50F205X'),
      publicKey: tokenPublicKeys.designato,
      notBefore: leafNotBefore,
      notAfter: leafNotAfter,
      keyUsage: signingUsage,
    }),
  ]);
  await Promise.all([
    writeFile(file('sindaco.pem'), certificatePem(sindacoCertificate)),
    writeFile(file('designato.pem'), certificatePem(designatoCertificate)),
  ]);

  const pkcs11Key = (id: string, label: string, keyLabel: string, certificateFile: string) => ({
    id,
    label,
    backend: 'pkcs11',
    module: modulePath,
    tokenLabel: DEV_TOKEN_LABEL,
    keyLabel,
    pinEnv: TOKEN_PIN_ENV,
    certificateFile,
    chainFile: 'ca.pem',
  });
  const pkcs12Key = (id: string, label: string, p12File: string) => ({
    id,
    label,
    backend: 'pkcs12',
    file: p12File,
    passwordEnv: SEAL_PASSWORD_ENV,
  });
  const keys = {
    keys: [
      pkcs12Key('ente-seal', "Sigillo elettronico dell'ente (sviluppo)", 'seal.p12'),
      pkcs12Key('funzionario-ec', 'Maria Rossi, funzionaria (EC, sviluppo)', 'funzionario-ec.p12'),
      pkcs12Key('expired', 'Certificato scaduto (sviluppo)', 'expired.p12'),
      pkcs12Key('stranger', 'Certificato di una CA non fidata (sviluppo)', 'stranger.p12'),
      pkcs11Key(
        'sindaco-hsm',
        'Mario Bianchi, sindaco (SoftHSM, sviluppo)',
        'sindaco',
        'sindaco.pem',
      ),
      pkcs11Key(
        'designato-hsm',
        'Giulia Verdi, designata (SoftHSM EC, sviluppo)',
        'designato',
        'designato.pem',
      ),
    ],
  };
  await writeFile(file('keys.json'), `${JSON.stringify(keys, null, 2)}\n`);
  await writeFile(
    file(COMPLETE_MARKER),
    `${JSON.stringify({ version: LAYOUT_VERSION, created: new Date(now).toISOString() })}\n`,
  );
}

// ---------------------------------------------------------------------------
// Child mode: key generation inside the token

function generateTokenKeys(modulePath: string, tokenLabel: string, pin: string): TokenPublicKeys {
  const library = new pkcs11js.PKCS11();
  library.load(modulePath);
  library.C_Initialize();
  try {
    const slot = findSlotByTokenLabel(library, tokenLabel);
    if (!slot) throw new Error(`token "${tokenLabel}" not found`);
    const session = library.C_OpenSession(
      slot,
      pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION,
    );
    library.C_Login(session, pkcs11js.CKU_USER, pin);
    // The private halves can sign and nothing else: never extractable, never readable.
    const privateTemplate = (label: string, id: Buffer): pkcs11js.Template => [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: id },
    ];
    const publicTemplate = (label: string, id: Buffer): pkcs11js.Template => [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: false },
      { type: pkcs11js.CKA_VERIFY, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: id },
    ];

    const rsaId = randomBytes(8);
    const rsa = library.C_GenerateKeyPair(
      session,
      { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
      [
        ...publicTemplate('sindaco', rsaId),
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA },
        { type: pkcs11js.CKA_MODULUS_BITS, value: 2048 },
        { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
      ],
      [
        ...privateTemplate('sindaco', rsaId),
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA },
      ],
    );
    const [modulus, exponent] = library.C_GetAttributeValue(session, rsa.publicKey, [
      { type: pkcs11js.CKA_MODULUS },
      { type: pkcs11js.CKA_PUBLIC_EXPONENT },
    ]);
    const rsaJwk: JsonWebKey = {
      kty: 'RSA',
      n: modulus?.value.toString('base64url'),
      e: exponent?.value.toString('base64url'),
    };

    const ecId = randomBytes(8);
    // DER OBJECT IDENTIFIER of prime256v1 (1.2.840.10045.3.1.7), as CKA_EC_PARAMS wants it.
    const p256Parameters = Buffer.from('06082a8648ce3d030107', 'hex');
    const ec = library.C_GenerateKeyPair(
      session,
      { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
      [
        ...publicTemplate('designato', ecId),
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
        { type: pkcs11js.CKA_EC_PARAMS, value: p256Parameters },
      ],
      [
        ...privateTemplate('designato', ecId),
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
      ],
    );
    const [point] = library.C_GetAttributeValue(session, ec.publicKey, [
      { type: pkcs11js.CKA_EC_POINT },
    ]);
    if (!point) throw new Error('the token returned no EC point');
    const ecJwk = ecJwkFromPoint(ecPointFromAttribute(point.value));

    library.C_Logout(session);
    library.C_CloseSession(session);
    const spki = (jwk: JsonWebKey) =>
      createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
    return { sindaco: spki(rsaJwk), designato: spki(ecJwk) };
  } finally {
    library.C_Finalize();
    library.close();
  }
}

// ---------------------------------------------------------------------------
// Command line

export async function devPkiMain(args: string[]): Promise<void> {
  if (args[0] === TOKEN_KEYS_COMMAND) {
    const [, modulePath, tokenLabel] = args;
    const pin = process.env[TOKEN_PIN_CHILD_ENV];
    if (!modulePath || !tokenLabel || !pin)
      throw new Error('usage: --generate-token-keys <module> <label>');
    const keys = generateTokenKeys(modulePath, tokenLabel, pin);
    process.stdout.write(
      `${JSON.stringify({
        sindaco: Buffer.from(keys.sindaco).toString('base64'),
        designato: Buffer.from(keys.designato).toString('base64'),
      })}\n`,
    );
    return;
  }
  if (args.length > 1 || args[0]?.startsWith('-')) {
    throw new Error('usage: tsx scripts/dev-pki.ts [dir]   (default var/dev-pki)');
  }
  const started = Date.now();
  const pki = await ensureDevPki(args[0] ?? path.join('var', 'dev-pki'));
  const lines = [
    `Development PKI ready in ${pki.dir} (${Date.now() - started} ms)`,
    `  trust anchors     ${pki.caFile}`,
    `  key configuration ${pki.keysFile}   (SIGNING_KEYS_FILE)`,
    `  secrets           ${path.join(pki.dir, 'secrets.env')}   (${Object.keys(pki.secrets).join(', ')})`,
    `  SoftHSM2          SOFTHSM2_CONF=${pki.softhsmConf}   token "${DEV_TOKEN_LABEL}"`,
    `  PKCS#12           ${Object.values(pki.p12).join(', ')}`,
    `  TSA               openssl ts -reply -config ${pki.tsa.configFile}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  devPkiMain(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
