import assert from 'node:assert/strict';
import fc from 'fast-check';
import { injectPod } from '../../../src/inject/index.js';
import { verifyPod } from '../../../src/inject/verify.js';
import { contains, isArray, isObject, type Json, type JsonObject } from '../../../src/json.js';
import { podVolumeName } from '../../../src/templates/names.js';
import type { TemplateSet } from '../../../src/templates/types.js';
import { injectCases, injectOptions, isInjectCase, type InjectCase } from './cases.js';
import { checkOutcome } from './inject-checks.js';
import { applied } from './json-patch.js';
import { allContainers, assertSame, listAt, mountsOf, nameOf, specOf } from './pod-view.js';

/** What other webhooks and controllers do to an injected Pod before sidekick sees it again. */
const ADDITIVE = ['addDefaults', 'addVolumeField', 'addMountField', 'appendInit', 'addAnnotation'] as const;
const DAMAGING = [
  'stripRestartPolicy',
  'removeSidecar',
  'moveToEnd',
  'changeImage',
  'removeVolume',
  'prependInit',
] as const;
type DamageKind = (typeof ADDITIVE)[number] | (typeof DAMAGING)[number];

export interface Damage extends JsonObject {
  kind: DamageKind;
  index: number;
}

export interface DamageCase extends JsonObject {
  inject: InjectCase;
  damage: Damage[];
}

const KINDS: readonly string[] = [...ADDITIVE, ...DAMAGING];

function isDamage(value: Json): value is Damage {
  return (
    isObject(value) &&
    typeof value.kind === 'string' &&
    KINDS.includes(value.kind) &&
    typeof value.index === 'number'
  );
}

export function isDamageCase(value: Json): value is DamageCase {
  return (
    isObject(value) &&
    isInjectCase(value.inject ?? null) &&
    isArray(value.damage) &&
    value.damage.every(isDamage)
  );
}

export function damageCases(templates: TemplateSet): fc.Arbitrary<DamageCase> {
  const damage = fc.record(
    { kind: fc.constantFrom<DamageKind>(...ADDITIVE, ...DAMAGING), index: fc.nat(5) },
    { noNullPrototype: true },
  );
  return fc.record(
    {
      inject: injectCases(templates, fc.constant('team-a')),
      damage: fc.array(damage, { minLength: 1, maxLength: 3 }),
    },
    { noNullPrototype: true },
  );
}

function at<T>(list: readonly T[], index: number): T | undefined {
  return list.length === 0 ? undefined : list[index % list.length];
}

function addMissing(object: Json | undefined, fields: JsonObject): void {
  if (!isObject(object)) return;
  for (const [key, value] of Object.entries(fields)) if (!(key in object)) object[key] = value;
}

/** Volumes of the injected sidecars, by their name. */
function ofSidecars(name: string | undefined, sidecars: readonly string[]): boolean {
  return sidecars.some((s) => (name ?? '').startsWith(podVolumeName(s, '')));
}

function damageVolumes(spec: JsonObject, d: Damage, sidecars: readonly string[]): void {
  const volumes = listAt(spec, 'volumes');
  const ours = volumes.filter((v) => ofSidecars(nameOf(v), sidecars));
  const volume = at(ours, d.index);
  if (!isObject(volume)) return;
  if (d.kind === 'removeVolume') spec.volumes = volumes.filter((v) => v !== volume);
  else {
    addMissing(volume.emptyDir, { medium: '' });
    addMissing(volume.secret, { defaultMode: 420 });
  }
}

function damageMounts(spec: JsonObject, d: Damage, sidecars: readonly string[]): void {
  const mounts = listAt(spec, 'containers')
    .flatMap(mountsOf)
    .filter((m) => ofSidecars(nameOf(m), sidecars));
  addMissing(at(mounts, d.index), { mountPropagation: 'None' });
}

function damageSidecar(spec: JsonObject, d: Damage, sidecars: readonly string[]): void {
  const init = listAt(spec, 'initContainers');
  const name = at(sidecars, d.index);
  const sidecar = init.find((c) => nameOf(c) === name);
  if (!isObject(sidecar)) return;
  if (d.kind === 'stripRestartPolicy') delete sidecar.restartPolicy;
  else if (d.kind === 'changeImage') sidecar.image = 'registry.example.com/other:1';
  else if (d.kind === 'removeSidecar') spec.initContainers = init.filter((c) => c !== sidecar);
  else if (d.kind === 'moveToEnd') spec.initContainers = [...init.filter((c) => c !== sidecar), sidecar];
  else
    addMissing(sidecar, {
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      imagePullPolicy: 'IfNotPresent',
    });
}

/** Another webhook's init container, added once at either end. */
function addInit(spec: JsonObject, atEnd: boolean): void {
  const init = listAt(spec, 'initContainers');
  if (init.some((c) => nameOf(c) === 'other-webhook')) return;
  const other = { name: 'other-webhook', image: 'busybox' };
  spec.initContainers = atEnd ? [...init, other] : [other, ...init];
}

