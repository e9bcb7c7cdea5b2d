import { X509Certificate } from 'node:crypto';
import { get } from 'node:https';
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import { isArray, isObject, type JsonObject } from '../json.js';
import { RENEW_BEFORE_MS } from '../certs/validity.js';
import { ApiError, type RawApi } from './raw-api.js';

/** What `sidekick check` found about one way the apiserver calls the webhook. */
export interface WebhookHealth {
  /** `MutatingWebhookConfiguration sidekick`, with the webhooks that call the same endpoint. */
  object: string;
  problems: string[];
  notes: string[];
}

export interface HealthOptions {
  /** The Secret with the serving certificate, for webhooks called through a Service. */
  secret: string;
  now?: number;
}

const DAY_MS = 86_400_000;

function bundleOf(webhook: JsonObject): X509Certificate[] {
  const config = isObject(webhook.clientConfig) ? webhook.clientConfig : {};
  if (typeof config.caBundle !== 'string' || config.caBundle === '') return [];
  const pem = Buffer.from(config.caBundle, 'base64').toString('utf8');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.flatMap((block) => {
    try {
      return [new X509Certificate(block)];
    } catch {
      return [];
    }
  });
}

/** Does the caBundle trust the certificate, for how long, and does it name the host? */
function judgeCertificate(
  cert: X509Certificate,
  bundle: readonly X509Certificate[],
  host: string,
  now: number,
  into: WebhookHealth,
): void {
  if (bundle.length === 0)
    into.problems.push('the caBundle is empty or unreadable: the apiserver cannot call the webhook');
  else if (!bundle.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) {
    into.problems.push(
      'the caBundle does not trust the serving certificate: every call fails TLS verification',
    );
  } else into.notes.push('the caBundle trusts the serving certificate');
  const days = Math.floor((Date.parse(cert.validTo) - now) / DAY_MS);
  if (days < 0) into.problems.push(`the serving certificate expired ${cert.validTo}`);
  else if (Date.parse(cert.validTo) - now < RENEW_BEFORE_MS) {
    into.problems.push(`the serving certificate expires in ${String(days)} days (renewal is overdue)`);
  } else into.notes.push(`the serving certificate expires in ${String(days)} days`);
  const named = isIP(host) !== 0 ? cert.checkIP(host) : cert.checkHost(host, { wildcards: false });
  if (named === undefined) into.problems.push(`the serving certificate does not name ${host}`);
}

function peerCertificate(host: string, port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      // Only to read the certificate: whether it is trusted is judged against the caBundle.
      rejectUnauthorized: false,
      timeout: 10_000,
    });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      if (cert) resolve(cert);
      else reject(new Error('no certificate presented'));
    });
    socket.once('timeout', () => socket.destroy(new Error('no TLS handshake in 10 s')));
    socket.once('error', reject);
  });
}

function readyz(origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(`${origin}/readyz`, { rejectUnauthorized: false, timeout: 10_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy(new Error('no answer in 10 s')));
    req.once('error', reject);
  });
}

async function urlHealth(
  url: URL,
  bundle: X509Certificate[],
  now: number,
  into: WebhookHealth,
): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  try {
    judgeCertificate(await peerCertificate(host, port), bundle, host, now, into);
    const status = await readyz(url.origin);
    if (status === 200) into.notes.push(`${url.origin}/readyz answers 200`);
    else into.problems.push(`${url.origin}/readyz answers ${String(status)}: not ready`);
  } catch (error) {
    into.problems.push(
      `cannot reach ${url.origin}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

async function serviceHealth(
  api: RawApi,
  service: JsonObject,
  bundle: X509Certificate[],
  options: HealthOptions,
  now: number,
  into: WebhookHealth,
): Promise<void> {
  const name = typeof service.name === 'string' ? service.name : '';
  const namespace = typeof service.namespace === 'string' ? service.namespace : '';
  try {
    const secret = await api.get(`/api/v1/namespaces/${namespace}/secrets/${options.secret}`);
    const data = isObject(secret.data) ? secret.data : {};
    const pem =
      typeof data['tls.crt'] === 'string' ? Buffer.from(data['tls.crt'], 'base64').toString('utf8') : '';
    judgeCertificate(new X509Certificate(pem), bundle, `${name}.${namespace}.svc`, now, into);
  } catch (error) {
    const why =
      error instanceof ApiError && error.status === 403
        ? 'forbidden'
        : error instanceof Error
          ? error.message
          : String(error);
    into.notes.push(
      `the serving certificate in Secret ${namespace}/${options.secret} was not checked: ${why}`,
    );
  }
  try {
    const slices = await api.list(
      `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${name}`)}`,
      'EndpointSlice',
    );
    const endpoints = slices.flatMap((s) => (isArray(s.endpoints) ? s.endpoints.filter(isObject) : []));
    const ready = endpoints.filter((e) => isObject(e.conditions) && e.conditions.ready === true).length;
    if (ready === 0)
      into.problems.push(
        `Service ${namespace}/${name} has no ready endpoints (${String(endpoints.length)} not ready)`,
      );
    else
      into.notes.push(
        `Service ${namespace}/${name}: ${String(ready)} of ${String(endpoints.length)} endpoints ready`,
      );
  } catch (error) {
    into.problems.push(
      `cannot read the endpoints of Service ${namespace}/${name}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** The webhooks of a configuration, grouped by the endpoint they call (one check for each). */
function byEndpoint(config: JsonObject): Map<string, JsonObject[]> {
  const groups = new Map<string, JsonObject[]>();
  for (const webhook of isArray(config.webhooks) ? config.webhooks.filter(isObject) : []) {
    const client = isObject(webhook.clientConfig) ? webhook.clientConfig : {};
    const key =
      typeof client.url === 'string' ? new URL(client.url).origin : JSON.stringify(client.service ?? null);
    groups.set(key, [...(groups.get(key) ?? []), webhook]);
  }
  return groups;
}

/** The health of every distinct endpoint a webhook configuration calls. */
export async function webhookHealth(
  api: RawApi,
  kind: string,
  config: JsonObject,
  options: HealthOptions,
): Promise<WebhookHealth[]> {
  const now = options.now ?? Date.now();
  const name =
    isObject(config.metadata) && typeof config.metadata.name === 'string' ? config.metadata.name : '';
  const out: WebhookHealth[] = [];
  for (const webhooks of byEndpoint(config).values()) {
    const first = webhooks[0] ?? {};
    const names = webhooks.map((w) => (typeof w.name === 'string' ? w.name : '')).join(', ');
    const health: WebhookHealth = { object: `${kind} ${name} (${names})`, problems: [], notes: [] };
    const client = isObject(first.clientConfig) ? first.clientConfig : {};
    const bundle = bundleOf(first);
    if (typeof client.url === 'string') await urlHealth(new URL(client.url), bundle, now, health);
    else if (isObject(client.service)) await serviceHealth(api, client.service, bundle, options, now, health);
    else health.problems.push('clientConfig has neither url nor service');
    out.push(health);
  }
  if (out.length === 0) out.push({ object: `${kind} ${name}`, problems: ['it has no webhooks'], notes: [] });
  return out;
}
