/**
 * A KeySigner over a PKCS#12 (.p12/.pfx) file whose password comes from an
 * environment variable. The file is parsed once; the private key then lives in
 * memory as a KeyObject, so a signature costs only the RSA/ECDSA operation.
 *
 * pkijs parses the ASN.1 structures; the password-based cryptography (MAC,
 * PBES2, legacy 3DES) is done here with node:crypto because pkijs only decrypts
 * PBES2, and doing all of it in one place keeps the wrong-password detection uniform.
 */
import {
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  pbkdf2Sync,
  sign as cryptoSign,
  timingSafeEqual,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Integer, OctetString, Sequence } from 'asn1js';
import {
  AuthenticatedSafe,
  EncryptedData,
  PBES2Params,
  PBKDF2Params,
  PFX,
  SafeContents,
  type AlgorithmIdentifier,
  type CertBag,
  type ContentInfo,
  type PKCS8ShroudedKeyBag,
  type PrivateKeyInfo,
} from 'pkijs';
import {
  SignerUnavailableError,
  type KeyAlgorithm,
  type KeySigner,
  type SignerUnavailableReason,
} from '../signer.js';

export interface Pkcs12SignerOptions {
  id: string;
  /** Absolute path of the .p12 file. */
  file: string;
  /** Name of the environment variable holding the file's password. */
  passwordEnv: string;
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbeWithSha1And3KeyTripleDesCbc: '1.2.840.113549.1.12.1.3',
  pbeWithSha1And2KeyTripleDesCbc: '1.2.840.113549.1.12.1.4',
  pbeWithSha1And128BitRc2Cbc: '1.2.840.113549.1.12.1.5',
  pbeWithSha1And40BitRc2Cbc: '1.2.840.113549.1.12.1.6',
} as const;

const DIGEST_BY_OID: Record<string, { name: string; blockSize: number }> = {
  '1.3.14.3.2.26': { name: 'sha1', blockSize: 64 },
  '2.16.840.1.101.3.4.2.4': { name: 'sha224', blockSize: 64 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', blockSize: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', blockSize: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', blockSize: 128 },
};

const PBKDF2_PRF_BY_OID: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};

const PBES2_CIPHER_BY_OID: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};

/** Wrong password, or a file damaged in a way only the password could tell. */
class PasswordRejected extends Error {}

/** Something in the file this reader does not handle (or garbage). */
class UnreadableContent extends Error {}

function octetStringBytes(value: OctetString): Buffer {
  return Buffer.from(value.getValue());
}

/**
 * RFC 7292 appendix B key derivation (used by the MAC and by the legacy PBE
 * schemes). `purpose` is 1 for keys, 2 for IVs, 3 for MAC keys.
 */
function pkcs12Kdf(
  password: string,
  salt: Buffer,
  iterations: number,
  purpose: 1 | 2 | 3,
  length: number,
  digest: { name: string; blockSize: number },
): Buffer {
  const v = digest.blockSize;
  // The password is a BMPString with a terminating NUL, as OpenSSL and Windows write it.
  const passwordBytes = Buffer.alloc((password.length + 1) * 2);
  for (let index = 0; index < password.length; index += 1) {
    passwordBytes.writeUInt16BE(password.charCodeAt(index), index * 2);
  }
  const repeatToBlocks = (bytes: Buffer) => {
    const out = Buffer.alloc(v * Math.ceil(bytes.length / v));
    for (let index = 0; index < out.length; index += 1)
      out[index] = bytes[index % bytes.length] ?? 0;
    return out;
  };
  const diversifier = Buffer.alloc(v, purpose);
  const input = Buffer.concat([
    salt.length ? repeatToBlocks(salt) : Buffer.alloc(0),
    repeatToBlocks(passwordBytes),
  ]);
  const output: Buffer[] = [];
  let produced = 0;
  while (produced < length) {
    let block = createHash(digest.name).update(diversifier).update(input).digest();
    for (let round = 1; round < iterations; round += 1) {
      block = createHash(digest.name).update(block).digest();
    }
    output.push(block);
    produced += block.length;
    if (produced >= length) break;
    const adjuster = repeatToBlocks(block);
    for (let offset = 0; offset < input.length; offset += v) {
      let carry = 1;
      for (let index = v - 1; index >= 0; index -= 1) {
        carry += (input[offset + index] ?? 0) + (adjuster[index] ?? 0);
        input[offset + index] = carry & 0xff;
        carry >>= 8;
      }
    }
  }
  return Buffer.concat(output).subarray(0, length);
}

