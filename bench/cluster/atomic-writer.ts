import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Writes a ConfigMap volume's files the way kubelet's AtomicWriter does: the payload goes into a
 * new hidden timestamped directory, a `..data_tmp` symlink to it is renamed over `..data` (the
 * atomic swap the watcher looks for), and the old directory is removed. The user-visible names
 * (`key -> ..data/key`) stay as kubelet made them.
 */
export async function atomicWrite(
  volumeDir: string,
  files: Record<string, string>,
  serial: number,
): Promise<void> {
  const old = await readlink(join(volumeDir, '..data'));
  const stamp = `..${new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace('Z', '')}${String(serial).padStart(6, '0')}`;
  const dir = join(volumeDir, stamp);
  await mkdir(dir, { mode: 0o755 });
  for (const [name, content] of Object.entries(files))
    await writeFile(join(dir, name), content, { mode: 0o644 });
  const tmp = join(volumeDir, '..data_tmp');
  await symlink(stamp, tmp);
  await rename(tmp, join(volumeDir, '..data'));
  await rm(join(volumeDir, old), { recursive: true, force: true });
}
