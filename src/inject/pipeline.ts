import { BoundedCache } from '../bounded-cache.js';
import { deepEqual, isArray, isObject, nestedDeeperThan, type Json, type JsonObject } from '../json.js';
import type { TemplateSet } from '../templates/types.js';
import { annotationKeys, readAnnotations } from './annotations.js';
import { describeObject } from './describe.js';
import { mergeSidecars, needsSharedPids, runsOnce, type Sidecar } from './merge.js';
import { podLabelWarnings, unusedParameterWarnings } from './misplaced.js';
import { chooseSidecars } from './order.js';
import { copyForInjection } from './copy.js';
import { createPatch } from './patch.js';
import { placeSidecars } from './placement.js';
import { portClashes, sidecarPorts } from './ports.js';
import { signalUidProblems } from './signal-uid.js';
import { nameOf, objectAt } from './pod.js';
import { reconcile } from './reconcile.js';
import { resolvedParameters } from './resolved.js';
import { statusHash, statusKey } from './status-hash.js';
import { addedVolumes, readStatus, stripInjection } from './strip.js';
import {
  DEFAULT_PREFIX,
  SYSTEM_NAMESPACES,
  type InjectOptions,
  type InjectOutcome,
  type PlannedSidecar,
} from './types.js';
import { verifyPod } from './verify.js';

/** By the sidecars and their template hashes: few distinct values, and one is asked for per Pod. */
const STATUS_VALUES = new BoundedCache<string, string>(1000);

function statusValue(sidecars: readonly Sidecar[]): string {
  const key = statusKey(sidecars.map((s) => s.template));
  return STATUS_VALUES.get(key, () =>
    JSON.stringify({ sidecars: sidecars.map((s) => s.template.name), templates: statusHash(key) }),
  );
}

/** Warnings for sidecars an earlier injection added that are no longer as sidekick left them. */
function repairs(
  input: JsonObject,
  output: JsonObject,
  previous: readonly string[],
  sidecars: readonly string[],
): string[] {
  const init = (pod: JsonObject): Json[] =>
    isObject(pod.spec) && isArray(pod.spec.initContainers) ? pod.spec.initContainers : [];
  if (previous.length === 0) return [];
  const before = init(input);
  const after = init(output);
  const out: string[] = [];
  for (const name of previous.filter((p) => sidecars.includes(p))) {
    const had = before.find((c) => nameOf(c) === name);
    const has = after.find((c) => nameOf(c) === name);
    if (had === undefined) out.push(`sidecar ${name} had been removed; it is injected again`);
    else if (
      isObject(had) &&
      isObject(has) &&
      has.restartPolicy === 'Always' &&
      had.restartPolicy !== 'Always'
    ) {
      out.push(`sidecar ${name} had lost restartPolicy: Always (another webhook?); it is restored`);
    } else if (!deepEqual(had, has ?? null)) out.push(`sidecar ${name} had been modified; it is restored`);
  }
  const names = (list: Json[]): string[] => list.map((c) => nameOf(c) ?? '');
  if (out.length === 0 && !deepEqual(names(before), names(after))) {
    out.push(
      `the start order had been changed (${names(before).join(', ')}); it is restored (${names(after).join(', ')})`,
    );
  }
  return out;
}

/** The volumes templates add and those sidekick replaced or kept for a sidecar (relay mode). */
function sidekickVolumes(sidecars: readonly Sidecar[], replaced: readonly string[]): Set<string> {
  const volumes = addedVolumes(sidecars.map((s) => s.template));
  for (const name of replaced) volumes.add(name);
  return volumes;
}

/** Deep enough for any real Pod, shallow enough for the recursive steps of injection. */
export const MAX_POD_DEPTH = 100;

/** The admission layer has made a stricter check already; the CLI has not. */
function tooDeep(pod: JsonObject, options: InjectOptions): boolean {
  if (options.checkedDepth !== undefined && options.checkedDepth <= MAX_POD_DEPTH) return false;
  return nestedDeeperThan(pod, MAX_POD_DEPTH);
}

function excluded(namespace: string, options: InjectOptions): boolean {
  return SYSTEM_NAMESPACES.includes(namespace) || namespace === options.injectorNamespace;
}

interface Plan {
  sidecars: Sidecar[];
  planned: Map<string, PlannedSidecar>;
}

function plan(
  pod: JsonObject,
  requested: string[],
  given: ReturnType<typeof readAnnotations>,
  templates: TemplateSet,
  prefix: string,
  problems: string[],
): Plan {
  const chosen = chooseSidecars(requested, templates, annotationKeys(prefix).inject, problems);
  const planned = new Map<string, PlannedSidecar>();
  const withValues = chosen.map((c) => {
    const own = given.parameters.get(c.template.name);
    const { values, planned: parameters, problems: wrong } = resolvedParameters(c.template, own, prefix);
    problems.push(...wrong);
    planned.set(c.template.name, { name: c.template.name, reason: c.reason, position: '', parameters });
    return { ...c, values };
  });
  const sidecars = placeSidecars(objectAt(pod, 'spec'), withValues, prefix, problems);
  return { sidecars, planned };
}

