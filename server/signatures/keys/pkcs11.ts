/**
 * A KeySigner over a key held in a PKCS#11 token (HSM, smart card, SoftHSM2 in
 * development). The private key never leaves the token: this file only asks the
 * token to sign, and never reads CKA_VALUE or wraps/exports the key.
 */
import { createHash, X509Certificate, type JsonWebKey } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { Integer, Sequence } from 'asn1js';
import pkcs11js from 'pkcs11js';
import {
  SignerUnavailableError,
  type KeyAlgorithm,
  type KeySigner,
  type SignerUnavailableReason,
} from '../signer.js';

export interface Pkcs11SignerOptions {
  id: string;
  /** Absolute path of the PKCS#11 module (.so). */
  modulePath: string;
  tokenLabel: string;
  /** CKA_LABEL of the private key. */
  keyLabel: string;
  /** Name of the environment variable holding the user PIN. */
  pinEnv: string;
  /** PEM file with the key's certificate (the first certificate in it is used). */
  certificateFile: string;
  /** Optional PEM file with the chain towards the trust anchor. */
  chainFile?: string;
}

/**
 * Login state belongs to the application and token, not to one session: a
 * C_Logout by one signer would log out every other signer on the same token,
 * so logins are counted and the last one out logs out.
 */
interface TokenLogin {
  users: number;
  pinDigest: Buffer;
}

interface LoadedModule {
  readonly path: string;
  readonly library: pkcs11js.PKCS11;
  /** False when someone else in this process had already initialised the module. */
  readonly finaliseWhenUnused: boolean;
  users: number;
  readonly logins: Map<string, TokenLogin>;
}

/**
 * One PKCS11 instance per module path: dlopen hands every instance the same
 * library state, so a second C_Initialize fails and an early C_Finalize would
 * pull the rug from under the other signers.
 */
const loadedModules = new Map<string, LoadedModule>();

function unavailable(reason: SignerUnavailableReason, message: string): SignerUnavailableError {
  return new SignerUnavailableError(reason, message);
}

