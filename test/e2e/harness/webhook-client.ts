import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  generateCa,
  generateServingCertificate,
  type CertificateAuthority,
} from '../../../src/certs/generate.js';

/**
 * Mutual TLS from the apiserver to one webhook: a CA for webhook clients (not the cluster's), the
 * apiserver's client certificate from it, and the AdmissionConfiguration whose kubeconfig presents
 * that certificate to the webhook host `127.0.0.1:PORT` only. The apiserver picks a kubeconfig user
 * by the webhook's host:port; a kubeconfig without a current context gives every other webhook
 * no credentials, as before.
 */
export interface WebhookClientAuth {
  /** The webhook's port, chosen before the apiserver starts (its kubeconfig names it). */
  port: number;
  ca: CertificateAuthority;
  /** The CA for `sidekick serve --client-ca`. */
  caFile: string;
  /** What the apiserver presents. */
  cert: string;
  key: string;
  admissionConfigFile: string;
}

const b64 = (pem: string): string => Buffer.from(pem).toString('base64');

export async function writeWebhookClientAuth(dir: string, port: number): Promise<WebhookClientAuth> {
  const ca = await generateCa('sidekick-e2e-webhook-client-ca', 30);
  const client = await generateServingCertificate({
    ca,
    days: 3,
    dnsNames: ['kube-apiserver-webhook-client'],
    usage: 'client',
  });
  const caFile = join(dir, 'webhook-client-ca.crt');
  const kubeconfigFile = join(dir, 'webhook-client.kubeconfig');
  const admissionConfigFile = join(dir, 'admission-configuration.yaml');
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    users: [
      {
        name: `127.0.0.1:${String(port)}`,
        user: { 'client-certificate-data': b64(client.cert), 'client-key-data': b64(client.key) },
      },
    ],
  };
  const admission = {
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AdmissionConfiguration',
    plugins: [
      {
        name: 'MutatingAdmissionWebhook',
        configuration: {
          apiVersion: 'apiserver.config.k8s.io/v1',
          kind: 'WebhookAdmissionConfiguration',
          kubeConfigFile: kubeconfigFile,
        },
      },
    ],
  };
  await Promise.all([
    writeFile(caFile, ca.cert),
    writeFile(kubeconfigFile, stringify(kubeconfig), { mode: 0o600 }),
    writeFile(admissionConfigFile, stringify(admission)),
  ]);
  return { port, ca, caFile, cert: client.cert, key: client.key, admissionConfigFile };
}
