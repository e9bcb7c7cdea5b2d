import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// Built-ins by process.getBuiltinModule, not `import`: an import builds the module's ES namespace,
// which reads every export, lazy ones too (on Node 26 that of node:http loads the bundled undici,
// ~30 ms of CPU), and `sidekick watch` loads this at start (bench/README.md, finding G).
const { createServer } = process.getBuiltinModule('node:http');

/** Default --health-port: clear of the ports the apps most often watched use (Prometheus 9090, Alertmanager 9093/9094). */
export const DEFAULT_HEALTH_PORT = 9797;

export interface HealthState {
  ready(): boolean;
}

/** `/ready` (200 once the first full scan succeeded, 503 before) and `/healthz` (200 while running). */
export function createHealthServer(state: HealthState): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    let status = 404;
    let body: object = { error: 'not found: use /ready or /healthz' };
    if (path === '/healthz') {
      status = 200;
      body = { status: 'ok' };
    } else if (path === '/ready' || path === '/readyz') {
      const ready = state.ready();
      status = ready ? 200 : 503;
      body = { status: ready ? 'ready' : 'first scan not complete' };
    }
    const text = `${JSON.stringify(body)}\n`;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(req.method === 'HEAD' ? undefined : text);
  });
}

export function listen(server: Server, port: number, host: string | undefined): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      reject(error);
    };
    server.once('error', onError);
    server.listen({ port, ...(host === undefined ? {} : { host }) }, () => {
      server.off('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string')
        reject(new Error('health server has no TCP address'));
      else resolve(address);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
    server.closeAllConnections();
  });
}
