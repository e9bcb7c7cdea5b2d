// A stand-in for cert-manager, named as one: no cert-manager controller runs in this suite (its
// CRDs do, so the apiserver validates the Certificate and Issuer objects as in a cluster with it).
// It does, from what the apiserver stored, what the two cert-manager parts sidekick relies on do:
// - the certificate controller: a Certificate's kubernetes.io/tls Secret (spec.secretName, with
//   tls.crt, tls.key and ca.crt) for its dnsNames. The material is issued by `sidekick certs`, not
//   by cert-manager's issuers: the renderings' self-signed Issuer -> CA Certificate -> CA Issuer
//   chain is collapsed into the one CA sidekick certs makes. 127.0.0.1 is added to the names,
//   because the webhook here is a local server reached by URL instead of the Service;
// - the CA injector (cainjector): every webhook configuration annotated
//   cert-manager.io/inject-ca-from: <namespace>/<certificate> gets that Certificate's Secret's
//   ca.crt as every webhook's clientConfig.caBundle.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isObject, type JsonObject } from '../../../src/json.js';
import { runSidekick } from './cli.js';
import type { E2eEnvironment } from './environment.js';
import { at, str, stringsAt } from './objects.js';

export const INJECT_CA_FROM = 'cert-manager.io/inject-ca-from';
const CONFIGURATIONS = [
  '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
  '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
];

const certificatePath = (namespace: string, name: string): string =>
  `/apis/cert-manager.io/v1/namespaces/${namespace}/certificates/${name}`;
export const secretPath = (namespace: string, name: string): string =>
  `/api/v1/namespaces/${namespace}/secrets/${name}`;

/**
 * A kubernetes.io/tls Secret issued by `sidekick certs` (as the cluster admin) for these names,
 * with no webhook configuration patched; returns its CA (PEM). Also what a user of
 * certificates.mode=provided brings from a PKI of their own.
 */
export async function issueTlsSecret(
  env: E2eEnvironment,
  namespace: string,
  secret: string,
  dnsNames: readonly string[],
): Promise<string> {
  const home = join(env.cp.dir, `issue-${namespace}-${secret}`);
  await mkdir(home, { recursive: true });
  const issued = await runSidekick(
    [
      'certs',
      `--kubeconfig=${env.cp.kubeconfigPath}`,
      `--namespace=${namespace}`,
      `--secret=${secret}`,
      '--webhook=',
      '--validating-webhook=',
      ...dnsNames.map((name) => `--dns-name=${name}`),
      '--ip-address=127.0.0.1',
    ],
    home,
  );
  assert.equal(issued.code, 0, issued.stderr);
  const stored = await env.api.get(secretPath(namespace, secret));
  assert.equal(stored.type, 'kubernetes.io/tls');
  const data = (key: string): string => Buffer.from(str(at(stored, 'data', key)), 'base64').toString();
  const names = new X509Certificate(data('tls.crt')).subjectAltName ?? '';
  for (const name of dnsNames) assert.ok(names.split(', ').includes(`DNS:${name}`), `${name} in ${names}`);
  return data('ca.crt');
}

/** The certificate controller's part: the Secret of the stored Certificate `namespace/name`. */
export async function issueCertificate(
  env: E2eEnvironment,
  namespace: string,
  name: string,
): Promise<string> {
  const certificate = await env.api.get(certificatePath(namespace, name));
  const dnsNames = stringsAt(certificate, 'spec', 'dnsNames');
  assert.ok(dnsNames.length > 0, `Certificate ${namespace}/${name} has dnsNames`);
  return issueTlsSecret(env, namespace, str(at(certificate, 'spec', 'secretName')), dnsNames);
}

/**
 * cainjector's part: the caBundle of every webhook of every annotated configuration, from the
 * annotation's Certificate's Secret; returns the configurations it injected, by name.
 */
export async function injectCa(env: E2eEnvironment): Promise<string[]> {
  const injected: string[] = [];
  for (const collection of CONFIGURATIONS) {
    const list = await env.api.get(collection);
    for (const config of Array.isArray(list.items) ? list.items.filter(isObject) : []) {
      const metadata = isObject(config.metadata) ? config.metadata : {};
      const from = isObject(metadata.annotations) ? metadata.annotations[INJECT_CA_FROM] : undefined;
      if (typeof from !== 'string') continue;
      const [namespace, name, ...rest] = from.split('/');
      assert.ok(namespace && name && rest.length === 0, `${INJECT_CA_FROM}: ${from}`);
      const certificate = await env.api.get(certificatePath(namespace, name));
      const secret = await env.api.get(secretPath(namespace, str(at(certificate, 'spec', 'secretName'))));
      const ca = str(at(secret, 'data', 'ca.crt'));
      const updated: JsonObject = structuredClone(config);
      for (const webhook of Array.isArray(updated.webhooks) ? updated.webhooks.filter(isObject) : []) {
        if (isObject(webhook.clientConfig)) webhook.clientConfig.caBundle = ca;
      }
      const configName = str(at(config, 'metadata', 'name'));
      await env.api.call('PUT', `${collection}/${configName}`, {
        body: updated,
        query: { fieldManager: 'cainjector-stand-in', fieldValidation: 'Strict' },
      });
      injected.push(configName);
    }
  }
  return injected.sort();
}
