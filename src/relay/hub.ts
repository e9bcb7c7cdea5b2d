import type { ServerResponse } from 'node:http';
import type { RelayMetrics } from './metrics.js';
import { Pacer } from './pacing.js';
import { PING_INTERVAL_MS, serializeEvent, type ObjectContent, type ObjectRef } from './protocol.js';
import { objectKey, type StoreChange } from './store.js';

/** A subscriber stream that has gone this far behind (bytes unsent) is cut: it reconnects. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface Subscriber {
  id: number;
  namespace: string;
  pod: string;
  objects: readonly ObjectRef[];
  res: ServerResponse;
  /** The version last written per object key ('deleted' for a deletion). */
  sent: Map<string, string>;
  closed: boolean;
}

interface Delivery {
  subscriber: Subscriber;
  key: string;
  seenAt: number;
}

export interface HubOptions {
  rate: number;
  metrics: RelayMetrics;
  lookup: (key: string) => ObjectContent | undefined;
  /** The shuffle's randomness (tests pin it). */
  random?: () => number;
}

const versionOf = (content: ObjectContent): string =>
  'deleted' in content ? 'deleted' : content.resourceVersion;

/**
 * The subscribers and the fan-out: who wants which object, the paced queue of deliveries, the
 * pings, and the goodbye on shutdown.
 */
export class Hub {
  private readonly byKey = new Map<string, Set<Subscriber>>();
  private readonly all = new Set<Subscriber>();
  private readonly pacer: Pacer<Delivery>;
  private timer: NodeJS.Timeout | undefined;
  private readonly ping: NodeJS.Timeout;
  private nextId = 1;

  constructor(private readonly options: HubOptions) {
    this.pacer = new Pacer<Delivery>(
      options.rate,
      (d) => `${String(d.subscriber.id)} ${d.key}`,
      options.random,
    );
    this.ping = setInterval(() => {
      const frame = serializeEvent({ event: 'ping' });
      for (const subscriber of this.all) this.write(subscriber, frame);
    }, PING_INTERVAL_MS);
    this.ping.unref();
  }

  get size(): number {
    return this.all.size;
  }

  /** Registers the stream and writes each object's current content, then `synced`. */
  subscribe(
    res: ServerResponse,
    who: { namespace: string; pod: string },
    objects: readonly ObjectRef[],
  ): Subscriber {
    const subscriber: Subscriber = {
      id: this.nextId++,
      ...who,
      objects,
      res,
      sent: new Map(),
      closed: false,
    };
    this.all.add(subscriber);
    this.options.metrics.subscribers.set(this.all.size);
    for (const object of objects) {
      const key = objectKey(object.kind, who.namespace, object.name);
      let set = this.byKey.get(key);
      if (set === undefined) this.byKey.set(key, (set = new Set()));
      set.add(subscriber);
      const content = this.options.lookup(key) ?? { ...object, deleted: true as const };
      subscriber.sent.set(key, versionOf(content));
      this.write(subscriber, serializeEvent({ event: 'object', object: content }));
    }
    this.write(subscriber, serializeEvent({ event: 'synced' }));
    res.on('close', () => {
      this.unsubscribe(subscriber);
    });
    return subscriber;
  }

  /** A watched object changed (or went): queue a delivery to each of its subscribers. */
  changed(change: StoreChange): void {
    const set = this.byKey.get(change.key);
    if (set === undefined || set.size === 0) return;
    const deliveries = [...set].map((subscriber) => ({ subscriber, key: change.key, seenAt: change.seenAt }));
    this.pacer.enqueue(deliveries, performance.now());
    this.options.metrics.queued.set(this.pacer.size);
    this.schedule();
  }

  /** Ends every stream, each told first to reconnect elsewhere. */
  shutdown(): void {
    clearInterval(this.ping);
    clearTimeout(this.timer);
    const frame = serializeEvent({ event: 'shutdown' });
    for (const subscriber of [...this.all]) {
      this.write(subscriber, frame);
      subscriber.res.end();
    }
  }

  /** Ends one stream with `shutdown` (its token expired: it comes back with the fresh one). */
  end(subscriber: Subscriber): void {
    if (subscriber.closed) return;
    this.write(subscriber, serializeEvent({ event: 'shutdown' }));
    subscriber.res.end();
  }

  private unsubscribe(subscriber: Subscriber): void {
    if (subscriber.closed) return;
    subscriber.closed = true;
    this.all.delete(subscriber);
    for (const key of subscriber.sent.keys()) {
      const set = this.byKey.get(key);
      set?.delete(subscriber);
      if (set?.size === 0) this.byKey.delete(key);
    }
    this.options.metrics.subscribers.set(this.all.size);
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const wait = this.pacer.nextIn(performance.now());
    if (wait === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
      this.schedule();
    }, wait);
  }

  private drain(): void {
    const now = performance.now();
    for (const delivery of this.pacer.due(now)) this.deliver(delivery, now);
    this.options.metrics.queued.set(this.pacer.size);
  }

  private deliver({ subscriber, key, seenAt }: Delivery, now: number): void {
    if (subscriber.closed) return;
    const ref = subscriber.objects.find((o) => objectKey(o.kind, subscriber.namespace, o.name) === key);
    if (ref === undefined) return;
    const content = this.options.lookup(key) ?? { ...ref, deleted: true as const };
    const version = versionOf(content);
    if (subscriber.sent.get(key) === version) return;
    subscriber.sent.set(key, version);
    this.write(subscriber, serializeEvent({ event: 'object', object: content }));
    this.options.metrics.pushes.inc({ kind: ref.kind });
    this.options.metrics.pushLatency.observe((now - seenAt) / 1000);
  }

  private write(subscriber: Subscriber, frame: string): void {
    if (subscriber.closed || subscriber.res.writableEnded) return;
    if (subscriber.res.writableLength > MAX_BUFFERED_BYTES) {
      subscriber.res.destroy();
      return;
    }
    subscriber.res.write(frame);
  }
}
