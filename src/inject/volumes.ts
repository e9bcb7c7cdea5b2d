import { isArray, isObject, type JsonObject } from '../json.js';
import { nameOf } from './pod.js';

/**
 * configMap and secret volumes, and projected volumes made only of those: what kubelet
 * updates in place. The service-account token volume is projected too, but kubelet rotates
 * its token hourly; watching it would reload the app for nothing.
 */
export function isConfigVolume(volume: JsonObject): boolean {
  if (isObject(volume.configMap) || isObject(volume.secret)) return true;
  const projected = volume.projected;
  if (!isObject(projected) || !isArray(projected.sources) || projected.sources.length === 0) return false;
  return projected.sources.every(
    (source) => isObject(source) && Object.keys(source).every((k) => k === 'configMap' || k === 'secret'),
  );
}

/** Mounts of a volume that kubelet never updates (subPath), by container name. */
export function subPathMounts(containers: readonly JsonObject[], volume: string): string[] {
  return containers
    .filter((c) =>
      (isArray(c.volumeMounts) ? c.volumeMounts : []).some(
        (m) => isObject(m) && m.name === volume && (m.subPath !== undefined || m.subPathExpr !== undefined),
      ),
    )
    .map((c) => nameOf(c) ?? '(unnamed)');
}
