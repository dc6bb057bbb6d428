/**
 * RFC 3161 time-stamping: what turns a PAdES B-B signature into B-T, proving
 * the signature existed before the time the authority vouches for.
 */
import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import {
  AlgorithmIdentifier,
  MessageImprint,
  PKIStatus,
  SignedData,
  TimeStampReq,
  TimeStampResp,
  TSTInfo,
} from 'pkijs';

const SHA256_OID = '2.16.840.1.101.3.4.2.1';
const NONCE_BYTES = 8;

export interface TimestampAuthority {
  /** Returns a TimeStampToken (DER ContentInfo) over this SHA-256 digest. */
  stamp(sha256Digest: Uint8Array): Promise<Uint8Array>;
}

export type TimestampUnavailableReason =
  | 'unreachable'
  | 'timeout'
  | 'http-error'
  | 'malformed-response'
  | 'refused'
  | 'wrong-nonce'
  | 'wrong-imprint';

/** No usable time-stamp now: nothing is signed without one when B-T was asked for. */
export class TimestampUnavailableError extends Error {
  override name = 'TimestampUnavailableError';
  constructor(
    readonly reason: TimestampUnavailableReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface HttpTimestampAuthorityOptions {
  timeoutMs: number;
}

export function httpTimestampAuthority(
  url: string,
  { timeoutMs }: HttpTimestampAuthorityOptions,
): TimestampAuthority {
  return {
    async stamp(sha256Digest: Uint8Array): Promise<Uint8Array> {
      if (sha256Digest.length !== 32) {
        throw new TypeError(`A SHA-256 digest has 32 bytes, got ${sha256Digest.length}`);
      }
      // The first byte in 0x01..0x7f keeps the INTEGER positive and minimally
      // encoded, so the authority's echo compares byte for byte.
      const nonce = randomBytes(NONCE_BYTES);
      nonce[0] = (nonce[0]! & 0x7f) | 0x01;
      const request = new TimeStampReq({
        version: 1,
        messageImprint: new MessageImprint({
          hashAlgorithm: new AlgorithmIdentifier({ algorithmId: SHA256_OID }),
          hashedMessage: new asn1js.OctetString({ valueHex: sha256Digest }),
        }),
        nonce: new asn1js.Integer({ valueHex: nonce }),
        certReq: true,
      });
      const reply = await post(url, new Uint8Array(request.toSchema().toBER()), timeoutMs);
      return checkedToken(url, reply, sha256Digest, nonce);
    },
  };
}

async function post(url: string, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/timestamp-query',
        Accept: 'application/timestamp-reply',
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      throw new TimestampUnavailableError(
        'timeout',
        `The time-stamp authority at ${url} did not answer within ${timeoutMs} ms`,
        { cause: error },
      );
    }
    throw new TimestampUnavailableError(
      'unreachable',
      `The time-stamp authority at ${url} is unreachable: ${describe(error)}`,
      { cause: error },
    );
  }
  if (!response.ok) {
    throw new TimestampUnavailableError(
      'http-error',
      `The time-stamp authority at ${url} answered HTTP ${response.status} ${response.statusText}`,
    );
  }
  try {
    return new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new TimestampUnavailableError(
      'unreachable',
      `The time-stamp authority at ${url} broke off its answer: ${describe(error)}`,
      { cause: error },
    );
  }
}

function checkedToken(
  url: string,
  reply: Uint8Array,
  expectedDigest: Uint8Array,
  expectedNonce: Uint8Array,
): Uint8Array {
  let response: TimeStampResp;
  let tokenBytes: Uint8Array | undefined;
  try {
    const parsed = asn1js.fromBER(reply);
    if (parsed.offset === -1) throw new Error(parsed.result.error);
    response = new TimeStampResp({ schema: parsed.result });
    // The token goes into the CMS exactly as the authority signed it, never re-encoded.
    const members = parsed.result instanceof asn1js.Sequence ? parsed.result.valueBlock.value : [];
    tokenBytes = members[1]?.valueBeforeDecodeView.slice();
  } catch (error) {
    throw new TimestampUnavailableError(
      'malformed-response',
      `The time-stamp authority at ${url} sent something that is not a TimeStampResp`,
      { cause: error },
    );
  }
  const { status } = response.status;
  if (status !== PKIStatus.granted && status !== PKIStatus.grantedWithMods) {
    const text = response.status.statusStrings?.map((line) => line.valueBlock.value).join('; ');
    throw new TimestampUnavailableError(
      'refused',
      `The time-stamp authority at ${url} refused the request (PKIStatus ${status}${text ? `: ${text}` : ''})`,
    );
  }
  if (!response.timeStampToken || !tokenBytes) {
    throw new TimestampUnavailableError(
      'malformed-response',
      `The time-stamp authority at ${url} granted the request but sent no token`,
    );
  }

  let info: TSTInfo;
  try {
    const signedData = new SignedData({ schema: response.timeStampToken.content });
    const content = signedData.encapContentInfo.eContent;
    if (!content) throw new Error('the token has no TSTInfo');
    info = TSTInfo.fromBER(content.getValue());
  } catch (error) {
    throw new TimestampUnavailableError(
      'malformed-response',
      `The time-stamp token from ${url} cannot be read: ${describe(error)}`,
      { cause: error },
    );
  }

  const returnedNonce = info.nonce?.valueBlock.valueHexView;
  if (!returnedNonce || !sameBytes(returnedNonce, expectedNonce)) {
    throw new TimestampUnavailableError(
      'wrong-nonce',
      `The time-stamp token from ${url} does not carry the nonce of this request (a replayed or misrouted answer)`,
    );
  }
  const imprint = info.messageImprint;
  if (
    imprint.hashAlgorithm.algorithmId !== SHA256_OID ||
    !sameBytes(imprint.hashedMessage.valueBlock.valueHexView, expectedDigest)
  ) {
    throw new TimestampUnavailableError(
      'wrong-imprint',
      `The time-stamp token from ${url} stamps a different digest than the one sent`,
    );
  }

  return tokenBytes;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
