import { readFileSync } from 'node:fs';

/** The reference decreto's own example input, as shipped in its schema. */
export function nominaDesignatoExample(): Record<string, unknown> {
  const schema = JSON.parse(
    readFileSync(new URL('../../templates/nomina-designato/schema.json', import.meta.url), 'utf8'),
  ) as { examples: Record<string, unknown>[] };
  return structuredClone(schema.examples[0]!);
}
