import { expect } from 'chai';
import {
  genderFromCodiceFiscale,
  isValidCodiceFiscale,
  isValidPartitaIva,
} from '../../server/people/italian-codes.js';
import { altered, codiceFiscale, partitaIva } from '../support/registry.js';

describe('Italian codes', () => {
  describe('codice fiscale of a person', () => {
    it('accepts codes computed by codice-fiscale-js and well-known valid ones', () => {
      const mario = codiceFiscale({
        firstName: 'Mario',
        lastName: 'Rossi',
        gender: 'M',
        born: '1980-01-01',
      });
      expect(mario).to.equal('RSSMRA80A01A944I');
      const laura = codiceFiscale({
        firstName: 'Laura',
        lastName: 'Bianchi',
        gender: 'F',
        born: '1975-06-15',
        place: 'Calderara di Reno',
      });
      for (const code of [mario, laura, 'MRTMTT25D09F205Z', 'RSSMRA85T10A562S']) {
        expect(isValidCodiceFiscale(code), code).to.equal(true);
      }
      expect(isValidCodiceFiscale(' rssmra80a01a944i '), 'case and spaces do not matter').to.equal(
        true,
      );
    });

    it('accepts omocodie, whose digits are replaced by letters', () => {
      const omocodia = 'BNCLRAT5H55B399Z';
      expect(isValidCodiceFiscale(omocodia)).to.equal(true);
      expect(genderFromCodiceFiscale(omocodia)).to.equal('F');
    });

    it('rejects altered codes, wrong lengths and impossible days', () => {
      for (const position of [0, 3, 6, 9, 12, 15]) {
        const code = altered('RSSMRA80A01A944I', position);
        expect(isValidCodiceFiscale(code), code).to.equal(false);
      }
      expect(isValidCodiceFiscale('RSSMRA80A01A944')).to.equal(false);
      expect(isValidCodiceFiscale('')).to.equal(false);
      // Day 35 does not exist for either sex; the check letter alone would not notice.
      expect(isValidCodiceFiscale('RSSMRA80A35A944Y')).to.equal(false);
    });

    it('tells the sex from the day of birth', () => {
      expect(genderFromCodiceFiscale('RSSMRA80A01A944I')).to.equal('M');
      expect(genderFromCodiceFiscale('BNCLRA75H55B399C')).to.equal('F');
    });
  });

  describe('partita IVA and numeric codice fiscale', () => {
    it('accepts known valid numbers and computed ones', () => {
      for (const number of ['00488410010', '01232710374', '02438750586', '91034080878']) {
        expect(isValidPartitaIva(number), number).to.equal(true);
      }
      for (const firstTen of ['0123456789', '1234567890', '9876543210', '0000000001']) {
        expect(isValidPartitaIva(partitaIva(firstTen)), firstTen).to.equal(true);
      }
    });

    it('rejects altered numbers, wrong lengths, letters and all zeros', () => {
      for (let position = 0; position < 11; position += 1) {
        const number = altered('00488410010', position);
        expect(isValidPartitaIva(number), number).to.equal(false);
      }
      // As printed in the Calvatone privacy policy: one digit short.
      expect(isValidPartitaIva('0129750195')).to.equal(false);
      expect(isValidPartitaIva('004884100100')).to.equal(false);
      expect(isValidPartitaIva('0048841001A')).to.equal(false);
      expect(isValidPartitaIva('00000000000')).to.equal(false);
    });
  });
});
