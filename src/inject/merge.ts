import { isArray, isObject, type Json, type JsonObject } from '../json.js';
import { BUILTIN_CONTAINERS, podVolumeName } from '../templates/names.js';
import { isSet } from '../templates/parameter-value.js';
import type { SidecarTemplate } from '../templates/types.js';
import type { Chosen } from './order.js';
import type { Values } from './parameters.js';
import { CONTAINER_LISTS, nameOf, objectAt, objectsAt } from './pod.js';
import { holds, render, renderObject } from './render.js';
import {
  emptyDirFor,
  fill,
  isReplaceable,
  layoutOf,
  sourceVolumeName,
  type VolumeLayout,
} from './replace-volumes.js';
import { applyResources } from './resources.js';
import { serviceAccountMount, mountsTokenPath } from './service-account.js';
import { sharedRendering, withMountAppended } from './shared.js';
import { isConfigVolume, subPathMounts } from './volumes.js';

export interface Sidecar extends Chosen {
  values: Values;
  /** Index into the Pod's own init containers after which this sidecar starts (0: before all). */
  slot: number;
  /** Why it starts where it does, for `explain`: "first", "after vault-agent: …". */
  position: string;
}

export interface MergeContext {
  prefix: string;
  problems: string[];
  warnings: string[];
}

function key(ctx: MergeContext, template: SidecarTemplate, param: string): string {
  return `${ctx.prefix}/${template.name}.${param}`;
}

function renameMounts(container: JsonObject, template: SidecarTemplate): void {
  if (!isArray(container.volumeMounts)) return;
  for (const mount of container.volumeMounts) {
    if (isObject(mount) && typeof mount.name === 'string')
      mount.name = podVolumeName(template.name, mount.name);
  }
}

/** A volume a watcher mounts, and the directory in it to watch (a watchable volume's `dir`). */
export interface WatchedVolume {
  name: string;
  dir?: string;
}

/** The volumes the other sidecars declare watchable, by Pod volume name. */
function watchableVolumes(sidecars: readonly Sidecar[]): Map<string, WatchedVolume> {
  const out = new Map<string, WatchedVolume>();
  for (const s of sidecars) {
    for (const w of s.template.watchable) {
      const name = podVolumeName(s.template.name, w.volume);
      out.set(name, { name, ...(w.dir === undefined ? {} : { dir: w.dir }) });
    }
  }
  return out;
}

/** The Pod volumes a config-watcher-like sidecar mounts and watches. */
function watchedVolumes(
  sidecar: Sidecar,
  volumes: readonly JsonObject[],
  watchable: ReadonlyMap<string, WatchedVolume>,
  ctx: MergeContext,
): WatchedVolume[] {
  const pvm = sidecar.template.podVolumeMounts;
  if (!pvm) return [];
  const named = sidecar.values.get(pvm.parameter);
  const byName = new Map(volumes.map((v) => [nameOf(v) ?? '', v]));
  const of = (name: string): WatchedVolume => watchable.get(name) ?? { name };
  if (Array.isArray(named) && named.length > 0) {
    const missing = (named as readonly string[]).filter((n) => !byName.has(n));
    if (missing.length > 0) {
      ctx.problems.push(
        `annotation ${key(ctx, sidecar.template, pvm.parameter)}: the Pod has no volume named ${missing.join(', ')}; its volumes: ${[...byName.keys()].join(', ') || 'none'}`,
      );
    }
    return (named as readonly string[]).map(of);
  }
  // Volumes other sidecars added (a CA, a key file) are theirs to read, not the app's config;
  // those they declare watchable (a checkout) are the app's.
  const config = volumes
    .map((v) => nameOf(v) ?? '')
    .filter((name) => {
      const volume = byName.get(name);
      if (watchable.has(name)) return true;
      return volume !== undefined && isConfigVolume(volume) && !name.startsWith('sidekick-');
    })
    .map(of);
  if (config.length === 0) {
    ctx.problems.push(
      `${sidecar.template.name}: the Pod has no configMap or secret volume to watch; add one or name volumes with ${key(ctx, sidecar.template, pvm.parameter)}`,
    );
  }
  return config;
}

