/**
 * The deployment's signing keys: a JSON file (path in SIGNING_KEYS_FILE) that
 * names each key and where it lives, and the KeyRing that opens them on demand.
 * Secrets never appear in the file: each key names the environment variable
 * holding its password or PIN.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SignerUnavailableError, type KeySigner } from '../signer.js';
import { openPkcs11Signer } from './pkcs11.js';
import { openPkcs12Signer } from './pkcs12.js';

export const SIGNING_KEYS_FILE_ENV = 'SIGNING_KEYS_FILE';

const keyId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes');
const environmentVariableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable');
const filePath = z.string().min(1, 'must be a file path');

const pkcs12KeySchema = z.strictObject({
  id: keyId,
  label: z.string().min(1),
  backend: z.literal('pkcs12'),
  file: filePath,
  passwordEnv: environmentVariableName,
});

const pkcs11KeySchema = z.strictObject({
  id: keyId,
  label: z.string().min(1),
  backend: z.literal('pkcs11'),
  module: filePath,
  tokenLabel: z.string().min(1).max(32),
  keyLabel: z.string().min(1),
  pinEnv: environmentVariableName,
  certificateFile: filePath,
  chainFile: filePath.optional(),
});

const keyConfigurationSchema = z.strictObject({
  keys: z
    .array(z.discriminatedUnion('backend', [pkcs12KeySchema, pkcs11KeySchema]))
    .superRefine((keys, context) => {
      const seen = new Set<string>();
      keys.forEach((key, index) => {
        if (seen.has(key.id)) {
          context.addIssue({
            code: 'custom',
            path: [index, 'id'],
            message: `duplicate key id "${key.id}"`,
          });
        }
        seen.add(key.id);
      });
    }),
});

export type Pkcs12KeyEntry = z.infer<typeof pkcs12KeySchema>;
export type Pkcs11KeyEntry = z.infer<typeof pkcs11KeySchema>;
export type KeyEntry = Pkcs12KeyEntry | Pkcs11KeyEntry;

export interface KeyConfiguration {
  /** Absolute path of the JSON file the configuration came from. */
  file: string;
  /** Entries with every file path made absolute. */
  keys: KeyEntry[];
}

export interface KeyDescription {
  id: string;
  label: string;
  backend: KeyEntry['backend'];
}

/** Lets a signer find the cache entry it came from, which exists only after it resolves. */
interface OpeningHandle {
  opening?: Promise<KeySigner>;
}

export class KeyConfigurationError extends Error {
  override name = 'KeyConfigurationError';
}

function formatIssuePath(issuePath: readonly PropertyKey[]): string {
  return issuePath
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}

/**
 * Reads and validates the key configuration. Relative paths in it are taken
 * from the JSON file's folder, so the file and its keys can move together.
 */
export function loadKeyConfiguration(file: string): KeyConfiguration {
  const absoluteFile = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(absoluteFile, 'utf8');
  } catch (error) {
    throw new KeyConfigurationError(`${file}: cannot be read (${(error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new KeyConfigurationError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = keyConfigurationSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${formatIssuePath(issue.path) || '(root)'}: ${issue.message}`,
    );
    throw new KeyConfigurationError(`${file}: ${problems.join('; ')}`);
  }
  const folder = path.dirname(absoluteFile);
  const resolve = (relative: string) => path.resolve(folder, relative);
  return {
    file: absoluteFile,
    keys: parsed.data.keys.map((key): KeyEntry => {
      if (key.backend === 'pkcs12') return { ...key, file: resolve(key.file) };
      return {
        ...key,
        module: resolve(key.module),
        certificateFile: resolve(key.certificateFile),
        ...(key.chainFile ? { chainFile: resolve(key.chainFile) } : {}),
      };
    }),
  };
}

function openSigner(entry: KeyEntry, env: NodeJS.ProcessEnv): Promise<KeySigner> {
  if (entry.backend === 'pkcs12') {
    return openPkcs12Signer(
      { id: entry.id, file: entry.file, passwordEnv: entry.passwordEnv },
      env,
    );
  }
  return openPkcs11Signer(
    {
      id: entry.id,
      modulePath: entry.module,
      tokenLabel: entry.tokenLabel,
      keyLabel: entry.keyLabel,
      pinEnv: entry.pinEnv,
      certificateFile: entry.certificateFile,
      ...(entry.chainFile ? { chainFile: entry.chainFile } : {}),
    },
    env,
  );
}

/**
 * The configured keys, each opened the first time it is asked for and then
 * kept open (a PKCS#12 file is parsed once, a token session logged in once).
 * The signers it hands out belong to the ring: close the ring, not them.
 */
export class KeyRing {
  private readonly opened = new Map<string, Promise<KeySigner>>();
  private closed = false;

  constructor(
    private readonly configuration: KeyConfiguration,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  ids(): string[] {
    return this.configuration.keys.map((key) => key.id);
  }

  describe(): KeyDescription[] {
    return this.configuration.keys.map(({ id, label, backend }) => ({ id, label, backend }));
  }

  signer(id: string): Promise<KeySigner> {
    if (this.closed) return Promise.reject(new Error('the key ring is closed'));
    const entry = this.configuration.keys.find((key) => key.id === id);
    if (!entry) {
      return Promise.reject(
        new SignerUnavailableError('unknown-key', `no signing key "${id}" is configured`),
      );
    }
    let pending = this.opened.get(id);
    if (!pending) {
      const handle: OpeningHandle = {};
      const opening = openSigner(entry, this.env).then((signer) => this.owned(signer, handle));
      handle.opening = opening;
      pending = opening;
      this.opened.set(id, opening);
      // A failed open is forgotten, so a corrected PIN or file works on the next call.
      opening.catch(() => this.forget(id, opening));
    }
    return pending;
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = [...this.opened.values()];
    this.opened.clear();
    await Promise.allSettled(
      pending.map(async (opening) => {
        const signer = await opening;
        await signer.close();
      }),
    );
  }

  private forget(id: string, opening: Promise<KeySigner>): void {
    if (this.opened.get(id) === opening) this.opened.delete(id);
  }

  /**
   * Wraps a signer so that, once it reports the key unavailable (token pulled,
   * HSM restarted), the ring drops it and the next request opens it afresh.
   */
  private owned(inner: KeySigner, handle: OpeningHandle): KeySigner {
    const drop = async () => {
      if (handle.opening) this.forget(inner.id, handle.opening);
      await inner.close();
    };
    return {
      id: inner.id,
      keyAlgorithm: inner.keyAlgorithm,
      certificates: () => inner.certificates(),
      sign: async (data) => {
        try {
          return await inner.sign(data);
        } catch (error) {
          if (error instanceof SignerUnavailableError) await drop();
          throw error;
        }
      },
      close: drop,
    };
  }
}

/** The key ring named by SIGNING_KEYS_FILE, or undefined when the variable is unset. */
export function keyRingFromEnvironment(env: NodeJS.ProcessEnv = process.env): KeyRing | undefined {
  const file = env[SIGNING_KEYS_FILE_ENV];
  if (!file) return undefined;
  return new KeyRing(loadKeyConfiguration(file), env);
}
