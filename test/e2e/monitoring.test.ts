// deploy/components/monitoring: the PrometheusRule checked and unit-tested by the real promtool
// (built from the Go module pinned in test/monitoring/promtool/go.mod), each alert made to fire
// and not to fire; the rules and the Grafana dashboard read only metrics that a running
// `sidekick serve` exports (its /metrics scraped here) or Prometheus's own `up`; every alert
// explained in docs/operations.md.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { isObject, type Json, type JsonObject } from '../../src/json.js';
import { exposedNames, metricNames } from '../support/promql.js';
import { repoPath } from '../support/paths.js';
import { SidekickProcess } from '../support/sidekick-process.js';
import { loadManifest } from './harness/manifests.js';
import { str } from './harness/objects.js';
import { freePort } from './harness/ports.js';

const execFileAsync = promisify(execFile);
const COMPONENT = repoPath('deploy/components/monitoring');
const BUILD = repoPath('test/monitoring/promtool/build.sh');
/** Series Prometheus makes itself, not the server. */
const PROMETHEUS_OWN = new Set(['up']);
const inCi = /^(true|1)$/i.test(process.env.CI ?? '');
const noGo = spawnSync('go', ['version'], { stdio: 'ignore' }).status !== 0;

interface Rule {
  alert: string;
  expr: string;
  annotations: Record<string, string>;
}

function objectsAt(value: Json | undefined): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

async function component(): Promise<{ kinds: Map<string, JsonObject>; files: string[] }> {
  const kustomization = parse(await readFile(join(COMPONENT, 'kustomization.yaml'), 'utf8')) as JsonObject;
  assert.equal(kustomization.kind, 'Component');
  const files = (Array.isArray(kustomization.resources) ? kustomization.resources : []).map(String);
  const kinds = new Map<string, JsonObject>();
  for (const file of files)
    for (const object of await loadManifest(join(COMPONENT, file))) kinds.set(str(object.kind), object);
  return { kinds, files };
}

function rulesOf(rule: JsonObject): Rule[] {
  const spec = isObject(rule.spec) ? rule.spec : {};
  return objectsAt(spec.groups).flatMap((group) =>
    objectsAt(group.rules).map((r) => ({
      alert: str(r.alert),
      expr: str(r.expr),
      annotations: isObject(r.annotations) ? (r.annotations as Record<string, string>) : {},
    })),
  );
}

function dashboardExprs(configMap: JsonObject): string[] {
  const data = isObject(configMap.data) ? configMap.data : {};
  const dashboard = JSON.parse(str(data['sidekick.json'])) as JsonObject;
  return objectsAt(dashboard.panels).flatMap((panel) => objectsAt(panel.targets).map((t) => str(t.expr)));
}

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve(body);
      });
    }).on('error', reject);
  });
}

