import { statusOf } from '../../support/https-request.js';
import { SIDEKICK_MAIN } from '../../support/paths.js';
import type { TlsPair } from './injector.js';
import { freePort } from './ports.js';
import { ManagedProcess } from './processes.js';
import { waitFor } from './wait.js';

export interface RelayProcessOptions {
  kubeconfigPath: string;
  tls: TlsPair;
  logDir: string;
  args?: readonly string[];
  name?: string;
  /** A fixed port (a restarted relay where its subscribers expect it); default: a free one. */
  port?: number;
}

/** The real `sidekick relay`, as a child process, on loopback. */
export class RelayProcess {
  private constructor(
    readonly process: ManagedProcess,
    readonly port: number,
    readonly metricsPort: number,
    readonly tls: TlsPair,
  ) {}

  get origin(): string {
    return `https://127.0.0.1:${String(this.port)}`;
  }

  static async start(options: RelayProcessOptions): Promise<RelayProcess> {
    const port = options.port ?? (await freePort());
    const metricsPort = await freePort();
    const child = ManagedProcess.start(
      options.name ?? `sidekick-relay-${String(port)}`,
      process.execPath,
      [
        SIDEKICK_MAIN,
        'relay',
        `--port=${String(port)}`,
        `--metrics-port=${String(metricsPort)}`,
        `--tls-cert=${options.tls.certFile}`,
        `--tls-key=${options.tls.keyFile}`,
        `--kubeconfig=${options.kubeconfigPath}`,
        ...(options.args ?? []),
      ],
      { logDir: options.logDir },
    );
    const relay = new RelayProcess(child, port, metricsPort, options.tls);
    try {
      await waitFor(async () => ((await relay.readyz()) === 200 ? true : undefined), {
        timeoutMs: 30_000,
        what: `sidekick relay on port ${String(port)} to be ready`,
        stopIf: () => (child.running ? undefined : `${child.describe()}\n${child.tail()}`),
      });
    } catch (error) {
      await child.stop();
      throw error;
    }
    return relay;
  }

  readyz(): Promise<number> {
    return statusOf(this.port, '/readyz', this.tls.ca);
  }

  async metrics(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${String(this.metricsPort)}/metrics`);
    return response.text();
  }
}
