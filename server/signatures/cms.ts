/**
 * CAdES detached signatures (SubFilter ETSI.CAdES.detached) for PAdES: a CMS
 * SignedData over a digest the caller computed (the PDF's ByteRange), with the
 * signed attributes PAdES baseline B-B asks for and, optionally, a signature
 * time-stamp that makes it B-T.
 *
 * The private key never reaches this module: the signed attributes are handed
 * to `KeySigner.sign`, so the same code serves PKCS#12 files and HSM tokens.
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import {
  AlgorithmIdentifier,
  Attribute,
  Certificate,
  ContentInfo,
  EncapsulatedContentInfo,
  GeneralName,
  GeneralNames,
  IssuerAndSerialNumber,
  IssuerSerial,
  SignedAndUnsignedAttributes,
  SignedData,
  SignerInfo,
} from 'pkijs';
import type { KeyAlgorithm, KeySigner } from './signer.js';
import type { TimestampAuthority } from './tsa.js';

export const OID = {
  data: '1.2.840.113549.1.7.1',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
} as const;

const SHA256_LENGTH = 32;

export interface CadesSignatureOptions {
  signer: KeySigner;
  /** SHA-256 of the signed content; the content itself stays outside the CMS (detached). */
  contentDigest: Uint8Array;
  /** The signer's certificates if the caller already fetched them (signer first), else asked for. */
  certificates?: Uint8Array[];
  /** When given, the signature value is time-stamped (PAdES B-T). */
  timestampAuthority?: TimestampAuthority;
}

/** Returns the DER ContentInfo of a CAdES detached SignedData. */
export async function createCadesDetachedSignature(
  options: CadesSignatureOptions,
): Promise<Uint8Array> {
  const { signer, contentDigest, timestampAuthority } = options;
  if (contentDigest.length !== SHA256_LENGTH) {
    throw new TypeError(
      `contentDigest must be a SHA-256 digest (32 bytes), got ${contentDigest.length}`,
    );
  }
  const certificateBytes = options.certificates ?? (await signer.certificates());
  if (!certificateBytes[0]) {
    throw new Error(`Key "${signer.id}" has no certificate to sign with`);
  }
  const certificates = certificateBytes.map(preparedCertificate);
  const signerCertificate = certificates[0]!;

  const signedAttributes = sortedForDer([
    new Attribute({
      type: OID.contentType,
      values: [new asn1js.ObjectIdentifier({ value: OID.data })],
    }),
    new Attribute({
      type: OID.messageDigest,
      values: [new asn1js.OctetString({ valueHex: contentDigest })],
    }),
    new Attribute({
      type: OID.signingCertificateV2,
      values: [signerCertificate.signingCertificateV2],
    }),
  ]);
  const signedAttrs = new SignedAndUnsignedAttributes({ type: 0, attributes: signedAttributes });

  // RFC 5652 §5.4: the signature covers the attributes encoded as a SET OF
  // (tag 0x31), not with the [0] IMPLICIT tag they carry inside SignerInfo.
  const toBeSigned = new Uint8Array(signedAttrs.toSchema().toBER());
  toBeSigned[0] = 0x31;
  const signatureValue = await signer.sign(toBeSigned);

  const signerInfo = new SignerInfo({
    version: 1,
    sid: new IssuerAndSerialNumber({
      issuer: signerCertificate.certificate.issuer,
      serialNumber: signerCertificate.certificate.serialNumber,
    }),
    digestAlgorithm: new AlgorithmIdentifier({ algorithmId: OID.sha256 }),
    signedAttrs,
    signatureAlgorithm: signatureAlgorithm(signer.keyAlgorithm),
    signature: new asn1js.OctetString({ valueHex: signatureValue }),
  });

  if (timestampAuthority) {
    const token = await timestampAuthority.stamp(sha256(signatureValue));
    signerInfo.unsignedAttrs = new SignedAndUnsignedAttributes({
      type: 1,
      attributes: [
        new Attribute({ type: OID.signatureTimeStampToken, values: [parseDerExactly(token)] }),
      ],
    });
  }

  const signedData = new SignedData({
    version: 1,
    digestAlgorithms: [new AlgorithmIdentifier({ algorithmId: OID.sha256 })],
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: OID.data }),
    signerInfos: [signerInfo],
  }).toSchema() as asn1js.Sequence; // pkijs types every schema as `any`; SignedData's is a SEQUENCE
  // certificates [0] IMPLICIT CertificateSet goes after encapContentInfo. It is
  // spliced in from the cache instead of given to pkijs, which would re-parse
  // every certificate on each signature (most of the cost of a CMS).
  signedData.valueBlock.value.splice(
    3,
    0,
    new asn1js.Constructed({
      idBlock: { tagClass: 3, tagNumber: 0 },
      value: certificates.map(({ schema }) => schema),
    }),
  );
  const contentInfo = new ContentInfo({
    contentType: ContentInfo.SIGNED_DATA,
    content: signedData,
  });
  return new Uint8Array(contentInfo.toSchema().toBER());
}

