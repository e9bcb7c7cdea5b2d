import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseValue } from '../../src/templates/parameter-value.js';
import {
  canonicalQuantity,
  compareQuantities,
  parseQuantity,
  quantityOf,
} from '../../src/templates/quantity.js';
import type { ParameterSpec } from '../../src/templates/types.js';

describe('parseQuantity and canonicalQuantity (the forms apimachinery stores)', () => {
  const cases: [string, string | RegExp][] = [
    ['0', '0'],
    ['0.5', '500m'],
    ['.5', '500m'],
    ['5.', '5'],
    ['+3', '3'],
    ['-1.5', '-1500m'],
    ['1000m', '1'],
    ['1500m', '1500m'],
    ['0.001', '1m'],
    ['0.0001', '100u'],
    ['0.1m', '100u'],
    ['1n', '1n'],
    ['1e-12', '1e-9'],
    ['100', '100'],
    ['1000', '1k'],
    ['1000k', '1M'],
    ['1000000', '1M'],
    ['1.5G', '1500M'],
    ['1024', '1024'],
    ['1Ki', '1Ki'],
    ['1024Mi', '1Gi'],
    ['1.5Gi', '1536Mi'],
    ['1.5Ki', '1536'],
    ['0.5Gi', '512Mi'],
    ['0.5Ki', '512'],
    ['1023Ki', '1023Ki'],
    ['2000Mi', '2000Mi'],
    ['1e3', '1e3'],
    ['12e6', '12e6'],
    ['1E3', '1e3'],
    ['5.5e3', '5500'],
    ['1E', '1E'],
    ['9E', '9E'],
    ['10E', /too large/],
    ['1e', /not a Kubernetes quantity/],
    ['.', /not a Kubernetes quantity/],
    ['', /not a Kubernetes quantity/],
    [' 1', /not a Kubernetes quantity/],
    ['1 Gi', /not a Kubernetes quantity/],
    ['1gi', /not a Kubernetes quantity/],
    ['1KiB', /not a Kubernetes quantity/],
    ['1.2.3', /not a Kubernetes quantity/],
    ['0x10', /not a Kubernetes quantity/],
    ['1e400', /exponent out of range/],
    ['--1', /not a Kubernetes quantity/],
  ];
  for (const [text, want] of cases) {
    it(`${JSON.stringify(text)} -> ${String(want)}`, () => {
      const q = parseQuantity(text);
      if (want instanceof RegExp) {
        assert.ok(
          'error' in q,
          `expected an error, got ${JSON.stringify(q, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
        );
        assert.match(q.error, want);
      } else {
        assert.ok(!('error' in q), `unexpected error ${'error' in q ? q.error : ''}`);
        assert.equal(canonicalQuantity(q), want);
      }
    });
  }
});

describe('compareQuantities is exact', () => {
  const cases: [string, string, number][] = [
    ['1Gi', '1024Mi', 0],
    ['1Gi', '1073741824', 0],
    ['1G', '1Gi', -1],
    ['500m', '0.5', 0],
    ['1m', '1000u', 0],
    ['999999999n', '1', -1],
    ['1.000000001', '1', 1],
    ['9223372036854775807', '9223372036854775806', 1],
    ['8Ei', '9223372036854775807', 1],
    ['-1', '0', -1],
    ['1e3', '1k', 0],
  ];
  for (const [a, b, want] of cases) {
    it(`${a} vs ${b}: ${want}`, () => {
      if (a === '8Ei') {
        // 8Ei is 2^63, one more than Kubernetes keeps: refused rather than capped.
        assert.ok('error' in parseQuantity(a));
        return;
      }
      assert.equal(compareQuantities(quantityOf(a), quantityOf(b)), want);
      assert.equal(compareQuantities(quantityOf(b), quantityOf(a)), want === 0 ? 0 : -want);
    });
  }
});

describe('quantity parameters', () => {
  const spec: ParameterSpec = {
    name: 'requests.cpu',
    type: 'quantity',
    description: 'x',
    required: false,
    quantityMinimum: '10m',
    quantityMaximum: '4',
  };
  const cases: [string, string | RegExp][] = [
    ['250m', '250m'],
    ['0.25', '250m'],
    [' 1 ', '1'],
    ['4', '4'],
    ['4000m', '4'],
    ['10m', '10m'],
    ['4001m', /is too large \(want a Kubernetes quantity from 10m to 4\)/],
    ['9m', /is too small/],
    ['-1', /is too small/],
    ['1 cpu', /is not a Kubernetes quantity/],
    ['{{ port }}', /is not a Kubernetes quantity/],
  ];
  for (const [text, want] of cases) {
    it(JSON.stringify(text), () => {
      const got = parseValue(spec, text);
      if (want instanceof RegExp) {
        assert.ok('error' in got);
        assert.match(got.error, want);
      } else assert.deepEqual(got, { value: want });
    });
  }
  it('without bounds, any quantity fits and the message gives examples', () => {
    const open: ParameterSpec = { name: 'q', type: 'quantity', description: 'x', required: false };
    assert.deepEqual(parseValue(open, '-3Gi'), { value: '-3Gi' });
    const bad = parseValue(open, 'lots');
    assert.ok('error' in bad);
    assert.match(bad.error, /such as 250m, 1.5, 512Mi or 1Gi/);
  });
});
