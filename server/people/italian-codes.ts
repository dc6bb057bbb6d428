/**
 * Italian identification codes: the codice fiscale of a person (16 characters,
 * checked by codice-fiscale-js), the numeric codice fiscale of a body or firm and
 * the partita IVA (11 digits, both with the same check digit).
 */
import codiceFiscaleModule from 'codice-fiscale-js';

type CodiceFiscaleClass = (typeof codiceFiscaleModule)['default'];

/**
 * The package's types declare a default export, but its CommonJS bundle sets
 * `module.exports = { CodiceFiscale }`, so the class is read from either shape.
 */
export const CodiceFiscale: CodiceFiscaleClass =
  (codiceFiscaleModule as unknown as { CodiceFiscale?: CodiceFiscaleClass }).CodiceFiscale ??
  codiceFiscaleModule.default;

/** Omocodia replaces digits with these letters, in this order, from 0 to 9. */
const omocodiaLetters = 'LMNPQRSTUV';

function omocodiaDigits(text: string): number {
  return Number(
    [...text]
      .map((character) => {
        const index = omocodiaLetters.indexOf(character);
        return index >= 0 ? String(index) : character;
      })
      .join(''),
  );
}

export function normaliseCodiceFiscale(value: string): string {
  return value.replace(/\s+/g, '').toUpperCase();
}

/** A person's 16-character codice fiscale: shape, day of birth and check character. */
export function isValidCodiceFiscale(value: string): boolean {
  const code = normaliseCodiceFiscale(value);
  if (!CodiceFiscale.check(code)) return false;
  // The library checks characters and the check letter, not that the day can exist.
  const day = omocodiaDigits(code.slice(9, 11));
  return (day >= 1 && day <= 31) || (day >= 41 && day <= 71);
}

/** Women's codes add 40 to the day of birth. */
export function genderFromCodiceFiscale(value: string): 'M' | 'F' {
  return omocodiaDigits(normaliseCodiceFiscale(value).slice(9, 11)) > 40 ? 'F' : 'M';
}

/** The check digit of an 11-digit partita IVA or numeric codice fiscale, from its first ten. */
export function partitaIvaCheckDigit(firstTen: string): number {
  let sum = 0;
  for (let index = 0; index < 10; index += 1) {
    const digit = Number(firstTen[index]);
    if (index % 2 === 0) sum += digit;
    else sum += digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
  }
  return (10 - (sum % 10)) % 10;
}

/** Also valid for the numeric codice fiscale of a body, association or firm. */
export function isValidPartitaIva(value: string): boolean {
  if (!/^\d{11}$/.test(value) || /^0+$/.test(value)) return false;
  return partitaIvaCheckDigit(value.slice(0, 10)) === Number(value[10]);
}

/** Sigle of the Italian provinces and metropolitan cities, including the Sardinian ones of 2025. */
export const provinceSigle: ReadonlySet<string> = new Set([
  ...['AG', 'AL', 'AN', 'AO', 'AP', 'AQ', 'AR', 'AT', 'AV', 'BA', 'BG', 'BI', 'BL', 'BN', 'BO'],
  ...['BR', 'BS', 'BT', 'BZ', 'CA', 'CB', 'CE', 'CH', 'CI', 'CL', 'CN', 'CO', 'CR', 'CS', 'CT'],
  ...['CZ', 'EN', 'FC', 'FE', 'FG', 'FI', 'FM', 'FR', 'GE', 'GO', 'GR', 'IM', 'IS', 'KR', 'LC'],
  ...['LE', 'LI', 'LO', 'LT', 'LU', 'MB', 'MC', 'ME', 'MI', 'MN', 'MO', 'MS', 'MT', 'NA', 'NO'],
  ...['NU', 'OG', 'OR', 'OT', 'PA', 'PC', 'PD', 'PE', 'PG', 'PI', 'PN', 'PO', 'PR', 'PT', 'PU'],
  ...['PV', 'PZ', 'RA', 'RC', 'RE', 'RG', 'RI', 'RM', 'RN', 'RO', 'SA', 'SI', 'SO', 'SP', 'SR'],
  ...['SS', 'SU', 'SV', 'TA', 'TE', 'TN', 'TO', 'TP', 'TR', 'TS', 'TV', 'UD', 'VA', 'VB', 'VC'],
  ...['VE', 'VI', 'VR', 'VS', 'VT', 'VV'],
]);
