import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { portClashes } from '../../src/inject/ports.js';
import { signalUidProblems } from '../../src/inject/signal-uid.js';
import type { JsonObject } from '../../src/json.js';

const port = (containerPort: number, protocol?: string): JsonObject =>
  protocol === undefined ? { containerPort } : { containerPort, protocol };
const sidecar = (name: string, ports: JsonObject[], extra: JsonObject = {}): JsonObject => ({
  name,
  restartPolicy: 'Always',
  ports,
  ...extra,
});
const app = (name: string, ports: JsonObject[], extra: JsonObject = {}): JsonObject => ({
  name,
  ports,
  ...extra,
});

describe('portClashes', () => {
  // name, Pod spec, injected sidecars, problem, warning
  const cases: [string, JsonObject, string[], RegExp | undefined, RegExp | undefined][] = [
    [
      'no clash',
      { initContainers: [sidecar('s', [port(4317)])], containers: [app('app', [port(8080)])] },
      ['s'],
      undefined,
      undefined,
    ],
    [
      'a sidecar and an app container (protocol defaults to TCP)',
      { initContainers: [sidecar('s', [port(4317, 'TCP')])], containers: [app('app', [port(4317)])] },
      ['s'],
      /^port 4317\/TCP clash: sidecar s and container app both listen on it in the Pod's network namespace, .*move container app to another port/,
      undefined,
    ],
    [
      'another protocol is no clash',
      { initContainers: [sidecar('s', [port(53)])], containers: [app('app', [port(53, 'UDP')])] },
      ['s'],
      undefined,
      undefined,
    ],
    [
      'two injected sidecars',
      { initContainers: [sidecar('s', [port(9000)]), sidecar('t', [port(9000)])], containers: [] },
      ['s', 't'],
      /port 9000\/TCP clash: sidecar s and sidecar t .*inject only one of s and t/,
      undefined,
    ],
    [
      "the Pod's own native sidecar",
      { initContainers: [sidecar('s', [port(9000)]), sidecar('own', [port(9000)])], containers: [] },
      ['s'],
      /sidecar s and container own/,
      undefined,
    ],
    [
      'a plain init container after the sidecar runs alongside it',
      { initContainers: [sidecar('s', [port(9000)]), app('migrate', [port(9000)])], containers: [] },
      ['s'],
      /sidecar s and container migrate/,
      undefined,
    ],
    [
      'a plain init container before the sidecar has exited when it starts',
      { initContainers: [app('migrate', [port(9000)]), sidecar('s', [port(9000)])], containers: [] },
      ['s'],
      undefined,
      undefined,
    ],
    [
      'clashes between app containers are not sidekick’s',
      { initContainers: [sidecar('s', [])], containers: [app('a', [port(80)]), app('b', [port(80)])] },
      ['s'],
      undefined,
      undefined,
    ],
    [
      'hostNetwork names the node',
      {
        hostNetwork: true,
        initContainers: [sidecar('s', [port(2020)])],
        containers: [app('app', [port(2020)])],
      },
      ['s'],
      /in the node's network namespace \(hostNetwork\)/,
      undefined,
    ],
    [
      'a numeric probe port only warns',
      {
        initContainers: [sidecar('s', [port(13133)])],
        containers: [app('app', [], { startupProbe: { tcpSocket: { port: 13133 } } })],
      },
      ['s'],
      undefined,
      /^port 13133\/TCP: sidecar s and container app may both use it .*container app probes it/,
    ],
    [
      'a named probe port is a declared one',
      {
        initContainers: [sidecar('s', [port(9000)])],
        containers: [app('app', [port(8080)], { readinessProbe: { httpGet: { port: 'http' } } })],
      },
      ['s'],
      undefined,
      undefined,
    ],
  ];
  for (const [name, spec, sidecars, problem, warning] of cases) {
    it(name, () => {
      const problems: string[] = [];
      const warnings: string[] = [];
      portClashes(spec, new Set(sidecars), problems, warnings);
      if (problem === undefined) assert.deepEqual(problems, []);
      else {
        assert.equal(problems.length, 1, problems.join('\n'));
        assert.match(problems[0] ?? '', problem);
      }
      if (warning === undefined) assert.deepEqual(warnings, []);
      else {
        assert.equal(warnings.length, 1, warnings.join('\n'));
        assert.match(warnings[0] ?? '', warning);
      }
    });
  }
});

describe('signalUidProblems', () => {
  const watcher = (uid?: number): JsonObject =>
    uid === undefined ? { name: 'w' } : { name: 'w', securityContext: { runAsUser: uid } };
  const container = (name: string, uid?: number): JsonObject =>
    uid === undefined ? { name } : { name, securityContext: { runAsUser: uid } };
  const podUid = (uid: number): JsonObject => ({ securityContext: { runAsUser: uid } });
  const cases: [string, JsonObject, string[], RegExp | undefined][] = [
    ['no signalling sidecar', { initContainers: [watcher()], containers: [container('a')] }, [], undefined],
    [
      'the Pod sets no runAsUser',
      { initContainers: [watcher()], containers: [container('a')] },
      ['w'],
      /^w signals the app, .*but the Pod sets no runAsUser.*set the Pod's spec\.securityContext\.runAsUser.*sidekick\.dev\/w\.url/,
    ],
    [
      'only the app container sets one',
      { initContainers: [watcher()], containers: [container('a', 1000)] },
      ['w'],
      /the Pod sets no runAsUser/,
    ],
    [
      'the Pod sets one for all',
      { ...podUid(101), initContainers: [watcher()], containers: [container('a')] },
      ['w'],
      undefined,
    ],
    [
      'an app container overrides it',
      { ...podUid(101), initContainers: [watcher()], containers: [container('a'), container('b', 1000)] },
      ['w'],
      /w runs as 101 and container b runs as 1000/,
    ],
    [
      'the same UID set on each container',
      { initContainers: [watcher(7)], containers: [container('a', 7)] },
      ['w'],
      undefined,
    ],
    [
      'an app container without one while the watcher has its own',
      { initContainers: [watcher(7)], containers: [container('a', 7), container('b')] },
      ['w'],
      /container b sets no runAsUser/,
    ],
  ];
  for (const [name, spec, signalling, problem] of cases) {
    it(name, () => {
      const problems = signalUidProblems(spec, signalling, 'sidekick.dev');
      if (problem === undefined) assert.deepEqual(problems, []);
      else {
        assert.equal(problems.length, 1, problems.join('\n'));
        assert.match(problems[0] ?? '', problem);
      }
    });
  }
});
