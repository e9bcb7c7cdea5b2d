import type { Hash } from 'node:crypto';
import type { Stats } from 'node:fs';
import type { ChangeSummary } from './notifier.js';

// By process.getBuiltinModule, not `import`, as the rest of `sidekick watch`: see health.ts.
const { open, readdir, stat } = process.getBuiltinModule('node:fs/promises');
const paths = process.getBuiltinModule('node:path');
const join = (...parts: string[]): string => paths.join(...parts);

function sha256(): Hash {
  return process.getBuiltinModule('node:crypto').createHash('sha256');
}

/** The content of one watched directory as the app sees it: relative path → sha256 of the bytes. */
export interface DirSnapshot {
  dir: string;
  /** Why the directory could not be read (missing, not a directory, no permission). */
  error?: string;
  files: Map<string, string>;
}

export interface Snapshot {
  /** One hash over every directory's names and contents; equal hashes mean nothing to reload. */
  hash: string;
  dirs: DirSnapshot[];
  /** Every directory was readable. */
  complete: boolean;
}

/** Marks a file whose bytes could not be read (permissions): in the map instead of a digest. */
export const UNREADABLE = 'unreadable: ';

/** Files (full paths) whose content the agent cannot see, so cannot compare. */
export function unreadableFiles(snapshot: Snapshot): string[] {
  return snapshot.dirs.flatMap((d) =>
    [...d.files].filter(([, digest]) => digest.startsWith(UNREADABLE)).map(([path]) => join(d.dir, path)),
  );
}

/** Deep enough for any ConfigMap `items[].path`, bounded against symlink loops. */
const MAX_DEPTH = 32;

/** Never a hex digest, so never mistaken for one. */
function errorCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  if (typeof code !== 'string') return `${UNREADABLE}error`;
  return code === 'ENOENT' ? code : `${UNREADABLE}${code}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Read buffers, 16 KiB each, reused from file to file and scan to scan: a stream per file
 * allocated 64 KiB and its objects for every file of every scan, which the watcher's heap then
 * grew to hold over thousands of changes (bench/README.md, finding H). One per directory being
 * scanned at the same time, so usually one.
 */
const READ_BUFFER_BYTES = 16 * 1024;
const freeBuffers: Buffer[] = [];

async function hashFile(path: string, buffer: Buffer): Promise<string> {
  const hash = sha256();
  const file = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

/** `stat` follows links; undefined when the entry vanished or dangles (kubelet mid-swap). */
async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

/**
 * Walks the user-visible view: names starting with `..` are kubelet's (`..data`, `..2026_…`,
 * `..data_tmp`) and never user keys, so they are skipped; the visible links lead through `..data`
 * to the current content. Links are followed; only regular files are read (a FIFO would block).
 */
async function walk(
  root: string,
  relative: string,
  depth: number,
  seen: Set<string>,
  files: Map<string, string>,
  buffer: Buffer,
): Promise<void> {
  const names = (await readdir(join(root, relative))).filter((n) => !n.startsWith('..')).sort();
  for (const name of names) {
    const rel = relative === '' ? name : `${relative}/${name}`;
    const path = join(root, rel);
    const info = await statOrUndefined(path);
    if (info === undefined) continue;
    if (info.isDirectory()) {
      const key = `${info.dev}:${info.ino}`;
      if (depth >= MAX_DEPTH || seen.has(key)) continue;
      seen.add(key);
      await walk(root, rel, depth + 1, seen, files, buffer).catch(() => undefined);
      seen.delete(key);
    } else if (info.isFile()) {
      const digest = await hashFile(path, buffer).catch(errorCode);
      // Gone since the stat: skip. Unreadable: still counts by name (its arrival or removal is a change).
      if (digest !== 'ENOENT') files.set(rel, digest);
    }
  }
}

export async function scanDir(dir: string): Promise<DirSnapshot> {
  const files = new Map<string, string>();
  const buffer = freeBuffers.pop() ?? Buffer.allocUnsafe(READ_BUFFER_BYTES);
  try {
    const top = await stat(dir);
    if (!top.isDirectory()) return { dir, error: 'not a directory', files };
    await walk(dir, '', 0, new Set([`${top.dev}:${top.ino}`]), files, buffer);
    return { dir, files };
  } catch (error) {
    return { dir, error: errorMessage(error), files: new Map() };
  } finally {
    freeBuffers.push(buffer);
  }
}

export function combinedHash(dirs: readonly DirSnapshot[]): string {
  const hash = sha256();
  for (const d of dirs) {
    hash.update(`dir\0${d.dir}\0${d.error === undefined ? 'ok' : 'unreadable'}\0`);
    for (const [path, digest] of [...d.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      hash.update(`file\0${path}\0${digest}\0`);
    }
  }
  return hash.digest('hex');
}

export async function scanDirs(dirs: readonly string[]): Promise<Snapshot> {
  const scanned = await Promise.all(dirs.map(scanDir));
  return {
    hash: combinedHash(scanned),
    dirs: scanned,
    complete: scanned.every((d) => d.error === undefined),
  };
}

function flatten(snapshot: Snapshot): Map<string, string> {
  const all = new Map<string, string>();
  for (const d of snapshot.dirs) {
    for (const [path, digest] of d.files) all.set(join(d.dir, path), digest);
  }
  return all;
}

/** Which files (full paths) were added, removed or modified from `before` to `after`. */
export function diffSnapshots(before: Snapshot, after: Snapshot): ChangeSummary {
  const a = flatten(before);
  const b = flatten(after);
  const change: ChangeSummary = { added: [], removed: [], modified: [] };
  for (const [path, digest] of b) {
    const old = a.get(path);
    if (old === undefined) change.added.push(path);
    else if (old !== digest) change.modified.push(path);
  }
  for (const path of a.keys()) {
    if (!b.has(path)) change.removed.push(path);
  }
  for (const list of [change.added, change.removed, change.modified]) list.sort();
  return change;
}
