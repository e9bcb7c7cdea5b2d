import { loadTemplateDirs } from '../templates/load.js';
import { formatValue } from '../templates/parameter-value.js';
import type { ParameterSpec, TemplateSet } from '../templates/types.js';
import type { Command } from './command.js';
import { describeDirs, templateDirs } from './input.js';
import { COMMON_OPTIONS, imageOption, parseOptions, usage, UsageError, type OptionSpecs } from './options.js';

const TEMPLATES_OPTIONS = {
  ...COMMON_OPTIONS,
  strict: {
    type: 'boolean',
    description: 'validate: treat every warning (lint and Pod Security restricted) as an error',
  },
} as const satisfies OptionSpecs;

function describeParameter(p: ParameterSpec): string {
  const type = p.type === 'enum' ? `enum(${(p.values ?? []).join('|')})` : p.type;
  const extra = p.required
    ? 'required'
    : p.default !== undefined
      ? `default ${JSON.stringify(formatValue(p.default))}`
      : 'optional';
  return `    ${p.name.padEnd(20)} ${type.padEnd(12)} ${extra.padEnd(20)} ${p.description}`;
}

function list(set: TemplateSet): string {
  return [...set.templates.values()]
    .map((t) => {
      const deps = [
        t.requires.length > 0 ? `requires ${t.requires.join(', ')}` : '',
        t.after.length > 0 ? `after ${t.after.join(', ')}` : '',
      ].filter(Boolean);
      const head = `${t.name}: ${t.description}${deps.length > 0 ? ` (${deps.join('; ')})` : ''}`;
      return [head, ...t.parameters.map(describeParameter)].join('\n');
    })
    .join('\n\n')
    .concat('\n');
}

export const templates: Command = async (io) => {
  const { options, positionals } = parseOptions(TEMPLATES_OPTIONS, io.argv, io.env);
  const [action, dirArg, ...rest] = positionals;
  if (options.help || action === undefined) {
    io.stdout.write(
      usage('templates list|validate [--strict] [--extra-templates DIR] [DIR]', TEMPLATES_OPTIONS),
    );
    return options.help ? 0 : 2;
  }
  if (action !== 'list' && action !== 'validate')
    throw new UsageError(`unknown action '${action}' (list or validate)`);
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  // DIR, like --templates, is the whole set; --extra-templates adds to it (or to the built-ins).
  const dirs = templateDirs(io, dirArg ?? options.templates, options['extra-templates']);
  const dir = describeDirs(dirs);
  const load = await loadTemplateDirs(dirs, { image: imageOption(options.image) });
  if (!load.ok) {
    io.stderr.write(
      `${dir}: ${load.problems.length} problem(s):\n${load.problems.map((p) => `  ${p}\n`).join('')}`,
    );
    return 1;
  }
  const { warnings } = load.set;
  if (options.strict && action === 'validate' && warnings.length > 0) {
    io.stderr.write(
      `${dir}: ${warnings.length} problem(s) (--strict):\n${warnings.map((w) => `  ${w}\n`).join('')}`,
    );
    return 1;
  }
  for (const warning of warnings) io.stderr.write(`warning: ${warning}\n`);
  if (action === 'list') io.stdout.write(list(load.set));
  else
    io.stdout.write(
      `${dir}: ${load.set.templates.size} valid template(s): ${[...load.set.templates.keys()].join(', ')}\n`,
    );
  return 0;
};
