import { isObject, type JsonObject } from '../src/json.js';
import { admissionReview } from '../test/support/admission-review.js';
import {
  containerDefaults,
  schedulingDefaults,
  tokenMount,
  tokenVolume,
} from '../test/support/apiserver-defaults.js';

/**
 * AdmissionReviews shaped like the ones the apiserver sends for a Pod CREATE: the object carries
 * what runs before mutating webhooks (managedFields from the field manager, the service-account
 * token volume, default tolerations), so its size is that of a real request.
 */

const NAMESPACE = 'shop';

/** As the ReplicaSet controller's request reaches the webhook, in the Deployment's namespace. */
function envelope(uid: string, pod: JsonObject): JsonObject {
  return admissionReview(uid, pod, {
    namespace: NAMESPACE,
    userInfo: {
      username: 'system:serviceaccount:kube-system:replicaset-controller',
      uid: '5b1a0c59-6d4b-4e7a-9a43-1f0e3c3f2a11',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
    },
  });
}

export const SIDECAR_ANNOTATIONS = {
  'sidekick.dev/inject': 'log-shipper, db-proxy, vault-agent',
  'sidekick.dev/db-proxy.instance': 'shop-prod:europe-west1:orders',
  'sidekick.dev/db-proxy.port': '5432',
  'sidekick.dev/vault-agent.role': 'web',
  'sidekick.dev/vault-agent.secret': 'secret/data/shop/web',
  'sidekick.dev/log-shipper.path': '/var/log/web',
};

const TOKEN = 'kube-api-access-7xq2k';

function probe(path: string, port: string, period: number): JsonObject {
  return {
    httpGet: { path, port, scheme: 'HTTP' },
    initialDelaySeconds: 5,
    periodSeconds: period,
    timeoutSeconds: 2,
    successThreshold: 1,
    failureThreshold: 3,
  };
}

const RESTRICTED = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

function envVar(name: string, value: string): JsonObject {
  return { name, value };
}

function webContainer(): JsonObject {
  return {
    name: 'web',
    image:
      'registry.example/shop/web:1.42.7@sha256:4b8e1c2f0d9a7e6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b',
    args: ['serve', '--listen=:8080', '--metrics=:9102'],
    ports: [
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9102, protocol: 'TCP' },
    ],
    env: [
      envVar('APP_ENV', 'production'),
      envVar('LOG_FORMAT', 'json'),
      envVar('LOG_DIR', '/var/log/web'),
      envVar('DB_HOST', '127.0.0.1'),
      envVar('DB_PORT', '5432'),
      envVar('DB_NAME', 'orders'),
      envVar('SECRETS_FILE', '/vault/secrets/secret.json'),
      envVar('OTEL_SERVICE_NAME', 'web'),
      envVar('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://otel-collector.observability.svc:4317'),
      envVar('CACHE_TTL', '30s'),
      envVar('FEATURE_FLAGS', 'checkout-v2,new-pricing,async-receipts'),
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
      {
        name: 'GOMEMLIMIT',
        valueFrom: { resourceFieldRef: { containerName: 'web', resource: 'limits.memory', divisor: '1' } },
      },
    ],
    envFrom: [{ configMapRef: { name: 'web-settings' } }],
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
    livenessProbe: probe('/healthz', 'http', 10),
    readinessProbe: probe('/readyz', 'http', 5),
    volumeMounts: [
      { name: 'config', mountPath: '/etc/web', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
      tokenMount(TOKEN),
    ],
    securityContext: RESTRICTED,
    ...containerDefaults(),
  };
}

function migrateContainer(): JsonObject {
  return {
    name: 'migrate',
    image:
      'registry.example/shop/web:1.42.7@sha256:4b8e1c2f0d9a7e6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b',
    args: ['migrate', 'up'],
    env: [envVar('DB_HOST', '127.0.0.1'), envVar('DB_PORT', '5432'), envVar('DB_NAME', 'orders')],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    volumeMounts: [tokenMount(TOKEN)],
    securityContext: RESTRICTED,
    ...containerDefaults(),
  };
}

