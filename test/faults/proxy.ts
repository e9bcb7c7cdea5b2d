// A round-robin TCP proxy on loopback that behaves like a Service's endpoints: a backend whose
// /readyz fails (or whose port refuses) gets no NEW connections until /readyz answers 200 again;
// connections already made stay where they are, as with kube-proxy. TLS passes through untouched.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { statusOf } from '../support/https-request.js';

export interface Backend {
  port: number;
  ready: boolean;
  /** Connections given to it. */
  connections: number;
}

export class EndpointsProxy {
  readonly backends: Backend[];
  /** Client connections that found no ready backend (refused, as a Service without endpoints). */
  noBackend = 0;
  /** Connections refused by a backend and moved to the next one before any byte was sent. */
  failovers = 0;
  private next = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private probing: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    ports: number[],
    private readonly ca: string,
    private readonly probeEveryMs = 100,
  ) {
    this.backends = ports.map((port) => ({ port, ready: false, connections: 0 }));
    this.server = createServer((client) => {
      this.track(client);
      client.pause();
      this.route(client, this.backends.length);
    });
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy is not listening');
    return address.port;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const probe = async (): Promise<void> => {
      await Promise.all(this.backends.map((backend) => this.probe(backend)));
      if (this.closed) return;
      this.probing = setTimeout(() => void probe(), this.probeEveryMs);
    };
    await probe();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.probing);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** The next ready backend in turn; `tries` bounds the failovers of one connection. */
  private route(client: Socket, tries: number): void {
    const backend = this.pick();
    if (backend === undefined || tries === 0) {
      this.noBackend += 1;
      client.destroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: backend.port });
    this.track(upstream);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      backend.connections += 1;
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected && error.code === 'ECONNREFUSED') {
        // Nothing was sent yet: like an endpoint that vanished, try the next one.
        backend.ready = false;
        this.failovers += 1;
        this.route(client, tries - 1);
        return;
      }
      client.destroy();
    });
    // A clean close of either side ends the other through pipe(), after what is still buffered
    // (destroying it instead could drop the end of an answer); a broken one breaks the other.
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', (hadError) => {
      if (connected && hadError) client.destroy();
    });
  }

  private pick(): Backend | undefined {
    for (let i = 0; i < this.backends.length; i += 1) {
      const backend = this.backends[(this.next + i) % this.backends.length];
      if (backend?.ready) {
        this.next = (this.next + i + 1) % this.backends.length;
        return backend;
      }
    }
    return undefined;
  }

  private probe(backend: Backend): Promise<void> {
    return statusOf(backend.port, '/readyz', this.ca, 1000).then(
      (status) => {
        backend.ready = status === 200;
      },
      () => {
        backend.ready = false;
      },
    );
  }

  /** Resolves once the backend on `port` is taken into rotation. */
  async untilReady(port: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.backends.find((b) => b.port === port)?.ready) return;
      if (Date.now() > deadline)
        throw new Error(`backend ${String(port)} not ready within ${String(timeoutMs)} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Resolves once the backend on `port` is out of rotation. */
  async untilRemoved(port: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.backends.find((b) => b.port === port)?.ready === false) return;
      if (Date.now() > deadline)
        throw new Error(`backend ${String(port)} still ready after ${String(timeoutMs)} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
