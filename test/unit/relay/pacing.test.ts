import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Pacer } from '../../../src/relay/pacing.js';

describe('relay pacing', () => {
  it('sends the first at once and then `rate` a second', () => {
    const pacer = new Pacer<number>(10, String, () => 0.5);
    pacer.enqueue([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 1000);
    assert.equal(pacer.due(1000).length, 1);
    assert.equal(pacer.nextIn(1000), 100);
    assert.equal(pacer.due(1099).length, 0);
    assert.equal(pacer.due(1100).length, 1);
    assert.equal(pacer.due(2000).length, 9);
    assert.equal(pacer.size, 1);
    assert.equal(pacer.due(5000).length, 1);
    assert.equal(pacer.nextIn(5000), undefined);
  });

  it('never runs ahead of its rate and delivers each once, whatever the arrivals', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: 5000 }),
            items: fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 40 }),
          }),
          { maxLength: 10 },
        ),
        (rate, batches) => {
          const pacer = new Pacer<number>(rate, String);
          const sorted = [...batches].sort((a, b) => a.at - b.at);
          const out: { at: number; item: number }[] = [];
          let now = 0;
          for (const batch of sorted) {
            for (; now < batch.at; now += 7) for (const item of pacer.due(now)) out.push({ at: now, item });
            pacer.enqueue(batch.items, now);
          }
          for (; pacer.size > 0; now += 7) for (const item of pacer.due(now)) out.push({ at: now, item });
          // Every distinct item wanted is delivered; none twice while queued.
          const wanted = new Set(sorted.flatMap((b) => b.items));
          for (const item of wanted) assert.ok(out.some((o) => o.item === item));
          // Within any one second there are at most rate + 1 deliveries.
          for (const o of out) {
            const window = out.filter((p) => p.at >= o.at && p.at < o.at + 1000).length;
            assert.ok(window <= rate + 1, `${String(window)} in a second at rate ${String(rate)}`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('shuffles each change (jitter) and keeps a queued delivery in its place', () => {
    const values = [0.9, 0.1, 0.5, 0.3, 0.7];
    let i = 0;
    const pacer = new Pacer<string>(
      1000,
      (s) => s,
      () => values[i++ % values.length] ?? 0,
    );
    pacer.enqueue(['a', 'b', 'c', 'd', 'e'], 0);
    pacer.enqueue(['c', 'f'], 0);
    const order = pacer.due(10_000);
    assert.equal(order.length, 6);
    assert.notDeepEqual(order.slice(0, 5), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual([...order.slice(0, 5)].sort(), ['a', 'b', 'c', 'd', 'e']);
    assert.equal(order[5], 'f');
  });
});
