import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseSidecars } from '../../src/inject/order.js';
import { placeSidecars } from '../../src/inject/placement.js';
import type { JsonObject } from '../../src/json.js';
import { fixtureTemplates, template } from '../support/templates.js';

const IMG = `  container:\n    image: x:1\n`;

describe('chooseSidecars', () => {
  const set = fixtureTemplates();
  const cases: [string, string[], string[], Record<string, string>][] = [
    ['one', ['a'], ['a'], { a: 'requested' }],
    ['requires pulled in and started first', ['b'], ['a', 'b'], { a: 'required by b' }],
    ['requires already requested later', ['b', 'a'], ['a', 'b'], { a: 'requested' }],
    ['after orders when both present', ['c', 'b'], ['a', 'b', 'c'], { c: 'requested' }],
    ['after alone is only ordering', ['c'], ['c'], {}],
    ['ties keep annotation order', ['p', 'a'], ['p', 'a'], {}],
    ['ties keep annotation order reversed', ['a', 'p'], ['a', 'p'], {}],
  ];
  for (const [name, requested, want, reasons] of cases) {
    it(name, () => {
      const problems: string[] = [];
      const chosen = chooseSidecars(requested, set, 'sidekick.dev/inject', problems);
      assert.deepEqual(problems, []);
      assert.deepEqual(
        chosen.map((c) => c.template.name),
        want,
      );
      for (const [n, reason] of Object.entries(reasons)) {
        assert.equal(chosen.find((c) => c.template.name === n)?.reason, reason);
      }
    });
  }

  it('refuses an unknown sidecar with a did-you-mean and the known names', () => {
    const problems: string[] = [];
    const set2 = fixtureTemplates({ 'db.yaml': template('db-proxy', `  description: d\n${IMG}`) });
    chooseSidecars(['db-proxi'], set2, 'sidekick.dev/inject', problems);
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? '',
      /annotation sidekick\.dev\/inject: unknown sidecar 'db-proxi' \(did you mean 'db-proxy'\?\); known sidecars: a, b, c, db-proxy, p/,
    );
  });

  it('refuses a cycle that only the chosen set closes', () => {
    // x after y and y after x: the loader refuses that, so build the cycle through requires + after.
    assert.throws(
      () =>
        fixtureTemplates({
          'x.yaml': template('x', `  description: x\n  requires: [y]\n${IMG}`),
          'y.yaml': template('y', `  description: y\n  after: [x]\n${IMG}`),
        }),
      /dependency cycle through requires\/after: x -> y -> x/,
    );
  });
});

describe('placeSidecars', () => {
  const set = fixtureTemplates();
  const spec: JsonObject = { initContainers: [{ name: 'migrate' }, { name: 'seed' }], containers: [] };
  const place = (requested: string[], after: Record<string, string>) => {
    const problems: string[] = [];
    const chosen = chooseSidecars(requested, set, 'sidekick.dev/inject', problems).map((c) => ({
      ...c,
      values: new Map(after[c.template.name] ? [['after', after[c.template.name] ?? '']] : []),
    }));
    const placed = placeSidecars(spec, chosen, 'sidekick.dev', problems);
    return {
      slots: Object.fromEntries(placed.map((p) => [p.template.name, p.slot])),
      order: placed.map((p) => p.template.name),
      positions: Object.fromEntries(placed.map((p) => [p.template.name, p.position])),
      problems,
    };
  };
  const cases: [string, string[], Record<string, string>, Record<string, number>][] = [
    ['before every init container by default', ['a', 'c'], {}, { a: 0, c: 0 }],
    ['after a named init container', ['a'], { a: 'migrate' }, { a: 1 }],
    ['after the last init container', ['a'], { a: 'seed' }, { a: 2 }],
    ['a dependent follows its dependency', ['b'], { a: 'seed' }, { a: 2, b: 2 }],
    ['a dependency may stay earlier', ['b'], { b: 'migrate' }, { a: 0, b: 1 }],
  ];
  for (const [name, requested, after, want] of cases) {
    it(name, () => {
      const { slots, problems } = place(requested, after);
      assert.deepEqual(problems, []);
      assert.deepEqual(slots, want);
    });
  }

  it('gives the start order: a sidecar placed later does not hold back the ones before it', () => {
    const { order, problems } = place(['b', 'p'], { b: 'seed' });
    assert.deepEqual(problems, []);
    assert.deepEqual(order, ['a', 'p', 'b']);
  });

  const positions: [string, string[], Record<string, string>, Record<string, string>][] = [
    [
      'first and annotation order',
      ['a', 'p'],
      {},
      { a: 'first', p: 'after a: the order of the inject annotation' },
    ],
    ['requires', ['b'], {}, { a: 'first', b: 'after a: b requires it' }],
    ['template after', ['c', 'b'], {}, { c: "after b: c's template says after" }],
    [
      'pulled in by requires',
      ['p', 'b'],
      {},
      { a: 'after p: pulled in by requires of b, so just before it' },
    ],
    [
      'after-annotation',
      ['a'],
      { a: 'migrate' },
      { a: 'after init container migrate: annotation sidekick.dev/a.after' },
    ],
    [
      'held back by a dependency',
      ['b'],
      { a: 'seed' },
      {
        a: 'after init container seed: annotation sidekick.dev/a.after',
        b: 'after a: b requires it; after init container seed: a, which b starts after, starts there',
      },
    ],
  ];
  for (const [name, requested, after, want] of positions) {
    it(`says why: ${name}`, () => {
      const { positions: got, problems } = place(requested, after);
      assert.deepEqual(problems, []);
      for (const [sidecar, position] of Object.entries(want)) {
        assert.equal(got[sidecar], position, sidecar);
      }
    });
  }

  it('refuses an init container the Pod does not have', () => {
    const { problems } = place(['a'], { a: 'migrat' });
    assert.match(
      problems.join(),
      /annotation sidekick\.dev\/a\.after: the Pod has no init container named migrat; its init containers: migrate, seed/,
    );
  });

  it('refuses naming another sidecar', () => {
    const { problems } = place(['b'], { b: 'a' });
    assert.match(problems.join(), /a is a sidecar/);
  });
});

describe('messages for unknown sidecars', () => {
  const set = fixtureTemplates({ 'vault-agent.yaml': template('vault-agent', `  description: v\n${IMG}`) });
  const problem = (requested: string[]): string => {
    const problems: string[] = [];
    chooseSidecars(requested, set, 'sidekick.dev/inject', problems);
    assert.equal(problems.length, 1, problems.join('\n'));
    return problems[0] ?? '';
  };
  const known = 'known sidecars: a, b, c, p, vault-agent';

  it('suggests the only name a shortened one begins', () => {
    assert.equal(
      problem(['vault']),
      `annotation sidekick.dev/inject: unknown sidecar 'vault' (did you mean 'vault-agent'?); ${known}`,
    );
  });

  it('hints at commas for names separated by semicolons or spaces', () => {
    assert.equal(
      problem(['a; b']),
      `annotation sidekick.dev/inject: unknown sidecar 'a; b' (separate the names with commas: a, b); ${known}`,
    );
    assert.match(problem(['a zz']), /'a zz' \(names in the list are separated by commas\)/);
  });

  it('lists the known sidecars once for several unknown names', () => {
    const text = problem(['vaul', 'zzzz']);
    assert.equal(text.split('; known sidecars: ').length, 2, text);
    assert.match(
      text,
      /^annotation sidekick\.dev\/inject: unknown sidecars 'vaul' \(did you mean 'vault-agent'\?\), 'zzzz'; /,
    );
  });
});
