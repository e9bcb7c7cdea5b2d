// The checks behind the properties must be able to fail: each is shown a violation it has to
// catch, next to the real outcome it has to accept.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as prettier from 'prettier';
import { injectPod } from '../../src/inject/index.js';
import { isObject, type Json, type JsonObject } from '../../src/json.js';
import type { TemplateSet } from '../../src/templates/types.js';
import { repoPath } from '../support/paths.js';
import { injectOptions } from './support/cases.js';
import { runConfig } from './support/config.js';
import { damaged } from './support/damage.js';
import { checkParametersAreData, containerShape } from './support/data-checks.js';
import { applied, strictApply } from './support/json-patch.js';
import { mutated } from './support/mutate.js';
import { listAt, nameOf, specOf } from './support/pod-view.js';
import { parseRegression, readRegressions, writeRegression } from './support/regressions.js';
import { fits } from './support/shape.js';
import { propertyTemplates } from './support/templates.js';

let templates: TemplateSet;

before(async () => {
  templates = await propertyTemplates();
});

const CASE = { namespace: 'team-a', prefix: 'sidekick.dev' };

function webPod(annotations: JsonObject): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', annotations },
    spec: {
      containers: [{ name: 'app', image: 'nginx:1.27' }],
      initContainers: [{ name: 'migrate', image: 'migrate:1' }],
    },
  };
}

const OTEL = { 'sidekick.dev/inject': 'otel-collector', 'sidekick.dev/otel-collector.endpoint': 'otel:4317' };
const LOGS = { 'sidekick.dev/inject': 'log-shipper', 'sidekick.dev/log-shipper.path': '/logs' };

function injected(pod: JsonObject): { pod: JsonObject; sidecars: string[] } {
  const outcome = injectPod(pod, injectOptions(templates, CASE));
  assert.ok(outcome.decision === 'inject', JSON.stringify(outcome));
  return { pod: outcome.pod, sidecars: outcome.sidecars };
}

function sidecar(pod: JsonObject, name: string): JsonObject {
  const found = listAt(specOf(pod), 'initContainers').find((c) => nameOf(c) === name);
  assert.ok(isObject(found));
  return found;
}

