import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Types } from 'mongoose';
import { z } from 'zod';
import { HttpProblem, type InvalidParam } from '../platform/http-problem.js';
import type { Logger } from '../platform/logger.js';
import { currentTenant } from '../platform/tenancy.js';
import {
  documentTypes,
  TemplateVersion,
  type DocumentType,
  type TemplateVersionDocument,
} from './model.js';

export const templateKeySchema = z
  .string()
  .regex(
    /^[a-z0-9]+(-[a-z0-9]+)*$/,
    'solo lettere minuscole, cifre e trattini (es. nomina-designato)',
  )
  .max(80);

/** What a template file set or an upload declares besides its source and schema. */
export const templateSettingsSchema = z
  .object({
    key: templateKeySchema,
    title: z.string().trim().min(3, 'indicare il titolo italiano del modello').max(200),
    documentType: z.enum(documentTypes),
    register: z
      .string()
      .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'chiave di registro non valida')
      .nullable()
      .default(null),
  })
  .strict();
export type TemplateSettings = z.infer<typeof templateSettingsSchema>;

const ajv = new Ajv2020({ allErrors: true, strict: false, useDefaults: false });
addFormats.default(ajv);

const validators = new Map<string, ValidateFunction>();

export class InputSchemaError extends Error {
  override name = 'InputSchemaError';
}

/** Compiles a JSON Schema, refusing one Ajv cannot compile. */
export function compileInputSchema(schema: unknown): ValidateFunction {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new InputSchemaError('lo schema di input deve essere un oggetto JSON Schema');
  }
  try {
    return ajv.compile(schema);
  } catch (error) {
    throw new InputSchemaError(`schema di input non valido: ${(error as Error).message}`);
  }
}

function describeAjvError(error: ErrorObject): InvalidParam {
  const base = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  switch (error.keyword) {
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      return { name: ['data', ...base, missing].join('.'), reason: 'campo obbligatorio mancante' };
    }
    case 'additionalProperties': {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      return { name: ['data', ...base, extra].join('.'), reason: 'campo non previsto dal modello' };
    }
    default:
      return { name: ['data', ...base].join('.'), reason: error.message ?? 'valore non valido' };
  }
}

/** Checks input data against a template version's schema; 422 lists every bad field. */
export function validateTemplateInput(template: TemplateVersionDocument, data: unknown): void {
  const cacheKey = template.contentHash;
  let validate = validators.get(cacheKey);
  if (!validate) {
    validate = compileInputSchema(JSON.parse(template.inputSchema) as unknown);
    validators.set(cacheKey, validate);
  }
  if (validate(data)) return;
  const invalidParams = (validate.errors ?? []).map(describeAjvError);
  throw new HttpProblem(
    422,
    'Dati non conformi al modello',
    `Dati mancanti o errati per il modello ${template.key}: ${invalidParams.map((param) => param.name).join(', ')}`,
    { invalidParams },
  );
}

export function contentHashOf(
  settings: TemplateSettings,
  source: string,
  inputSchema: unknown,
): string {
  return createHash('sha256')
    .update(
      JSON.stringify({
        settings: { ...settings },
        source,
        inputSchema,
      }),
    )
    .digest('hex');
}

function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: number }).code === 11000;
}

/**
 * Saves a new version unless the latest one of the same owner has the same
 * content. Version numbers come from the unique index: a concurrent save of the
 * same key retries with the next number.
 */
export async function saveTemplateVersion(input: {
  settings: TemplateSettings;
  source: string;
  inputSchema: unknown;
  origin: 'file' | 'upload';
  createdBy?: Types.ObjectId;
  /** null for shipped templates (written outside any tenant). */
  organisationId: Types.ObjectId | null;
}): Promise<{ template: TemplateVersionDocument; created: boolean }> {
  compileInputSchema(input.inputSchema);
  const contentHash = contentHashOf(input.settings, input.source, input.inputSchema);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const latest = await TemplateVersion.findOne({
      organisationId: input.organisationId,
      key: input.settings.key,
    })
      .sort({ version: -1 })
      .setOptions({ crossTenant: true });
    if (latest?.contentHash === contentHash) return { template: latest, created: false };
    try {
      const template = await TemplateVersion.create({
        organisationId: input.organisationId,
        ...input.settings,
        version: (latest?.version ?? 0) + 1,
        source: input.source,
        inputSchema: JSON.stringify(input.inputSchema),
        contentHash,
        origin: input.origin,
        createdBy: input.createdBy ?? null,
      });
      return { template, created: true };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }
  throw HttpProblem.conflict(`Salvataggi concorrenti del modello ${input.settings.key}: riprovare`);
}

