import { createSign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isObject, type JsonObject } from '../../../src/json.js';
import type { KubeClient } from './kube.js';

/** A Pod with the volumes given, for tokens to be bound to (no node: it stays Pending). */
export async function createPod(
  api: KubeClient,
  namespace: string,
  name: string,
  volumes: (JsonObject & { name: string })[],
): Promise<JsonObject> {
  const { object } = await api.call('POST', `/api/v1/namespaces/${namespace}/pods`, {
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'registry.k8s.io/pause:3.10',
            volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: `/etc/${v.name}` })),
          },
        ],
        volumes,
      },
    },
  });
  return object;
}

export function uidOf(object: JsonObject): string {
  const meta = object.metadata;
  if (!isObject(meta) || typeof meta.uid !== 'string') throw new Error('object without a uid');
  return meta.uid;
}

/**
 * A real projected-style token from the TokenRequest API, bound to the Pod (as kubelet would
 * mint for a projected serviceAccountToken volume with this audience).
 */
export async function podToken(
  api: KubeClient,
  namespace: string,
  pod: JsonObject,
  audiences: readonly string[] = ['sidekick-relay'],
  serviceAccount = 'default',
): Promise<string> {
  const meta = isObject(pod.metadata) ? pod.metadata : {};
  const { object } = await api.call(
    'POST',
    `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          audiences: [...audiences],
          expirationSeconds: 600,
          boundObjectRef: {
            apiVersion: 'v1',
            kind: 'Pod',
            name: typeof meta.name === 'string' ? meta.name : '',
            uid: uidOf(pod),
          },
        },
      },
    },
  );
  const status = isObject(object.status) ? object.status : {};
  if (typeof status.token !== 'string') throw new Error('TokenRequest gave no token');
  return status.token;
}

/**
 * The same token with its validity moved into the past, signed again with the cluster's own
 * service-account signing key. TokenRequest will not mint a token shorter than 10 minutes, and
 * waiting that long is no test; every other claim (issuer, audience, the Pod) stays as the
 * apiserver issued it, so expiry is the one thing wrong with it.
 */
export async function expiredCopy(token: string, signingKeyFile: string): Promise<string> {
  const [header, payload] = token.split('.');
  if (header === undefined || payload === undefined) throw new Error('not a JWT');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const now = Math.floor(Date.now() / 1000);
  claims.iat = now - 1200;
  claims.nbf = now - 1200;
  claims.exp = now - 600;
  const body = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = createSign('RSA-SHA256')
    .update(body)
    .sign(await readFile(signingKeyFile, 'utf8'));
  return `${body}.${signature.toString('base64url')}`;
}
