// Properties of numbered lists (numberFrom): what numberItems gives is exactly the proxy's rule
// (own numbers kept, the others counted on from the start, in order), or a refusal when two
// items would share a number or one would fall outside the bounds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { numberItems } from '../../src/templates/numbered.js';

const SEED = 20261203;
const RUNS = 3000;
const BOUNDS = { minimum: 1024, maximum: 65535 };

/** Names with an own port near the start (so that clashes are common) or none. */
const item = fc.tuple(
  fc.constantFrom('a', 'b', 'c', 'd'),
  fc.option(fc.oneof(fc.integer({ min: 5430, max: 5440 }), fc.integer({ min: 0, max: 70000 }))),
);

describe('numberItems (property)', () => {
  it('gives the proxy rule or a refusal, never two items one number', () => {
    fc.assert(
      fc.property(
        fc.array(item, { maxLength: 8 }),
        fc
          .integer({ min: 65520, max: 65535 })
          .chain((hi) => fc.oneof(fc.constant(5432), fc.integer({ min: 1024, max: hi }))),
        (parts, start) => {
          const items = parts.map(([k, n]) => (n === null ? k : `${k}=${n}`));
          // The rule, written independently: an own number, or the next counted one.
          let next = start;
          const want = parts.map(([, n]) => (n === null ? next++ : n));
          const fits = want.every((n) => n >= BOUNDS.minimum && n <= BOUNDS.maximum);
          const distinct = new Set(want).size === want.length;
          const got = numberItems(items, start, BOUNDS);
          if (fits && distinct) assert.deepEqual(got, { numbers: want, problems: [] });
          else {
            assert.deepEqual(got.numbers, []);
            assert.ok(got.problems.length > 0);
          }
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