export function pkcs11ErrorCode(error: unknown): number | undefined {
  return error instanceof pkcs11js.Pkcs11Error ? error.code : undefined;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function acquireModule(modulePath: string): LoadedModule {
  let resolvedPath: string;
  try {
    resolvedPath = realpathSync(modulePath);
  } catch {
    throw unavailable('module-missing', `PKCS#11 module ${modulePath} does not exist`);
  }
  let loaded = loadedModules.get(resolvedPath);
  if (!loaded) {
    const library = new pkcs11js.PKCS11();
    try {
      library.load(resolvedPath);
    } catch (error) {
      throw unavailable(
        'module-missing',
        `PKCS#11 module ${modulePath} cannot be loaded: ${describeError(error)}`,
      );
    }
    let finaliseWhenUnused = true;
    try {
      // Sessions of different signers are used from libuv worker threads (C_SignAsync).
      library.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (error) {
      if (pkcs11ErrorCode(error) === pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        finaliseWhenUnused = false;
      } else {
        closeQuietly(library);
        throw unavailable(
          'module-missing',
          `PKCS#11 module ${modulePath} cannot be initialised (for SoftHSM2, check SOFTHSM2_CONF): ${describeError(error)}`,
        );
      }
    }
    loaded = { path: resolvedPath, library, finaliseWhenUnused, users: 0, logins: new Map() };
    loadedModules.set(resolvedPath, loaded);
  }
  loaded.users += 1;
  return loaded;
}

function closeQuietly(library: pkcs11js.PKCS11): void {
  try {
    library.close();
  } catch {
    // Unloading is best effort: the process keeps working with the library mapped.
  }
}

function releaseModule(loaded: LoadedModule): void {
  loaded.users -= 1;
  if (loaded.users > 0) return;
  loadedModules.delete(loaded.path);
  if (loaded.finaliseWhenUnused) {
    try {
      loaded.library.C_Finalize();
    } catch {
      // Nothing more can be done for a module that refuses to finalise.
    }
  }
  closeQuietly(loaded.library);
}

/** Finds the slot whose token carries `tokenLabel` (labels are blank-padded to 32 bytes). */
export function findSlotByTokenLabel(
  library: pkcs11js.PKCS11,
  tokenLabel: string,
): pkcs11js.Handle | undefined {
  for (const slot of library.C_GetSlotList(true)) {
    if (library.C_GetTokenInfo(slot).label.trim() === tokenLabel) return slot;
  }
  return undefined;
}

function tokenLabels(library: pkcs11js.PKCS11): string[] {
  return library.C_GetSlotList(true).map((slot) => library.C_GetTokenInfo(slot).label.trim());
}

function findObjects(
  library: pkcs11js.PKCS11,
  session: pkcs11js.Handle,
  template: pkcs11js.Template,
): pkcs11js.Handle[] {
  library.C_FindObjectsInit(session, template);
  try {
    return library.C_FindObjects(session, 16);
  } finally {
    library.C_FindObjectsFinal(session);
  }
}

function readAttribute(
  library: pkcs11js.PKCS11,
  session: pkcs11js.Handle,
  object: pkcs11js.Handle,
  type: number,
): Buffer | undefined {
  try {
    return library.C_GetAttributeValue(session, object, [{ type }])[0]?.value;
  } catch {
    // Attributes a token does not know (or keeps to itself) are simply absent.
    return undefined;
  }
}

/** A CK_ULONG attribute, stored in the module's native byte order. */
function readUlong(value: Buffer): number {
  if (value.length === 8) {
    return Number(endianness() === 'LE' ? value.readBigUInt64LE() : value.readBigUInt64BE());
  }
  return endianness() === 'LE' ? value.readUInt32LE() : value.readUInt32BE();
}

function stripLeadingZeros(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  return Buffer.from(bytes.subarray(start));
}

/**
 * CKA_EC_POINT should be a DER OCTET STRING around the uncompressed point, but
 * some tokens return the bare point: accept both.
 */
export function ecPointFromAttribute(value: Uint8Array): Buffer {
  const bytes = Buffer.from(value);
  if (bytes[0] === 0x04 && bytes.length > 2) {
    const shortLength = bytes[1] ?? 0;
    if (shortLength < 0x80 && shortLength === bytes.length - 2) return bytes.subarray(2);
    if (shortLength === 0x81 && bytes[2] === bytes.length - 3) return bytes.subarray(3);
  }
  return bytes;
}

/** JWK of a P-256/P-384/P-521 public key from its uncompressed point. */
export function ecJwkFromPoint(point: Uint8Array): JsonWebKey {
  const coordinateLength = (point.length - 1) / 2;
  const curve = { 32: 'P-256', 48: 'P-384', 66: 'P-521' }[coordinateLength];
  if (point[0] !== 0x04 || !curve)
    throw new Error('unsupported EC point (not uncompressed P-256/384/521)');
  return {
    kty: 'EC',
    crv: curve,
    x: Buffer.from(point.subarray(1, 1 + coordinateLength)).toString('base64url'),
    y: Buffer.from(point.subarray(1 + coordinateLength)).toString('base64url'),
  };
}

/** PKCS#11 ECDSA yields r||s; CMS wants the DER Ecdsa-Sig-Value SEQUENCE { r INTEGER, s INTEGER }. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) {
    throw new Error(`ECDSA signature of odd length ${raw.length}`);
  }
  const half = raw.length / 2;
  const toInteger = (bytes: Uint8Array) =>
    Integer.fromBigInt(BigInt(`0x${Buffer.from(bytes).toString('hex')}`));
  const der = new Sequence({
    value: [toInteger(raw.subarray(0, half)), toInteger(raw.subarray(half))],
  }).toBER(false);
  return new Uint8Array(der);
}

/** DER certificates of a PEM bundle, in file order; each is parsed so garbage fails here. */
export function readPemCertificates(pem: string): Uint8Array[] {
  const blocks = pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g);
  return Array.from(blocks, (block) => {
    const der = Buffer.from(block[1] ?? '', 'base64');
    new X509Certificate(der);
    return new Uint8Array(der);
  });
}

function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

class Pkcs11Signer implements KeySigner {
  private pending: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly id: string,
    readonly keyAlgorithm: KeyAlgorithm,
    private readonly module: LoadedModule,
    private readonly slotKey: string,
    private readonly session: pkcs11js.Handle,
    private readonly privateKey: pkcs11js.Handle,
    private readonly chain: Uint8Array[],
    /** Only kept for keys with CKA_ALWAYS_AUTHENTICATE, which want the PIN again for every signature. */
    private readonly contextPin: string | undefined,
  ) {}

  certificates(): Promise<Uint8Array[]> {
    return Promise.resolve(this.chain.map((der) => new Uint8Array(der)));
  }

  sign(data: Uint8Array): Promise<Uint8Array> {
    return this.serialised(async () => {
      if (this.closed) throw new Error(`signer ${this.id} is closed`);
      const library = this.module.library;
      const mechanism =
        this.keyAlgorithm === 'RSA' ? pkcs11js.CKM_SHA256_RSA_PKCS : pkcs11js.CKM_ECDSA;
      const input = this.keyAlgorithm === 'RSA' ? Buffer.from(data) : sha256(data);
      try {
        library.C_SignInit(this.session, { mechanism }, this.privateKey);
        if (this.contextPin !== undefined) {
          library.C_Login(this.session, pkcs11js.CKU_CONTEXT_SPECIFIC, this.contextPin);
        }
        // 1024 bytes fit RSA 8192 and any ECDSA r||s; the result is sliced to the real length.
        const signature = await library.C_SignAsync(this.session, input, Buffer.alloc(1024));
        return this.keyAlgorithm === 'RSA' ? new Uint8Array(signature) : ecdsaRawToDer(signature);
      } catch (error) {
        throw translateSignError(this.id, error);
      }
    });
  }

  close(): Promise<void> {
    return this.serialised(() => {
      if (this.closed) return Promise.resolve();
      this.closed = true;
      endSession(this.module, this.slotKey, this.session, true);
      releaseModule(this.module);
      return Promise.resolve();
    });
  }

  /** PKCS#11 sessions are not re-entrant: one operation at a time on ours. */
  private serialised<T>(task: () => Promise<T>): Promise<T> {
    const run = this.pending.then(task);
    this.pending = run.catch(() => undefined);
    return run;
  }
}

