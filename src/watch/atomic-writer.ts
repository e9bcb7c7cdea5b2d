import { randomInt } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { walkFiles } from './volume-files.js';
import { pathProblem, type Payload } from './volume-layout.js';

const DATA = '..data';
const DATA_TMP = '..data_tmp';

/** kubelet's fsGroup masks for a read-only volume (pkg/volume SetVolumeOwnership): group r, dirs also x and setgid. */
const FS_GROUP_FILE = 0o440;
const FS_GROUP_DIR = 0o440 | 0o110 | 0o2000;

function code(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

async function readlinkOrNone(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch (error) {
    if (code(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function timestamp(now: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`;
}

/** os.MkdirTemp as kubelet calls it: the prefix, then a random decimal uint32; then mode 0755. */
async function newTimestampDir(target: string, now: Date): Promise<string> {
  for (;;) {
    const dir = join(target, `${timestamp(now)}${String(randomInt(0, 2 ** 32 - 1))}`);
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (error) {
      if (code(error) === 'EEXIST') continue;
      throw error;
    }
    await chmod(dir, 0o755);
    return dir;
  }
}

/** Whether the bytes differ from what the current version holds (kubelet compares content only). */
async function shouldWrite(payload: Payload, oldDir: string): Promise<boolean> {
  for (const [path, file] of payload) {
    let current: Buffer;
    try {
      current = await readFile(join(oldDir, path));
    } catch (error) {
      if (code(error) === 'ENOENT') return true;
      throw error;
    }
    if (!current.equals(file.data)) return true;
  }
  return false;
}

/** Every path of the old version (files and directories) that the new payload does not keep. */
async function pathsToRemove(payload: Payload, oldDir: string): Promise<string[]> {
  const old = await walkFiles(oldDir, { directories: true });
  const keep = new Set<string>();
  for (const path of payload.keys()) {
    for (let p = path; p !== '.' && p !== ''; p = dirname(p)) keep.add(p);
  }
  return old.filter((p) => !keep.has(p));
}

async function writePayload(payload: Payload, dir: string): Promise<void> {
  for (const [path, file] of payload) {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true, mode: 0o755 });
    await writeFile(full, file.data, { mode: file.mode });
    // The umask applied to the create; the mode must be exactly the projection's.
    await chmod(full, file.mode);
  }
}

/** What kubelet's fsGroup step does to a read-only volume's new version: group-readable, dirs setgid. */
async function applyFsGroup(tsDir: string): Promise<void> {
  const dirs = [
    tsDir,
    ...(await walkFiles(tsDir, { directories: true, only: 'directories' })).map((p) => join(tsDir, p)),
  ];
  const files = (await walkFiles(tsDir, { only: 'files' })).map((p) => join(tsDir, p));
  for (const dir of dirs) await chmod(dir, ((await lstat(dir)).mode & 0o7777) | FS_GROUP_DIR);
  for (const file of files) await chmod(file, ((await lstat(file)).mode & 0o7777) | FS_GROUP_FILE);
}

export function cleanPayload(payload: Payload): Payload {
  const clean: Payload = new Map();
  for (const [path, file] of payload) {
    const problem = pathProblem(path);
    if (problem) throw new Error(`invalid path '${path}': ${problem}`);
    clean.set(normalize(path).replace(/\/$/, ''), file);
  }
  return clean;
}

export interface WriteResult {
  /** false: the content was already there (kubelet writes nothing then). */
  written: boolean;
  /** The new timestamped directory's name. */
  version?: string;
}

/**
 * Writes a payload into `target` exactly as kubelet's AtomicWriter.Write does (pkg/volume/util):
 * a new `..<UTC timestamp>.<random>` directory holding the files, `..data_tmp` → it renamed over
 * `..data` (the atomic swap), one user-visible symlink per top-level name (`name` → `..data/name`),
 * then the names the new version no longer has, and the old version, removed. Content that is
 * already there is not written again (kubelet compares bytes, not modes).
 */
export async function writeAtomically(
  target: string,
  payload: Payload,
  options: { fsGroup?: boolean; now?: Date } = {},
): Promise<WriteResult> {
  const clean = cleanPayload(payload);
  const dataPath = join(target, DATA);
  const oldVersion = await readlinkOrNone(dataPath);
  let remove: string[] = [];
  let write = true;
  if (oldVersion !== undefined) {
    const oldDir = join(target, oldVersion);
    remove = await pathsToRemove(clean, oldDir);
    write = (await shouldWrite(clean, oldDir)) || remove.length > 0;
  }
  let version: string | undefined;
  if (write) {
    const tsDir = await newTimestampDir(target, options.now ?? new Date());
    version = tsDir.slice(target.length + 1);
    try {
      await writePayload(clean, tsDir);
      if (options.fsGroup) await applyFsGroup(tsDir);
      await rm(join(target, DATA_TMP), { force: true });
      await symlink(version, join(target, DATA_TMP));
      await rename(join(target, DATA_TMP), dataPath);
    } catch (error) {
      await rm(tsDir, { recursive: true, force: true });
      throw error;
    }
  }
  // kubelet creates the user-visible links even when the data was already up to date (#121472).
  for (const path of clean.keys()) {
    const [top = path] = path.split('/');
    if ((await readlinkOrNone(join(target, top))) === undefined) {
      await symlink(join(DATA, top), join(target, top));
    }
  }
  for (const path of remove.filter((p) => !p.includes('/'))) {
    await unlink(join(target, path)).catch((error: unknown) => {
      if (code(error) !== 'ENOENT') throw error;
    });
  }
  if (write && oldVersion !== undefined) await rm(join(target, oldVersion), { recursive: true, force: true });
  return { written: write, ...(version ? { version } : {}) };
}
