import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: tests run compiled from dist/test/e2e/harness/. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export const repoPath = (relative: string): string => join(REPO_ROOT, relative);
