import fc from 'fast-check';

/** Strings that have broken parsers, templating and object handling elsewhere. */
export const HOSTILE_WORDS: readonly string[] = [
  '',
  ' ',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '../',
  '../../etc/passwd',
  '/',
  '~',
  '~1',
  'a/b',
  '"',
  "'",
  '\\',
  '{{ x }}',
  '{{ instance }}',
  '{{port}}',
  '{{ volume }}',
  '$when',
  '$value',
  '$json',
  '${HOME}',
  '$(HOME)',
  '\n',
  'a\nb',
  '\r\n',
  '\t',
  '\u0000',
  '\u202e',
  '\ud800',
  '😀',
  'ä',
  'null',
  'true',
  '0',
  '-1',
  '5432',
  '1e3',
  ',',
  ', ,',
  'image',
  'privileged',
  'capabilities',
  'add',
  'SYS_ADMIN',
  'hostPath',
  'runAsUser',
  'securityContext',
  'name',
  'args',
  'env',
  'restartPolicy',
  '{"a":1}',
  '[1]',
  '--privileged',
  'nginx:latest',
];

const LONG = fc.constantFrom('a'.repeat(64), 'a'.repeat(254), 'x'.repeat(4096), 'b'.repeat(70_000));

/** Any string at all, leaning on the hostile ones; rarely a huge one (they are slow to check). */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...HOSTILE_WORDS), weight: 60 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 20 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }), weight: 20 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 8 }), weight: 10 },
  { arbitrary: LONG, weight: 1 },
);

/** A DNS-1123 label, the shape of real container and volume names. */
export const dnsLabel: fc.Arbitrary<string> = fc.stringMatching(/^[a-z]([-a-z0-9]{0,8}[a-z0-9])?$/);

/**
 * A name as a Pod might carry it: mostly usual, sometimes colliding on purpose with what the
 * templates add (sidecar and volume names), sometimes hostile.
 */
export function nameFrom(usual: readonly string[], colliding: readonly string[] = []): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...usual), weight: 16 },
    { arbitrary: colliding.length > 0 ? fc.constantFrom(...colliding) : dnsLabel, weight: 1 },
    { arbitrary: dnsLabel, weight: 3 },
    { arbitrary: hostileString, weight: 1 },
  );
}

/** Builds a plain object, keeping keys such as `__proto__` as own data keys. */
export function objectOf<T>(entries: readonly (readonly [string, T | undefined])[]): Record<string, T> {
  const present = entries.filter((e): e is readonly [string, T] => e[1] !== undefined);
  return Object.fromEntries(present);
}
