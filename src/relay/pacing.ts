/**
 * The fan-out schedule: deliveries leave at `rate` a second, the first at once, in a random order
 * within each change (jitter), so that one change does not reload thousands of Pods in the same
 * second. Pure: the clock and the randomness are handed in.
 */
export class Pacer<T> {
  private queue: T[] = [];
  private head = 0;
  private readonly queued = new Set<string>();
  /** When the queue last went from empty to busy, and how many have left since. */
  private origin = 0;
  private sentSinceOrigin = 0;

  constructor(
    private readonly rate: number,
    private readonly key: (item: T) => string,
    private readonly random: () => number = Math.random,
  ) {
    if (!(rate > 0)) throw new Error(`rate must be positive, got ${String(rate)}`);
  }

  get size(): number {
    return this.queue.length - this.head;
  }

  /**
   * Queues a change's deliveries behind those already waiting, shuffled. One already queued
   * (same key) keeps its place: when it leaves it carries the newest content anyway.
   */
  enqueue(items: readonly T[], now: number): void {
    const fresh: T[] = [];
    for (const item of items) {
      const key = this.key(item);
      if (this.queued.has(key)) continue;
      this.queued.add(key);
      fresh.push(item);
    }
    shuffle(fresh, this.random);
    if (this.size === 0) {
      // A queue that drained before its next slot keeps its schedule: restarting it at `now`
      // would let the next change's first delivery go out at once, right behind the previous
      // change's last, and so more than `rate` in that second.
      if (now >= this.nextSlot()) {
        this.origin = now;
        this.sentSinceOrigin = 0;
      }
      this.queue = [];
      this.head = 0;
    }
    for (const item of fresh) this.queue.push(item);
  }

  /** The deliveries due by `now`. */
  due(now: number): T[] {
    const allowed = Math.floor(((now - this.origin) * this.rate) / 1000) + 1 - this.sentSinceOrigin;
    const take = Math.max(0, Math.min(allowed, this.size));
    const out = this.queue.slice(this.head, this.head + take);
    this.head += take;
    this.sentSinceOrigin += take;
    for (const item of out) this.queued.delete(this.key(item));
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Milliseconds from `now` until the next delivery is due, or undefined when none waits. */
  nextIn(now: number): number | undefined {
    if (this.size === 0) return undefined;
    return Math.max(0, Math.ceil(this.nextSlot() - now));
  }

  /** When the next delivery may leave, on the current schedule. */
  private nextSlot(): number {
    return this.origin + (this.sentSinceOrigin * 1000) / this.rate;
  }
}

/** Fisher–Yates, in place. */
export function shuffle(items: unknown[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = items[i];
    items[i] = items[j];
    items[j] = a;
  }
}