/** A watched volume the sidecar materialises (relay mode), with its kept original. */
interface Replaced {
  volume: JsonObject;
  source: string;
  layout: VolumeLayout;
}

function addPodVolumeMounts(
  container: JsonObject,
  sidecar: Sidecar,
  watched: readonly WatchedVolume[],
  replaced: ReadonlyMap<string, Replaced>,
): void {
  const pvm = sidecar.template.podVolumeMounts;
  if (!pvm || watched.length === 0) return;
  const mounts = isArray(container.volumeMounts) ? container.volumeMounts : [];
  const args = isArray(container.args) ? container.args : [];
  for (const volume of watched) {
    const mountPath = fill(pvm.mountPath, volume.name);
    const dir = volume.dir === undefined ? mountPath : `${mountPath}/${volume.dir}`;
    const replacing = replaced.get(volume.name);
    const replace = pvm.replace;
    if (replacing && replace) {
      // The sidecar writes the emptyDir the app reads, and reads the original kubelet updates.
      mounts.push({ name: volume.name, mountPath });
      mounts.push({
        name: replacing.source,
        mountPath: fill(replace.sourceMountPath, volume.name),
        readOnly: true,
      });
    } else mounts.push({ name: volume.name, mountPath, readOnly: true });
    if (pvm.arg !== undefined) args.push(fill(pvm.arg, volume.name).replace(/\{\{\s*dir\s*\}\}/g, () => dir));
    if (replacing && replace) args.push(fill(replace.arg, volume.name, replacing.layout));
  }
  container.volumeMounts = mounts;
  if (args.length > 0) container.args = args;
}

/** Whether the sidecar runs once to completion, as a plain init container, for these values. */
export function runsOnce(sidecar: { template: SidecarTemplate; values: Values }): boolean {
  const once = sidecar.template.runOnce;
  return typeof once === 'boolean' ? once : isSet(sidecar.values.get(once.whenSet));
}

function renderFresh(
  sidecar: Sidecar,
  watched: readonly WatchedVolume[],
  replaced: ReadonlyMap<string, Replaced>,
): JsonObject {
  const body = render(sidecar.template.container, sidecar.values);
  const container: JsonObject = { name: sidecar.template.name, ...(isObject(body) ? body : {}) };
  applyResources(container, sidecar.values);
  renameMounts(container, sidecar.template);
  addPodVolumeMounts(container, sidecar, watched, replaced);
  if (!runsOnce(sidecar)) container.restartPolicy = 'Always';
  return container;
}

/** Shared between Pods unless it also depends on the Pod (the volumes a watcher mounts). */
export function renderContainer(
  sidecar: Sidecar,
  watched: readonly WatchedVolume[],
  replaced: ReadonlyMap<string, Replaced> = new Map(),
): JsonObject {
  if (sidecar.template.podVolumeMounts) return renderFresh(sidecar, watched, replaced);
  return sharedRendering(sidecar.template, sidecar.values, () => renderFresh(sidecar, [], new Map()));
}

/**
 * The watched volumes a sidecar materialises when its template's replacement condition holds
 * (config-watcher's `source: relay`): configMap, secret and projected-of-those volumes only.
 */
function replacements(
  sidecar: Sidecar,
  spec: JsonObject,
  watched: readonly WatchedVolume[],
  volumes: readonly JsonObject[],
  ctx: MergeContext,
): Map<string, Replaced> {
  const pvm = sidecar.template.podVolumeMounts;
  const out = new Map<string, Replaced>();
  if (!pvm?.replace || !holds(pvm.replace.when, sidecar.values)) return out;
  const byName = new Map(volumes.map((v) => [nameOf(v) ?? '', v]));
  const fsGroup = isObject(spec.securityContext) && typeof spec.securityContext.fsGroup === 'number';
  for (const { name } of watched) {
    const volume = byName.get(name);
    if (!isReplaceable(volume)) continue;
    const source = sourceVolumeName(sidecar.template.name, name);
    if (byName.has(source)) {
      ctx.problems.push(
        `the Pod already has a volume named ${source}, the name ${sidecar.template.name} keeps volume ${name} under`,
      );
      continue;
    }
    const layout = layoutOf(
      volume,
      fill(pvm.mountPath, name),
      fill(pvm.replace.sourceMountPath, name),
      fsGroup,
    );
    out.set(name, { volume, source, layout });
  }
  return out;
}