/** The field manager's record of what kube-controller-manager set: a large part of a real Pod. */
function managedFields(): JsonObject[] {
  const container = {
    '.': {},
    'f:args': {},
    'f:env': {
      '.': {},
      'k:{"name":"APP_ENV"}': { '.': {}, 'f:name': {}, 'f:value': {} },
      'k:{"name":"LOG_FORMAT"}': { '.': {}, 'f:name': {}, 'f:value': {} },
      'k:{"name":"LOG_DIR"}': { '.': {}, 'f:name': {}, 'f:value': {} },
      'k:{"name":"DB_HOST"}': { '.': {}, 'f:name': {}, 'f:value': {} },
      'k:{"name":"DB_PORT"}': { '.': {}, 'f:name': {}, 'f:value': {} },
      'k:{"name":"DB_NAME"}': { '.': {}, 'f:name': {}, 'f:value': {} },
      'k:{"name":"SECRETS_FILE"}': { '.': {}, 'f:name': {}, 'f:value': {} },
      'k:{"name":"OTEL_SERVICE_NAME"}': { '.': {}, 'f:name': {}, 'f:value': {} },
      'k:{"name":"POD_NAME"}': { '.': {}, 'f:name': {}, 'f:valueFrom': { '.': {}, 'f:fieldRef': {} } },
      'k:{"name":"POD_IP"}': { '.': {}, 'f:name': {}, 'f:valueFrom': { '.': {}, 'f:fieldRef': {} } },
    },
    'f:envFrom': {},
    'f:image': {},
    'f:imagePullPolicy': {},
    'f:livenessProbe': { '.': {}, 'f:failureThreshold': {}, 'f:httpGet': { '.': {}, 'f:path': {} } },
    'f:name': {},
    'f:ports': {
      '.': {},
      'k:{"containerPort":8080,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:name': {} },
      'k:{"containerPort":9102,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:name': {} },
    },
    'f:readinessProbe': { '.': {}, 'f:failureThreshold': {}, 'f:httpGet': { '.': {}, 'f:path': {} } },
    'f:resources': { '.': {}, 'f:limits': { '.': {}, 'f:memory': {} }, 'f:requests': {} },
    'f:securityContext': { '.': {}, 'f:allowPrivilegeEscalation': {}, 'f:capabilities': {} },
    'f:volumeMounts': {
      '.': {},
      'k:{"mountPath":"/etc/web"}': { '.': {}, 'f:mountPath': {}, 'f:name': {}, 'f:readOnly': {} },
      'k:{"mountPath":"/tmp"}': { '.': {}, 'f:mountPath': {}, 'f:name': {} },
    },
  };
  return [
    {
      manager: 'kube-controller-manager',
      operation: 'Update',
      apiVersion: 'v1',
      time: '2025-06-02T09:14:27Z',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': {
          'f:annotations': Object.fromEntries(
            Object.keys(SIDECAR_ANNOTATIONS).map((key) => [`f:${key}`, {}]),
          ),
          'f:generateName': {},
          'f:labels': {
            '.': {},
            'f:app': {},
            'f:app.kubernetes.io/component': {},
            'f:app.kubernetes.io/instance': {},
            'f:app.kubernetes.io/managed-by': {},
            'f:app.kubernetes.io/name': {},
            'f:app.kubernetes.io/part-of': {},
            'f:pod-template-hash': {},
            'f:team': {},
            'f:version': {},
          },
          'f:ownerReferences': { '.': {}, 'k:{"uid":"0f0c7b5e-2c1d-4a8e-9b6f-7d3e2a1c0b9d"}': {} },
        },
        'f:spec': {
          'f:affinity': { '.': {}, 'f:podAntiAffinity': {} },
          'f:containers': { 'k:{"name":"web"}': container },
          'f:initContainers': { 'k:{"name":"migrate"}': { '.': {}, 'f:args': {}, 'f:image': {} } },
          'f:securityContext': { '.': {}, 'f:fsGroup': {}, 'f:runAsNonRoot': {}, 'f:seccompProfile': {} },
          'f:topologySpreadConstraints': { '.': {} },
          'f:volumes': {
            '.': {},
            'k:{"name":"config"}': { '.': {}, 'f:configMap': {}, 'f:name': {} },
            'k:{"name":"tmp"}': { '.': {}, 'f:emptyDir': {}, 'f:name': {} },
          },
        },
      },
    },
  ];
}

function deploymentPod(containers: JsonObject[] = [webContainer()]): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'web-6f9c8d7b5d-',
      namespace: NAMESPACE,
      creationTimestamp: null,
      labels: {
        app: 'web',
        'pod-template-hash': '6f9c8d7b5d',
        version: '1.42.7',
        team: 'checkout',
        'app.kubernetes.io/name': 'web',
        'app.kubernetes.io/instance': 'web-prod',
        'app.kubernetes.io/component': 'frontend',
        'app.kubernetes.io/part-of': 'shop',
        'app.kubernetes.io/managed-by': 'argocd',
      },
      annotations: {
        ...SIDECAR_ANNOTATIONS,
        'kubectl.kubernetes.io/restartedAt': '2025-06-02T09:14:20Z',
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9102',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web-6f9c8d7b5d',
          uid: '0f0c7b5e-2c1d-4a8e-9b6f-7d3e2a1c0b9d',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: managedFields(),
    },
    spec: {
      volumes: [
        { name: 'config', configMap: { name: 'web-config', defaultMode: 420 } },
        { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
        tokenVolume(TOKEN),
      ],
      initContainers: [migrateContainer()],
      containers,
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 45,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'web',
      serviceAccount: 'web',
      imagePullSecrets: [{ name: 'registry-example' }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      securityContext: { runAsNonRoot: true, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: {
                labelSelector: { matchLabels: { app: 'web' } },
                topologyKey: 'kubernetes.io/hostname',
              },
            },
          ],
        },
      },
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: 'topology.kubernetes.io/zone',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: { app: 'web' } },
        },
      ],
      ...schedulingDefaults(),
    },
    status: {},
  };
}

