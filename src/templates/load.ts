import { fileURLToPath } from 'node:url';
import type { TemplateLoad } from './types.js';

/** The built-in templates/ directory shipped with the package. */
export function builtinTemplateDir(): string {
  return fileURLToPath(new URL('../../../templates/', import.meta.url));
}

export async function loadTemplateDir(dir: string): Promise<TemplateLoad> {
  await Promise.resolve();
  return { ok: false, problems: [`${dir}: template loading is being written`] };
}
