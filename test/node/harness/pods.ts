// Reading what happened on the node, through the API as a user would: Pod and container status,
// and container logs with the runtime's nanosecond timestamps (`kubectl logs --timestamps`).
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { isObject, type Json, type JsonObject } from '../../../src/json.js';
import type { KubeClient } from '../../e2e/harness/kube.js';
import { waitFor } from '../../e2e/harness/wait.js';
import { APP_IMAGE } from '../setup/images.js';
import { NODE_NAME } from './node.js';

export interface LogLine {
  /** When the runtime read the line, in ms since the epoch (sub-millisecond as a fraction). */
  at: number;
  text: string;
  /** For the suite's own programs (`event key="value"…`): the event and its fields. */
  event?: string;
  fields: Record<string, string>;
}

/** RFC 3339 with up to nanoseconds, to fractional milliseconds (Date.parse stops at ms). */
export function parseTime(text: string): number {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!match?.[1] || !match[3]) throw new Error(`not an RFC 3339 time: ${text}`);
  const whole = Date.parse(`${match[1]}${match[3]}`);
  const fraction = match[2] === undefined ? 0 : Number(`0.${match[2]}`) * 1000;
  return whole + fraction;
}

export function parseLogLine(line: string): LogLine {
  const space = line.indexOf(' ');
  const at = parseTime(line.slice(0, space));
  const text = line.slice(space + 1);
  const fields: Record<string, string> = {};
  const event = /^([A-Za-z][\w-]*)(?= |$)/.exec(text)?.[1];
  for (const match of text.matchAll(/ ([\w-]+)="((?:[^"\\]|\\.)*)"/g)) {
    fields[match[1] ?? ''] = JSON.parse(`"${match[2] ?? ''}"`) as string;
  }
  return event === undefined ? { at, text, fields } : { at, text, event, fields };
}

const podPath = (namespace: string, name: string): string => `/api/v1/namespaces/${namespace}/pods/${name}`;

/** The container's log so far, with timestamps. */
export async function containerLog(
  api: KubeClient,
  namespace: string,
  pod: string,
  container: string,
): Promise<LogLine[]> {
  const response = await api.request('GET', `${podPath(namespace, pod)}/log`, {
    query: { container, timestamps: 'true' },
  });
  if (response.status !== 200 || typeof response.body !== 'string') {
    throw new Error(
      `logs of ${namespace}/${pod}/${container}: ${String(response.status)} ${JSON.stringify(response.body)}`,
    );
  }
  return response.body
    .split('\n')
    .filter((line) => line !== '')
    .map(parseLogLine);
}

/** A container's log as text, the previous run's when it has restarted (for failure reports). */
export async function rawLog(
  api: KubeClient,
  namespace: string,
  pod: string,
  container: string,
): Promise<string> {
  const response = await api.request('GET', `${podPath(namespace, pod)}/log`, {
    query: { container, previous: 'true' },
  });
  if (response.status === 200 && typeof response.body === 'string') return response.body;
  const current = await api.request('GET', `${podPath(namespace, pod)}/log`, { query: { container } });
  return typeof current.body === 'string' ? current.body : JSON.stringify(current.body);
}

/** The first line of `container`'s log that satisfies `match`, waiting for it. */
export function logLine(
  api: KubeClient,
  namespace: string,
  pod: string,
  container: string,
  match: (line: LogLine) => boolean,
  timeoutMs = 60_000,
): Promise<LogLine> {
  return waitFor(async () => (await containerLog(api, namespace, pod, container)).find(match), {
    timeoutMs,
    intervalMs: 250,
    what: `a matching line in the log of ${namespace}/${pod}/${container}`,
  });
}

/**
 * `kubectl logs -f --timestamps`: every line until the container ends. Started before a Pod is
 * deleted, it keeps what the containers print while they stop, after which the logs are gone.
 */
export class LogFollower {
  readonly lines: LogLine[] = [];
  readonly ended: Promise<void>;
  private partial = '';

  private constructor(request: (follower: LogFollower, done: () => void) => void) {
    this.ended = new Promise((resolve) => {
      request(this, resolve);
    });
  }

  static async start(
    api: KubeClient,
    namespace: string,
    pod: string,
    container: string,
  ): Promise<LogFollower> {
    const server = api.kubeConfig.getCurrentCluster()?.server ?? '';
    const url = new URL(`${podPath(namespace, pod)}/log`, server);
    url.searchParams.set('container', container);
    url.searchParams.set('follow', 'true');
    url.searchParams.set('timestamps', 'true');
    const options: RequestOptions = { method: 'GET' };
    await api.kubeConfig.applyToHTTPSOptions(options);
    return new LogFollower((follower, done) => {
      const req = httpsRequest(url, options, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          follower.take(chunk);
        });
        res.on('end', done);
        res.on('error', done);
      });
      req.on('error', done);
      req.end();
    });
  }

  private take(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) if (line !== '') this.lines.push(parseLogLine(line));
  }

  find(event: string): LogLine | undefined {
    return this.lines.find((line) => line.event === event || line.text.includes(event));
  }
}

