/**
 * The deployment's signing setup from the configuration: the configured keys
 * (or, in the embedded default, a development PKI made on this machine), the
 * trust anchors and the optional time-stamping authority.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { ensureDevPki } from './dev-pki.js';
import { KeyRing, loadKeyConfiguration } from './keys/index.js';
import { readPemCertificates } from './keys/pkcs11.js';
import type { SigningSetup } from './service.js';
import { httpTimestampAuthority } from './tsa.js';

export async function createSigningSetup(config: Config, logger: Logger): Promise<SigningSetup> {
  let keysFile = config.SIGNING_KEYS_FILE;
  let anchorsFile = config.TRUST_ANCHORS_FILE;
  if (!keysFile) {
    const pki = await ensureDevPki(path.join(config.dataDir, 'pki'));
    // The generated secrets stay in the data folder; the real environment wins.
    for (const [name, value] of Object.entries(pki.secrets)) process.env[name] ??= value;
    if (pki.softhsmConf) process.env.SOFTHSM2_CONF ??= pki.softhsmConf;
    keysFile = pki.keysFile;
    anchorsFile ??= pki.caFile;
    logger.warn(
      { keys: keysFile, trustAnchors: anchorsFile },
      'SIGNING_KEYS_FILE unset: signing with a development CA made on this machine (not for production)',
    );
  }
  if (!anchorsFile) throw new ConfigError('Invalid configuration: TRUST_ANCHORS_FILE is required');
  let trustAnchors: Uint8Array[];
  try {
    trustAnchors = readPemCertificates(readFileSync(anchorsFile, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      `Invalid configuration: TRUST_ANCHORS_FILE cannot be read (${(error as Error).message})`,
    );
  }
  if (trustAnchors.length === 0) {
    throw new ConfigError(
      `Invalid configuration: TRUST_ANCHORS_FILE holds no PEM certificate (${anchorsFile})`,
    );
  }
  let configuration: ReturnType<typeof loadKeyConfiguration>;
  try {
    configuration = loadKeyConfiguration(keysFile);
  } catch (error) {
    throw new ConfigError(`Invalid configuration: SIGNING_KEYS_FILE ${(error as Error).message}`);
  }
  return {
    keyRing: new KeyRing(configuration, process.env),
    trustAnchors,
    ...(config.TSA_URL
      ? {
          timestampAuthority: httpTimestampAuthority(config.TSA_URL, {
            timeoutMs: config.TSA_TIMEOUT_MS,
          }),
        }
      : {}),
    sealKeyId: config.SEAL_KEY_ID,
    uploadLimitBytes: config.SIGNED_UPLOAD_LIMIT_MB * 1024 * 1024,
  };
}
