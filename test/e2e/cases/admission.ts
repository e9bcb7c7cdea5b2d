// What admission returns to the user: restricted Pod Security for every template, refusals
// and warnings through the apiserver, dry runs.
import assert from 'node:assert/strict';
import { annotationsFor, example, withoutTokenMounts } from '../harness/examples.js';
import {
  INJECTION_LABEL,
  podsPath,
  rejection,
  WEBHOOK,
  type E2eEnvironment,
} from '../harness/environment.js';
import {
  annotationsOf,
  containers,
  INJECT,
  initContainerNames,
  initContainers,
  nativeSidecarNames,
  pod,
  specOf,
} from '../harness/objects.js';

export function admissionCases(env: E2eEnvironment): void {
  env.test('every built-in template is admitted under the restricted Pod Security Standard', async () => {
    await env.createNamespace('restricted', {
      ...INJECTION_LABEL,
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
    });
    // The namespace does enforce: a Pod without a restricted securityContext is refused.
    const loose = pod({ name: 'loose' });
    const looseSpec = specOf(loose);
    looseSpec.securityContext = {};
    looseSpec.containers = [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }];
    const refused = await rejection(env.createPod('restricted', loose));
    assert.equal(refused.status, 403);
    assert.match(refused.message, /violates PodSecurity "restricted/);

    const names = [...env.templates.templates.keys()].sort();
    assert.ok(names.length >= 5, `built-in templates: ${names.join(', ')}`);
    for (const name of names) {
      const annotations = annotationsFor(name, env.templates);
      const { object: stored } = await env.createPod('restricted', pod({ name, annotations }));
      assert.ok(
        nativeSidecarNames(stored).includes(name),
        `${name} injected: ${initContainerNames(stored).join(', ')}`,
      );
    }
    // Signal mode shares the process namespace: still restricted.
    const signal = await env.createPod(
      'restricted',
      pod({
        name: 'config-watcher-signal',
        annotations: {
          [INJECT]: 'config-watcher',
          'sidekick.dev/config-watcher.process': example('config-watcher.process'),
        },
      }),
    );
    assert.equal(specOf(signal.object).shareProcessNamespace, true);
    assert.deepEqual(nativeSidecarNames(signal.object), ['config-watcher']);
    // Relay mode: the app's ConfigMap volume is an emptyDir, the original kept for the watcher,
    // the audience-bound token projected; the apiserver validates and defaults all of it.
    const relay = await env.createPod(
      'restricted',
      pod({
        name: 'config-watcher-relay',
        annotations: {
          [INJECT]: 'config-watcher',
          'sidekick.dev/config-watcher.url': example('config-watcher.url'),
          'sidekick.dev/config-watcher.source': 'relay',
        },
      }),
    );
    const volumes = (specOf(relay.object).volumes ?? []) as { name: string; [k: string]: unknown }[];
    const byName = new Map(volumes.map((v) => [v.name, v]));
    const [configVolume] = volumes.filter((v) => byName.has(`sidekick-config-watcher-src-${v.name}`));
    assert.ok(configVolume, `a replaced volume among ${[...byName.keys()].join(', ')}`);
    assert.deepEqual(configVolume.emptyDir, {});
    assert.ok(byName.get(`sidekick-config-watcher-src-${configVolume.name}`)?.configMap);
    assert.match(JSON.stringify(byName.get('sidekick-config-watcher-relay')), /"audience":"sidekick-relay"/);
    // And all of them at once.
    const all: Record<string, string> = {};
    for (const name of names) Object.assign(all, annotationsFor(name, env.templates));
    all[INJECT] = names.join(',');
    const together = await env.createPod('restricted', pod({ name: 'all', annotations: all }));
    assert.deepEqual([...nativeSidecarNames(together.object)].sort(), names);
  });

  env.test("refusals reach the user as the apiserver's error with sidekick's message", async () => {
    const unknown = await rejection(
      env.createPod('team-a', pod({ name: 'unknown', annotations: { [INJECT]: 'no-such-sidecar' } })),
    );
    assert.equal(unknown.status, 400);
    assert.match(unknown.message, new RegExp(`admission webhook "${WEBHOOK}" denied the request`));
    assert.match(unknown.message, /no-such-sidecar/);
    assert.match(unknown.message, /sidekick\.dev\/inject/);

    const missing = await rejection(
      env.createPod('team-a', pod({ name: 'missing', annotations: { [INJECT]: 'db-proxy' } })),
    );
    assert.equal(missing.status, 400);
    assert.match(missing.message, /sidekick\.dev\/db-proxy\.instance/);

    for (const name of ['unknown', 'missing']) {
      assert.equal((await env.api.request('GET', `${podsPath('team-a')}/${name}`)).status, 404);
    }
  });

  env.test(
    "db-proxy's instance ports are containerPorts the apiserver stores, and an app on one is refused",
    async () => {
      const instances =
        'my-project:us-central1:orders, my-project:us-central1:users=6000, my-project:us-central1:audit';
      const annotations = { [INJECT]: 'db-proxy', 'sidekick.dev/db-proxy.instance': instances };
      const { object: stored } = await env.createPod('team-a', pod({ name: 'db-ports', annotations }));
      const proxy = initContainers(stored).find((c) => c.name === 'db-proxy');
      assert.deepEqual(proxy?.ports, [
        { name: 'csql-health', containerPort: 9801, protocol: 'TCP' },
        { name: 'csql-5432', containerPort: 5432, protocol: 'TCP' },
        { name: 'csql-6000', containerPort: 6000, protocol: 'TCP' },
        { name: 'csql-5433', containerPort: 5433, protocol: 'TCP' },
      ]);

      const clashing = pod({ name: 'db-clash', annotations });
      const app = containers(clashing)[0];
      assert.ok(app);
      app.ports = [{ name: 'pg', containerPort: 5432 }];
      const clash = await rejection(env.createPod('team-a', clashing));
      assert.equal(clash.status, 400);
      assert.match(
        clash.message,
        /port 5432\/TCP clash: sidecar db-proxy and container app both listen on it/,
      );
      assert.match(clash.message, /sidekick\.dev\/db-proxy\.instance or sidekick\.dev\/db-proxy\.port/);

      const same = pod({
        name: 'db-same',
        annotations: {
          ...annotations,
          'sidekick.dev/db-proxy.instance':
            'my-project:us-central1:a=5433, my-project:us-central1:b, my-project:us-central1:c',
        },
      });
      const twice = await rejection(env.createPod('team-a', same));
      assert.equal(twice.status, 400);
      assert.match(
        twice.message,
        /items 'my-project:us-central1:a=5433' and 'my-project:us-central1:c' both take 5433/,
      );
      for (const name of ['db-clash', 'db-same']) {
        assert.equal((await env.api.request('GET', `${podsPath('team-a')}/${name}`)).status, 404);
      }
    },
  );

  env.test('warnings reach the client', async () => {
    const { object: stored, warnings } = await env.createPod(
      'team-a',
      pod({
        name: 'typo',
        annotations: { [INJECT]: 'log-shipper', 'sidekick.dev/log-shipper.pth': '/logs' },
      }),
    );
    assert.deepEqual(nativeSidecarNames(stored), ['log-shipper']);
    assert.ok(
      warnings.some(
        (w) => w.includes('sidekick.dev/log-shipper.pth') && w.includes('sidekick.dev/log-shipper.path'),
      ),
      `warnings: ${JSON.stringify(warnings)}`,
    );
  });

  env.test('dryRun=All creates nothing and injects the same', async () => {
    const annotations = {
      [INJECT]: 'vault-agent,log-shipper',
      'sidekick.dev/vault-agent.role': example('vault-agent.role'),
      'sidekick.dev/vault-agent.secret': example('vault-agent.secret'),
    };
    const dry = await env.createPod('team-a', pod({ name: 'dry', annotations }), { dryRun: 'All' });
    assert.equal((await env.api.request('GET', `${podsPath('team-a')}/dry`)).status, 404);
    const wet = await env.createPod('team-a', pod({ name: 'wet', annotations }));
    assert.deepEqual(nativeSidecarNames(dry.object), ['vault-agent', 'log-shipper']);
    assert.deepEqual(
      withoutTokenMounts(initContainers(dry.object)),
      withoutTokenMounts(initContainers(wet.object)),
    );
    assert.deepEqual(withoutTokenMounts(containers(dry.object)), withoutTokenMounts(containers(wet.object)));
    assert.equal(
      annotationsOf(dry.object)['sidekick.dev/status'],
      annotationsOf(wet.object)['sidekick.dev/status'],
    );
  });
}
