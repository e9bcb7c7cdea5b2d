import { fingerprintDir, watchChanges } from '../change-watch.js';
import { loadTemplateDir } from './load.js';
import type { TemplateLoad, TemplateSet } from './types.js';

export type TemplateReload =
  | { ok: true; set: TemplateSet; previous: TemplateSet | undefined }
  | { ok: false; problems: readonly string[]; kept: TemplateSet | undefined };

export interface TemplateReloaderOptions {
  dir: string;
  load?: (dir: string) => Promise<TemplateLoad>;
  /** A ConfigMap update is a burst of renames: wait this long after the last one. */
  debounceMs?: number;
  /** Fallback for missed filesystem events. */
  pollMs?: number;
  /** Called for every load that changed the set in use, and for every invalid set. */
  onReload?: (event: TemplateReload) => void;
  onError?: (error: unknown) => void;
}

export interface TemplateReloader {
  /** The last good set, or undefined while none has loaded. */
  current(): TemplateSet | undefined;
  /** Looks at the directory now (the watch and the poll call this too). */
  check(): Promise<void>;
  close(): void;
}

/**
 * Keeps the last good template set of a directory: a new set replaces it only when the whole
 * directory loads; an invalid set is reported and the previous one stays in use.
 */
export async function startTemplateReloader(options: TemplateReloaderOptions): Promise<TemplateReloader> {
  const load = options.load ?? loadTemplateDir;
  let current: TemplateSet | undefined;
  const reload = async (): Promise<void> => {
    let result: TemplateLoad;
    try {
      result = await load(options.dir);
    } catch (error) {
      result = {
        ok: false,
        problems: [`${options.dir}: ${error instanceof Error ? error.message : String(error)}`],
      };
    }
    if (!result.ok) {
      options.onReload?.({ ok: false, problems: result.problems, kept: current });
      return;
    }
    if (current?.hash === result.set.hash) return;
    const previous = current;
    current = result.set;
    options.onReload?.({ ok: true, set: result.set, previous });
  };
  const watch = watchChanges({
    dirs: [options.dir],
    fingerprint: () => fingerprintDir(options.dir),
    onChange: reload,
    debounceMs: options.debounceMs ?? 200,
    pollMs: options.pollMs ?? 5000,
    onError: options.onError ?? (() => undefined),
  });
  await watch.check();
  return {
    current: () => current,
    check: () => watch.check(),
    close: () => {
      watch.close();
    },
  };
}
