import { createHash } from 'node:crypto';
import { getOwn, isArray, isObject, type JsonObject } from '../json.js';
import { apiMessage, type ApiAnswer } from './api.js';
import type { Refusal } from './authorize.js';
import { POD_NAME_EXTRA, POD_UID_EXTRA, RELAY_AUDIENCE } from './protocol.js';

/** Who a token is: the Pod it is bound to, as the API has it now (raw JSON). */
export interface Identity {
  namespace: string;
  podName: string;
  podUid: string;
  pod: JsonObject;
  /** The token's own expiry (ms since the epoch), when it has one. */
  expiresAt: number | undefined;
}

export type IdentityResult = { ok: true; identity: Identity } | { ok: false; refusal: Refusal };

export interface IdentityApi {
  get(path: string): Promise<ApiAnswer>;
  post(path: string, body: JsonObject): Promise<ApiAnswer>;
}

/** The `exp` of a JWT, read without checking it (TokenReview does that): only to bound the cache. */
export function tokenExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return isObject(claims) && typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function first(extra: JsonObject, key: string): string | undefined {
  const values = getOwn(extra, key);
  const value = isArray(values) ? values[0] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

const unauthenticated = (
  message: string,
  reason: Refusal['reason'] = 'unauthenticated',
): { ok: false; refusal: Refusal } => ({
  ok: false,
  refusal: { status: 401, reason, message },
});

/**
 * What a TokenReview status says about a subscriber token: authenticated, for this audience, and
 * bound to a Pod (the pod-name and pod-uid extras a projected token carries). Pure.
 */
export function reviewedPod(
  status: JsonObject,
): { ok: true; namespace: string; podName: string; podUid: string } | { ok: false; refusal: Refusal } {
  if (status.authenticated !== true) {
    const error =
      typeof status.error === 'string' && status.error !== '' ? status.error : 'not authenticated';
    return unauthenticated(`the token was refused by the apiserver: ${error}`);
  }
  const audiences = isArray(status.audiences) ? status.audiences : [];
  if (!audiences.includes(RELAY_AUDIENCE)) {
    return unauthenticated(`the token is not for audience ${RELAY_AUDIENCE}`, 'wrong-audience');
  }
  const user = isObject(status.user) ? status.user : {};
  const username = typeof user.username === 'string' ? user.username : '';
  const extra = isObject(user.extra) ? user.extra : {};
  const podName = first(extra, POD_NAME_EXTRA);
  const podUid = first(extra, POD_UID_EXTRA);
  const serviceAccount = /^system:serviceaccount:([^:]+):[^:]+$/.exec(username);
  if (podName === undefined || podUid === undefined || serviceAccount?.[1] === undefined) {
    return unauthenticated(
      `the token of ${username || 'an unnamed user'} is not bound to a Pod (use the Pod's projected service-account token)`,
      'not-pod-bound',
    );
  }
  return { ok: true, namespace: serviceAccount[1], podName, podUid };
}

export interface IdentityCacheOptions {
  api: IdentityApi;
  /** How long an answer, good or bad, is reused (never past the token's expiry). */
  ttlMs: number;
  now?: () => number;
  maxEntries?: number;
}

/**
 * TokenReview and the Pod's GET, reused for a short while per token: a thousand watchers of the
 * same Pod, or one reconnecting in a loop, cost one review. Lookups of a token already in flight
 * share it. A lookup that fails on the API's side (not the token's) is not kept.
 */
export class IdentityCache {
  private readonly entries = new Map<string, { until: number; result: Promise<IdentityResult> }>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(private readonly options: IdentityCacheOptions) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  lookup(token: string): Promise<IdentityResult> {
    const key = createHash('sha256').update(token).digest('base64url');
    const now = this.now();
    const cached = this.entries.get(key);
    if (cached !== undefined && cached.until > now) return cached.result;
    const expiry = tokenExpiry(token);
    const until = Math.min(now + this.options.ttlMs, expiry ?? Infinity);
    const result = this.resolve(token, expiry);
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { until, result });
    result.catch(() => this.entries.delete(key));
    return result;
  }

  private async resolve(token: string, expiresAt: number | undefined): Promise<IdentityResult> {
    const review = await this.options.api.post('/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token, audiences: [RELAY_AUDIENCE] },
    });
    if (review.status !== 201 && review.status !== 200) {
      throw new Error(`TokenReview failed: ${String(review.status)} ${apiMessage(review)}`);
    }
    const status = isObject(review.body) && isObject(review.body.status) ? review.body.status : {};
    const bound = reviewedPod(status);
    if (!bound.ok) return bound;
    const where = `${bound.namespace}/${bound.podName}`;
    const got = await this.options.api.get(
      `/api/v1/namespaces/${encodeURIComponent(bound.namespace)}/pods/${encodeURIComponent(bound.podName)}`,
    );
    if (got.status === 404) {
      return {
        ok: false,
        refusal: {
          status: 403,
          reason: 'pod-gone',
          message: `Pod ${where}, the token's Pod, no longer exists`,
        },
      };
    }
    if (got.status !== 200 || !isObject(got.body)) {
      throw new Error(`GET Pod ${where} failed: ${String(got.status)} ${apiMessage(got)}`);
    }
    return {
      ok: true,
      identity: { ...bound, pod: got.body, expiresAt },
    };
  }
}
