import assert from 'node:assert/strict';
import { injectPod, type InjectOutcome } from '../../../src/inject/index.js';
import { verifyPod } from '../../../src/inject/verify.js';
import { deepEqual, isObject, type Json, type JsonObject } from '../../../src/json.js';
import { sourceVolumeName } from '../../../src/inject/replace-volumes.js';
import { podVolumeName } from '../../../src/templates/names.js';
import type { ParameterValue, TemplateSet } from '../../../src/templates/types.js';
import { EXCLUDED_NAMESPACES, injectOptions, type InjectCase } from './cases.js';
import { checkParametersAreData } from './data-checks.js';
import { applied } from './json-patch.js';
import {
  annotationsOf,
  assertSame,
  field,
  listAt,
  mountsOf,
  nameOf,
  pointerToken,
  requestedSidecars,
  specOf,
  statusSidecars,
  withoutMounts,
} from './pod-view.js';

type Injected = Extract<InjectOutcome, { decision: 'inject' }>;

/** Every outcome is well formed, whatever the input. */
export function checkOutcome(outcome: InjectOutcome): void {
  assert.equal(typeof outcome.object, 'string');
  assert.ok(Array.isArray(outcome.warnings) && outcome.warnings.every((w) => typeof w === 'string'));
  if (outcome.decision === 'refuse') assert.ok(outcome.message.length > 0, 'a refusal without a message');
  if (outcome.decision === 'skip') assert.ok(outcome.reason.length > 0, 'a skip without a reason');
  if (outcome.decision === 'inject') assert.ok(isObject(outcome.pod) && Array.isArray(outcome.patch));
}

function isSet(value: ParameterValue | undefined): boolean {
  if (value === undefined || value === false || value === '') return false;
  return !(Array.isArray(value) && value.length === 0);
}

/** Sidecars that an earlier injection of this Pod may have added: those sidekick may replace. */
function ownedBySidekick(
  templates: TemplateSet,
  input: Json,
  prefix: string,
  sidecars: readonly string[],
): Set<string> {
  const previous = statusSidecars(annotationsOf(input)[`${prefix}/status`]);
  return new Set([...sidecars, ...previous].filter((n) => templates.templates.has(n)));
}

function ownsVolume(owned: ReadonlySet<string>, name: string | undefined): boolean {
  return name !== undefined && [...owned].some((s) => name.startsWith(podVolumeName(s, '')));
}

function userMounts(container: Json, owned: ReadonlySet<string>): Json[] {
  return mountsOf(container).filter((m) => !ownsVolume(owned, nameOf(m)));
}

function sameContainer(before: Json, after: Json, owned: ReadonlySet<string>, what: string): void {
  assertSame(withoutMounts(after), withoutMounts(before), `${what} was changed`);
  assertSame(userMounts(after, owned), userMounts(before, owned), `${what}: its own mounts were changed`);
  for (const mount of mountsOf(after)) {
    const name = nameOf(mount) ?? '';
    const added = !mountsOf(before).some((m) => deepEqual(m, mount));
    assert.ok(!added || ownsVolume(owned, name), `${what}: mount ${JSON.stringify(mount)} is not sidekick's`);
  }
}

/** The Pod's own containers, init containers and volumes survive, changed only by added mounts. */
function checkPodKept(templates: TemplateSet, c: InjectCase, input: Json, outcome: Injected): void {
  const owned = ownedBySidekick(templates, input, c.prefix, outcome.sidecars);
  const before = specOf(input);
  const after = specOf(outcome.pod);
  for (const list of ['containers', 'ephemeralContainers']) {
    const was = listAt(before, list);
    const is = listAt(after, list);
    assert.equal(is.length, was.length, `spec.${list} changed length`);
    was.forEach((item, i) => {
      sameContainer(item, is[i] ?? null, owned, `spec.${list}[${i}]`);
    });
  }
  const own = (list: Json[]): Json[] => list.filter((x) => !owned.has(nameOf(x) ?? ''));
  const wasInit = own(listAt(before, 'initContainers'));
  const isInit = own(listAt(after, 'initContainers'));
  assert.deepEqual(
    isInit.map(nameOf),
    wasInit.map(nameOf),
    'the Pod lost or reordered its own init containers',
  );
  wasInit.forEach((item, i) => {
    sameContainer(item, isInit[i] ?? null, owned, `init container ${nameOf(item) ?? i}`);
  });
  const sidecars = listAt(after, 'initContainers')
    .map(nameOf)
    .filter((n) => outcome.sidecars.includes(n ?? ''));
  assert.deepEqual(sidecars, outcome.sidecars, 'the sidecars in initContainers are not the outcome sidecars');
  const ownVolumes = (list: Json[]): Json[] =>
    asWritten(list, owned).filter((v) => !ownsVolume(owned, nameOf(v)));
  assertSame(
    ownVolumes(listAt(after, 'volumes')),
    ownVolumes(listAt(before, 'volumes')),
    "the Pod's own volumes were changed",
  );
}

