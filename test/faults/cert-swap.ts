// (a) The serving certificate rotated under load, as cert-manager or `sidekick certs` renew it into
// the mounted Secret (kubelet swaps its ..data link): no admission fails, connections opened after
// the reload get the new certificate, connections opened before it the old one.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { loopbackCertificate } from '../support/certificates.js';
import { kubeletSwap } from '../support/kubelet-swap.js';
import { repoPath } from '../support/paths.js';
import { assertNoFailures, load, report, secretDir, sleep } from './fixtures.js';
import { Sidekick } from './sidekick.js';

const DURATION_MS = 12_000;
const SWAP_AFTER_MS = 4_000;

export async function certificateSwap(scratch: string, diagnostic: (line: string) => void): Promise<void> {
  const first = await loopbackCertificate();
  // A renewal: a new key and certificate from the same CA (the caBundle does not change).
  const second = await loopbackCertificate({ ca: first.ca });
  const secret = await secretDir(scratch, 'cert-swap-tls', first);
  const server = await Sidekick.start({
    port: 0,
    certFile: secret.certFile,
    keyFile: secret.keyFile,
    ca: first.ca.cert,
    templatesDir: repoPath('templates'),
  });
  try {
    const running = load(server.port, first.ca.cert, DURATION_MS);
    await sleep(SWAP_AFTER_MS);
    const swappedAt = Date.now();
    await kubeletSwap(secret.dir, { 'tls.crt': second.cert, 'tls.key': second.key }, 'gen2');
    const reloaded = await server.logged('serving certificate reloaded', swappedAt);
    const result = await running.done;
    report('certificate swap', result, diagnostic);
    assertNoFailures(result);

    const oldPrint = new X509Certificate(first.cert).fingerprint256;
    const newPrint = new X509Certificate(second.cert).fingerprint256;
    assert.equal(reloaded.fingerprint256, newPrint, 'the server logged the new certificate');
    assert.equal(typeof reloaded.time, 'number');
    const reloadTime = reloaded.time as number;
    const before = result.fresh.filter((c) => c.endedAt < swappedAt);
    const after = result.fresh.filter((c) => c.startedAt > reloadTime);
    diagnostic(
      `certificate swap: reload ${String(reloadTime - swappedAt)} ms after the swap; fresh connections ` +
        `before it ${String(before.length)} (old certificate), after it ${String(after.length)} (new certificate)`,
    );
    assert.ok(before.length > 20 && after.length > 20, 'new connections were opened before and after');
    assert.deepEqual(new Set(before.map((c) => c.fingerprint256)), new Set([oldPrint]));
    assert.deepEqual(new Set(after.map((c) => c.fingerprint256)), new Set([newPrint]));
  } finally {
    const exit = await server.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, server.logText());
  }
}
