import assert from 'node:assert/strict';
import { isObject, type Json, type JsonObject } from '../../../src/json.js';

export const PREFIX = 'sidekick.dev';
export const INJECT = `${PREFIX}/inject`;
export const STATUS = `${PREFIX}/status`;

const RESTRICTED_CONTAINER_SECURITY: JsonObject = {
  allowPrivilegeEscalation: false,
  runAsNonRoot: true,
  runAsUser: 10001,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/**
 * A Pod spec that passes the restricted Pod Security Standard on its own, with a migration init
 * container (sidecars go before it) and a ConfigMap volume (config-watcher's default target).
 */
export function podSpec(): JsonObject {
  return {
    // The containers' UID for the Pod too: config-watcher in signal mode runs as the Pod's UID, and
    // is refused when that cannot be the app's.
    securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    initContainers: [
      {
        name: 'migrate',
        image: 'registry.k8s.io/e2e-test-images/busybox:1.36.1-1',
        command: ['true'],
        securityContext: RESTRICTED_CONTAINER_SECURITY,
      },
    ],
    containers: [
      {
        name: 'app',
        image: 'registry.k8s.io/pause:3.10',
        securityContext: RESTRICTED_CONTAINER_SECURITY,
        volumeMounts: [{ name: 'config', mountPath: '/etc/app' }],
      },
    ],
    volumes: [{ name: 'config', configMap: { name: 'app-config' } }],
  };
}

export interface PodOptions {
  name?: string;
  generateName?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export function pod(options: PodOptions): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.generateName === undefined ? {} : { generateName: options.generateName }),
      annotations: options.annotations ?? {},
      labels: options.labels ?? {},
    },
    spec: podSpec(),
  };
}

/** Pod template metadata and spec for a workload. */
export function podTemplate(labels: Record<string, string>, annotations: Record<string, string>): JsonObject {
  return { metadata: { labels, annotations }, spec: podSpec() };
}

/** A Job's Pod template: Jobs need restartPolicy Never or OnFailure. */
export function jobPodTemplate(
  labels: Record<string, string>,
  annotations: Record<string, string>,
): JsonObject {
  return { metadata: { labels, annotations }, spec: { ...podSpec(), restartPolicy: 'Never' } };
}

/** A string field, or a marker that shows up in an assertion's message when it is not one. */
export function str(value: Json | undefined): string {
  return typeof value === 'string' ? value : `(not a string: ${JSON.stringify(value ?? null)})`;
}

function list(value: Json | undefined): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

export function specOf(object: JsonObject): JsonObject {
  if (!isObject(object.spec)) throw new Error(`no spec in ${JSON.stringify(object).slice(0, 200)}`);
  return object.spec;
}

export function initContainers(object: JsonObject): JsonObject[] {
  return list(specOf(object).initContainers);
}

export function initContainerNames(object: JsonObject): string[] {
  return initContainers(object).map((c) => str(c.name));
}

export function containers(object: JsonObject): JsonObject[] {
  return list(specOf(object).containers);
}

/** Init containers that are native sidecars (restartPolicy: Always), in start order. */
export function nativeSidecarNames(object: JsonObject): string[] {
  return initContainers(object)
    .filter((c) => c.restartPolicy === 'Always')
    .map((c) => str(c.name));
}

export function annotationsOf(object: JsonObject): Record<string, string> {
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const annotations = isObject(metadata.annotations) ? metadata.annotations : {};
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(annotations)) if (typeof value === 'string') result[key] = value;
  return result;
}

export function nameOf(object: JsonObject): string {
  const metadata = isObject(object.metadata) ? object.metadata : {};
  return str(metadata.name);
}

/** The sidecars the status annotation records, or undefined when the Pod has none. */
export function statusSidecars(object: JsonObject): string[] | undefined {
  const status = annotationsOf(object)[STATUS];
  if (status === undefined) return undefined;
  const parsed = JSON.parse(status) as Json;
  if (!isObject(parsed) || !Array.isArray(parsed.sidecars)) throw new Error(`malformed ${STATUS}: ${status}`);
  return parsed.sidecars.map(String);
}

/** Follows a path of keys and indexes; fails the test when a step is missing. */
export function at(value: Json | undefined, ...path: (string | number)[]): Json {
  let current: Json | undefined = value;
  for (const step of path) {
    if (typeof step === 'number') current = Array.isArray(current) ? current[step] : undefined;
    else current = isObject(current) ? current[step] : undefined;
    assert.ok(current !== undefined, `missing ${path.join('.')}`);
  }
  return current as Json;
}

/** `at`, and the value must be an object. */
export function objectAt(value: Json | undefined, ...path: (string | number)[]): JsonObject {
  const found = at(value, ...path);
  assert.ok(isObject(found), `${path.join('.')} is not an object`);
  return found;
}

/** `at`, and the value must be a list of strings. */
export function stringsAt(value: Json | undefined, ...path: (string | number)[]): string[] {
  const found = at(value, ...path);
  assert.ok(
    Array.isArray(found) && found.every((item) => typeof item === 'string'),
    `${path.join('.')} is not a list of strings`,
  );
  return found;
}
