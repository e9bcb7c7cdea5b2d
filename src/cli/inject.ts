import type { Command } from './command.js';
import { injectDocuments, type ObjectReport } from './documents.js';
import { loadTemplates, readInput } from './input.js';
import { COMMON_OPTIONS, parseOptions, usage } from './options.js';

export const INJECT_OPTIONS = {
  ...COMMON_OPTIONS,
  filename: { type: 'string', short: 'f', description: "YAML to read ('-' for standard input, the default)" },
  namespace: {
    type: 'string',
    default: 'default',
    description: 'namespace to assume for objects without one',
  },
  'injector-namespace': { type: 'string', description: "the injector's own namespace (never injected)" },
} as const;

export function messages(report: ObjectReport): string[] {
  const { outcome } = report;
  const lines = outcome.warnings.map((w) => `warning: ${report.object}: ${w}\n`);
  if (outcome.decision === 'refuse') lines.push(`error: ${outcome.message}\n`);
  return lines;
}

export const inject: Command = async (io) => {
  const { options } = parseOptions(INJECT_OPTIONS, io.argv, io.env);
  if (options.help) {
    io.stdout.write(usage('inject [-f FILE|-]', INJECT_OPTIONS));
    return 0;
  }
  const templates = await loadTemplates(io, options.templates);
  if (!templates) return 1;
  const text = await readInput(io, options.filename);
  const result = injectDocuments(text, {
    templates,
    namespace: options.namespace ?? 'default',
    prefix: options.prefix ?? 'sidekick.dev',
    ...(options['injector-namespace'] ? { injectorNamespace: options['injector-namespace'] } : {}),
  });
  for (const report of result.reports) io.stderr.write(messages(report).join(''));
  if (result.refused) return 1;
  io.stdout.write(result.output);
  return 0;
};
