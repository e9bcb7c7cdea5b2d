import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  EventParser,
  parseSubscribeQuery,
  serializeEvent,
  subscribeQuery,
  type ObjectContent,
  type RelayEvent,
} from '../../../src/relay/protocol.js';

const name = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
const content: fc.Arbitrary<ObjectContent> = fc.oneof(
  fc.record({ kind: fc.constant('ConfigMap' as const), name, deleted: fc.constant(true as const) }),
  fc.record(
    {
      kind: fc.constantFrom('ConfigMap' as const, 'Secret' as const),
      name,
      resourceVersion: fc.stringMatching(/^[0-9]{1,9}$/),
      // Any text, newlines and unicode included: JSON escapes them onto one data line.
      data: fc.dictionary(fc.string({ minLength: 1 }), fc.string({ unit: 'binary' })),
      binaryData: fc.dictionary(fc.string({ minLength: 1 }), fc.base64String()),
    },
    { requiredKeys: ['kind', 'name', 'resourceVersion', 'data'] },
  ),
);
const event: fc.Arbitrary<RelayEvent> = fc.oneof(
  content.map((object) => ({ event: 'object' as const, object })),
  fc.constant({ event: 'synced' as const }),
  fc.constant({ event: 'shutdown' as const }),
  fc.constant({ event: 'ping' as const }),
);

/** Cuts a string at the given fractions, as a TCP stream may. */
function split(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((f) => Math.floor(f * text.length)))].sort((a, b) => a - b);
  const parts: string[] = [];
  let from = 0;
  for (const point of points) {
    parts.push(text.slice(from, point));
    from = point;
  }
  parts.push(text.slice(from));
  return parts;
}

describe('relay protocol', () => {
  it('parses what it serialises, however the stream is cut', () => {
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 8 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true })),
        (events, cuts) => {
          const parser = new EventParser();
          const wire = events.map(serializeEvent).join('');
          const got = split(wire, cuts).flatMap((part) => parser.push(part));
          assert.deepEqual(got, JSON.parse(JSON.stringify(events)));
        },
      ),
    );
  });

  it('frames an object as event and one data line of JSON', () => {
    const text = serializeEvent({
      event: 'object',
      object: { kind: 'ConfigMap', name: 'app', resourceVersion: '7', data: { 'a.conf': 'x\ny' } },
    });
    assert.equal(
      text,
      'event: object\ndata: {"kind":"ConfigMap","name":"app","resourceVersion":"7","data":{"a.conf":"x\\ny"}}\n\n',
    );
  });

  it('reads CRLF framing, data without a space, and ignores other comments', () => {
    const parser = new EventParser();
    const got = parser.push(': hello\r\nevent:synced\r\ndata:{}\r\n\r\n:ping\r\n\r\n');
    assert.deepEqual(got, [{ event: 'synced' }, { event: 'ping' }]);
  });

  it('refuses an unknown event and an object without a kind', () => {
    assert.throws(() => new EventParser().push('event: nope\ndata: {}\n\n'), /unknown relay event "nope"/);
    assert.throws(() => new EventParser().push('event: object\ndata: {"name":"a"}\n\n'), /kind undefined/);
    assert.throws(
      () =>
        new EventParser().push(
          'event: object\ndata: {"kind":"ConfigMap","name":"a","resourceVersion":"1","data":{"k":1}}\n\n',
        ),
      /data is not a map of strings/,
    );
  });

  it('keeps keys such as __proto__ as plain data', () => {
    const parser = new EventParser();
    const [got] = parser.push(
      'event: object\ndata: {"kind":"ConfigMap","name":"a","resourceVersion":"1","data":{"__proto__":"v"}}\n\n',
    );
    assert.ok(got?.event === 'object' && !('deleted' in got.object));
    assert.equal(Object.getPrototypeOf(got.object.data), Object.prototype);
    assert.deepEqual(Object.keys(got.object.data), ['__proto__']);
  });

  it('builds and reads the subscribe query', () => {
    const query = subscribeQuery([
      { kind: 'ConfigMap', name: 'a' },
      { kind: 'Secret', name: 'b' },
      { kind: 'ConfigMap', name: 'c' },
    ]);
    assert.equal(query, '/v1/subscribe?configmap=a&secret=b&configmap=c');
    const parsed = parseSubscribeQuery(new URL(query, 'https://relay').searchParams);
    assert.deepEqual(parsed, {
      ok: true,
      objects: [
        { kind: 'ConfigMap', name: 'a' },
        { kind: 'Secret', name: 'b' },
        { kind: 'ConfigMap', name: 'c' },
      ],
    });
  });

  it('refuses an empty query, an unknown parameter and a bad name', () => {
    const parse = (q: string) => parseSubscribeQuery(new URLSearchParams(q));
    assert.deepEqual(parse(''), {
      ok: false,
      problem: 'name at least one configmap=<name> or secret=<name>',
    });
    assert.match(JSON.stringify(parse('namespace=x&configmap=a')), /unknown parameter \\"namespace\\"/);
    assert.match(JSON.stringify(parse('configmap=../etc')), /not a valid object name/);
  });
});
