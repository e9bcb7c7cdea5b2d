import { isArray, isObject, type JsonObject } from '../json.js';
import { nameOf, objectsAt } from './pod.js';

/** Where the apiserver's ServiceAccount admission mounts the Pod's token. */
export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The prefix of the volume the ServiceAccount admission adds (`kube-api-access-<random>`). */
const TOKEN_VOLUME_PREFIX = 'kube-api-access-';

export function mountsTokenPath(container: JsonObject): boolean {
  return isArray(container.volumeMounts)
    ? container.volumeMounts.some((m) => isObject(m) && m.mountPath === SERVICE_ACCOUNT_MOUNT)
    : false;
}

function projectsToken(volume: JsonObject): boolean {
  const projected = volume.projected;
  return (
    isObject(projected) &&
    isArray(projected.sources) &&
    projected.sources.some((s) => isObject(s) && isObject(s.serviceAccountToken))
  );
}

/**
 * The mount the apiserver's ServiceAccount admission would add to a sidecar, or undefined where it
 * would add none. The apiserver runs that admission again after a webhook's patch, and it then
 * appends `{name, readOnly: true, mountPath}` of the first `kube-api-access-*` volume to every
 * container and init container with no mount at the token path (plugin/pkg/admission/serviceaccount
 * in k8s.io/kubernetes), unless the Pod or its ServiceAccount turn automounting off. A sidecar that
 * already has the mount leaves that pass with nothing to do, so the object is unchanged and the
 * apiserver does not call sidekick a second time.
 *
 * sidekick cannot see the ServiceAccount: that the admission mounted the token is read from the
 * Pod itself, its projected token volume mounted at the token path by one of the Pod's own
 * containers. A Pod without that volume (the CLI's manifests) gets no mount; if the admission then
 * adds a volume of its own on its second pass, the apiserver calls sidekick again and the
 * reconciliation keeps that mount.
 */
export function serviceAccountMount(spec: JsonObject): JsonObject | undefined {
  if (spec.automountServiceAccountToken === false) return undefined;
  // The admission takes the first volume with the prefix, whatever it is; so does this.
  const volume = objectsAt(spec, 'volumes').find((v) => (nameOf(v) ?? '').startsWith(TOKEN_VOLUME_PREFIX));
  if (volume === undefined || !projectsToken(volume)) return undefined;
  const name = nameOf(volume);
  const own = [...objectsAt(spec, 'initContainers'), ...objectsAt(spec, 'containers')];
  const mounted = own.some(
    (c) =>
      isArray(c.volumeMounts) &&
      c.volumeMounts.some((m) => isObject(m) && m.name === name && m.mountPath === SERVICE_ACCOUNT_MOUNT),
  );
  return mounted && name !== undefined
    ? { name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT }
    : undefined;
}
