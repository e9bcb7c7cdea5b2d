import assert from 'node:assert/strict';
import { deepEqual, isArray, isObject, type Json, type JsonObject } from '../../../src/json.js';
import { emptyDirFor, sourceVolumeName } from '../../../src/inject/replace-volumes.js';
import { podVolumeName } from '../../../src/templates/names.js';
import { RESOURCE_PARAMETERS } from '../../../src/templates/resource-bounds.js';
import type { SidecarTemplate, TemplateSet } from '../../../src/templates/types.js';
import { allContainers, annotationsOf, field, listAt, nameOf, specOf } from './pod-view.js';
import { addTemplate, allow, emptyShape, fits, keysOf, pathKey, type Shape } from './shape.js';

const containerShapes = new WeakMap<SidecarTemplate, Shape>();

/** What the template's container can render into, plus what sidekick itself adds. */
export function containerShape(template: SidecarTemplate): Shape {
  const known = containerShapes.get(template);
  if (known) return known;
  const shape = emptyShape();
  addTemplate(shape, template.container, []);
  allow(shape, ['name'], 'scalar');
  allow(shape, ['restartPolicy'], 'scalar');
  // The per-Pod resources, within the template's bounds: values, never new structure.
  for (const p of RESOURCE_PARAMETERS.filter((r) => template.resourceBounds[r.resource])) {
    allow(shape, ['resources'], 'object');
    allow(shape, ['resources', p.kind], 'object');
    allow(shape, ['resources', p.kind, p.resource], 'scalar');
  }
  if (template.podVolumeMounts) {
    // One mount and one argument per watched Pod volume: the only lists that values lengthen.
    allow(shape, ['volumeMounts'], 'array');
    allow(shape, ['volumeMounts', '[]'], 'object');
    for (const key of ['name', 'mountPath', 'readOnly']) allow(shape, ['volumeMounts', '[]', key], 'scalar');
    allow(shape, ['args'], 'array');
    allow(shape, ['args', '[]'], 'scalar');
    shape.open.add(pathKey(['volumeMounts']));
    shape.open.add(pathKey(['args']));
  }
  containerShapes.set(template, shape);
  return shape;
}

function volumeShape(volume: JsonObject): Shape {
  const shape = emptyShape();
  addTemplate(shape, volume, []);
  return shape;
}

/** The values of the annotations under the prefix: what the Pod's author controls. */
export function annotationValues(pod: Json, prefix: string): Set<string> {
  const out = new Set<string>();
  for (const [key, value] of Object.entries(annotationsOf(pod))) {
    if (key.startsWith(`${prefix}/`) && typeof value === 'string') {
      out.add(value);
      out.add(value.trim());
    }
  }
  return out;
}

function describeProblems(problems: string[], container: Json, values: Set<string>): string {
  const keys = [...keysOf(container)].filter((k) => values.has(k));
  const note =
    keys.length > 0
      ? `; keys equal to annotation values: ${keys.map((k) => JSON.stringify(k)).join(', ')}`
      : '';
  return `${problems.slice(0, 5).join('; ')}${note}`;
}

function securityProblems(container: Json, template: SidecarTemplate): string[] {
  const want = template.container.securityContext;
  const have = field(container, 'securityContext');
  const out: string[] = [];
  if (!JSON.stringify(want ?? null).includes('{{') && !deepEqual(have ?? null, want ?? null))
    out.push(`securityContext ${JSON.stringify(have)} is not the template's ${JSON.stringify(want)}`);
  if (field(have, 'privileged') === true && field(want, 'privileged') !== true) out.push('privileged: true');
  const add = field(field(have, 'capabilities'), 'add');
  if (add !== undefined && !deepEqual(add, field(field(want, 'capabilities'), 'add') ?? null))
    out.push(`capabilities.add ${JSON.stringify(add)}`);
  if (field(have, 'runAsUser') !== field(want, 'runAsUser'))
    out.push(`runAsUser ${JSON.stringify(field(have, 'runAsUser'))}`);
  return out;
}

/** Every string leaf. */
function stringsOf(value: Json, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (isArray(value)) for (const item of value) stringsOf(item, out);
  else if (isObject(value)) for (const key of Object.keys(value)) stringsOf(value[key] ?? null, out);
  return out;
}

/**
 * The mount paths and arguments a podVolumeMounts sidecar writes for the Pod's own volumes:
 * strings from the Pod, not from annotation values (the apiserver checks volume names).
 */
function podVolumeStrings(template: SidecarTemplate, volumes: readonly string[]): string[] {
  const pvm = template.podVolumeMounts;
  if (!pvm) return [];
  const fill = (text: string, volume: string): string => text.replace(/\{\{\s*volume\s*\}\}/g, volume);
  // `{{ dir }}` of a Pod volume is its mount path (only sidecars' watchable volumes add to it).
  const arg = (v: string): string =>
    fill(pvm.arg ?? '', v).replace(/\{\{\s*dir\s*\}\}/g, fill(pvm.mountPath, v));
  return volumes.flatMap((v) => [v, fill(pvm.mountPath, v), ...(pvm.arg === undefined ? [] : [arg(v)])]);
}

