import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorize, mountedObjects } from '../../../src/relay/authorize.js';
import type { JsonObject } from '../../../src/json.js';

const pod: JsonObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop', uid: 'u-1' },
  spec: {
    containers: [{ name: 'app', image: 'app' }],
    volumes: [
      { name: 'a', configMap: { name: 'cm-a' } },
      { name: 'b', secret: { secretName: 'sec-b' } },
      {
        name: 'p',
        projected: {
          sources: [
            { configMap: { name: 'cm-p' } },
            { secret: { name: 'sec-p' } },
            { serviceAccountToken: { path: 't' } },
          ],
        },
      },
      { name: 'e', emptyDir: {} },
    ],
  },
};

describe('relay authorisation', () => {
  it('reads every way a Pod mounts a ConfigMap or Secret', () => {
    const mounted = mountedObjects(pod);
    assert.deepEqual([...mounted.ConfigMap].sort(), ['cm-a', 'cm-p']);
    assert.deepEqual([...mounted.Secret].sort(), ['sec-b', 'sec-p']);
  });

  it('allows what the Pod mounts', () => {
    assert.equal(
      authorize(
        pod,
        'u-1',
        [
          { kind: 'ConfigMap', name: 'cm-a' },
          { kind: 'ConfigMap', name: 'cm-p' },
        ],
        false,
      ),
      undefined,
    );
    assert.equal(authorize(pod, 'u-1', [{ kind: 'Secret', name: 'sec-p' }], true), undefined);
  });

  it('refuses anything else, naming the Pod and the object', () => {
    assert.deepEqual(
      authorize(
        pod,
        'u-1',
        [
          { kind: 'ConfigMap', name: 'cm-a' },
          { kind: 'ConfigMap', name: 'sec-b' },
        ],
        true,
      ),
      {
        status: 403,
        reason: 'not-mounted',
        message: 'Pod shop/web does not mount ConfigMap sec-b as a volume: a Pod gets only what it mounts',
      },
    );
    // A Secret's name is not a ConfigMap's: kinds are kept apart.
    assert.equal(authorize(pod, 'u-1', [{ kind: 'Secret', name: 'cm-a' }], true)?.reason, 'not-mounted');
  });

  it('refuses Secrets when they are off, even mounted ones', () => {
    assert.equal(
      authorize(pod, 'u-1', [{ kind: 'Secret', name: 'sec-b' }], false)?.reason,
      'secrets-disabled',
    );
  });

  it('refuses a Pod whose uid is not the token’s', () => {
    const refusal = authorize(pod, 'u-0', [{ kind: 'ConfigMap', name: 'cm-a' }], false);
    assert.ok(refusal !== undefined);
    assert.equal(refusal.status, 403);
    assert.equal(refusal.reason, 'uid-mismatch');
    assert.match(refusal.message, /Pod shop\/web has uid u-1, not the token's u-0/);
  });

  it('treats a Pod without volumes, or with odd ones, as mounting nothing', () => {
    const odd: JsonObject = {
      metadata: { uid: 'u' },
      spec: { volumes: [null, 3, { configMap: { name: 7 } }, { projected: { sources: 'x' } }] },
    };
    assert.equal(authorize(odd, 'u', [{ kind: 'ConfigMap', name: 'x' }], false)?.reason, 'not-mounted');
    assert.equal(
      authorize({ metadata: { uid: 'u' } }, 'u', [{ kind: 'ConfigMap', name: 'x' }], false)?.reason,
      'not-mounted',
    );
  });
});
