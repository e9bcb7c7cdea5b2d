import { watch, type FSWatcher } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface ChangeWatchOptions {
  /**
   * Directories watched with fs.watch. Watching the directory rather than the files is what sees
   * kubelet's update of a mounted ConfigMap or Secret: it swaps the `..data` symlink, and the
   * files themselves (symlinks through `..data`) never change.
   */
  dirs: readonly string[];
  /** A cheap summary of the watched state; onChange runs only when it differs from the last one. */
  fingerprint: () => Promise<string>;
  onChange: () => Promise<void>;
  /** Quiet time after the last event before looking (a swap is several events). */
  debounceMs: number;
  /** fs.watch can miss events (network filesystems, a directory replaced whole): poll as well. */
  pollMs: number;
  onError: (error: unknown) => void;
}

export interface ChangeWatch {
  /** Compares the fingerprint now and runs onChange if it moved; checks never overlap. */
  check(): Promise<void>;
  close(): void;
}

export function watchChanges(options: ChangeWatchOptions): ChangeWatch {
  let last: string | undefined;
  let closed = false;
  let chain: Promise<void> = Promise.resolve();
  let queued: Promise<void> | undefined;
  let debounce: NodeJS.Timeout | undefined;
  const watchers = new Map<string, FSWatcher>();

  const run = async (): Promise<void> => {
    queued = undefined;
    if (closed) return;
    const now = await options.fingerprint().catch((error: unknown) => `unreadable: ${String(error)}`);
    if (now === last) return;
    last = now;
    await options.onChange();
  };
  const check = (): Promise<void> => {
    if (queued) return queued;
    const next = chain.then(run);
    queued = next;
    chain = next.catch(options.onError);
    return next;
  };
  const schedule = (): void => {
    if (closed) return;
    clearTimeout(debounce);
    debounce = setTimeout(() => void check().catch(() => undefined), options.debounceMs);
    debounce.unref();
  };
  const ensureWatchers = (): void => {
    for (const dir of options.dirs) {
      if (closed || watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, schedule);
        watcher.on('error', () => {
          watcher.close();
          watchers.delete(dir);
          schedule();
        });
        watchers.set(dir, watcher);
      } catch {
        // Not there yet: the poll retries.
      }
    }
  };

  ensureWatchers();
  const poll = setInterval(() => {
    ensureWatchers();
    void check().catch(() => undefined);
  }, options.pollMs);
  poll.unref();

  return {
    check,
    close(): void {
      closed = true;
      clearInterval(poll);
      clearTimeout(debounce);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}

async function describePath(path: string): Promise<string> {
  try {
    const [real, info] = await Promise.all([realpath(path), stat(path)]);
    return `${real}:${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
  } catch (error) {
    return `missing (${error instanceof Error && 'code' in error ? String(error.code) : 'error'})`;
  }
}

/** Each file followed through its symlinks: the target's identity, size and modification time. */
export async function fingerprintFiles(paths: readonly string[]): Promise<string> {
  const parts = await Promise.all(paths.map(async (path) => `${path}=${await describePath(path)}`));
  return parts.join('\n');
}

/** Every entry of a directory (not recursive), followed through symlinks such as `..data`. */
export async function fingerprintDir(dir: string): Promise<string> {
  const names = (await readdir(dir)).sort();
  return fingerprintFiles(names.map((name) => join(dir, name)));
}
