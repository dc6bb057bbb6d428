/**
 * A throw-away PKI made with the openssl CLI, so the signature tests check
 * Sigillo against certificates it did not make itself: a trusted root, the
 * signers issued under it (RSA with an Italian "TINIT-" serialNumber, EC P-256
 * with a bare codice fiscale, one long expired, a time-stamping authority) and
 * a signer under a second root that the deployment does not trust.
 *
 * Everything lives in the folder given: keys never leave the temp directory.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Protects the PKCS#12 files pyHanko reads; a test secret, not a credential. */
export const PKCS12_PASSPHRASE = 'sigillo-test';

export interface PkiIdentity {
  /** PEM certificate. */
  certificatePath: string;
  /** PEM private key, unencrypted. */
  keyPath: string;
  /** Key, certificate and issuer chain, protected by PKCS12_PASSPHRASE. */
  pkcs12Path: string;
  /** PEM certificates of the issuer chain, root included. */
  chainPath: string;
  certificateDer: Uint8Array;
}

export interface CertificateAuthority {
  certificatePath: string;
  keyPath: string;
  certificateDer: Uint8Array;
}

export interface OpensslPki {
  directory: string;
  root: CertificateAuthority;
  /** Not among the deployment's trust anchors. */
  untrustedRoot: CertificateAuthority;
  /** RSA 2048, subject serialNumber "TINIT-RSSMRA80A41H501U". */
  rsaSigner: PkiIdentity;
  /** EC P-256, subject serialNumber a bare codice fiscale, UTF-8 common name. */
  ecSigner: PkiIdentity;
  /** Valid during 2020 only. */
  expiredSigner: PkiIdentity;
  /** Issued by untrustedRoot. */
  untrustedSigner: PkiIdentity;
  /** RSA, critical extendedKeyUsage timeStamping, for RFC 3161 tokens. */
  timestampAuthority: PkiIdentity;
}

export const RSA_SIGNER_CODICE_FISCALE = 'RSSMRA80A41H501U';
export const EC_SIGNER_CODICE_FISCALE = 'BNCNCL75C12D612K';

type KeyKind = 'rsa' | 'ec';

const EXTENSIONS = `
[ root_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ signer_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ tsa_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** `openssl ca` rather than `x509 -req`: only it can back-date a certificate on openssl 3.0. */
function caConfig(directory: string): string {
  return `
[ ca ]
default_ca = test_ca

[ test_ca ]
dir = ${directory}
database = $dir/index.txt
serial = $dir/serial
new_certs_dir = $dir/issued
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
policy = policy_anything
unique_subject = no
copy_extensions = none
string_mask = utf8only

[ policy_anything ]
countryName = optional
organizationName = optional
commonName = supplied
serialNumber = optional
givenName = optional
surname = optional

[ req ]
distinguished_name = req_dn
string_mask = utf8only
utf8 = yes

