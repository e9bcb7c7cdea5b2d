import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CommandIo } from './command.js';
import { builtinTemplateDir, loadTemplateDirs, type TemplateDirs } from '../templates/load.js';
import type { TemplateSet } from '../templates/types.js';

/** One file (or standard input) of manifests, named as the user gave it. */
export interface InputSource {
  name: string;
  text: string;
}

/** As kubectl -f takes them from a directory: its manifests, not its subdirectories. */
const MANIFEST = /\.(ya?ml|json)$/;

/** Why a path could not be read, in one line: "no such file or directory", not a stack trace. */
function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

export class InputError extends Error {}

async function readPath(io: CommandIo, given: string): Promise<InputSource[]> {
  const path = resolve(io.cwd, given);
  try {
    if (!(await stat(path)).isDirectory()) return [{ name: given, text: await readFile(path, 'utf8') }];
    const names = (await readdir(path)).filter((n) => MANIFEST.test(n) && !n.startsWith('.')).sort();
    const out: InputSource[] = [];
    for (const name of names) {
      if (!(await stat(join(path, name))).isFile()) continue;
      out.push({ name: join(given, name), text: await readFile(join(path, name), 'utf8') });
    }
    // Named, so that "no objects" can say which directory held none.
    return out.length > 0 ? out : [{ name: `${given} (no .yaml, .yml or .json files)`, text: '' }];
  } catch (error) {
    throw new InputError(`cannot read ${given}: ${reason(error)}`);
  }
}

async function readStdin(io: CommandIo): Promise<InputSource> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return { name: 'standard input', text: Buffer.concat(chunks).toString('utf8') };
}

/**
 * Every -f in order, like kubectl: files, directories (their .yaml, .yml and .json files) and
 * `-` for standard input, which is also the default. A path that cannot be read is an
 * InputError naming it.
 */
export async function readInputs(io: CommandIo, files: readonly string[]): Promise<InputSource[]> {
  if (files.length === 0) return [await readStdin(io)];
  const out: InputSource[] = [];
  for (const file of files) {
    if (file === '-') out.push(await readStdin(io));
    else out.push(...(await readPath(io, file)));
  }
  return out;
}

/**
 * The directories a command loads its templates from: `--templates` replaces the built-in set,
 * `--extra-templates` adds to whichever of the two is the base. Relative to the working directory.
 */
export function templateDirs(
  io: CommandIo,
  templates: string | undefined,
  extra: string | undefined,
): TemplateDirs {
  return {
    base: templates === undefined ? builtinTemplateDir() : resolve(io.cwd, templates),
    ...(extra === undefined ? {} : { extra: resolve(io.cwd, extra) }),
  };
}

/** The directories in one phrase, for messages. */
export function describeDirs(dirs: TemplateDirs): string {
  return dirs.extra === undefined ? dirs.base : `${dirs.base} with ${dirs.extra} added`;
}

/** The template set a command works with, or undefined after saying on stderr why it cannot load. */
export async function loadTemplates(
  io: CommandIo,
  dirs: TemplateDirs,
  image: string,
): Promise<TemplateSet | undefined> {
  const load = await loadTemplateDirs(dirs, { image });
  if (load.ok) return load.set;
  io.stderr.write(
    `sidekick: the templates in ${describeDirs(dirs)} are invalid:\n${load.problems.map((p) => `  ${p}\n`).join('')}`,
  );
  return undefined;
}
