import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jitterDelay, ReloadScheduler, type Clock } from '../../src/watch/scheduler.js';

/** A clock that moves only when told: timers fire in time order during advance(). */
class ManualClock implements Clock {
  now = 0;
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;

  setTimer(fn: () => void, ms: number): () => void {
    const timer = { at: this.now + ms, seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const next = [...this.timers].sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (next === undefined || next.at > end) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.now = next.at;
      next.fn();
    }
    this.now = end;
  }

  get pending(): number {
    return this.timers.length;
  }
}

function setup(debounceMs: number, jitterMs: number, random: () => number = Math.random) {
  const clock = new ManualClock();
  const events: { kind: 'quiet' | 'due'; at: number }[] = [];
  const scheduler = new ReloadScheduler({
    debounceMs,
    jitterMs,
    clock,
    random,
    onQuiet: () => events.push({ kind: 'quiet', at: clock.now }),
    onDue: () => events.push({ kind: 'due', at: clock.now }),
  });
  return { clock, events, scheduler };
}

void describe('ReloadScheduler', () => {
  void test('a burst of events is one quiet signal, debounce after the last event', () => {
    const { clock, events, scheduler } = setup(1000, 0);
    for (let i = 0; i < 10; i++) {
      scheduler.poke();
      clock.advance(300);
    }
    assert.deepEqual(events, []);
    assert.equal(scheduler.debouncing, true);
    clock.advance(699);
    assert.deepEqual(events, []);
    clock.advance(1);
    assert.deepEqual(events, [{ kind: 'quiet', at: 3700 }]);
    assert.equal(scheduler.debouncing, false);
  });

  void test('events separated by more than the debounce are separate', () => {
    const { clock, events, scheduler } = setup(200, 0);
    scheduler.poke();
    clock.advance(500);
    scheduler.poke();
    clock.advance(500);
    assert.deepEqual(
      events.map((e) => e.at),
      [200, 700],
    );
  });

  void test('arm() waits the drawn jitter; a second arm() while waiting is absorbed', () => {
    const { clock, events, scheduler } = setup(100, 1000, () => 0.5);
    assert.equal(scheduler.arm(), 500);
    clock.advance(100);
    assert.equal(scheduler.arm(), undefined);
    assert.equal(scheduler.waiting, true);
    clock.advance(400);
    assert.deepEqual(events, [{ kind: 'due', at: 500 }]);
    assert.equal(scheduler.waiting, false);
    assert.equal(scheduler.arm(), 500);
  });

  void test('stop() cancels everything and ignores later events', () => {
    const { clock, events, scheduler } = setup(100, 1000);
    scheduler.poke();
    scheduler.arm();
    scheduler.stop();
    assert.equal(clock.pending, 0);
    scheduler.poke();
    assert.equal(scheduler.arm(), undefined);
    clock.advance(10_000);
    assert.deepEqual(events, []);
  });

  void test('jitterDelay covers both ends of [0, jitter] and nothing outside', () => {
    assert.equal(
      jitterDelay(1000, () => 0),
      0,
    );
    assert.equal(
      jitterDelay(1000, () => 0.999999999),
      1000,
    );
    assert.equal(
      jitterDelay(0, () => 0.7),
      0,
    );
    assert.equal(
      jitterDelay(1, () => 0.49),
      0,
    );
    assert.equal(
      jitterDelay(1, () => 0.51),
      1,
    );
  });

  void test('over many runs with real randomness, the reload delays spread evenly over [0, jitter]', () => {
    const jitterMs = 30_000;
    const runs = 5000;
    const delays: number[] = [];
    for (let i = 0; i < runs; i++) {
      const { clock, events, scheduler } = setup(1000, jitterMs);
      scheduler.poke();
      clock.advance(1000);
      assert.equal(events.length, 1);
      scheduler.arm();
      const armedAt = clock.now;
      clock.advance(jitterMs);
      const due = events.find((e) => e.kind === 'due');
      assert.ok(due, 'the reload fires within the jitter window');
      delays.push(due.at - armedAt);
    }
    assert.ok(delays.every((d) => Number.isInteger(d) && d >= 0 && d <= jitterMs));
    // Each bound below fails by chance with probability far under 1e-20.
    assert.ok(Math.min(...delays) < jitterMs * 0.01, `min ${Math.min(...delays)}`);
    assert.ok(Math.max(...delays) > jitterMs * 0.99, `max ${Math.max(...delays)}`);
    const deciles = new Array<number>(10).fill(0);
    for (const d of delays) deciles[Math.min(9, Math.floor((d / jitterMs) * 10))]!++;
    for (const count of deciles) assert.ok(count > 300 && count < 700, `deciles ${deciles.join(',')}`);
    const mean = delays.reduce((a, b) => a + b, 0) / runs;
    assert.ok(Math.abs(mean - jitterMs / 2) < jitterMs * 0.05, `mean ${mean}`);
  });
});
