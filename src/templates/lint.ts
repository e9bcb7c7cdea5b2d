import { isObject, type Json, type JsonObject } from '../json.js';
import type { SidecarTemplate } from './types.js';

/**
 * An image reference that pins nothing: no tag and no digest (the runtime reads `:latest`), or
 * `:latest` itself. Either way two nodes may run different programs under one template hash.
 */
export function floatingImage(image: string): string | undefined {
  if (image.includes('@')) return undefined;
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastPart.lastIndexOf(':');
  if (colon < 0) return `image ${JSON.stringify(image)} has no tag or digest`;
  if (lastPart.slice(colon + 1) === 'latest') return `image ${JSON.stringify(image)} uses the tag latest`;
  return undefined;
}

function missingResources(resources: Json | undefined): string[] {
  const r: JsonObject = isObject(resources) ? resources : {};
  const out: string[] = [];
  for (const kind of ['requests', 'limits'] as const) {
    const set = r[kind];
    const values: JsonObject = isObject(set) ? set : {};
    const missing = ['cpu', 'memory'].filter((name) => values[name] === undefined);
    if (missing.length > 0) out.push(`resources.${kind} has no ${missing.join(' or ')}`);
  }
  return out;
}

/**
 * What a mature template has beyond what the loader requires: the problems that admit a Pod and
 * then hurt it at runtime (an unpinned image, no probe gating the app, no resources for the
 * scheduler, a writable root filesystem). Warnings; `templates validate --strict` makes them errors.
 * Privilege and host access are reported by restrictedViolations.
 */
export function lintTemplate(template: SidecarTemplate): string[] {
  const c = template.container;
  const out: string[] = [];
  const image = c.image;
  if (typeof image !== 'string') out.push('container.image is not a string');
  else {
    const floating = floatingImage(image);
    if (floating !== undefined) out.push(`container.${floating}`);
  }
  if (template.runOnce !== true && c.startupProbe === undefined)
    out.push(
      'container has no startupProbe: the app would start before the sidecar is ready (only a runOnce template may omit it)',
    );
  out.push(...missingResources(c.resources).map((m) => `container.${m}`));
  const sc = isObject(c.securityContext) ? c.securityContext : {};
  if (sc.readOnlyRootFilesystem !== true)
    out.push(
      'container.securityContext.readOnlyRootFilesystem is not true (use emptyDir volumes for scratch space)',
    );
  return out;
}
