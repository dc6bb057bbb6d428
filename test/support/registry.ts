/**
 * Helpers for the tests of the ente's registries: tokens with given roles,
 * valid Italian codes and ready-made people.
 */
import type { Role } from '../../server/platform/auth.js';
import { CodiceFiscale, partitaIvaCheckDigit } from '../../server/people/italian-codes.js';
import { call } from './http.js';

let users = 0;

/** A token of a new user of the tenant holding exactly these roles. */
export async function tokenWithRoles(adminToken: string, roles: Role[]): Promise<string> {
  users += 1;
  const user = await call<{ id: string }>('POST', '/api/v1/admin/users', {
    token: adminToken,
    json: { name: `Utente ${roles.join(' ')}`, email: `utente${users}@ente.example`, roles },
  });
  if (user.status !== 201) throw new Error(`user not created: ${JSON.stringify(user.body)}`);
  const issued = await call<{ token: string }>(
    'POST',
    `/api/v1/admin/users/${user.body.id}/tokens`,
    {
      token: adminToken,
      json: { label: 'test' },
    },
  );
  return issued.body.token;
}

/** A valid partita IVA from any ten digits, by the check-digit algorithm. */
export function partitaIva(firstTen: string): string {
  return firstTen + String(partitaIvaCheckDigit(firstTen));
}

/** The same code with one character changed, so that its check fails. */
export function altered(code: string, position = 5): string {
  const character = code[position]!;
  const replacement = /\d/.test(character)
    ? String((Number(character) + 1) % 10)
    : character === 'Z'
      ? 'A'
      : String.fromCharCode(character.charCodeAt(0) + 1);
  return code.slice(0, position) + replacement + code.slice(position + 1);
}

export function codiceFiscale(person: {
  firstName: string;
  lastName: string;
  gender: 'M' | 'F';
  born: string;
  place?: string;
  province?: string;
}): string {
  const [year, month, day] = person.born.split('-').map(Number);
  return CodiceFiscale.compute({
    name: person.firstName,
    surname: person.lastName,
    gender: person.gender,
    day,
    month,
    year,
    birthplace: person.place ?? 'Bologna',
    birthplaceProvincia: person.province ?? 'BO',
  });
}

let births = 0;

/** A person's body for POST /api/v1/people, with a valid codice fiscale unique in the run. */
export function personBody(
  firstName: string,
  lastName: string,
  extra: Record<string, unknown> = {},
  gender: 'M' | 'F' = 'M',
) {
  births += 1;
  // A different day of birth per call keeps codici fiscali distinct.
  const day = (births % 28) + 1;
  const month = (Math.floor(births / 28) % 12) + 1;
  const born = `1970-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return {
    firstName,
    lastName,
    gender,
    taxCode: codiceFiscale({ firstName, lastName, gender, born }),
    ...extra,
  };
}

export async function createPerson(
  token: string,
  firstName: string,
  lastName: string,
  extra: Record<string, unknown> = {},
  gender: 'M' | 'F' = 'M',
) {
  const response = await call<{ id: string; taxCode: string }>('POST', '/api/v1/people', {
    token,
    json: personBody(firstName, lastName, extra, gender),
  });
  if (response.status !== 201) {
    throw new Error(`person not created: ${JSON.stringify(response.body)}`);
  }
  return response.body;
}
