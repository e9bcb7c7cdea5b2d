// sidekick's sidecars running on a real node: etcd, kube-apiserver (Node authorizer, PodSecurity)
// and kube-controller-manager as in the e2e suite, the real `sidekick serve` behind deploy/base's
// webhook configuration, and a kubelet with Debian's containerd and runc running what the
// apiserver stored. Started by test/node/run.sh inside a network namespace of its own; every
// case reads what happened from the API (status, container logs), never through exec.
import { after, before, describe } from 'node:test';
import { checkCases } from './cases/checks.js';
import { gitSyncCases } from './cases/git-sync.js';
import { imageCases } from './cases/image.js';
import { jobCases } from './cases/jobs.js';
import { orderingCases } from './cases/ordering.js';
import { relayCases } from './cases/relay.js';
import { relayFallbackCases, reloadCases } from './cases/reload.js';
import { repairCases } from './cases/repair.js';
import { templateCases } from './cases/templates.js';
import { NodeEnvironment } from './harness/environment.js';

void describe('sidekick on a real node', () => {
  const env = new NodeEnvironment();

  before(
    async () => {
      try {
        await env.setUp();
      } catch (error) {
        process.stderr.write(`\n--- logs after the node suite's setup failed:\n${env.logTails(80)}\n`);
        throw error;
      }
      const { node } = env;
      process.stderr.write(
        `node Ready ${((node.readyMs - node.startedMs) / 1000).toFixed(1)} s after containerd started\n`,
      );
    },
    { timeout: 10 * 60_000 },
  );

  after(async () => {
    await env.tearDown();
  });

  imageCases(env);
  templateCases(env);
  jobCases(env);
  orderingCases(env);
  reloadCases(env);
  relayFallbackCases(env);
  relayCases(env);
  gitSyncCases(env);
  checkCases(env);
  repairCases(env);
});