function translateSignError(id: string, error: unknown): unknown {
  const code = pkcs11ErrorCode(error);
  const tokenGone = [
    pkcs11js.CKR_TOKEN_NOT_PRESENT,
    pkcs11js.CKR_DEVICE_REMOVED,
    pkcs11js.CKR_SESSION_CLOSED,
    pkcs11js.CKR_SESSION_HANDLE_INVALID,
    pkcs11js.CKR_DEVICE_ERROR,
  ];
  if (code !== undefined && tokenGone.includes(code)) {
    return unavailable('token-missing', `token of key ${id} went away: ${describeError(error)}`);
  }
  if (code === pkcs11js.CKR_USER_NOT_LOGGED_IN || code === pkcs11js.CKR_PIN_INCORRECT) {
    return unavailable(
      'wrong-pin',
      `token of key ${id} refused the login: ${describeError(error)}`,
    );
  }
  return error;
}

function endSession(
  module: LoadedModule,
  slotKey: string,
  session: pkcs11js.Handle,
  holdsLogin: boolean,
): void {
  const library = module.library;
  const login = holdsLogin ? module.logins.get(slotKey) : undefined;
  if (login) {
    login.users -= 1;
    if (login.users === 0) {
      module.logins.delete(slotKey);
      try {
        library.C_Logout(session);
      } catch {
        // Already logged out (token reset): closing the session is all that is left.
      }
    }
  }
  try {
    library.C_CloseSession(session);
  } catch {
    // A session the token already dropped needs no closing.
  }
}

