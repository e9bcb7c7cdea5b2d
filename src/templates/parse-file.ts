import { parseAllDocuments } from 'yaml';
import { isObject, type Json } from '../json.js';
import { parseTemplate } from './schema.js';
import type { SidecarTemplate, TemplateFile } from './types.js';

/**
 * The one placeholder a template may hold outside its parameters, and only as the whole of
 * spec.container.image: sidekick's own image, given once to the server (`--image`), so that an
 * override of the image reaches config-watcher's sidecars too. Parameters never pick an image.
 */
export const SIDEKICK_IMAGE_PLACEHOLDER = '{{ sidekick.image }}';
const WHOLE_PLACEHOLDER = /^\{\{\s*sidekick\.image\s*\}\}$/;
const ANY_PLACEHOLDER = /\{\{\s*sidekick\.image\s*\}\}/;

function placeholderPaths(value: Json, path: string): string[] {
  if (typeof value === 'string') return ANY_PLACEHOLDER.test(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => placeholderPaths(item, `${path}[${i}]`));
  if (isObject(value))
    return Object.entries(value).flatMap(([key, item]) =>
      placeholderPaths(item, path === '' ? key : `${path}.${key}`),
    );
  return [];
}

/** The document with its image placeholder replaced, or the places it may not stand. */
function withSidekickImage(
  content: Json,
  image: string,
  source: string,
): { content: Json; problems: string[] } {
  const container = isObject(content) && isObject(content.spec) ? content.spec.container : undefined;
  let replaced = content;
  if (isObject(container) && typeof container.image === 'string' && WHOLE_PLACEHOLDER.test(container.image)) {
    replaced = structuredClone(content);
    const spec = isObject(replaced) ? replaced.spec : undefined;
    if (isObject(spec) && isObject(spec.container)) spec.container.image = image;
  }
  const problems = placeholderPaths(replaced, '').map(
    (path) =>
      `${source}: ${path}: ${SIDEKICK_IMAGE_PLACEHOLDER} stands only as the whole of spec.container.image`,
  );
  return { content: replaced, problems };
}

/** Pure: every template of one file (a file may hold several documents), or its problems. */
export function parseTemplateFile(
  file: TemplateFile,
  image: string,
): { templates: SidecarTemplate[]; problems: string[] } {
  const templates: SidecarTemplate[] = [];
  const problems: string[] = [];
  for (const doc of parseAllDocuments(file.text)) {
    if (doc.errors.length > 0) {
      problems.push(...doc.errors.map((e) => `${file.path}: YAML: ${e.message.split('\n')[0] ?? ''}`));
      continue;
    }
    const raw = doc.toJS({ maxAliasCount: 50 }) as Json;
    if (raw === null) continue;
    const { content, problems: misplaced } = withSidekickImage(raw, image, file.path);
    problems.push(...misplaced);
    if (misplaced.length > 0) continue;
    const { template, problems: found } = parseTemplate(content, file.path);
    problems.push(...found);
    if (template) templates.push(template);
  }
  return { templates, problems };
}
