import type { FSWatcher } from 'node:fs';
import type { Logger } from '../log.js';

// By process.getBuiltinModule, not `import`, as the rest of `sidekick watch`: see health.ts.
const { watch, lstatSync, realpathSync, statSync } = process.getBuiltinModule('node:fs');
const paths = process.getBuiltinModule('node:path');
const join = (...parts: string[]): string => paths.join(...parts);
const dirname = (path: string): string => paths.dirname(path);

interface Attached {
  watcher: FSWatcher;
  /** What was watched: the inode tells when the path now names a different directory. */
  identity: string;
}

function identity(path: string): string | undefined {
  try {
    const info = statSync(path);
    return info.isDirectory() ? `${info.dev}:${info.ino}` : undefined;
  } catch {
    return undefined;
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function resolveData(dir: string): string | undefined {
  try {
    return realpathSync(join(dir, '..data'));
  } catch {
    return undefined;
  }
}

/**
 * fs.watch (inotify) on each watched directory, which sees kubelet's rename of `..data_tmp` onto
 * `..data` and plain writes of files in an emptyDir, and on the directory `..data` currently
 * points to. A watched path that is itself a symlink (git-sync's link, swapped to each new
 * worktree) is watched through to its target and in its parent, where the swap happens: the
 * old target may stay untouched for a while after it. inotify is not everywhere (some network and FUSE filesystems): the agent's periodic
 * rescan is the fallback, and `refresh()` re-attaches watchers that died or point at old paths.
 */
export class DirWatcher {
  private readonly attached = new Map<string, Attached>();
  private closed = false;

  constructor(
    private readonly dirs: readonly string[],
    private readonly onEvent: () => void,
    private readonly logger: Logger,
  ) {}

  refresh(): void {
    if (this.closed) return;
    const wanted = new Set<string>();
    for (const dir of this.dirs) {
      wanted.add(dir);
      if (isSymlink(dir)) wanted.add(dirname(dir));
      const data = resolveData(dir);
      if (data !== undefined) wanted.add(data);
    }
    for (const [path, entry] of this.attached) {
      if (!wanted.has(path) || identity(path) !== entry.identity) this.detach(path);
    }
    for (const path of wanted) {
      if (!this.attached.has(path)) this.attach(path);
    }
  }

  private attach(path: string): void {
    const id = identity(path);
    if (id === undefined) return;
    try {
      const watcher = watch(path, { persistent: false }, () => {
        this.onEvent();
      });
      watcher.on('error', (error) => {
        this.logger.debug({ err: error, path }, 'file watch ended; the rescan re-attaches it');
        this.detach(path);
        this.onEvent();
      });
      this.attached.set(path, { watcher, identity: id });
    } catch (error) {
      this.logger.warn({ err: error, path }, 'cannot watch directory; relying on the periodic rescan');
    }
  }

  private detach(path: string): void {
    const entry = this.attached.get(path);
    if (!entry) return;
    this.attached.delete(path);
    entry.watcher.close();
  }

  /** Paths under watch now (for logs and tests). */
  watching(): string[] {
    return [...this.attached.keys()].sort();
  }

  close(): void {
    this.closed = true;
    for (const path of [...this.attached.keys()]) this.detach(path);
  }
}
