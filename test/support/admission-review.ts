import type { JsonObject } from '../../src/json.js';

/**
 * An admission.k8s.io/v1 AdmissionReview as the apiserver sends it when a ReplicaSet creates a Pod
 * in team-a; `request` replaces any of the request's fields (keeping their place in the JSON).
 */
export function admissionReview(
  uid: string,
  object: JsonObject | string | null,
  request: JsonObject = {},
): JsonObject {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'team-a',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
      object,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
      ...request,
    },
  };
}
