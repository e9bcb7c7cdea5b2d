import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Said in the error when time runs out. */
  what: string;
  /** Gives up at once when this returns a reason (e.g. the process being waited for died). */
  stopIf?: () => string | undefined;
}

/**
 * Polls `probe` until it returns a value other than undefined. Errors from the probe count as
 * "not yet"; the last one is reported when time runs out.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  for (;;) {
    const stop = options.stopIf?.();
    if (stop !== undefined) throw new Error(`gave up waiting for ${options.what}: ${stop}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${why}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}
