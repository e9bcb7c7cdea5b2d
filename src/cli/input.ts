import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CommandIo } from './command.js';
import { loadTemplateDir, builtinTemplateDir } from '../templates/load.js';
import type { TemplateSet } from '../templates/types.js';

export async function readInput(io: CommandIo, file: string | undefined): Promise<string> {
  if (file !== undefined && file !== '-') return readFile(resolve(io.cwd, file), 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** The template set a command works with, or undefined after saying on stderr why it cannot load. */
export async function loadTemplates(
  io: CommandIo,
  dir: string | undefined,
): Promise<TemplateSet | undefined> {
  const path = dir === undefined ? builtinTemplateDir() : resolve(io.cwd, dir);
  const load = await loadTemplateDir(path);
  if (load.ok) return load.set;
  io.stderr.write(
    `sidekick: the templates in ${path} are invalid:\n${load.problems.map((p) => `  ${p}\n`).join('')}`,
  );
  return undefined;
}
