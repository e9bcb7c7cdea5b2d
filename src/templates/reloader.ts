import { fingerprintDir, watchChanges } from '../change-watch.js';
import { loadTemplateDirs, templateDirList, type TemplateDirs } from './load.js';
import type { TemplateLoad, TemplateSet } from './types.js';

export type TemplateReload =
  | { ok: true; set: TemplateSet; previous: TemplateSet | undefined }
  | { ok: false; problems: readonly string[]; kept: TemplateSet | undefined };

export interface TemplateReloaderOptions {
  dirs: TemplateDirs;
  load?: (dirs: TemplateDirs) => Promise<TemplateLoad>;
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
  /** Looks at the directories now (the watch and the poll call this too). */
  check(): Promise<void>;
  close(): void;
}

/**
 * Keeps the last good template set of the directories (the base and the one that adds to it): a
 * new set replaces it only when the whole merged set loads; an invalid set is reported and the
 * previous one stays in use. A change in either directory reloads both, as one set.
 */
export async function startTemplateReloader(options: TemplateReloaderOptions): Promise<TemplateReloader> {
  const load = options.load ?? loadTemplateDirs;
  const dirs = templateDirList(options.dirs);
  let current: TemplateSet | undefined;
  const reload = async (): Promise<void> => {
    let result: TemplateLoad;
    try {
      result = await load(options.dirs);
    } catch (error) {
      result = {
        ok: false,
        problems: [`${dirs.join(', ')}: ${error instanceof Error ? error.message : String(error)}`],
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
    dirs,
    fingerprint: async () => (await Promise.all(dirs.map(fingerprintDir))).join('\n'),
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
