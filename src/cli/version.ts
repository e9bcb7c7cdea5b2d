import { builtinTemplateDir, loadTemplateDir } from '../templates/load.js';
import { VERSION } from '../identity.js';
import type { Command } from './command.js';
import { parseOptions, usage, UsageError } from './options.js';

const SPECS = { help: { type: 'boolean', short: 'h', description: 'show this help' } } as const;

/**
 * The version, and the hash of the built-in template set: the hash the server logs when it
 * loads a set, so that which templates a deployment runs can be matched to a release.
 */
export const version: Command = async (io) => {
  const { options, positionals } = parseOptions(SPECS, io.argv, io.env);
  if (options.help) {
    io.stdout.write(usage('version', SPECS));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  const load = await loadTemplateDir(builtinTemplateDir());
  const templates = load.ok
    ? `built-in templates ${load.set.hash} (${[...load.set.templates.keys()].join(', ')})`
    : `built-in templates invalid: ${load.problems.join('; ')}`;
  io.stdout.write(`sidekick ${VERSION}\n${templates}\n`);
  return load.ok ? 0 : 1;
};
