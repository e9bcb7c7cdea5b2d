import fc from 'fast-check';
import { SYSTEM_NAMESPACES, type InjectOptions } from '../../../src/inject/index.js';
import { isObject, type Json, type JsonObject } from '../../../src/json.js';
import type { TemplateSet } from '../../../src/templates/types.js';
import { assemblePod, podParts } from './pods.js';
import { hostileString } from './strings.js';

export const INJECTOR_NAMESPACE = 'sidekick-system';
export const EXCLUDED_NAMESPACES: readonly string[] = [...SYSTEM_NAMESPACES, INJECTOR_NAMESPACE];
export const DEFAULT_PREFIX = 'sidekick.dev';
const OTHER_PREFIX = 'inject.example.com';

/** One call of the injection core: the Pod as raw JSON and what the caller knows about it. */
export interface InjectCase extends JsonObject {
  namespace: string;
  prefix: string;
  pod: Json;
}

export function isInjectCase(value: Json): value is InjectCase {
  return (
    isObject(value) &&
    typeof value.namespace === 'string' &&
    typeof value.prefix === 'string' &&
    Object.prototype.hasOwnProperty.call(value, 'pod')
  );
}

export function injectOptions(
  templates: TemplateSet,
  c: { namespace: string; prefix: string },
): InjectOptions {
  return {
    templates,
    namespace: c.namespace,
    injectorNamespace: INJECTOR_NAMESPACE,
    ...(c.prefix === DEFAULT_PREFIX ? {} : { prefix: c.prefix }),
  };
}

export const usualNamespace: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constant('team-a'), weight: 16 },
  { arbitrary: fc.constantFrom('default', 'shop'), weight: 2 },
  { arbitrary: fc.constantFrom(...EXCLUDED_NAMESPACES), weight: 1 },
  { arbitrary: hostileString, weight: 1 },
);

export const excludedNamespace: fc.Arbitrary<string> = fc.constantFrom(...EXCLUDED_NAMESPACES);

const prefix: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constant(DEFAULT_PREFIX), weight: 9 },
  { arbitrary: fc.constant(OTHER_PREFIX), weight: 1 },
);

/** Generated Pods in a namespace, with the Pod's own metadata.namespace usually agreeing. */
export function injectCases(templates: TemplateSet, namespace = usualNamespace): fc.Arbitrary<InjectCase> {
  return fc
    .record({
      namespace,
      prefix,
      parts: podParts(templates),
      podNamespace: fc.oneof(
        { arbitrary: fc.constant('same'), weight: 6 },
        { arbitrary: fc.constant(undefined), weight: 3 },
        { arbitrary: fc.constant('other'), weight: 1 },
      ),
    })
    .map(({ namespace: ns, prefix: p, parts, podNamespace }) => ({
      namespace: ns,
      prefix: p,
      pod: assemblePod(
        parts,
        p,
        podNamespace === 'same' ? ns : podNamespace === 'other' ? 'elsewhere' : undefined,
      ),
    }));
}
