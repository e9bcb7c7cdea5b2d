import { connect, createServer, type Server, type Socket } from 'node:net';

export interface BalancerStats {
  /** Connections accepted and handed to each backend port. */
  connections: Record<string, number>;
  /** Connections whose first backend refused them and that went to another. */
  failovers: number;
  /** Connections no backend took (closed at once). */
  refused: number;
}

/**
 * A loopback TCP load balancer in front of sidekick's replicas, like a Service's virtual IP:
 * connections go round-robin to the backends; a backend that refuses a connection (its process is
 * gone) is skipped for that connection, as a Service stops sending to an endpoint once it is not
 * ready. Connections already open to a backend that dies are reset, as they would be in a cluster.
 * TLS passes through untouched.
 */
export class Balancer {
  readonly stats: BalancerStats = { connections: {}, failovers: 0, refused: 0 };
  private next = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly backends: readonly number[],
    readonly port: number,
  ) {}

  static async start(backends: readonly number[]): Promise<Balancer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the balancer has no port');
    const balancer = new Balancer(server, backends, address.port);
    server.on('connection', (client) => {
      balancer.accept(client);
    });
    return balancer;
  }

  private accept(client: Socket): void {
    this.track(client);
    client.pause();
    const first = this.next++ % this.backends.length;
    this.tryBackend(client, first, 0);
  }

  private tryBackend(client: Socket, index: number, attempt: number): void {
    if (attempt >= this.backends.length) {
      this.stats.refused++;
      client.destroy();
      return;
    }
    const port = this.backends[(index + attempt) % this.backends.length] ?? 0;
    const upstream = connect(port, '127.0.0.1');
    this.track(upstream);
    const refused = (): void => {
      if (attempt + 1 < this.backends.length) this.stats.failovers++;
      this.tryBackend(client, index, attempt + 1);
    };
    upstream.once('error', refused);
    upstream.once('connect', () => {
      upstream.off('error', refused);
      const key = String(port);
      this.stats.connections[key] = (this.stats.connections[key] ?? 0) + 1;
      // Either side failing or closing ends both, as a reset through a proxy does.
      const end = (): void => {
        client.destroy();
        upstream.destroy();
      };
      upstream.on('error', end).on('close', end);
      client.on('error', end).on('close', end);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}
