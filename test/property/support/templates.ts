import type { TemplateSet } from '../../../src/templates/types.js';
import { repoPath } from '../../support/paths.js';
import { loadTemplateDirs, ORDERING_TEMPLATES } from '../../support/templates.js';

/** The built-in templates, which the properties are about. */
export function builtinTemplates(): Promise<TemplateSet> {
  return loadTemplateDirs([repoPath('templates')]);
}

/**
 * The built-in templates and fixtures that add a chain of `requires`, which no built-in
 * template has: ordering must hold for those too.
 */
export function propertyTemplates(): Promise<TemplateSet> {
  return loadTemplateDirs([repoPath('templates'), ORDERING_TEMPLATES]);
}
