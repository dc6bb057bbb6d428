/**
 * Configuration from the environment (and an optional `.env`), validated once at start-up.
 * Every option is listed in the README's configuration table.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { config as loadDotenv } from 'dotenv';
import { ConnectionString } from 'mongodb-connection-string-url';
import { z } from 'zod';

const emptyAsUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());

const integer = (min: number, max: number) =>
  z.coerce
    .number({ error: `must be an integer between ${min} and ${max}` })
    .int(`must be an integer between ${min} and ${max}`)
    .min(min, `must be an integer between ${min} and ${max}`)
    .max(max, `must be an integer between ${min} and ${max}`);

const mongoUri = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .refine((value) => {
      try {
        new ConnectionString(value);
        return true;
      } catch {
        return false;
      }
    }, 'must be a MongoDB connection string (mongodb://host:port/database or mongodb+srv://…)')
    .optional(),
);

const httpUrl = z.preprocess(
  emptyAsUndefined,
  z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as http://127.0.0.1:9000' })
    .optional(),
);

// The URL carries the PEC mailbox's password: parseConfig never prints it (see SECRET_VARIABLE).
const smtpUrl = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .refine((value) => {
      try {
        const url = new URL(value);
        return (
          (url.protocol === 'smtp:' || url.protocol === 'smtps:') &&
          url.hostname !== '' &&
          url.username !== '' &&
          url.password !== ''
        );
      } catch {
        return false;
      }
    }, 'must be an smtp:// or smtps:// URL with the credentials, such as smtps://user:password@smtps.pec.example.it:465 (percent-encode special characters)')
    .optional(),
);

const emailAddress = z.email({ error: 'must be an e-mail address' });

const booleanFlag = z.preprocess(
  emptyAsUndefined,
  z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .default('true')
    .transform((value) => value === 'true' || value === '1'),
);

export const configSchema = z
  .object({
    NODE_ENV: z.preprocess(
      emptyAsUndefined,
      z.enum(['development', 'production', 'test']).default('development'),
    ),
    HOST: z.preprocess(emptyAsUndefined, z.string().default('127.0.0.1')),
    PORT: z.preprocess(emptyAsUndefined, integer(0, 65535).default(3000)),
    LOG_LEVEL: z.preprocess(
      emptyAsUndefined,
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ),
    MONGODB_URI: mongoUri,
    MONGODB_DATABASE: z.preprocess(emptyAsUndefined, z.string().default('sigillo')),
    MONGODB_CONNECT_RETRIES: z.preprocess(emptyAsUndefined, integer(0, 100).default(5)),
    S3_ENDPOINT: httpUrl,
    S3_REGION: z.preprocess(emptyAsUndefined, z.string().default('us-east-1')),
    S3_BUCKET: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
        .default('sigillo'),
    ),
    S3_ACCESS_KEY_ID: optionalString,
    S3_SECRET_ACCESS_KEY: optionalString,
    S3_FORCE_PATH_STYLE: booleanFlag,
    BODY_LIMIT: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^\d+(b|kb|mb)$/i, 'must be a size such as 100kb or 1mb')
        .default('1mb'),
    ),
    RENDER_THREADS: z.preprocess(emptyAsUndefined, integer(0, 64).default(availableParallelism())),
    SHUTDOWN_TIMEOUT_MS: z.preprocess(emptyAsUndefined, integer(0, 600_000).default(10_000)),
    JOBS_IN_PROCESS: booleanFlag,
    JOBS_LOCK_LIFETIME_MS: z.preprocess(
      emptyAsUndefined,
      integer(1000, 3_600_000).default(120_000),
    ),
    JOBS_POLL_MS: z.preprocess(emptyAsUndefined, integer(100, 600_000).default(2000)),
    JOBS_CONCURRENCY: z.preprocess(emptyAsUndefined, integer(1, 64).default(2)),
    SIGNING_KEYS_FILE: optionalString,
    TRUST_ANCHORS_FILE: optionalString,
    TSA_URL: httpUrl,
    TSA_TIMEOUT_MS: z.preprocess(emptyAsUndefined, integer(100, 120_000).default(10_000)),
    SEAL_KEY_ID: z.preprocess(emptyAsUndefined, z.string().min(1).default('ente-seal')),
    SIGNED_UPLOAD_LIMIT_MB: z.preprocess(emptyAsUndefined, integer(1, 200).default(25)),
    SMTP_URL: smtpUrl,
    SMTP_FROM: z.preprocess(emptyAsUndefined, emailAddress.optional()),
    SMTP_TLS_REJECT_UNAUTHORIZED: booleanFlag,
    GARANTE_PEC: z.preprocess(emptyAsUndefined, emailAddress.default('protocollo@pec.gpdp.it')),
    SIGILLO_DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default('var')),
    BOOTSTRAP_ORGANISATION_NAME: z.preprocess(
      emptyAsUndefined,
      z.string().min(2).default('Ente di prova'),
    ),
  })
  .superRefine((value, context) => {
    if (value.SIGNING_KEYS_FILE && !value.TRUST_ANCHORS_FILE) {
      context.addIssue({
        code: 'custom',
        path: ['TRUST_ANCHORS_FILE'],
        message: 'is required when SIGNING_KEYS_FILE is set (PEM bundle of the trusted CAs)',
      });
    }
    const keys = [value.S3_ACCESS_KEY_ID, value.S3_SECRET_ACCESS_KEY];
    if (value.S3_ENDPOINT && keys.some((key) => key === undefined)) {
      context.addIssue({
        code: 'custom',
        path: [value.S3_ACCESS_KEY_ID === undefined ? 'S3_ACCESS_KEY_ID' : 'S3_SECRET_ACCESS_KEY'],
        message: 'is required when S3_ENDPOINT is set',
      });
    }
    if (value.SMTP_URL && !value.SMTP_FROM) {
      context.addIssue({
        code: 'custom',
        path: ['SMTP_FROM'],
        message: "is required when SMTP_URL is set (the ente's PEC mailbox)",
      });
    }
  });

export type Config = z.infer<typeof configSchema> & { dataDir: string };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Variables whose values are never printed: secrets, or URLs with credentials inside. */
const SECRET_VARIABLE = /SECRET|PASSWORD|^SMTP_URL$/;

/** Parses `env`; throws a ConfigError whose message is one line naming the first bad variable. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    const variable = issue?.path.join('.') ?? 'configuration';
    const shown = SECRET_VARIABLE.test(variable)
      ? '(hidden)'
      : JSON.stringify(env[variable] ?? null);
    throw new ConfigError(
      `Invalid configuration: ${variable} ${issue?.message ?? 'is invalid'} (got ${shown})`,
    );
  }
  return { ...result.data, dataDir: path.resolve(result.data.SIGILLO_DATA_DIR) };
}

/** Loads `.env` (never overriding the real environment) and parses the configuration. */
export function loadConfig(): Config {
  loadDotenv({ quiet: true });
  return parseConfig(process.env);
}
