import { fileURLToPath } from 'node:url';

/** The repository root: compiled tests run from dist/test/..., their data stays in test/. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function repoPath(...parts: string[]): string {
  return [ROOT.replace(/\/$/, ''), ...parts].join('/');
}

/** The built `sidekick` CLI (`npm run build` makes it). */
export const SIDEKICK_MAIN = repoPath('dist', 'src', 'main.js');