/** For the app, each replaced volume becomes an emptyDir; the original is kept under its new name. */
function replaceVolumes(volumes: Json[], replaced: ReadonlyMap<string, Replaced>): Json[] {
  if (replaced.size === 0) return volumes;
  const swapped = volumes.map((v) => {
    const r = replaced.get(nameOf(v) ?? '');
    return r ? emptyDirFor(r.volume) : v;
  });
  return [...swapped, ...[...replaced.values()].map((r) => ({ ...r.volume, name: r.source }))];
}

function renderVolumes(sidecar: Sidecar): JsonObject[] {
  const out: JsonObject[] = [];
  for (const volume of sidecar.template.volumes) {
    const rendered = renderObject(volume, sidecar.values);
    if (!rendered) continue;
    const { name, ...rest } = rendered;
    out.push({ name: podVolumeName(sidecar.template.name, typeof name === 'string' ? name : ''), ...rest });
  }
  return out;
}

function addAppMounts(spec: JsonObject, sidecar: Sidecar, ctx: MergeContext): void {
  const { template, values } = sidecar;
  if (template.appMounts.length === 0) return;
  const apps = objectsAt(spec, 'containers');
  const wanted = values.get(BUILTIN_CONTAINERS);
  const names = Array.isArray(wanted) && wanted.length > 0 ? (wanted as readonly string[]) : undefined;
  const missing = (names ?? []).filter((n) => !apps.some((c) => nameOf(c) === n));
  if (missing.length > 0) {
    ctx.problems.push(
      `annotation ${key(ctx, template, BUILTIN_CONTAINERS)}: the Pod has no container named ${missing.join(', ')}; its containers: ${apps.map((c) => nameOf(c)).join(', ')}`,
    );
    return;
  }
  for (const app of apps.filter((c) => names === undefined || names.includes(nameOf(c) ?? ''))) {
    const mounts = isArray(app.volumeMounts) ? app.volumeMounts : [];
    for (const mount of template.appMounts) {
      const rendered = render(mount.mountPath, values);
      const mountPath = typeof rendered === 'string' ? rendered : JSON.stringify(rendered);
      const clash = mounts.find((m) => isObject(m) && m.mountPath === mountPath);
      if (clash) {
        ctx.problems.push(
          `${template.name}: container ${nameOf(app) ?? ''} already mounts volume ${nameOf(clash) ?? ''} at ${mountPath}; choose another path with ${key(ctx, template, 'path')} or name the containers with ${key(ctx, template, BUILTIN_CONTAINERS)}`,
        );
        continue;
      }
      mounts.push({
        name: podVolumeName(template.name, mount.volume),
        mountPath,
        ...(mount.readOnly ? { readOnly: true } : {}),
      });
    }
    app.volumeMounts = mounts;
  }
}

export function needsSharedPids(sidecar: Sidecar): boolean {
  const spn = sidecar.template.shareProcessNamespace;
  return typeof spn === 'boolean' ? spn : isSet(sidecar.values.get(spn.whenSet));
}

function shareProcessNamespace(spec: JsonObject, sidecars: readonly Sidecar[], ctx: MergeContext): void {
  const needing = sidecars.filter(needsSharedPids).map((s) => s.template.name);
  if (needing.length === 0) return;
  const who = needing.join(', ');
  if (spec.hostPID === true) {
    ctx.problems.push(
      `${who} needs shareProcessNamespace, which cannot be combined with the Pod's hostPID: true`,
    );
    return;
  }
  if (spec.shareProcessNamespace === false) {
    ctx.problems.push(
      `${who} needs shareProcessNamespace to signal the app, but the Pod sets shareProcessNamespace: false; remove it, or use the url mode`,
    );
    return;
  }
  spec.shareProcessNamespace = true;
  ctx.warnings.push(
    `shareProcessNamespace is set to true for ${who}: every container of the Pod can see the others' processes, arguments and environment`,
  );
}

