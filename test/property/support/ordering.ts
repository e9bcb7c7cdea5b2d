import assert from 'node:assert/strict';
import fc from 'fast-check';
import { injectPod } from '../../../src/inject/index.js';
import { isObject, type Json, type JsonObject } from '../../../src/json.js';
import type { TemplateSet } from '../../../src/templates/types.js';
import { DEFAULT_PREFIX, injectOptions, type InjectCase } from './cases.js';
import { checkInjected, checkOutcome } from './inject-checks.js';

/**
 * Pods made to exercise ordering: two to four sidecars (among them a chain of `requires` from
 * the fixture templates), user init containers, and `after` annotations naming them, with every
 * other value valid, so that each case must be injected.
 */
const SIDECARS = [
  'log-shipper',
  'db-proxy',
  'vault-agent',
  'otel-collector',
  'creds-proxy',
  'token-refresher',
];
const INIT = ['fetch-creds', 'migrate', 'seed'];
const VALUES: Record<string, string> = {
  'db-proxy.instance': 'my-project:us-central1:orders',
  'vault-agent.role': 'web',
  'otel-collector.endpoint': 'otel-gateway.observability:4317',
};

export function orderingCases(): fc.Arbitrary<InjectCase> {
  return fc
    .record({
      init: fc.integer({ min: 0, max: INIT.length }),
      requested: fc.uniqueArray(fc.constantFrom(...SIDECARS), { minLength: 2, maxLength: 4 }),
      after: fc.array(fc.option(fc.nat(INIT.length - 1), { freq: 2 }), {
        minLength: SIDECARS.length,
        maxLength: SIDECARS.length,
      }),
      separator: fc.constantFrom(',', ', ', ' ,'),
    })
    .map(({ init, requested, after, separator }) => {
      const own = INIT.slice(0, init);
      const annotations: JsonObject = {
        [`${DEFAULT_PREFIX}/inject`]: requested.join(separator),
      };
      for (const [key, value] of Object.entries(VALUES)) annotations[`${DEFAULT_PREFIX}/${key}`] = value;
      SIDECARS.forEach((name, i) => {
        const index = after[i];
        const target = index === null || index === undefined ? undefined : own[index];
        if (target !== undefined) annotations[`${DEFAULT_PREFIX}/${name}.after`] = target;
      });
      const pod: JsonObject = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace: 'team-a', annotations },
        spec: {
          containers: [{ name: 'app', image: 'registry.example/app:1' }],
          ...(own.length > 0
            ? { initContainers: own.map((name) => ({ name, image: `registry.example/${name}:1` })) }
            : {}),
        },
      };
      return { namespace: 'team-a', prefix: DEFAULT_PREFIX, pod };
    });
}

function afterAnnotations(pod: Json): number {
  const annotations = isObject(pod) && isObject(pod.metadata) ? pod.metadata.annotations : undefined;
  return isObject(annotations) ? Object.keys(annotations).filter((k) => k.endsWith('.after')).length : 0;
}

/** Every such Pod is injected, keeps every invariant, and `explain` says why each sidecar is where. */
export function checkOrdering(templates: TemplateSet, c: InjectCase): string {
  const outcome = injectPod(c.pod, injectOptions(templates, c));
  checkOutcome(outcome);
  if (outcome.decision !== 'inject' || !isObject(c.pod)) {
    const why = outcome.decision === 'refuse' ? outcome.message : outcome.decision;
    assert.fail(`a Pod with valid values was not injected: ${why}`);
  }
  checkInjected(templates, c, c.pod, outcome);
  for (const p of outcome.plan) {
    assert.ok(p.position !== '', `${p.name}: no position`);
    const after = p.parameters.after?.value;
    if (typeof after === 'string' && after !== '') {
      assert.match(
        p.position,
        /after init container /,
        `${p.name} starts after ${after}; explain says ${p.position}`,
      );
    }
  }
  const chained = outcome.sidecars.includes('creds-proxy');
  return `${afterAnnotations(c.pod) > 0 ? 'after' : 'no after'}${chained ? ', requires' : ''}`;
}