function verifyMac(pfx: PFX, authenticatedSafeBytes: Buffer, password: string): void {
  const macData = pfx.macData;
  if (!macData) return;
  const algorithmId = macData.mac.digestAlgorithm.algorithmId;
  const digest = DIGEST_BY_OID[algorithmId];
  if (!digest) throw new UnreadableContent(`unsupported MAC algorithm ${algorithmId}`);
  const macLength = createHash(digest.name).digest().length;
  const key = pkcs12Kdf(
    password,
    octetStringBytes(macData.macSalt),
    macData.iterations ?? 1,
    3,
    macLength,
    digest,
  );
  const expected = createHmac(digest.name, key).update(authenticatedSafeBytes).digest();
  const stored = octetStringBytes(macData.mac.digest);
  if (stored.length !== expected.length || !timingSafeEqual(stored, expected)) {
    throw new PasswordRejected('MAC mismatch');
  }
}

function decryptPbes2(
  parameters: AlgorithmIdentifier,
  encrypted: Buffer,
  password: string,
): Buffer {
  const pbes2 = new PBES2Params({ schema: parameters.algorithmParams });
  if (pbes2.keyDerivationFunc.algorithmId !== OID.pbkdf2) {
    throw new UnreadableContent(
      `unsupported PBES2 key derivation ${pbes2.keyDerivationFunc.algorithmId}`,
    );
  }
  const kdf = new PBKDF2Params({ schema: pbes2.keyDerivationFunc.algorithmParams });
  const prfOid = kdf.prf?.algorithmId ?? '1.2.840.113549.2.7';
  const prf = PBKDF2_PRF_BY_OID[prfOid];
  const cipher = PBES2_CIPHER_BY_OID[pbes2.encryptionScheme.algorithmId];
  if (!prf || !cipher) {
    throw new UnreadableContent(
      `unsupported PBES2 parameters (PRF ${prfOid}, cipher ${pbes2.encryptionScheme.algorithmId})`,
    );
  }
  // kdf.salt is an OCTET STRING for PBKDF2-in-PBES2 ("otherSource" is never used in practice).
  const salt = octetStringBytes(kdf.salt as OctetString);
  const iv = octetStringBytes(pbes2.encryptionScheme.algorithmParams as OctetString);
  const key = pbkdf2Sync(
    Buffer.from(password, 'utf8'),
    salt,
    kdf.iterationCount,
    cipher.keyLength,
    prf,
  );
  return decipher(cipher.name, key, iv, encrypted);
}

function decryptLegacyTripleDes(
  parameters: AlgorithmIdentifier,
  encrypted: Buffer,
  password: string,
  keyLength: 16 | 24,
): Buffer {
  const parametersSchema: unknown = parameters.algorithmParams;
  const [saltBlock, iterationsBlock] =
    parametersSchema instanceof Sequence ? parametersSchema.valueBlock.value : [];
  if (!(saltBlock instanceof OctetString) || !(iterationsBlock instanceof Integer)) {
    throw new UnreadableContent('malformed legacy PBE parameters');
  }
  const salt = octetStringBytes(saltBlock);
  const iterations = iterationsBlock.valueBlock.valueDec;
  const sha1 = { name: 'sha1', blockSize: 64 };
  const key = pkcs12Kdf(password, salt, iterations, 1, keyLength, sha1);
  const iv = pkcs12Kdf(password, salt, iterations, 2, 8, sha1);
  return decipher(keyLength === 24 ? 'des-ede3-cbc' : 'des-ede-cbc', key, iv, encrypted);
}

