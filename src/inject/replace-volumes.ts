import { createHash } from 'node:crypto';
import { isArray, isObject, type Json, type JsonObject } from '../json.js';
import { podVolumeName } from '../templates/names.js';
import type { SidecarTemplate, VolumeReplacement } from '../templates/types.js';
import { nameOf } from './pod.js';
import { isConfigVolume } from './volumes.js';

/** kubelet's default file mode for configMap, secret and projected volumes (0644). */
export const DEFAULT_MODE = 0o644;
const MAX_VOLUME_NAME = 63;

/**
 * The Pod volume that keeps an original config volume, for the sidecar only, while the app sees
 * an emptyDir of the original name. Derived from the original name alone, so that re-injection
 * finds it again without any record: `sidekick-<template>-src-<volume>`, shortened with a hash of
 * the volume name when that would exceed a volume name's 63 characters.
 */
export function sourceVolumeName(template: string, volume: string): string {
  const full = podVolumeName(template, `src-${volume}`);
  if (full.length <= MAX_VOLUME_NAME) return full;
  const hash = createHash('sha256').update(volume).digest('hex').slice(0, 10);
  const head = podVolumeName(template, 'src-');
  const room = MAX_VOLUME_NAME - head.length - hash.length - 1;
  return `${head}${volume.slice(0, Math.max(room, 0)).replace(/-+$/, '')}-${hash}`;
}

export interface LayoutItem {
  key: string;
  path: string;
  mode?: number;
}

export interface LayoutSource {
  kind: 'ConfigMap' | 'Secret';
  name: string;
  items?: LayoutItem[];
  optional?: true;
}

/**
 * What the sidecar needs to write a volume's files as kubelet would: the objects (in the
 * projected order), their items and modes, and whether kubelet would also have given the files
 * to the Pod's fsGroup (group-readable, directories setgid).
 */
export interface VolumeLayout {
  volume: string;
  /** The emptyDir the sidecar writes, as mounted in the sidecar. */
  dir: string;
  /** The original volume, as mounted in the sidecar (kubelet keeps it up to date). */
  fallback: string;
  defaultMode: number;
  sources: LayoutSource[];
  fsGroup?: true;
}

function items(list: Json | undefined): LayoutItem[] | undefined {
  if (!isArray(list)) return undefined;
  return list.filter(isObject).map((item) => ({
    key: typeof item.key === 'string' ? item.key : '',
    path: typeof item.path === 'string' ? item.path : '',
    ...(typeof item.mode === 'number' ? { mode: item.mode } : {}),
  }));
}

function source(kind: LayoutSource['kind'], name: Json | undefined, from: JsonObject): LayoutSource {
  const listed = items(from.items);
  return {
    kind,
    name: typeof name === 'string' ? name : '',
    ...(listed ? { items: listed } : {}),
    ...(from.optional === true ? { optional: true as const } : {}),
  };
}

function sourcesOf(volume: JsonObject): { sources: LayoutSource[]; defaultMode: Json | undefined } {
  if (isObject(volume.configMap)) {
    const cm = volume.configMap;
    return { sources: [source('ConfigMap', cm.name, cm)], defaultMode: cm.defaultMode };
  }
  if (isObject(volume.secret)) {
    const secret = volume.secret;
    return { sources: [source('Secret', secret.secretName, secret)], defaultMode: secret.defaultMode };
  }
  const projected = isObject(volume.projected) ? volume.projected : {};
  const sources = (isArray(projected.sources) ? projected.sources : []).filter(isObject).map((s) => {
    if (isObject(s.configMap)) return source('ConfigMap', s.configMap.name, s.configMap);
    const secret = isObject(s.secret) ? s.secret : {};
    return source('Secret', secret.name, secret);
  });
  return { sources, defaultMode: projected.defaultMode };
}

export function layoutOf(volume: JsonObject, dir: string, fallback: string, fsGroup: boolean): VolumeLayout {
  const { sources, defaultMode } = sourcesOf(volume);
  return {
    volume: nameOf(volume) ?? '',
    dir,
    fallback,
    defaultMode: typeof defaultMode === 'number' ? defaultMode : DEFAULT_MODE,
    sources,
    ...(fsGroup ? { fsGroup: true as const } : {}),
  };
}

/** Secrets stay off disk, as in kubelet's secret volumes (tmpfs). */
export function emptyDirFor(volume: JsonObject): JsonObject {
  const secrets = sourcesOf(volume).sources.some((s) => s.kind === 'Secret');
  return { name: nameOf(volume) ?? '', emptyDir: secrets ? { medium: 'Memory' } : {} };
}

