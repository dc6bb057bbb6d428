import { expect } from 'chai';
import { riskLevel } from '../../server/dpia/model.js';

describe('DPIA risk levels (likelihood × severity, CNIL scales 1–4)', () => {
  // Rows: likelihood 1–4; columns: severity 1–4.
  const expected = [
    ['basso', 'basso', 'moderato', 'moderato'],
    ['basso', 'moderato', 'rilevante', 'rilevante'],
    ['moderato', 'rilevante', 'elevato', 'elevato'],
    ['moderato', 'rilevante', 'elevato', 'elevato'],
  ];
  for (let likelihood = 1; likelihood <= 4; likelihood += 1) {
    for (let severity = 1; severity <= 4; severity += 1) {
      const level = expected[likelihood - 1]?.[severity - 1];
      it(`${likelihood} × ${severity} → ${level}`, () => {
        expect(riskLevel(likelihood, severity)).to.equal(level);
      });
    }
  }
});
