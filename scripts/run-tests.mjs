// Runs the compiled node:test files under dist/test/<suite> for each suite named on the
// command line. Node 20's --test takes no globs, so the files are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const suites = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path);
    else if (entry.endsWith('.test.js')) files.push(path);
  }
};
for (const suite of suites) {
  const dir = join('dist', 'test', suite);
  try {
    statSync(dir);
  } catch {
    console.error(`no compiled tests in ${dir}`);
    process.exit(1);
  }
  walk(dir);
}
if (files.length === 0) {
  console.error(`no test files in ${suites.join(', ')}`);
  process.exit(1);
}
const extra = process.env.SIDEKICK_TEST_ARGS ? process.env.SIDEKICK_TEST_ARGS.split(' ') : [];
const result = spawnSync(process.execPath, ['--enable-source-maps', '--test', ...extra, ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