/**
 * Container names and the names of every volume a chosen template may add (conditional ones
 * too) are the sidecars': re-injection removes exactly those, so the Pod must not hold them.
 */
function checkCollisions(spec: JsonObject, sidecars: readonly Sidecar[], ctx: MergeContext): void {
  const containerNames = new Set(
    CONTAINER_LISTS.flatMap((list) => objectsAt(spec, list).map((c) => nameOf(c))),
  );
  for (const s of sidecars) {
    if (containerNames.has(s.template.name)) {
      ctx.problems.push(`${s.template.name}: the Pod already has a container named ${s.template.name}`);
    }
  }
  const volumeNames = new Set(objectsAt(spec, 'volumes').map((v) => nameOf(v)));
  const apps = objectsAt(spec, 'containers');
  for (const s of sidecars) {
    for (const local of s.template.volumes.map((v) => (typeof v.name === 'string' ? v.name : ''))) {
      const name = podVolumeName(s.template.name, local);
      const reserved = `a name ${s.template.name} uses for its volume ${local}`;
      if (volumeNames.has(name)) ctx.problems.push(`the Pod already has a volume named ${name}, ${reserved}`);
      for (const app of apps.filter((c) => mountsVolume(c, name))) {
        ctx.problems.push(
          `container ${nameOf(app) ?? ''} already mounts a volume named ${name}, ${reserved}`,
        );
      }
    }
  }
}

function mountsVolume(container: JsonObject, volume: string): boolean {
  return isArray(container.volumeMounts) && container.volumeMounts.some((m) => nameOf(m) === volume);
}

function warnSubPaths(
  spec: JsonObject,
  sidecar: Sidecar,
  watched: readonly WatchedVolume[],
  ctx: MergeContext,
): void {
  const apps = [...objectsAt(spec, 'containers'), ...objectsAt(spec, 'initContainers')];
  for (const { name: volume } of watched) {
    for (const container of subPathMounts(apps, volume)) {
      ctx.warnings.push(
        `${sidecar.template.name}: container ${container} mounts the watched volume ${volume} with subPath; kubelet never updates subPath mounts, so that container will not see changes`,
      );
    }
  }
}

/**
 * Adds the sidecars (in order, at their slots), their volumes and mounts to a stripped Pod.
 * Returns the names under which it kept Pod volumes for a sidecar (relay mode), which, like the
 * volumes templates add, are sidekick's to reconcile.
 */
export function mergeSidecars(pod: JsonObject, sidecars: readonly Sidecar[], ctx: MergeContext): string[] {
  const spec = objectAt(pod, 'spec');
  const added = sidecars.flatMap(renderVolumes);
  checkCollisions(spec, sidecars, ctx);
  let volumes: Json[] = [...(isArray(spec.volumes) ? spec.volumes : []), ...added];
  const touched: string[] = [];
  const token = serviceAccountMount(spec);
  const watchable = watchableVolumes(sidecars);
  const containers = sidecars.map((s) => {
    const watched = watchedVolumes(s, volumes.filter(isObject), watchable, ctx);
    warnSubPaths(spec, s, watched, ctx);
    const replaced = replacements(s, spec, watched, volumes.filter(isObject), ctx);
    volumes = replaceVolumes(volumes, replaced);
    for (const r of replaced.values()) touched.push(r.source);
    const container = renderContainer(s, watched, replaced);
    return token === undefined || mountsTokenPath(container)
      ? container
      : withMountAppended(container, token);
  });
  for (const s of sidecars) addAppMounts(spec, s, ctx);
  if (ctx.problems.length === 0) shareProcessNamespace(spec, sidecars, ctx);
  if (added.length > 0 || touched.length > 0) spec.volumes = volumes;
  const own = isArray(spec.initContainers) ? spec.initContainers : [];
  const init: Json[] = [];
  for (let slot = 0; slot <= own.length; slot++) {
    sidecars.forEach((s, i) => {
      const container = containers[i];
      if (s.slot === slot && container) init.push(container);
    });
    const mine = own[slot];
    if (mine !== undefined) init.push(mine);
  }
  spec.initContainers = init;
  return touched;
}
