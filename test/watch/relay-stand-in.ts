// A STAND-IN for `sidekick relay` in the watcher's tests: a real HTTPS server on loopback that
// speaks the relay protocol (src/relay/protocol.ts) from objects held in memory. It checks one
// bearer token instead of a TokenReview and authorises nothing: the real relay's tests do that.
import { createServer, type Server } from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ServingCertificate } from '../../src/certs/generate.js';
import { serializeEvent, SUBSCRIBE_PATH, type ObjectContent } from '../../src/relay/protocol.js';
import { loopbackCertificate } from '../support/certificates.js';

export class RelayStandIn {
  readonly objects = new Map<string, ObjectContent>();
  /** The Authorization header of every subscribe request, in order. */
  readonly tokensSeen: string[] = [];
  readonly queries: URLSearchParams[] = [];
  token = 'token-1';
  private server: Server | undefined;
  private readonly streams = new Set<{ res: ServerResponse; names: Set<string> }>();
  private readonly sockets = new Set<Duplex>();
  port = 0;

  private constructor(readonly certificate: ServingCertificate) {}

  static async start(): Promise<RelayStandIn> {
    const relay = new RelayStandIn(await loopbackCertificate());
    await relay.listen(0);
    return relay;
  }

  get url(): string {
    return `https://127.0.0.1:${String(this.port)}`;
  }

  get subscribers(): number {
    return this.streams.size;
  }

  /** Listens again (on the same port once it had one), as a relay coming back does. */
  async listen(port = this.port): Promise<void> {
    const server = createServer({ cert: this.certificate.cert, key: this.certificate.key }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://relay');
      this.tokensSeen.push(req.headers.authorization ?? '');
      if (url.pathname !== SUBSCRIBE_PATH) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      if (req.headers.authorization !== `Bearer ${this.token}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad token"}');
        return;
      }
      this.queries.push(url.searchParams);
      const names = new Set([
        ...url.searchParams.getAll('configmap').map((n) => `ConfigMap/${n}`),
        ...url.searchParams.getAll('secret').map((n) => `Secret/${n}`),
      ]);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      for (const key of names) {
        const [kind = '', name = ''] = key.split('/');
        const object = this.objects.get(key) ?? {
          kind: kind === 'Secret' ? 'Secret' : 'ConfigMap',
          name,
          deleted: true,
        };
        res.write(serializeEvent({ event: 'object', object }));
      }
      res.write(serializeEvent({ event: 'synced' }));
      res.write(serializeEvent({ event: 'ping' }));
      const stream = { res, names };
      this.streams.add(stream);
      res.on('close', () => this.streams.delete(stream));
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Stores the object and pushes it to every subscriber of it. */
  set(object: ObjectContent): void {
    const key = `${object.kind}/${object.name}`;
    this.objects.set(key, object);
    for (const stream of this.streams) {
      if (stream.names.has(key)) stream.res.write(serializeEvent({ event: 'object', object }));
    }
  }

  /** A graceful relay shutdown: `shutdown` to every subscriber, then the streams end. */
  shutdownStreams(): void {
    for (const stream of this.streams) {
      stream.res.write(serializeEvent({ event: 'shutdown' }));
      stream.res.end();
    }
  }

  /** The relay becomes unreachable: streams cut, nothing listening. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }
}

export function configMap(name: string, data: Record<string, string>, resourceVersion = '1'): ObjectContent {
  return { kind: 'ConfigMap', name, resourceVersion, data, binaryData: {} };
}