function checkSidecar(
  name: string,
  template: SidecarTemplate,
  container: Json,
  values: Set<string>,
  volumes: readonly string[],
): void {
  assert.equal(
    field(container, 'image'),
    template.container.image,
    `sidecar ${name}: the image is not the template's`,
  );
  const security = securityProblems(container, template);
  assert.deepEqual(security, [], `sidecar ${name}: ${security.join('; ')}`);
  // Kubelet expands $(VAR) in command, args and env values: a value must never bring one.
  const expansions = (strings: string[]): number => strings.reduce((n, t) => n + t.split('$(').length - 1, 0);
  const own = new Set(podVolumeStrings(template, volumes));
  const brought = expansions(stringsOf(container).filter((t) => !own.has(t)));
  assert.ok(
    brought <= expansions(stringsOf(template.container)),
    `sidecar ${name}: a parameter value brought a $(VAR) expansion`,
  );
  const problems = fits(containerShape(template), container, []);
  assert.deepEqual(problems, [], `sidecar ${name} ${describeProblems(problems, container, values)}`);
}

/** Where an added volume came from: `sidekick-<sidecar>-<volume>` of an injected template. */
function templateVolume(
  name: string,
  sidecars: readonly string[],
  templates: TemplateSet,
): { volume: JsonObject } | undefined {
  for (const sidecar of sidecars) {
    const template = templates.templates.get(sidecar);
    const volume = template?.volumes.find((v) => podVolumeName(sidecar, nameOf(v) ?? '') === name);
    if (volume) return { volume };
  }
  return undefined;
}

/**
 * Relay mode: the emptyDir that replaces a config volume of the Pod under its own name, or that
 * volume itself kept, unchanged, under sidekick's name. Neither holds anything from a parameter.
 */
function replacement(
  name: string,
  volume: Json,
  before: readonly Json[],
  sidecars: readonly string[],
  templates: TemplateSet,
): boolean {
  for (const sidecar of sidecars.filter((s) => templates.templates.get(s)?.podVolumeMounts?.replace)) {
    const original = before.find((v) => nameOf(v) === name);
    if (isObject(original) && deepEqual(volume, emptyDirFor(original))) return true;
    const kept = before.find((v) => sourceVolumeName(sidecar, nameOf(v) ?? '') === name);
    if (isObject(kept) && deepEqual(volume, { ...kept, name })) return true;
  }
  return false;
}

function checkAddedVolumes(
  input: Json,
  output: Json,
  sidecars: readonly string[],
  templates: TemplateSet,
): void {
  const before = listAt(specOf(input), 'volumes');
  for (const volume of listAt(specOf(output), 'volumes')) {
    if (before.some((v) => deepEqual(v, volume))) continue;
    const name = nameOf(volume) ?? '';
    if (replacement(name, volume, before, sidecars, templates)) continue;
    const origin = templateVolume(name, sidecars, templates);
    assert.ok(origin, `volume ${JSON.stringify(name)} was added, but no injected template declares it`);
    assert.ok(isObject(volume) && !('hostPath' in volume), `volume ${name} was added with a hostPath`);
    const problems = fits(volumeShape(origin.volume), volume, []);
    assert.deepEqual(problems, [], `volume ${name} ${problems.join('; ')}`);
  }
}

function checkImages(input: Json, output: Json, sidecars: readonly string[], templates: TemplateSet): void {
  const text = (image: Json | undefined): string => JSON.stringify(image ?? null);
  const allowed = new Set(allContainers(input).map((c) => text(field(c, 'image'))));
  for (const s of sidecars) allowed.add(text(templates.templates.get(s)?.container.image));
  for (const container of allContainers(output)) {
    const image = text(field(container, 'image'));
    assert.ok(
      allowed.has(image),
      `container ${nameOf(container) ?? ''} has image ${image}, from neither the Pod nor a template`,
    );
  }
}

/**
 * Parameters are data: no annotation value becomes an image, a privilege, a capability, a
 * hostPath, a key, an item or a level. Sidecars the input already held unchanged are its own.
 */
export function checkParametersAreData(
  templates: TemplateSet,
  prefix: string,
  input: Json,
  output: Json,
  sidecars: readonly string[],
): void {
  const values = annotationValues(input, prefix);
  const inputInit = listAt(specOf(input), 'initContainers');
  const volumeNames = listAt(specOf(input), 'volumes').flatMap((v) => nameOf(v) ?? []);
  const outputInit = listAt(specOf(output), 'initContainers');
  for (const name of sidecars) {
    const template = templates.templates.get(name);
    assert.ok(template, `sidecar ${name} has no template`);
    const container = outputInit.find((c) => nameOf(c) === name);
    assert.ok(container !== undefined, `sidecar ${name} is not in initContainers`);
    if (inputInit.some((c) => deepEqual(c, container))) continue;
    checkSidecar(name, template, container, values, volumeNames);
  }
  checkAddedVolumes(input, output, sidecars, templates);
  checkImages(input, output, sidecars, templates);
}