const UID = '3f6d2a9e-8c41-4b7d-a0e5-6c2b9f1d7e34';

/** A Deployment's Pod choosing three sidecars (about 9 KB as JSON). */
export function deploymentReview(): JsonObject {
  return envelope(UID, deploymentPod());
}

/** Entry `i` of a long env list: 150 bytes or so, as big ConfigMap-derived env lists are. */
function bigEnvVar(i: number): JsonObject {
  const key = `FEATURE_${String(i).padStart(4, '0')}`;
  return envVar(`${key}_SETTING`, `${key.toLowerCase()}=${'v'.repeat(76)};enabled=true`);
}

/** The Deployment's Pod with `n` entries in its app container's env (1,000: about 150 KB). */
export function envReview(n: number): JsonObject {
  const web = { ...webContainer(), env: Array.from({ length: n }, (_, i) => bigEnvVar(i)) };
  return envelope(UID, deploymentPod([web]));
}

/** The Deployment's Pod with `n` app containers (log-shipper mounts its volume into each). */
export function containersReview(n: number): JsonObject {
  // Workers: the web container without ports or probes.
  const workers = Array.from({ length: n - 1 }, (_, i) => {
    const worker: JsonObject = { ...webContainer(), name: `worker-${i + 1}` };
    for (const key of ['ports', 'livenessProbe', 'readinessProbe']) Reflect.deleteProperty(worker, key);
    return worker;
  });
  return envelope(UID, deploymentPod([webContainer(), ...workers]));
}

export const SIDECARS = ['vault-agent', 'db-proxy', 'log-shipper'] as const;

export interface NamedReview {
  name: string;
  text: string;
  /** Sent in turn instead of `text` alone, when given (`text` is the first). */
  variants?: string[];
}

/** More than a template keeps shared renderings of (256), so that every one is rendered anew. */
const DISTINCT_VARIANTS = 300;

/** The Deployment Pod with another database instance, port and Vault role each time. */
export function distinctDeploymentTexts(count = DISTINCT_VARIANTS): string[] {
  const base = JSON.stringify(deploymentReview());
  return Array.from({ length: count }, (_, i) => {
    const text = base
      .replace('shop-prod:europe-west1:orders', `shop-prod:europe-west1:orders-${i}`)
      .replace('"sidekick.dev/db-proxy.port":"5432"', `"sidekick.dev/db-proxy.port":"${5000 + i}"`)
      .replace('"sidekick.dev/vault-agent.role":"web"', `"sidekick.dev/vault-agent.role":"web-${i}"`);
    if (!text.includes(`orders-${i}`) || !text.includes(`web-${i}`)) {
      throw new Error('the Deployment Pod no longer has the annotations the variants change');
    }
    return text;
  });
}

/**
 * Not one of the reviews: Pods of one workload ask for the same sidecars, which sidekick
 * renders once and shares; this one shows the cost when no rendering is shared.
 */
export const DISTINCT_REVIEW = '9 KB Deployment Pod, new parameter values each time';

/** The saturated runs: the two reviews, and the first with new parameter values each time. */
export function saturatedReviews(): NamedReview[] {
  const variants = distinctDeploymentTexts();
  return [...loadReviews(), { name: DISTINCT_REVIEW, text: variants[0] ?? '', variants }];
}

/** The two reviews every server is loaded with. */
export function loadReviews(): NamedReview[] {
  return [
    { name: '9 KB Deployment Pod', text: JSON.stringify(deploymentReview()) },
    { name: '150 KB Pod, 1,000 env', text: JSON.stringify(envReview(1000)) },
  ];
}

/** The Deployment's Pod without the inject annotation: allowed unchanged. */
export function skippedReview(): JsonObject {
  const pod = deploymentPod();
  const metadata = pod.metadata;
  if (isObject(metadata)) metadata.annotations = { 'prometheus.io/scrape': 'true' };
  return envelope('a1c9e2b4-77d0-4f3e-8b25-0d6f4c1e9a52', pod);
}

/** The Deployment's Pod asking for a sidecar that does not exist (a typo): refused, with a hint. */
export function refusedReview(): JsonObject {
  const pod = deploymentPod();
  const metadata = pod.metadata;
  if (isObject(metadata)) metadata.annotations = { 'sidekick.dev/inject': 'db-proxi' };
  return envelope('5e0b7d3a-2f61-4c8e-9a14-b3d2e6f0c785', pod);
}