/** Applies the damage to a copy of an injected Pod. */
export function damaged(pod: JsonObject, damage: readonly Damage[], sidecars: readonly string[]): JsonObject {
  const out = structuredClone(pod);
  const spec = isObject(out.spec) ? out.spec : {};
  for (const d of damage) {
    if (d.kind === 'addVolumeField' || d.kind === 'removeVolume') damageVolumes(spec, d, sidecars);
    else if (d.kind === 'addMountField') damageMounts(spec, d, sidecars);
    else if (d.kind === 'appendInit' || d.kind === 'prependInit') addInit(spec, d.kind === 'appendInit');
    else if (d.kind === 'addAnnotation') {
      const metadata = isObject(out.metadata) ? out.metadata : {};
      if (isObject(metadata.annotations)) metadata.annotations['other.example.com/seen'] = 'yes';
    } else damageSidecar(spec, d, sidecars);
  }
  return out;
}

function namedOnce(pod: JsonObject): boolean {
  const names = allContainers(pod).map(nameOf);
  return names.every((n) => n !== undefined && n !== '') && new Set(names).size === names.length;
}

/** Whether a sidecar is missing, changed, stripped, or no longer where it was among its neighbours. */
function sidecarsDamaged(original: JsonObject, broken: JsonObject, sidecars: readonly string[]): boolean {
  const before = listAt(specOf(original), 'initContainers');
  const after = listAt(specOf(broken), 'initContainers');
  for (const name of sidecars) {
    const was = before.find((c) => nameOf(c) === name);
    const is = after.find((c) => nameOf(c) === name);
    if (is === undefined || !contains(is, was ?? null)) return true;
  }
  const known = new Set(before.map((c) => nameOf(c) ?? ''));
  const order = (list: Json[]): string[] => list.map((c) => nameOf(c) ?? '').filter((n) => known.has(n));
  return order(after).join('\n') !== order(before).join('\n');
}

/**
 * Relay mode keeps the user's config volume only in the kept copy and in the watcher's
 * --relay-volume argument: damage that removed both leaves nothing in the Pod to restore it from
 * (the app's volume is just an emptyDir then), and no re-injection can bring it back.
 */
function originalLost(injected: JsonObject, broken: JsonObject): boolean {
  const kept = (pod: JsonObject): string[] =>
    listAt(specOf(pod), 'volumes')
      .map((v) => nameOf(v) ?? '')
      .filter((n) => n.startsWith('sidekick-config-watcher-src-'));
  const watcher = (pod: JsonObject): boolean =>
    listAt(specOf(pod), 'initContainers').some((c) => nameOf(c) === 'config-watcher');
  const lost = kept(injected).filter((n) => !kept(broken).includes(n));
  return lost.length > 0 && watcher(injected) && !watcher(broken);
}

/**
 * Re-injecting a Pod that others changed restores every sidecar as sidekick left it, keeps what
 * they only added, warns about real damage, and is then stable.
 */
export function checkRepair(templates: TemplateSet, c: DamageCase): string {
  const options = injectOptions(templates, c.inject);
  const first = injectPod(c.inject.pod, options);
  if (first.decision !== 'inject' || first.sidecars.length === 0) return `not injected (${first.decision})`;
  const broken = damaged(first.pod, c.damage, first.sidecars);
  if (originalLost(first.pod, broken)) return 'relay mode: the original volume and the watcher both removed';
  const second = injectPod(broken, options);
  checkOutcome(second);
  assert.ok(
    second.decision === 'inject',
    `re-injecting the damaged Pod gave ${second.decision}: ${JSON.stringify(second)}`,
  );
  assertSame(applied(broken, second.patch), second.pod, 'the repair patch does not apply');
  assert.deepEqual(verifyPod(second.pod, second.sidecars, new Set(second.runOnce)), []);
  assert.deepEqual(second.sidecars, first.sidecars);
  const after = listAt(specOf(second.pod), 'initContainers');
  for (const original of listAt(specOf(first.pod), 'initContainers')) {
    const now = after.find((x) => nameOf(x) === nameOf(original));
    assert.ok(
      now !== undefined && contains(now, original),
      `init container ${nameOf(original) ?? ''} was not restored`,
    );
  }
  const known = new Set(listAt(specOf(first.pod), 'initContainers').map(nameOf));
  assert.deepEqual(
    after.map(nameOf).filter((n) => known.has(n)),
    listAt(specOf(first.pod), 'initContainers').map(nameOf),
    'the start order was not restored',
  );
  const additive = c.damage.every((d) => (ADDITIVE as readonly string[]).includes(d.kind));
  // Kept additions are found by container name: for Pods the apiserver would reject anyway
  // (unnamed or twice-named containers) only the repair itself is asked for.
  if (additive && namedOnce(first.pod))
    assert.deepEqual(second.patch, [], 'what others only added was taken away');
  if (sidecarsDamaged(first.pod, broken, first.sidecars))
    assert.ok(
      second.warnings.some((w) => /restored|injected again/.test(w)),
      'a damaged sidecar was repaired without a warning',
    );
  const third = injectPod(second.pod, options);
  assert.ok(third.decision === 'inject' && third.patch.length === 0, 'the repaired Pod is not stable');
  return additive ? 'additive' : second.patch.length > 0 ? 'repaired' : 'no-op damage';
}
