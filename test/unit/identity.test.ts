// The package's name and the commands the documentation gives: none may resolve a registry
// package other than this one (`sidekick` alone on npm is someone else's).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_IMAGE, PACKAGE_NAME, VERSION } from '../../src/identity.js';
import { repoPath } from '../support/paths.js';

function markdown(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return markdown(path);
    return entry.endsWith('.md') ? [path] : [];
  });
}

describe('identity', () => {
  it('is @sidekick-dev/sidekick, whose command is sidekick', () => {
    const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as {
      name: string;
      version: string;
      bin: Record<string, string>;
    };
    const lock = JSON.parse(readFileSync(repoPath('package-lock.json'), 'utf8')) as { name: string };
    assert.equal(pkg.name, PACKAGE_NAME);
    assert.equal(lock.name, PACKAGE_NAME);
    assert.deepEqual(Object.keys(pkg.bin), ['sidekick']);
    assert.equal(VERSION, pkg.version);
    assert.equal(DEFAULT_IMAGE, `ghcr.io/sidekick-dev/sidekick:${pkg.version}`);
  });

  it('documents no command that would fetch and run the unrelated `sidekick` package', () => {
    const runsOther =
      /\b(?:npx(?:\s+-y|\s+--yes)?|npm\s+exec(?:\s+--)?|pnpm\s+dlx|yarn\s+dlx|bunx)\s+sidekick\b(?!-dev)/;
    const files = markdown(repoPath());
    assert.ok(files.length > 3, files.join(', '));
    const offending = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, i) => ({ file, line: i + 1, text: line }))
        // The warning against it names it between backquotes, followed by no subcommand.
        .filter(({ text }) => runsOther.test(text.replace(/`npx sidekick`/g, ''))),
    );
    assert.deepEqual(offending, []);
  });
});
