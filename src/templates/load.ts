import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeTemplateSources } from './merge.js';
import type { LoadOptions, TemplateFile, TemplateLoad, TemplateSource } from './types.js';

export type { LoadOptions, TemplateFile, TemplateSource } from './types.js';
export { SIDEKICK_IMAGE_PLACEHOLDER } from './parse-file.js';

/** The built-in templates/ directory shipped with the package. */
export function builtinTemplateDir(): string {
  return fileURLToPath(new URL('../../../templates/', import.meta.url));
}

/**
 * The directories a set is loaded from: `base` (`--templates`, or the built-ins) is the whole
 * set unless `extra` (`--extra-templates`) adds templates to it.
 */
export interface TemplateDirs {
  base: string;
  extra?: string;
}

export function templateDirList(dirs: TemplateDirs): string[] {
  return dirs.extra === undefined ? [dirs.base] : [dirs.base, dirs.extra];
}

/** Names starting with a dot are kubelet's `..data` machinery or hidden files. */
export function isTemplateFile(name: string): boolean {
  return !name.startsWith('.') && (name.endsWith('.yaml') || name.endsWith('.yml'));
}

export async function readTemplateFiles(dir: string): Promise<TemplateFile[]> {
  const names = (await readdir(dir)).filter(isTemplateFile).sort();
  return Promise.all(
    names.map(async (name) => ({ path: join(dir, name), text: await readFile(join(dir, name), 'utf8') })),
  );
}

/** Pure: the files of one directory (or ConfigMap) as a checked set, or every problem. */
export function parseTemplateFiles(
  files: readonly TemplateFile[],
  dir: string,
  options: LoadOptions = {},
): TemplateLoad {
  return mergeTemplateSources([{ dir, files }], options);
}

/** The files of each directory, base first, or why one cannot be read. */
export async function readTemplateSources(
  dirs: TemplateDirs,
): Promise<{ ok: true; sources: TemplateSource[] } | { ok: false; problems: string[] }> {
  const sources: TemplateSource[] = [];
  for (const dir of templateDirList(dirs)) {
    try {
      sources.push({ dir, files: await readTemplateFiles(dir) });
    } catch (error) {
      return { ok: false, problems: [`${dir}: ${error instanceof Error ? error.message : String(error)}`] };
    }
  }
  return { ok: true, sources };
}

/** The base directory's templates with the extra directory's added, as one checked set. */
export async function loadTemplateDirs(dirs: TemplateDirs, options: LoadOptions = {}): Promise<TemplateLoad> {
  const read = await readTemplateSources(dirs);
  return read.ok ? mergeTemplateSources(read.sources, options) : read;
}

export async function loadTemplateDir(dir: string, options: LoadOptions = {}): Promise<TemplateLoad> {
  return loadTemplateDirs({ base: dir }, options);
}
