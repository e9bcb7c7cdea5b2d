// The request of every scenario: what the apiserver sends when a ReplicaSet creates a Pod that asks
// for log-shipper and db-proxy, and the check that its answer is a correct AdmissionReview.
import { isObject, type Json, type JsonObject } from '../../src/json.js';
import { admissionReview } from '../support/admission-review.js';
import {
  containerDefaults,
  schedulingDefaults,
  tokenMount,
  tokenVolume,
} from '../support/apiserver-defaults.js';

export const SIDECARS = ['log-shipper', 'db-proxy'];

const TOKEN = 'kube-api-access-x7k2p';

/** A Pod as the apiserver hands it to a webhook: defaulted, with the token volume, owned by a ReplicaSet. */
function replicaSetPod(): JsonObject {
  const env = Array.from({ length: 10 }, (_, i) => ({
    name: `SETTING_${String(i)}`,
    value: `value-${String(i)}`,
  }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'orders-api-7d9f8b6c5-',
      namespace: 'team-a',
      labels: { app: 'orders-api', 'pod-template-hash': '7d9f8b6c5', 'app.kubernetes.io/part-of': 'shop' },
      annotations: {
        'sidekick.dev/inject': 'log-shipper, db-proxy',
        'sidekick.dev/db-proxy.instance': 'shop-prod:us-central1:orders-db',
        'sidekick.dev/db-proxy.port': '5432',
        'sidekick.dev/log-shipper.path': '/var/log/orders',
        'sidekick.dev/log-shipper.files': '*.log',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'orders-api-7d9f8b6c5',
          uid: '6f1c2b9e-2c1f-4d8e-9b7a-3c5d1e2f4a6b',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      serviceAccountName: 'orders-api',
      containers: [
        {
          name: 'api',
          image: 'registry.example/shop/orders-api:3.14.2',
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          env,
          resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
          readinessProbe: {
            httpGet: { path: '/ready', port: 'http', scheme: 'HTTP' },
            periodSeconds: 5,
            timeoutSeconds: 1,
            successThreshold: 1,
            failureThreshold: 3,
          },
          volumeMounts: [tokenMount(TOKEN)],
          ...containerDefaults(),
          securityContext: {
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
        },
      ],
      volumes: [tokenVolume(TOKEN)],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      ...schedulingDefaults(),
    },
  };
}

const UID_MARK = '__UID__';

/** The request body, built once; each request only puts its own uid in. */
export function reviewBody(): (uid: string) => string {
  const review = admissionReview(UID_MARK, replicaSetPod(), {
    userInfo: {
      username: 'system:serviceaccount:kube-system:replicaset-controller',
      uid: '0b7e6f2d-9a51-4f0e-8d2c-6a1b3c4d5e6f',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
    },
  });
  const [before, after] = JSON.stringify(review).split(`"${UID_MARK}"`) as [string, string];
  return (uid) => `${before}"${uid}"${after}`;
}

export type Verdict = { ok: true; tag: string } | { ok: false; reason: string };

/**
 * A correct answer: an AdmissionReview for this uid that allows the Pod with a JSONPatch adding
 * the two sidecars as native sidecars. The tag is the db-proxy memory limit, which tells the
 * template generations of the template scenario apart.
 */
export function checkAnswer(body: string, uid: string): Verdict {
  let review: unknown;
  try {
    review = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  if (!isObject(review) || review.apiVersion !== 'admission.k8s.io/v1' || review.kind !== 'AdmissionReview') {
    return { ok: false, reason: 'not an admission.k8s.io/v1 AdmissionReview' };
  }
  const response = review.response;
  if (!isObject(response)) return { ok: false, reason: 'no response' };
  if (response.uid !== uid) return { ok: false, reason: 'wrong uid' };
  if (response.allowed !== true)
    return { ok: false, reason: `not allowed: ${JSON.stringify(response.status)}` };
  if (response.patchType !== 'JSONPatch' || typeof response.patch !== 'string') {
    return { ok: false, reason: 'no JSONPatch' };
  }
  let patch: unknown;
  try {
    patch = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
  } catch {
    return { ok: false, reason: 'patch is not base64 JSON' };
  }
  return checkPatch(patch);
}

function checkPatch(patch: unknown): Verdict {
  if (!Array.isArray(patch)) return { ok: false, reason: 'patch is not a list' };
  const init = patch.find(
    (op: Json) => isObject(op) && op.op === 'add' && op.path === '/spec/initContainers',
  ) as Json | undefined;
  if (!isObject(init) || !Array.isArray(init.value))
    return { ok: false, reason: 'patch adds no initContainers' };
  const sidecars = init.value.filter(isObject);
  const names = sidecars.map((c) => c.name);
  if (JSON.stringify(names) !== JSON.stringify(SIDECARS)) {
    return { ok: false, reason: `initContainers ${JSON.stringify(names)}` };
  }
  if (!sidecars.every((c) => c.restartPolicy === 'Always'))
    return { ok: false, reason: 'not native sidecars' };
  const proxy = sidecars[1];
  const limits = isObject(proxy?.resources) ? proxy.resources.limits : undefined;
  const memory = isObject(limits) ? limits.memory : undefined;
  if (typeof memory !== 'string') return { ok: false, reason: 'db-proxy without a memory limit' };
  return { ok: true, tag: memory };
}
