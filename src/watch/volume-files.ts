import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Payload } from './volume-layout.js';

/** Deep enough for any `items[].path`, bounded all the same. */
const MAX_DEPTH = 32;

/**
 * Relative paths under `dir`, as filepath.Walk lists them (symlinks are not followed): files,
 * and directories too when asked.
 */
export async function walkFiles(
  dir: string,
  options: { directories?: boolean; only?: 'files' | 'directories' } = {},
): Promise<string[]> {
  const out: string[] = [];
  const walk = async (relative: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) return;
    const entries = await readdir(join(dir, relative), { withFileTypes: true });
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (options.directories || options.only === 'directories') out.push(path);
        await walk(path, depth + 1);
      } else if (options.only !== 'directories') out.push(path);
    }
  };
  try {
    await walk('', 0);
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT') return [];
    throw error;
  }
  return out;
}

/**
 * The files of a volume kubelet wrote (the original, mounted in the watcher), as a payload: the
 * content and mode of every file of the version `..data` points to. Read through the link once,
 * so one consistent version is read even while kubelet swaps in the next.
 */
export async function readVolume(dir: string): Promise<Payload> {
  let version: string;
  try {
    version = await readlink(join(dir, '..data'));
  } catch {
    // Not written by kubelet's AtomicWriter (or not yet): the visible files as they are.
    return readTree(dir, (name) => !name.startsWith('..'));
  }
  return readTree(join(dir, version), () => true);
}

async function readTree(root: string, keep: (topName: string) => boolean): Promise<Payload> {
  const payload: Payload = new Map();
  for (const path of await walkFiles(root)) {
    if (!keep(path.split('/')[0] ?? '')) continue;
    const full = join(root, path);
    const info = await stat(full);
    if (!info.isFile()) continue;
    payload.set(path, { data: await readFile(full), mode: info.mode & 0o777 });
  }
  return payload;
}

/** Two payloads hold the same files, bytes and modes. */
export function samePayload(a: Payload, b: Payload): boolean {
  if (a.size !== b.size) return false;
  for (const [path, file] of a) {
    const other = b.get(path);
    if (!other || other.mode !== file.mode || !other.data.equals(file.data)) return false;
  }
  return true;
}
