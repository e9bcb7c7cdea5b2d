import type { CertificateAuthority } from '../../../src/certs/generate.js';
import { loopbackCertificate, writeCertificate } from '../../support/certificates.js';
import { statusOf } from '../../support/https-request.js';
import { repoPath, SIDEKICK_MAIN } from '../../support/paths.js';
import { serveArgs } from '../../support/serve-args.js';
import { freePort } from './ports.js';
import { ManagedProcess } from './processes.js';
import { waitFor } from './wait.js';

export interface TlsPair {
  certFile: string;
  keyFile: string;
  /** The CA that signed it (PEM): the caBundle that makes the apiserver trust it. */
  ca: string;
}

/** A serving certificate for https://127.0.0.1 (the apiserver calls a `url` webhook by IP). */
export async function loopbackServingPair(
  ca: CertificateAuthority,
  dir: string,
  name: string,
): Promise<TlsPair> {
  const issued = await loopbackCertificate({ ca, days: 3 });
  return { ...(await writeCertificate(dir, issued, name)), ca: ca.cert };
}

export interface InjectorOptions {
  tls: TlsPair;
  logDir: string;
  /** Keep the port of an earlier run, so that the registered webhook URL stays right. */
  port?: number;
  injectorNamespace?: string;
  /** `--client-ca`: /mutate then requires a client certificate from this CA. */
  clientCaFile?: string;
}

/** The real `sidekick serve`, as a child process, with the built-in templates. */
export class Injector {
  private constructor(
    readonly process: ManagedProcess,
    readonly port: number,
    readonly tls: TlsPair,
  ) {}

  get url(): string {
    return `${this.origin}/mutate`;
  }

  get origin(): string {
    return `https://127.0.0.1:${String(this.port)}`;
  }

  static async start(options: InjectorOptions): Promise<Injector> {
    const port = options.port ?? (await freePort());
    const metricsPort = await freePort();
    const child = ManagedProcess.start(
      `sidekick-serve-${String(port)}`,
      process.execPath,
      [
        SIDEKICK_MAIN,
        ...serveArgs({
          port,
          metricsPort,
          certFile: options.tls.certFile,
          keyFile: options.tls.keyFile,
          templatesDir: repoPath('templates'),
          injectorNamespace: options.injectorNamespace,
          extraArgs: options.clientCaFile === undefined ? [] : [`--client-ca=${options.clientCaFile}`],
        }),
      ],
      { logDir: options.logDir },
    );
    const injector = new Injector(child, port, options.tls);
    try {
      await waitFor(async () => ((await injector.readyz()) === 200 ? true : undefined), {
        timeoutMs: 30_000,
        what: `sidekick serve on port ${String(port)} to be ready`,
        stopIf: () => (child.running ? undefined : `${child.describe()}\n${child.tail()}`),
      });
    } catch (error) {
      await child.stop();
      throw error;
    }
    return injector;
  }

  /** GET /readyz over TLS, verified against the CA the apiserver is given. */
  readyz(): Promise<number> {
    return statusOf(this.port, '/readyz', this.tls.ca);
  }
}
