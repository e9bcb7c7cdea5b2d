import assert from 'node:assert/strict';
import { isObject, type JsonObject } from '../../../src/json.js';
import type { TemplateSet } from '../../../src/templates/types.js';
import { INJECT } from './objects.js';

/** Parameter values for the required (or one-of) parameters of the built-in templates. */
export const EXAMPLES: Readonly<Record<string, string>> = {
  'db-proxy.instance': 'my-project:us-central1:my-db',
  'vault-agent.role': 'web',
  'vault-agent.secret': 'secret/data/web',
  'otel-collector.endpoint': 'otel-gateway.observability.svc:4317',
  'config-watcher.url': 'http://127.0.0.1:9090/-/reload',
  'config-watcher.process': 'nginx',
  'git-sync.repo': 'https://github.com/example/web-config.git',
};

export function example(key: string): string {
  const value = EXAMPLES[key];
  assert.ok(value !== undefined, `no example value for ${key}`);
  return value;
}

/**
 * The annotations that ask for one template with everything it needs: its required parameters
 * and one of each exactly-one-of group. A new required parameter fails here until it has an
 * example, so that no template escapes the tests.
 */
export function annotationsFor(template: string, set: TemplateSet): Record<string, string> {
  const spec = set.templates.get(template);
  assert.ok(spec, `no template ${template}`);
  const annotations: Record<string, string> = { [INJECT]: template };
  const give = (param: string): boolean => {
    const value = EXAMPLES[`${template}.${param}`];
    if (value === undefined) return false;
    annotations[`sidekick.dev/${template}.${param}`] = value;
    return true;
  };
  for (const param of spec.parameters.filter((p) => p.required)) {
    assert.ok(give(param.name), `add an example value for ${template}.${param.name} to EXAMPLES`);
  }
  for (const group of spec.exactlyOneOf) {
    assert.ok(group.some(give), `add an example value for one of ${template}.${group.join('|')} to EXAMPLES`);
  }
  return annotations;
}

/** Containers without what the ServiceAccount admission adds (a token volume with a random name). */
export function withoutTokenMounts(containers: JsonObject[]): JsonObject[] {
  return containers.map((c) => ({
    ...c,
    volumeMounts: (Array.isArray(c.volumeMounts) ? c.volumeMounts : []).filter(
      (m) => !(isObject(m) && typeof m.name === 'string' && m.name.startsWith('kube-api-access-')),
    ),
  }));
}
