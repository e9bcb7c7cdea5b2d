// Rendered sidecars are shared, frozen, between Pods that ask for the same template and values,
// and their JSON text is spliced into answers: neither may change what an admission answers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Operation } from 'fast-json-patch';
import { injectPod } from '../../src/inject/pipeline.js';
import { patchText } from '../../src/inject/patch.js';
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
});
