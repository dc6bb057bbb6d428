/**
 * Sigillo's own verifier for the signatures it is asked to rely on: PAdES
 * signatures embedded in a PDF and attached CAdES envelopes (.p7m).
 *
 * A signature is valid when the bytes it covers are intact, its certificate
 * was valid at signing time and chains to one of the deployment's trust
 * anchors, it covers a whole revision of the PDF, and whatever was appended
 * after it only adds signatures. Revocation (CRL/OCSP) is not checked: the
 * deployment has no revocation data to check it against.
 *
 * The PDF is parsed once, revision by revision (each incremental update on its
 * own), so that what a later update changed is known exactly without parsing
 * the document again for every signature. The CMS structures are read with a
 * small DER reader rather than asn1js/pkijs, whose parsing alone cost 5-25 ms
 * per signature; pkijs still validates the certificate chains.
 */
import {
  constants as cryptoConstants,
  createHash,
  verify as verifySignatureBytes,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import {
  PDFArray,
  PDFDict,
  PDFHexString,
  PDFName,
  PDFNumber,
  PDFParser,
  PDFRawStream,
  PDFRef,
  PDFString,
  decodePDFRawStream,
  type PDFObject,
} from 'pdf-lib';
import * as pkijs from 'pkijs';

export interface VerificationOptions {
  /** DER root certificates configured for the deployment. */
  trustAnchors: Uint8Array[];
}

export interface SignatureReport {
  /** PDF signature field name (fully qualified), null for a .p7m signer. */
  fieldName: string | null;
  kind: 'PAdES' | 'CAdES';
  subFilter: string | null;
  signer: {
    commonName: string | null;
    codiceFiscale: string | null;
    subject: string;
    /** Upper-case hexadecimal, as certificate viewers show it. */
    certificateSerial: string;
  };
  issuer: string;
  /** ISO 8601: the PDF /M entry, else the CMS signing-time attribute. Claimed by the signer. */
  signingTime: string | null;
  timestamp: { time: string; authority: string; intact: boolean } | null;
  digestAlgorithm: string;
  coversWholeDocument: boolean;
  coversRevision: boolean;
  intact: boolean;
  certificateValidAtSigningTime: boolean;
  trusted: boolean;
  modificationsAfter: 'none' | 'signatures-only' | 'other';
  valid: boolean;
  /** Italian, one per failed check. */
  problems: string[];
}

export class NotAPdfError extends Error {
  override name = 'NotAPdfError';
}

export class UnreadablePdfError extends Error {
  override name = 'UnreadablePdfError';
}

export class NotASignedEnvelopeError extends Error {
  override name = 'NotASignedEnvelopeError';
}

/* ================================ Algorithms ================================ */

const OID = {
  signedData: '1.2.840.113549.1.7.2',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  subjectKeyIdentifier: '2.5.29.14',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

interface DigestAlgorithm {
  name: string;
  nodeName: string;
  /** Collisions are practical: AgID and ETSI no longer accept it for signatures. */
  broken: boolean;
}

const DIGEST_ALGORITHMS: Record<string, DigestAlgorithm> = {
  [OID.sha1]: { name: 'SHA-1', nodeName: 'sha1', broken: true },
  '2.16.840.1.101.3.4.2.4': { name: 'SHA-224', nodeName: 'sha224', broken: false },
  [OID.sha256]: { name: 'SHA-256', nodeName: 'sha256', broken: false },
  '2.16.840.1.101.3.4.2.2': { name: 'SHA-384', nodeName: 'sha384', broken: false },
  '2.16.840.1.101.3.4.2.3': { name: 'SHA-512', nodeName: 'sha512', broken: false },
  '2.16.840.1.101.3.4.2.8': { name: 'SHA3-256', nodeName: 'sha3-256', broken: false },
  '2.16.840.1.101.3.4.2.9': { name: 'SHA3-384', nodeName: 'sha3-384', broken: false },
  '2.16.840.1.101.3.4.2.10': { name: 'SHA3-512', nodeName: 'sha3-512', broken: false },
};

type SignatureScheme = 'pkcs1' | 'pss' | 'ecdsa' | 'eddsa';

/** `hash` is set when the algorithm names its own; otherwise the SignerInfo's digest applies. */
const SIGNATURE_ALGORITHMS: Record<string, { scheme: SignatureScheme; hash?: string }> = {
  '1.2.840.113549.1.1.1': { scheme: 'pkcs1' },
  '1.2.840.113549.1.1.5': { scheme: 'pkcs1', hash: 'sha1' },
  '1.2.840.113549.1.1.14': { scheme: 'pkcs1', hash: 'sha224' },
  '1.2.840.113549.1.1.11': { scheme: 'pkcs1', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { scheme: 'pkcs1', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { scheme: 'pkcs1', hash: 'sha512' },
  '1.2.840.113549.1.1.10': { scheme: 'pss' },
  '1.2.840.10045.2.1': { scheme: 'ecdsa' },
  '1.2.840.10045.4.1': { scheme: 'ecdsa', hash: 'sha1' },
  '1.2.840.10045.4.3.1': { scheme: 'ecdsa', hash: 'sha224' },
  '1.2.840.10045.4.3.2': { scheme: 'ecdsa', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { scheme: 'ecdsa', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { scheme: 'ecdsa', hash: 'sha512' },
  '1.3.101.112': { scheme: 'eddsa' },
};

function digest(nodeName: string, chunks: readonly Uint8Array[]): Buffer {
  const hash = createHash(nodeName);
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest();
}

/** A copy: `slice()` on a Node Buffer (what callers usually pass) returns a view. */
function copyOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/* ==================================== DER =================================== */

/** Bytes that are not the DER (or BER) structure expected. */
class MalformedDerError extends Error {
  override name = 'MalformedDerError';
}

const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  constructedOctetString: 0x24,
  oid: 0x06,
  utf8String: 0x0c,
  utcTime: 0x17,
  generalizedTime: 0x18,
  universalString: 0x1c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
  implicit0: 0x80,
  explicit0: 0xa0,
  explicit1: 0xa1,
  explicit2: 0xa2,
  explicit3: 0xa3,
} as const;

/**
 * One TLV of a DER (or BER, for streamed .p7m) encoding, by offsets into the
 * bytes it was read from. CMS needs a handful of types, read on demand.
 */
class Der {
  private childList?: Der[];

  private constructor(
    readonly bytes: Uint8Array,
    readonly identifier: number,
    readonly offset: number,
    private readonly contentStart: number,
    private readonly contentEnd: number,
    readonly end: number,
  ) {}

  /** The element at `offset`; whatever follows it (such as zero padding) is left alone. */
  static read(bytes: Uint8Array, offset = 0, limit = bytes.length): Der {
    let position = offset;
    const identifier = bytes[position++];
    const lengthByte = bytes[position++];
    if (identifier === undefined || lengthByte === undefined || position > limit) {
      throw new MalformedDerError('truncated element');
    }
    if ((identifier & 0x1f) === 0x1f) throw new MalformedDerError('high tag number');
    if (lengthByte === 0x80) {
      // BER indefinite length: the content runs up to an end-of-contents marker.
      if ((identifier & 0x20) === 0) throw new MalformedDerError('indefinite primitive');
      let cursor = position;
      while (bytes[cursor] !== 0 || bytes[cursor + 1] !== 0) {
        if (cursor + 2 > limit) throw new MalformedDerError('missing end-of-contents');
        cursor = Der.read(bytes, cursor, limit).end;
      }
      return new Der(bytes, identifier, offset, position, cursor, cursor + 2);
    }
    let length = lengthByte;
    if (lengthByte > 0x80) {
      const count = lengthByte & 0x7f;
      if (count > 4) throw new MalformedDerError('length too long');
      length = 0;
      for (let index = 0; index < count; index++) {
        const byte = bytes[position++];
        if (byte === undefined) throw new MalformedDerError('truncated length');
        length = length * 256 + byte;
      }
    }
    const end = position + length;
    if (end > limit) throw new MalformedDerError('element longer than its container');
    return new Der(bytes, identifier, offset, position, end, end);
  }

  get content(): Uint8Array {
    return this.bytes.subarray(this.contentStart, this.contentEnd);
  }

  /** The whole element, header included. */
  get encoded(): Uint8Array {
    return this.bytes.subarray(this.offset, this.end);
  }

  expect(identifier: number): this {
    if (this.identifier !== identifier) {
      throw new MalformedDerError(`expected tag ${identifier}, found ${this.identifier}`);
    }
    return this;
  }

  children(): Der[] {
    if ((this.identifier & 0x20) === 0) throw new MalformedDerError('primitive has no children');
    if (!this.childList) {
      const found: Der[] = [];
      for (let cursor = this.contentStart; cursor < this.contentEnd;) {
        const child = Der.read(this.bytes, cursor, this.contentEnd);
        found.push(child);
        cursor = child.end;
      }
      this.childList = found;
    }
    return this.childList;
  }

  child(index: number, identifier?: number): Der {
    const found = this.children()[index];
    if (!found) throw new MalformedDerError(`missing element ${index}`);
    return identifier === undefined ? found : found.expect(identifier);
  }

  oid(): string {
    const parts: number[] = [];
    let value = 0;
    for (const byte of this.expect(TAG.oid).content) {
      value = value * 128 + (byte & 0x7f);
      if ((byte & 0x80) === 0) {
        parts.push(value);
        value = 0;
      }
    }
    const first = parts.shift() ?? 0;
    const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
    return [...head, ...parts].join('.');
  }

  /** An OCTET STRING, joining the pieces of a constructed (BER) one. */
  octets(): Uint8Array {
    if (this.identifier === TAG.octetString) return this.content;
    if (this.identifier === TAG.constructedOctetString) {
      return Buffer.concat(this.children().map((piece) => piece.octets()));
    }
    throw new MalformedDerError('expected an OCTET STRING');
  }

  smallInteger(): number {
    let value = 0;
    for (const byte of this.expect(TAG.integer).content) value = value * 256 + byte;
    return value;
  }

  time(): Date {
    const text = Buffer.from(this.content).toString('latin1');
    const match =
      this.identifier === TAG.utcTime
        ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(\.\d+)?(Z|[+-]\d{4})?$/.exec(text)
        : this.identifier === TAG.generalizedTime
          ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(\.\d+)?(Z|[+-]\d{4})?$/.exec(text)
          : null;
    if (!match) throw new MalformedDerError('expected a time');
    let year = Number(match[1]);
    if (this.identifier === TAG.utcTime) year += year < 50 ? 2000 : 1900;
    const [month, day, hour, minute, second] = [2, 3, 4, 5, 6].map((i) => Number(match[i] ?? 0));
    // Dates keep milliseconds: finer fractions are cut, as Date.parse does.
    const millis = Math.floor(Number(match[7] ?? 0) * 1000);
    let moment = Date.UTC(year, (month ?? 1) - 1, day, hour, minute, second, millis);
    const zone = match[8];
    if (zone && zone !== 'Z') {
      const minutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5));
      moment -= (zone.startsWith('+') ? 1 : -1) * minutes * 60_000;
    }
    return new Date(moment);
  }

  /** A DirectoryString (or the like) as text. */
  text(): string {
    const content = Buffer.from(this.content);
    switch (this.identifier) {
      case TAG.utf8String:
        return content.toString('utf8');
      case TAG.bmpString:
        return Buffer.from(content).swap16().toString('utf16le');
      case TAG.universalString: {
        const codePoints: number[] = [];
        for (let index = 0; index + 3 < content.length; index += 4) {
          codePoints.push(content.readUInt32BE(index));
        }
        return String.fromCodePoint(...codePoints);
      }
      default:
        return content.toString('latin1');
    }
  }
}

/** Malformed input, including BER nested deep enough to exhaust the stack. */
function isMalformed(error: unknown): boolean {
  return error instanceof MalformedDerError || error instanceof RangeError;
}

/* =============================== Certificates =============================== */

/** A certificate read once per process: the same signers and anchors recur across documents. */
class KnownCertificate {
  readonly native: X509Certificate;
  readonly publicKey: KeyObject;
  /** Content of the serialNumber INTEGER and DER of the issuer Name, as CMS names the signer. */
  readonly serial: Uint8Array;
  readonly issuerName: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectAttributes = new Map<string, string>();
  readonly subjectKeyIdentifier: Uint8Array | null = null;
  readonly publicKeyBits: Uint8Array;
  private pkijsCertificate?: pkijs.Certificate;

  constructor(readonly der: Uint8Array) {
    this.native = new X509Certificate(der);
    this.publicKey = this.native.publicKey;
    const tbs = Der.read(der).expect(TAG.sequence).child(0, TAG.sequence).children();
    let index = tbs[0]?.identifier === TAG.explicit0 ? 1 : 0;
    const field = () => {
      const found = tbs[index++];
      if (!found) throw new MalformedDerError('truncated certificate');
      return found;
    };
    this.serial = field().expect(TAG.integer).content;
    field();
    this.issuerName = field().expect(TAG.sequence).encoded;
    const validity = field().expect(TAG.sequence);
    this.notBefore = validity.child(0).time();
    this.notAfter = validity.child(1).time();
    for (const rdn of field().expect(TAG.sequence).children()) {
      for (const attribute of rdn.children()) {
        const type = attribute.child(0).oid();
        if (!this.subjectAttributes.has(type)) {
          this.subjectAttributes.set(type, attribute.child(1).text());
        }
      }
    }
    this.publicKeyBits = field().child(1, TAG.bitString).content.subarray(1);
    const extensions = tbs.find((item) => item.identifier === TAG.explicit3);
    for (const extension of extensions?.child(0, TAG.sequence).children() ?? []) {
      if (extension.child(0).oid() !== OID.subjectKeyIdentifier) continue;
      const value = extension.children().at(-1)?.octets();
      if (value) this.subjectKeyIdentifier = Der.read(value).expect(TAG.octetString).content;
    }
  }

  /** pkijs's own parse, needed only for chain validation. */
  get forPkijs(): pkijs.Certificate {
    if (!this.pkijsCertificate) {
      this.pkijsCertificate = pkijs.Certificate.fromBER(this.der);
      knownByPkijs.set(this.pkijsCertificate, this);
    }
    return this.pkijsCertificate;
  }

  validAt(moment: Date): boolean {
    return this.notBefore <= moment && moment <= this.notAfter;
  }
}

const knownByPkijs = new WeakMap<pkijs.Certificate, KnownCertificate>();
const certificateCache = new Map<string, KnownCertificate>();
const CERTIFICATE_CACHE_LIMIT = 1024;

/** The certificate for these DER bytes, or null when it cannot be read. */
function knownCertificate(der: Uint8Array): KnownCertificate | null {
  const key = createHash('sha256').update(der).digest('base64');
  let certificate = certificateCache.get(key);
  if (!certificate) {
    try {
      // A copy: a view would keep the whole PDF it came from in the cache.
      certificate = new KnownCertificate(copyOf(der));
    } catch {
      return null;
    }
    if (certificateCache.size >= CERTIFICATE_CACHE_LIMIT) certificateCache.clear();
    certificateCache.set(key, certificate);
  }
  return certificate;
}

function trustAnchors(ders: readonly Uint8Array[]): KnownCertificate[] {
  return ders.flatMap((der) => knownCertificate(der) ?? []);
}

/** Person codice fiscale, omocodia letters included. */
const CODICE_FISCALE =
  /^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$/;

/** Qualified certificates carry it as serialNumber "TINIT-<codice fiscale>" (ETSI EN 319 412-1). */
export function codiceFiscaleFromSerialNumber(serialNumber: string | null): string | null {
  if (!serialNumber) return null;
  const candidate = serialNumber
    .trim()
    .toUpperCase()
    .replace(/^TINIT-/, '');
  return CODICE_FISCALE.test(candidate) ? candidate : null;
}

/** OpenSSL's RFC 2253-escaped names come one attribute a line. */
function distinguishedName(multiline: string): string {
  return multiline.split('\n').filter(Boolean).join(', ');
}

function describeSigner(certificate: KnownCertificate | null): {
  signer: SignatureReport['signer'];
  issuer: string;
} {
  if (!certificate) {
    return {
      signer: { commonName: null, codiceFiscale: null, subject: '', certificateSerial: '' },
      issuer: '',
    };
  }
  return {
    signer: {
      commonName: certificate.subjectAttributes.get(OID.commonName) ?? null,
      codiceFiscale: codiceFiscaleFromSerialNumber(
        certificate.subjectAttributes.get(OID.serialNumber) ?? null,
      ),
      subject: distinguishedName(certificate.native.subject),
      certificateSerial: certificate.native.serialNumber.toUpperCase(),
    },
    issuer: distinguishedName(certificate.native.issuer),
  };
}

/**
 * pkijs's issuer search verifies every candidate through WebCrypto, a thread
 * pool round trip each; OpenSSL does the same checks in microseconds.
 */
function findIssuerNatively(
  certificate: pkijs.Certificate,
  engine: pkijs.CertificateChainValidationEngine,
): Promise<pkijs.Certificate[]> {
  const subject = knownByPkijs.get(certificate);
  const issuers = [...engine.trustedCerts, ...engine.certs].filter((candidate) => {
    const issuer = knownByPkijs.get(candidate);
    try {
      return (
        subject !== undefined &&
        issuer !== undefined &&
        subject.native.checkIssued(issuer.native) &&
        subject.native.verify(issuer.publicKey)
      );
    } catch {
      return false;
    }
  });
  return Promise.resolve(issuers);
}

interface TrustVerdict {
  trusted: boolean;
  problem: string | null;
  /** The chain failed only because some certificate was not valid at that date. */
  outOfValidity: boolean;
}

const UNTRUSTED = "il certificato non è emesso da un'autorità di certificazione attendibile";

async function chainToAnchors(
  signer: KnownCertificate,
  others: readonly KnownCertificate[],
  anchors: readonly KnownCertificate[],
  moment: Date,
): Promise<TrustVerdict> {
  if (anchors.length === 0) {
    return {
      trusted: false,
      problem: 'nessuna autorità di certificazione attendibile configurata',
      outOfValidity: false,
    };
  }
  try {
    // pkijs takes the last of `certs` as the end-entity certificate.
    const engine = new pkijs.CertificateChainValidationEngine({
      trustedCerts: anchors.map((anchor) => anchor.forPkijs),
      certs: [...others.filter((c) => c !== signer), signer].map((c) => c.forPkijs),
      checkDate: moment,
      findIssuer: findIssuerNatively,
    });
    const result = await engine.verify();
    if (result.result) return { trusted: true, problem: null, outOfValidity: false };
    // pkijs result code 8: "The certificate is either not yet valid or expired".
    return result.resultCode === 8
      ? {
          trusted: false,
          problem: 'la catena di certificazione non era valida alla data della firma',
          outOfValidity: true,
        }
      : { trusted: false, problem: UNTRUSTED, outOfValidity: false };
  } catch {
    return { trusted: false, problem: UNTRUSTED, outOfValidity: false };
  }
}

/* =================================== CMS ==================================== */

type SignerIdentifier = { issuer: Uint8Array; serial: Uint8Array } | { keyId: Uint8Array };

interface SignerInfo {
  sid: SignerIdentifier;
  digestAlgorithm: string;
  /** The [0] IMPLICIT SignedAttributes element, if any. */
  signedAttributes: Der | null;
  signatureAlgorithm: Der;
  signature: Uint8Array;
  unsignedAttributes: Der | null;
}

interface SignedData {
  eContentType: string;
  eContent: Uint8Array | null;
  certificates: KnownCertificate[];
  signerInfos: SignerInfo[];
}

function readSignerInfo(node: Der): SignerInfo {
  const fields = node.expect(TAG.sequence).children();
  let index = 1;
  const next = () => {
    const found = fields[index++];
    if (!found) throw new MalformedDerError('truncated SignerInfo');
    return found;
  };
  const sidNode = next();
  let sid: SignerIdentifier;
  if (sidNode.identifier === TAG.sequence) {
    sid = { issuer: sidNode.child(0).encoded, serial: sidNode.child(1, TAG.integer).content };
  } else if (sidNode.identifier === TAG.implicit0) {
    sid = { keyId: sidNode.content };
  } else {
    throw new MalformedDerError('unknown SignerIdentifier');
  }
  const digestAlgorithm = next().child(0).oid();
  const signedAttributes = fields[index]?.identifier === TAG.explicit0 ? next() : null;
  const signatureAlgorithm = next().expect(TAG.sequence);
  const signature = next().octets();
  const unsignedAttributes = fields[index]?.identifier === TAG.explicit1 ? next() : null;
  return {
    sid,
    digestAlgorithm,
    signedAttributes,
    signatureAlgorithm,
    signature,
    unsignedAttributes,
  };
}

/**
 * The CMS SignedData at the start of `bytes`; whatever follows it (the zero
 * padding that fills a PDF's reserved /Contents) is ignored.
 */
function readSignedData(bytes: Uint8Array): SignedData {
  const contentInfo = Der.read(bytes).expect(TAG.sequence);
  if (contentInfo.child(0).oid() !== OID.signedData) {
    throw new MalformedDerError('not a SignedData');
  }
  const parts = contentInfo.child(1, TAG.explicit0).child(0, TAG.sequence).children();
  const encapsulated = parts[2]?.expect(TAG.sequence);
  if (!encapsulated) throw new MalformedDerError('truncated SignedData');
  const eContent = encapsulated.children()[1];
  let index = 3;
  const certificates: KnownCertificate[] = [];
  if (parts[index]?.identifier === TAG.explicit0) {
    for (const item of (parts[index++] as Der).children()) {
      // The other CertificateChoices (attribute certificates...) are tagged.
      const certificate = item.identifier === TAG.sequence ? knownCertificate(item.encoded) : null;
      if (certificate) certificates.push(certificate);
    }
  }
  if (parts[index]?.identifier === TAG.explicit1) index++;
  const signerInfos = parts[index]?.expect(TAG.set).children().map(readSignerInfo);
  if (!signerInfos) throw new MalformedDerError('no SignerInfos');
  return {
    eContentType: encapsulated.child(0).oid(),
    eContent: eContent ? eContent.expect(TAG.explicit0).child(0).octets() : null,
    certificates,
    signerInfos,
  };
}

function attribute(attributes: Der | null, type: string): Der | undefined {
  for (const item of attributes?.children() ?? []) {
    if (item.child(0).oid() === type) return item.child(1, TAG.set).children()[0];
  }
  return undefined;
}

function findSignerCertificate(
  certificates: readonly KnownCertificate[],
  sid: SignerIdentifier,
): KnownCertificate | null {
  if ('serial' in sid) {
    return (
      certificates.find(
        (c) => sameBytes(c.serial, sid.serial) && sameBytes(c.issuerName, sid.issuer),
      ) ?? null
    );
  }
  // RFC 5652 leaves the key identifier's method open: the extension, or RFC 5280's SHA-1 of the key.
  return (
    certificates.find(
      (c) =>
        (c.subjectKeyIdentifier !== null && sameBytes(c.subjectKeyIdentifier, sid.keyId)) ||
        sameBytes(digest('sha1', [c.publicKeyBits]), sid.keyId),
    ) ?? null
  );
}

interface SignatureAlgorithm {
  scheme: SignatureScheme;
  hash: string;
  saltLength?: number;
}

function signatureAlgorithmOf(
  signerInfo: SignerInfo,
  digestAlgorithm: DigestAlgorithm,
): SignatureAlgorithm | null {
  const oid = signerInfo.signatureAlgorithm.child(0).oid();
  const algorithm = SIGNATURE_ALGORITHMS[oid];
  if (!algorithm) return null;
  if (algorithm.scheme !== 'pss') {
    return { scheme: algorithm.scheme, hash: algorithm.hash ?? digestAlgorithm.nodeName };
  }
  // RSASSA-PSS-params: [0] hashAlgorithm DEFAULT sha1, [2] saltLength DEFAULT 20.
  let hash: string | undefined = 'sha1';
  let saltLength = 20;
  const parameters = signerInfo.signatureAlgorithm.children()[1];
  for (const item of parameters?.expect(TAG.sequence).children() ?? []) {
    if (item.identifier === TAG.explicit0) {
      hash = DIGEST_ALGORITHMS[item.child(0).child(0).oid()]?.nodeName;
    }
    if (item.identifier === TAG.explicit2) saltLength = item.child(0).smallInteger();
  }
  return hash ? { scheme: 'pss', hash, saltLength } : null;
}

function signatureVerifies(
  publicKey: KeyObject,
  algorithm: SignatureAlgorithm,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    if (algorithm.scheme === 'eddsa') return verifySignatureBytes(null, data, publicKey, signature);
    if (algorithm.scheme === 'pss') {
      return verifySignatureBytes(
        algorithm.hash,
        data,
        {
          key: publicKey,
          padding: cryptoConstants.RSA_PKCS1_PSS_PADDING,
          saltLength: algorithm.saltLength,
        },
        signature,
      );
    }
    // ECDSA signatures in CMS are DER, node's default encoding.
    return verifySignatureBytes(algorithm.hash, data, publicKey, signature);
  } catch {
    return false;
  }
}

/**
 * ESS signing-certificate(-v2): the signed attributes name the certificate by
 * hash, so a certificate swapped into the CMS afterwards is caught.
 */
function signingCertificateMatches(signerInfo: SignerInfo, certificate: KnownCertificate): boolean {
  for (const type of [OID.signingCertificateV2, OID.signingCertificate]) {
    const value = attribute(signerInfo.signedAttributes, type);
    if (value === undefined) continue;
    // SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), ... }
    const first = value.child(0, TAG.sequence).child(0, TAG.sequence);
    const head = first.child(0);
    let hashOid: string = type === OID.signingCertificate ? OID.sha1 : OID.sha256;
    let hash = head;
    if (head.identifier === TAG.sequence) {
      hashOid = head.child(0).oid();
      hash = first.child(1);
    }
    const algorithm = DIGEST_ALGORITHMS[hashOid];
    return (
      algorithm !== undefined &&
      sameBytes(hash.octets(), digest(algorithm.nodeName, [certificate.der]))
    );
  }
  return true;
}

interface SignerCheck {
  certificate: KnownCertificate | null;
  certificates: KnownCertificate[];
  digestAlgorithm: string;
  intact: boolean;
  claimedSigningTime: Date | null;
  problems: string[];
}

const DIGEST_MISMATCH = "l'impronta non corrisponde: il documento è stato modificato dopo la firma";

/**
 * The cryptographic checks of one SignerInfo over `content` (the signed bytes,
 * possibly in pieces): messageDigest, the signature over the signed
 * attributes, the ESS certificate binding.
 */
function checkSignerInfo(
  signedData: SignedData,
  signerInfo: SignerInfo,
  content: readonly Uint8Array[],
): SignerCheck {
  const problems: string[] = [];
  const certificate = findSignerCertificate(signedData.certificates, signerInfo.sid);
  const digestAlgorithm = DIGEST_ALGORITHMS[signerInfo.digestAlgorithm];
  const signingTime = attribute(signerInfo.signedAttributes, OID.signingTime);
  const result: SignerCheck = {
    certificate,
    certificates: signedData.certificates,
    digestAlgorithm: digestAlgorithm?.name ?? signerInfo.digestAlgorithm,
    intact: false,
    claimedSigningTime: signingTime ? signingTime.time() : null,
    problems,
  };
  if (!digestAlgorithm) {
    problems.push(`algoritmo di impronta non supportato (${signerInfo.digestAlgorithm})`);
    return result;
  }
  if (!certificate) {
    problems.push('il certificato del firmatario non è incluso nella firma');
    return result;
  }
  const signatureAlgorithm = signatureAlgorithmOf(signerInfo, digestAlgorithm);
  if (!signatureAlgorithm) {
    problems.push(
      `algoritmo di firma non supportato (${signerInfo.signatureAlgorithm.child(0).oid()})`,
    );
    return result;
  }
  let digestMatches = true;
  let signedPayload: Uint8Array;
  if (signerInfo.signedAttributes) {
    const messageDigest = attribute(signerInfo.signedAttributes, OID.messageDigest);
    digestMatches =
      messageDigest !== undefined &&
      sameBytes(messageDigest.octets(), digest(digestAlgorithm.nodeName, content));
    // What was signed is the attributes as a SET OF, not as the [0] they are stored in.
    signedPayload = copyOf(signerInfo.signedAttributes.encoded);
    signedPayload[0] = TAG.set;
  } else {
    signedPayload = Buffer.concat(content);
  }
  const signatureOk = signatureVerifies(
    certificate.publicKey,
    signatureAlgorithm,
    signedPayload,
    signerInfo.signature,
  );
  const certificateBound = signingCertificateMatches(signerInfo, certificate);
  if (!digestMatches) problems.push(DIGEST_MISMATCH);
  if (!signatureOk) {
    problems.push(
      'la firma non è valida: non corrisponde alla chiave pubblica del certificato del firmatario',
    );
  }
  if (!certificateBound) {
    problems.push('il certificato incluso non è quello indicato negli attributi firmati');
  }
  if (digestAlgorithm.broken) {
    problems.push(`l'algoritmo di impronta ${digestAlgorithm.name} non è più ammesso per le firme`);
  }
  result.intact = digestMatches && signatureOk && certificateBound && !digestAlgorithm.broken;
  return result;
}

interface TimestampCheck {
  time: Date | null;
  authority: string;
  intact: boolean;
  problems: string[];
  digestAlgorithm: string;
  certificate: KnownCertificate | null;
  certificates: KnownCertificate[];
}

function failedTimestamp(problem: string): TimestampCheck {
  return {
    time: null,
    authority: '',
    intact: false,
    problems: [problem],
    digestAlgorithm: '',
    certificate: null,
    certificates: [],
  };
}

/**
 * An RFC 3161 token: its own CMS signature over the TSTInfo, and an imprint
 * equal to the hash of `imprinted` (the signature value it time-stamps, or the
 * document bytes for a document time-stamp).
 */
function checkTimestampToken(
  signedData: SignedData,
  imprinted: readonly Uint8Array[],
): TimestampCheck {
  const { eContent } = signedData;
  const signerInfo = signedData.signerInfos[0];
  if (signedData.eContentType !== OID.tstInfo || !eContent || !signerInfo) {
    return failedTimestamp('la marca temporale non contiene un TSTInfo firmato');
  }
  // TSTInfo ::= SEQUENCE { version, policy, messageImprint, serialNumber, genTime, ... }
  const tstInfo = Der.read(eContent).expect(TAG.sequence);
  const imprint = tstInfo.child(2, TAG.sequence);
  const imprintAlgorithmOid = imprint.child(0).child(0).oid();
  const imprintAlgorithm = DIGEST_ALGORITHMS[imprintAlgorithmOid];
  const time = tstInfo.child(4).time();
  const tokenCheck = checkSignerInfo(signedData, signerInfo, [eContent]);
  const problems: string[] = [];
  const imprintMatches =
    imprintAlgorithm !== undefined &&
    sameBytes(imprint.child(1).octets(), digest(imprintAlgorithm.nodeName, imprinted));
  if (!imprintMatches) problems.push("l'impronta della marca temporale non corrisponde");
  problems.push(...tokenCheck.problems.map((problem) => `marca temporale: ${problem}`));
  const described = describeSigner(tokenCheck.certificate);
  return {
    time,
    authority: described.signer.commonName ?? described.signer.subject,
    intact: imprintMatches && tokenCheck.intact,
    problems,
    digestAlgorithm: imprintAlgorithm?.name ?? imprintAlgorithmOid,
    certificate: tokenCheck.certificate,
    certificates: tokenCheck.certificates,
  };
}

function signatureTimestamp(signerInfo: SignerInfo): TimestampCheck | null {
  const token = attribute(signerInfo.unsignedAttributes, OID.signatureTimeStampToken);
  if (token === undefined) return null;
  try {
    return checkTimestampToken(readSignedData(token.encoded), [signerInfo.signature]);
  } catch (error) {
    if (!isMalformed(error)) throw error;
    return failedTimestamp('la marca temporale non è leggibile');
  }
}

interface ContainerFacts {
  fieldName: string | null;
  kind: SignatureReport['kind'];
  subFilter: string | null;
  signingTime: Date | null;
  coversWholeDocument: boolean;
  coversRevision: boolean;
  modificationsAfter: SignatureReport['modificationsAfter'];
  /** Problems found by the container (PDF) checks, before the CMS ones. */
  problems: string[];
}

function unreadableSigner(problem: string): SignerCheck {
  return {
    certificate: null,
    certificates: [],
    digestAlgorithm: '',
    intact: false,
    claimedSigningTime: null,
    problems: [problem],
  };
}

/**
 * Certificate validity and trust are judged at the time of an intact
 * time-stamp when there is one (proof the signature existed then), else at
 * the time the signer claims, else now.
 */
async function finishReport(
  facts: ContainerFacts,
  check: SignerCheck,
  timestamp: TimestampCheck | null,
  anchors: readonly KnownCertificate[],
): Promise<SignatureReport> {
  const problems = [...facts.problems, ...check.problems];
  if (timestamp && !timestamp.intact) problems.push(...timestamp.problems);
  const moment =
    (timestamp?.intact ? timestamp.time : null) ??
    facts.signingTime ??
    check.claimedSigningTime ??
    new Date();
  let certificateValidAtSigningTime = false;
  let trusted = false;
  if (check.certificate) {
    certificateValidAtSigningTime = check.certificate.validAt(moment);
    if (!certificateValidAtSigningTime) {
      problems.push(
        `il certificato del firmatario non era valido alla data della firma (${moment.toISOString()}): valido dal ${check.certificate.notBefore.toISOString()} al ${check.certificate.notAfter.toISOString()}`,
      );
    }
    const verdict = await chainToAnchors(check.certificate, check.certificates, anchors, moment);
    trusted = verdict.trusted;
    // An expired signer also fails the chain at that date: one problem is enough.
    const alreadyReported = verdict.outOfValidity && !certificateValidAtSigningTime;
    if (verdict.problem && !alreadyReported) problems.push(verdict.problem);
  }
  const signingTime = facts.signingTime ?? check.claimedSigningTime;
  const { signer, issuer } = describeSigner(check.certificate);
  return {
    fieldName: facts.fieldName,
    kind: facts.kind,
    subFilter: facts.subFilter,
    signer,
    issuer,
    signingTime: signingTime ? signingTime.toISOString() : null,
    timestamp: timestamp
      ? {
          time: timestamp.time ? timestamp.time.toISOString() : '',
          authority: timestamp.authority,
          intact: timestamp.intact,
        }
      : null,
    digestAlgorithm: check.digestAlgorithm,
    coversWholeDocument: facts.coversWholeDocument,
    coversRevision: facts.coversRevision,
    intact: check.intact,
    certificateValidAtSigningTime,
    trusted,
    modificationsAfter: facts.modificationsAfter,
    // A time-stamp that fails its own checks voids the signature it vouches for.
    valid:
      check.intact &&
      trusted &&
      certificateValidAtSigningTime &&
      facts.coversRevision &&
      facts.modificationsAfter !== 'other' &&
      (timestamp === null || timestamp.intact),
    problems,
  };
}

/* ================================= CAdES ==================================== */

const PEM_ARMOUR = /-----(BEGIN|END) [A-Z0-9 ]+-----/g;

/** DER as is; base64 (bare or PEM-armoured) decoded; anything else is not an envelope. */
function envelopeDer(input: Uint8Array): Uint8Array {
  if (input[0] === TAG.sequence) return input;
  const text = Buffer.from(input).toString('latin1').replace(PEM_ARMOUR, '').replace(/\s+/g, '');
  if (text.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    throw new NotASignedEnvelopeError(
      'il file non è una busta firmata CAdES (.p7m): non è né DER né base64',
    );
  }
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export async function verifyCadesEnvelope(
  p7m: Uint8Array,
  options: VerificationOptions,
): Promise<{ content: Uint8Array; signatures: SignatureReport[] }> {
  const der = envelopeDer(p7m);
  let signedData: SignedData;
  try {
    signedData = readSignedData(der);
  } catch (error) {
    if (!isMalformed(error)) throw error;
    throw new NotASignedEnvelopeError(
      'il file non è una busta firmata CAdES (.p7m): non contiene una struttura CMS SignedData',
    );
  }
  const { eContent } = signedData;
  if (!eContent) {
    throw new NotASignedEnvelopeError(
      'la busta non contiene il documento firmato (firma staccata): serve anche il file originale',
    );
  }
  if (signedData.signerInfos.length === 0) {
    throw new NotASignedEnvelopeError('la busta non contiene alcuna firma');
  }
  const anchors = trustAnchors(options.trustAnchors);
  const signatures: SignatureReport[] = [];
  for (const signerInfo of signedData.signerInfos) {
    let check: SignerCheck;
    let timestamp: TimestampCheck | null = null;
    try {
      check = checkSignerInfo(signedData, signerInfo, [eContent]);
      timestamp = signatureTimestamp(signerInfo);
    } catch (error) {
      if (!isMalformed(error)) throw error;
      check = unreadableSigner('la firma non è leggibile (CMS non valido)');
    }
    const facts: ContainerFacts = {
      fieldName: null,
      kind: 'CAdES',
      subFilter: null,
      signingTime: null,
      coversWholeDocument: true,
      coversRevision: true,
      modificationsAfter: 'none',
      problems: [],
    };
    signatures.push(await finishReport(facts, check, timestamp, anchors));
  }
  // Detached from the envelope's buffer.
  return { content: copyOf(eContent), signatures };
}

/* ============================ PDF: revisions ================================ */

interface Revision {
  /** First byte of this incremental update (0 for the original document). */
  start: number;
  /** Just after its %%EOF. */
  end: number;
  /** After the end-of-line that may follow %%EOF: where the next update starts. */
  endWithEol: number;
  objects: Map<PDFRef, PDFObject>;
  root?: PDFObject;
  info?: PDFObject;
}

/**
 * Every "startxref <offset> %%EOF" ends a revision. Requiring the startxref
 * keeps a stray "%%EOF" inside some stream from splitting a revision.
 */
function findRevisionEnds(text: string): { end: number; endWithEol: number }[] {
  const ends: { end: number; endWithEol: number }[] = [];
  const marker = /startxref\s+\d+\s*%%EOF/g;
  for (let match = marker.exec(text); match; match = marker.exec(text)) {
    const end = match.index + match[0].length;
    let endWithEol = end;
    if (text.charCodeAt(endWithEol) === 13) endWithEol++;
    if (text.charCodeAt(endWithEol) === 10) endWithEol++;
    ends.push({ end, endWithEol });
  }
  return ends;
}

const SEGMENT_HEADER = Buffer.from('%PDF-1.7\n%\xE2\xE3\xCF\xD3\n', 'latin1');

/** The objects an update defines, parsed on their own so later ones do not hide earlier ones. */
async function parseSegment(pdf: Uint8Array, start: number, end: number) {
  // pdf-lib only parses from a header; an update has none of its own.
  const bytes =
    start === 0 ? pdf.subarray(0, end) : Buffer.concat([SEGMENT_HEADER, pdf.subarray(start, end)]);
  const parser = PDFParser.forBytesWithOptions(bytes, Infinity, false, false);
  // pdf-lib would point a /Root it cannot find in this segment (it lives in an
  // earlier revision) at any /Catalog the segment holds: keep what the trailer says.
  Object.defineProperty(parser, 'maybeRecoverRoot', { value: () => undefined });
  const context = await parser.parseDocument();
  return {
    objects: new Map(context.enumerateIndirectObjects()),
    root: context.trailerInfo.Root,
    info: context.trailerInfo.Info,
  };
}

class PdfHistory {
  private readonly referencedCache = new Map<number, Set<PDFRef>>();

  constructor(readonly revisions: Revision[]) {}

  get last(): number {
    return this.revisions.length - 1;
  }

  /** The object as it stood once revision `at` was written. */
  lookup(ref: PDFRef, at: number): PDFObject | undefined {
    for (let index = at; index >= 0; index--) {
      const found = this.revisions[index]?.objects.get(ref);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  resolve(value: PDFObject | undefined, at: number): PDFObject | undefined {
    return value instanceof PDFRef ? this.lookup(value, at) : value;
  }

  dict(value: PDFObject | undefined, at: number): PDFDict | undefined {
    const resolved = this.resolve(value, at);
    return resolved instanceof PDFDict ? resolved : undefined;
  }

  array(value: PDFObject | undefined, at: number): PDFArray | undefined {
    const resolved = this.resolve(value, at);
    return resolved instanceof PDFArray ? resolved : undefined;
  }

  trailer(at: number): { root?: PDFObject; info?: PDFObject } {
    let root: PDFObject | undefined;
    let info: PDFObject | undefined;
    for (let index = at; index >= 0 && (!root || !info); index--) {
      const revision = this.revisions[index];
      root ??= revision?.root;
      info ??= revision?.info;
    }
    return { root, info };
  }

  /** Every reference made by the objects of revision `at`. */
  referencedAt(at: number): Set<PDFRef> {
    let found = this.referencedCache.get(at);
    if (found) return found;
    found = new Set();
    const collected = found;
    for (let index = 0; index <= at; index++) {
      for (const [ref, object] of this.revisions[index]?.objects ?? []) {
        if (this.lookup(ref, at) === object) forEachReference(object, (r) => collected.add(r));
      }
    }
    this.referencedCache.set(at, found);
    return found;
  }
}

function forEachReference(value: PDFObject, visit: (ref: PDFRef) => void): void {
  if (value instanceof PDFRef) visit(value);
  else if (value instanceof PDFDict)
    for (const [, item] of value.entries()) forEachReference(item, visit);
  else if (value instanceof PDFArray)
    for (const item of value.asArray()) forEachReference(item, visit);
  else if (value instanceof PDFRawStream) forEachReference(value.dict, visit);
}

async function readHistory(pdf: Uint8Array): Promise<{ history: PdfHistory; text: string }> {
  const text = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength).toString('latin1');
  // Readers tolerate junk before the header, but a signature's byte offsets
  // count from the first byte: a PDF wrapped in something else (a .p7m
  // envelope) is not the PDF that was signed.
  if (!/^\s*%PDF-/.test(text.slice(0, 1024))) {
    throw new NotAPdfError("il file non è un PDF: manca l'intestazione %PDF-");
  }
  const ends = findRevisionEnds(text);
  const lastEnd = ends.at(-1);
  if (!lastEnd) {
    throw new UnreadablePdfError('il PDF è incompleto o danneggiato: manca la chiusura %%EOF');
  }
  const tail = text.slice(lastEnd.endWithEol);
  if (/\d+\s+\d+\s+obj\b|xref|trailer/.test(tail)) {
    throw new UnreadablePdfError(
      "il PDF è incompleto o danneggiato: l'ultimo aggiornamento è troncato (manca la chiusura %%EOF)",
    );
  }
  const revisions: Revision[] = [];
  let start = 0;
  try {
    for (const { end, endWithEol } of ends) {
      const segment = await parseSegment(pdf, start, endWithEol);
      revisions.push({ start, end, endWithEol, ...segment });
      start = endWithEol;
    }
  } catch (error) {
    throw new UnreadablePdfError(
      `il PDF non è leggibile: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const history = new PdfHistory(revisions);
  if (!history.dict(history.trailer(history.last).root, history.last)) {
    throw new UnreadablePdfError('il PDF non è leggibile: manca il catalogo del documento');
  }
  return { history, text };
}

/* ============================== PDF: values ================================= */

function nameOf(value: PDFObject | undefined): string | null {
  return value instanceof PDFName ? value.decodeText() : null;
}

function textOf(value: PDFObject | undefined): string | null {
  return value instanceof PDFString || value instanceof PDFHexString ? value.decodeText() : null;
}

function stringBytes(value: PDFObject | undefined): Uint8Array | null {
  return value instanceof PDFString || value instanceof PDFHexString ? value.asBytes() : null;
}

/** PDF date "D:YYYYMMDDHHmmSSOHH'mm'"; a date without offset is taken as UTC. */
export function parsePdfDate(value: string | null): Date | null {
  const match =
    value &&
    /^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:([Zz+-])(?:(\d{2})'?(\d{2})?'?)?)?/.exec(
      value.trim(),
    );
  if (!match) return null;
  const part = (index: number, fallback: number) =>
    match[index] === undefined ? fallback : Number(match[index]);
  let utc = Date.UTC(part(1, 0), part(2, 1) - 1, part(3, 1), part(4, 0), part(5, 0), part(6, 0));
  const sign = match[7];
  if (sign === '+' || sign === '-') {
    const offsetMinutes = part(8, 0) * 60 + part(9, 0);
    utc -= (sign === '+' ? 1 : -1) * offsetMinutes * 60_000;
  }
  return Number.isNaN(utc) ? null : new Date(utc);
}

/** Structural equality, strings compared by their text so re-encoding is not a change. */
function samePdfObject(a: PDFObject | undefined, b: PDFObject | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  if (a instanceof PDFNumber && b instanceof PDFNumber) return a.asNumber() === b.asNumber();
  if (
    (a instanceof PDFString || a instanceof PDFHexString) &&
    (b instanceof PDFString || b instanceof PDFHexString)
  ) {
    return sameBytes(a.asBytes(), b.asBytes()) || a.decodeText() === b.decodeText();
  }
  if (a instanceof PDFArray && b instanceof PDFArray) {
    if (a.size() !== b.size()) return false;
    for (let index = 0; index < a.size(); index++) {
      if (!samePdfObject(a.get(index), b.get(index))) return false;
    }
    return true;
  }
  if (a instanceof PDFRawStream && b instanceof PDFRawStream) {
    return samePdfObject(a.dict, b.dict) && sameBytes(a.contents, b.contents);
  }
  if (a instanceof PDFDict && b instanceof PDFDict) {
    return differingKeys(a, b, new Set()).length === 0;
  }
  // PDFName, PDFRef, PDFBool and PDFNull are interned: equal ones were caught by ===.
  return false;
}

/** Keys whose values differ between two versions of a dictionary, ignoring `mayChange`. */
function differingKeys(
  before: PDFDict | undefined,
  after: PDFDict | undefined,
  mayChange: ReadonlySet<string>,
): string[] {
  const keys = new Set([...(before?.keys() ?? []), ...(after?.keys() ?? [])]);
  return [...keys]
    .filter(
      (key) =>
        !mayChange.has(key.decodeText()) && !samePdfObject(before?.get(key), after?.get(key)),
    )
    .map((key) => key.decodeText());
}

/* ========================= PDF: later modifications ========================= */

/** What signing may change in the catalog (pyHanko's list; Metadata is checked as XMP). */
const CATALOG_KEYS_SIGNING_MAY_CHANGE = new Set([
  'AcroForm',
  'DSS',
  'Extensions',
  'Metadata',
  'MarkInfo',
  'Version',
]);
const FORM_KEYS_SIGNING_MAY_CHANGE = new Set([
  'Fields',
  'SigFlags',
  'DR',
  'DA',
  'Q',
  'NeedAppearances',
]);
/** Filling an empty signature field sets its value and appearance. */
const FIELD_KEYS_SIGNING_MAY_CHANGE = new Set(['V', 'AP', 'AS', 'F', 'DA', 'Q', 'Ff', 'Type']);
/**
 * Signing tools restamp these; any other /Info change (the title shown in the
 * viewer's title bar, the author...) is a change to the document.
 */
const INFO_KEYS_SIGNING_MAY_CHANGE = new Set(['ModDate', 'Producer']);
const PAGE_KEYS_SIGNING_MAY_CHANGE = new Set(['Annots']);

interface Change {
  before: PDFObject | undefined;
  after: PDFObject;
}

/**
 * Classifies what the updates after revision `signed` did, object by object:
 * every object they define that differs from the signed revision must be
 * explained as part of adding a signature (field, widget, appearance, value,
 * form and page annotation lists, DSS, XMP, restamped /Info) or be a new object
 * nothing reaches; anything else is "other".
 */
class UpdateReview {
  private readonly changes = new Map<PDFRef, Change>();
  private readonly explained = new Set<PDFRef>();
  private readonly signatureWidgets = new Set<PDFRef>();
  /** New signature parts, whose new dependencies (appearance streams, fonts) are explained with them. */
  private readonly signatureParts: PDFObject[] = [];
  readonly reasons: string[] = [];

  constructor(
    private readonly history: PdfHistory,
    private readonly signed: number,
  ) {
    const last = history.last;
    const seen = new Set<PDFRef>();
    for (let index = signed + 1; index <= last; index++) {
      for (const ref of history.revisions[index]?.objects.keys() ?? []) {
        if (seen.has(ref)) continue;
        seen.add(ref);
        const after = history.lookup(ref, last) as PDFObject;
        const before = history.lookup(ref, signed);
        if (!samePdfObject(before, after)) this.changes.set(ref, { before, after });
      }
    }
  }

  verdict(): SignatureReport['modificationsAfter'] {
    if (this.signed >= this.history.last) return 'none';
    const last = this.history.last;
    const trailerBefore = this.history.trailer(this.signed);
    const trailerAfter = this.history.trailer(last);
    if (trailerBefore.root !== trailerAfter.root) {
      this.reasons.push('il catalogo del documento è stato sostituito');
      return 'other';
    }
    if (this.changes.size === 0) return 'none';
    const rootBefore = this.history.dict(trailerBefore.root, this.signed);
    const rootAfter = this.history.dict(trailerAfter.root, last);
    this.reviewCatalog(trailerAfter.root, rootBefore, rootAfter);
    this.reviewInfo(trailerBefore.info, trailerAfter.info);
    this.reviewForm(rootBefore, rootAfter);
    this.reviewPages(rootAfter);
    this.reviewDss(rootBefore, rootAfter);
    this.reviewMetadata(rootAfter);
    for (const part of this.signatureParts) this.explainNewDependencies(part);
    this.reviewLeftovers([trailerAfter.root, trailerAfter.info]);
    return this.reasons.length ? 'other' : 'signatures-only';
  }

  private changed(value: PDFObject | undefined): value is PDFRef {
    return value instanceof PDFRef && this.changes.has(value);
  }

  private isNew(ref: PDFRef): boolean {
    const change = this.changes.get(ref);
    return change !== undefined && change.before === undefined;
  }

  private explain(value: PDFObject | undefined): void {
    if (value instanceof PDFRef) this.explained.add(value);
  }

  private describe(ref: PDFRef): string {
    const object = this.changes.get(ref)?.after;
    const dict = object instanceof PDFRawStream ? object.dict : object;
    const type = dict instanceof PDFDict ? nameOf(dict.get(PDFName.of('Type'))) : null;
    return `${ref.toString()}${type ? ` (${type})` : ''}`;
  }

  private reviewCatalog(
    rootRef: PDFObject | undefined,
    before: PDFDict | undefined,
    after: PDFDict | undefined,
  ): void {
    if (!this.changed(rootRef)) return;
    const keys = differingKeys(before, after, CATALOG_KEYS_SIGNING_MAY_CHANGE);
    if (keys.length) {
      this.reasons.push(
        `il catalogo del documento è cambiato (${keys.map((k) => `/${k}`).join(', ')})`,
      );
    }
    this.explain(rootRef);
    for (const key of ['Extensions', 'MarkInfo']) {
      const value = after?.get(PDFName.of(key));
      if (this.changed(value)) this.explain(value);
    }
  }

  private reviewInfo(before: PDFObject | undefined, after: PDFObject | undefined): void {
    if (before === after && !this.changed(after)) return;
    const keys = differingKeys(
      this.history.dict(before, this.signed),
      this.history.dict(after, this.history.last),
      INFO_KEYS_SIGNING_MAY_CHANGE,
    );
    if (keys.length) {
      this.reasons.push(
        `i metadati del documento sono cambiati (${keys.map((k) => `/${k}`).join(', ')})`,
      );
    }
    this.explain(after);
  }

  private refsOf(array: PDFArray | undefined): PDFObject[] {
    return array?.asArray() ?? [];
  }

  private reviewForm(rootBefore: PDFDict | undefined, rootAfter: PDFDict | undefined): void {
    const last = this.history.last;
    const formValue = rootAfter?.get(PDFName.of('AcroForm'));
    const formAfter = this.history.dict(formValue, last);
    if (!formAfter) return;
    const formBefore = this.history.dict(rootBefore?.get(PDFName.of('AcroForm')), this.signed);
    if (this.changed(formValue) || formValue instanceof PDFDict) {
      const keys = differingKeys(formBefore, formAfter, FORM_KEYS_SIGNING_MAY_CHANGE);
      if (keys.length) {
        this.reasons.push(`il modulo è cambiato (${keys.map((k) => `/${k}`).join(', ')})`);
      }
      this.explain(formValue);
    }
    const fieldsValue = formAfter.get(PDFName.of('Fields'));
    const fieldsAfter = this.refsOf(this.history.array(fieldsValue, last));
    const fieldsBefore = this.refsOf(
      this.history.array(formBefore?.get(PDFName.of('Fields')), this.signed),
    );
    if (fieldsBefore.some((field) => !fieldsAfter.includes(field))) {
      this.reasons.push('alcuni campi del modulo sono stati rimossi');
    }
    if (this.changed(fieldsValue)) this.explain(fieldsValue);
    // Resources for field appearances: pyHanko lets signing add to them too.
    const dr = formAfter.get(PDFName.of('DR'));
    if (this.changed(dr)) this.explain(dr);
    const resources = this.history.resolve(dr, last);
    if (resources) this.signatureParts.push(resources);
    const visited = new Set<PDFRef>();
    for (const field of fieldsAfter) this.reviewField(field, null, visited);
  }

  private reviewField(fieldValue: PDFObject, inheritedType: string | null, visited: Set<PDFRef>) {
    if (!(fieldValue instanceof PDFRef) || visited.has(fieldValue)) return;
    visited.add(fieldValue);
    const last = this.history.last;
    const field = this.history.dict(fieldValue, last);
    if (!field) return;
    const type = nameOf(field.get(PDFName.of('FT'))) ?? inheritedType;
    const kids = this.refsOf(this.history.array(field.get(PDFName.of('Kids')), last));
    const kidFields = kids.filter((kid) => this.history.dict(kid, last)?.has(PDFName.of('T')));
    if (type !== 'Sig') {
      if (this.changed(fieldValue)) {
        this.reasons.push(
          `campo del modulo diverso da una firma aggiunto o modificato (${this.describe(fieldValue)})`,
        );
      }
      for (const kid of kidFields) this.reviewField(kid, type, visited);
      return;
    }
    const widgets = kids.filter((kid) => !kidFields.includes(kid));
    if (field.has(PDFName.of('Rect')) || nameOf(field.get(PDFName.of('Subtype'))) === 'Widget') {
      this.signatureWidgets.add(fieldValue);
    }
    for (const widget of widgets) if (widget instanceof PDFRef) this.signatureWidgets.add(widget);

    const before = this.history.dict(fieldValue, this.signed);
    const wasSigned = before?.has(PDFName.of('V')) ?? false;
    const value = field.get(PDFName.of('V'));
    if (this.changed(fieldValue)) {
      if (!before) {
        this.explain(fieldValue);
        this.signatureParts.push(field);
      } else if (wasSigned) {
        this.reasons.push(
          `una firma già presente è stata modificata (${this.describe(fieldValue)})`,
        );
      } else {
        const keys = differingKeys(before, field, FIELD_KEYS_SIGNING_MAY_CHANGE);
        if (keys.length) {
          this.reasons.push(`un campo firma è cambiato (${keys.map((k) => `/${k}`).join(', ')})`);
        }
        this.explain(fieldValue);
        this.signatureParts.push(field);
      }
    }
    if (this.changed(value)) {
      if (this.isNew(value)) {
        this.explain(value);
        this.signatureParts.push(this.changes.get(value)?.after as PDFObject);
      } else {
        this.reasons.push(
          `il valore di una firma già presente è stato modificato (${this.describe(value)})`,
        );
      }
    }
    for (const widget of widgets) {
      if (!this.changed(widget)) continue;
      if (this.isNew(widget) || !wasSigned) {
        this.explain(widget);
        this.signatureParts.push(this.changes.get(widget)?.after as PDFObject);
      } else {
        this.reasons.push(
          `l'aspetto di una firma già presente è stato modificato (${this.describe(widget)})`,
        );
      }
    }
    for (const kid of kidFields) this.reviewField(kid, type, visited);
  }

  private reviewPages(rootAfter: PDFDict | undefined): void {
    const visited = new Set<PDFRef>();
    const walk = (nodeValue: PDFObject | undefined) => {
      if (!(nodeValue instanceof PDFRef) || visited.has(nodeValue)) return;
      visited.add(nodeValue);
      const node = this.history.dict(nodeValue, this.history.last);
      if (!node) return;
      const kids = this.history.array(node.get(PDFName.of('Kids')), this.history.last);
      if (nameOf(node.get(PDFName.of('Type'))) === 'Pages' || kids) {
        if (this.changed(nodeValue)) {
          this.reasons.push(`la struttura delle pagine è cambiata (${this.describe(nodeValue)})`);
        }
        for (const kid of kids?.asArray() ?? []) walk(kid);
        return;
      }
      this.reviewPage(nodeValue, node);
    };
    walk(rootAfter?.get(PDFName.of('Pages')));
  }

  private reviewPage(pageRef: PDFRef, page: PDFDict): void {
    const annotsValue = page.get(PDFName.of('Annots'));
    if (!this.changed(pageRef) && !this.changed(annotsValue)) return;
    const before = this.history.dict(pageRef, this.signed);
    if (!before) {
      this.reasons.push(`è stata aggiunta una pagina (${pageRef.toString()})`);
      return;
    }
    const keys = differingKeys(before, page, PAGE_KEYS_SIGNING_MAY_CHANGE);
    if (keys.length) {
      this.reasons.push(
        `una pagina è cambiata (${pageRef.toString()}: ${keys.map((k) => `/${k}`).join(', ')})`,
      );
    }
    const annotsAfter = this.refsOf(this.history.array(annotsValue, this.history.last));
    const annotsBefore = this.refsOf(
      this.history.array(before.get(PDFName.of('Annots')), this.signed),
    );
    if (annotsBefore.some((annot) => !annotsAfter.includes(annot))) {
      this.reasons.push(`annotazioni rimosse da una pagina (${pageRef.toString()})`);
    }
    const added = annotsAfter.filter((annot) => !annotsBefore.includes(annot));
    const foreign = added.filter(
      (annot) => !(annot instanceof PDFRef && this.signatureWidgets.has(annot)),
    );
    if (foreign.length) {
      this.reasons.push(
        `annotazioni diverse da una firma aggiunte a una pagina (${pageRef.toString()})`,
      );
    }
    this.explain(pageRef);
    if (this.changed(annotsValue)) this.explain(annotsValue);
  }

  /** Validation data (certificates, CRLs, OCSP responses) may be added and extended. */
  private reviewDss(rootBefore: PDFDict | undefined, rootAfter: PDFDict | undefined): void {
    const dssAfter = rootAfter?.get(PDFName.of('DSS'));
    if (!dssAfter) return;
    const dssBefore = new Set<PDFRef>();
    this.closure(rootBefore?.get(PDFName.of('DSS')), this.signed, () => true, dssBefore);
    this.closure(dssAfter, this.history.last, (ref) => {
      if (!this.changes.has(ref)) return false;
      if (!this.isNew(ref) && !dssBefore.has(ref)) return false;
      this.explained.add(ref);
      return true;
    });
  }

  /** pyHanko's rule: an XMP stream may be rewritten as long as it is XMP. */
  private reviewMetadata(rootAfter: PDFDict | undefined): void {
    const metadataValue = rootAfter?.get(PDFName.of('Metadata'));
    if (!this.changed(metadataValue)) return;
    const stream = this.history.resolve(metadataValue, this.history.last);
    let xml = '';
    if (stream instanceof PDFRawStream) {
      try {
        xml = Buffer.from(decodePDFRawStream(stream).decode()).toString('utf8');
      } catch {
        xml = '';
      }
    }
    if (!/<x:xmpmeta[\s>]/.test(xml) || /<!ENTITY/i.test(xml)) {
      this.reasons.push('i metadati XMP sono stati sostituiti con un contenuto non XMP');
      return;
    }
    this.explain(metadataValue);
  }

  /** New objects reached only through the new signature parts come with them. */
  private explainNewDependencies(part: PDFObject): void {
    this.closure(part, this.history.last, (ref) => {
      if (!this.isNew(ref)) return false;
      this.explained.add(ref);
      return true;
    });
  }

  /**
   * Walks references from `start` in revision `at`, entering a reference only
   * when `enter` accepts it.
   */
  private closure(
    start: PDFObject | undefined,
    at: number,
    enter: (ref: PDFRef) => boolean,
    found = new Set<PDFRef>(),
  ): Set<PDFRef> {
    const pending: PDFObject[] = [];
    const visit = (ref: PDFRef) => {
      if (found.has(ref) || !enter(ref)) return;
      found.add(ref);
      const target = this.history.lookup(ref, at);
      if (target) pending.push(target);
    };
    if (start) forEachReference(start, visit);
    for (let next = pending.pop(); next; next = pending.pop()) forEachReference(next, visit);
    return found;
  }

  /**
   * Unexplained changes make the update "other", except new objects that
   * nothing in the document reaches (some writers leave those behind). A new
   * object that an object of the signed revision already referred to is not
   * an orphan: it fills a dangling reference, changing what was signed.
   */
  private reviewLeftovers(trailerRefs: (PDFObject | undefined)[]): void {
    const reachable = new Set<PDFRef>();
    const enterNew = (ref: PDFRef) => this.isNew(ref);
    for (const start of trailerRefs) this.closure(start, this.history.last, enterNew, reachable);
    for (const change of this.changes.values()) {
      if (change.before !== undefined)
        this.closure(change.after, this.history.last, enterNew, reachable);
    }
    const referencedWhenSigned = this.history.referencedAt(this.signed);
    const unexplained: string[] = [];
    for (const [ref, change] of this.changes) {
      if (change.before === undefined && referencedWhenSigned.has(ref)) {
        this.reasons.push(
          `un riferimento già presente nella versione firmata ora punta a un oggetto aggiunto dopo (${this.describe(ref)})`,
        );
        continue;
      }
      if (this.explained.has(ref)) continue;
      if (change.before === undefined && !reachable.has(ref)) continue;
      unexplained.push(this.describe(ref));
    }
    if (unexplained.length) {
      const shown = unexplained.slice(0, 5).join(', ');
      const more = unexplained.length > 5 ? ` e altri ${unexplained.length - 5}` : '';
      this.reasons.push(`oggetti modificati o aggiunti: ${shown}${more}`);
    }
  }
}

/* ============================ PDF: signatures =============================== */

interface SignatureField {
  name: string;
  value: PDFDict;
}

/** Signature fields with a value, walking /AcroForm /Fields and their /Kids. */
function signatureFields(history: PdfHistory): SignatureField[] {
  const last = history.last;
  const root = history.dict(history.trailer(last).root, last);
  const form = history.dict(root?.get(PDFName.of('AcroForm')), last);
  const fields = history.array(form?.get(PDFName.of('Fields')), last);
  const found: SignatureField[] = [];
  const visited = new Set<PDFObject>();
  const walk = (value: PDFObject, parentName: string | null, inheritedType: string | null) => {
    if (visited.has(value)) return;
    visited.add(value);
    const field = history.dict(value, last);
    if (!field) return;
    const partial = textOf(field.get(PDFName.of('T')));
    const fullName =
      partial === null ? parentName : parentName ? `${parentName}.${partial}` : partial;
    const type = nameOf(field.get(PDFName.of('FT'))) ?? inheritedType;
    const signature = history.dict(field.get(PDFName.of('V')), last);
    if (type === 'Sig' && signature) {
      found.push({ name: fullName ?? '', value: signature });
      return;
    }
    for (const kid of history.array(field.get(PDFName.of('Kids')), last)?.asArray() ?? []) {
      walk(kid, fullName, type);
    }
  };
  for (const field of fields?.asArray() ?? []) walk(field, null, null);
  return found;
}

interface ByteRangeCheck {
  ranges: [number, number][];
  /** Offset just past the last signed byte. */
  signedEnd: number;
  /** The DER signature taken from the gap, or from /Contents when the gap is unusable. */
  cms: Uint8Array | null;
  wellFormed: boolean;
  problems: string[];
}

const HEX_STRING = /^<[0-9A-Fa-f\s]*>$/;

function withoutWhitespace(value: string): string {
  return value.replace(/\s+/g, '');
}

function checkByteRange(pdf: Uint8Array, pdfText: string, signature: PDFDict, history: PdfHistory) {
  const problems: string[] = [];
  const numbers = (
    history.array(signature.get(PDFName.of('ByteRange')), history.last)?.asArray() ?? []
  )
    .map((item) => history.resolve(item, history.last))
    .map((item) => (item instanceof PDFNumber ? item.asNumber() : NaN));
  const contents = signature.get(PDFName.of('Contents'));
  const ranges: [number, number][] = [];
  let inBounds = numbers.length >= 2 && numbers.length % 2 === 0;
  for (let index = 0; inBounds && index < numbers.length; index += 2) {
    const start = numbers[index] as number;
    const length = numbers[index + 1] as number;
    inBounds =
      Number.isInteger(start) &&
      Number.isInteger(length) &&
      start >= 0 &&
      length >= 0 &&
      start + length <= pdf.length;
    ranges.push([start, length]);
  }
  if (!inBounds) {
    return {
      ranges: [],
      signedEnd: 0,
      cms: stringBytes(contents),
      wellFormed: false,
      problems: ["l'intervallo di byte firmato (/ByteRange) non è valido"],
    } satisfies ByteRangeCheck;
  }
  const [first, second] = ranges as [[number, number], [number, number] | undefined];
  const gapStart = first[0] + first[1];
  const gapEnd = second ? second[0] : gapStart;
  const signedEnd = second ? second[0] + second[1] : gapStart;
  const gap = pdfText.slice(gapStart, gapEnd);
  const gapIsHexString = ranges.length === 2 && gapEnd > gapStart && HEX_STRING.test(gap);
  const gapHex = gapIsHexString ? withoutWhitespace(gap.slice(1, -1)).toLowerCase() : null;
  // The gap must be this signature's own /Contents string, not some other hex string.
  // Hex text is compared: pdf-lib's byte decoding of a large /Contents is slow.
  const gapIsContents =
    gapHex !== null &&
    contents instanceof PDFHexString &&
    withoutWhitespace(contents.asString()).toLowerCase() === gapHex &&
    /\/Contents\s*$/.test(pdfText.slice(Math.max(0, gapStart - 32), gapStart));
  const wellFormed = first[0] === 0 && ranges.length === 2 && gapIsContents;
  if (!wellFormed) {
    problems.push(
      "l'intervallo di byte firmato (/ByteRange) non copre tutto il documento tranne la firma stessa",
    );
  }
  return {
    ranges,
    signedEnd,
    cms:
      gapIsContents && gapHex !== null
        ? new Uint8Array(Buffer.from(gapHex, 'hex'))
        : stringBytes(contents),
    wellFormed,
    problems,
  } satisfies ByteRangeCheck;
}

const PADES_SUBFILTERS = new Set(['ETSI.CAdES.detached', 'adbe.pkcs7.detached']);
const DOCUMENT_TIMESTAMP_SUBFILTER = 'ETSI.RFC3161';

async function verifyPdfSignature(
  pdf: Uint8Array,
  pdfText: string,
  history: PdfHistory,
  field: SignatureField,
  byteRange: ByteRangeCheck,
  anchors: readonly KnownCertificate[],
): Promise<SignatureReport> {
  const signature = field.value;
  const subFilter = nameOf(signature.get(PDFName.of('SubFilter')));
  const problems = [...byteRange.problems];

  const signedRevision = history.revisions.findIndex(
    (revision) =>
      byteRange.signedEnd === revision.end || byteRange.signedEnd === revision.endWithEol,
  );
  if (byteRange.wellFormed && signedRevision < 0) {
    problems.push('la firma non termina alla fine di una revisione del documento');
  }
  const coversRevision = byteRange.wellFormed && signedRevision >= 0;
  // Without an exact revision, judge the updates after the last one the signature includes.
  const reviewedRevision =
    signedRevision >= 0
      ? signedRevision
      : history.revisions.findLastIndex((revision) => revision.endWithEol <= byteRange.signedEnd);
  let modificationsAfter: SignatureReport['modificationsAfter'] = 'other';
  if (reviewedRevision >= 0) {
    const review = new UpdateReview(history, reviewedRevision);
    modificationsAfter = review.verdict();
    if (modificationsAfter === 'other') {
      problems.push(
        `il documento è stato modificato dopo la firma con modifiche diverse dall'aggiunta di firme: ${review.reasons.join('; ')}`,
      );
    }
  }

  const facts: ContainerFacts = {
    fieldName: field.name,
    kind: 'PAdES',
    subFilter,
    signingTime: parsePdfDate(textOf(signature.get(PDFName.of('M')))),
    coversWholeDocument: byteRange.ranges.length > 0 && byteRange.signedEnd === pdf.length,
    coversRevision,
    modificationsAfter,
    problems,
  };
  const signedBytes = byteRange.ranges.map(([start, length]) =>
    pdf.subarray(start, start + length),
  );
  let check: SignerCheck;
  let timestamp: TimestampCheck | null = null;
  try {
    const signedData = readSignedData(byteRange.cms ?? new Uint8Array());
    const signerInfo = signedData.signerInfos[0];
    if (!signerInfo) {
      check = unreadableSigner('la firma non contiene alcun firmatario');
    } else if (subFilter === DOCUMENT_TIMESTAMP_SUBFILTER) {
      // A document time-stamp: the TSA is the signer, its imprint covers the byte ranges.
      timestamp = checkTimestampToken(signedData, signedBytes);
      facts.signingTime ??= timestamp.time;
      check = {
        certificate: timestamp.certificate,
        certificates: timestamp.certificates,
        digestAlgorithm: timestamp.digestAlgorithm,
        intact: timestamp.intact,
        claimedSigningTime: timestamp.time,
        problems: [],
      };
    } else if (subFilter === null || !PADES_SUBFILTERS.has(subFilter)) {
      check = unreadableSigner(
        `formato di firma non supportato (/SubFilter ${subFilter ?? 'assente'})`,
      );
    } else {
      check = checkSignerInfo(signedData, signerInfo, signedBytes);
      timestamp = signatureTimestamp(signerInfo);
    }
  } catch (error) {
    if (!isMalformed(error)) throw error;
    check = unreadableSigner('la firma non è leggibile (CMS non valido)');
    timestamp = null;
  }
  return finishReport(facts, check, timestamp, anchors);
}

/**
 * Every signature of the PDF, in signing order (by where its signed bytes
 * end). [] for a PDF without signatures.
 */
export async function verifyPdfSignatures(
  pdf: Uint8Array,
  options: VerificationOptions,
): Promise<SignatureReport[]> {
  const { history, text: pdfText } = await readHistory(pdf);
  const fields = signatureFields(history);
  if (fields.length === 0) return [];
  const anchors = trustAnchors(options.trustAnchors);
  const signatures = fields.map((field) => ({
    field,
    byteRange: checkByteRange(pdf, pdfText, field.value, history),
  }));
  signatures.sort((a, b) => a.byteRange.signedEnd - b.byteRange.signedEnd);
  const reports: SignatureReport[] = [];
  for (const { field, byteRange } of signatures) {
    reports.push(await verifyPdfSignature(pdf, pdfText, history, field, byteRange, anchors));
  }
  return reports;
}
