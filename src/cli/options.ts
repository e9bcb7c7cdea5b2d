import { DEFAULT_IMAGE } from '../identity.js';

// By process.getBuiltinModule, not `import`, as the rest of `sidekick watch`: see health.ts.
const { parseArgs } = process.getBuiltinModule('node:util');

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string;
  description: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export type ParsedOptions<S extends OptionSpecs> = {
  [K in keyof S]: S[K]['type'] extends 'boolean'
    ? boolean
    : S[K]['multiple'] extends true
      ? string[]
      : string | undefined;
};

export class UsageError extends Error {}

/** `--tls-cert` reads `SIDEKICK_TLS_CERT` when absent from the command line. */
export function envName(option: string): string {
  return `SIDEKICK_${option.toUpperCase().replace(/-/g, '_')}`;
}

export interface Parsed<S extends OptionSpecs> {
  options: ParsedOptions<S>;
  positionals: string[];
}

export function parseOptions<S extends OptionSpecs>(
  specs: S,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Parsed<S> {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    config[name] = {
      type: spec.type,
      ...(spec.short ? { short: spec.short } : {}),
      multiple: spec.multiple ?? false,
    };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: config, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(parseArgsMessage(error));
  }
  const options: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = resolveOption(spec, parsed.values[name], env[envName(name)]);
  }
  return { options: options as ParsedOptions<S>, positionals: parsed.positionals };
}

/**
 * node:util's message for an unknown option goes on to explain how to pass a positional that
 * starts with '-', which no command here takes; the option's name and where the list is are kept.
 */
function parseArgsMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return error.message;
  const first = /^Unknown option '[^']*'/.exec(error.message);
  return first ? `${first[0]} (--help lists the options)` : error.message;
}

function resolveOption(spec: OptionSpec, given: unknown, fromEnv: string | undefined): unknown {
  if (spec.type === 'boolean') {
    return (
      given === true || (given === undefined && fromEnv !== undefined && /^(1|true|yes)$/i.test(fromEnv))
    );
  }
  if (spec.multiple) {
    const list = Array.isArray(given) ? given.map(String) : [];
    if (list.length > 0) return list;
    return fromEnv
      ? fromEnv
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [];
  }
  return typeof given === 'string' ? given : (fromEnv ?? spec.default);
}

export function usage(command: string, specs: OptionSpecs): string {
  const lines = Object.entries(specs).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'string' ? ' VALUE' : ''}`;
    const def = spec.default !== undefined ? ` (default ${spec.default})` : '';
    return `  ${flag.padEnd(28)} ${spec.description}${def} [${envName(name)}]`;
  });
  return `usage: sidekick ${command}\n${lines.join('\n')}\n`;
}

/** What every command that runs or logs takes, templates or not: its log level and its help. */
export const PROCESS_OPTIONS = {
  'log-level': {
    type: 'string',
    default: 'info',
    description: 'fatal, error, warn, info, debug, trace or silent',
  },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
} as const satisfies OptionSpecs;

/**
 * Options of the commands that load and render templates. `watch` and `relay` render none and do
 * not take them: an option taken and ignored would read as if it had an effect.
 */
export const COMMON_OPTIONS = {
  templates: {
    type: 'string',
    description:
      'directory of SidecarTemplates that REPLACES the built-in ones: only its templates exist (default: the built-in templates/)',
  },
  'extra-templates': {
    type: 'string',
    description:
      'directory of SidecarTemplates ADDED to the built-in ones (or to --templates); a name defined in both is an error',
  },
  prefix: { type: 'string', default: 'sidekick.dev', description: 'annotation and label prefix' },
  image: {
    type: 'string',
    default: DEFAULT_IMAGE,
    description: "sidekick's own image: what a template's '{{ sidekick.image }}' stands for",
  },
  ...PROCESS_OPTIONS,
} as const satisfies OptionSpecs;

/** `--image`: a reference without spaces or braces (the placeholder cannot stand for itself). */
export function imageOption(value: string | undefined): string {
  if (value === undefined) return DEFAULT_IMAGE;
  if (!/^[^\s{}]+$/.test(value))
    throw new UsageError(`--image must be an image reference, got ${JSON.stringify(value)}`);
  return value;
}