/**
 * The Pod's volumes as the user wrote them: a volume that relay mode replaced with an emptyDir is
 * read back from the original kept beside it (the one change to a Pod volume sidekick may make).
 */
function asWritten(volumes: Json[], owned: ReadonlySet<string>): Json[] {
  const byName = new Map(volumes.map((v) => [nameOf(v) ?? '', v]));
  return volumes.map((v) => {
    if (!isObject(v) || !isObject(v.emptyDir)) return v;
    const name = nameOf(v) ?? '';
    const kept = [...owned].map((s) => byName.get(sourceVolumeName(s, name))).find(isObject);
    return kept ? { ...kept, name } : v;
  });
}

/** Only the status annotation, the lists sidekick adds to, mounts and shareProcessNamespace change. */
function checkPatchPaths(prefix: string, outcome: Injected): void {
  const status = `/metadata/annotations/${pointerToken(`${prefix}/status`)}`;
  const allowed = [
    /^\/spec\/(initContainers|volumes)(\/|$)/,
    /^\/spec\/(containers|initContainers|ephemeralContainers)\/\d+\/volumeMounts(\/|$)/,
    /^\/spec\/shareProcessNamespace$/,
  ];
  for (const op of outcome.patch) {
    assert.ok(
      op.path === status || allowed.some((re) => re.test(op.path)),
      `the patch changes ${op.path} (${op.op})`,
    );
  }
}

function checkStatusAndChoice(templates: TemplateSet, prefix: string, input: Json, outcome: Injected): void {
  const raw = annotationsOf(outcome.pod)[`${prefix}/status`];
  assert.ok(typeof raw === 'string', 'no status annotation');
  const status: unknown = JSON.parse(raw);
  assert.ok(isObject(status) && typeof status.templates === 'string', `status ${raw}`);
  assert.deepEqual(status.sidecars, outcome.sidecars, 'the status does not list the sidecars in order');
  const wanted = new Set<string>();
  const pending = requestedSidecars(annotationsOf(input)[`${prefix}/inject`]);
  for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
    if (wanted.has(name)) continue;
    wanted.add(name);
    pending.push(...(templates.templates.get(name)?.requires ?? []));
  }
  assert.deepEqual(
    new Set(outcome.sidecars),
    wanted,
    'the sidecars are not the requested ones and what they require',
  );
}

/** Dependencies first; sidecars before the Pod's own init containers unless placed after one. */
function checkOrder(templates: TemplateSet, outcome: Injected): void {
  const init = listAt(specOf(outcome.pod), 'initContainers').map((c) => nameOf(c) ?? '');
  const at = (name: string): number => init.indexOf(name);
  const placed = new Map<string, boolean>();
  for (const name of outcome.sidecars) {
    const template = templates.templates.get(name);
    const deps = [
      ...(template?.requires ?? []),
      ...(template?.after ?? []).filter((a) => outcome.sidecars.includes(a)),
      // A watcher starts after the sidecars whose volumes it may watch (git-sync's checkout).
      ...(template?.podVolumeMounts
        ? outcome.sidecars.filter(
            (s) => s !== name && (templates.templates.get(s)?.watchable.length ?? 0) > 0,
          )
        : []),
    ];
    for (const dep of deps)
      assert.ok(at(dep) < at(name), `${name} starts before ${dep}, which it depends on`);
    const after = outcome.plan.find((p) => p.name === name)?.parameters.after?.value;
    if (typeof after === 'string' && after !== '')
      assert.ok(at(after) >= 0 && at(after) < at(name), `${name} does not start after ${after}`);
    const isPlaced = (typeof after === 'string' && after !== '') || deps.some((d) => placed.get(d) === true);
    placed.set(name, isPlaced);
    const firstOwn = init.findIndex((n) => !outcome.sidecars.includes(n));
    if (!isPlaced && firstOwn >= 0)
      assert.ok(at(name) < firstOwn, `${name} starts after the Pod's own ${init[firstOwn] ?? ''}`);
  }
}

