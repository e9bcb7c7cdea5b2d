import { isArray, isObject, type Json } from '../json.js';
import type { SidecarTemplate } from './types.js';

/**
 * What the Pod Security Standard `restricted` profile checks on a container, read from the
 * template as written. A parameter placeholder in a checked field counts as non-compliant:
 * its value is not known until a Pod chooses it.
 */
export function restrictedViolations(template: SidecarTemplate): string[] {
  const c = template.container;
  const sc: Json | undefined = c.securityContext;
  const out: string[] = [];
  if (!isObject(sc)) return ['has no securityContext'];
  if (sc.privileged === true) out.push('securityContext.privileged is true');
  if (sc.allowPrivilegeEscalation !== false)
    out.push('securityContext.allowPrivilegeEscalation must be false');
  if (sc.runAsNonRoot !== true) out.push('securityContext.runAsNonRoot must be true');
  if (sc.runAsUser === 0) out.push('securityContext.runAsUser must not be 0');
  const seccomp = sc.seccompProfile;
  if (!isObject(seccomp) || (seccomp.type !== 'RuntimeDefault' && seccomp.type !== 'Localhost')) {
    out.push('securityContext.seccompProfile.type must be RuntimeDefault or Localhost');
  }
  const caps = sc.capabilities;
  const drop = isObject(caps) && isArray(caps.drop) ? caps.drop : [];
  if (!drop.includes('ALL')) out.push('securityContext.capabilities.drop must include ALL');
  const add = isObject(caps) && isArray(caps.add) ? caps.add : [];
  for (const cap of add) {
    if (cap !== 'NET_BIND_SERVICE') out.push(`securityContext.capabilities.add has ${JSON.stringify(cap)}`);
  }
  const ports = isArray(c.ports) ? c.ports : [];
  if (ports.some((p) => isObject(p) && p.hostPort !== undefined && p.hostPort !== 0))
    out.push('uses a hostPort');
  const allowedVolumes = [
    'emptyDir',
    'configMap',
    'secret',
    'projected',
    'downwardAPI',
    'persistentVolumeClaim',
  ];
  for (const volume of template.volumes) {
    const kind = Object.keys(volume).find((k) => k !== 'name' && k !== '$when');
    if (kind !== undefined && !allowedVolumes.includes(kind))
      out.push(`volume ${String(volume.name)} is ${kind}`);
  }
  return out;
}
