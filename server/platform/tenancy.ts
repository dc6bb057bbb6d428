/**
 * Tenancy by construction: a tenant-owned model gets the `tenantScoped` plugin,
 * and every query, aggregate and save on it is restricted to the organisation of
 * the request being served (kept in AsyncLocalStorage by the auth middleware).
 * A tenant-owned query outside any tenant context is a programming error and
 * throws, unless it says `{ crossTenant: true }` explicitly (token look-up, bootstrap).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import mongoose, { type Query, type Schema, type Types } from 'mongoose';

interface TenantContext {
  organisationId: Types.ObjectId;
}

const tenantStorage = new AsyncLocalStorage<TenantContext>();

export function runInTenant<T>(organisationId: Types.ObjectId, work: () => T): T {
  return tenantStorage.run({ organisationId }, work);
}

export function currentTenant(): Types.ObjectId | undefined {
  return tenantStorage.getStore()?.organisationId;
}

export class TenancyError extends Error {
  override name = 'TenancyError';
}

const scopedQueryOperations: RegExp = new RegExp(
  `^(${[
    'countDocuments',
    'deleteMany',
    'deleteOne',
    'distinct',
    'find',
    'findOne',
    'findOneAndDelete',
    'findOneAndReplace',
    'findOneAndUpdate',
    'replaceOne',
    'updateMany',
    'updateOne',
  ].join('|')})$`,
);

/** Spread into a tenant-owned schema's definition, next to `schema.plugin(tenantScoped)`. */
export const tenantOwnership = {
  organisationId: {
    type: mongoose.Schema.Types.ObjectId,
    ref: 'Organisation',
    required: true,
    immutable: true,
    index: true,
  },
} as const;

/**
 * For collections that also hold records shared by every tenant (shipped templates,
 * the GDPR catalogue): those have `organisationId: null`.
 */
export const sharedOrTenantOwnership = {
  organisationId: {
    type: mongoose.Schema.Types.ObjectId,
    ref: 'Organisation',
    default: null,
    immutable: true,
    index: true,
  },
} as const;

const readOperations = new Set(['countDocuments', 'distinct', 'find', 'findOne']);
const idReads = new Set(['find', 'findOne']);
const idWrites = new Set([
  'deleteOne',
  'findOneAndDelete',
  'findOneAndReplace',
  'findOneAndUpdate',
  'replaceOne',
  'updateOne',
]);

/**
 * The id of a filter that is `{ _id: <value> }` and nothing else. FerretDB v1
 * looks such a filter up by key, but scans the whole collection, decoding every
 * document, as soon as the filter has a second field; so a look-up by id is not
 * narrowed with the tenant in the filter: reads check the tenant of what they
 * found, writes check the owner first (a cheap look-up by key) and fall back to
 * the tenant filter, which then matches nothing, when it is not the caller's.
 */
function idOnly(filter: Record<string, unknown>): unknown {
  const keys = Object.keys(filter);
  if (keys.length !== 1 || keys[0] !== '_id') return undefined;
  const id = filter._id;
  if (id === null || id === undefined) return undefined;
  if (typeof id === 'string' || id instanceof mongoose.Types.ObjectId) return id;
  return undefined;
}

function ownedBy(document: unknown, tenant: Types.ObjectId, shared: boolean): boolean {
  const owner = (document as { organisationId?: Types.ObjectId | null } | null)?.organisationId;
  if (owner === null || owner === undefined) return shared;
  return tenant.equals(owner);
}

function keepTenant(result: unknown, tenant: Types.ObjectId, shared: boolean): unknown {
  if (Array.isArray(result)) return result.filter((document) => ownedBy(document, tenant, shared));
  if (result === null || result === undefined) return result;
  return ownedBy(result, tenant, shared) ? result : null;
}

export interface TenantScopeOptions {
  /**
   * Reads also see the shared records (`organisationId: null`); writes still reach
   * only the tenant's own. Shared records are written outside any tenant context.
   */
  shared?: boolean;
}

export function tenantScoped(schema: Schema, options: TenantScopeOptions = {}): void {
  if (!schema.path('organisationId')) {
    throw new TenancyError(
      'a tenant-scoped schema must spread tenantOwnership into its definition',
    );
  }

  schema.pre<Query<unknown, unknown>>(
    scopedQueryOperations,
    { document: false, query: true },
    async function scopeQuery() {
      if ((this.getOptions() as { crossTenant?: boolean }).crossTenant) return;
      const tenant = currentTenant();
      if (!tenant) {
        throw new TenancyError(`tenant-scoped ${this.model.modelName} query outside a tenant`);
      }
      const op = (this as unknown as { op?: string }).op ?? '';
      const shared = options.shared === true;
      const id = idOnly(this.getFilter());
      if (id !== undefined && idReads.has(op)) {
        // Looked up by key, then kept only if it is the tenant's (see idOnly).
        const projection = this.projection() as Record<string, unknown> | undefined;
        if (
          projection &&
          Object.values(projection).some((value) => value === 1 || value === true)
        ) {
          this.select({ organisationId: 1 });
        }
        this.transform((result: unknown) => keepTenant(result, tenant, shared));
        return;
      }
      if (
        id !== undefined &&
        idWrites.has(op) &&
        !(this.getOptions() as { upsert?: boolean }).upsert
      ) {
        const owner = await this.model
          .findOne({ _id: id }, { organisationId: 1 })
          .setOptions({ crossTenant: true })
          .lean<{ organisationId?: Types.ObjectId | null }>();
        if (owner?.organisationId && tenant.equals(owner.organisationId)) return;
      }
      if (shared && readOperations.has(op)) {
        this.where({ organisationId: { $in: [tenant, null] } });
      } else this.where({ organisationId: tenant });
    },
  );

  schema.pre('aggregate', function scopeAggregate() {
    if ((this.options as { crossTenant?: boolean }).crossTenant) return;
    const tenant = currentTenant();
    if (!tenant) throw new TenancyError('tenant-scoped aggregate outside a tenant');
    this.pipeline().unshift({
      $match: { organisationId: options.shared ? { $in: [tenant, null] } : tenant },
    });
  });

  schema.pre('validate', function assignTenant() {
    const tenant = currentTenant();
    const own = this.get('organisationId') as Types.ObjectId | undefined;
    if (!own && tenant) this.set('organisationId', tenant);
    else if (own && tenant && !own.equals(tenant)) {
      throw new TenancyError('a document cannot be written into another tenant');
    }
  });

  schema.pre('insertMany', function assignTenantToMany(documents: unknown) {
    const tenant = currentTenant();
    const list = (Array.isArray(documents) ? documents : [documents]) as Record<string, unknown>[];
    for (const document of list) {
      if (tenant && document.organisationId === undefined) document.organisationId = tenant;
    }
  });
}
