// Certificates that renew themselves while Pods are being admitted: two `sidekick serve` replicas
// behind a loopback balancer (the Service stand-in) read the Secret through mount stand-ins that
// swap `..data` as kubelet does, each with its own delay; a CronJob stand-in runs the real
// `sidekick certs` (with the certs Job's account) every few seconds with certificates valid for
// minutes. One rotation is forced, the next one starts by itself when a third of the validity
// remains. Pods are created the whole time: none may fail, and once the rotation is over the
// apiserver trusts only the new CA, so every Pod after it was served under the new certificate.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Balancer } from '../../../bench/cluster/balancer.js';
import { PHASE_ANNOTATION } from '../../../src/certs/secret-state.js';
import { isObject, type JsonObject } from '../../../src/json.js';
import { runSidekick } from '../harness/cli.js';
import { INJECTION_LABEL, type E2eEnvironment } from '../harness/environment.js';
import type { Injector } from '../harness/injector.js';
import { at, str } from '../harness/objects.js';
import { createPodsContinuously } from '../harness/pod-load.js';
import { SecretMountStandIn } from '../harness/secret-mount.js';
import { waitFor } from '../harness/wait.js';

const SECRET = '/api/v1/namespaces/sidekick/secrets/sidekick-tls';
const MUTATING = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/sidekick';
const VALIDATING = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/sidekick-workloads';
const NAMESPACE = 'rotation';
/** Each mount stand-in's delay: both well under the rotation step, and different. */
const LAGS_MS = [2_000, 9_000];
const STEP = '20s';
const VALIDITY = '4m';

/** The serial of the certificate a replica presents now (read only: trust is not the question). */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, timeout: 5_000 }, () => {
      const serial = socket.getPeerX509Certificate()?.serialNumber ?? '';
      socket.end();
      resolve(serial);
    });
    socket.once('error', reject);
    socket.once('timeout', () => socket.destroy(new Error('no TLS handshake in 5 s')));
  });
}

async function secretState(env: E2eEnvironment): Promise<{ phase: string; serial: string }> {
  const secret = await env.api.get(SECRET);
  const cert = Buffer.from(str(at(secret, 'data', 'tls.crt')), 'base64').toString('utf8');
  return {
    phase: str(at(secret, 'metadata', 'annotations', PHASE_ANNOTATION)) || 'stable',
    serial: new X509Certificate(cert).serialNumber,
  };
}

/** Points every webhook of a configuration at the balancer, keeping the caBundle `sidekick certs` set. */
async function pointAt(env: E2eEnvironment, path: string, origin: string): Promise<void> {
  const config = await env.api.get(path);
  const webhooks = Array.isArray(config.webhooks) ? config.webhooks.filter(isObject) : [];
  const patch = webhooks.map((webhook, index) => {
    const url = new URL(str(at(webhook, 'clientConfig', 'url')));
    return {
      op: 'replace',
      path: `/webhooks/${String(index)}/clientConfig/url`,
      value: `${origin}${url.pathname}`,
    };
  });
  await env.api.call('PATCH', path, { body: patch, contentType: 'application/json-patch+json' });
}

