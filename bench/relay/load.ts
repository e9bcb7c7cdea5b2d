// The subscriber load: one process holding many relay streams (or, for comparison, as many direct
// watches on the apiserver). Driven by its parent over IPC: it reports when every stream is up,
// and, asked for a version, the epoch-ms arrival time of that version on each stream.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { subscribe } from '../../test/support/relay-stream.js';

export interface LoadConfig {
  mode: 'relay' | 'direct';
  count: number;
  configMap: string;
  namespace: string;
  /** relay mode */
  origin?: string;
  caFile?: string;
  tokens?: string[];
  /** direct mode */
  kubeconfigPath?: string;
}

export type LoadMessage =
  | { type: 'ready'; streams: number; failed: number; setupMs: number }
  | { type: 'arrivals'; version: string; arrivals: number[]; missing: number; duplicates: number };

const epochNow = (): number => performance.timeOrigin + performance.now();
const config = JSON.parse(process.env.RELAY_LOAD_CONFIG ?? '{}') as LoadConfig;
/** version → arrival times (one per stream that got it) */
const arrivals = new Map<string, number[]>();
const seenBy = new Map<string, Set<number>>();
let duplicates = 0;

function record(stream: number, version: string | undefined, at: number): void {
  if (version === undefined) return;
  let seen = seenBy.get(version);
  if (seen === undefined) seenBy.set(version, (seen = new Set()));
  if (seen.has(stream)) {
    duplicates++;
    return;
  }
  seen.add(stream);
  let list = arrivals.get(version);
  if (list === undefined) arrivals.set(version, (list = []));
  list.push(at);
}

async function relayStreams(): Promise<number> {
  const ca = readFileSync(config.caFile ?? '', 'utf8');
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const tokens = config.tokens ?? [];
  let failed = 0;
  const open = async (i: number): Promise<void> => {
    const stream = await subscribe({
      origin: config.origin ?? '',
      ca,
      agent,
      token: tokens[i % tokens.length],
      objects: [{ kind: 'ConfigMap', name: config.configMap }],
      onEvent: (event) => {
        if (event.event === 'object' && !('deleted' in event.object))
          record(i, event.object.data.v, epochNow());
      },
    });
    if (stream.status !== 200) {
      failed++;
      return;
    }
    await stream.next((e) => e.event === 'synced', 120_000);
  };
  // A few hundred at a time: a TLS handshake each.
  for (let i = 0; i < config.count; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, config.count - i) }, (_, k) => open(i + k)));
  }
  return failed;
}

async function directWatches(): Promise<number> {
  const kc = new KubeConfig();
  kc.loadFromFile(config.kubeconfigPath ?? '');
  const server = kc.getCurrentCluster()?.server ?? '';
  const base = {};
  await kc.applyToHTTPSOptions(base);
  const tlsOptions = base as { ca?: string; cert?: string; key?: string };
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity, ...tlsOptions });
  let failed = 0;
  const open = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const url = new URL(`/api/v1/namespaces/${config.namespace}/configmaps`, server);
      url.searchParams.set('watch', 'true');
      url.searchParams.set('fieldSelector', `metadata.name=${config.configMap}`);
      const req = request(url, { agent }, (res) => {
        if (res.statusCode !== 200) {
          failed++;
          res.resume();
          resolve();
          return;
        }
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let newline;
          while ((newline = buffer.indexOf('\n')) !== -1) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + 1);
            const event = JSON.parse(line) as { object?: { data?: { v?: string } } };
            record(i, event.object?.data?.v, epochNow());
          }
        });
        resolve();
      });
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end();
    });
  for (let i = 0; i < config.count; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, config.count - i) }, (_, k) => open(i + k)));
  }
  return failed;
}

const started = performance.now();
const failed = await (config.mode === 'relay' ? relayStreams() : directWatches());
const send = (message: LoadMessage): void => {
  process.send?.(message);
};
send({ type: 'ready', streams: config.count - failed, failed, setupMs: performance.now() - started });
process.on('message', (message: { type: 'arrivals'; version: string }) => {
  const list = arrivals.get(message.version) ?? [];
  send({
    type: 'arrivals',
    version: message.version,
    arrivals: list,
    missing: config.count - list.length,
    duplicates,
  });
});
process.on('disconnect', () => process.exit(0));