void describe('deploy/components/monitoring', () => {
  let exported: Set<string>;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sidekick-monitoring-'));
    const metricsPort = await freePort();
    const serve = SidekickProcess.spawn(
      [
        'serve',
        '--address=127.0.0.1',
        '--port=0',
        `--metrics-port=${String(metricsPort)}`,
        `--certs-dir=${join(dir, 'certs')}`,
        `--templates=${repoPath('templates')}`,
      ],
      {
        cwd: dir,
        env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SIDEKICK_'))),
      },
    );
    try {
      const listening = await serve.listening(30_000);
      assert.equal(listening.metricsPort, metricsPort);
      exported = exposedNames(await scrape(metricsPort));
    } finally {
      await serve.stop(5_000);
    }
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('finds metric names in PromQL as the checks below rely on', () => {
    assert.deepEqual(
      metricNames(
        'sum by (le) (rate(a_bucket{job="x",le=~"1|2"}[5m])) / on (pod) b_total > 0.5 * 7 or vector(0)',
      ),
      ['a_bucket', 'b_total'],
    );
    assert.deepEqual(metricNames('min(x{job="s"}) - time() < 7 * 86400'), ['x']);
  });

  void it('lists every file of the component, and ships a ServiceMonitor, a PrometheusRule and a dashboard', async () => {
    const { kinds, files } = await component();
    const present = (await readdir(COMPONENT)).filter((f) => f !== 'kustomization.yaml').sort();
    assert.deepEqual([...files].sort(), present);
    assert.deepEqual([...kinds.keys()].sort(), ['ConfigMap', 'PrometheusRule', 'ServiceMonitor']);
    const monitor = kinds.get('ServiceMonitor');
    const endpoints = objectsAt(isObject(monitor?.spec) ? monitor.spec.endpoints : undefined);
    assert.equal(endpoints[0]?.port, 'metrics', "the Service's metrics port");
    const [service] = await loadManifest(repoPath('deploy/base/service.yaml'));
    assert.ok(JSON.stringify(service?.spec).includes('"name":"metrics"'));
  });

  void it('the rules and the dashboard read only metrics the server exports', async () => {
    const { kinds } = await component();
    const rule = kinds.get('PrometheusRule');
    const configMap = kinds.get('ConfigMap');
    assert.ok(rule && configMap);
    assert.ok(exported.has('sidekick_admissions_total') && exported.has('process_cpu_seconds_total'));
    const exprs = [...rulesOf(rule).map((r) => r.expr), ...dashboardExprs(configMap)];
    assert.ok(exprs.length >= 15);
    const unknown: string[] = [];
    for (const expr of exprs) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `reads no metric: ${expr}`);
      for (const name of names)
        if (!exported.has(name) && !PROMETHEUS_OWN.has(name)) unknown.push(`${name} in ${expr}`);
    }
    assert.deepEqual(unknown, []);
  });

  void it('covers certificate expiry, errors, refusals, reload failures, latency and no replica', async () => {
    const { kinds } = await component();
    const rules = rulesOf(kinds.get('PrometheusRule') ?? {});
    const reads = (metric: string): boolean => rules.some((r) => metricNames(r.expr).includes(metric));
    for (const metric of [
      'sidekick_tls_certificate_expiry_timestamp_seconds',
      'sidekick_admissions_total',
      'sidekick_templates_last_reload_successful',
      'sidekick_tls_last_reload_successful',
      'sidekick_admission_duration_seconds_bucket',
      'up',
    ]) {
      assert.ok(reads(metric), metric);
    }
  });

  void it('explains every alert in docs/operations.md, where its runbook_url points', async () => {
    const { kinds } = await component();
    const docs = await readFile(repoPath('docs/operations.md'), 'utf8');
    for (const rule of rulesOf(kinds.get('PrometheusRule') ?? {})) {
      assert.match(docs, new RegExp(`^### ${rule.alert}$`, 'm'), rule.alert);
      assert.ok(
        (rule.annotations.runbook_url ?? '').endsWith(`docs/operations.md#${rule.alert.toLowerCase()}`),
        rule.alert,
      );
    }
  });

  void it(
    'promtool checks the rules and its unit tests make each alert fire and stay quiet',
    { skip: noGo && !inCi ? 'Go is not installed: promtool is built with it' : false, timeout: 60 * 60_000 },
    async () => {
      const { stdout } = await execFileAsync('bash', [BUILD], { maxBuffer: 16 << 20 });
      const promtool = stdout.trim().split('\n').pop() ?? '';
      const { kinds } = await component();
      const rule = kinds.get('PrometheusRule');
      assert.ok(rule && isObject(rule.spec));
      await writeFile(join(dir, 'rules.yaml'), stringify({ groups: rule.spec.groups }));
      await copyFile(repoPath('test/monitoring/alerts.test.yaml'), join(dir, 'alerts.test.yaml'));
      const check = await execFileAsync(promtool, ['check', 'rules', join(dir, 'rules.yaml')]);
      const alerts = rulesOf(rule).map((r) => r.alert);
      assert.match(check.stdout, new RegExp(`SUCCESS: ${String(alerts.length)} rules found`));
      const unit = await execFileAsync(promtool, ['test', 'rules', join(dir, 'alerts.test.yaml')]);
      assert.match(unit.stdout, /SUCCESS/);
      // Each alert is expected to fire somewhere and to stay quiet somewhere.
      const tests = parse(await readFile(repoPath('test/monitoring/alerts.test.yaml'), 'utf8')) as JsonObject;
      const cases = objectsAt(tests.tests).flatMap((t) => objectsAt(t.alert_rule_test));
      for (const alert of alerts) {
        const mine = cases.filter((c) => c.alertname === alert);
        assert.ok(
          mine.some((c) => objectsAt(c.exp_alerts).length > 0),
          `${alert} fires in a test`,
        );
        assert.ok(
          mine.some((c) => objectsAt(c.exp_alerts).length === 0),
          `${alert} stays quiet in a test`,
        );
      }
    },
  );
});
