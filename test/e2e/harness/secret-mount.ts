import { mkdir } from 'node:fs/promises';
import { kubeletSwap } from '../../support/kubelet-swap.js';
import type { KubeClient } from './kube.js';
import { isObject } from '../../../src/json.js';

/**
 * A stand-in for kubelet's refresh of a mounted Secret (there is no kubelet in this suite): it
 * polls the Secret and, `lagMs` after it sees a new resourceVersion, writes every key into `dir`
 * the way kubelet does (a new `..data` directory swapped in atomically). Kubelet's own delay is
 * its sync period plus its cache TTL, up to a minute or two; each mount here has its own lag, so
 * that replicas pick the change up at different times as they do in a cluster.
 */
export class SecretMountStandIn {
  private seen = '';
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<Promise<void>>();
  /** When each swap was written (ms since the epoch), by resourceVersion. */
  readonly swaps: { resourceVersion: string; at: number }[] = [];

  private constructor(
    private readonly api: KubeClient,
    private readonly secretPath: string,
    readonly dir: string,
    private readonly lagMs: number,
  ) {}

  /** Writes the Secret's current content at once, then follows it. */
  static async start(
    api: KubeClient,
    secretPath: string,
    dir: string,
    lagMs: number,
  ): Promise<SecretMountStandIn> {
    await mkdir(dir, { recursive: true });
    const mount = new SecretMountStandIn(api, secretPath, dir, lagMs);
    const first = await api.get(secretPath);
    await mount.write(first);
    mount.timer = setInterval(() => {
      mount.poll().catch(() => undefined);
    }, 500);
    return mount;
  }

  private async poll(): Promise<void> {
    const secret = await this.api.get(this.secretPath);
    const version = resourceVersionOf(secret);
    if (version === this.seen) return;
    this.seen = version;
    const swap = new Promise<void>((resolve) => setTimeout(resolve, this.lagMs)).then(() =>
      this.write(secret),
    );
    this.pending.add(swap);
    void swap.finally(() => this.pending.delete(swap));
  }

  private async write(secret: { data?: unknown; metadata?: unknown }): Promise<void> {
    const data = isObject(secret.data) ? secret.data : {};
    const files: Record<string, string> = {};
    for (const [key, value] of Object.entries(data)) {
      if (typeof value === 'string') files[key] = Buffer.from(value, 'base64').toString('utf8');
    }
    const version = resourceVersionOf(secret);
    this.seen ||= version;
    await kubeletSwap(this.dir, files, `gen-${String(++this.generation)}`);
    this.swaps.push({ resourceVersion: version, at: Date.now() });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.pending]);
  }
}

function resourceVersionOf(secret: { metadata?: unknown }): string {
  const metadata = secret.metadata;
  return isObject(metadata) && typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : '';
}