export function rotationCases(env: E2eEnvironment): void {
  env.test(
    'the certificate rotates twice (forced, then by itself) while Pods are created: none fails, and after it only the new CA is trusted',
    async () => {
      const home = join(env.cp.dir, 'rotation-home');
      await mkdir(home);
      const kubeconfig = join(home, 'certs.kubeconfig');
      await env.serviceAccountKubeconfig('sidekick', 'sidekick-certs', kubeconfig);
      const certs = (...extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
        runSidekick(
          [
            'certs',
            `--kubeconfig=${kubeconfig}`,
            '--ip-address=127.0.0.1',
            `--validity=${VALIDITY}`,
            `--rotation-step=${STEP}`,
            ...extra,
          ],
          home,
        );
      // The Secret and caBundle as an install leaves them (the certs case made them; this keeps them).
      const installed = await certs();
      assert.equal(installed.code, 0, installed.stderr);
      await env.createNamespace(NAMESPACE, INJECTION_LABEL);

      const mounts: SecretMountStandIn[] = [];
      const replicas: Injector[] = [];
      const balancers: Balancer[] = [];
      const stopAll = async (): Promise<void> => {
        for (const balancer of balancers.splice(0)) await balancer.stop();
        for (const mount of mounts.splice(0)) await mount.stop();
        for (const replica of replicas.splice(0)) await replica.process.stop();
      };
      env.onTearDown(stopAll);
      const ca = Buffer.from(str(at(await env.api.get(SECRET), 'data', 'ca.crt')), 'base64').toString();
      for (const [index, lag] of LAGS_MS.entries()) {
        const mount = await SecretMountStandIn.start(
          env.api,
          SECRET,
          join(env.cp.dir, `rotation-tls-${String(index)}`),
          lag,
        );
        mounts.push(mount);
        replicas.push(
          await env.startInjector({
            certFile: join(mount.dir, 'tls.crt'),
            keyFile: join(mount.dir, 'tls.key'),
            ca,
          }),
        );
      }
      const balancer = await Balancer.start(replicas.map((r) => r.port));
      balancers.push(balancer);
      const origin = `https://127.0.0.1:${String(balancer.port)}`;
      await pointAt(env, MUTATING, origin);
      await pointAt(env, VALIDATING, origin);

      const before = await secretState(env);
      const load = createPodsContinuously(env, NAMESPACE, 'during');
      const phases: { at: number; phase: string; serial: string }[] = [{ at: Date.now(), ...before }];
      const served = new Map<number, string[]>(replicas.map((r) => [r.port, []]));
      const started = Date.now();
      try {
        const forced = await certs('--force');
        assert.equal(forced.code, 0, forced.stderr);
        assert.match(forced.stdout, /rotation-begun \(a new certificate was asked for\), phase trust-new/);
        // The CronJob stand-in: `sidekick certs` every 3 s until two rotations have finished.
        const deadline = Date.now() + 8 * 60_000;
        while (phases.filter((p) => p.phase === 'stable').length < 3) {
          assert.ok(Date.now() < deadline, `two rotations within 8 minutes: ${JSON.stringify(phases)}`);
          const run = await certs();
          assert.equal(run.code, 0, `a run of sidekick certs failed: ${run.stderr}`);
          const state = await secretState(env);
          const last = phases.at(-1);
          if (last?.phase !== state.phase || last.serial !== state.serial)
            phases.push({ at: Date.now(), ...state });
          for (const replica of replicas) {
            const seen = served.get(replica.port) ?? [];
            const serial = await servedSerial(replica.port);
            if (seen.at(-1) !== serial) seen.push(serial);
          }
          await new Promise((resolve) => setTimeout(resolve, 3_000));
        }
      } finally {
        await load.stop();
      }
      const after = await secretState(env);

      // After the rotation: both replicas serve the Secret's certificate, and the apiserver
      // trusts only its CA, so these Pods can only have been admitted under it.
      for (const replica of replicas) {
        await waitFor(async () => ((await servedSerial(replica.port)) === after.serial ? true : undefined), {
          timeoutMs: 30_000,
          what: `replica ${String(replica.port)} to serve serial ${after.serial}`,
        });
      }
      const config = await env.api.get(MUTATING);
      const bundle = Buffer.from(
        str(at(config, 'webhooks', 0, 'clientConfig', 'caBundle')),
        'base64',
      ).toString();
      assert.equal(bundle.match(/BEGIN CERTIFICATE/g)?.length, 1, 'stable: the caBundle holds one CA');
      const secretCa = Buffer.from(str(at(await env.api.get(SECRET), 'data', 'ca.crt')), 'base64').toString();
      assert.equal(bundle.trim(), secretCa.trim());
      const validating = await env.api.get(VALIDATING);
      for (const webhook of Array.isArray(validating.webhooks) ? validating.webhooks.filter(isObject) : []) {
        assert.equal(
          at(webhook, 'clientConfig', 'caBundle'),
          at(config, 'webhooks', 0, 'clientConfig', 'caBundle'),
        );
      }
      const afterLoad = createPodsContinuously(env, NAMESPACE, 'after');
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      await afterLoad.stop();

      const figures: JsonObject = {
        seconds: Math.round((Date.now() - started) / 1000),
        podsCreatedDuring: load.created,
        podsFailedDuring: load.failed.length,
        podsCreatedAfter: afterLoad.created,
        podsFailedAfter: afterLoad.failed.length,
        serialBefore: before.serial,
        serialAfter: after.serial,
        phases: phases.map((p) => `${String(Math.round((p.at - started) / 1000))}s ${p.phase} ${p.serial}`),
        servedByReplica: [...served.values()].map((serials) => serials.join(' -> ')),
        balancerConnections: balancer.stats.connections,
      };
      process.stdout.write(`rotation figures: ${JSON.stringify(figures)}\n`);
      assert.deepEqual(load.failed, [], 'no Pod creation failed during the rotation');
      assert.deepEqual(afterLoad.failed, []);
      assert.ok(load.created > 0 && afterLoad.created > 0);
      assert.notEqual(after.serial, before.serial);
      assert.deepEqual(
        phases.slice(1).map((p) => p.phase),
        ['trust-new', 'serve-new', 'stable', 'trust-new', 'serve-new', 'stable'],
        'the second rotation started by itself',
      );
      for (const serials of served.values())
        assert.ok(serials.length >= 3, `each replica served three certificates: ${serials.join()}`);
      await stopAll();
    },
    12 * 60_000,
  );
}
