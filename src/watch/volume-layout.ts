import { isArray, isObject, type Json } from '../json.js';
import type { LayoutItem, LayoutSource, VolumeLayout } from '../inject/replace-volumes.js';
import { isDeleted, type ObjectContent, type ObjectPresent } from '../relay/protocol.js';

export type { VolumeLayout };

/** One file as kubelet's AtomicWriter takes it: the bytes and the mode. */
export interface FileProjection {
  data: Buffer;
  mode: number;
}

/** Relative path → file, as kubelet's volume plugins hand it to the AtomicWriter. */
export type Payload = Map<string, FileProjection>;

const MAX_MODE = 0o777;

/** kubelet's AtomicWriter rules for a payload path (validatePath). */
export function pathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.startsWith('/')) return 'is absolute';
  if (path.length > 4096) return 'is longer than 4096 characters';
  const parts = path.split('/');
  if (parts.some((p) => p === '..')) return "contains '..'";
  if (parts.some((p) => p.length > 255)) return 'has a name longer than 255 characters';
  if ((parts[0] ?? '').startsWith('..') && (parts[0] ?? '').length > 2) return "starts with '..'";
  return undefined;
}

function mode(value: Json | undefined, field: string, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_MODE) {
    problems.push(`${field}: ${JSON.stringify(value)} is not a file mode (0 to 0777, written in decimal)`);
    return undefined;
  }
  return value;
}

function parseItem(value: Json, field: string, problems: string[]): LayoutItem | undefined {
  if (!isObject(value) || typeof value.key !== 'string' || typeof value.path !== 'string') {
    problems.push(`${field}: must be {"key","path"[,"mode"]}`);
    return undefined;
  }
  const bad = pathProblem(value.path);
  if (bad) problems.push(`${field}.path '${value.path}' ${bad}`);
  const m = mode(value.mode, `${field}.mode`, problems);
  return { key: value.key, path: value.path, ...(m === undefined ? {} : { mode: m }) };
}

function parseSource(value: Json, field: string, problems: string[]): LayoutSource | undefined {
  if (!isObject(value) || (value.kind !== 'ConfigMap' && value.kind !== 'Secret')) {
    problems.push(`${field}.kind: must be ConfigMap or Secret`);
    return undefined;
  }
  if (typeof value.name !== 'string' || value.name === '') {
    problems.push(`${field}.name: must be the object's name`);
    return undefined;
  }
  let items: LayoutItem[] | undefined;
  if (value.items !== undefined) {
    if (!isArray(value.items)) problems.push(`${field}.items: must be a list`);
    else items = value.items.flatMap((item, i) => parseItem(item, `${field}.items[${i}]`, problems) ?? []);
  }
  return {
    kind: value.kind,
    name: value.name,
    ...(items ? { items } : {}),
    ...(value.optional === true ? { optional: true as const } : {}),
  };
}

/** `--relay-volume` as the webhook writes it (docs/templates.md#config-watcher), checked. */
export function parseVolumeLayout(
  text: string,
): { ok: true; layout: VolumeLayout } | { ok: false; problems: string[] } {
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch {
    return { ok: false, problems: [`--relay-volume: not JSON: ${text.slice(0, 100)}`] };
  }
  const problems: string[] = [];
  if (!isObject(value)) return { ok: false, problems: ['--relay-volume: must be a JSON object'] };
  const field = `--relay-volume ${typeof value.volume === 'string' ? value.volume : '?'}`;
  const required = (key: string): string => {
    const v = value[key];
    if (typeof v === 'string' && v !== '') return v;
    problems.push(`${field}: "${key}" is required`);
    return '';
  };
  const volume = required('volume');
  const dir = required('dir');
  const fallback = required('fallback');
  const defaultMode = mode(value.defaultMode, `${field}.defaultMode`, problems);
  if (defaultMode === undefined && value.defaultMode === undefined) {
    problems.push(`${field}: "defaultMode" is required`);
  }
  const sources = isArray(value.sources)
    ? value.sources.flatMap((s, i) => parseSource(s, `${field}.sources[${i}]`, problems) ?? [])
    : [];
  if (!isArray(value.sources) || value.sources.length === 0) {
    problems.push(`${field}: "sources" must list at least one ConfigMap or Secret`);
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    layout: {
      volume,
      dir,
      fallback,
      defaultMode: defaultMode ?? 0o644,
      sources,
      ...(value.fsGroup === true ? { fsGroup: true as const } : {}),
    },
  };
}

export function objectKey(kind: string, name: string): string {
  return `${kind}/${name}`;
}

function contentOf(object: ObjectPresent): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const textual = object.kind === 'ConfigMap';
  for (const [key, value] of Object.entries(object.data)) {
    out.set(key, textual ? Buffer.from(value, 'utf8') : Buffer.from(value, 'base64'));
  }
  for (const [key, value] of Object.entries(object.binaryData ?? {})) {
    if (!out.has(key)) out.set(key, Buffer.from(value, 'base64'));
  }
  return out;
}

export type PayloadResult = { ok: true; payload: Payload } | { ok: false; problem: string };

/**
 * What kubelet's configMap, secret and projected volume plugins would hand to the AtomicWriter
 * (their MakePayload / collectData): every key as a file at defaultMode when there are no items,
 * else each item at its path and mode; a missing object or key is skipped when optional and an
 * error otherwise (kubelet then leaves the volume as it was).
 */
export function makePayload(
  layout: VolumeLayout,
  objects: ReadonlyMap<string, ObjectContent>,
): PayloadResult {
  const payload: Payload = new Map();
  for (const source of layout.sources) {
    const object = objects.get(objectKey(source.kind, source.name));
    const what = `${source.kind} ${source.name}`;
    if (object === undefined) return { ok: false, problem: `${what}: not received yet` };
    if (isDeleted(object)) {
      if (source.optional) continue;
      return { ok: false, problem: `${what} does not exist (and the volume is not optional)` };
    }
    const content = contentOf(object);
    if (source.items === undefined) {
      for (const [key, data] of content) payload.set(key, { data, mode: layout.defaultMode });
      continue;
    }
    for (const item of source.items) {
      const data = content.get(item.key);
      if (data === undefined) {
        if (source.optional) continue;
        return { ok: false, problem: `${what} has no key ${item.key}` };
      }
      payload.set(item.path, { data, mode: item.mode ?? layout.defaultMode });
    }
  }
  return { ok: true, payload };
}
