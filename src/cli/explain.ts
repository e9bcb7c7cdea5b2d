import type { Command } from './command.js';
import { injectDocuments } from './documents.js';
import { explainReport } from './explain-text.js';
import { INJECT_OPTIONS } from './inject.js';
import { loadTemplates, readInput } from './input.js';
import { parseOptions, usage } from './options.js';

export const explain: Command = async (io) => {
  const { options } = parseOptions(INJECT_OPTIONS, io.argv, io.env);
  if (options.help) {
    io.stdout.write(usage('explain [-f FILE|-]', INJECT_OPTIONS));
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
  io.stdout.write(result.reports.map(explainReport).join(''));
  return result.refused ? 1 : 0;
};
