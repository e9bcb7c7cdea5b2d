import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedCache } from '../../src/bounded-cache.js';

describe('BoundedCache', () => {
  it('makes a value once per key', () => {
    const cache = new BoundedCache<string, number>(10);
    let made = 0;
    const make = (): number => ++made;
    assert.equal(cache.get('a', make), 1);
    assert.equal(cache.get('a', make), 1);
    assert.equal(cache.get('b', make), 2);
    assert.equal(made, 2);
  });

  it('starts over when full, so it never holds more than its limit', () => {
    const cache = new BoundedCache<number, number>(3);
    let made = 0;
    const make = (): number => ++made;
    for (const key of [1, 2, 3]) cache.get(key, make);
    assert.equal(made, 3);
    cache.get(4, make); // full: everything before is dropped
    assert.equal(made, 4);
    cache.get(4, make);
    assert.equal(made, 4);
    cache.get(1, make);
    assert.equal(made, 5);
  });
});