/** Only what kubelet updates in place can be relayed; other watched volumes stay as they are. */
export function isReplaceable(volume: JsonObject | undefined): volume is JsonObject {
  const name = volume === undefined ? undefined : nameOf(volume);
  return volume !== undefined && isConfigVolume(volume) && !!name && !name.startsWith('sidekick-');
}

/** `{{ volume }}` and `{{ layout }}` in a replacement's strings; `$` doubled against kubelet's `$(VAR)`. */
export function fill(text: string, volume: string, layout?: VolumeLayout): string {
  const withVolume = text.replace(/\{\{\s*volume\s*\}\}/g, volume);
  if (layout === undefined) return withVolume;
  const json = JSON.stringify(layout).replace(/\$/g, '$$$$');
  return withVolume.replace(/\{\{\s*layout\s*\}\}/g, () => json);
}

export type { VolumeReplacement };

/** The volume a layout was derived from (the inverse of layoutOf, for a lost kept original). */
function volumeOf(layout: JsonObject, name: string): JsonObject | undefined {
  if (!isArray(layout.sources) || typeof layout.defaultMode !== 'number') return undefined;
  const sources = layout.sources.filter(isObject).map((s): JsonObject => {
    const body: JsonObject = { name: typeof s.name === 'string' ? s.name : '' };
    if (isArray(s.items)) body.items = s.items;
    if (s.optional === true) body.optional = true;
    return s.kind === 'Secret' ? { secret: body } : { configMap: body };
  });
  const defaultMode = layout.defaultMode;
  const [only] = sources;
  if (sources.length !== 1 || only === undefined) return { name, projected: { defaultMode, sources } };
  if (isObject(only.secret)) {
    const { name: secretName, ...rest } = only.secret;
    return { name, secret: { secretName: secretName ?? '', ...rest, defaultMode } };
  }
  return { name, configMap: { ...(isObject(only.configMap) ? only.configMap : {}), defaultMode } };
}

/** The layout argument the sidecar was given for a volume, if it is still there. */
function layoutArg(spec: JsonObject, template: SidecarTemplate, volume: string): JsonObject | undefined {
  const replace = template.podVolumeMounts?.replace;
  if (!replace || !isArray(spec.initContainers)) return undefined;
  const [prefix = ''] = fill(replace.arg, volume).split(/\{\{\s*layout\s*\}\}/);
  const sidecar = spec.initContainers.find((c) => nameOf(c) === template.name);
  const args = isObject(sidecar) && isArray(sidecar.args) ? sidecar.args : [];
  for (const arg of args) {
    if (typeof arg !== 'string' || !arg.startsWith(prefix)) continue;
    try {
      const parsed: unknown = JSON.parse(arg.slice(prefix.length).replace(/\$\$/g, '$'));
      if (isObject(parsed) && parsed.volume === volume) return parsed;
    } catch {
      // not a layout: another argument with the same prefix
    }
  }
  return undefined;
}

/**
 * Undoes an earlier replacement: each emptyDir whose kept original is in the Pod gets it back
 * under its own name, and the kept copy goes; when another webhook removed the kept copy, the
 * volume is rebuilt from the layout the sidecar was given. What the app mounts is then the user's
 * volume again, and injection re-derives everything from it (in either mode).
 */
export function restoreReplaced(spec: JsonObject, previous: readonly SidecarTemplate[]): void {
  const replacing = previous.filter((t) => t.podVolumeMounts?.replace);
  if (!isArray(spec.volumes) || replacing.length === 0) return;
  const byName = new Map(spec.volumes.filter(isObject).map((v) => [nameOf(v) ?? '', v]));
  const kept = new Set<string>();
  const restore = (name: string): JsonObject | undefined => {
    for (const template of replacing) {
      const source = sourceVolumeName(template.name, name);
      const original = byName.get(source);
      if (original !== undefined && !kept.has(source)) {
        kept.add(source);
        return { ...original, name };
      }
      const layout = layoutArg(spec, template, name);
      const rebuilt = layout ? volumeOf(layout, name) : undefined;
      if (rebuilt) return rebuilt;
    }
    return undefined;
  };
  const volumes = spec.volumes;
  const restored = volumes.map((volume) =>
    isObject(volume) && isObject(volume.emptyDir) ? (restore(nameOf(volume) ?? '') ?? volume) : volume,
  );
  if (restored.some((v, i) => v !== volumes[i])) {
    spec.volumes = restored.filter((v) => !kept.has(nameOf(v) ?? ''));
  }
}
