// Rendered sidecars are shared, frozen, between Pods that ask for the same template and values,
// and their JSON text is spliced into answers: neither may change what an admission answers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Operation } from 'fast-json-patch';
import { injectPod } from '../../src/inject/pipeline.js';
import { patchText } from '../../src/inject/patch.js';
import { resolvedParameters } from '../../src/inject/resolved.js';
import { isObject, type JsonObject } from '../../src/json.js';
import { loadTemplateDir } from '../../src/templates/load.js';
import { repoPath } from '../support/paths.js';

function pod(annotations: Record<string, string>): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'team-a', annotations },
    spec: {
      // One UID for the app and config-watcher, which signal mode needs.
      securityContext: { runAsUser: 1000 },
      containers: [{ name: 'app', image: 'app:1', volumeMounts: [] }],
      volumes: [{ name: 'config', configMap: { name: 'web-config' } }],
    },
  };
}

function sidecar(outcome: ReturnType<typeof injectPod>, name: string): JsonObject {
  assert.equal(outcome.decision, 'inject');
  const init = outcome.pod.spec;
  const list = isObject(init) && Array.isArray(init.initContainers) ? init.initContainers : [];
  const found = list.find((c) => isObject(c) && c.name === name);
  assert.ok(isObject(found), `${name} injected`);
  return found;
}

describe('shared renderings', async () => {
  const load = await loadTemplateDir(repoPath('templates'));
  assert.ok(load.ok);
  const options = { templates: load.set, namespace: 'team-a' };
  const proxy = {
    'sidekick.dev/inject': 'db-proxy',
    'sidekick.dev/db-proxy.instance': 'shop-prod:europe-west1:one',
  };

  it('the same template and values give the same frozen container', () => {
    const first = sidecar(injectPod(pod(proxy), options), 'db-proxy');
    const second = sidecar(injectPod(pod(proxy), options), 'db-proxy');
    assert.equal(first, second);
    assert.ok(Object.isFrozen(first));
    assert.throws(() => {
      (first as Record<string, unknown>).image = 'evil:1';
    }, TypeError);
  });

  it('other values give another container', () => {
    const other = { ...proxy, 'sidekick.dev/db-proxy.instance': 'shop-prod:europe-west1:two' };
    const first = sidecar(injectPod(pod(proxy), options), 'db-proxy');
    const second = sidecar(injectPod(pod(other), options), 'db-proxy');
    assert.notEqual(first, second);
    assert.ok(JSON.stringify(second).includes('shop-prod:europe-west1:two'));
    assert.ok(!JSON.stringify(first).includes('shop-prod:europe-west1:two'));
  });

  it('a sidecar that mounts the Pod’s own volumes is rendered for each Pod', () => {
    const watcher = { 'sidekick.dev/inject': 'config-watcher', 'sidekick.dev/config-watcher.process': 'app' };
    const first = sidecar(injectPod(pod(watcher), options), 'config-watcher');
    const second = sidecar(injectPod(pod(watcher), options), 'config-watcher');
    assert.notEqual(first, second);
    assert.ok(!Object.isFrozen(first));
  });

  it('the patch text is what JSON.stringify writes, shared renderings or not', () => {
    const outcome = injectPod(pod({ ...proxy, 'sidekick.dev/inject': 'db-proxy,log-shipper' }), options);
    assert.equal(outcome.decision, 'inject');
    const patch: Operation[] = outcome.patch;
    assert.ok(patch.some((op) => op.op === 'add' && Object.isFrozen(op.value)));
    assert.equal(patchText(patch), JSON.stringify(patch));
    const mixed: Operation[] = [
      { op: 'remove', path: '/a' },
      { op: 'replace', path: '/b~1c', value: 'x"y' },
      ...patch,
    ];
    assert.equal(patchText(mixed), JSON.stringify(mixed));
  });

  it('resolved parameters are shared and frozen, and their problems reach every Pod that has them', () => {
    const template = load.set.templates.get('db-proxy');
    assert.ok(template !== undefined);
    const given = new Map([['instance', 'shop-prod:europe-west1:one']]);
    const first = resolvedParameters(template, given, 'sidekick.dev');
    assert.equal(resolvedParameters(template, new Map(given), 'sidekick.dev'), first);
    assert.notEqual(resolvedParameters(template, given, 'example.com'), first);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.planned) && Object.isFrozen(first.problems));
    const bad = { ...proxy, 'sidekick.dev/db-proxy.port': 'not-a-port' };
    for (let i = 0; i < 2; i++) {
      const outcome = injectPod(pod(bad), options);
      assert.equal(outcome.decision, 'refuse');
      assert.match(outcome.message, /annotation sidekick\.dev\/db-proxy\.port: value "not-a-port"/);
    }
  });

  it('no annotation value can read as another parameter in the resolved key', () => {
    const template = load.set.templates.get('db-proxy');
    assert.ok(template !== undefined);
    const one = resolvedParameters(
      template,
      new Map([['instance', 'a:b:c\u0000port=4:5433']]),
      'sidekick.dev',
    );
    const two = resolvedParameters(
      template,
      new Map([
        ['instance', 'a:b:c'],
        ['port', '5433'],
      ]),
      'sidekick.dev',
    );
    assert.notEqual(one, two);
    assert.notDeepEqual(one.values.get('port'), two.values.get('port'));
  });
});
