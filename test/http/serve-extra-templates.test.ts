// `sidekick serve --extra-templates DIR` as a real process: the built-in set with the directory
// added, in its log and readiness; a directory that redefines a built-in leaves it unready with
// both files named.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { builtinTemplateDir } from '../../src/templates/load.js';
import { PROBE_TEMPLATE, tempDir } from './helpers.js';
import { SidekickProcess } from '../support/sidekick-process.js';

interface Served {
  extra: string;
  serve: SidekickProcess;
  done: () => Promise<void>;
}

/** `sidekick serve` with an extra directory holding `files`, given by `args` or `env`. */
async function serveWith(
  files: Record<string, string>,
  args: (extra: string) => string[],
  env: (extra: string) => Record<string, string> = () => ({}),
): Promise<Served> {
  const dir = await tempDir('serve-extra');
  const extra = join(dir.path, 'extra');
  await mkdir(extra);
  for (const [name, text] of Object.entries(files)) await writeFile(join(extra, name), text);
  // Without the SIDEKICK_* settings of the machine running the tests.
  const clean = Object.entries(process.env).filter(([key]) => !key.startsWith('SIDEKICK_'));
  const serve = SidekickProcess.spawn(
    ['serve', '--port', '0', '--metrics-port', '0', '--certs-dir', join(dir.path, 'certs'), ...args(extra)],
    { cwd: dir.path, env: { ...Object.fromEntries(clean), ...env(extra) } },
  );
  return {
    extra,
    serve,
    done: async () => {
      await serve.stop(5000);
      await dir.remove();
    },
  };
}

describe('sidekick serve --extra-templates', () => {
  it('serves the built-ins with the directory added, from the flag or SIDEKICK_EXTRA_TEMPLATES', async () => {
    for (const given of ['flag', 'env'] as const) {
      const { extra, serve, done } = await serveWith(
        { 'probe.yaml': PROBE_TEMPLATE },
        (dir) => (given === 'flag' ? ['--extra-templates', dir] : []),
        (dir): Record<string, string> => (given === 'env' ? { SIDEKICK_EXTRA_TEMPLATES: dir } : {}),
      );
      try {
        const loaded = await serve.log.logged('templates loaded');
        assert.equal(loaded.dir, builtinTemplateDir(), given);
        assert.equal(loaded.extraDir, extra, given);
        assert.ok(Array.isArray(loaded.templates));
        assert.ok(loaded.templates.includes('probe') && loaded.templates.includes('db-proxy'), given);
        const listening = await serve.listening(15_000);
        assert.equal(listening.ready, true, given);
        assert.equal(listening.extraTemplatesDir, extra, given);
      } finally {
        await done();
      }
    }
  });

  it('a directory that redefines a built-in is refused naming both files, and the server is not ready', async () => {
    const mine = PROBE_TEMPLATE.replace('name: probe', 'name: db-proxy');
    const { extra, serve, done } = await serveWith({ 'mine.yaml': mine }, (dir) => [
      '--extra-templates',
      dir,
    ]);
    try {
      const rejected = await serve.log.logged('template set rejected; no set in use');
      assert.deepEqual(rejected.problems, [
        `template 'db-proxy' is defined in both ${join(builtinTemplateDir(), 'db-proxy.yaml')} and ${join(extra, 'mine.yaml')}: a directory that adds templates cannot replace one`,
      ]);
      const listening = await serve.listening(15_000);
      assert.equal(listening.ready, false);
    } finally {
      await done();
    }
  });
});
