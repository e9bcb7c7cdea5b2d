import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyPod } from '../../src/inject/verify.js';
import type { JsonObject } from '../../src/json.js';

const sidecar = (name: string, extra: JsonObject = {}): JsonObject => ({
  name,
  image: 'x',
  restartPolicy: 'Always',
  ...extra,
});

describe('verifyPod', () => {
  const cases: [string, JsonObject, string[], RegExp | undefined][] = [
    ['a good Pod', { initContainers: [sidecar('s')], containers: [{ name: 'app' }] }, ['s'], undefined],
    [
      'duplicate container names across lists',
      { initContainers: [sidecar('app')], containers: [{ name: 'app' }] },
      ['app'],
      /container name app is used twice/,
    ],
    [
      'duplicate volumes',
      { containers: [{ name: 'app' }], volumes: [{ name: 'v' }, { name: 'v' }] },
      [],
      /volume name v is used twice/,
    ],
    [
      'dangling mount',
      { containers: [{ name: 'app', volumeMounts: [{ name: 'gone', mountPath: '/x' }] }] },
      [],
      /container app mounts volume gone, which the Pod does not have/,
    ],
    ['missing sidecar', { containers: [{ name: 'app' }] }, ['s'], /sidecar s is missing/],
    [
      'restartPolicy stripped',
      { initContainers: [{ name: 's' }], containers: [{ name: 'app' }] },
      ['s'],
      /sidecar s lacks restartPolicy: Always/,
    ],
    [
      'a run-once sidecar without restartPolicy',
      { initContainers: [{ name: 'once' }, sidecar('s')], containers: [{ name: 'app' }] },
      ['once', 's'],
      undefined,
    ],
    [
      'a run-once sidecar given restartPolicy',
      { initContainers: [sidecar('once')], containers: [{ name: 'app' }] },
      ['once'],
      /sidecar once runs once, but has restartPolicy "Always"/,
    ],
    [
      'a run-once sidecar with a probe',
      { initContainers: [{ name: 'once', startupProbe: {} }], containers: [{ name: 'app' }] },
      ['once'],
      /sidecar once runs once as a plain init container, which cannot have a startupProbe/,
    ],
    [
      'out of order',
      { initContainers: [sidecar('b'), sidecar('a')], containers: [{ name: 'app' }] },
      ['a', 'b'],
      /sidecar b is out of order/,
    ],
  ];
  for (const [name, spec, sidecars, want] of cases) {
    it(name, () => {
      const problems = verifyPod({ spec }, sidecars, new Set(['once']));
      if (want === undefined) assert.deepEqual(problems, []);
      else
        assert.ok(
          problems.some((p) => want.test(p)),
          problems.join('\n') || 'no problem found',
        );
    });
  }
});