[ req_dn ]
${EXTENSIONS}`;
}

async function openssl(args: string[]): Promise<void> {
  await run('openssl', args);
}

async function generateKey(file: string, kind: KeyKind): Promise<void> {
  await openssl(
    kind === 'rsa'
      ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file]
      : ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file],
  );
}

async function pemToDer(file: string): Promise<Uint8Array> {
  const pem = await readFile(file, 'utf8');
  const body = pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
  return new Uint8Array(Buffer.from(body, 'base64'));
}

async function createRoot(directory: string, commonName: string): Promise<CertificateAuthority> {
  await mkdir(path.join(directory, 'issued'), { recursive: true });
  const config = path.join(directory, 'ca.cnf');
  await writeFile(config, caConfig(directory));
  await writeFile(path.join(directory, 'index.txt'), '');
  await writeFile(path.join(directory, 'serial'), '1000\n');
  const keyPath = path.join(directory, 'ca.key');
  const certificatePath = path.join(directory, 'ca.pem');
  await generateKey(keyPath, 'rsa');
  // prettier-ignore
  await openssl([
    'req', '-config', config, '-new', '-x509', '-utf8', '-key', keyPath, '-days', '3650',
    '-subj', `/C=IT/O=Sigillo test/CN=${commonName}`, '-extensions', 'root_ext',
    '-out', certificatePath,
  ]);
  return { certificatePath, keyPath, certificateDer: await pemToDer(certificatePath) };
}

interface IssueRequest {
  name: string;
  subject: string;
  kind: KeyKind;
  extensions: 'signer_ext' | 'tsa_ext';
  validity?: { start: string; end: string };
}

async function issue(
  caDirectory: string,
  ca: CertificateAuthority,
  request: IssueRequest,
): Promise<PkiIdentity> {
  const base = path.join(caDirectory, request.name);
  const config = path.join(caDirectory, 'ca.cnf');
  const keyPath = `${base}.key`;
  const certificatePath = `${base}.pem`;
  await generateKey(keyPath, request.kind);
  // prettier-ignore
  await openssl([
    'req', '-config', config, '-new', '-utf8', '-key', keyPath, '-subj', request.subject,
    '-out', `${base}.csr`,
  ]);
  const validity = request.validity
    ? ['-startdate', request.validity.start, '-enddate', request.validity.end]
    : ['-days', '730'];
  // -preserveDN keeps the subject in the order written, as qualified certificates have it.
  // prettier-ignore
  await openssl([
    'ca', '-batch', '-config', config, '-utf8', '-preserveDN', '-notext',
    '-extensions', request.extensions, ...validity, '-in', `${base}.csr`, '-out', certificatePath,
  ]);
  const chainPath = ca.certificatePath;
  const pkcs12Path = `${base}.p12`;
  // prettier-ignore
  await openssl([
    'pkcs12', '-export', '-inkey', keyPath, '-in', certificatePath, '-certfile', chainPath,
    '-passout', `pass:${PKCS12_PASSPHRASE}`, '-out', pkcs12Path,
  ]);
  return {
    certificatePath,
    keyPath,
    pkcs12Path,
    chainPath,
    certificateDer: await pemToDer(certificatePath),
  };
}

/** Builds the whole PKI under `directory` (about a second, mostly RSA key generation). */
export async function createOpensslPki(directory: string): Promise<OpensslPki> {
  const trustedDirectory = path.join(directory, 'trusted-ca');
  const untrustedDirectory = path.join(directory, 'untrusted-ca');
  const [root, untrustedRoot] = await Promise.all([
    createRoot(trustedDirectory, 'Sigillo Test Root CA'),
    createRoot(untrustedDirectory, 'Untrusted Test Root CA'),
  ]);
  // `openssl ca` updates its database file: issue one certificate at a time per CA.
  const rsaSigner = await issue(trustedDirectory, root, {
    name: 'rsa-signer',
    subject:
      '/C=IT/O=Comune di Prova/GN=Maria/SN=Rossi/serialNumber=TINIT-RSSMRA80A41H501U/CN=Maria Rossi',
    kind: 'rsa',
    extensions: 'signer_ext',
  });
  const ecSigner = await issue(trustedDirectory, root, {
    name: 'ec-signer',
    subject: `/C=IT/O=Comune di Prova/serialNumber=${EC_SIGNER_CODICE_FISCALE}/CN=Niccolò Bianchi`,
    kind: 'ec',
    extensions: 'signer_ext',
  });
  const expiredSigner = await issue(trustedDirectory, root, {
    name: 'expired-signer',
    subject: '/C=IT/O=Comune di Prova/CN=Firmatario Scaduto',
    kind: 'ec',
    extensions: 'signer_ext',
    validity: { start: '20200101000000Z', end: '20201231235959Z' },
  });
  const timestampAuthority = await issue(trustedDirectory, root, {
    name: 'tsa',
    subject: '/C=IT/O=Sigillo test/CN=Sigillo Test TSA',
    // pyHanko's DummyTimeStamper signs with RSA only.
    kind: 'rsa',
    extensions: 'tsa_ext',
  });
  const untrustedSigner = await issue(untrustedDirectory, untrustedRoot, {
    name: 'untrusted-signer',
    subject: '/C=IT/O=Altro Ente/CN=Firmatario Sconosciuto',
    kind: 'ec',
    extensions: 'signer_ext',
  });
  return {
    directory,
    root,
    untrustedRoot,
    rsaSigner,
    ecSigner,
    expiredSigner,
    untrustedSigner,
    timestampAuthority,
  };
}
