// The service-account token mount sidekick adds to its sidecars must be exactly the one the
// apiserver's ServiceAccount admission would add on its second pass (plugin/pkg/admission/
// serviceaccount in k8s.io/kubernetes): otherwise that pass changes the object and the apiserver
// calls sidekick again for every Pod.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Operation } from 'fast-json-patch';
import { injectPod } from '../../src/inject/pipeline.js';
import { patchText } from '../../src/inject/patch.js';
import { SERVICE_ACCOUNT_MOUNT, serviceAccountMount } from '../../src/inject/service-account.js';
import { isObject, type Json, type JsonObject } from '../../src/json.js';
import { loadTemplateDir } from '../../src/templates/load.js';
import { tokenMount, tokenVolume } from '../support/apiserver-defaults.js';
import { repoPath } from '../support/paths.js';

const PROXY = {
  'sidekick.dev/inject': 'db-proxy,log-shipper',
  'sidekick.dev/db-proxy.instance': 'shop-prod:europe-west1:one',
};

function pod(volume: string, spec: JsonObject = {}): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'team-a', annotations: PROXY },
    spec: {
      containers: [{ name: 'app', image: 'app:1', volumeMounts: [tokenMount(volume)] }],
      volumes: [tokenVolume(volume)],
      ...spec,
    },
  };
}

function mountsOf(outcome: ReturnType<typeof injectPod>, name: string): Json[] {
  assert.equal(outcome.decision, 'inject');
  const spec = outcome.pod.spec;
  const list = isObject(spec) && Array.isArray(spec.initContainers) ? spec.initContainers : [];
  const found = list.find((c) => isObject(c) && c.name === name);
  assert.ok(isObject(found), `${name} injected`);
  return Array.isArray(found.volumeMounts) ? found.volumeMounts : [];
}

describe('service-account token mount', async () => {
  const load = await loadTemplateDir(repoPath('templates'));
  assert.ok(load.ok);
  const options = { templates: load.set, namespace: 'team-a' };

  it('is the first kube-api-access volume, read-only at the token path', () => {
    const spec = pod('kube-api-access-abcde').spec as JsonObject;
    assert.deepEqual(serviceAccountMount(spec), {
      name: 'kube-api-access-abcde',
      readOnly: true,
      mountPath: SERVICE_ACCOUNT_MOUNT,
    });
  });

  it('is none when the Pod turns automounting off, or nothing of the Pod mounts the volume', () => {
    const off = pod('kube-api-access-abcde', { automountServiceAccountToken: false }).spec as JsonObject;
    assert.equal(serviceAccountMount(off), undefined);
    const unmounted = pod('kube-api-access-abcde', { containers: [{ name: 'app', image: 'app:1' }] });
    assert.equal(serviceAccountMount(unmounted.spec as JsonObject), undefined);
    const other = pod('token').spec as JsonObject;
    assert.equal(serviceAccountMount(other), undefined);
  });

  it('is appended to every sidecar, shared or not, and the patch text stays JSON.stringify’s', () => {
    for (const volume of ['kube-api-access-abcde', 'kube-api-access-vwxyz']) {
      const outcome = injectPod(pod(volume), options);
      for (const name of ['db-proxy', 'log-shipper']) {
        const mounts = mountsOf(outcome, name);
        assert.deepEqual(mounts.at(-1), { name: volume, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT });
      }
      assert.equal(outcome.decision, 'inject');
      const patch: Operation[] = outcome.patch;
      assert.ok(patch.some((op) => op.op === 'add' && Object.isFrozen(op.value)));
      assert.equal(patchText(patch), JSON.stringify(patch));
    }
  });

  it('is not added to a sidecar that already mounts something at the token path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sidekick-sa-'));
    after(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    writeFileSync(
      join(dir, 'own-token.yaml'),
      [
        'apiVersion: sidekick.dev/v1alpha1',
        'kind: SidecarTemplate',
        'metadata: {name: own-token}',
        'spec:',
        '  description: mounts a token of its own at the token path',
        '  volumes:',
        '    - name: token',
        '      projected: {sources: [{serviceAccountToken: {audience: vault, path: token}}]}',
        '  container:',
        '    image: registry.example/own:1',
        '    volumeMounts:',
        `      - {name: token, mountPath: ${SERVICE_ACCOUNT_MOUNT}, readOnly: true}`,
        '',
      ].join('\n'),
    );
    const own = await loadTemplateDir(dir);
    assert.ok(own.ok, JSON.stringify(own));
    const input = pod('kube-api-access-abcde');
    (input.metadata as JsonObject).annotations = { 'sidekick.dev/inject': 'own-token' };
    const mounts = mountsOf(injectPod(input, { templates: own.set, namespace: 'team-a' }), 'own-token');
    assert.deepEqual(mounts, [
      { name: 'sidekick-own-token-token', mountPath: SERVICE_ACCOUNT_MOUNT, readOnly: true },
    ]);
  });
});
