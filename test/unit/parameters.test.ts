import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveParameters } from '../../src/inject/parameters.js';
import { parseValue } from '../../src/templates/parameter-value.js';
import type { ParameterSpec } from '../../src/templates/types.js';
import { fixtureTemplates } from '../support/templates.js';

const spec = (s: Partial<ParameterSpec> & Pick<ParameterSpec, 'type'>): ParameterSpec => ({
  name: 'x',
  description: 'x',
  required: false,
  ...s,
});

describe('parseValue', () => {
  const cases: [string, ParameterSpec, string, unknown][] = [
    ['integer', spec({ type: 'integer' }), '5432', 5432],
    ['integer with spaces', spec({ type: 'integer' }), ' 42 ', 42],
    ['negative integer', spec({ type: 'integer' }), '-3', -3],
    ['integer not a number', spec({ type: 'integer' }), 'abc', /is not an integer/],
    ['integer float', spec({ type: 'integer' }), '1.5', /is not an integer/],
    [
      'integer too large',
      spec({ type: 'integer', maximum: 65535 }),
      '70000',
      /too large \(want an integer of at most 65535\)/,
    ],
    ['integer too small', spec({ type: 'integer', minimum: 1, maximum: 9 }), '0', /from 1 to 9/],
    ['boolean true', spec({ type: 'boolean' }), 'true', true],
    ['boolean False', spec({ type: 'boolean' }), 'False', false],
    ['boolean yes is not', spec({ type: 'boolean' }), 'yes', /true or false/],
    ['duration', spec({ type: 'duration' }), '1m30s', '1m30s'],
    ['duration ms', spec({ type: 'duration' }), '500ms', '500ms'],
    ['duration zero', spec({ type: 'duration' }), '0', '0'],
    ['duration bare number', spec({ type: 'duration' }), '10', /is not a duration/],
    ['enum', spec({ type: 'enum', values: ['HUP', 'TERM'] }), 'TERM', 'TERM'],
    ['enum any case', spec({ type: 'enum', values: ['HUP', 'TERM'] }), 'hup', 'HUP'],
    ['enum unknown', spec({ type: 'enum', values: ['HUP', 'TERM'] }), 'KILL', /one of HUP, TERM/],
    ['list', spec({ type: 'list' }), 'a, b,,c', ['a', 'b', 'c']],
    ['list pattern', spec({ type: 'list', pattern: '[a-z]+' }), 'a,B', /item 'B'/],
    ['string pattern ok', spec({ type: 'string', pattern: '[a-z]+:[a-z]+' }), 'ab:cd', 'ab:cd'],
    ['string pattern is anchored', spec({ type: 'string', pattern: '[a-z]+' }), 'ab cd', /does not fit/],
    [
      'string format in message',
      spec({ type: 'string', pattern: '[a-z]+', format: 'letters' }),
      '1',
      /want letters/,
    ],
  ];
  for (const [name, s, text, want] of cases) {
    it(name, () => {
      const got = parseValue(s, text);
      if (want instanceof RegExp) {
        assert.ok('error' in got, `expected an error, got ${JSON.stringify(got)}`);
        assert.match(got.error, want);
      } else assert.deepEqual(got, { value: want });
    });
  }
});

describe('resolveParameters', () => {
  const set = fixtureTemplates();
  const p = set.templates.get('p');
  assert.ok(p);
  const resolve = (given: Record<string, string>) => {
    const problems: string[] = [];
    const { values, planned } = resolveParameters(
      p,
      new Map(Object.entries(given)),
      'sidekick.dev',
      problems,
    );
    return { values: Object.fromEntries(values), planned, problems };
  };

  it('fills defaults and types annotation values', () => {
    const { values, planned, problems } = resolve({ need: 'x', 'mode-a': 'on', port: '8080' });
    assert.deepEqual(problems, []);
    assert.equal(values.port, 8080);
    assert.equal(values.wait, '1s');
    assert.equal(planned.port?.source, 'annotation');
    assert.equal(planned.wait?.source, 'default');
  });

  const refusals: [string, Record<string, string>, RegExp][] = [
    ['missing required', { 'mode-a': 'on' }, /annotation sidekick\.dev\/p\.need is required/],
    [
      'wrong type names the annotation',
      { need: 'x', 'mode-a': 'on', port: 'http' },
      /annotation sidekick\.dev\/p\.port: value "http" is not an integer/,
    ],
    [
      'neither of exactly one',
      { need: 'x' },
      /exactly one of the annotations sidekick\.dev\/p\.mode-a, sidekick\.dev\/p\.mode-b must be set: none is set/,
    ],
    ['both of exactly one', { need: 'x', 'mode-a': '1', 'mode-b': '2' }, /mode-a=1 and mode-b=2 are set/],
    [
      'pattern',
      { need: 'x', 'mode-a': 'on', text: 'ABC' },
      /p\.text: value "ABC" does not fit \(want lowercase letters\)/,
    ],
  ];
  for (const [name, given, want] of refusals) {
    it(`refuses: ${name}`, () => {
      const { problems } = resolve(given);
      assert.ok(
        problems.some((m) => want.test(m)),
        problems.join('\n'),
      );
    });
  }

  it('treats an empty annotation as not given', () => {
    const { problems } = resolve({ need: '', 'mode-a': 'x' });
    assert.match(problems.join(), /need is required/);
  });
});
