import { loadTemplateDirs } from '../templates/load.js';
import { VERSION } from '../identity.js';
import type { Command } from './command.js';
import { describeDirs, templateDirs } from './input.js';
import { COMMON_OPTIONS, imageOption, parseOptions, usage, UsageError, type OptionSpecs } from './options.js';

const SPECS = {
  templates: COMMON_OPTIONS.templates,
  'extra-templates': COMMON_OPTIONS['extra-templates'],
  image: COMMON_OPTIONS.image,
  help: COMMON_OPTIONS.help,
} as const satisfies OptionSpecs;

/**
 * The version, and the hash of the template set: the hash the server logs when it loads a set,
 * so that which templates a deployment runs can be matched to a release. Without options it is
 * the built-in set's; given the server's --templates, --extra-templates and --image, it is the
 * hash of the set that server runs.
 */
export const version: Command = async (io) => {
  const { options, positionals } = parseOptions(SPECS, io.argv, io.env);
  if (options.help) {
    io.stdout.write(usage('version [--templates DIR] [--extra-templates DIR]', SPECS));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  const builtin = options.templates === undefined && options['extra-templates'] === undefined;
  const dirs = templateDirs(io, options.templates, options['extra-templates']);
  const load = await loadTemplateDirs(dirs, { image: imageOption(options.image) });
  const what = builtin ? 'built-in templates' : 'templates';
  const from = builtin ? '' : ` from ${describeDirs(dirs)}`;
  const templates = load.ok
    ? `${what} ${load.set.hash} (${[...load.set.templates.keys()].join(', ')})${from}`
    : `${what}${from} invalid: ${load.problems.join('; ')}`;
  io.stdout.write(`sidekick ${VERSION}\n${templates}\n`);
  return load.ok ? 0 : 1;
};
