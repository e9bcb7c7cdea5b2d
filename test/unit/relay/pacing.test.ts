import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Pacer } from '../../../src/relay/pacing.js';
import { runConfig } from '../../property/support/config.js';

interface Batch {
  at: number;
  items: number[];
}

/** A small deterministic generator (mulberry32), so that the shuffle is part of the case. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Drives a Pacer every 7 ms through the arrivals and checks what left, and when. */
function checkPacing(rate: number, batches: readonly Batch[], random: () => number): void {
  const pacer = new Pacer<number>(rate, String, random);
  const sorted = [...batches].sort((a, b) => a.at - b.at);
  const out: { at: number; item: number }[] = [];
  const seen = new Set<number>();
  let now = 0;
  for (const batch of sorted) {
    for (; now < batch.at; now += 7) for (const item of pacer.due(now)) out.push({ at: now, item });
    pacer.enqueue(batch.items, now);
    for (const item of batch.items) seen.add(item);
    // None queued twice: at most one delivery waits per distinct item.
    assert.ok(pacer.size <= seen.size, `${String(pacer.size)} queued for ${String(seen.size)} items`);
  }
  for (; pacer.size > 0; now += 7) for (const item of pacer.due(now)) out.push({ at: now, item });
  // Every distinct item wanted is delivered.
  for (const item of seen) assert.ok(out.some((o) => o.item === item));
  // Within any one second there are at most rate + 1 deliveries.
  for (const o of out) {
    const window = out.filter((p) => p.at >= o.at && p.at < o.at + 1000).length;
    assert.ok(window <= rate + 1, `${String(window)} in a second at rate ${String(rate)}`);
  }
}

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
        fc.integer(),
        (rate, batches, shuffleSeed) => {
          checkPacing(rate, batches, seededRandom(shuffleSeed));
        },
      ),
      // Fixed so that a failure reproduces (the shuffle's randomness is part of each case);
      // SIDEKICK_FUZZ_SEED explores other cases, as in the property suite.
      { numRuns: 500, seed: runConfig().seed },
    );
  });

  it('keeps its schedule when the queue drains and the next change arrives before the next slot', () => {
    // Found by the property above: 17 deliveries leave by 1778 ms; a change arriving 7 ms later
    // restarted the schedule and its first delivery left at once, 11 in the second from 1337 ms.
    const batches = [
      { at: 0, items: Array.from({ length: 9 }, () => 0) },
      { at: 2234, items: [0] },
      { at: 1, items: Array.from({ length: 8 }, () => 0) },
      { at: 1779, items: Array.from({ length: 5 }, () => 0) },
    ];
    checkPacing(9, batches, seededRandom(1));
    const pacer = new Pacer<string>(10, String, () => 0.5);
    pacer.enqueue(['a', 'b'], 0);
    assert.deepEqual(pacer.due(100), ['a', 'b']);
    pacer.enqueue(['c'], 150);
    assert.deepEqual(pacer.due(150), []);
    assert.equal(pacer.nextIn(150), 50);
    assert.deepEqual(pacer.due(200), ['c']);
    // After a pause longer than a slot it starts afresh: the first leaves at once.
    pacer.enqueue(['d', 'e'], 5000);
    assert.deepEqual(pacer.due(5000), ['d']);
  });

  it('queues an item once even when a change names it twice', () => {
    const pacer = new Pacer<string>(1000, String, () => 0.5);
    pacer.enqueue(['a', 'a', 'b'], 0);
    assert.equal(pacer.size, 2);
    assert.deepEqual([...pacer.due(10_000)].sort(), ['a', 'b']);
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
