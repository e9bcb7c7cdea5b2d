import { isObject, type JsonObject } from '../json.js';
import { workloadMetadataWarnings } from './misplaced.js';
import { injectPod } from './pipeline.js';
import { DEFAULT_PREFIX, type InjectOptions, type InjectOutcome } from './types.js';
import { getPath, isKnownWorkloadKind, podTemplatePath, withPath } from './workloads.js';

/** An object without a Pod template: passed through as it is. */
export interface PassOutcome {
  decision: 'pass';
  object: string;
  reason: string;
  warnings: string[];
}

export interface WorkloadResult {
  /** `Deployment team-a/web`, for messages. */
  object: string;
  outcome: InjectOutcome | PassOutcome;
  /** The object with its Pod template injected; the input itself unless injected. */
  result: JsonObject;
}

export type WorkloadOptions = Omit<InjectOptions, 'describe' | 'namespace'> & {
  /** The namespace to assume when the object names none. */
  namespace: string;
};

function describeWorkload(kind: string, meta: JsonObject, namespace: string): string {
  const { name, generateName } = meta;
  if (typeof name === 'string' && name !== '') return `${kind} ${namespace}/${name}`;
  if (typeof generateName === 'string' && generateName !== '') return `${kind} ${namespace}/${generateName}*`;
  return `${kind} ${namespace}/(unnamed)`;
}

/**
 * One object (a Pod, a workload of any kind with a Pod template) through the injection core,
 * with the warnings about keys on the workload's own metadata. `sidekick inject`/`explain` and
 * the /validate webhook both call this, so that they cannot disagree.
 */
export function injectWorkload(object: JsonObject, options: WorkloadOptions): WorkloadResult {
  const kind = typeof object.kind === 'string' && object.kind !== '' ? object.kind : '(no kind)';
  const meta = isObject(object.metadata) ? object.metadata : {};
  const namespace = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : options.namespace;
  const describe = describeWorkload(kind, meta, namespace);
  const path = podTemplatePath(object);
  const template = path ? getPath(object, path) : undefined;
  if (!path || !template) {
    const reason = isKnownWorkloadKind(kind) ? 'it has no Pod template' : `kind ${kind} has no Pod template`;
    return {
      object: describe,
      outcome: { decision: 'pass', object: describe, reason, warnings: [] },
      result: object,
    };
  }
  const misplaced =
    path.length === 0
      ? []
      : workloadMetadataWarnings(object, kind, path, options.prefix ?? DEFAULT_PREFIX, namespace);
  const outcome = injectPod(template, { ...options, namespace, describe });
  outcome.warnings.unshift(...misplaced);
  const result = outcome.decision === 'inject' ? withPath(object, path, outcome.pod) : object;
  return { object: describe, outcome, result };
}
