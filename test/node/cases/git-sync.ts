// git-sync with config-watcher on a running Pod: a repository served over HTTPS from inside the
// suite's network namespace (Debian's git http-backend), the git-sync template's sidecar (a
// stand-in for git-sync with Debian's real git: the module proxy refuses git-sync's module)
// checks it out, the app reads the checkout at start, and each commit pushed reaches the app as
// one POST from config-watcher, which watches the link git-sync swaps.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generateCa } from '../../../src/certs/generate.js';
import { INJECT, nativeSidecarNames } from '../../e2e/harness/objects.js';
import { nodeDir, type NodeEnvironment } from '../harness/environment.js';
import { GitServer } from '../harness/git-server.js';
import { POD_GATEWAY } from '../harness/node.js';
import {
  allRunning,
  appContainer,
  containerLog,
  logLine,
  nodePod,
  rawLog,
  waitForPod,
} from '../harness/pods.js';

const NS = 'node-git-sync';
const ROUNDS = 3;
const PERIOD = '2s';

export function gitSyncCases(env: NodeEnvironment): void {
  env.test(
    'git-sync and config-watcher: each commit pushed reaches the app as exactly one reload',
    async () => {
      const api = env.e2e.api;
      await env.restrictedNamespace(NS);
      const ca = await generateCa('sidekick-node-git-ca', 1);
      const server = await GitServer.start({
        dir: join(nodeDir(), 'git'),
        host: POD_GATEWAY,
        ca,
        name: 'config',
        files: { 'config.txt': 'version=1\n' },
      });
      try {
        await env.apply({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'git-ca', namespace: NS },
          stringData: { 'ca.crt': ca.cert },
        });
        const input = nodePod({
          name: 'git',
          annotations: {
            // config-watcher first: it still starts after git-sync, whose volume it watches.
            [INJECT]: 'config-watcher, git-sync',
            'sidekick.dev/git-sync.repo': server.url('config'),
            'sidekick.dev/git-sync.period': PERIOD,
            'sidekick.dev/git-sync.ca-secret': 'git-ca',
            'sidekick.dev/config-watcher.url': 'http://127.0.0.1:8080/-/reload',
          },
          spec: {
            containers: [
              appContainer('app', [
                '/bin/reload-app',
                '--listen=127.0.0.1:8080',
                '--config=/git/current/config.txt',
              ]),
            ],
          },
        });
        const { object: stored } = await env.e2e.createPod(NS, input);
        assert.deepEqual(nativeSidecarNames(stored), ['git-sync', 'config-watcher']);
        await waitForPod(api, NS, 'git', 'running', (pod) =>
          allRunning(pod, ['git-sync', 'config-watcher', 'app']),
        ).catch(async (error: unknown) => {
          // What git-sync said is the first thing to read when its probe never passes.
          const said = await rawLog(api, NS, 'git', 'git-sync').catch((e: unknown) => String(e));
          throw new Error(`${String(error)}\ngit-sync's log:\n${said}`);
        });
        // The startup probe held the app back until the first checkout: it read it at start.
        const started = await logLine(api, NS, 'git', 'app', (l) => l.event === 'started');
        assert.equal(started.fields.config, 'version=1');
        const latenciesMs: number[] = [];
        for (let round = 1; round <= ROUNDS; round++) {
          const version = `version=${String(round + 1)}`;
          const hash = await server.commit({ 'config.txt': `${version}\n` }, version);
          const pushedAt = Date.now();
          const reloaded = await logLine(
            api,
            NS,
            'git',
            'app',
            (l) => l.event === 'reload' && l.fields.count === String(round),
            60_000,
          );
          assert.equal(reloaded.fields.config, version, 'the app read the new commit when told to');
          latenciesMs.push(reloaded.at - pushedAt);
          const synced = await logLine(
            api,
            NS,
            'git',
            'git-sync',
            (l) => l.event === 'synced' && l.fields.hash === hash,
          );
          assert.ok(synced.at <= reloaded.at, 'the reload followed the sync of that commit');
        }
        await new Promise((resolve) => setTimeout(resolve, 5_000));
        const reloads = (await containerLog(api, NS, 'git', 'app')).filter(
          (l) => l.event === 'reload',
        ).length;
        process.stderr.write(
          `git-sync (stand-in, period ${PERIOD}) + config-watcher: commit pushed → POST /-/reload: ${latenciesMs.map((m) => `${(m / 1000).toFixed(1)} s`).join(', ')}\n`,
        );
        assert.equal(reloads, ROUNDS, 'exactly one reload per commit');
      } finally {
        await server.close();
      }
    },
  );
}