function decipher(name: string, key: Buffer, iv: Buffer, encrypted: Buffer): Buffer {
  try {
    const decipherer = createDecipheriv(name, key, iv);
    return Buffer.concat([decipherer.update(encrypted), decipherer.final()]);
  } catch {
    // Bad padding: the derived key was wrong.
    throw new PasswordRejected('decryption failed');
  }
}

function decrypt(algorithm: AlgorithmIdentifier, encrypted: Buffer, password: string): Buffer {
  switch (algorithm.algorithmId) {
    case OID.pbes2:
      return decryptPbes2(algorithm, encrypted, password);
    case OID.pbeWithSha1And3KeyTripleDesCbc:
      return decryptLegacyTripleDes(algorithm, encrypted, password, 24);
    case OID.pbeWithSha1And2KeyTripleDesCbc:
      return decryptLegacyTripleDes(algorithm, encrypted, password, 16);
    case OID.pbeWithSha1And128BitRc2Cbc:
    case OID.pbeWithSha1And40BitRc2Cbc:
      // Node's OpenSSL 3 has no RC2 without the legacy provider.
      throw new UnreadableContent(
        'legacy RC2 encryption is not supported: re-export the file with OpenSSL 3 defaults (openssl pkcs12 -legacy -in old.p12 -nodes | openssl pkcs12 -export -out new.p12)',
      );
    default:
      throw new UnreadableContent(`unsupported encryption algorithm ${algorithm.algorithmId}`);
  }
}

interface FileContents {
  privateKeys: KeyObject[];
  certificates: Buffer[];
}

function collectBags(safeContents: SafeContents, password: string, into: FileContents): void {
  for (const bag of safeContents.safeBags) {
    switch (bag.bagId) {
      case OID.keyBag:
        into.privateKeys.push(
          privateKeyFromPkcs8(
            Buffer.from((bag.bagValue as PrivateKeyInfo).toSchema().toBER(false)),
          ),
        );
        break;
      case OID.pkcs8ShroudedKeyBag: {
        const shrouded = bag.bagValue as PKCS8ShroudedKeyBag;
        const pkcs8 = decrypt(
          shrouded.encryptionAlgorithm,
          octetStringBytes(shrouded.encryptedData),
          password,
        );
        into.privateKeys.push(privateKeyFromPkcs8(pkcs8));
        break;
      }
      case OID.certBag: {
        const certBag = bag.bagValue as CertBag;
        if (certBag.certId === OID.x509Certificate) {
          into.certificates.push(octetStringBytes(certBag.certValue as OctetString));
        }
        break;
      }
      case OID.safeContentsBag:
        collectBags(bag.bagValue as SafeContents, password, into);
        break;
      default:
        // CRLs and secrets are of no use to a signer.
        break;
    }
  }
}

function privateKeyFromPkcs8(der: Buffer): KeyObject {
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    // Garbage after a decryption that happened to end in valid padding.
    throw new PasswordRejected('decrypted key is not PKCS#8');
  }
}

function readContents(fileBytes: Buffer, password: string): FileContents {
  let pfx: PFX;
  try {
    pfx = PFX.fromBER(fileBytes);
  } catch (error) {
    throw new UnreadableContent(`not a PKCS#12 file (${(error as Error).message})`);
  }
  if (pfx.authSafe.contentType !== OID.data) {
    throw new UnreadableContent('public-key integrity mode is not supported');
  }
  const authenticatedSafeBytes = octetStringBytes(pfx.authSafe.content as OctetString);
  verifyMac(pfx, authenticatedSafeBytes, password);
  const contents: FileContents = { privateKeys: [], certificates: [] };
  for (const contentInfo of AuthenticatedSafe.fromBER(authenticatedSafeBytes).safeContents) {
    collectBags(safeContentsOf(contentInfo, password), password, contents);
  }
  return contents;
}

