// Start order and readiness gating on a running Pod, timed from the runtime's own log
// timestamps: vault-agent → (init) fetch-creds → db-proxy → (init) migrate → app, each step only
// after the one before it was ready; and on deletion the app stops before its sidecars.
import assert from 'node:assert/strict';
import { INJECT, nativeSidecarNames } from '../../e2e/harness/objects.js';
import type { NodeEnvironment } from '../harness/environment.js';
import {
  allRunning,
  appContainer,
  containerLog,
  LogFollower,
  nodePod,
  waitForPod,
  type LogLine,
} from '../harness/pods.js';
import { credentialsSecret } from './templates.js';

const NS = 'node-order';
const POD = 'ordered';

function first(lines: LogLine[], what: string, match: (line: LogLine) => boolean = () => true): LogLine {
  const line = lines.find(match);
  assert.ok(line, `${what}: no such line in ${JSON.stringify(lines.map((l) => l.text))}`);
  return line;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

export function orderingCases(env: NodeEnvironment): void {
  env.test(
    'sidecars start in dependency order, each gated by the startupProbe of the one before; init containers placed among them',
    async () => {
      const api = env.e2e.api;
      await env.restrictedNamespace(NS);
      await env.apply(credentialsSecret(NS, 'csql-key'));
      const annotations = {
        // Annotation order says db-proxy first; its template says after vault-agent.
        [INJECT]: 'db-proxy, vault-agent',
        'sidekick.dev/db-proxy.instance': 'sidekick-node:us-central1:orders',
        'sidekick.dev/db-proxy.credentials-secret': 'csql-key',
        'sidekick.dev/db-proxy.after': 'fetch-creds',
        'sidekick.dev/vault-agent.role': 'web',
        'sidekick.dev/vault-agent.secret': 'secret/data/web',
      };
      const secretFile = 'file:/vault/secrets/secret.json';
      const input = nodePod({
        name: POD,
        annotations,
        spec: {
          initContainers: [
            // Reads what vault-agent rendered: it must already be there.
            appContainer('fetch-creds', ['/bin/app', `--check=${secretFile}`, '--exit-after=0s'], {
              volumeMounts: [
                { name: 'sidekick-vault-agent-secrets', mountPath: '/vault/secrets', readOnly: true },
              ],
            }),
            // A migration through the proxy: it must already listen.
            appContainer('migrate', ['/bin/app', '--check=tcp:127.0.0.1:5432', '--exit-after=0s']),
          ],
          containers: [
            appContainer('app', [
              '/bin/app',
              '--check=tcp:127.0.0.1:5432',
              `--check=${secretFile}`,
              '--stop-delay=2s',
            ]),
          ],
        },
      });
      const { object: stored } = await env.e2e.createPod(NS, input);
      assert.deepEqual(nativeSidecarNames(stored), ['vault-agent', 'db-proxy']);
      await waitForPod(api, NS, POD, 'running with both sidecars started', (pod) =>
        allRunning(pod, ['vault-agent', 'db-proxy', 'app']),
      );
      const log = async (container: string): Promise<LogLine[]> => containerLog(api, NS, POD, container);
      const [vault, fetch, proxy, migrate, app] = await Promise.all(
        ['vault-agent', 'fetch-creds', 'db-proxy', 'migrate', 'app'].map(log),
      );
      const steps = [
        ['vault-agent started', first(vault!, 'vault-agent start').at],
        [
          'vault-agent rendered the secret (its probe can pass)',
          first(vault!, 'render', (l) => l.event === 'rendered').at,
        ],
        ['fetch-creds started', first(fetch!, 'fetch-creds start').at],
        ['fetch-creds exited', first(fetch!, 'fetch-creds exit', (l) => l.event === 'exiting').at],
        ['db-proxy started', first(proxy!, 'db-proxy start').at],
        [
          'db-proxy ready',
          first(proxy!, 'db-proxy ready', (l) => l.text.includes('ready for new connections')).at,
        ],
        ['migrate started', first(migrate!, 'migrate start').at],
        ['migrate exited', first(migrate!, 'migrate exit', (l) => l.event === 'exiting').at],
        ['app started', first(app!, 'app start').at],
      ] as const;
      const t0 = steps[0][1];
      process.stderr.write(`start order of ${NS}/${POD} (runtime log timestamps):\n`);
      for (const [what, at] of steps) process.stderr.write(`  +${seconds(at - t0)}  ${what}\n`);
      for (let i = 1; i < steps.length; i++) {
        const [before, beforeAt] = steps[i - 1]!;
        const [after, afterAt] = steps[i]!;
        assert.ok(
          afterAt >= beforeAt,
          `${after} (${String(afterAt)}) came before ${before} (${String(beforeAt)})`,
        );
      }
      // Each step found what the previous one provides.
      assert.equal(first(fetch!, 'fetch-creds check', (l) => l.event === 'check').fields.ok, 'true');
      assert.equal(first(migrate!, 'migrate check', (l) => l.event === 'check').fields.ok, 'true');
      for (const line of app!.filter((l) => l.event === 'check'))
        assert.equal(line.fields.ok, 'true', line.text);

      // Deletion: kubelet stops the app first, the sidecars once it has exited.
      const followers = await Promise.all(
        ['app', 'db-proxy', 'vault-agent'].map((c) => LogFollower.start(api, NS, POD, c)),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      const deletedAt = Date.now();
      await api.delete(`/api/v1/namespaces/${NS}/pods/${POD}`);
      await Promise.all(followers.map((f) => f.ended));
      const [appLog, proxyLog, vaultLog] = followers;
      const appStopped = appLog?.find('stopped')?.at;
      const proxyTerm = proxyLog?.find('SIGTERM signal received')?.at;
      const vaultTerm = vaultLog?.find('signal')?.at;
      assert.ok(
        appStopped && proxyTerm && vaultTerm,
        `stop lines: app ${String(appStopped)}, db-proxy ${String(proxyTerm)}, vault-agent ${String(vaultTerm)}`,
      );
      process.stderr.write(
        `stop order after DELETE: app stopped +${seconds(appStopped - deletedAt)}, db-proxy SIGTERM +${seconds(proxyTerm - deletedAt)}, vault-agent SIGTERM +${seconds(vaultTerm - deletedAt)}\n`,
      );
      assert.ok(proxyTerm > appStopped, 'db-proxy got SIGTERM only after the app had stopped');
      assert.ok(vaultTerm > appStopped, 'vault-agent got SIGTERM only after the app had stopped');
    },
  );
}
