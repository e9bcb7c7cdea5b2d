import { ApiException, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { ensureClusterCertificates, FIELD_MANAGER, type ClusterCertificateResult } from '../certs/cluster.js';
import { ensureCertificateFiles } from '../certs/files.js';
import { publishCaBundle, type PublishResult } from '../certs/publish.js';
import type { CertificateNames } from '../certs/validity.js';
import { parseDuration } from '../watch/duration.js';
import type { Command } from './command.js';
import { loadKubeConfig } from './kubeconfig.js';
import { COMMON_OPTIONS, parseOptions, usage, UsageError, type OptionSpecs } from './options.js';

const SPECS = {
  dir: {
    type: 'string',
    description: 'offline: write ca.crt, tls.crt and tls.key to this directory instead of the cluster',
  },
  service: {
    type: 'string',
    default: 'sidekick',
    description: "the webhook's Service (names the certificate)",
  },
  namespace: { type: 'string', default: 'sidekick', description: 'its namespace, where the Secret is kept' },
  secret: { type: 'string', default: 'sidekick-tls', description: 'the kubernetes.io/tls Secret to create' },
  webhook: {
    type: 'string',
    default: 'sidekick',
    description:
      "the MutatingWebhookConfiguration whose caBundle is set ('' for none: the relay's certificate)",
  },
  'validating-webhook': {
    type: 'string',
    default: 'sidekick-workloads',
    description: "the ValidatingWebhookConfiguration whose caBundle is set too, if it exists ('' for none)",
  },
  'dns-name': {
    type: 'string',
    multiple: true,
    description: 'another DNS name for the certificate (repeat)',
  },
  'ip-address': { type: 'string', multiple: true, description: 'an IP address for the certificate (repeat)' },
  days: { type: 'string', default: '365', description: 'validity of the serving certificate in days' },
  validity: {
    type: 'string',
    description: 'validity as a duration (e.g. 8760h, 10m), in place of --days',
  },
  'renew-fraction': {
    type: 'string',
    default: '1/3',
    description: 'renew when less than this fraction of the validity remains (e.g. 1/3, 0.25)',
  },
  'rotation-step': {
    type: 'string',
    default: '30m',
    description:
      'least time each phase of a CA rotation lasts (trust-new, serve-new): longer than kubelet takes to swap the mounted Secret',
  },
  'publish-ca': {
    type: 'string',
    description:
      "publish the CA bundle as this ConfigMap's ca.crt in every namespace (the relay's: sidekick-relay-ca)",
  },
  'publish-namespaces': {
    type: 'string',
    description:
      'with --publish-ca: only these namespaces (comma-separated; default all but the system ones)',
  },
  force: { type: 'boolean', description: 'issue a new certificate even if the kept one is good' },
  kubeconfig: {
    type: 'string',
    description: 'kubeconfig file (default: $KUBECONFIG, the in-cluster account, ~/.kube/config)',
  },
  help: COMMON_OPTIONS.help,
} as const satisfies OptionSpecs;

const USAGE_LINE = 'certs [--dir DIR] [options]';
const DAY_MS = 86_400_000;
const MIN_VALIDITY_MS = 60_000;

function validatingLine(name: string, patched: string[] | undefined): string {
  const state =
    patched === undefined
      ? 'not found, skipped'
      : `caBundle ${patched.length === 0 ? 'already set' : `set for ${patched.join(', ')}`}`;
  return `validatingwebhookconfiguration ${name}: ${state}\n`;
}

/** Nothing for '' (no webhook: the relay's certificate). */
function mutatingLine(name: string, patched: readonly string[]): string {
  if (name === '') return '';
  const state = patched.length === 0 ? 'already set' : `set for ${patched.join(', ')}`;
  return `mutatingwebhookconfiguration ${name}: caBundle ${state}\n`;
}

/** What the apiserver calls a Service webhook by, plus whatever else was asked for. */
function namesFor(service: string, namespace: string, dns: string[], ips: string[]): CertificateNames {
  const dnsNames = [
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
    `${service}.${namespace}`,
    service,
    ...dns,
  ];
  return { dnsNames: [...new Set(dnsNames)], ipAddresses: [...new Set(ips)] };
}

function parseDays(text: string | undefined): number {
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new UsageError(`--days: expected a whole number of days from 1 to 3650, got '${String(text)}'`);
  }
  return days;
}

function parseValidityMs(validity: string | undefined, days: string | undefined): number {
  if (validity === undefined) return parseDays(days) * DAY_MS;
  const parsed = parseDuration(validity);
  if (!parsed.ok) throw new UsageError(`--validity: ${parsed.message}`);
  if (parsed.ms < MIN_VALIDITY_MS || parsed.ms > 3650 * DAY_MS) {
    throw new UsageError(`--validity: expected from 1m to 87600h, got '${validity}'`);
  }
  return parsed.ms;
}

function parseFraction(text: string | undefined): number {
  const input = text ?? '';
  const ratio = /^(\d+)\/(\d+)$/.exec(input);
  const value = ratio ? Number(ratio[1]) / Number(ratio[2]) : /^\d*\.?\d+$/.test(input) ? Number(input) : NaN;
  if (!(value > 0 && value < 1)) {
    throw new UsageError(
      `--renew-fraction: expected a fraction between 0 and 1 (e.g. 1/3, 0.25), got '${input}'`,
    );
  }
  return value;
}

function parseStep(text: string | undefined): number {
  const parsed = parseDuration(text ?? '');
  if (!parsed.ok) throw new UsageError(`--rotation-step: ${parsed.message}`);
  return parsed.ms;
}

