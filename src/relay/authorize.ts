import { getOwn, isArray, isObject, type Json, type JsonObject } from '../json.js';
import type { ObjectKind, ObjectRef } from './protocol.js';

/** Why a subscription was refused; also the `reason` label of the refusals metric. */
export type RefusalReason =
  | 'malformed'
  | 'no-token'
  | 'unauthenticated'
  | 'wrong-audience'
  | 'not-pod-bound'
  | 'pod-gone'
  | 'uid-mismatch'
  | 'secrets-disabled'
  | 'not-mounted'
  | 'not-ready';

export const REFUSAL_REASONS: readonly RefusalReason[] = [
  'malformed',
  'no-token',
  'unauthenticated',
  'wrong-audience',
  'not-pod-bound',
  'pod-gone',
  'uid-mismatch',
  'secrets-disabled',
  'not-mounted',
  'not-ready',
];

export interface Refusal {
  status: 400 | 401 | 403 | 503;
  reason: RefusalReason;
  message: string;
}

/** The names a Pod mounts, by kind: its configMap and secret volumes and projected sources. */
export function mountedObjects(pod: JsonObject): Record<ObjectKind, Set<string>> {
  const mounted: Record<ObjectKind, Set<string>> = { ConfigMap: new Set(), Secret: new Set() };
  const spec = getOwn(pod, 'spec');
  const volumes: Json[] = isObject(spec) ? (arrayOf(getOwn(spec, 'volumes')) ?? []) : [];
  for (const volume of volumes) {
    if (!isObject(volume)) continue;
    add(mounted.ConfigMap, getOwn(volume, 'configMap'), 'name');
    add(mounted.Secret, getOwn(volume, 'secret'), 'secretName');
    const projected = getOwn(volume, 'projected');
    const sources = isObject(projected) ? (arrayOf(getOwn(projected, 'sources')) ?? []) : [];
    for (const source of sources) {
      if (!isObject(source)) continue;
      add(mounted.ConfigMap, getOwn(source, 'configMap'), 'name');
      add(mounted.Secret, getOwn(source, 'secret'), 'name');
    }
  }
  return mounted;
}

function arrayOf(value: Json | undefined): Json[] | undefined {
  return isArray(value) ? value : undefined;
}

function add(into: Set<string>, source: Json | undefined, field: string): void {
  if (!isObject(source)) return;
  const name = getOwn(source, field);
  if (typeof name === 'string' && name !== '') into.add(name);
}

function podName(pod: JsonObject): string {
  const meta = getOwn(pod, 'metadata');
  const name = isObject(meta) ? getOwn(meta, 'name') : undefined;
  const namespace = isObject(meta) ? getOwn(meta, 'namespace') : undefined;
  return `${typeof namespace === 'string' ? namespace : '?'}/${typeof name === 'string' ? name : '?'}`;
}

export function podUid(pod: JsonObject): string | undefined {
  const meta = getOwn(pod, 'metadata');
  const uid = isObject(meta) ? getOwn(meta, 'uid') : undefined;
  return typeof uid === 'string' ? uid : undefined;
}

/**
 * Whether the Pod a token is bound to may have these objects: the Pod is the one the token names
 * (same uid: not deleted and recreated under the name), and it mounts every one of them as a
 * volume. Secrets only when the relay serves them at all.
 */
export function authorize(
  pod: JsonObject,
  tokenPodUid: string,
  objects: readonly ObjectRef[],
  secretsEnabled: boolean,
): Refusal | undefined {
  const who = `Pod ${podName(pod)}`;
  const uid = podUid(pod);
  if (uid !== tokenPodUid) {
    return {
      status: 403,
      reason: 'uid-mismatch',
      message: `${who} has uid ${String(uid)}, not the token's ${tokenPodUid}: the token's Pod was deleted and the name reused`,
    };
  }
  // A terminating Pod (deletionTimestamp set) still runs and may still reload: it is served.
  const mounted = mountedObjects(pod);
  for (const object of objects) {
    if (object.kind === 'Secret' && !secretsEnabled) {
      return {
        status: 403,
        reason: 'secrets-disabled',
        message: `${who} asked for Secret ${object.name}: this relay does not serve Secrets (started without --secrets)`,
      };
    }
    if (!mounted[object.kind].has(object.name)) {
      return {
        status: 403,
        reason: 'not-mounted',
        message: `${who} does not mount ${object.kind} ${object.name} as a volume: a Pod gets only what it mounts`,
      };
    }
  }
  return undefined;
}