/** What would certainly fail at runtime between the containers of the injected Pod. */
function crossContainerChecks(
  spec: JsonObject,
  sidecars: readonly Sidecar[],
  ctx: { prefix: string; problems: string[]; warnings: string[] },
): void {
  // The Pod is complete only when the merge found nothing wrong.
  if (ctx.problems.length > 0) return;
  const signalling = sidecars.filter(needsSharedPids).map((s) => s.template.name);
  ctx.problems.push(...signalUidProblems(spec, signalling, ctx.prefix));
  const ports = new Map(sidecars.map((s) => [s.template.name, sidecarPorts(s.template, ctx.prefix)]));
  portClashes(spec, ports, ctx.problems, ctx.warnings);
}

export function injectPod(input: unknown, options: InjectOptions): InjectOutcome {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const namespace = options.namespace;
  if (!isObject(input)) {
    return {
      decision: 'refuse',
      object: `Pod ${namespace}/(unknown)`,
      message: 'the object is not a Pod: not a JSON object',
      warnings: [],
    };
  }
  const object = options.describe ?? describeObject('Pod', input, namespace);
  const refuse = (problems: string[], warnings: string[]): InjectOutcome => ({
    decision: 'refuse',
    object,
    message: `${object}: ${problems.join('; ')}`,
    warnings,
  });
  const keys = annotationKeys(prefix);
  const annotations = readAnnotations(input, prefix, options.templates);
  const warnings = [...annotations.warnings, ...podLabelWarnings(input, prefix, namespace)];
  const unused = (injected: readonly string[]): string[] =>
    unusedParameterWarnings(
      annotations.parameters,
      new Set(injected),
      keys.inject,
      annotations.inject,
      prefix,
    );
  if (annotations.problems.length > 0) return refuse(annotations.problems, warnings);
  if (annotations.requested.length === 0) {
    warnings.push(...unused([]));
    return {
      decision: 'skip',
      object,
      reason: `no sidecars requested (annotation ${keys.inject} is absent or empty)`,
      warnings,
    };
  }
  if (excluded(namespace, options)) {
    warnings.push(`namespace ${namespace} is never injected; annotation ${keys.inject} is ignored`);
    return {
      decision: 'skip',
      object,
      reason: `namespace ${namespace} is excluded from injection`,
      warnings,
    };
  }
  if (!isObject(input.spec) || !isArray(input.spec.containers)) {
    return refuse(['the Pod has no spec.containers'], warnings);
  }
  // A real Pod nests about ten levels; the copy, the merge and the diff below recurse.
  if (tooDeep(input, options)) {
    return refuse([`the Pod is nested deeper than ${MAX_POD_DEPTH} levels`], warnings);
  }
  const previous = readStatus(annotations.status);
  if (previous.unreadable) warnings.push(`annotation ${keys.status} ${previous.unreadable}; it is rewritten`);
  const pod = copyForInjection(input);
  const templates = options.templates.templates;
  const before = previous.sidecars.flatMap((name) => templates.get(name) ?? []);
  stripInjection(pod, before, keys.status);
  const problems: string[] = [];
  const { sidecars, planned } = plan(
    pod,
    annotations.requested,
    annotations,
    options.templates,
    prefix,
    problems,
  );
  if (problems.length > 0) return refuse(problems, warnings);
  const ctx = { prefix, problems, warnings };
  const replaced = mergeSidecars(pod, sidecars, ctx);
  crossContainerChecks(objectAt(pod, 'spec'), sidecars, ctx);
  if (problems.length > 0) return refuse(problems, warnings);
  objectAt(objectAt(pod, 'metadata'), 'annotations')[keys.status] = statusValue(sidecars);
  const names = sidecars.map((s) => s.template.name);
  const runOnce = sidecars.filter(runsOnce).map((s) => s.template.name);
  reconcile(pod, input, new Set(names), sidekickVolumes(sidecars, replaced));
  const invalid = verifyPod(pod, names, new Set(runOnce));
  if (invalid.length > 0)
    return refuse([`the injected Pod would be invalid: ${invalid.join('; ')}`], warnings);
  warnings.push(...unused(names));
  const patch = createPatch(input, pod);
  if (patch.length > 0) warnings.push(...repairs(input, pod, previous.sidecars, names));
  const plans = sidecars.map(({ template: { name }, position }) => {
    const p = planned.get(name);
    const once = runOnce.includes(name) ? { runOnce: true as const } : {};
    return { name, reason: p?.reason ?? 'requested', position, parameters: p?.parameters ?? {}, ...once };
  });
  return { decision: 'inject', object, pod, patch, sidecars: names, runOnce, plan: plans, warnings };
}
