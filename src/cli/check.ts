import { DEFAULT_TEMPLATES_CONFIGMAP } from '../admission/index.js';
import { analyze } from '../check/analyze.js';
import { gather, type GatherOptions } from '../check/gather.js';
import { RawApi } from '../check/raw-api.js';
import { json, table } from '../check/report.js';
import type { TemplateSet } from '../templates/types.js';
import type { Command, CommandIo } from './command.js';
import { loadTemplates, templateDirs } from './input.js';
import { loadKubeConfig } from './kubeconfig.js';
import {
  COMMON_OPTIONS,
  imageOption,
  parseOptions,
  usage,
  UsageError,
  type OptionSpecs,
  type ParsedOptions,
} from './options.js';

const SPECS = {
  output: { type: 'string', short: 'o', default: 'table', description: 'table or json' },
  namespace: { type: 'string', default: 'sidekick', description: "sidekick's namespace" },
  webhook: { type: 'string', default: 'sidekick', description: 'the MutatingWebhookConfiguration' },
  'validating-webhook': {
    type: 'string',
    default: 'sidekick-workloads',
    description: 'the ValidatingWebhookConfiguration',
  },
  secret: {
    type: 'string',
    default: 'sidekick-tls',
    description: 'the Secret with the serving certificate (for webhooks called through a Service)',
  },
  'templates-configmap': {
    type: 'string',
    default: DEFAULT_TEMPLATES_CONFIGMAP,
    description: 'the ConfigMap with the templates the server runs with',
  },
  kubeconfig: {
    type: 'string',
    description: 'kubeconfig file (default: $KUBECONFIG, the in-cluster account, ~/.kube/config)',
  },
  ...COMMON_OPTIONS,
} as const satisfies OptionSpecs;

/**
 * The built-in set (when the cluster's cannot be read) and the set to preview: --templates in
 * place of the built-ins, with --extra-templates added, when either is given.
 */
async function templateSets(
  io: CommandIo,
  dir: string | undefined,
  extra: string | undefined,
  image: string,
): Promise<{ fallback: TemplateSet; preview: TemplateSet | undefined } | undefined> {
  const fallback = await loadTemplates(io, templateDirs(io, undefined, undefined), image);
  const previewing = dir !== undefined || extra !== undefined;
  const preview = previewing ? await loadTemplates(io, templateDirs(io, dir, extra), image) : undefined;
  if (!fallback || (previewing && !preview)) return undefined;
  return { fallback, preview };
}

function gatherOptions(options: ParsedOptions<typeof SPECS>): GatherOptions {
  return {
    namespace: options.namespace ?? 'sidekick',
    webhook: options.webhook ?? 'sidekick',
    validatingWebhook: options['validating-webhook'] ?? 'sidekick-workloads',
    secret: options.secret ?? 'sidekick-tls',
    templatesConfigMap: options['templates-configmap'] ?? DEFAULT_TEMPLATES_CONFIGMAP,
    image: imageOption(options.image),
  };
}

/**
 * `sidekick check`: reads the cluster (never writes), judges it with the same injection code
 * path as the webhook, and exits 1 when it finds a problem. --templates (a set in place of the
 * built-ins) and --extra-templates (templates added to them) preview a template change against
 * the workloads in the cluster.
 */
export const check: Command = async (io) => {
  const { options, positionals } = parseOptions(SPECS, io.argv, io.env);
  if (options.help) {
    io.stdout.write(usage('check [--templates DIR] [--extra-templates DIR] [-o table|json]', SPECS));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  const output = options.output ?? 'table';
  if (output !== 'table' && output !== 'json')
    throw new UsageError(`-o must be table or json, got '${output}'`);
  const sets = await templateSets(
    io,
    options.templates,
    options['extra-templates'],
    imageOption(options.image),
  );
  if (!sets) return 1;
  const namespace = options.namespace ?? 'sidekick';
  let snapshot;
  try {
    snapshot = await gather(new RawApi(loadKubeConfig(options.kubeconfig, io.env)), gatherOptions(options));
  } catch (error) {
    io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const findings = analyze(snapshot, {
    prefix: options.prefix ?? 'sidekick.dev',
    injectorNamespace: namespace,
    ...sets,
  });
  io.stdout.write(output === 'json' ? json(findings) : table(findings));
  return findings.some((f) => f.severity === 'problem') ? 1 : 0;
};
