import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { analyze, type Finding } from '../../src/check/analyze.js';
import type { ClusterSnapshot } from '../../src/check/gather.js';
import { json, table } from '../../src/check/report.js';
import { statusHash, statusKey } from '../../src/inject/status-hash.js';
import type { JsonObject } from '../../src/json.js';
import type { TemplateSet } from '../../src/templates/types.js';
import { repoPath } from '../support/paths.js';
import { loadTemplateDirs } from '../support/templates.js';

let builtin: TemplateSet;
before(async () => {
  builtin = await loadTemplateDirs([repoPath('templates')]);
});

const namespace = (name: string, optedIn: boolean): JsonObject => ({
  kind: 'Namespace',
  metadata: { name, labels: optedIn ? { 'sidekick.dev/injection': 'enabled' } : {} },
});

function deployment(ns: string, name: string, annotations: Record<string, string>): JsonObject {
  return {
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      template: { metadata: { annotations }, spec: { containers: [{ name: 'app', image: 'app:1' }] } },
    },
  };
}

function runningPod(ns: string, name: string, status: string, phase = 'Running'): JsonObject {
  return {
    kind: 'Pod',
    metadata: { name, namespace: ns, annotations: { 'sidekick.dev/status': status } },
    status: { phase },
  };
}

function snapshot(parts: Partial<ClusterSnapshot>): ClusterSnapshot {
  return {
    webhooks: [
      { object: 'MutatingWebhookConfiguration sidekick (inject.sidekick.dev)', problems: [], notes: ['ok'] },
    ],
    namespaces: [namespace('team-a', true), namespace('plain', false)],
    workloads: [],
    pods: [],
    current: builtin,
    ...parts,
  };
}

const run = (s: ClusterSnapshot, preview?: TemplateSet): Finding[] =>
  analyze(s, { prefix: 'sidekick.dev', injectorNamespace: 'sidekick', preview, fallback: builtin });

const of = (findings: Finding[], check: Finding['check']): Finding[] =>
  findings.filter((f) => f.check === check);

describe('sidekick check: the judgement of a snapshot', () => {
  it('reports a workload asking for sidecars where its namespace is not opted in', () => {
    const found = run(
      snapshot({ workloads: [deployment('plain', 'web', { 'sidekick.dev/inject': 'log-shipper' })] }),
    );
    assert.deepEqual(of(found, 'not-opted-in'), [
      {
        check: 'not-opted-in',
        severity: 'problem',
        object: 'Deployment plain/web',
        detail:
          'asks for log-shipper, but namespace plain is not opted in (label sidekick.dev/injection=enabled): its Pods get no sidecars',
      },
    ]);
    assert.deepEqual(of(found, 'namespaces'), [
      { check: 'namespaces', severity: 'ok', object: 'opted in', detail: 'team-a' },
    ]);
  });

  it('reports workloads the templates would refuse, with the message their Pods would get', () => {
    const found = run(
      snapshot({ workloads: [deployment('team-a', 'db', { 'sidekick.dev/inject': 'db-proxy' })] }),
    );
    const [refused] = of(found, 'refused');
    assert.ok(refused, 'nothing refused');
    assert.equal(refused.severity, 'problem');
    assert.equal(refused.object, 'Deployment team-a/db');
    assert.match(refused.detail, /^annotation sidekick\.dev\/db-proxy\.instance is required/);
  });

  it('previews a template change: the workloads whose new Pods would differ', () => {
    const shipper = builtin.templates.get('log-shipper');
    assert.ok(shipper);
    const changed: TemplateSet = {
      ...builtin,
      templates: new Map([
        ...builtin.templates,
        [
          'log-shipper',
          { ...shipper, hash: 'changed', container: { ...shipper.container, image: 'fluent-bit:9' } },
        ],
      ]),
    };
    const workloads = [
      deployment('team-a', 'logs', { 'sidekick.dev/inject': 'log-shipper' }),
      deployment('team-a', 'otel', {
        'sidekick.dev/inject': 'otel-collector',
        'sidekick.dev/otel-collector.endpoint': 'collector:4317',
      }),
    ];
    assert.deepEqual(of(run(snapshot({ workloads })), 'changed'), [], 'no preview without --templates');
    assert.deepEqual(of(run(snapshot({ workloads }), changed), 'changed'), [
      {
        check: 'changed',
        severity: 'notice',
        object: 'Deployment team-a/logs',
        detail: 'new Pods would get changed sidecars: log-shipper',
      },
    ]);
  });

  it('reports running Pods whose templates hash is not the current one, and skips finished ones', () => {
    const shipper = builtin.templates.get('log-shipper');
    assert.ok(shipper);
    const current = statusHash(statusKey([shipper]));
    const pods = [
      runningPod('team-a', 'fresh', JSON.stringify({ sidecars: ['log-shipper'], templates: current })),
      runningPod('team-a', 'old', JSON.stringify({ sidecars: ['log-shipper'], templates: 'abc' })),
      runningPod('team-a', 'gone', JSON.stringify({ sidecars: ['nope'], templates: 'abc' })),
      runningPod(
        'team-a',
        'done',
        JSON.stringify({ sidecars: ['log-shipper'], templates: 'abc' }),
        'Succeeded',
      ),
      runningPod('team-a', 'garbled', 'not json'),
    ];
    const stale = of(run(snapshot({ pods })), 'stale');
    assert.deepEqual(
      stale.map((f) => f.object),
      ['Pod team-a/old', 'Pod team-a/gone', 'Pod team-a/garbled'],
    );
    assert.match(stale[0]?.detail ?? '', new RegExp(`come from templates abc, not the current ${current}`));
    assert.equal(stale[1]?.detail, 'runs nope, which the current templates no longer have');
  });

  it('says so when the cluster’s templates cannot be read, and judges with the built-in ones', () => {
    const found = run(snapshot({ current: 'ConfigMap sidekick/sidekick-templates cannot be read: 403' }));
    assert.equal(of(found, 'templates')[0]?.severity, 'problem');
  });

  it('prints a table with a summary, and JSON with the count of problems', () => {
    const found = run(
      snapshot({ workloads: [deployment('plain', 'web', { 'sidekick.dev/inject': 'log-shipper' })] }),
    );
    const text = table(found);
    assert.match(text, /^CHECK {9}RESULT {3}OBJECT {2,}DETAIL\n/);
    assert.match(text, /\nnot-opted-in {2}problem {2}Deployment plain\/web {2,}asks for log-shipper/);
    assert.match(text, /\n\n1 problem found\n$/);
    const parsed = JSON.parse(json(found)) as { problems: number; findings: Finding[] };
    assert.equal(parsed.problems, 1);
    assert.deepEqual(parsed.findings, found);
  });
});
