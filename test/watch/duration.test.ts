import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration } from '../../src/watch/duration.js';

void test('parseDuration reads Go-style durations into milliseconds', () => {
  const cases: [string, number][] = [
    ['0', 0],
    ['0s', 0],
    ['500ms', 500],
    ['1s', 1000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['1m30s250ms', 90_250],
    ['750us', 1],
    ['1500000ns', 2],
    [' 3s ', 3000],
  ];
  for (const [text, ms] of cases) {
    assert.deepEqual(parseDuration(text), { ok: true, ms }, text);
  }
});

void test('parseDuration rejects what Go would reject, saying where', () => {
  for (const text of ['', '5', '1d', '-1s', 's', '1s2', '1 s', 'abc', '1h 30m']) {
    const result = parseDuration(text);
    assert.equal(result.ok, false, text);
  }
  const bad = parseDuration('1h30x');
  assert.ok(!bad.ok && bad.message.includes("'30x'"), JSON.stringify(bad));
});

void test('formatDuration is readable', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(1500), '1.5s');
});