describe('parameters-are-data check', () => {
  const tamper = (annotations: JsonObject, change: (pod: JsonObject) => void): (() => void) => {
    const input = webPod(annotations);
    const injection = injected(input);
    const { sidecars } = injection;
    // The injected sidecars may be shared, frozen renderings: the damage is done to a copy.
    const pod = structuredClone(injection.pod);
    change(pod);
    return () => {
      checkParametersAreData(templates, 'sidekick.dev', input, pod, sidecars);
    };
  };

  it('accepts a real injection', () => {
    tamper(OTEL, () => undefined)();
    tamper(LOGS, () => undefined)();
  });

  it('catches an image taken from an annotation value', () => {
    assert.throws(
      tamper(OTEL, (pod) => {
        sidecar(pod, 'otel-collector').image = 'otel:4317';
      }),
      /image/,
    );
  });

  it('catches a privilege, an added capability and a root user', () => {
    const security = (set: (sc: JsonObject) => void) =>
      tamper(OTEL, (pod) => {
        const sc = sidecar(pod, 'otel-collector').securityContext;
        assert.ok(isObject(sc));
        set(sc);
      });
    assert.throws(
      security((sc) => (sc.privileged = true)),
      /privileged/,
    );
    assert.throws(
      security((sc) => (sc.capabilities = { add: ['SYS_ADMIN'], drop: ['ALL'] })),
      /capabilities/,
    );
    assert.throws(
      security((sc) => (sc.runAsUser = 0)),
      /runAsUser/,
    );
  });

  it('catches a $(VAR) expansion brought by a value', () => {
    assert.throws(
      tamper({ ...OTEL, 'sidekick.dev/db-proxy.instance': '$(HOME)' }, (pod) => {
        sidecar(pod, 'otel-collector').args = ['--config=$(HOME)'];
      }),
      /expansion/,
    );
  });

  it('catches a key, an item and a JSON member the template does not declare', () => {
    assert.throws(
      tamper(OTEL, (pod) => {
        sidecar(pod, 'otel-collector')['otel:4317'] = 'x';
      }),
      /does not declare.*"otel:4317"/s,
    );
    assert.throws(
      tamper(OTEL, (pod) => {
        const args = sidecar(pod, 'otel-collector').args;
        assert.ok(Array.isArray(args));
        args.push('--privileged');
      }),
      /items at args/,
    );
    assert.throws(
      tamper(OTEL, (pod) => {
        const env = sidecar(pod, 'otel-collector').env;
        const config = Array.isArray(env) ? env.find((e) => nameOf(e) === 'OTELCOL_CONFIG') : undefined;
        assert.ok(isObject(config) && typeof config.value === 'string');
        const parsed = JSON.parse(config.value) as JsonObject;
        parsed.extensions = { pprof: { endpoint: '0.0.0.0:1777' } };
        config.value = JSON.stringify(parsed);
      }),
      /inside the JSON/,
    );
  });

  it('catches a hostPath volume and a volume no template declares', () => {
    assert.throws(
      tamper(LOGS, (pod) => {
        const volume = listAt(specOf(pod), 'volumes').find((v) => nameOf(v) === 'sidekick-log-shipper-logs');
        assert.ok(isObject(volume));
        volume.hostPath = { path: '/' };
      }),
      /hostPath|does not declare/,
    );
    assert.throws(
      tamper(LOGS, (pod) => {
        const spec = specOf(pod);
        assert.ok(isObject(spec));
        spec.volumes = [
          ...listAt(spec, 'volumes'),
          { name: 'sidekick-log-shipper-root', hostPath: { path: '/' } },
        ];
      }),
      /no injected template declares it/,
    );
  });

  it('knows what config-watcher adds per watched volume', () => {
    const shape = containerShape(templates.templates.get('config-watcher')!);
    const rendered: Json = { name: 'config-watcher', args: ['watch', '--dir=/a', '--dir=/b', '--dir=/c'] };
    assert.deepEqual(fits(shape, rendered, []), []);
    assert.notDeepEqual(fits(shape, { ...rendered, volumeMounts: [{ name: 'a', subPath: 'x' }] }, []), []);
  });
});

describe('patch appliers', () => {
  it('apply what sidekick writes and agree', () => {
    const doc: Json = { a: [1, 2], b: { c: 1 } };
    const patch = [
      { op: 'add' as const, path: '/a/1', value: 9 },
      { op: 'replace' as const, path: '/b/c', value: 2 },
      { op: 'remove' as const, path: '/a/0' },
      { op: 'add' as const, path: '/b/d~1e', value: true },
    ];
    assert.deepEqual(applied(doc, patch), { a: [9, 2], b: { c: 2, 'd/e': true } });
    assert.deepEqual(doc, { a: [1, 2], b: { c: 1 } }, 'the input must stay as it was');
  });

  it('refuse paths that do not exist, as the apiserver does', () => {
    assert.throws(() => strictApply({ a: [] }, [{ op: 'add', path: '/a/1', value: 1 }]), /out of range/);
    assert.throws(() => strictApply({ a: {} }, [{ op: 'replace', path: '/a/b', value: 1 }]), /missing/);
    assert.throws(() => strictApply({ a: {} }, [{ op: 'remove', path: '/a/b' }]), /missing/);
    assert.throws(() => strictApply({}, [{ op: 'add', path: '/x/y', value: 1 }]), /no member/);
    assert.throws(() => applied({ a: [] }, [{ op: 'add', path: '/a/1', value: 1 }]));
  });

  it('treat __proto__ as a plain key', () => {
    const out = strictApply(JSON.parse('{"m":{}}') as Json, [
      { op: 'add', path: '/m/__proto__', value: { x: 1 } },
    ]);
    assert.equal(JSON.stringify(out), '{"m":{"__proto__":{"x":1}}}');
    assert.equal(Object.getPrototypeOf(isObject(out) ? out.m : null), Object.prototype);
  });
});

