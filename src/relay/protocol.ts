// Relay wire protocol v1, shared by `sidekick relay` and `sidekick watch` in relay mode
// (docs/relay.md). Both sides import this module, so that framing and field names cannot drift.

/** The audience every subscriber token must carry: a token minted for anything else is refused. */
export const RELAY_AUDIENCE = 'sidekick-relay';
export const SUBSCRIBE_PATH = '/v1/subscribe';
/** Where config-watcher finds its projected token (re-read on every connect: kubelet rotates it). */
export const RELAY_TOKEN_PATH = '/var/run/secrets/sidekick.dev/relay/token';
export const RELAY_PORT = 8443;
export const RELAY_SERVICE = 'sidekick-relay';
/** A comment line this often keeps proxies from idling the stream out and reveals dead peers. */
export const PING_INTERVAL_MS = 15_000;
/** The pod-name and pod-uid keys of a bound token's TokenReview user.extra. */
export const POD_NAME_EXTRA = 'authentication.kubernetes.io/pod-name';
export const POD_UID_EXTRA = 'authentication.kubernetes.io/pod-uid';

export type ObjectKind = 'ConfigMap' | 'Secret';

export interface ObjectRef {
  kind: ObjectKind;
  name: string;
}

/** Full content, never a diff. Secret `data` values stay base64 as in the API. */
export interface ObjectPresent extends ObjectRef {
  resourceVersion: string;
  data: Record<string, string>;
  binaryData?: Record<string, string>;
}

export interface ObjectDeleted extends ObjectRef {
  deleted: true;
}

export type ObjectContent = ObjectPresent | ObjectDeleted;

export type RelayEvent =
  | { event: 'object'; object: ObjectContent }
  | { event: 'synced' }
  | { event: 'shutdown' }
  | { event: 'ping' };

export interface ErrorBody {
  error: string;
}

export function isDeleted(object: ObjectContent): object is ObjectDeleted {
  return 'deleted' in object;
}

/** One SSE frame: `event:` and a single `data:` line of JSON (JSON never holds a raw newline). */
export function serializeEvent(event: RelayEvent): string {
  switch (event.event) {
    case 'object':
      return `event: object\ndata: ${JSON.stringify(event.object)}\n\n`;
    case 'synced':
      return 'event: synced\ndata: {}\n\n';
    case 'shutdown':
      return 'event: shutdown\ndata: {}\n\n';
    case 'ping':
      return ': ping\n\n';
  }
}

/** `?configmap=a&configmap=b&secret=c` for a list of objects. */
export function subscribeQuery(objects: readonly ObjectRef[]): string {
  const params = new URLSearchParams();
  for (const object of objects)
    params.append(object.kind === 'ConfigMap' ? 'configmap' : 'secret', object.name);
  return `${SUBSCRIBE_PATH}?${params.toString()}`;
}

// A DNS-1123 subdomain, which is what ConfigMap and Secret names are.
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export type SubscribeRequest = { ok: true; objects: ObjectRef[] } | { ok: false; problem: string };

/** The objects of a subscribe URL's query, or why the request is malformed (400). */
export function parseSubscribeQuery(search: URLSearchParams): SubscribeRequest {
  const objects: ObjectRef[] = [];
  const seen = new Set<string>();
  for (const [key, name] of search) {
    if (key !== 'configmap' && key !== 'secret') {
      return { ok: false, problem: `unknown parameter ${JSON.stringify(key)} (only configmap and secret)` };
    }
    if (name.length > 253 || !OBJECT_NAME.test(name)) {
      return { ok: false, problem: `${key} ${JSON.stringify(name)} is not a valid object name` };
    }
    const kind: ObjectKind = key === 'configmap' ? 'ConfigMap' : 'Secret';
    const id = `${kind}/${name}`;
    if (seen.has(id)) continue;
    seen.add(id);
    objects.push({ kind, name });
  }
  if (objects.length === 0)
    return { ok: false, problem: 'name at least one configmap=<name> or secret=<name>' };
  return { ok: true, objects };
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') return undefined;
    Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Checks a decoded `object` event's data; throws naming the problem. */
export function parseObjectContent(data: unknown): ObjectContent {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new Error('object event data is not a JSON object');
  }
  const record = data as Record<string, unknown>;
  const { kind, name } = record;
  if (kind !== 'ConfigMap' && kind !== 'Secret')
    throw new Error(`object event has kind ${JSON.stringify(kind)}`);
  if (typeof name !== 'string' || name === '') throw new Error('object event has no name');
  if (record.deleted === true) return { kind, name, deleted: true };
  if (typeof record.resourceVersion !== 'string') throw new Error(`${kind} ${name}: no resourceVersion`);
  const content = stringRecord(record.data ?? {});
  if (content === undefined) throw new Error(`${kind} ${name}: data is not a map of strings`);
  const object: ObjectPresent = { kind, name, resourceVersion: record.resourceVersion, data: content };
  if (record.binaryData !== undefined) {
    const binary = stringRecord(record.binaryData);
    if (binary === undefined) throw new Error(`${kind} ${name}: binaryData is not a map of strings`);
    object.binaryData = binary;
  }
  return object;
}

/**
 * Incremental SSE decoder: feed it chunks as they arrive, get the complete events so far. Follows
 * the SSE field rules (CRLF or LF, `field: value` or `field:value`, comments) for what this
 * protocol sends; an event of a name it does not know is an error, since both ends are ours.
 */
export class EventParser {
  private buffer = '';
  private eventName = '';
  private dataLines: string[] = [];
  private comment = false;

  push(chunk: string): RelayEvent[] {
    this.buffer += chunk;
    const events: RelayEvent[] = [];
    for (;;) {
      const newline = this.buffer.search(/\r\n|\n|\r/);
      if (newline === -1) break;
      const width = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
      // A lone CR at the very end may be the first half of a CRLF still in flight.
      if (width === 1 && this.buffer[newline] === '\r' && newline === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + width);
      const event = this.line(line);
      if (event !== undefined) events.push(event);
    }
    return events;
  }

  private line(line: string): RelayEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) {
      if (line.slice(1).trim() === 'ping') this.comment = true;
      return undefined;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.eventName = value;
    else if (field === 'data') this.dataLines.push(value);
    return undefined;
  }

  private dispatch(): RelayEvent | undefined {
    const name = this.eventName;
    const data = this.dataLines.join('\n');
    const ping = this.comment;
    this.eventName = '';
    this.dataLines = [];
    this.comment = false;
    if (name === '' && data === '') return ping ? { event: 'ping' } : undefined;
    if (name === 'synced') return { event: 'synced' };
    if (name === 'shutdown') return { event: 'shutdown' };
    if (name === 'object') {
      let decoded: unknown;
      try {
        decoded = JSON.parse(data);
      } catch {
        throw new Error(`object event data is not JSON: ${data.slice(0, 80)}`);
      }
      return { event: 'object', object: parseObjectContent(decoded) };
    }
    throw new Error(`unknown relay event ${JSON.stringify(name)}`);
  }
}