function checkShareProcessNamespace(templates: TemplateSet, input: Json, outcome: Injected): void {
  const needs = outcome.sidecars.some((name) => {
    const spn = templates.templates.get(name)?.shareProcessNamespace ?? false;
    if (typeof spn === 'boolean') return spn;
    return isSet(outcome.plan.find((p) => p.name === name)?.parameters[spn.whenSet]?.value);
  });
  const was = field(specOf(input), 'shareProcessNamespace');
  const is = field(specOf(outcome.pod), 'shareProcessNamespace');
  if (needs) assert.equal(is, true, 'a sidecar needs shareProcessNamespace, which is not set');
  else assert.deepEqual(is, was, 'shareProcessNamespace changed though no sidecar needs it');
}

/** Everything that must hold of an injection, given the input it came from. */
export function checkInjected(
  templates: TemplateSet,
  c: InjectCase,
  input: JsonObject,
  outcome: Injected,
): void {
  assertSame(
    applied(input, outcome.patch),
    outcome.pod,
    'the patch applied to the input is not the injected Pod',
  );
  assert.deepEqual(
    verifyPod(outcome.pod, outcome.sidecars, new Set(outcome.runOnce)),
    [],
    'the injected Pod fails verification',
  );
  checkPatchPaths(c.prefix, outcome);
  checkStatusAndChoice(templates, c.prefix, input, outcome);
  checkOrder(templates, outcome);
  checkPodKept(templates, c, input, outcome);
  checkShareProcessNamespace(templates, input, outcome);
  checkParametersAreData(templates, c.prefix, input, outcome.pod, outcome.sidecars);
  const again = injectPod(outcome.pod, injectOptions(templates, c));
  assert.equal(
    again.decision,
    'inject',
    `injecting the injected Pod gave ${again.decision}: ${JSON.stringify(again)}`,
  );
  assert.deepEqual(again.patch, [], 'injecting the injected Pod changed it');
  assert.deepEqual(again.sidecars, outcome.sidecars);
}

/** injectPod is pure, never throws, and every injection it makes keeps every invariant. */
export function checkInjection(templates: TemplateSet, c: InjectCase): string {
  const before = JSON.stringify(c.pod);
  const outcome = injectPod(c.pod, injectOptions(templates, c));
  assert.equal(JSON.stringify(c.pod), before, 'injectPod changed its input');
  checkOutcome(outcome);
  if (EXCLUDED_NAMESPACES.includes(c.namespace))
    assert.notEqual(outcome.decision, 'inject', `namespace ${c.namespace} was injected`);
  if (outcome.decision !== 'inject') return outcome.decision;
  assert.ok(isObject(c.pod), 'a non-object was injected');
  checkInjected(templates, c, c.pod, outcome);
  return outcome.patch.length === 0 ? 'unchanged' : 'inject';
}

/** In an excluded namespace a Pod with string annotations is skipped, whatever it asks for. */
export function checkExcluded(templates: TemplateSet, c: InjectCase): string {
  const outcome = injectPod(c.pod, injectOptions(templates, c));
  checkOutcome(outcome);
  const annotations = annotationsOf(c.pod);
  const strings = Object.values(annotations).every((v) => typeof v === 'string');
  if (strings) assert.equal(outcome.decision, 'skip', `namespace ${c.namespace}: ${outcome.decision}`);
  else assert.notEqual(outcome.decision, 'inject', `namespace ${c.namespace} was injected`);
  const asked = requestedSidecars(annotations[`${c.prefix}/inject`]).length > 0;
  if (asked && outcome.decision === 'skip')
    assert.ok(
      outcome.warnings.some((w) => w.includes(c.namespace)),
      'no warning that the namespace is excluded',
    );
  return `${outcome.decision}${asked ? ' (asked)' : ''}`;
}
