import assert from 'node:assert/strict';
import fc from 'fast-check';
import type fastJsonPatch from 'fast-json-patch';
import { handleReview, MAX_OBJECT_DEPTH, type HandledReview } from '../../../src/admission/handler.js';
import { injectPod } from '../../../src/inject/index.js';
import { verifyPod } from '../../../src/inject/verify.js';
import { isObject, type Json, type JsonObject } from '../../../src/json.js';
import type { TemplateSet } from '../../../src/templates/types.js';
import {
  DEFAULT_PREFIX,
  EXCLUDED_NAMESPACES,
  injectCases,
  injectOptions,
  INJECTOR_NAMESPACE,
  type InjectCase,
} from './cases.js';
import { applied } from './json-patch.js';
import { assertSame, field } from './pod-view.js';
import { hostileString, objectOf } from './strings.js';

const API_VERSION = 'admission.k8s.io/v1';

/** How the request around the Pod differs from a plain Pod CREATE. */
export interface RequestShape {
  uid: string;
  operation: string;
  kind: { group: string; version: string; kind: string };
  subResource: string | undefined;
  namespaceIn: 'request' | 'object' | 'both';
  dryRun: boolean | undefined;
}

const requestShapes: fc.Arbitrary<RequestShape> = fc.record(
  {
    uid: fc.oneof(
      { arbitrary: fc.uuid(), weight: 8 },
      { arbitrary: hostileString.filter((s) => s !== ''), weight: 1 },
    ),
    operation: fc.oneof(
      { arbitrary: fc.constant('CREATE'), weight: 40 },
      { arbitrary: fc.constantFrom('UPDATE', 'DELETE', 'CONNECT', 'create'), weight: 1 },
    ),
    kind: fc.oneof(
      { arbitrary: fc.constant({ group: '', version: 'v1', kind: 'Pod' }), weight: 40 },
      { arbitrary: fc.constant({ group: 'apps', version: 'v1', kind: 'Deployment' }), weight: 1 },
      { arbitrary: fc.constant({ group: 'example.com', version: 'v1', kind: 'Pod' }), weight: 1 },
    ),
    subResource: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 40 },
      { arbitrary: fc.constantFrom('status', 'ephemeralcontainers', ''), weight: 1 },
    ),
    namespaceIn: fc.oneof(
      { arbitrary: fc.constant<'request'>('request'), weight: 8 },
      { arbitrary: fc.constantFrom<'object' | 'both'>('object', 'both'), weight: 1 },
    ),
    dryRun: fc.option(fc.boolean(), { nil: undefined }),
  },
  { noNullPrototype: true },
);

/** The AdmissionReview the apiserver would send for the case, shaped by `shape`. */
export function reviewBody(c: InjectCase, shape: RequestShape): JsonObject {
  const pod = isObject(c.pod) ? c.pod : {};
  const metadata = isObject(pod.metadata) ? pod.metadata : {};
  const object =
    shape.namespaceIn === 'request' ? pod : { ...pod, metadata: { ...metadata, namespace: c.namespace } };
  const request = objectOf<Json>([
    ['uid', shape.uid],
    ['kind', shape.kind],
    ['resource', { group: shape.kind.group, version: 'v1', resource: 'pods' }],
    ['subResource', shape.subResource],
    ['operation', shape.operation],
    ['namespace', shape.namespaceIn === 'object' ? undefined : c.namespace],
    ['userInfo', { username: 'system:serviceaccount:team-a:deployer' }],
    ['dryRun', shape.dryRun],
    ['object', isObject(c.pod) ? object : c.pod],
  ]);
  return { apiVersion: API_VERSION, kind: 'AdmissionReview', request };
}

export interface ReviewCase extends JsonObject {
  prefix: string;
  body: Json;
}

export function isReviewCase(value: Json): value is ReviewCase {
  return (
    isObject(value) && typeof value.prefix === 'string' && Object.prototype.hasOwnProperty.call(value, 'body')
  );
}

export function reviewCases(templates: TemplateSet): fc.Arbitrary<ReviewCase> {
  return fc
    .tuple(injectCases(templates), requestShapes)
    .map(([c, shape]) => ({ prefix: c.prefix, body: reviewBody(c, shape) }));
}

export function handle(templates: TemplateSet, prefix: string, body: Json): HandledReview {
  return handleReview(JSON.parse(JSON.stringify(body)) as unknown, {
    templates: () => templates,
    injectorNamespace: INJECTOR_NAMESPACE,
    ...(prefix === DEFAULT_PREFIX ? {} : { prefix }),
  });
}

