// The real `sidekick` binary, as a user runs it: the README's example, a refusal, templates.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { isObject, type Json } from '../../src/json.js';
import { repoPath } from '../support/paths.js';

const BIN = repoPath('dist', 'src', 'main.js');

function sidekick(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', cwd: repoPath() });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('sidekick CLI', () => {
  it('injects the README example from a file', () => {
    const { status, stdout, stderr } = sidekick(['inject', '-f', 'examples/web.yaml']);
    assert.equal(status, 0, stderr);
    const out = parse(stdout) as Json;
    assert.ok(isObject(out) && isObject(out.spec) && isObject(out.spec.template));
    const spec = out.spec.template.spec;
    assert.ok(isObject(spec) && Array.isArray(spec.initContainers));
    const names = spec.initContainers.map((c) => (isObject(c) ? c.name : null));
    assert.deepEqual(names, ['log-shipper', 'db-proxy', 'migrate']);
    for (const c of spec.initContainers.slice(0, 2)) assert.ok(isObject(c) && c.restartPolicy === 'Always');
  });

  it('explains why each sidecar starts where it does', () => {
    const { status, stdout, stderr } = sidekick([
      'explain',
      '-f',
      'test/golden/cases/order-after-init-container-with-second-sidecar.yaml',
    ]);
    assert.equal(status, 0, stderr);
    assert.match(stdout, /^Pod team-a\/web: inject log-shipper, db-proxy in this start order$/m);
    assert.match(stdout, /^ {2}1\. log-shipper: requested; starts first$/m);
    assert.match(
      stdout,
      /^ {2}2\. db-proxy: requested; starts after init container fetch-creds: annotation sidekick\.dev\/db-proxy\.after$/m,
    );
  });

  it('takes -f repeatedly and directories, like kubectl', () => {
    const { status, stdout, stderr } = sidekick([
      'inject',
      '-f',
      'examples',
      '-f',
      'test/golden/cases/workload-job.yaml',
    ]);
    assert.equal(status, 0, stderr);
    const kinds = stdout.split(/^---$/m).map((doc) => {
      const parsed = parse(doc) as Json;
      return isObject(parsed) ? parsed.kind : undefined;
    });
    assert.deepEqual(kinds, ['Deployment', 'Job']);
  });

  it('a path it cannot read is one line naming it, exit 1', () => {
    for (const path of ['examples/nope.yaml', 'no-such-dir/']) {
      const { status, stdout, stderr } = sidekick(['inject', '-f', 'examples', '-f', path]);
      assert.equal(status, 1);
      assert.equal(stdout, '');
      assert.equal(stderr, `error: cannot read ${path}: no such file or directory\n`);
    }
  });

  it('an empty input says so', () => {
    const stdin = sidekick(['inject'], '# nothing here\n---\n');
    assert.equal(stdin.status, 1);
    assert.equal(stdin.stderr, 'error: no objects in the input (standard input)\n');
    const dir = sidekick(['explain', '-f', 'test/unit/fixtures']);
    assert.equal(dir.status, 1);
    assert.equal(
      dir.stderr,
      'error: no objects in the input (test/unit/fixtures (no .yaml, .yml or .json files))\n',
    );
  });

  it('prints the version and the built-in templates’ hash', () => {
    const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string };
    for (const args of [['version'], ['--version']]) {
      const { status, stdout } = sidekick(args);
      assert.equal(status, 0);
      assert.match(
        stdout,
        new RegExp(
          `^sidekick ${pkg.version.replace(/\./g, '\\.')}\nbuilt-in templates [0-9a-f]{16} \\(config-watcher, `,
        ),
      );
    }
  });

  it('npx sidekick inside the checkout runs its own build, never a registry package', () => {
    // --offline: were the name resolved in the registry, this fails instead of fetching it.
    const npx = spawnSync('npm', ['exec', '--offline', '--', 'sidekick', 'version'], {
      encoding: 'utf8',
      cwd: repoPath(),
    });
    assert.equal(npx.status, 0, npx.stderr);
    assert.equal(npx.stdout, sidekick(['version']).stdout);
  });

  it('reads standard input and honours --namespace', () => {
    const pod =
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {sidekick.dev/inject: log-shipper}\nspec:\n  containers: [{name: a, image: a}]\n';
    const skipped = sidekick(['inject', '--namespace', 'kube-system'], pod);
    assert.equal(skipped.status, 0);
    assert.deepEqual(parse(skipped.stdout), parse(pod), 'a skipped Pod is printed unchanged');
    assert.match(skipped.stderr, /warning: Pod kube-system\/p: namespace kube-system is never injected/);
    const env = spawnSync(process.execPath, [BIN, 'inject', '-'], {
      input: pod,
      encoding: 'utf8',
      env: { ...process.env, SIDEKICK_NAMESPACE: 'kube-public' },
    });
    assert.match(env.stderr, /namespace kube-public is never injected/);
  });

  it('exits 1 naming the object, the annotation and the problem, printing nothing', () => {
    const pod =
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: shop\n  annotations: {sidekick.dev/inject: db-proxy}\nspec:\n  containers: [{name: a, image: a}]\n';
    const { status, stdout, stderr } = sidekick(['inject'], pod);
    assert.equal(status, 1);
    assert.equal(stdout, '');
    assert.match(stderr, /^error: Pod shop\/p: annotation sidekick\.dev\/db-proxy\.instance is required/m);
  });

  it('explains the README example', () => {
    const { status, stdout } = sidekick(['explain', '-f', 'examples/web.yaml']);
    assert.equal(status, 0);
    assert.match(stdout, /Deployment shop\/web: inject log-shipper, db-proxy in this start order/);
    assert.match(stdout, /instance = \["my-project:us-central1:orders"\] \(annotation\)/);
    assert.match(stdout, /port = 5432 \(default\)/);
  });

  it('validates the built-in templates and lists problems of a broken set', () => {
    assert.equal(sidekick(['templates', 'validate']).status, 0);
    const broken = sidekick(['templates', 'validate', 'test/unit/fixtures/broken-templates']);
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, /spec\.container\.image: parameters can never pick an image/);
    assert.match(broken.stderr, /spec\.parameters\.port\.default: is too large/);
    assert.match(broken.stderr, /spec\.requires: no template named 'missing'/);
    assert.match(broken.stderr, /spec\.container\.args\[0\]: refers to undeclared parameter 'nope'/);
    assert.match(broken.stderr, /spec\.container\.args\[1\]: \.key is only known inside \$each: items/);
    assert.match(broken.stderr, /spec\.container\.args\[2\]\.\$each: 'tag' is not a list parameter/);
    assert.match(
      broken.stderr,
      /spec\.container\.args\[3\]\.\$value: \.value is only known inside \$each: tag/,
    );
    assert.match(broken.stderr, /spec\.bogus: unknown field/);
  });

  it('warns about a template that does not pass the restricted profile, without failing', () => {
    const { status, stderr } = sidekick([
      'templates',
      'validate',
      'test/unit/fixtures/unrestricted-templates',
    ]);
    assert.equal(status, 0);
    for (const problem of [
      /securityContext\.privileged is true/,
      /securityContext\.allowPrivilegeEscalation must be false/,
      /securityContext\.runAsNonRoot must be true/,
      /securityContext\.runAsUser must not be 0/,
      /securityContext\.seccompProfile\.type must be RuntimeDefault or Localhost/,
      /securityContext\.capabilities\.drop must include ALL/,
      /securityContext\.capabilities\.add has "NET_ADMIN"/,
      /uses a hostPort/,
    ]) {
      assert.match(
        stderr,
        new RegExp(
          `warning: .*debug-shell\\.yaml: not Pod Security 'restricted' compliant: ${problem.source}`,
        ),
      );
    }
    assert.doesNotMatch(stderr, /NET_BIND_SERVICE/, 'NET_BIND_SERVICE is allowed by the profile');
  });

  it('validate --strict: the built-ins pass, and every warning becomes an error naming file, template and field', () => {
    assert.equal(sidekick(['templates', 'validate', '--strict']).status, 0);
    const lenient = sidekick(['templates', 'validate', 'test/unit/fixtures/lint-templates']);
    assert.equal(lenient.status, 0);
    assert.match(
      lenient.stderr,
      /warning: .*unpinned\.yaml: template unpinned: container\.image .* uses the tag latest/,
    );
    const strict = sidekick(['templates', 'validate', '--strict', 'test/unit/fixtures/lint-templates']);
    assert.equal(strict.status, 1);
    for (const problem of [
      /unpinned\.yaml: template unpinned: container\.image "registry\.example\/agent:latest" uses the tag latest/,
      /unpinned\.yaml: template unpinned: container has no startupProbe/,
      /unpinned\.yaml: template unpinned: container\.resources\.requests has no cpu or memory/,
      /unpinned\.yaml: template unpinned: container\.resources\.limits has no cpu or memory/,
      /unpinned\.yaml: template unpinned: container\.securityContext\.readOnlyRootFilesystem is not true/,
    ])
      assert.match(strict.stderr, problem);
    assert.match(strict.stderr, /5 problem\(s\) \(--strict\)/);
    const unrestricted = sidekick([
      'templates',
      'validate',
      '--strict',
      'test/unit/fixtures/unrestricted-templates',
    ]);
    assert.equal(unrestricted.status, 1);
    assert.match(
      unrestricted.stderr,
      /not Pod Security 'restricted' compliant: securityContext\.privileged is true/,
    );
  });

  it('rejects an unknown command and option with exit 2', () => {
    assert.equal(sidekick(['frobnicate']).status, 2);
    const bad = sidekick(['inject', '--no-such-option']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /sidekick inject: Unknown option '--no-such-option'/);
  });

  it('refuses the template options where nothing is rendered, before reaching any cluster', () => {
    for (const command of ['relay', 'watch']) {
      for (const option of [
        '--templates=/etc/sidekick/templates',
        '--extra-templates=x',
        '--prefix=x',
        '--image=x',
      ]) {
        const run = sidekick([command, option]);
        assert.equal(run.status, 2, `${command} ${option}: ${run.stderr}`);
        assert.match(
          run.stderr,
          new RegExp(
            `^sidekick ${command}: Unknown option '${option.split('=')[0]}' \\(--help lists the options\\)$`,
            'm',
          ),
        );
      }
    }
  });

  it('refuses a bad --publish-ca / --publish-namespaces before touching anything', () => {
    const cases: [string[], RegExp][] = [
      [['--publish-ca=Bad_Name'], /--publish-ca: 'Bad_Name' is not a valid ConfigMap name/],
      [['--publish-namespaces=apps'], /--publish-namespaces needs --publish-ca/],
      [
        ['--publish-ca=sidekick-relay-ca', '--publish-namespaces=apps,Nope'],
        /'Nope' is not a valid namespace/,
      ],
      [
        ['--publish-ca=sidekick-relay-ca', '--publish-namespaces=,'],
        /--publish-namespaces: no namespace given/,
      ],
      [['--publish-ca=sidekick-relay-ca', '--dir=/nonexistent'], /--publish-ca needs a cluster, not --dir/],
    ];
    for (const [args, message] of cases) {
      const run = sidekick(['certs', ...args]);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
  });
});