export async function getPod(api: KubeClient, namespace: string, name: string): Promise<JsonObject> {
  return api.get(podPath(namespace, name));
}

/** Polls the Pod until `ready` says it is as wanted; the error says what it looked like last. */
export async function waitForPod(
  api: KubeClient,
  namespace: string,
  name: string,
  what: string,
  ready: (pod: JsonObject) => boolean,
  timeoutMs = 120_000,
): Promise<JsonObject> {
  let last: JsonObject | undefined;
  try {
    return await waitFor(
      async () => {
        last = await getPod(api, namespace, name);
        return ready(last) ? last : undefined;
      },
      { timeoutMs, intervalMs: 250, what: `${namespace}/${name} ${what}` },
    );
  } catch (error) {
    throw new Error(
      `${String(error)}\nlast status: ${JSON.stringify(isObject(last?.status) ? last.status : last)}`,
      {
        cause: error,
      },
    );
  }
}

function statuses(pod: JsonObject, key: 'initContainerStatuses' | 'containerStatuses'): JsonObject[] {
  const status = isObject(pod.status) ? pod.status : {};
  const list = status[key];
  return Array.isArray(list) ? list.filter(isObject) : [];
}

export function containerStatus(pod: JsonObject, name: string): JsonObject | undefined {
  return [...statuses(pod, 'initContainerStatuses'), ...statuses(pod, 'containerStatuses')].find(
    (s) => s.name === name,
  );
}

export function stateOf(
  status: JsonObject | undefined,
  state: 'running' | 'terminated' | 'waiting',
): JsonObject | undefined {
  const states = status && isObject(status.state) ? status.state : {};
  const found = states[state];
  return isObject(found) ? found : undefined;
}

/** Every named container has started (a sidecar: its startupProbe passed) and is running. */
export function allRunning(pod: JsonObject, names: readonly string[]): boolean {
  return names.every((name) => {
    const status = containerStatus(pod, name);
    return status?.started === true && stateOf(status, 'running') !== undefined;
  });
}

/** A field that must be a string, as a string ('' otherwise). */
export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function nameOf(object: JsonObject | undefined): string {
  return object && isObject(object.metadata) ? str(object.metadata.name) : '';
}

export function phaseOf(pod: JsonObject): string {
  return isObject(pod.status) && typeof pod.status.phase === 'string' ? pod.status.phase : '';
}

/** A container's securityContext under the restricted profile, with no user of its own. */
export const RESTRICTED_CONTAINER: JsonObject = {
  allowPrivilegeEscalation: false,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
  readOnlyRootFilesystem: true,
};

/** The Pod runs as the app image's user (1000), sidecars without a user of their own too. */
export const AS_APP_USER: JsonObject = {
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 1000,
  seccompProfile: { type: 'RuntimeDefault' },
};

/** The app's config file: ConfigMap `configMap`'s config.txt at /etc/app/config.txt. */
export function configVolume(configMap: string): { mount: JsonObject; volume: JsonObject } {
  return {
    mount: { volumeMounts: [{ name: 'config', mountPath: '/etc/app' }] },
    volume: { name: 'config', configMap: { name: configMap } },
  };
}

/** A container of the suite's app image, restricted, running `command` (one of /bin/app…). */
export function appContainer(name: string, command: string[], extra: JsonObject = {}): JsonObject {
  return {
    name,
    image: APP_IMAGE,
    imagePullPolicy: 'Never',
    command,
    securityContext: RESTRICTED_CONTAINER,
    ...extra,
  };
}

/** A Pod bound to the node (there is no scheduler), restricted, with `annotations`. */
export function nodePod(options: {
  name: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  spec: JsonObject;
}): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name,
      ...(options.labels ? { labels: options.labels } : {}),
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec: podSpecOnNode(options.spec),
  };
}

export function podSpecOnNode(spec: JsonObject): JsonObject {
  return {
    nodeName: NODE_NAME,
    terminationGracePeriodSeconds: 10,
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    ...spec,
  };
}

/** A Secret with a service account key file the proxy can parse (never used to log in). */
export function fakeServiceAccountKey(privateKeyPem: string): Json {
  return {
    type: 'service_account',
    project_id: 'sidekick-node-suite',
    private_key_id: '0',
    private_key: privateKeyPem,
    client_email: 'proxy@sidekick-node-suite.iam.gserviceaccount.com',
    client_id: '1',
    token_uri: 'https://oauth2.googleapis.com/token',
  };
}
