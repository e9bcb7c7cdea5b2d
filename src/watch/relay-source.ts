import type { Logger } from '../log.js';
import type { ObjectContent, ObjectRef, RelayEvent } from '../relay/protocol.js';
import { writeAtomically } from './atomic-writer.js';
import { RelayClient } from './relay-client.js';
import { readVolume, samePayload } from './volume-files.js';
import { makePayload, objectKey, type Payload, type VolumeLayout } from './volume-layout.js';

export interface RelaySourceOptions {
  url: URL;
  layouts: readonly VolumeLayout[];
  tokenFile: string;
  caFile?: string;
  logger: Logger;
  random?: () => number;
  /** Without the relay's first full content by then, start from the kubelet-mounted originals. */
  startupTimeoutMs: number;
  /** How often the originals are read while the relay cannot be reached. */
  fallbackIntervalMs: number;
  /** Called after content was written into a volume (the watch agent notices it anyway). */
  onWrite?: (volume: string, from: 'relay' | 'fallback') => void;
}

/** Every object the volumes name, once. */
export function subscriptionOf(layouts: readonly VolumeLayout[]): ObjectRef[] {
  const seen = new Map<string, ObjectRef>();
  for (const source of layouts.flatMap((l) => l.sources)) {
    seen.set(objectKey(source.kind, source.name), { kind: source.kind, name: source.name });
  }
  return [...seen.values()];
}

/**
 * Relay mode's writer: fills each replaced volume's emptyDir from the relay, laid out as kubelet
 * lays it out, and while the relay cannot be reached, from the original volume kubelet keeps up
 * to date (copied when it changes, so a relay outage never rolls the app back to kubelet's older
 * copy). The watch agent then sees the emptyDirs change as it would see kubelet's swaps.
 */
export class RelaySource {
  private readonly client: RelayClient;
  private readonly objects = new Map<string, ObjectContent>();
  private readonly written = new Set<string>();
  /** Per volume: the original's content when the relay was last given up on. */
  private readonly fallbackSeen = new Map<string, Payload>();
  private synced = false;
  private fallback = false;
  private fallbackTimer: NodeJS.Timeout | undefined;
  private startupTimer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private resolveReady: () => void = () => undefined;
  /** Resolves once every volume has its first content in place (the startup probe's condition). */
  readonly ready: Promise<void>;

  constructor(private readonly options: RelaySourceOptions) {
    this.ready = new Promise((resolve) => {
      this.resolveReady = resolve;
    });
    this.client = new RelayClient({
      url: options.url,
      objects: subscriptionOf(options.layouts),
      tokenFile: options.tokenFile,
      ...(options.caFile === undefined ? {} : { caFile: options.caFile }),
      logger: options.logger,
      ...(options.random ? { random: options.random } : {}),
      onEvent: (event) => {
        this.onEvent(event);
      },
      onDisconnect: (reason) => {
        this.onDisconnect(reason);
      },
    });
  }

  get usingFallback(): boolean {
    return this.fallback;
  }

  start(): void {
    this.client.start();
    this.startupTimer = setTimeout(() => {
      if (this.synced) return;
      this.options.logger.warn(
        { afterMs: this.options.startupTimeoutMs },
        'no content from the relay yet; starting from the kubelet-mounted volumes',
      );
      this.enterFallback();
    }, this.options.startupTimeoutMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.client.stop();
    clearTimeout(this.startupTimer);
    clearInterval(this.fallbackTimer);
    await this.queue;
  }

  private serial(step: () => Promise<void>): void {
    this.queue = this.queue
      .then(async () => {
        if (!this.stopped) await step();
      })
      .catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'writing a relayed volume failed; continuing');
      });
  }

  private onEvent(event: RelayEvent): void {
    if (event.event === 'ping') return;
    if (event.event === 'shutdown') {
      this.options.logger.info('the relay is shutting down; reconnecting');
      return;
    }
    if (event.event === 'synced') {
      this.synced = true;
      clearTimeout(this.startupTimer);
      this.leaveFallback();
      for (const layout of this.options.layouts) this.serial(() => this.writeFromRelay(layout));
      return;
    }
    const { object } = event;
    this.objects.set(objectKey(object.kind, object.name), object);
    if (!this.synced) return;
    for (const layout of this.options.layouts) {
      if (layout.sources.some((s) => s.kind === object.kind && s.name === object.name)) {
        this.serial(() => this.writeFromRelay(layout));
      }
    }
  }

  private onDisconnect(reason: string): void {
    const wasSynced = this.synced;
    this.synced = false;
    this.options.logger.warn(
      { reason, fallback: true },
      'relay unreachable; following the kubelet-mounted volumes',
    );
    // Before the first content, waiting for the startup timeout would only delay the app.
    if (wasSynced || this.written.size < this.options.layouts.length) this.enterFallback();
  }

  private enterFallback(): void {
    if (this.fallback || this.stopped) return;
    this.fallback = true;
    for (const layout of this.options.layouts) {
      this.serial(async () => {
        const original = await readVolume(layout.fallback);
        // The original may be older than what the relay gave: copied only once kubelet changes it.
        if (this.written.has(layout.volume)) this.fallbackSeen.set(layout.volume, original);
        else await this.write(layout, original, 'fallback');
      });
    }
    this.fallbackTimer = setInterval(() => {
      for (const layout of this.options.layouts) this.serial(() => this.pollFallback(layout));
    }, this.options.fallbackIntervalMs);
  }

  private leaveFallback(): void {
    if (!this.fallback) return;
    this.fallback = false;
    clearInterval(this.fallbackTimer);
    this.fallbackSeen.clear();
    this.options.logger.info('relay reachable again; following it');
  }

  private async pollFallback(layout: VolumeLayout): Promise<void> {
    if (!this.fallback) return;
    const original = await readVolume(layout.fallback);
    const seen = this.fallbackSeen.get(layout.volume);
    if (seen !== undefined && samePayload(seen, original)) return;
    this.fallbackSeen.set(layout.volume, original);
    await this.write(layout, original, 'fallback');
  }

  private async writeFromRelay(layout: VolumeLayout): Promise<void> {
    if (!this.synced) return;
    const result = makePayload(layout, this.objects);
    if (!result.ok) {
      // As kubelet does: a volume it cannot build keeps the files it has.
      this.options.logger.warn({ volume: layout.volume, problem: result.problem }, 'volume left as it is');
      return;
    }
    await this.write(layout, result.payload, 'relay');
  }

  private async write(layout: VolumeLayout, payload: Payload, from: 'relay' | 'fallback'): Promise<void> {
    const result = await writeAtomically(layout.dir, payload, { fsGroup: layout.fsGroup === true });
    if (result.written) {
      this.options.logger.info(
        { volume: layout.volume, from, files: payload.size, version: result.version },
        'volume written',
      );
      this.options.onWrite?.(layout.volume, from);
    }
    this.written.add(layout.volume);
    if (this.written.size === this.options.layouts.length) this.resolveReady();
  }
}
