// The node suite's preparation, run before it enters its network namespace (the builds need the
// module proxy): the programs, then the images; writes <out>/setup.json for the suite.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildImages, tagOf, templateImages } from './images.js';
import { buildPrograms } from './programs.js';

const out = process.argv[2];
if (out === undefined) {
  process.stderr.write('usage: setup/main.js OUT_DIR\n');
  process.exit(2);
}
try {
  const templates = await templateImages();
  const version = (template: string): string => tagOf(templates.get(template) ?? `${template}:?`);
  const programs = await buildPrograms({
    cloudSqlProxy: version('db-proxy'),
    otelcol: version('otel-collector'),
  });
  const images = await buildImages(join(out, 'images'), programs);
  await writeFile(join(out, 'setup.json'), JSON.stringify({ programs, images }, null, 2));
  for (const image of images) {
    const what = image.standIn === '' ? 'real' : `stand-in for ${image.standIn}`;
    process.stderr.write(
      `image ${image.reference}: ${(image.layerBytes / 2 ** 20).toFixed(1)} MiB (${what})\n`,
    );
  }
} catch (error) {
  process.stderr.write(`node suite setup: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
