import type { Operation } from 'fast-json-patch';
import type { JsonObject } from '../json.js';
import type { ParameterValue, TemplateSet } from '../templates/types.js';

export const DEFAULT_PREFIX = 'sidekick.dev';
export const SYSTEM_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease'];

export interface InjectOptions {
  templates: TemplateSet;
  /** The namespace of the Pod (the admission request's, or --namespace offline). */
  namespace: string;
  /** Annotation prefix, `sidekick.dev` by default. */
  prefix?: string;
  /** The injector's own namespace: never injected, like the system namespaces. */
  injectorNamespace?: string;
  /** How messages name the object, e.g. `Deployment team-a/web`; by default the Pod's own name. */
  describe?: string;
  /** The caller has checked that the Pod nests no deeper than this (the admission layer does). */
  checkedDepth?: number;
}

export interface PlannedParameter {
  value: ParameterValue;
  source: 'annotation' | 'default';
}

export interface PlannedSidecar {
  name: string;
  /** Why it is injected: "requested", "required by log-shipper". */
  reason: string;
  /** Where it starts: "first", "after vault-agent", "after init container migrate". */
  position: string;
  parameters: Record<string, PlannedParameter>;
  /** Runs once to completion as a plain init container, not as a native sidecar. */
  runOnce?: true;
}

interface Common {
  /** For messages: `Pod default/web` or `Pod default/web-* (generateName)`. */
  object: string;
  warnings: string[];
}

export type InjectOutcome =
  | (Common & { decision: 'skip'; reason: string })
  | (Common & { decision: 'refuse'; message: string })
  | (Common & {
      decision: 'inject';
      /** The Pod as it should be stored. */
      pod: JsonObject;
      /** JSONPatch from the input Pod to `pod`; empty when nothing changed. */
      patch: Operation[];
      /** Injected sidecars in start order. */
      sidecars: string[];
      /** Those of them that run once to completion as plain init containers (no restartPolicy). */
      runOnce: string[];
      plan: PlannedSidecar[];
    });
