import type { JsonObject } from '../../src/json.js';
import { SIDECAR_ANNOTATIONS } from '../reviews.js';

/**
 * The Pod each create sends: a web app with a migration init container, asking for the three
 * sidecars of the in-process benchmark's Deployment Pod (bench/reviews.ts) with the same values.
 * `generateName`, so that one body creates a new Pod every time. In a namespace that is not opted
 * in the webhook is never called and the same body is stored as it is.
 */
export function benchPod(): JsonObject {
  const restricted = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
  };
  const image = 'registry.example/shop/web:1.42.7';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'web-',
      labels: { app: 'web', tier: 'frontend' },
      annotations: { ...SIDECAR_ANNOTATIONS },
    },
    spec: {
      initContainers: [
        {
          name: 'migrate',
          image,
          args: ['migrate', 'up'],
          env: [
            { name: 'DB_HOST', value: '127.0.0.1' },
            { name: 'DB_PORT', value: '5432' },
          ],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          securityContext: restricted,
        },
      ],
      containers: [
        {
          name: 'web',
          image,
          args: ['serve', '--listen=:8080'],
          ports: [{ name: 'http', containerPort: 8080 }],
          env: [
            { name: 'APP_ENV', value: 'production' },
            { name: 'DB_HOST', value: '127.0.0.1' },
            { name: 'SECRETS_FILE', value: '/vault/secrets/secret.json' },
          ],
          resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
          readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5 },
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          securityContext: restricted,
        },
      ],
      volumes: [{ name: 'tmp', emptyDir: {} }],
      securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
    },
  };
}
