// (c) Two replicas behind a Service (here a round-robin proxy that drops not-ready endpoints),
// under load: one gets SIGTERM, as in a rolling update or a node drain, and is started again; then
// the other. With --shutdown-delay the replica keeps answering, not ready, until the endpoints
// have dropped it, and each answer then closes its connection, so clients reconnect elsewhere.
// No admission fails.
import assert from 'node:assert/strict';
import { loopbackCertificate } from '../support/certificates.js';
import { repoPath } from '../support/paths.js';
import { assertNoFailures, load, report, secretDir, sleep } from './fixtures.js';
import { EndpointsProxy } from './proxy.js';
import { Sidekick, type Exit } from './sidekick.js';

const DURATION_MS = 16_000;
const FIRST_FAULT_AFTER_MS = 2_000;
const BETWEEN_FAULTS_MS = 1_000;
const SHUTDOWN_DELAY_SECONDS = 2;

interface Restart {
  exit: Exit;
  /** From SIGTERM until the proxy took the replica out of rotation, and until it exited. */
  removedMs: number;
  exitedMs: number;
  replacement: Sidekick;
}

export async function sigtermFailover(scratch: string, diagnostic: (line: string) => void): Promise<void> {
  const cert = await loopbackCertificate();
  const secret = await secretDir(scratch, 'failover-tls', cert);
  const options = {
    certFile: secret.certFile,
    keyFile: secret.keyFile,
    ca: cert.ca.cert,
    templatesDir: repoPath('templates'),
    extraArgs: [`--shutdown-delay=${String(SHUTDOWN_DELAY_SECONDS)}`],
  };
  const servers: Sidekick[] = [];
  let proxy: EndpointsProxy | undefined;
  try {
    servers.push(
      await Sidekick.start({ port: 0, ...options }),
      await Sidekick.start({ port: 0, ...options }),
    );
    const [a, b] = servers as [Sidekick, Sidekick];
    proxy = new EndpointsProxy([a.port, b.port], cert.ca.cert);
    await proxy.start();
    await proxy.untilReady(a.port);
    await proxy.untilReady(b.port);
    const endpoints = proxy;

    const restart = async (old: Sidekick): Promise<Restart> => {
      const signalled = Date.now();
      const stopping = old.stop();
      await endpoints.untilRemoved(old.port);
      const removedMs = Date.now() - signalled;
      const exit = await stopping;
      const exitedMs = Date.now() - signalled;
      const replacement = await Sidekick.start({ port: old.port, ...options });
      servers.push(replacement);
      await endpoints.untilReady(replacement.port);
      return { exit, removedMs, exitedMs, replacement };
    };

    const started = Date.now();
    const running = load(proxy.port, cert.ca.cert, DURATION_MS);
    await sleep(FIRST_FAULT_AFTER_MS);
    const first = await restart(a);
    await sleep(BETWEEN_FAULTS_MS);
    const second = await restart(b);
    const faultsOverAt = Date.now() - started;
    const result = await running.done;
    report('SIGTERM and restart behind a proxy', result, diagnostic);
    for (const [name, r] of [
      ['first', first],
      ['second', second],
    ] as const) {
      diagnostic(
        `SIGTERM and restart: ${name} replica out of rotation ${String(r.removedMs)} ms after SIGTERM, exited ` +
          `${String(r.exitedMs)} ms after it (${JSON.stringify(r.exit)}), restarted one served ` +
          `${String(r.replacement.admissions)} admissions`,
      );
    }
    diagnostic(
      `SIGTERM and restart: both faults over ${String(faultsOverAt)} ms into the load; admissions per process ${servers.map((s) => String(s.admissions)).join(', ')}; ` +
        `proxy connections per backend ${endpoints.backends.map((b) => String(b.connections)).join(', ')}, ` +
        `refused-and-moved ${String(endpoints.failovers)}, without a backend ${String(endpoints.noBackend)}`,
    );
    assertNoFailures(result);
    assert.ok(faultsOverAt < DURATION_MS - 1000, `the faults ended ${String(faultsOverAt)} ms into the load`);
    for (const r of [first, second]) {
      assert.deepEqual(r.exit, { code: 0, signal: null }, 'SIGTERM: a clean exit, nothing cut');
    }
    assert.equal(endpoints.noBackend, 0);
    // The draining replicas closed their keep-alive connections with their answers.
    assert.ok(result.closedByServer > 0, 'no keep-alive connection was closed with Connection: close');
    // Every process answered part of the load: the two first ones, the first replacement (which
    // takes over the connections of the second replica), and the last one (back in rotation: it
    // gets its share of the new connections).
    for (const server of servers) assert.ok(server.admissions >= 20, server.logText());
    // Stopped, so that their logs are complete.
    for (const r of [first, second]) {
      assert.deepEqual(await r.replacement.stop(), { code: 0, signal: null });
    }
    assert.equal(
      servers.reduce((sum, s) => sum + s.admissions, 0),
      result.ok,
      'every answer was logged by one of the processes',
    );
  } finally {
    await proxy?.close();
    await Promise.all(servers.map((s) => s.stop()));
  }
}
