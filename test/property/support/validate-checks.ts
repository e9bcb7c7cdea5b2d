import assert from 'node:assert/strict';
import fc from 'fast-check';
import { handleValidation } from '../../../src/admission/validate.js';
import { injectWorkload } from '../../../src/inject/workload.js';
import { isObject, type Json, type JsonObject } from '../../../src/json.js';
import type { TemplateSet } from '../../../src/templates/types.js';
import { injectCases, INJECTOR_NAMESPACE, type InjectCase } from './cases.js';

/** A generated Pod as the template of a workload of some kind, as /validate receives it. */
export interface ValidateCase extends JsonObject {
  inject: InjectCase;
  kind: string;
  operation: string;
  mode: string;
}

export function isValidateCase(value: Json): value is ValidateCase {
  return (
    isObject(value) &&
    isObject(value.inject) &&
    typeof value.kind === 'string' &&
    typeof value.operation === 'string' &&
    typeof value.mode === 'string'
  );
}

export function validateCases(templates: TemplateSet): fc.Arbitrary<ValidateCase> {
  return fc.record({
    inject: injectCases(templates),
    kind: fc.constantFrom('Deployment', 'Job', 'CronJob', 'Rollout'),
    operation: fc.constantFrom('CREATE', 'CREATE', 'UPDATE'),
    mode: fc.constantFrom('deny', 'warn'),
  });
}

function workload(c: ValidateCase): JsonObject {
  const pod = isObject(c.inject.pod) ? c.inject.pod : {};
  const template: JsonObject = { metadata: pod.metadata ?? {}, spec: pod.spec ?? {} };
  const spec: JsonObject = c.kind === 'CronJob' ? { jobTemplate: { spec: { template } } } : { template };
  return {
    apiVersion: 'example/v1',
    kind: c.kind,
    metadata: { name: 'w', namespace: c.inject.namespace },
    spec,
  };
}

/**
 * /validate never throws, never patches, keeps the uid, and agrees with the injection core run on
 * the same workload: its warnings, and a denial exactly when the Pods would be refused (in deny
 * mode, on a CREATE; an UPDATE without its old object counts as a changed template).
 */
export function checkValidateCase(templates: TemplateSet, c: ValidateCase): string {
  const object = workload(c);
  const body = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u-p',
      kind: { group: 'example', version: 'v1', kind: c.kind },
      namespace: c.inject.namespace,
      operation: c.operation,
      object,
    },
  };
  const handled = handleValidation(
    body,
    {
      templates: () => templates,
      injectorNamespace: INJECTOR_NAMESPACE,
      workloads: c.mode === 'warn' ? 'warn' : 'deny',
      ...(c.inject.prefix === 'sidekick.dev' ? {} : { prefix: c.inject.prefix }),
    },
    true,
  );
  if (handled.status !== 200) assert.fail(`HTTP ${String(handled.status)}: ${handled.message}`);
  const response = handled.review.response;
  assert.equal(response.uid, 'u-p');
  assert.equal(response.patch, undefined, '/validate patched');
  // No namespace: a cluster-scoped object, which has no Pods to judge.
  if (c.inject.namespace === '') {
    assert.deepEqual(response, { uid: 'u-p', allowed: true });
    return 'ignored';
  }
  const { outcome } = injectWorkload(object, {
    templates,
    namespace: c.inject.namespace,
    injectorNamespace: INJECTOR_NAMESPACE,
    ...(c.inject.prefix === 'sidekick.dev' ? {} : { prefix: c.inject.prefix }),
  });
  const refused = outcome.decision === 'refuse';
  assert.equal(response.allowed, !(refused && c.mode === 'deny'), JSON.stringify(response).slice(0, 300));
  const warnings = response.warnings ?? [];
  assert.deepEqual(warnings.slice(0, outcome.warnings.length), outcome.warnings);
  return response.allowed ? (refused ? 'warned' : 'allowed') : 'denied';
}
