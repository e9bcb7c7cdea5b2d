// (b) The templates ConfigMap changed under load (kubelet swaps its ..data link): first to a valid
// change, which takes effect, then to an invalid set, which is reported and ignored. No admission
// fails at either step.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { loopbackCertificate } from '../support/certificates.js';
import { kubeletSwap } from '../support/kubelet-swap.js';
import {
  assertNoFailures,
  builtinTemplates,
  load,
  replaceOnce,
  report,
  secretDir,
  sleep,
} from './fixtures.js';
import { Sidekick } from './sidekick.js';

const DURATION_MS = 12_000;
const VALID_AFTER_MS = 3_000;
const INVALID_AFTER_MS = 7_000;
/** db-proxy's memory limit in the built-in template, and after the change. */
const OLD_LIMIT = '128Mi';
const NEW_LIMIT = '192Mi';

export async function templateSwap(scratch: string, diagnostic: (line: string) => void): Promise<void> {
  const gen1 = await builtinTemplates();
  const dbProxy = gen1['db-proxy.yaml'] ?? '';
  const gen2 = {
    ...gen1,
    'db-proxy.yaml': replaceOnce(dbProxy, `memory: ${OLD_LIMIT}`, `memory: ${NEW_LIMIT}`),
  };
  // A mistake a user makes: requiring a template that does not exist.
  const gen3 = {
    ...gen2,
    'db-proxy.yaml': replaceOnce(
      gen2['db-proxy.yaml'],
      '  after: [vault-agent]\n',
      '  after: [vault-agent]\n  requires: [cloud-sql-auth]\n',
    ),
  };
  const templates = join(scratch, 'template-swap-templates');
  await mkdir(templates);
  await kubeletSwap(templates, gen1, 'gen1');
  const cert = await loopbackCertificate();
  const secret = await secretDir(scratch, 'template-swap-tls', cert);
  const server = await Sidekick.start({
    port: 0,
    certFile: secret.certFile,
    keyFile: secret.keyFile,
    ca: cert.ca.cert,
    templatesDir: templates,
  });
  try {
    const started = Date.now();
    const running = load(server.port, cert.ca.cert, DURATION_MS);
    await sleep(VALID_AFTER_MS);
    const validAt = Date.now();
    await kubeletSwap(templates, gen2, 'gen2');
    const reloaded = await server.logged('templates reloaded', validAt);
    await sleep(Math.max(0, started + INVALID_AFTER_MS - Date.now()));
    const invalidAt = Date.now();
    await kubeletSwap(templates, gen3, 'gen3');
    const rejected = await server.logged('template set rejected; the last good set stays in use', invalidAt);
    assert.match(JSON.stringify(rejected.problems), /cloud-sql-auth/);
    assert.equal(rejected.keptHash, reloaded.hash, 'the valid change stays in use');
    assert.equal(await server.readyz(), 200, 'still ready with the last good set');
    const result = await running.done;
    report('template swap', result, diagnostic);
    assertNoFailures(result);

    const reloadTime = reloaded.time as number;
    const rejectTime = rejected.time as number;
    const tags = (answers: typeof result.answers): Set<string> => new Set(answers.map((a) => a.tag));
    const beforeChange = result.answers.filter((a) => a.endedAt < validAt);
    const afterChange = result.answers.filter((a) => a.startedAt > reloadTime && a.startedAt < invalidAt);
    const afterInvalid = result.answers.filter((a) => a.startedAt > rejectTime);
    diagnostic(
      `template swap: valid set in use ${String(reloadTime - validAt)} ms after its swap, invalid set rejected ` +
        `${String(rejectTime - invalidAt)} ms after its swap; answers with db-proxy limit ${OLD_LIMIT} before the ` +
        `change ${String(beforeChange.length)}, ${NEW_LIMIT} after it ${String(afterChange.length)}, ` +
        `${NEW_LIMIT} after the invalid set ${String(afterInvalid.length)}`,
    );
    assert.ok(beforeChange.length > 500 && afterChange.length > 500 && afterInvalid.length > 500);
    assert.deepEqual(tags(beforeChange), new Set([OLD_LIMIT]));
    assert.deepEqual(tags(afterChange), new Set([NEW_LIMIT]));
    assert.deepEqual(tags(afterInvalid), new Set([NEW_LIMIT]));
    const reloads = server.lines.filter((line) => line.msg === 'templates reloaded');
    assert.equal(reloads.length, 1, 'the invalid set never replaced the valid one');
  } finally {
    const exit = await server.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, server.logText());
  }
}
