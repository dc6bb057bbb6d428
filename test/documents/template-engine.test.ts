import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import nunjucks from 'nunjucks';
import { inlineText, type Paragraph } from '../../server/documents/document-model.js';
import { parseMarkup } from '../../server/documents/markup.js';
import {
  compileTemplate,
  createTemplateEnvironment,
  renderTemplate,
  TemplateError,
  templateHelpers,
} from '../../server/documents/template-engine.js';
import { nominaDesignatoExample } from '../support/fixtures.js';

function templateError(source: string, data: Record<string, unknown> = {}): TemplateError {
  let output: string;
  try {
    output = renderTemplate(source, data);
  } catch (error) {
    expect(error).to.be.instanceOf(TemplateError);
    return error as TemplateError;
  }
  expect.fail(`the template rendered instead of failing: ${JSON.stringify(output)}`);
}

const render = (source: string, data: Record<string, unknown> = {}) => renderTemplate(source, data);

const maria = { nome: 'Maria Rossi', genere: 'F', titolo: 'dott' };
const paolo = { nome: 'Paolo Bianchi', genere: 'M', titolo: 'dott' };

describe('template engine', () => {
  describe('escaping', () => {
    const hostile = ['<script>alert(1)</script>', '{{ 7*7 }}', '<b>x</b>', 'l\'art. 5 & \\ "x"'];

    it('escapes data, so after parsing it is literal text', () => {
      for (const value of hostile) {
        const markup = render(
          '<document title="{{ value }}" author="Ente" date="2026-01-01"><p>{{ value }}</p></document>',
          { value },
        );
        expect(markup).not.to.match(/<script>|<b>x/);
        const model = parseMarkup(markup);
        expect(model.metadata.title).to.equal(value);
        expect(inlineText((model.body[0] as Paragraph).runs)).to.equal(value);
      }
    });

    it('renders template syntax in data as text, not as code', () => {
      expect(render('{{ value }}', { value: '{{ 7*7 }}' })).to.equal('{{ 7*7 }}');
      expect(render('{{ value }}', { value: '{% if true %}x{% endif %}' })).to.equal(
        '{% if true %}x{% endif %}',
      );
    });

    it('escapes helper output and template expressions too', () => {
      expect(render('{{ "<i>" ~ nome }}', { nome: '&' })).to.equal('&lt;i&gt;&amp;');
    });
  });

  describe('sandbox', () => {
    const escapes: [string, Record<string, unknown>][] = [
      ['{{ "".constructor.constructor("return process")() }}', {}],
      ['{{ range.constructor("return this")() }}', {}],
      ['{{ x.__proto__ }}', { x: {} }],
      ['{{ cycler.constructor }}', {}],
      ['{{ joiner.constructor }}', {}],
      ['{{ lipsum.constructor }}', {}],
      ['{% set a = "constructor" %}{{ x[a] }}', { x: {} }],
      ['{{ x["constructor"]["constructor"]("return process")() }}', { x: {} }],
      ['{{ cycler().next.prototype }}', {}],
      ['{{ x.__defineGetter__ }}', { x: {} }],
      ['{{ x | __lookupGetter__("a") }}', { x: {} }],
    ];

    for (const [source, data] of escapes) {
      it(`refuses ${source} before running it`, () => {
        const error = templateError(source, data);
        expect(error.message).to.match(/non è consentito nei modelli/);
        expect(error.line).to.equal(1);
      });
    }

    // Names built at run time slip past the source check; the sandboxed runtime stops them.
    const runtimeEscapes: [string, Record<string, unknown>, RegExp][] = [
      ['{{ ""["constr" ~ "uctor"]["constr" ~ "uctor"]("return process")() }}', {}, /"constructor"/],
      ['{{ range["constr" ~ "uctor"]("return this")() }}', {}, /"constructor"/],
      ['{{ range["ca" ~ "ll"] }}', {}, /proprietà di una funzione/],
      ['{{ x["_" ~ "_proto__"] }}', { x: {} }, /"__proto__"/],
      ['{% set c = cycler(1, 2) %}{{ c.next["ca" ~ "ll"] }}', {}, /proprietà di una funzione/],
      ['{{ joiner()["constr" ~ "uctor"] }}', {}, /"constructor"/],
      ['{{ joiner()["app" ~ "ly"] }}', {}, /proprietà di una funzione/],
      ['{% set k = "proto" %}{{ []["_" ~ "_" ~ k ~ "_" ~ "_"] }}', {}, /"__proto__"/],
      ['{{ x.hasOwnProperty("a") }}', { x: { a: 1 } }, /non è definita/],
      ['{{ x | toString }}', { x: 1 }, /filtro sconosciuto: toString/],
      ['{{ valueOf }}', {}, /valore non definito/],
      ['{{ range }}', {}, /è una funzione/],
    ];

    for (const [source, data, message] of runtimeEscapes) {
      it(`stops ${source} at run time`, () => {
        const error = templateError(source, data);
        expect(error.message).to.match(message);
        expect(error.message).not.to.match(/\[object process\]|process\.env/);
      });
    }

    it('still allows blank lines made of underscores', () => {
      expect(render('{{ firma | default("__________") }}')).to.equal('__________');
    });

    it('keeps the sandbox on a cached template', () => {
      const source = '{{ x["constr" ~ "uctor"] }}';
      for (let attempt = 0; attempt < 3; attempt++) {
        expect(templateError(source, { x: {} }).message).to.match(/"constructor"/);
      }
    });

    it('refuses tags that would load other templates', () => {
      for (const tag of [
        '{% include "a.njk" %}',
        '{% extends "a.njk" %}',
        '{% import "a" as a %}',
      ]) {
        expect(templateError(`testo\n${tag}`).message).to.match(
          /riga 2: .* non è disponibile: un modello non può caricarne altri/,
        );
      }
    });

    it('hands templates a frozen copy of the data, without prototypes', () => {
      const data = {
        persona: { nome: 'Maria', ruoli: ['a'] },
        quando: new Date(Date.UTC(2026, 0, 1)),
      };
      expect(
        render('{{ persona.nome.toUpperCase() }} {{ persona.ruoli.join("") }}', data),
      ).to.equal('MARIA a');
      expect(render('{{ quando }} {{ quando | dataLunga }}', data)).to.equal(
        '2026-01-01T00:00:00.000Z 1° gennaio 2026',
      );
      expect(render('{% for k, v in persona %}{{ k }};{% endfor %}', data)).to.equal('nome;ruoli;');
      expect(data.persona).to.deep.equal({ nome: 'Maria', ruoli: ['a'] });
    });

    it('leaves the usual nunjucks features working', () => {
      const source = [
        '{% macro voce(testo, n=1) %}<li>{{ n }}. {{ testo }}</li>{% endmacro %}',
        '{% macro riquadro() %}[{{ caller() }}]{% endmacro %}',
        '{{ voce("a") }}{{ voce("b", n=2) }}',
        '{% call riquadro() %}dentro {{ nome }}{% endcall %}',
        '{% set blocco %}catturato {{ nome | upper }}{% endset %}{{ blocco }}',
        '{% filter upper %}filtrato{% endfilter %}',
        '{% for k, v in obj | dictsort %}{{ k }}={{ v }}{{ "," if not loop.last }}{% endfor %}',
        '{{ "x" in lista }} {{ lista | sort | join("/") }} {{ nome | replace("M", "m") }}',
        '{% for g, items in persone | groupby("g") %}{{ g }}:{{ items | length }} {% endfor %}',
      ].join('\n');
      const data = {
        nome: 'Maria',
        obj: { b: 2, a: 1 },
        lista: ['y', 'x', 'z'],
        persone: [{ g: 'F' }, { g: 'M' }, { g: 'F' }],
      };
      expect(render(source, data)).to.equal(
        [
          '<li>1. a</li><li>2. b</li>',
          '[dentro Maria]catturato MARIA',
          'FILTRATOa=1,b=2true x/y/z maria',
          'F:2 M:1 ',
        ].join('\n'),
      );
    });

    it('caps range so a template cannot exhaust memory', () => {
      expect(render('{% for i in range(3) %}{{ i }}{% endfor %}')).to.equal('012');
      expect(render('{% for i in range(10, 0, -5) %}{{ i }} {% endfor %}')).to.equal('10 5 ');
      expect(templateError('{{ range(1000000000) | length }}').message).to.include(
        'troppi elementi',
      );
    });

    it('keeps working cycler and joiner', () => {
      expect(
        render(
          '{% set c = cycler("pari", "dispari") %}{{ c.next() }} {{ c.next() }} {{ c.next() }}',
        ),
      ).to.equal('pari dispari pari');
      expect(
        render('{% set j = joiner(", ") %}{% for x in ["a","b"] %}{{ j() }}{{ x }}{% endfor %}'),
      ).to.equal('a, b');
    });

    it('accepts only environments made by createTemplateEnvironment', () => {
      const own = createTemplateEnvironment();
      expect(renderTemplate('{{ 1 | ordinale }}', {}, { environment: own })).to.equal('1°');
      expect(() => renderTemplate('x', {}, { environment: new nunjucks.Environment([]) })).to.throw(
        TemplateError,
        /createTemplateEnvironment/,
      );
    });
  });

  describe('errors', () => {
    it('names an undefined variable and its line', () => {
      const error = templateError('<p>\n  Gentile\n  {{ persona.nome }}</p>', { persona: {} });
      expect(error.message).to.equal(
        'modello "modello", riga 3: valore non definito: {{ persona.nome }}',
      );
      expect(error.line).to.equal(3);
      expect(templateError('{{ sindaco }}').message).to.include('{{ sindaco }}');
    });

    it('fails on an undefined value passed through a built-in filter', () => {
      expect(templateError('{{ nome | upper }}').message).to.include(
        'filtro "upper": valore non definito',
      );
    });

    it('treats null data as absent, so default and "is defined" still work', () => {
      expect(render('{{ qualifica | default("—") }}', { qualifica: null })).to.equal('—');
      expect(render('{% if x is defined %}sì{% else %}no{% endif %}', { x: null })).to.equal('no');
      expect(render('{{ lista | length }}', { lista: [1, null, 3] })).to.equal('3');
    });

    it('refuses to print a whole object', () => {
      expect(templateError('{{ persona }}', { persona: maria }).message).to.include(
        'non è un testo da stampare',
      );
    });

    it('reports syntax errors with their line', () => {
      const error = templateError('uno\ndue\n{% if %}');
      expect(error.line).to.equal(3);
      expect(error.message).to.match(/^modello "modello", riga 3: /);
    });

    it('reports a failing helper call with its line and the template name', () => {
      const error = templateError('uno\n\n{{ citaArticolo("28", "GDPR", { par: 3 }) }}');
      expect(error.message).to.equal(
        'modello "modello", riga 3: citaArticolo: opzione "par" sconosciuta (ammesse paragrafo, comma, lettera, numero)',
      );
      let named: unknown;
      try {
        renderTemplate('{{ x }}', {}, { name: 'nomina-designato' });
      } catch (error) {
        named = error;
      }
      expect((named as TemplateError).templateName).to.equal('nomina-designato');
      expect((named as TemplateError).message).to.match(/^modello "nomina-designato", riga 1:/);
    });

    it('refuses data fields named like a template function', () => {
      expect(templateError('{{ titolo(p) }}', { titolo: 'Decreto', p: maria }).message).to.include(
        'il campo "titolo" dei dati ha il nome di una funzione dei modelli',
      );
      expect(render('{{ numero }} {{ ora }}', { numero: 12, ora: 'adesso' })).to.equal('12 adesso');
      expect(templateError('{{ numero }}').message).to.include('valore non definito');
      expect(templateError('{{ dataLunga("2026-01-01") }}').message).to.include(
        'impossibile chiamare "dataLunga": non è definita',
      );
    });

    it('compiles once and renders many times', () => {
      const template = compileTemplate('{{ nome }} è {{ genere(p, "nominato", "nominata") }}');
      expect(template.render({ nome: 'Maria', p: maria })).to.equal('Maria è nominata');
      expect(template.render({ nome: 'Paolo', p: paolo })).to.equal('Paolo è nominato');
    });
  });

  describe('Italian helpers', () => {
    it('writes long dates, with 1° on the first of the month', () => {
      expect(render('{{ "2026-11-24" | dataLunga }}')).to.equal('24 novembre 2026');
      expect(render('{{ "2026-01-01" | dataLunga }}')).to.equal('1° gennaio 2026');
      expect(render('{{ "2026-03-01" | dataLunga }}')).to.equal('1° marzo 2026');
    });

    it('keeps date-only strings on their calendar day', () => {
      expect(render('{{ "2026-12-31" | dataLunga }} {{ "2026-12-31" | dataBreve }}')).to.equal(
        '31 dicembre 2026 31/12/2026',
      );
    });

    it('writes short dates', () => {
      expect(render('{{ "2026-11-24" | dataBreve }} {{ "2026-02-05" | dataBreve }}')).to.equal(
        '24/11/2026 05/02/2026',
      );
    });

    it('shows instants in Rome time', () => {
      expect(render('{{ "2026-11-24T13:05:00Z" | ora }}')).to.equal('14:05');
      expect(render('{{ "2026-11-24T13:05:00Z" | dataOra }}')).to.equal(
        '24 novembre 2026, ore 14:05',
      );
      expect(render('{{ "2026-07-01T22:30:00Z" | dataOra }}')).to.equal('2 luglio 2026, ore 00:30');
      expect(render('{{ "2026-11-24T14:05:00+01:00" | ora }}')).to.equal('14:05');
      expect(render('{{ "2026-11-24T08:05:00-05:00" | ora }}')).to.equal('14:05');
      expect(render('{{ t | dataOra }}', { t: new Date('2026-01-01T08:00:00Z') })).to.equal(
        '1° gennaio 2026, ore 09:00',
      );
    });

    it('follows daylight saving time in both directions', () => {
      expect(render('{{ "2026-03-29T00:30:00Z" | ora }}')).to.equal('01:30');
      expect(render('{{ "2026-03-29T01:30:00Z" | ora }}')).to.equal('03:30');
      expect(render('{{ "2026-10-25T00:30:00Z" | ora }}')).to.equal('02:30');
      expect(render('{{ "2026-10-25T01:30:00Z" | ora }}')).to.equal('02:30');
      expect(render('{{ "2026-10-25T02:30:00Z" | ora }}')).to.equal('03:30');
    });

    it('takes a timestamp without offset as Rome wall-clock time', () => {
      expect(render('{{ "2026-11-24T14:05" | dataOra }}')).to.equal('24 novembre 2026, ore 14:05');
    });

    it('refuses dates it cannot read, and times of date-only values', () => {
      expect(templateError('{{ "2026-02-30" | dataLunga }}').message).to.include(
        'dataLunga: data non valida "2026-02-30"',
      );
      expect(templateError('{{ "24/11/2026" | dataBreve }}').message).to.include(
        'dataBreve: data non valida',
      );
      expect(templateError('{{ "2026-11-24" | ora }}').message).to.include(
        'ora: la data non ha un orario',
      );
      expect(templateError('{{ mancante | dataLunga }}').message).to.include(
        'dataLunga: data non valida valore mancante',
      );
    });

    it('formats amounts in euro and numbers with Italian separators', () => {
      expect(render('{{ 1234.56 | importo }}')).to.equal('€ 1.234,56');
      expect(render('{{ 1234567.5 | importo }}')).to.equal('€ 1.234.567,50');
      expect(render('{{ 0 | importo }}')).to.equal('€ 0,00');
      expect(render('{{ x | importo }}', { x: '980.1' })).to.equal('€ 980,10');
      expect(render('{{ -12.3 | importo }}')).to.equal('€ -12,30');
      expect(render('{{ 1234567.891 | numero }}')).to.equal('1.234.567,891');
      expect(render('{{ 1234 | numero }}')).to.equal('1.234');
      expect(render('{{ 1234.5 | numero(2) }}')).to.equal('1.234,50');
      expect(render('{{ 0.5 | numero(0) }}')).to.equal('1');
      expect(templateError('{{ "1.234,56" | importo }}').message).to.include(
        'importo: numero non valido "1.234,56"',
      );
    });

    it('writes ordinals in figures', () => {
      expect(
        render(
          '{{ ordinale(1) }} {{ ordinale(1, "f") }} {{ 12 | ordinale }} {{ 3 | ordinale("F") }}',
        ),
      ).to.equal('1° 1ª 12° 3ª');
      expect(templateError('{{ ordinale(0) }}').message).to.include('serve un intero positivo');
    });

    it('writes ordinals in words', () => {
      const words = render(
        '{% for n in range(1, 21) %}{{ ordinaleParola(n) }}{{ "," if not loop.last }}{% endfor %}',
      ).split(',');
      expect(words).to.deep.equal([
        'primo',
        'secondo',
        'terzo',
        'quarto',
        'quinto',
        'sesto',
        'settimo',
        'ottavo',
        'nono',
        'decimo',
        'undicesimo',
        'dodicesimo',
        'tredicesimo',
        'quattordicesimo',
        'quindicesimo',
        'sedicesimo',
        'diciassettesimo',
        'diciottesimo',
        'diciannovesimo',
        'ventesimo',
      ]);
      expect(render('{{ ordinaleParola(2, "f") }} {{ ordinaleParola(1, "f") }}')).to.equal(
        'seconda prima',
      );
      expect(
        [21, 23, 26, 28, 30, 44, 99, 100].map((n) => render(`{{ ordinaleParola(${n}) }}`)),
      ).to.deep.equal([
        'ventunesimo',
        'ventitreesimo',
        'ventiseiesimo',
        'ventottesimo',
        'trentesimo',
        'quarantaquattresimo',
        'novantanovesimo',
        'centesimo',
      ]);
      expect(templateError('{{ ordinaleParola(101) }}').message).to.include('da 1 a 100');
    });

    it('cites articles with their source', () => {
      const cases: [string, string][] = [
        [
          "citaArticolo('2-quaterdecies', 'D.Lgs. 196/2003')",
          'art. 2-quaterdecies del D.Lgs. 196/2003',
        ],
        ["citaArticolo('2-quaterdecies', 'Codice')", 'art. 2-quaterdecies del D.Lgs. 196/2003'],
        ["citaArticolo('28', 'GDPR')", 'art. 28 del Regolamento (UE) 2016/679'],
        ["citaArticolo(28, 'RGPD')", 'art. 28 del Regolamento (UE) 2016/679'],
        [
          "citaArticolo('28', 'GDPR', { paragrafo: 3, lettera: 'a' })",
          'art. 28, par. 3, lett. a), del Regolamento (UE) 2016/679',
        ],
        [
          "citaArticolo('4', 'GDPR', { numero: 7 })",
          'art. 4, n. 7), del Regolamento (UE) 2016/679',
        ],
        [
          "citaArticolo('5', 'Regolamento comunale', { comma: 2 })",
          'art. 5, comma 2, del Regolamento comunale',
        ],
        ["citaArticolo('3', 'L. 241/1990', { comma: 1 })", 'art. 3, comma 1, della L. 241/1990'],
        ["citaArticolo('50', 'D.Lgs. 267/2000')", 'art. 50 del D.Lgs. 267/2000'],
      ];
      for (const [call, expected] of cases) {
        expect(render(`{{ ${call} }}`), call).to.equal(expected);
      }
      expect(templateError("{{ citaArticolo('28', 'GDPR', { par: 3 }) }}").message).to.include(
        'opzione "par" sconosciuta',
      );
      expect(
        templateError("{{ citaArticolo('28', 'GDPR', { paragrafo: 3, comma: 2 }) }}").message,
      ).to.include('paragrafo e comma sono alternativi');
    });

    it('agrees articles, titles and participles with the person', () => {
      const data = { maria, paolo };
      expect(render('{{ articolo(maria) }} {{ titolo(maria) }} {{ maria.nome }}', data)).to.equal(
        'la dott.ssa Maria Rossi',
      );
      expect(render('{{ articolo(paolo) }} {{ titolo(paolo) }} {{ paolo.nome }}', data)).to.equal(
        'il dott. Paolo Bianchi',
      );
      expect(
        render(
          '{{ genere(maria, "designato", "designata") }}/{{ genere(paolo, "designato", "designata") }}',
          data,
        ),
      ).to.equal('designata/designato');
      expect(render('{{ nato(maria) }} {{ nato(paolo) }} {{ nato("F") }}', data)).to.equal(
        'nata nato nata',
      );
      expect(render('[{{ titolo(p) }}]', { p: { genere: 'F' } })).to.equal('[]');
      expect(render('{{ titolo(p) }}', { p: { genere: 'F', titolo: 'prof.' } })).to.equal(
        'prof.ssa',
      );
      expect(templateError('{{ articolo(p) }}', { p: { nome: 'X' } }).message).to.include(
        'articolo: genere mancante o non valido',
      );
      expect(
        templateError('{{ titolo(p) }}', { p: { genere: 'M', titolo: 'cav' } }).message,
      ).to.include('titolo sconosciuto "cav"');
    });

    it('chooses singular or plural', () => {
      expect(
        [0, 1, 2].map((n) => render(`{{ ${n} }} {{ plurale(${n}, "dipendente", "dipendenti") }}`)),
      ).to.deep.equal(['0 dipendenti', '1 dipendente', '2 dipendenti']);
    });

    it('documents every helper, here and in templates/MARKUP.md', () => {
      const documentation = readFileSync(
        new URL('../../templates/MARKUP.md', import.meta.url),
        'utf8',
      );
      expect(templateHelpers.map((helper) => helper.name)).to.have.members([
        'dataLunga',
        'dataBreve',
        'ora',
        'dataOra',
        'importo',
        'numero',
        'ordinale',
        'ordinaleParola',
        'citaArticolo',
        'articolo',
        'titolo',
        'genere',
        'nato',
        'plurale',
      ]);
      expect(
        templateHelpers.filter((helper) => !helper.alsoFunction).map((helper) => helper.name),
      ).to.deep.equal(['dataLunga', 'dataBreve', 'ora', 'dataOra', 'importo', 'numero']);
      for (const helper of templateHelpers) {
        expect(helper.description, helper.name).to.match(/\S/);
        expect(documentation, helper.name).to.include(`\`${helper.name}\``);
      }
    });
  });

  it('renders the shipped nomina-designato template into valid markup', () => {
    const source = readFileSync(
      new URL('../../templates/nomina-designato/template.njk', import.meta.url),
      'utf8',
    );
    const markup = renderTemplate(
      source,
      { ...nominaDesignatoExample(), ente: { nome: 'Comune di Prova', tipo: 'comune' } },
      { name: 'nomina-designato' },
    );
    const model = parseMarkup(markup);
    expect(model.metadata.author).to.equal('Comune di Prova');
    expect(model.body.some((block) => block.kind === 'signatures')).to.equal(true);
  });
});