function secretLine(target: string, result: ClusterCertificateResult): string {
  const why = result.reason === undefined ? '' : ` (${result.reason})`;
  const until = result.until === undefined ? '' : ` until ${new Date(result.until).toISOString()}`;
  return `secret ${target}: ${result.secret}${why}, phase ${result.phase}${until}, serial ${result.serial}\n`;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function parsePublish(
  name: string | undefined,
  namespaces: string | undefined,
  dir: string | undefined,
): { name: string; namespaces?: string[] } | undefined {
  if (name !== undefined && dir !== undefined)
    throw new UsageError('--publish-ca needs a cluster, not --dir');
  if (name === undefined) {
    if (namespaces !== undefined) throw new UsageError('--publish-namespaces needs --publish-ca');
    return undefined;
  }
  if (!DNS_SUBDOMAIN.test(name))
    throw new UsageError(`--publish-ca: '${name}' is not a valid ConfigMap name`);
  if (namespaces === undefined) return { name };
  const list = namespaces
    .split(',')
    .map((ns) => ns.trim())
    .filter((ns) => ns !== '');
  for (const ns of list) {
    if (!DNS_LABEL.test(ns))
      throw new UsageError(`--publish-namespaces: '${ns}' is not a valid namespace name`);
  }
  if (list.length === 0) throw new UsageError('--publish-namespaces: no namespace given');
  return { name, namespaces: list };
}

function publishLine(name: string, result: PublishResult): string {
  const changed =
    result.changed.length === 0 ? 'nothing to change' : `ca.crt set in ${result.changed.join(', ')}`;
  const skipped =
    result.skipped.length === 0 ? '' : `; skipped ${result.skipped.join(', ')} (terminating or gone)`;
  return `configmap ${name}: ${changed}; ${String(result.unchanged)} already up to date${skipped}\n`;
}

/**
 * After the Secret's step: in trust-new the bundle already holds the new CA, and the relay serves
 * from it only a rotation step later (docs/relay.md).
 */
async function publishStep(
  kubeConfig: KubeConfig,
  publish: { name: string; namespaces?: string[] },
  bundle: string,
): Promise<string> {
  const published = await publishCaBundle(kubeConfig.makeApiClient(CoreV1Api), {
    ...publish,
    bundle,
    fieldManager: FIELD_MANAGER,
    labels: { 'app.kubernetes.io/name': 'sidekick', 'app.kubernetes.io/managed-by': 'sidekick-certs' },
  });
  return publishLine(publish.name, published);
}

function describeApiError(error: unknown): string {
  if (error instanceof ApiException) {
    const failure = error as ApiException<unknown>;
    const body: unknown = failure.body;
    const message =
      typeof body === 'string' ? (extractMessage(body) ?? body) : error instanceof Error ? error.message : '';
    return `the API answered ${String(failure.code)}: ${message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function extractMessage(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      'message' in parsed &&
      typeof parsed.message === 'string'
    ) {
      return parsed.message;
    }
  } catch {
    // not a Status
  }
  return undefined;
}

/** `--dir`: the files, and the caBundle to paste into a webhook configuration. */
async function writeFiles(
  dir: string,
  names: CertificateNames,
  validityMs: number,
  renewFraction: number,
  force: boolean | undefined,
): Promise<string> {
  const result = await ensureCertificateFiles(dir, names, { validityMs, renewFraction, force });
  const why = result.reason === undefined ? '' : ` (${result.reason})`;
  return (
    `${result.dir}: ${result.action}${why}: ca.crt, tls.crt, tls.key\n` +
    `caBundle: ${Buffer.from(result.ca).toString('base64')}\n`
  );
}

export const certs: Command = async (io) => {
  const { options, positionals } = parseOptions(SPECS, io.argv, io.env);
  if (options.help) {
    io.stdout.write(usage(USAGE_LINE, SPECS));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals.join(' ')}'`);
  const service = options.service ?? 'sidekick';
  const namespace = options.namespace ?? 'sidekick';
  const names = namesFor(service, namespace, options['dns-name'], options['ip-address']);
  const validityMs = parseValidityMs(options.validity, options.days);
  const renewFraction = parseFraction(options['renew-fraction']);
  const stepMs = parseStep(options['rotation-step']);
  const publish = parsePublish(options['publish-ca'], options['publish-namespaces'], options.dir);

  if (options.dir !== undefined) {
    io.stdout.write(await writeFiles(options.dir, names, validityMs, renewFraction, options.force));
    return 0;
  }

  const kubeConfig = loadKubeConfig(options.kubeconfig, io.env, ' (or use --dir)');
  const secretName = options.secret ?? 'sidekick-tls';
  const webhook = options.webhook ?? 'sidekick';
  const validating = options['validating-webhook'] ?? '';
  try {
    const result = await ensureClusterCertificates(kubeConfig, {
      namespace,
      secretName,
      ...(webhook === '' ? {} : { webhookConfiguration: webhook }),
      ...(validating === '' ? {} : { validatingWebhookConfiguration: validating }),
      names,
      validityMs,
      policy: { renewFraction, stepMs, ...(options.force ? { force: true } : {}) },
    });
    io.stdout.write(secretLine(`${namespace}/${secretName}`, result));
    io.stdout.write(mutatingLine(webhook, result.patched));
    if (validating !== '') io.stdout.write(validatingLine(validating, result.validatingPatched));
    if (publish) io.stdout.write(await publishStep(kubeConfig, publish, result.ca));
    return 0;
  } catch (error) {
    io.stderr.write(`sidekick certs: ${describeApiError(error)}\n`);
    return 1;
  }
};
