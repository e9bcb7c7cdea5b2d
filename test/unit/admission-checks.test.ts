import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { portClashes, type SidecarPorts } from '../../src/inject/ports.js';
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

/** Sidecars whose ports are all fixed by their templates, unless `moved` says otherwise. */
const fixedPorts = (names: string[], moved: Record<string, SidecarPorts> = {}): Map<string, SidecarPorts> =>
  new Map(names.map((n) => [n, moved[n] ?? { fixed: new Set<number>(), setBy: [] }]));
const DB: Record<string, SidecarPorts> = {
  db: { fixed: new Set([9801]), setBy: ['sidekick.dev/db.instance', 'sidekick.dev/db.port'] },
};

describe('portClashes', () => {
  // name, Pod spec, injected sidecars, problem, warning, sidecars whose ports annotations set
  const cases: [
    string,
    JsonObject,
    string[],
    RegExp | undefined,
    RegExp | undefined,
    Record<string, SidecarPorts>?,
  ][] = [
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
    [
      'a port an annotation sets: the fix names the annotations',
      { initContainers: [sidecar('db', [port(9801), port(5432)])], containers: [app('app', [port(5432)])] },
      ['db'],
      /^port 5432\/TCP clash: sidecar db and container app both listen on it .*; move container app to another port, or give sidecar db another port with annotation sidekick\.dev\/db\.instance or sidekick\.dev\/db\.port$/,
      undefined,
      DB,
    ],
    [
      'a port the template fixes in the same sidecar: no annotation moves it',
      { initContainers: [sidecar('db', [port(9801), port(5432)])], containers: [app('app', [port(9801)])] },
      ['db'],
      /move container app to another port \(db takes this one from its template; no parameter changes it\)$/,
      undefined,
      DB,
    ],
    [
      'two sidecars, one of whose ports an annotation sets',
      { initContainers: [sidecar('db', [port(5432)]), sidecar('t', [port(5432)])], containers: [] },
      ['db', 't'],
      /sidecar db and sidecar t .*; give sidecar db another port with annotation sidekick\.dev\/db\.instance or sidekick\.dev\/db\.port, or inject only one of db and t$/,
      undefined,
      DB,
    ],
    [
      'a port an injected sidecar declares twice',
      {
        initContainers: [
          sidecar('db', [
            { name: 'csql-health', containerPort: 9801 },
            { name: 'csql-9801', containerPort: 9801, protocol: 'TCP' },
          ]),
        ],
        containers: [],
      },
      ['db'],
      /^port 9801\/TCP clash: sidecar db declares it twice \(ports csql-health and csql-9801\) in the Pod's network namespace, and cannot listen on it twice; give one of them another port with annotation sidekick\.dev\/db\.instance/,
      undefined,
      DB,
    ],
    [
      'the same port twice in a container that is not injected is not sidekick’s',
      { initContainers: [sidecar('s', [])], containers: [app('app', [port(80), port(80)])] },
      ['s'],
      undefined,
      undefined,
    ],
  ];
  for (const [name, spec, sidecars, problem, warning, moved] of cases) {
    it(name, () => {
      const problems: string[] = [];
      const warnings: string[] = [];
      portClashes(spec, fixedPorts(sidecars, moved), problems, warnings);
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
