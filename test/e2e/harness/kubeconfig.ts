import { stringify } from 'yaml';

export type KubeconfigUser = { clientCert: string; clientKey: string } | { token: string };

const b64 = (pem: string): string => Buffer.from(pem).toString('base64');

/** A kubeconfig with one cluster, one user and one context, as `kubectl` and client-node read it. */
export function kubeconfigYaml(
  server: string,
  caPem: string,
  user: KubeconfigUser,
  namespace = 'default',
): string {
  const credentials =
    'token' in user
      ? { token: user.token }
      : { 'client-certificate-data': b64(user.clientCert), 'client-key-data': b64(user.clientKey) };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: 'e2e', user: credentials }],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'e2e', namespace } }],
    'current-context': 'e2e',
  });
}