describe('case builders', () => {
  it('mutate at the node the steps reach, and nest deep without recursion', () => {
    const root: Json = { a: [1, 2, 3], b: 'x' };
    assert.deepEqual(mutated(root, [{ steps: [0, 1], action: 'replace', replacement: 'y', depth: 0 }]), {
      a: [1, 'y', 3],
      b: 'x',
    });
    assert.deepEqual(mutated(root, [{ steps: [1], action: 'delete', replacement: null, depth: 0 }]), {
      a: [1, 2, 3],
    });
    const deep = mutated(root, [{ steps: [1], action: 'nest', replacement: null, depth: 1500 }]);
    assert.equal(JSON.stringify(deep).split('[').length - 1, 751);
    assert.deepEqual(root, { a: [1, 2, 3], b: 'x' }, 'the input must stay as it was');
  });

  it('damage an injected Pod as other webhooks do', () => {
    const { pod, sidecars } = injected(webPod(LOGS));
    const stripped = damaged(pod, [{ kind: 'stripRestartPolicy', index: 0 }], sidecars);
    assert.equal(sidecar(stripped, 'log-shipper').restartPolicy, undefined);
    const moved = damaged(pod, [{ kind: 'moveToEnd', index: 0 }], sidecars);
    assert.deepEqual(listAt(specOf(moved), 'initContainers').map(nameOf), ['migrate', 'log-shipper']);
    const gone = damaged(pod, [{ kind: 'removeVolume', index: 0 }], sidecars);
    assert.equal(listAt(specOf(gone), 'volumes').length, listAt(specOf(pod), 'volumes').length - 1);
    assert.equal(sidecar(pod, 'log-shipper').restartPolicy, 'Always', 'the input must stay as it was');
  });
});

describe('run configuration', () => {
  it('is fixed by default and overridden by the environment', () => {
    const fixed = runConfig({});
    assert.equal(fixed.source, 'defaults');
    assert.ok(fixed.totalRuns >= 100_000, 'CI must run at least 10^5 cases');
    assert.deepEqual(runConfig({ SIDEKICK_FUZZ_SEED: '-7', SIDEKICK_FUZZ_RUNS: '10' }), {
      seed: -7,
      totalRuns: 10,
      source: 'environment',
    });
    assert.throws(() => runConfig({ SIDEKICK_FUZZ_RUNS: '0' }), /at least 1/);
    assert.throws(() => runConfig({ SIDEKICK_FUZZ_SEED: 'abc' }), /not an integer/);
    assert.throws(() => runConfig({ SIDEKICK_FUZZ_SEED: String(2 ** 31) }), /32 bits/);
  });
});

describe('regression files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sidekick-regressions-'));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trip, hostile keys included', async () => {
    const counterexample = JSON.parse('{"pod":{"__proto__":{"x":"\\ud800"}}}') as Json;
    const file = await writeRegression(
      {
        property: 'p',
        seed: 1,
        path: '0:1',
        error: 'e',
        foundAt: '2020-01-01T00:00:00.000Z',
        counterexample,
      },
      dir,
    );
    assert.ok(file.startsWith(dir));
    const [read] = readRegressions(dir);
    assert.ok(read);
    assert.equal(JSON.stringify(read.regression.counterexample), JSON.stringify(counterexample));
    assert.equal(readdirSync(dir).length, 1);
    const options =
      (await prettier.resolveConfig(repoPath('test', 'property', 'regressions', 'x.json'))) ?? {};
    assert.ok(
      await prettier.check(readFileSync(file, 'utf8'), { ...options, parser: 'json' }),
      'not as npm run lint wants it',
    );
  });

  it('reject files that are not regressions', () => {
    assert.throws(() => parseRegression('[]', 'f'), /not a JSON object/);
    assert.throws(() => parseRegression('{"property":"p","seed":1.5}', 'f'), /seed/);
    assert.throws(
      () => parseRegression('{"property":"p","seed":1,"path":"","error":"","foundAt":""}', 'f'),
      /counterexample/,
    );
  });
});
