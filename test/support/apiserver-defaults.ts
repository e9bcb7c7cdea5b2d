import type { JsonObject } from '../../src/json.js';

/**
 * What the apiserver adds to a Pod before mutating webhooks see it: the service-account token
 * volume and its mount (the ServiceAccount admission plugin), and the fields defaulting and the
 * DefaultTolerationSeconds plugin set. Shared by the reviews of the faults suite and the bench, so
 * that both send what a real apiserver would.
 */
export function tokenVolume(name: string): JsonObject {
  return {
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
    },
  };
}

export function tokenMount(name: string): JsonObject {
  return { name, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true };
}

/** Defaulted fields of every container. */
export function containerDefaults(): JsonObject {
  return {
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  };
}

/** Defaulted scheduling fields of the Pod spec, with the two default tolerations. */
export function schedulingDefaults(): JsonObject {
  const toleration = (key: string): JsonObject => ({
    key,
    operator: 'Exists',
    effect: 'NoExecute',
    tolerationSeconds: 300,
  });
  return {
    schedulerName: 'default-scheduler',
    tolerations: [toleration('node.kubernetes.io/not-ready'), toleration('node.kubernetes.io/unreachable')],
    priority: 0,
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
  };
}
