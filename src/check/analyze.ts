import { annotationKeys } from '../inject/annotations.js';
import { statusHash, statusKey } from '../inject/status-hash.js';
import { readStatus } from '../inject/strip.js';
import { SYSTEM_NAMESPACES } from '../inject/types.js';
import { injectWorkload, type WorkloadResult } from '../inject/workload.js';
import { getPath, podTemplatePath } from '../inject/workloads.js';
import { deepEqual, isObject, type JsonObject } from '../json.js';
import type { SidecarTemplate, TemplateSet } from '../templates/types.js';
import type { ClusterSnapshot } from './gather.js';

export type Severity = 'ok' | 'notice' | 'problem';

export interface Finding {
  check:
    'webhook' | 'namespaces' | 'templates' | 'not-opted-in' | 'refused' | 'warnings' | 'changed' | 'stale';
  severity: Severity;
  object: string;
  detail: string;
}

export interface CheckOptions {
  prefix: string;
  injectorNamespace: string;
  /** --templates: the set to preview; undefined to judge with the cluster's own. */
  preview: TemplateSet | undefined;
  /** Used when the cluster's set cannot be read. */
  fallback: TemplateSet;
}

function meta(object: JsonObject): JsonObject {
  return isObject(object.metadata) ? object.metadata : {};
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function webhookFindings(snapshot: ClusterSnapshot): Finding[] {
  return snapshot.webhooks.flatMap((health): Finding[] => {
    const problems = health.problems.map((detail): Finding => ({
      check: 'webhook',
      severity: 'problem',
      object: health.object,
      detail,
    }));
    if (health.notes.length === 0) return problems;
    // What did hold (trusted, ready) is said even beside a problem, so the table tells the whole story.
    const missing = health.notes.some((n) => n.startsWith('not found'));
    return [
      {
        check: 'webhook',
        severity: missing ? 'notice' : 'ok',
        object: health.object,
        detail: health.notes.join('; '),
      },
      ...problems,
    ];
  });
}

function optedIn(snapshot: ClusterSnapshot, options: CheckOptions): Set<string> {
  const label = `${options.prefix}/injection`;
  return new Set(
    snapshot.namespaces
      .filter((ns) => isObject(meta(ns).labels) && (meta(ns).labels as JsonObject)[label] === 'enabled')
      .map((ns) => str(meta(ns).name)),
  );
}

function inject(workload: JsonObject, templates: TemplateSet, options: CheckOptions): WorkloadResult {
  return injectWorkload(workload, {
    templates,
    namespace: str(meta(workload).namespace),
    prefix: options.prefix,
    injectorNamespace: options.injectorNamespace,
  });
}

function askedFor(workload: JsonObject, prefix: string): string {
  const path = podTemplatePath(workload);
  const template = path === undefined ? undefined : getPath(workload, path);
  const annotations = template === undefined ? undefined : meta(template).annotations;
  const value = isObject(annotations) ? annotations[annotationKeys(prefix).inject] : undefined;
  return typeof value === 'string' ? value.trim() : '';
}

function withoutObject(message: string, object: string): string {
  return message.startsWith(`${object}: `) ? message.slice(object.length + 2) : message;
}

function sidecarsOf(result: WorkloadResult): string {
  return result.outcome.decision === 'inject' ? result.outcome.sidecars.join(', ') : '';
}

/** What a template change would do to the Pods of one workload: nothing, a change, or a refusal. */
function change(now: WorkloadResult, next: WorkloadResult): string | undefined {
  const [a, b] = [now.outcome, next.outcome];
  if (a.decision === 'refuse' && b.decision === 'inject') {
    return `admitted with the given templates, refused with the current ones: ${withoutObject(a.message, now.object)}`;
  }
  if (a.decision !== 'inject' || b.decision !== 'inject' || deepEqual(now.result, next.result))
    return undefined;
  if (sidecarsOf(now) !== sidecarsOf(next))
    return `sidecars ${sidecarsOf(now)} would become ${sidecarsOf(next)}`;
  const changed = b.sidecars.filter((name) => {
    const before = a.pod.spec;
    const after = b.pod.spec;
    const pick = (spec: unknown): unknown =>
      isObject(spec) && Array.isArray(spec.initContainers)
        ? spec.initContainers.find((c) => isObject(c) && c.name === name)
        : undefined;
    return JSON.stringify(pick(before)) !== JSON.stringify(pick(after));
  });
  return `new Pods would get changed sidecars: ${changed.join(', ') || 'their volumes or mounts'}`;
}

function workloadFindings(snapshot: ClusterSnapshot, current: TemplateSet, options: CheckOptions): Finding[] {
  const opted = optedIn(snapshot, options);
  const preview = options.preview ?? current;
  const out: Finding[] = [];
  for (const workload of snapshot.workloads) {
    const namespace = str(meta(workload).namespace);
    if (SYSTEM_NAMESPACES.includes(namespace) || namespace === options.injectorNamespace) continue;
    const asked = askedFor(workload, options.prefix);
    const object = `${str(workload.kind)} ${namespace}/${str(meta(workload).name)}`;
    if (!opted.has(namespace)) {
      if (asked !== '') {
        out.push({
          check: 'not-opted-in',
          severity: 'problem',
          object,
          detail: `asks for ${asked}, but namespace ${namespace} is not opted in (label ${options.prefix}/injection=enabled): its Pods get no sidecars`,
        });
      }
      continue;
    }
    const next = inject(workload, preview, options);
    if (next.outcome.decision === 'refuse') {
      out.push({
        check: 'refused',
        severity: 'problem',
        object,
        detail: withoutObject(next.outcome.message, next.object),
      });
    }
    if (next.outcome.warnings.length > 0) {
      out.push({ check: 'warnings', severity: 'notice', object, detail: next.outcome.warnings.join('; ') });
    }
    if (options.preview === undefined) continue;
    const detail = change(inject(workload, current, options), next);
    if (detail !== undefined) out.push({ check: 'changed', severity: 'notice', object, detail });
  }
  return out;
}

const FINISHED = new Set(['Succeeded', 'Failed']);

function podFindings(snapshot: ClusterSnapshot, current: TemplateSet, options: CheckOptions): Finding[] {
  const key = annotationKeys(options.prefix).status;
  const out: Finding[] = [];
  for (const pod of snapshot.pods) {
    const annotations = meta(pod).annotations;
    const raw = isObject(annotations) ? annotations[key] : undefined;
    if (typeof raw !== 'string') continue;
    if (isObject(pod.status) && FINISHED.has(str(pod.status.phase))) continue;
    const object = `Pod ${str(meta(pod).namespace)}/${str(meta(pod).name)}`;
    const status = readStatus(raw);
    const parsed: unknown = JSON.parse(status.unreadable === undefined ? raw : '{}');
    const hash = isObject(parsed) ? str(parsed.templates) : '';
    const missing = status.sidecars.filter((name) => !current.templates.has(name));
    const templates = status.sidecars.flatMap((name): SidecarTemplate[] => {
      const template = current.templates.get(name);
      return template === undefined ? [] : [template];
    });
    const expected = statusHash(statusKey(templates));
    if (status.unreadable !== undefined) {
      out.push({
        check: 'stale',
        severity: 'problem',
        object,
        detail: `annotation ${key} ${status.unreadable}`,
      });
    } else if (missing.length > 0) {
      out.push({
        check: 'stale',
        severity: 'problem',
        object,
        detail: `runs ${missing.join(', ')}, which the current templates no longer have`,
      });
    } else if (hash !== expected) {
      out.push({
        check: 'stale',
        severity: 'problem',
        object,
        detail: `its sidecars (${status.sidecars.join(', ')}) come from templates ${hash}, not the current ${expected}: recreate it (kubectl rollout restart its workload) to update them`,
      });
    }
  }
  return out;
}

/** Everything `sidekick check` reports, judged from a snapshot: pure, so it is tested without a cluster. */
export function analyze(snapshot: ClusterSnapshot, options: CheckOptions): Finding[] {
  const current = typeof snapshot.current === 'string' ? options.fallback : snapshot.current;
  const findings: Finding[] = [...webhookFindings(snapshot)];
  if (typeof snapshot.current === 'string') {
    findings.push({
      check: 'templates',
      severity: 'problem',
      object: 'current templates',
      detail: `${snapshot.current}; judged with the built-in templates instead`,
    });
  }
  const opted = [...optedIn(snapshot, options)]
    .filter((ns) => !SYSTEM_NAMESPACES.includes(ns) && ns !== options.injectorNamespace)
    .sort();
  findings.push(
    opted.length > 0
      ? { check: 'namespaces', severity: 'ok', object: 'opted in', detail: opted.join(', ') }
      : {
          check: 'namespaces',
          severity: 'notice',
          object: 'opted in',
          detail: `no namespace has the label ${options.prefix}/injection=enabled`,
        },
  );
  findings.push(...workloadFindings(snapshot, current, options), ...podFindings(snapshot, current, options));
  return findings;
}
