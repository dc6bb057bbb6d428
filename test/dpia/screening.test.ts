import { expect } from 'chai';
import { assessScreening, dpiaToBePerformed } from '../../server/dpia/screening.js';
import { answers } from './support.js';

interface Case {
  name: string;
  yes: Parameters<typeof answers>[0];
  outcome: 'obbligatoria' | 'raccomandata' | 'non-obbligatoria';
  /** Phrases each reason list must contain: what triggered the outcome. */
  cites: string[];
  triggers?: { art35?: string[]; criteria?: string[]; garanteList?: string[] };
}

const cases: Case[] = [
  {
    name: 'no criterion, case or type',
    yes: [],
    outcome: 'non-obbligatoria',
    cites: ['Non ricorre alcun caso dell’art. 35, par. 3'],
  },
  {
    name: 'one WP248 criterion',
    yes: ['C4'],
    outcome: 'raccomandata',
    cites: ['un solo criterio', 'C4 (Dati sensibili', 'art. 25, comma 6'],
    triggers: { criteria: ['C4'] },
  },
  {
    name: 'two WP248 criteria',
    yes: ['C5', 'C7'],
    outcome: 'obbligatoria',
    cites: ['Ricorrono 2 criteri', 'C5 (Trattamento di dati su larga scala)', 'C7 (Dati relativi'],
    triggers: { criteria: ['C5', 'C7'] },
  },
  {
    name: 'art. 35(3)(a)',
    yes: ['a'],
    outcome: 'obbligatoria',
    cites: ['art. 35, par. 3, lett. a)', 'Motivo per a'],
    triggers: { art35: ['a'] },
  },
  {
    name: 'art. 35(3)(b)',
    yes: ['b'],
    outcome: 'obbligatoria',
    cites: ['art. 35, par. 3, lett. b)', 'categorie particolari'],
    triggers: { art35: ['b'] },
  },
  {
    name: 'art. 35(3)(c)',
    yes: ['c'],
    outcome: 'obbligatoria',
    cites: ['art. 35, par. 3, lett. c)', 'zona accessibile al pubblico'],
    triggers: { art35: ['c'] },
  },
  {
    name: 'a type of the Garante’s list',
    yes: ['G6'],
    outcome: 'obbligatoria',
    cites: ['tipologia G6', 'provvedimento del Garante n. 467 dell’11 ottobre 2018', 'vulnerabili'],
    triggers: { garanteList: ['G6'] },
  },
  {
    name: 'a type of the list with one criterion: mandatory by the list, the criterion cited too',
    yes: ['G11', 'C4'],
    outcome: 'obbligatoria',
    cites: ['tipologia G11', 'biometrici', 'C4'],
    triggers: { garanteList: ['G11'], criteria: ['C4'] },
  },
  {
    name: 'innovative technology (G7) alone does not count',
    yes: ['G7'],
    outcome: 'non-obbligatoria',
    cites: ['G7', 'da sola non rende obbligatoria'],
    triggers: { garanteList: [], criteria: [] },
  },
  {
    name: 'G7 with only C8 (the same fact) does not count: one criterion, recommended',
    yes: ['G7', 'C8'],
    outcome: 'raccomandata',
    cites: ['G7', 'da sola non rende obbligatoria', 'C8'],
    triggers: { garanteList: [], criteria: ['C8'] },
  },
  {
    name: 'G7 with one other WP248 criterion makes it mandatory',
    yes: ['G7', 'C3'],
    outcome: 'obbligatoria',
    cites: ['tipologia G7', 'tecnologie innovative', 'C3 (Monitoraggio sistematico'],
    triggers: { garanteList: ['G7'], criteria: ['C3'] },
  },
];

describe('DPIA screening rules', () => {
  for (const testCase of cases) {
    it(`${testCase.name} → ${testCase.outcome}`, () => {
      const result = assessScreening(answers(testCase.yes));
      expect(result.outcome).to.equal(testCase.outcome);
      const reasons = result.reasons.join('\n');
      for (const phrase of testCase.cites) expect(reasons).to.contain(phrase);
      for (const [group, codes] of Object.entries(testCase.triggers ?? {})) {
        expect(result.triggers[group as keyof typeof result.triggers], group).to.deep.equal(codes);
      }
    });
  }

  it('flags innovative technology declared alone, and only then', () => {
    expect(assessScreening(answers(['G7'])).innovativeTechnologyDiscounted).to.equal(true);
    expect(assessScreening(answers(['G7', 'C1'])).innovativeTechnologyDiscounted).to.equal(false);
    expect(assessScreening(answers(['C1'])).innovativeTechnologyDiscounted).to.equal(false);
  });

  it('a DPIA follows when mandatory, or when the Titolare so decides', () => {
    expect(dpiaToBePerformed('obbligatoria', null)).to.equal(true);
    expect(dpiaToBePerformed('raccomandata', { performDpia: true })).to.equal(true);
    expect(dpiaToBePerformed('raccomandata', { performDpia: false })).to.equal(false);
    expect(dpiaToBePerformed('non-obbligatoria', undefined)).to.equal(false);
    expect(dpiaToBePerformed('non-obbligatoria', { performDpia: true })).to.equal(true);
  });
});
