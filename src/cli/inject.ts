import type { Command, CommandIo } from './command.js';
import { injectDocuments, type DocumentsResult, type ObjectReport } from './documents.js';
import { explainReport } from './explain-text.js';
import { InputError, loadTemplates, readInputs, templateDirs, type InputSource } from './input.js';
import { COMMON_OPTIONS, imageOption, parseOptions, usage } from './options.js';

export const INJECT_OPTIONS = {
  ...COMMON_OPTIONS,
  filename: {
    type: 'string',
    short: 'f',
    multiple: true,
    description:
      "a file or directory of YAML or JSON manifests, repeatable ('-': standard input, the default)",
  },
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

/** What `inject` and `explain` share: options, templates, input, and the one injection code path. */
async function injectInput(io: CommandIo, name: string): Promise<DocumentsResult | number> {
  const { options } = parseOptions(INJECT_OPTIONS, io.argv, io.env);
  if (options.help) {
    io.stdout.write(usage(`${name} [-f FILE|-]`, INJECT_OPTIONS));
    return 0;
  }
  const templates = await loadTemplates(
    io,
    templateDirs(io, options.templates, options['extra-templates']),
    imageOption(options.image),
  );
  if (!templates) return 1;
  const injectorNamespace = options['injector-namespace'];
  let sources: InputSource[];
  try {
    sources = await readInputs(io, options.filename);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    io.stderr.write(`error: ${error.message}\n`);
    return 1;
  }
  const results = sources.map((source) =>
    injectDocuments(
      source.text,
      {
        templates,
        namespace: options.namespace ?? 'default',
        prefix: options.prefix ?? 'sidekick.dev',
        ...(injectorNamespace ? { injectorNamespace } : {}),
      },
      source.name,
    ),
  );
  if (results.every((r) => r.documents === 0)) {
    io.stderr.write(`error: no objects in the input (${sources.map((s) => s.name).join(', ')})\n`);
    return 1;
  }
  return combine(results);
}

/** Several inputs as one: their documents in order, refused if any object is. */
function combine(results: readonly DocumentsResult[]): DocumentsResult {
  const refused = results.some((r) => r.refused);
  return {
    output: refused
      ? ''
      : results
          .filter((r) => r.documents > 0)
          .map((r) => r.output)
          .join('---\n'),
    reports: results.flatMap((r) => r.reports),
    refused,
    documents: results.reduce((n, r) => n + r.documents, 0),
  };
}

export const inject: Command = async (io) => {
  const result = await injectInput(io, 'inject');
  if (typeof result === 'number') return result;
  for (const report of result.reports) io.stderr.write(messages(report).join(''));
  if (result.refused) return 1;
  io.stdout.write(result.output);
  return 0;
};

export const explain: Command = async (io) => {
  const result = await injectInput(io, 'explain');
  if (typeof result === 'number') return result;
  io.stdout.write(result.reports.map(explainReport).join(''));
  return result.refused ? 1 : 0;
};
