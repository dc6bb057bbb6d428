import type { ToObjectOptions } from 'mongoose';

/**
 * How records appear in API responses: `id` instead of `_id`, no version key,
 * internal fields hidden, fields kept as JSON text (for FerretDB) parsed back.
 */
export function jsonView(options: { hidden?: string[]; parsed?: string[] } = {}): ToObjectOptions {
  return {
    virtuals: true,
    versionKey: false,
    transform: (_document: unknown, returned: Record<string, unknown>) => {
      delete returned._id;
      for (const field of options.hidden ?? []) delete returned[field];
      for (const field of options.parsed ?? []) {
        const value = returned[field];
        if (typeof value === 'string') returned[field] = JSON.parse(value) as unknown;
      }
      return returned;
    },
  };
}