function logIn(
  module: LoadedModule,
  slotKey: string,
  session: pkcs11js.Handle,
  options: Pkcs11SignerOptions,
  pin: string,
): void {
  const pinDigest = sha256(pin);
  const existing = module.logins.get(slotKey);
  if (existing) {
    // The token is already logged in for this process, so C_Login would not check
    // this PIN: compare it with the one that worked, so a wrong PIN fails whatever the order.
    if (!existing.pinDigest.equals(pinDigest)) {
      throw unavailable(
        'wrong-pin',
        `wrong PIN in ${options.pinEnv} for token "${options.tokenLabel}"`,
      );
    }
    existing.users += 1;
    return;
  }
  try {
    module.library.C_Login(session, pkcs11js.CKU_USER, pin);
  } catch (error) {
    const code = pkcs11ErrorCode(error);
    if (code === pkcs11js.CKR_USER_ALREADY_LOGGED_IN) {
      // Logged in by code outside this file; the session is usable.
    } else if (code === pkcs11js.CKR_PIN_INCORRECT || code === pkcs11js.CKR_PIN_LEN_RANGE) {
      throw unavailable(
        'wrong-pin',
        `wrong PIN in ${options.pinEnv} for token "${options.tokenLabel}"`,
      );
    } else if (code === pkcs11js.CKR_PIN_LOCKED || code === pkcs11js.CKR_PIN_EXPIRED) {
      throw unavailable(
        'wrong-pin',
        `the user PIN of token "${options.tokenLabel}" is locked or expired: ${describeError(error)}`,
      );
    } else {
      throw error;
    }
  }
  module.logins.set(slotKey, { users: 1, pinDigest });
}

async function readCertificateChain(options: Pkcs11SignerOptions): Promise<Uint8Array[]> {
  const read = async (file: string) => {
    try {
      return readPemCertificates(await readFile(file, 'utf8'));
    } catch (error) {
      throw unavailable(
        'file-unreadable',
        `certificate file ${file} of key ${options.id} cannot be read: ${describeError(error)}`,
      );
    }
  };
  const own = await read(options.certificateFile);
  const signerCertificate = own[0];
  if (!signerCertificate) {
    throw unavailable('file-unreadable', `${options.certificateFile} holds no certificate`);
  }
  const chain = options.chainFile ? await read(options.chainFile) : [];
  const signerDer = Buffer.from(signerCertificate);
  const rest = [...own.slice(1), ...chain].filter((der) => !signerDer.equals(der));
  return [signerCertificate, ...rest];
}

function findPrivateKey(
  library: pkcs11js.PKCS11,
  session: pkcs11js.Handle,
  options: Pkcs11SignerOptions,
): pkcs11js.Handle {
  const candidates = findObjects(library, session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_LABEL, value: options.keyLabel },
  ]);
  const [first] = candidates;
  if (!first) {
    throw unavailable(
      'key-missing',
      `no private key labelled "${options.keyLabel}" on token "${options.tokenLabel}"`,
    );
  }
  if (candidates.length > 1) {
    throw unavailable(
      'key-missing',
      `${candidates.length} private keys are labelled "${options.keyLabel}" on token "${options.tokenLabel}": which one signs is ambiguous`,
    );
  }
  return first;
}

/**
 * Refuses a token key that does not belong to the configured certificate: signatures
 * would be produced but never verify, which is worse than not signing at all.
 */
