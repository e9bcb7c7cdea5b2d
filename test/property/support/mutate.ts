import fc from 'fast-check';
import { isArray, isObject, type Json, type JsonObject } from '../../../src/json.js';
import type { TemplateSet } from '../../../src/templates/types.js';
import { injectCases, isInjectCase, type InjectCase } from './cases.js';
import { checkInjection } from './inject-checks.js';
import { checkReviewCase, isReviewCase, reviewCases, type ReviewCase } from './review-checks.js';
import { hostileString, objectOf } from './strings.js';

const KEYS = [
  'metadata',
  'spec',
  'annotations',
  'containers',
  'initContainers',
  'volumes',
  'name',
  'volumeMounts',
  'request',
  'object',
  'uid',
  'kind',
  '__proto__',
  'constructor',
];

/** Any JSON, with keys that matter to sidekick and keys that break naive object handling. */
export const anyJson: fc.Arbitrary<Json> = fc.letrec<{ value: Json; list: Json[]; map: JsonObject }>(
  (tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      hostileString,
      fc.integer(),
      fc.constantFrom<Json>(true, false, null, 1.5, -1e21),
      tie('list'),
      tie('map'),
    ),
    list: fc.array(tie('value'), { maxLength: 4 }),
    map: fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...KEYS), hostileString), tie('value')), { maxLength: 4 })
      .map((entries) => objectOf(entries)),
  }),
).value;

export interface Mutation extends JsonObject {
  /** Child indexes (modulo the number of children) from the root to the node to change. */
  steps: number[];
  action: 'replace' | 'delete' | 'nest';
  replacement: Json;
  depth: number;
}

const mutation: fc.Arbitrary<Mutation> = fc.record(
  {
    steps: fc.array(fc.nat(40), { maxLength: 7 }),
    action: fc.oneof(
      { arbitrary: fc.constant<'replace'>('replace'), weight: 12 },
      { arbitrary: fc.constant<'delete'>('delete'), weight: 6 },
      { arbitrary: fc.constant<'nest'>('nest'), weight: 1 },
    ),
    replacement: anyJson,
    depth: fc.integer({ min: 60, max: 2000 }),
  },
  { noNullPrototype: true },
);

/** A value nested `depth` levels deep, built without recursion. */
function nested(depth: number): Json {
  let value: Json = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { spec: value };
  return value;
}

function childKeys(node: Json): (string | number)[] {
  if (isArray(node)) return node.map((_, i) => i);
  return isObject(node) ? Object.keys(node) : [];
}

/** Applies the mutations to a copy, each at the node its steps reach. */
export function mutated(root: Json, mutations: readonly Mutation[]): Json {
  let out = JSON.parse(JSON.stringify(root)) as Json;
  for (const m of mutations) {
    let parent: Json | undefined;
    let key: string | number | undefined;
    let node: Json = out;
    for (const step of m.steps) {
      const keys = childKeys(node);
      const next = keys[step % Math.max(keys.length, 1)];
      if (next === undefined) break;
      parent = node;
      key = next;
      node =
        isArray(node) && typeof next === 'number'
          ? (node[next] ?? null)
          : isObject(node)
            ? (node[next] ?? null)
            : null;
    }
    const value = m.action === 'nest' ? nested(m.depth) : m.replacement;
    if (parent === undefined || key === undefined) out = m.action === 'delete' ? {} : value;
    else if (isArray(parent) && typeof key === 'number') {
      if (m.action === 'delete') parent.splice(key, 1);
      else parent[key] = value;
    } else if (isObject(parent) && typeof key === 'string') {
      if (m.action === 'delete') Reflect.deleteProperty(parent, key);
      else
        Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

interface InjectTarget extends JsonObject {
  target: 'inject';
  inject: InjectCase;
  mutations: Mutation[];
}

interface ReviewTarget extends JsonObject {
  target: 'review';
  review: ReviewCase;
  /** Mutate the Pod inside the review (mostly), or the review around it. */
  where: 'object' | 'envelope';
  mutations: Mutation[];
}

export type RobustnessCase = InjectTarget | ReviewTarget;

export function robustnessCases(templates: TemplateSet): fc.Arbitrary<RobustnessCase> {
  const mutations = fc.array(mutation, { minLength: 1, maxLength: 3 });
  return fc.oneof(
    fc.record(
      { target: fc.constant<'inject'>('inject'), inject: injectCases(templates), mutations },
      { noNullPrototype: true },
    ),
    fc.record(
      {
        target: fc.constant<'review'>('review'),
        review: reviewCases(templates),
        where: fc.oneof(
          { arbitrary: fc.constant<'object'>('object'), weight: 3 },
          { arbitrary: fc.constant<'envelope'>('envelope'), weight: 1 },
        ),
        mutations,
      },
      { noNullPrototype: true },
    ),
    fc.record(
      {
        target: fc.constant<'inject'>('inject'),
        inject: fc.record(
          {
            namespace: fc.constant('team-a'),
            prefix: fc.constant('sidekick.dev'),
            pod: anyJson,
          },
          { noNullPrototype: true },
        ),
        mutations: fc.constant<Mutation[]>([]),
      },
      { noNullPrototype: true },
    ),
  );
}

export function isRobustnessCase(value: Json): value is RobustnessCase {
  if (!isObject(value) || !isArray(value.mutations)) return false;
  if (value.target === 'inject') return isInjectCase(value.inject ?? null);
  return (
    value.target === 'review' &&
    isReviewCase(value.review ?? null) &&
    (value.where === 'object' || value.where === 'envelope')
  );
}

/** The body with the Pod at request.object mutated, or the whole body when it has no such Pod. */
function mutatedObject(body: Json, mutations: readonly Mutation[]): Json {
  const request = isObject(body) ? body.request : undefined;
  if (!isObject(body) || !isObject(request) || !Object.prototype.hasOwnProperty.call(request, 'object'))
    return mutated(body, mutations);
  return { ...body, request: { ...request, object: mutated(request.object ?? null, mutations) } };
}

/** Whatever is broken in the Pod or the review, the core and the handler answer and keep their invariants. */
export function checkRobustness(templates: TemplateSet, c: RobustnessCase): string {
  const mutations = c.mutations.filter(isMutation);
  if (c.target === 'inject') {
    return `inject: ${checkInjection(templates, { ...c.inject, pod: mutated(c.inject.pod, mutations) })}`;
  }
  const body =
    c.where === 'object' ? mutatedObject(c.review.body, mutations) : mutated(c.review.body, mutations);
  return `review: ${checkReviewCase(templates, { ...c.review, body })}`;
}

function isMutation(value: Json): value is Mutation {
  return (
    isObject(value) &&
    isArray(value.steps) &&
    value.steps.every((s) => typeof s === 'number') &&
    (value.action === 'replace' || value.action === 'delete' || value.action === 'nest') &&
    Object.prototype.hasOwnProperty.call(value, 'replacement') &&
    typeof value.depth === 'number'
  );
}
