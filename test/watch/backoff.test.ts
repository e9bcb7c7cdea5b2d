import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, DEFAULT_BACKOFF } from '../../src/watch/backoff.js';

void test('backoff doubles from 250ms, caps at 30s, and spreads over the upper half', () => {
  const ceilings = [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000];
  ceilings.forEach((ceiling, attempt) => {
    assert.equal(
      backoffDelay(attempt, () => 0),
      ceiling / 2,
      `attempt ${attempt} low`,
    );
    assert.equal(
      backoffDelay(attempt, () => 1),
      ceiling,
      `attempt ${attempt} high`,
    );
  });
  assert.equal(
    backoffDelay(10_000, () => 1),
    DEFAULT_BACKOFF.maxMs,
  );
  assert.equal(
    backoffDelay(-3, () => 1),
    250,
  );
  assert.equal(
    backoffDelay(2, () => 0.5, { initialMs: 10, maxMs: 25 }),
    19,
  );
});
