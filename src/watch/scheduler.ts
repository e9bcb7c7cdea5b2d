/** Time as the scheduler sees it: real timers in the agent, a manual clock in unit tests. */
export interface Clock {
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const realClock: Clock = {
  setTimer(fn, ms) {
    const handle = setTimeout(fn, ms);
    return () => {
      clearTimeout(handle);
    };
  },
};

/** A uniformly random whole number of milliseconds in [0, jitterMs]. */
export function jitterDelay(jitterMs: number, random: () => number): number {
  if (jitterMs <= 0) return 0;
  return Math.min(jitterMs, Math.floor(random() * (jitterMs + 1)));
}

export interface SchedulerOptions {
  debounceMs: number;
  jitterMs: number;
  clock: Clock;
  random: () => number;
  /** The file system has been quiet for `debounceMs` since the last poke. */
  onQuiet: () => void;
  /** The random jitter delay chosen by `arm()` has passed. */
  onDue: () => void;
}

/**
 * Two stages between a file event and a reload: a debounce that restarts on every event, so a
 * burst of events (one kubelet swap makes several) becomes one check; then a random delay so that
 * thousands of Pods watching the same ConfigMap do not reload in the same second.
 */
export class ReloadScheduler {
  private cancelQuiet: (() => void) | undefined;
  private cancelDue: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly options: SchedulerOptions) {}

  /** Something changed on disk: (re)start the debounce period. */
  poke(): void {
    if (this.stopped) return;
    this.cancelQuiet?.();
    this.cancelQuiet = this.options.clock.setTimer(() => {
      this.cancelQuiet = undefined;
      this.options.onQuiet();
    }, this.options.debounceMs);
  }

  /**
   * A reload is wanted: start the jitter delay unless one is already running (the pending reload
   * will read the newest files anyway). Returns the delay chosen, or undefined when one was pending.
   */
  arm(): number | undefined {
    if (this.stopped || this.cancelDue) return undefined;
    const delay = jitterDelay(this.options.jitterMs, this.options.random);
    this.cancelDue = this.options.clock.setTimer(() => {
      this.cancelDue = undefined;
      this.options.onDue();
    }, delay);
    return delay;
  }

  get debouncing(): boolean {
    return this.cancelQuiet !== undefined;
  }

  get waiting(): boolean {
    return this.cancelDue !== undefined;
  }

  stop(): void {
    this.stopped = true;
    this.cancelQuiet?.();
    this.cancelDue?.();
    this.cancelQuiet = undefined;
    this.cancelDue = undefined;
  }
}
