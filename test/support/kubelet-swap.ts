import { lstat, mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Updates `dir` the way kubelet updates a mounted ConfigMap or Secret: the files go into a new
 * hidden directory, `..data` is re-pointed at it with an atomic rename, each visible name is a
 * symlink through `..data`, and the previous directory is removed.
 */
export async function kubeletSwap(dir: string, files: Record<string, string>, tag: string): Promise<void> {
  const generation = `..${tag}`;
  await mkdir(join(dir, generation));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, generation, name), content);
  const previous = await readlink(join(dir, '..data')).catch(() => undefined);
  await symlink(generation, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of Object.keys(files)) {
    const exists = await lstat(join(dir, name)).then(
      () => true,
      () => false,
    );
    if (!exists) await symlink(join('..data', name), join(dir, name));
  }
  if (previous !== undefined) await rm(join(dir, previous), { recursive: true, force: true });
}
