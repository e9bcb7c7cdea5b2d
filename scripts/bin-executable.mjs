// After tsc, which writes every file 0644: the package's bin entries (package.json) made
// executable. npm sets the mode only where it links a bin itself, so without this a checkout's
// own `npx sidekick` fails with "Permission denied" when npm's exec cache already holds the
// checkout's path (a second clone at the same place).
import { chmodSync, readFileSync, statSync } from 'node:fs';

const { bin } = JSON.parse(readFileSync('package.json', 'utf8'));
for (const target of Object.values(bin ?? {})) {
  chmodSync(target, statSync(target).mode | 0o111);
}
