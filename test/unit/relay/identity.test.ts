import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdentityCache, reviewedPod, tokenExpiry, type IdentityApi } from '../../../src/relay/identity.js';
import type { JsonObject } from '../../../src/json.js';

const jwt = (claims: object): string =>
  `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

const bound: JsonObject = {
  authenticated: true,
  audiences: ['sidekick-relay'],
  user: {
    username: 'system:serviceaccount:shop:default',
    extra: {
      'authentication.kubernetes.io/pod-name': ['web'],
      'authentication.kubernetes.io/pod-uid': ['u-1'],
    },
  },
};

describe('relay identity', () => {
  it('takes the Pod and namespace from a bound token’s review', () => {
    assert.deepEqual(reviewedPod(bound), { ok: true, namespace: 'shop', podName: 'web', podUid: 'u-1' });
  });

  it('refuses a review that failed, is for another audience or names no Pod', () => {
    const failed = reviewedPod({ authenticated: false, error: 'token has expired' });
    assert.ok(!failed.ok);
    assert.equal(failed.refusal.status, 401);
    assert.equal(failed.refusal.message, 'the token was refused by the apiserver: token has expired');
    const other = reviewedPod({ ...bound, audiences: ['https://kubernetes.default.svc'] });
    assert.ok(!other.ok && other.refusal.reason === 'wrong-audience');
    const legacy = reviewedPod({ ...bound, user: { username: 'system:serviceaccount:shop:default' } });
    assert.ok(!legacy.ok && legacy.refusal.reason === 'not-pod-bound');
    const person = reviewedPod({
      ...bound,
      user: { username: 'alice', extra: (bound.user as JsonObject).extra ?? {} },
    });
    assert.ok(!person.ok && person.refusal.reason === 'not-pod-bound');
  });

  it('reads exp without trusting it, and nothing from a non-JWT', () => {
    assert.equal(tokenExpiry(jwt({ exp: 1700000000 })), 1700000000_000);
    assert.equal(tokenExpiry('opaque'), undefined);
    assert.equal(tokenExpiry('a.!!!.c'), undefined);
  });

  it('reviews a token once while cached, shares lookups in flight, and never keeps it past exp', async () => {
    let now = 1_000_000;
    let reviews = 0;
    const api: IdentityApi = {
      post: () => {
        reviews++;
        return Promise.resolve({ status: 201, body: { status: bound } });
      },
      get: () =>
        Promise.resolve({ status: 200, body: { metadata: { name: 'web', namespace: 'shop', uid: 'u-1' } } }),
    };
    const cache = new IdentityCache({ api, ttlMs: 30_000, now: () => now });
    const token = jwt({ exp: (now + 10_000) / 1000 });
    const [a, b] = await Promise.all([cache.lookup(token), cache.lookup(token)]);
    assert.ok(a.ok && b.ok);
    assert.equal(reviews, 1);
    now += 9_000;
    await cache.lookup(token);
    assert.equal(reviews, 1);
    now += 2_000; // past exp, though within the 30 s
    await cache.lookup(token);
    assert.equal(reviews, 2);
  });

  it('says a Pod that is gone is gone (403), and does not keep API failures', async () => {
    let fail = true;
    const api: IdentityApi = {
      post: () => Promise.resolve({ status: 201, body: { status: bound } }),
      get: () => Promise.resolve(fail ? { status: 500, body: 'etcd down' } : { status: 404, body: {} }),
    };
    const cache = new IdentityCache({ api, ttlMs: 30_000 });
    await assert.rejects(cache.lookup('t'), /GET Pod shop\/web failed: 500/);
    fail = false;
    const gone = await cache.lookup('t');
    assert.ok(!gone.ok);
    assert.deepEqual(gone.refusal, {
      status: 403,
      reason: 'pod-gone',
      message: "Pod shop/web, the token's Pod, no longer exists",
    });
  });
});