function text(value: Json | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function decodePatch(patch: string): fastJsonPatch.Operation[] {
  const decoded: unknown = JSON.parse(Buffer.from(patch, 'base64').toString('utf8'));
  assert.ok(Array.isArray(decoded), 'the patch is not a JSON array');
  return decoded as fastJsonPatch.Operation[];
}

function optionalText(value: Json | undefined): boolean {
  return value === undefined || value === null || typeof value === 'string';
}

/** The request fields the contract requires to be typed; a uid with a bad field is a 400 denial. */
function malformed(request: Json | undefined): boolean {
  const kind = field(request, 'kind');
  const group = field(kind, 'group') ?? '';
  const dryRun = field(request, 'dryRun');
  return (
    !isObject(kind) ||
    typeof group !== 'string' ||
    typeof field(kind, 'version') !== 'string' ||
    typeof field(kind, 'kind') !== 'string' ||
    typeof field(request, 'operation') !== 'string' ||
    !['namespace', 'name', 'subResource'].every((key) => optionalText(field(request, key))) ||
    !(dryRun === undefined || dryRun === null || typeof dryRun === 'boolean')
  );
}

/** What the request asks of the core, or why the handler should not get that far. */
function expectation(
  body: Json,
): { acts: false } | { acts: true; namespace: string | undefined; pod: Json | undefined } {
  const request = field(body, 'request');
  const kind = field(request, 'kind');
  const isPod =
    field(kind, 'kind') === 'Pod' &&
    (field(kind, 'group') ?? '') === '' &&
    !text(field(request, 'subResource'));
  if (!isPod || field(request, 'operation') !== 'CREATE') return { acts: false };
  const object = field(request, 'object');
  const namespace = text(field(request, 'namespace')) ?? text(field(field(object, 'metadata'), 'namespace'));
  return { acts: true, namespace, pod: object };
}

function checkPatched(
  templates: TemplateSet,
  prefix: string,
  body: Json,
  handled: HandledReview,
  patch: string,
): string {
  const want = expectation(body);
  assert.ok(want.acts && want.namespace !== undefined, 'a patch for a request the webhook does not act on');
  assert.ok(!EXCLUDED_NAMESPACES.includes(want.namespace), `a patch in namespace ${want.namespace}`);
  const pod = JSON.parse(JSON.stringify(want.pod ?? null)) as Json;
  const result = applied(pod, decodePatch(patch));
  const direct = injectPod(pod, injectOptions(templates, { namespace: want.namespace, prefix }));
  assert.ok(direct.decision === 'inject', `the handler patched what the core ${direct.decision}s`);
  assertSame(result, direct.pod, 'the patched Pod differs from what the core injects');
  assert.deepEqual(verifyPod(direct.pod, direct.sidecars, new Set(direct.runOnce)), []);
  const again = injectPod(result, injectOptions(templates, { namespace: want.namespace, prefix }));
  assert.ok(again.decision === 'inject' && again.patch.length === 0, 'patching again would change the Pod');
  assert.equal(handled.record.decision, 'injected');
  return 'injected';
}

function checkUnpatched(templates: TemplateSet, prefix: string, body: Json, handled: HandledReview): string {
  assert.ok(handled.status === 200);
  const response = handled.review.response;
  const want = expectation(body);
  if (!want.acts) {
    assert.equal(response.allowed, true, 'a request the webhook does not act on was denied');
    return 'ignored';
  }
  const pod = JSON.parse(JSON.stringify(want.pod ?? null)) as Json;
  const deep = isObject(pod) && depthOf(pod) > MAX_OBJECT_DEPTH;
  if (want.namespace === undefined || !isObject(pod) || deep || (field(pod, 'kind') ?? 'Pod') !== 'Pod') {
    assert.equal(response.allowed, false, 'an unusable request was allowed');
    assert.equal(response.status?.code, 400);
    return 'invalid';
  }
  const direct = injectPod(pod, injectOptions(templates, { namespace: want.namespace, prefix }));
  if (direct.decision === 'refuse') {
    assert.equal(response.allowed, false, 'the core refused, the handler allowed');
    assert.equal(response.status?.code, 400);
    assert.equal(response.status.message, direct.message);
    return 'refused';
  }
  assert.equal(response.allowed, true, `denied: ${response.status?.message ?? ''}`);
  if (direct.decision === 'inject')
    assert.deepEqual(direct.patch, [], 'the core patches, the handler does not');
  if (EXCLUDED_NAMESPACES.includes(want.namespace)) return 'excluded';
  return direct.decision === 'skip' ? 'skipped' : 'unchanged';
}

function depthOf(value: Json): number {
  let deepest = 0;
  const stack: [Json, number][] = [[value, 1]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item;
    deepest = Math.max(deepest, depth);
    const children = Array.isArray(node) ? node : isObject(node) ? Object.values(node) : [];
    for (const child of children)
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * The handler never throws, answers every review that has a uid with that uid, and its patch
 * applies to the Pod it was sent and gives what the core injects.
 */
export function checkReview(templates: TemplateSet, prefix: string, body: Json): string {
  const handled = handle(templates, prefix, body);
  const uid = text(field(field(body, 'request'), 'uid'));
  const wellFormed =
    field(body, 'apiVersion') === API_VERSION &&
    field(body, 'kind') === 'AdmissionReview' &&
    isObject(field(body, 'request'));
  if (uid === undefined || !wellFormed) {
    assert.equal(handled.status, 400, 'a body without a uid must get HTTP 400');
    return 'unreadable';
  }
  assert.equal(handled.status, 200, `HTTP ${handled.status} for a review with a uid`);
  const { review } = handled;
  assert.equal(review.apiVersion, API_VERSION);
  assert.equal(review.kind, 'AdmissionReview');
  assert.equal(review.response.uid, uid, 'the answer has another uid');
  assert.equal(handled.record.uid, uid);
  assert.ok(JSON.parse(JSON.stringify(review)) !== null);
  const { response } = review;
  if (malformed(field(body, 'request'))) {
    assert.equal(response.allowed, false, 'a malformed request was allowed');
    assert.equal(response.status?.code, 400);
    return 'malformed';
  }
  if (response.status !== undefined)
    assert.ok(response.status.code !== 500, `internal error: ${response.status.message}`);
  if (response.patch === undefined) {
    assert.equal(response.patchType, undefined);
    const label = checkUnpatched(templates, prefix, body, handled);
    return handled.record.decision === 'invalid' && label !== 'invalid' ? `${label}/invalid` : label;
  }
  assert.equal(response.allowed, true);
  assert.equal(response.patchType, 'JSONPatch');
  return checkPatched(templates, prefix, body, handled, response.patch);
}

export function checkReviewCase(templates: TemplateSet, c: ReviewCase): string {
  return checkReview(templates, c.prefix, c.body);
}
