/**
 * One signer interface for every key back-end (PKCS#12 file, PKCS#11 token):
 * the CMS and PAdES code only ever asks a signer for its certificates and for
 * a SHA-256 signature over some bytes, so a key held in an HSM never leaves it.
 */

export type KeyAlgorithm = 'RSA' | 'ECDSA';

export interface KeySigner {
  /** The key's id in the deployment's key configuration. */
  readonly id: string;
  readonly keyAlgorithm: KeyAlgorithm;
  /** DER certificates: the signer's own first, then its chain towards the anchor (may stop short of it). */
  certificates(): Promise<Uint8Array[]>;
  /**
   * Signs `data` with SHA-256: RSASSA-PKCS1-v1_5 for RSA keys, ECDSA for EC keys
   * with the signature DER-encoded as Ecdsa-Sig-Value (what CMS carries).
   */
  sign(data: Uint8Array): Promise<Uint8Array>;
  /** Releases sessions or handles; the signer is not used afterwards. */
  close(): Promise<void>;
}

export type SignerUnavailableReason =
  | 'wrong-pin'
  | 'wrong-password'
  | 'token-missing'
  | 'key-missing'
  | 'module-missing'
  | 'file-unreadable'
  | 'secret-missing'
  | 'unknown-key';

/**
 * The key cannot be used now (wrong PIN, token or file missing, secret not in
 * the environment). Routes turn it into 503: nothing is signed or stored.
 */
export class SignerUnavailableError extends Error {
  override name = 'SignerUnavailableError';
  constructor(
    readonly reason: SignerUnavailableReason,
    message: string,
  ) {
    super(message);
  }
}
