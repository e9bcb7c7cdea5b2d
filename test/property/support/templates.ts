import { loadTemplateDir } from '../../../src/templates/load.js';
import type { TemplateSet } from '../../../src/templates/types.js';
import { repoPath } from '../../support/paths.js';

/** The built-in templates, which the properties are about. */
export async function builtinTemplates(): Promise<TemplateSet> {
  const load = await loadTemplateDir(repoPath('templates'));
  if (!load.ok) throw new Error(`the built-in templates do not load:\n${load.problems.join('\n')}`);
  return load.set;
}