/**
 * The version a tenant gets for a key: its own upload if it has one, else the
 * shipped template; the latest unless a version is asked for.
 */
/** Template versions never change once saved, so a version read once is kept. */
const versionCache = new Map<string, TemplateVersionDocument>();
const versionCacheSize = 256;

async function templateVersionById(id: Types.ObjectId): Promise<TemplateVersionDocument | null> {
  const cached = versionCache.get(id.toString());
  if (cached) return cached;
  const found = await TemplateVersion.findById(id);
  if (found) {
    if (versionCache.size >= versionCacheSize) {
      const oldest = versionCache.keys().next();
      if (!oldest.done) versionCache.delete(oldest.value);
    }
    versionCache.set(id.toString(), found);
  }
  return found;
}

/**
 * The version a tenant gets for a key: its own upload if it has one, else the
 * shipped template; the latest unless a version is asked for.
 */
export async function findTemplate(key: string, version?: number) {
  const tenant = currentTenant();
  // Only identities are read here; the sources come from the cache.
  const candidates = await TemplateVersion.find(
    { key, ...(version === undefined ? {} : { version }) },
    { _id: 1, organisationId: 1, version: 1 },
  )
    .sort({ version: -1 })
    .lean();
  const own = candidates.find((candidate) => tenant && candidate.organisationId?.equals(tenant));
  const chosen = own ?? candidates.find((candidate) => candidate.organisationId === null);
  const found = chosen ? await templateVersionById(chosen._id) : null;
  if (!found) {
    throw HttpProblem.notFound(
      version === undefined
        ? `Modello ${key} non trovato`
        : `Versione ${version} del modello ${key} non trovata`,
    );
  }
  return found;
}

export async function listTemplateVersions(key: string) {
  const versions = await TemplateVersion.find({ key }).sort({ organisationId: -1, version: -1 });
  if (versions.length === 0) throw HttpProblem.notFound(`Modello ${key} non trovato`);
  return versions;
}

/** The latest visible version of each key (the ente's own ones first). */
export async function listTemplates() {
  const all = await TemplateVersion.find().sort({ key: 1, version: -1 });
  const chosen = new Map<string, TemplateVersionDocument>();
  for (const version of all) {
    const current = chosen.get(version.key);
    const isOwn = version.organisationId !== null;
    if (!current || (isOwn && current.organisationId === null)) chosen.set(version.key, version);
  }
  return [...chosen.values()];
}

/**
 * Loads the shipped templates: each folder under `templates/` with
 * `template.njk`, `schema.json` and `template.json`. A changed folder gives a
 * new version; an unchanged one, nothing.
 */
export async function loadShippedTemplates(
  directory: string,
  logger: Logger,
): Promise<{ created: string[]; unchanged: string[] }> {
  const created: string[] = [];
  const unchanged: string[] = [];
  const entries = await readdir(directory, { withFileTypes: true });
  for (const entry of entries
    .filter((item) => item.isDirectory())
    .sort((a, b) => a.name.localeCompare(b.name))) {
    const folder = path.join(directory, entry.name);
    const read = (file: string) => readFile(path.join(folder, file), 'utf8');
    const settings = templateSettingsSchema.parse({
      key: entry.name,
      ...(JSON.parse(await read('template.json')) as object),
    });
    const inputSchema = JSON.parse(await read('schema.json')) as unknown;
    const source = await read('template.njk');
    const { template, created: isNew } = await saveTemplateVersion({
      settings,
      source,
      inputSchema,
      origin: 'file',
      organisationId: null,
    });
    (isNew ? created : unchanged).push(`${template.key}@${template.version}`);
  }
  logger.info({ created, unchanged }, 'shipped templates loaded');
  return { created, unchanged };
}

export type { DocumentType };

/**
 * The input schemas of the shipped templates, for the OpenAPI document
 * (`components.schemas["TemplateInput.<key>"]`). Each gets an `$id` so that
 * its internal `$ref`s resolve inside it.
 */
export async function shippedTemplateInputSchemas(): Promise<Record<string, unknown>> {
  const shipped = await TemplateVersion.find({ organisationId: null })
    .sort({ key: 1, version: -1 })
    .setOptions({ crossTenant: true });
  const schemas: Record<string, unknown> = {};
  for (const template of shipped) {
    const name = `TemplateInput.${template.key}`;
    if (name in schemas) continue;
    const { $schema: _dialect, ...schema } = JSON.parse(template.inputSchema) as Record<
      string,
      unknown
    >;
    schemas[name] = {
      ...schema,
      $id: `urn:sigillo:template:${template.key}:${template.version}`,
      description: `${template.title} (modello ${template.key}, versione ${template.version})`,
    };
  }
  return schemas;
}