function safeContentsOf(contentInfo: ContentInfo, password: string): SafeContents {
  if (contentInfo.contentType === OID.data) {
    return SafeContents.fromBER(octetStringBytes(contentInfo.content as OctetString));
  }
  if (contentInfo.contentType === OID.encryptedData) {
    const info = new EncryptedData({ schema: contentInfo.content }).encryptedContentInfo;
    if (!info.encryptedContent) throw new UnreadableContent('encrypted bag without content');
    // getEncryptedContent() undoes the [0] IMPLICIT tagging (and joins constructed pieces).
    const decrypted = decrypt(
      info.contentEncryptionAlgorithm,
      Buffer.from(info.getEncryptedContent()),
      password,
    );
    try {
      return SafeContents.fromBER(decrypted);
    } catch {
      throw new PasswordRejected('decrypted bags do not parse');
    }
  }
  throw new UnreadableContent(
    `public-key privacy mode (${contentInfo.contentType}) is not supported`,
  );
}

function keyAlgorithmOf(key: KeyObject): KeyAlgorithm | undefined {
  if (key.asymmetricKeyType === 'rsa') return 'RSA';
  if (key.asymmetricKeyType === 'ec') return 'ECDSA';
  return undefined;
}

/** Signer certificate first, then each issuer in turn, then whatever else the file holds. */
function orderChain(leaf: X509Certificate, others: X509Certificate[]): Uint8Array[] {
  const ordered = [leaf];
  const remaining = [...others];
  for (;;) {
    const last = ordered[ordered.length - 1] as X509Certificate;
    if (last.checkIssued(last)) break;
    const issuerIndex = remaining.findIndex((candidate) => last.checkIssued(candidate));
    if (issuerIndex < 0) break;
    ordered.push(...remaining.splice(issuerIndex, 1));
  }
  return [...ordered, ...remaining].map((certificate) => new Uint8Array(certificate.raw));
}

class Pkcs12Signer implements KeySigner {
  constructor(
    readonly id: string,
    readonly keyAlgorithm: KeyAlgorithm,
    private readonly privateKey: KeyObject,
    private readonly chain: Uint8Array[],
  ) {}

  certificates(): Promise<Uint8Array[]> {
    return Promise.resolve(this.chain.map((der) => new Uint8Array(der)));
  }

  sign(data: Uint8Array): Promise<Uint8Array> {
    // ECDSA keys default to dsaEncoding 'der', i.e. the Ecdsa-Sig-Value CMS carries.
    return Promise.resolve(new Uint8Array(cryptoSign('sha256', data, this.privateKey)));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function unavailable(reason: SignerUnavailableReason, message: string): SignerUnavailableError {
  return new SignerUnavailableError(reason, message);
}

export async function openPkcs12Signer(
  options: Pkcs12SignerOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KeySigner> {
  const password = env[options.passwordEnv];
  // An empty value is a forgotten setting, not a password meant to be empty.
  if (password === undefined || password === '') {
    throw unavailable(
      'secret-missing',
      `environment variable ${options.passwordEnv} (password of key ${options.id}) is not set`,
    );
  }
  let fileBytes: Buffer;
  try {
    fileBytes = await readFile(options.file);
  } catch (error) {
    throw unavailable(
      'file-unreadable',
      `PKCS#12 file ${options.file} of key ${options.id} cannot be read: ${(error as Error).message}`,
    );
  }
  let contents: FileContents;
  try {
    contents = readContents(fileBytes, password);
  } catch (error) {
    if (error instanceof PasswordRejected) {
      throw unavailable(
        'wrong-password',
        `wrong password in ${options.passwordEnv} for ${options.file} (${error.message})`,
      );
    }
    const detail = error instanceof Error ? error.message : String(error);
    throw unavailable('file-unreadable', `PKCS#12 file ${options.file} is unusable: ${detail}`);
  }

  const certificates = contents.certificates.map((der) => new X509Certificate(der));
  for (const privateKey of contents.privateKeys) {
    const keyAlgorithm = keyAlgorithmOf(privateKey);
    if (!keyAlgorithm) continue;
    const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    const leaf = certificates.find((certificate) =>
      publicKey.equals(certificate.publicKey.export({ type: 'spki', format: 'der' })),
    );
    if (!leaf) continue;
    const others = certificates.filter((certificate) => certificate !== leaf);
    return new Pkcs12Signer(options.id, keyAlgorithm, privateKey, orderChain(leaf, others));
  }
  throw unavailable(
    'key-missing',
    `${options.file} holds no RSA or EC private key together with its certificate`,
  );
}