/**
 * An upper bound of the DER size of the signature `createCadesDetachedSignature`
 * makes with these certificates, time-stamp token excluded: lets PAdES reserve
 * its /Contents before anything is signed.
 */
export function cadesSignatureSizeBound(certificates: readonly Uint8Array[]): number {
  const certificatesSize = certificates.reduce((total, der) => total + der.length, 0);
  // The signer certificate's issuer name appears twice more (sid and ESS
  // issuerSerial); attributes, algorithms and wrappers take well under 1 KiB;
  // 1 KiB more covers a signature value up to RSA 8192.
  const signerCertificateSize = certificates[0]?.length ?? 0;
  return certificatesSize + 2 * signerCertificateSize + 2048;
}

export function sha256(data: Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest();
}

function signatureAlgorithm(keyAlgorithm: KeyAlgorithm): AlgorithmIdentifier {
  switch (keyAlgorithm) {
    case 'RSA':
      // RFC 4055 §5: the parameters of sha256WithRSAEncryption are NULL, not absent.
      return new AlgorithmIdentifier({
        algorithmId: OID.sha256WithRSAEncryption,
        algorithmParams: new asn1js.Null(),
      });
    case 'ECDSA':
      // RFC 5758 §3.2: ecdsa-with-SHA256 has no parameters at all.
      return new AlgorithmIdentifier({ algorithmId: OID.ecdsaWithSHA256 });
  }
}

interface PreparedCertificate {
  certificate: Certificate;
  /** The certificate as an ASN.1 tree, encoding back to its exact DER. */
  schema: asn1js.Sequence;
  signingCertificateV2: asn1js.Sequence;
  commonName: string | undefined;
}

/** Parsed certificates by DER (base64), so a key's chain is parsed once, not per signature. */
const preparedCertificates = new Map<string, PreparedCertificate>();
const PREPARED_CERTIFICATES_LIMIT = 256;

function preparedCertificate(der: Uint8Array): PreparedCertificate {
  const key = Buffer.from(der.buffer, der.byteOffset, der.length).toString('base64');
  const cached = preparedCertificates.get(key);
  if (cached) return cached;
  const certificate = Certificate.fromBER(der);
  const commonNameValue: unknown = certificate.subject.typesAndValues.find(
    (item) => item.type === '2.5.4.3',
  )?.value.valueBlock.value;
  const prepared: PreparedCertificate = {
    certificate,
    schema: certificate.toSchema(),
    signingCertificateV2: signingCertificateV2(certificate, der),
    commonName: typeof commonNameValue === 'string' ? commonNameValue : undefined,
  };
  if (preparedCertificates.size >= PREPARED_CERTIFICATES_LIMIT) {
    preparedCertificates.delete(preparedCertificates.keys().next().value!);
  }
  preparedCertificates.set(key, prepared);
  return prepared;
}

/** The subject common name of a DER certificate, if it has one. */
export function certificateCommonName(der: Uint8Array): string | undefined {
  return preparedCertificate(der).commonName;
}

/**
 * ESS SigningCertificateV2 (RFC 5035) naming the signer certificate by hash,
 * so it cannot be swapped for another one with the same key. hashAlgorithm is
 * left out because SHA-256 is its DEFAULT, which DER must not encode.
 */
function signingCertificateV2(
  certificate: Certificate,
  certificateDer: Uint8Array,
): asn1js.Sequence {
  const issuerSerial = new IssuerSerial({
    issuer: new GeneralNames({ names: [new GeneralName({ type: 4, value: certificate.issuer })] }),
    serialNumber: certificate.serialNumber,
  });
  const essCertIdV2 = new asn1js.Sequence({
    value: [new asn1js.OctetString({ valueHex: sha256(certificateDer) }), issuerSerial.toSchema()],
  });
  return new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertIdV2] })] });
}

/**
 * DER orders the members of a SET OF by their encodings. Verifiers such as
 * OpenSSL re-encode the signed attributes before checking the signature, so an
 * unsorted set would sign bytes they never reproduce.
 */
function sortedForDer(attributes: Attribute[]): Attribute[] {
  return attributes
    .map((attribute) => ({ attribute, der: Buffer.from(attribute.toSchema().toBER()) }))
    .sort((a, b) => Buffer.compare(a.der, b.der))
    .map(({ attribute }) => attribute);
}

/** Parses a token that must go into the CMS unchanged (its own signature covers parts of it). */
function parseDerExactly(der: Uint8Array): asn1js.AsnType {
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1 || parsed.offset !== der.length) {
    throw new Error('The time-stamp token is not a single well-formed ASN.1 value');
  }
  const reencoded = new Uint8Array(parsed.result.toBER());
  if (Buffer.compare(reencoded, der) !== 0) {
    throw new Error('The time-stamp token would not survive re-encoding unchanged');
  }
  return parsed.result;
}
