import { isArray, isObject, type Json, type JsonObject } from '../json.js';
import type { SidecarTemplate } from './types.js';

const ALLOWED_VOLUMES = [
  'emptyDir',
  'configMap',
  'secret',
  'projected',
  'downwardAPI',
  'persistentVolumeClaim',
];

function securityContextViolations(sc: JsonObject): string[] {
  const out: string[] = [];
  if (sc.privileged === true) out.push('securityContext.privileged is true');
  if (sc.allowPrivilegeEscalation !== false)
    out.push('securityContext.allowPrivilegeEscalation must be false');
  if (sc.runAsNonRoot !== true) out.push('securityContext.runAsNonRoot must be true');
  if (sc.runAsUser === 0) out.push('securityContext.runAsUser must not be 0');
  const seccomp = sc.seccompProfile;
  if (!isObject(seccomp) || (seccomp.type !== 'RuntimeDefault' && seccomp.type !== 'Localhost')) {
    out.push('securityContext.seccompProfile.type must be RuntimeDefault or Localhost');
  }
  const caps = isObject(sc.capabilities) ? sc.capabilities : {};
  if (!(isArray(caps.drop) && caps.drop.includes('ALL')))
    out.push('securityContext.capabilities.drop must include ALL');
  for (const cap of isArray(caps.add) ? caps.add : []) {
    if (cap !== 'NET_BIND_SERVICE') out.push(`securityContext.capabilities.add has ${JSON.stringify(cap)}`);
  }
  return out;
}

/**
 * What the Pod Security Standard `restricted` profile checks on a container, read from the
 * template as written. A parameter placeholder in a checked field counts as non-compliant:
 * its value is not known until a Pod chooses it.
 */
export function restrictedViolations(template: SidecarTemplate): string[] {
  const c = template.container;
  const sc: Json | undefined = c.securityContext;
  const out = isObject(sc) ? securityContextViolations(sc) : ['has no securityContext'];
  const ports = isArray(c.ports) ? c.ports : [];
  if (ports.some((p) => isObject(p) && p.hostPort !== undefined && p.hostPort !== 0))
    out.push('uses a hostPort');
  for (const volume of template.volumes) {
    const kind = Object.keys(volume).find((k) => k !== 'name' && k !== '$when');
    if (kind !== undefined && !ALLOWED_VOLUMES.includes(kind))
      out.push(`volume ${JSON.stringify(volume.name)} is ${kind}`);
  }
  return out;
}
