import { createHash } from 'node:crypto';
import type { SidecarTemplate } from '../templates/types.js';

/** The key the status annotation's templates hash is made from: each sidecar's template, in order. */
export function statusKey(templates: readonly SidecarTemplate[]): string {
  return templates.map((t) => `${t.name}:${t.hash}`).join('\n');
}

/**
 * The `templates` field of the status annotation for these sidecars: what `sidekick check`
 * compares a running Pod's against to tell that its sidecars came from other templates.
 */
export function statusHash(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}
