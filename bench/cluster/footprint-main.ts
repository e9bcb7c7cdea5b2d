// config-watcher's footprint on a real node: run by `npm run bench:cluster` through
// test/node/run.sh, which starts it inside the node suite's network and mount namespaces in
// place of the suite (`bash test/node/run.sh node dist/bench/cluster/footprint-main.js OUT`).
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { NodeEnvironment } from '../../test/node/harness/environment.js';
import { footprintPhase } from './footprint.js';

const out = process.argv[2];
const counts = (process.argv[3] ?? '1,10,50').split(',').map(Number);
const changes = Number(process.argv[4] ?? '1000');
if (out === undefined) {
  process.stderr.write('usage: footprint-main.js OUT.json [COUNTS] [CHANGES]\n');
  process.exit(2);
}
// The image's Node release, cached by `npm run image` (scripts/image).
const imageNode = join(
  process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
  'sidekick',
  'node-v26.12.1',
  'node',
);
const env = new NodeEnvironment();
try {
  await env.setUp();
  const results = await footprintPhase(env, {
    counts,
    changes,
    changeIntervalMs: 100,
    readyRuns: 15,
    ...(existsSync(imageNode) ? { imageNode } : {}),
  });
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
} catch (error) {
  process.stderr.write(`\n--- footprint failed: ${String(error)}\n${env.logTails(40)}\n`);
  process.exitCode = 1;
} finally {
  await env.tearDown();
}
