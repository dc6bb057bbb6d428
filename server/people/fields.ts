/**
 * Request fields shared by the ente's registries (profile, settori, people,
 * suppliers), and the problems they answer with. Each field schema reports at
 * most one reason, so that a list of invalid fields reads one line per field.
 */
import { z } from 'zod';
import { HttpProblem, type InvalidParam } from '../platform/http-problem.js';
import { searchable } from '../regulations/service.js';
import { isValidCodiceFiscale, isValidPartitaIva, provinceSigle } from './italian-codes.js';

export { searchable };

export const shortText = (max: number, missing = 'campo obbligatorio') =>
  z.string().trim().min(1, missing).max(max, `al massimo ${max} caratteri`);

/** Digits only: "00488410010" is valid, "0048841001" and "00488410011" are not. */
export const vatNumberSchema = z
  .string()
  .trim()
  .superRefine((value, context) => {
    if (!/^\d{11}$/.test(value)) {
      context.addIssue({ code: 'custom', message: 'la partita IVA ha 11 cifre' });
    } else if (!isValidPartitaIva(value)) {
      context.addIssue({ code: 'custom', message: 'partita IVA non valida (cifra di controllo)' });
    }
  })
  .openapi({ example: '00488410010', description: 'Partita IVA: 11 cifre' });

/** The codice fiscale of a body: 11 digits with the partita IVA's check digit. */
export const bodyTaxCodeSchema = z
  .string()
  .trim()
  .superRefine((value, context) => {
    if (!/^\d{11}$/.test(value)) {
      context.addIssue({ code: 'custom', message: "il codice fiscale dell'ente ha 11 cifre" });
    } else if (!isValidPartitaIva(value)) {
      context.addIssue({
        code: 'custom',
        message: 'codice fiscale non valido (cifra di controllo)',
      });
    }
  })
  .openapi({ example: '01232710374', description: "Codice fiscale numerico dell'ente" });

/** A person's codice fiscale, stored upper case. */
export const personTaxCodeSchema = z
  .string()
  .trim()
  .toUpperCase()
  .superRefine((value, context) => {
    if (!/^[A-Z0-9]{16}$/.test(value)) {
      context.addIssue({ code: 'custom', message: 'il codice fiscale ha 16 caratteri' });
    } else if (!isValidCodiceFiscale(value)) {
      context.addIssue({ code: 'custom', message: 'codice fiscale non valido' });
    }
  })
  .openapi({ example: 'RSSMRA80A01A944I', description: 'Codice fiscale (16 caratteri)' });

/** Firms have a numeric codice fiscale; a sole trader's is the owner's personal one. */
export const firmTaxCodeSchema = z
  .string()
  .trim()
  .toUpperCase()
  .superRefine((value, context) => {
    if (/^\d{11}$/.test(value)) {
      if (!isValidPartitaIva(value)) {
        context.addIssue({
          code: 'custom',
          message: 'codice fiscale non valido (cifra di controllo)',
        });
      }
    } else if (!/^[A-Z0-9]{16}$/.test(value)) {
      context.addIssue({ code: 'custom', message: 'il codice fiscale ha 11 cifre o 16 caratteri' });
    } else if (!isValidCodiceFiscale(value)) {
      context.addIssue({ code: 'custom', message: 'codice fiscale non valido' });
    }
  })
  .openapi({ description: 'Codice fiscale: 11 cifre, o 16 caratteri per le ditte individuali' });

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(320, 'al massimo 320 caratteri')
  .pipe(z.email('indirizzo e-mail non valido'))
  .openapi({ format: 'email' });

/** A PEC is an ordinary address on a certified provider's domain: only its syntax can be checked. */
export const pecSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(320, 'al massimo 320 caratteri')
  .pipe(z.email('indirizzo PEC non valido'))
  .openapi({ format: 'email', example: 'protocollo@pec.comune.example.it' });

export const phoneSchema = z
  .string()
  .trim()
  .regex(/^\+?[0-9][0-9 ./-]{4,19}$/, 'numero di telefono non valido')
  .openapi({ example: '051 123456' });

export const capSchema = z
  .string()
  .trim()
  .regex(/^\d{5}$/, 'il CAP ha 5 cifre')
  .openapi({ example: '40012' });

export const provinceSchema = z
  .string()
  .trim()
  .toUpperCase()
  .refine((value) => provinceSigle.has(value), 'sigla di provincia inesistente (es. BO, MI)')
  .openapi({ example: 'BO', description: 'Sigla della provincia' });

export const isoDateSchema = z.iso
  .date('data non valida: usare AAAA-MM-GG')
  .openapi({ example: '2024-06-10' });

export const addressSchema = z
  .object({
    street: shortText(200, 'indicare via e numero civico'),
    cap: capSchema,
    city: shortText(100, 'indicare il comune'),
    province: provinceSchema,
  })
  .strict()
  .openapi('Address');

export const storedAddressSchema = z.object({
  street: z.string(),
  cap: z.string(),
  city: z.string(),
  province: z.string(),
});

export const paginationQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
};

export const includeArchivedQuery = z
  .enum(['true', 'false'])
  .default('false')
  .openapi({ description: 'Includere i record archiviati' });

/** `name` ascending, `-name` descending. */
export function sortQuery(fields: readonly string[], fallback: string) {
  const values = fields.flatMap((field) => [field, `-${field}`]);
  return z
    .enum(values as [string, ...string[]], `ordinamenti possibili: ${values.join(', ')}`)
    .default(fallback);
}

/** A mongo sort from `-field`, with the id as tie-breaker so that pages do not overlap. */
export function sortSpec(sort: string, storedAs: Record<string, string> = {}) {
  const descending = sort.startsWith('-');
  const field = descending ? sort.slice(1) : sort;
  const direction = descending ? -1 : 1;
  return { [storedAs[field] ?? field]: direction, _id: direction } as Record<string, 1 | -1>;
}

export const totalCountDescription =
  'Il totale dei record trovati è nell’intestazione X-Total-Count';

/** A field points to a record that does not exist in the ente (or may not be used). */
export function referenceProblem(invalidParams: InvalidParam[]): HttpProblem {
  return new HttpProblem(
    422,
    'Riferimento non valido',
    `Campi che rimandano a record inesistenti o non utilizzabili: ${invalidParams
      .map((param) => param.name)
      .join(', ')}`,
    { invalidParams },
  );
}

export interface Reference {
  kind: 'settore' | 'person' | 'organisation' | 'appointment';
  id: string;
  description: string;
}

/** A record other records still point to: it can be neither deleted nor archived. */
export function inUseProblem(subject: string, references: Reference[]): HttpProblem {
  return HttpProblem.conflict(
    `${subject} è ancora in uso: ${references.map((reference) => reference.description).join('; ')}`,
    { references },
  );
}

export function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: number }).code === 11000;
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every word must appear in the stored search text (lower case, without accents). */
export function wordsFilter(field: string, query: string | undefined) {
  const words = query ? searchable(query).split(' ').filter(Boolean) : [];
  return words.length > 0
    ? { $and: words.map((word) => ({ [field]: { $regex: escapeRegex(word) } })) }
    : {};
}
