import type { JsonObject } from '../json.js';

export type ParameterType = 'string' | 'integer' | 'boolean' | 'duration' | 'enum' | 'list' | 'quantity';
export type ParameterValue = string | number | boolean | readonly string[];

export interface ParameterSpec {
  name: string;
  type: ParameterType;
  description: string;
  required: boolean;
  default?: ParameterValue;
  /** Regular expression a string value (or each list item) must match in full. */
  pattern?: string;
  /** What the pattern means, for error messages ("project:region:instance"). */
  format?: string;
  minimum?: number;
  maximum?: number;
  /** The bounds of a quantity, in canonical form (`10m`, `1Gi`). */
  quantityMinimum?: string;
  quantityMaximum?: string;
  /** The allowed values of an enum. */
  values?: readonly string[];
  /**
   * A numbered list: the integer parameter its items are numbered from (an item `key=N` has N,
   * the others that parameter's value and on, in order; numbers distinct and within that
   * parameter's bounds). Inside `$each`, `{{ list.number }}` is the item's number.
   */
  numberFrom?: string;
}

/** A mount that the template adds to the Pod's app containers. */
export interface AppMount {
  /** The template-local volume name; the Pod volume is `sidekick-<template>-<volume>`. */
  volume: string;
  /** May contain parameter placeholders. */
  mountPath: string;
  readOnly: boolean;
}

/**
 * A template volume whose content the sidecar keeps changing for the app (a checkout): a watcher
 * such as config-watcher watches it by default, at `dir` inside it.
 */
export interface WatchableVolume {
  /** The template-local volume name. */
  volume: string;
  /** A relative path in the volume: the directory, or the symlink the sidecar swaps, to watch. */
  dir?: string;
}

/** Mounts of the Pod's own volumes into the sidecar (the config-watcher watches them). */
export interface PodVolumeMounts {
  /** The list parameter that names the volumes; absent or empty selects `select`. */
  parameter: string;
  /** Which of the Pod's volumes are chosen by default. */
  select: 'config';
  /** Where each volume is mounted in the sidecar; `{{volume}}` is the volume's name. */
  mountPath: string;
  /**
   * One argument appended per volume: `{{volume}}` is its name, `{{dir}}` the directory to watch
   * (the mount path, or the watchable `dir` inside it), e.g. `--dir={{dir}}`.
   */
  arg?: string;
  /** When its condition holds, each watched config volume is materialised by the sidecar. */
  replace?: VolumeReplacement;
}

/**
 * The sidecar writes the files of a watched config volume itself (config-watcher's relay mode):
 * for the app, the volume becomes an emptyDir of the same name, which the sidecar mounts
 * read-write at `mountPath`; the original volume stays in the Pod under a sidekick name, mounted
 * in the sidecar only, at `sourceMountPath`.
 */
export interface VolumeReplacement {
  /** A `$when` condition on the template's parameters, e.g. `source=relay`. */
  when: string;
  /** Where the original volume is mounted in the sidecar; `{{ volume }}` is its name. */
  sourceMountPath: string;
  /** One argument per replaced volume; `{{ layout }}` is the JSON of how to lay out its files. */
  arg: string;
}

export type ResourceName = 'cpu' | 'memory';

/** Inclusive bounds, canonical quantities; a resource without bounds cannot be set per Pod. */
export type ResourceBounds = Partial<Record<ResourceName, { minimum: string; maximum: string }>>;

export interface SidecarTemplate {
  name: string;
  description: string;
  /** The file it was loaded from, for messages. */
  source: string;
  parameters: readonly ParameterSpec[];
  /** Sidecars pulled in and started before this one. */
  requires: readonly string[];
  /** Sidecars that start before this one when both are injected. */
  after: readonly string[];
  /** Parameter groups of which exactly one must be set. */
  exactlyOneOf: readonly (readonly string[])[];
  /** true, false, or the parameter whose presence turns it on. */
  shareProcessNamespace: boolean | { whenSet: string };
  /**
   * Runs once to completion as a plain init container (no `restartPolicy: Always`, no probes)
   * instead of as a native sidecar: true, false, or the parameter whose presence turns it on.
   */
  runOnce: boolean | { whenSet: string };
  /** The core/v1 Container, with parameter placeholders and `$when` conditions still in it. */
  container: JsonObject;
  /** Volumes added to the Pod, with template-local names. */
  volumes: readonly JsonObject[];
  appMounts: readonly AppMount[];
  /** Volumes that watchers of the same Pod watch by default. */
  watchable: readonly WatchableVolume[];
  podVolumeMounts?: PodVolumeMounts;
  /** The range a Pod may set each resource of the sidecar in (`sidekick.dev/<name>.requests.cpu`). */
  resourceBounds: ResourceBounds;
  /** A stable hash of the template's definition. */
  hash: string;
}

export interface TemplateSet {
  readonly templates: ReadonlyMap<string, SidecarTemplate>;
  /** Problems that do not stop the set from loading (e.g. not restricted-compliant). */
  readonly warnings: readonly string[];
  /** A hash of the whole set, to tell reloads apart. */
  readonly hash: string;
  /** Where it came from: the base directory, then the one that added to it. */
  readonly dirs: readonly string[];
}

/** One template file as read, before parsing. */
export interface TemplateFile {
  path: string;
  text: string;
}

/** The files of one directory (or ConfigMap): `dir` names it in messages. */
export interface TemplateSource {
  dir: string;
  files: readonly TemplateFile[];
}

export interface LoadOptions {
  /** What `{{ sidekick.image }}` stands for: sidekick's own image (`--image`). */
  image?: string;
}

export type TemplateLoad = { ok: true; set: TemplateSet } | { ok: false; problems: readonly string[] };
