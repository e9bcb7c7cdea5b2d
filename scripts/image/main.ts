// npm run image [-- --out FILE] [--reference REF]: the sidekick image as an archive for
// `docker load`, `podman load` or `ctr images import`, built from the Dockerfile without an engine.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSidekickImage } from './sidekick-image.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'dist/image/sidekick.tar' },
    reference: { type: 'string' },
  },
});

try {
  const image = await buildSidekickImage(process.cwd(), resolve(values.out), values.reference);
  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  process.stdout.write(
    `${image.reference} (Node ${image.nodeVersion}, ${image.digest}): ${image.path}\n` +
      `  layer ${mib(image.layerBytes)} uncompressed, archive ${mib(image.archiveBytes)}\n`,
  );
} catch (error) {
  process.stderr.write(`npm run image: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
