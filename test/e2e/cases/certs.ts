// `sidekick certs` against the real API, with the certs Job's own ServiceAccount token: it
// creates the Secret, sets the caBundle, keeps both on a second run, and the apiserver then
// trusts a server using that Secret (and no longer the old certificate).
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { runSidekick } from '../harness/cli.js';
import { rejection, type E2eEnvironment } from '../harness/environment.js';
import type { TlsPair } from '../harness/injector.js';
import { at, INJECT, nativeSidecarNames, pod, str } from '../harness/objects.js';

export function certsCases(env: E2eEnvironment): void {
  env.test(
    "`sidekick certs` with the certs Job's account creates the Secret and caBundle, and the apiserver trusts it",
    async () => {
      const home = join(env.cp.dir, 'certs-home');
      await mkdir(home);
      const kubeconfig = join(home, 'certs.kubeconfig');
      await env.serviceAccountKubeconfig('sidekick', 'sidekick-certs', kubeconfig);
      const args = ['certs', `--kubeconfig=${kubeconfig}`, '--ip-address=127.0.0.1'];

      const first = await runSidekick(args, home);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /secret sidekick\/sidekick-tls: created/);
      const secret = await env.api.get('/api/v1/namespaces/sidekick/secrets/sidekick-tls');
      assert.equal(secret.type, 'kubernetes.io/tls');
      const data = at(secret, 'data');
      const [ca, cert, key] = ['ca.crt', 'tls.crt', 'tls.key'].map((k) =>
        Buffer.from(str(at(data, k)), 'base64').toString(),
      ) as [string, string, string];
      // The names the apiserver calls the Service by, and the extra IP asked for.
      const serving = new X509Certificate(cert);
      assert.ok(serving.verify(new X509Certificate(ca).publicKey));
      for (const name of ['sidekick.sidekick.svc', 'sidekick.sidekick.svc.cluster.local']) {
        assert.ok(serving.checkHost(name), name);
      }
      assert.ok(serving.checkIP('127.0.0.1'));
      const config = await env.api.get(
        '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/sidekick',
      );
      assert.equal(at(config, 'webhooks', 0, 'clientConfig', 'caBundle'), at(data, 'ca.crt'));
      assert.equal(
        at(config, 'webhooks', 0, 'clientConfig', 'url'),
        env.injector.url,
        'only the caBundle changed',
      );

      const second = await runSidekick(args, home);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /secret sidekick\/sidekick-tls: kept/);
      assert.match(second.stdout, /caBundle already set/);
      const again = await env.api.get('/api/v1/namespaces/sidekick/secrets/sidekick-tls');
      assert.equal(at(again, 'metadata', 'resourceVersion'), at(secret, 'metadata', 'resourceVersion'));

      // Least privilege: the account cannot touch another webhook configuration.
      const other = await runSidekick([...args, '--webhook=sidekick-test-other'], home);
      assert.equal(other.code, 1);
      assert.match(other.stderr, /403/);

      // The apiserver now trusts only the new CA: the old serving certificate is refused ...
      const distrusted = await rejection(
        env.createPod('team-a', pod({ name: 'old-cert', annotations: { [INJECT]: 'log-shipper' } })),
      );
      assert.match(distrusted.message, /x509: certificate signed by unknown authority/);
      // ... and the Secret's certificate is trusted.
      const secretDir = join(env.cp.dir, 'secret-tls');
      await mkdir(secretDir);
      const fromSecret: TlsPair = {
        certFile: join(secretDir, 'tls.crt'),
        keyFile: join(secretDir, 'tls.key'),
        ca,
      };
      await writeFile(fromSecret.certFile, cert);
      await writeFile(fromSecret.keyFile, key, { mode: 0o600 });
      const port = env.injector.port;
      await env.injector.process.stop();
      env.injector = await env.startInjector(fromSecret, port);
      const trusted = await env.createPod(
        'team-a',
        pod({ name: 'new-cert', annotations: { [INJECT]: 'log-shipper' } }),
      );
      assert.deepEqual(nativeSidecarNames(trusted.object), ['log-shipper']);
    },
  );
}
