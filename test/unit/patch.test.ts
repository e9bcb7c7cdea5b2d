import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fastJsonPatch from 'fast-json-patch';
import { createPatch } from '../../src/inject/patch.js';
import type { Json } from '../../src/json.js';

describe('createPatch', () => {
  const cases: [string, Json, Json, number][] = [
    ['no change', { a: [1, 2] }, { a: [1, 2] }, 0],
    [
      'prepend to a long array is one add',
      { a: Array.from({ length: 100 }, (_, i) => i) },
      { a: [-1, ...Array.from({ length: 100 }, (_, i) => i)] },
      1,
    ],
    ['insert in the middle', { a: [1, 3] }, { a: [1, 2, 3] }, 1],
    ['new key', { a: 1 }, { a: 1, b: { c: 2 } }, 1],
    ['removed key', { a: 1, b: 2 }, { a: 1 }, 1],
    [
      'escaped keys',
      { m: { 'sidekick.dev/status': 'x' } },
      { m: { 'sidekick.dev/status': 'y', 'a~b': 1 } },
      2,
    ],
    ['element changed in place', { a: [{ n: 1, r: 'Always' }] }, { a: [{ n: 1 }] }, 1],
    ['reorder replaces', { a: [1, 2, 3] }, { a: [3, 1] }, 1],
  ];
  for (const [name, before, after, count] of cases) {
    it(name, () => {
      const patch = createPatch(before, after);
      assert.equal(patch.length, count, JSON.stringify(patch));
      const applied = fastJsonPatch.applyPatch(structuredClone(before), patch, true, false).newDocument;
      assert.deepEqual(applied, after);
    });
  }

  it('treats an own __proto__ key as data, addressed by pointer', () => {
    const before = JSON.parse('{"__proto__":{"x":1}}') as Json;
    const after = JSON.parse('{"__proto__":{"x":2}}') as Json;
    assert.deepEqual(createPatch(before, after), [{ op: 'replace', path: '/__proto__/x', value: 2 }]);
    assert.equal(Object.getPrototypeOf(before), Object.prototype);
  });
});