function checkKeyMatchesCertificate(
  library: pkcs11js.PKCS11,
  session: pkcs11js.Handle,
  privateKey: pkcs11js.Handle,
  certificatePublicKey: JsonWebKey,
  options: Pkcs11SignerOptions,
): KeyAlgorithm {
  const keyTypeValue = readAttribute(library, session, privateKey, pkcs11js.CKA_KEY_TYPE);
  const keyType = keyTypeValue ? readUlong(keyTypeValue) : undefined;
  const mismatch = (detail: string) =>
    unavailable(
      'key-missing',
      `key "${options.keyLabel}" on token "${options.tokenLabel}" does not match ${options.certificateFile}: ${detail}`,
    );
  if (keyType === pkcs11js.CKK_RSA) {
    if (certificatePublicKey.kty !== 'RSA') throw mismatch('the token key is RSA');
    const modulus = readAttribute(library, session, privateKey, pkcs11js.CKA_MODULUS);
    const certificateModulus = Buffer.from(certificatePublicKey.n ?? '', 'base64url');
    if (modulus && !stripLeadingZeros(modulus).equals(stripLeadingZeros(certificateModulus))) {
      throw mismatch('different RSA modulus');
    }
    return 'RSA';
  }
  if (keyType === pkcs11js.CKK_EC) {
    if (certificatePublicKey.kty !== 'EC') throw mismatch('the token key is EC');
    // EC private keys do not carry their point; the public key object, when present, does.
    const [publicKey] = findObjects(library, session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_LABEL, value: options.keyLabel },
    ]);
    const pointAttribute = publicKey
      ? readAttribute(library, session, publicKey, pkcs11js.CKA_EC_POINT)
      : undefined;
    if (pointAttribute) {
      const tokenJwk = ecJwkFromPoint(ecPointFromAttribute(pointAttribute));
      if (tokenJwk.x !== certificatePublicKey.x || tokenJwk.y !== certificatePublicKey.y) {
        throw mismatch('different EC public point');
      }
    }
    return 'ECDSA';
  }
  throw unavailable(
    'key-missing',
    `key "${options.keyLabel}" on token "${options.tokenLabel}" is neither RSA nor EC (CKA_KEY_TYPE ${keyType ?? 'unknown'})`,
  );
}

/**
 * Opens a logged-in session on the token and returns a signer bound to it.
 * Callers using SoftHSM2 must have SOFTHSM2_CONF in the environment before the
 * first signer of the module is opened (SoftHSM reads it at C_Initialize).
 */
export async function openPkcs11Signer(
  options: Pkcs11SignerOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KeySigner> {
  const pin = env[options.pinEnv];
  // An empty value is a forgotten setting, not a PIN (tokens refuse empty PINs anyway).
  if (pin === undefined || pin === '') {
    throw unavailable(
      'secret-missing',
      `environment variable ${options.pinEnv} (PIN of key ${options.id}) is not set`,
    );
  }
  const chain = await readCertificateChain(options);
  const signerCertificate = chain[0] as Uint8Array;
  const certificatePublicKey = new X509Certificate(signerCertificate).publicKey.export({
    format: 'jwk',
  });

  const module = acquireModule(options.modulePath);
  const library = module.library;
  let session: pkcs11js.Handle | undefined;
  let slotKey = '';
  let holdsLogin = false;
  try {
    const slot = findSlotByTokenLabel(library, options.tokenLabel);
    if (!slot) {
      const present = tokenLabels(library);
      const hint = /softhsm/i.test(options.modulePath) ? '; for SoftHSM2, check SOFTHSM2_CONF' : '';
      throw unavailable(
        'token-missing',
        `no token labelled "${options.tokenLabel}" in ${options.modulePath} (present: ${present.length ? present.map((label) => `"${label}"`).join(', ') : 'none'}${hint})`,
      );
    }
    slotKey = slot.toString('hex');
    session = library.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
    const openedSession = session;
    logIn(module, slotKey, openedSession, options, pin);
    holdsLogin = true;
    const privateKey = findPrivateKey(library, openedSession, options);
    const keyAlgorithm = checkKeyMatchesCertificate(
      library,
      openedSession,
      privateKey,
      certificatePublicKey,
      options,
    );
    const alwaysAuthenticate = readAttribute(
      library,
      openedSession,
      privateKey,
      pkcs11js.CKA_ALWAYS_AUTHENTICATE,
    );
    return new Pkcs11Signer(
      options.id,
      keyAlgorithm,
      module,
      slotKey,
      openedSession,
      privateKey,
      chain,
      alwaysAuthenticate?.[0] === 1 ? pin : undefined,
    );
  } catch (error) {
    if (session) endSession(module, slotKey, session, holdsLogin);
    releaseModule(module);
    if (error instanceof SignerUnavailableError) throw error;
    throw unavailable(
      'token-missing',
      `token "${options.tokenLabel}" cannot be used for key ${options.id}: ${describeError(error)}`,
    );
  }
}
