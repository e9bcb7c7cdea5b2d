#!/usr/bin/env node
// Writes deploy/base/templates-configmap.yaml and the Helm chart's copy of the templates
// (deploy/helm/sidekick/files/templates/) from the built-in templates/ directory, so that the
// deployed server reads the same templates as the package (neither kustomize nor Helm loads files
// from outside its own directory). It also copies the monitoring component's alerts and dashboard
// into the chart (files/monitoring/), which renders them verbatim: their `{{ $labels }}` are
// Prometheus's, not Helm's. `--check` only reports whether all of it is current.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Document } from 'yaml';

const templatesDir = fileURLToPath(new URL('../templates/', import.meta.url));
const target = fileURLToPath(new URL('../deploy/base/templates-configmap.yaml', import.meta.url));
const chartDir = fileURLToPath(new URL('../deploy/helm/sidekick/files/templates/', import.meta.url));
const monitoringDir = fileURLToPath(new URL('../deploy/components/monitoring/', import.meta.url));
const chartMonitoringDir = fileURLToPath(
  new URL('../deploy/helm/sidekick/files/monitoring/', import.meta.url),
);
const monitoringFiles = ['prometheusrule.yaml', 'dashboard-configmap.yaml'];

const files = readdirSync(templatesDir, { withFileTypes: true })
  .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
  .map((entry) => entry.name)
  .sort();
if (files.length === 0) {
  console.error(`no templates in ${templatesDir}`);
  process.exit(1);
}
const data = {};
for (const name of files) data[name] = readFileSync(templatesDir + name, 'utf8');

const doc = new Document({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name: 'sidekick-templates',
    namespace: 'sidekick',
    labels: { 'app.kubernetes.io/name': 'sidekick' },
  },
  data,
});
doc.commentBefore =
  ' Generated from templates/ by scripts/sync-deploy-templates.mjs: edit the templates there, then run\n' +
  ' node scripts/sync-deploy-templates.mjs';
const text = doc.toString({ lineWidth: 0, blockQuote: 'literal' });

const chartFiles = (() => {
  try {
    return readdirSync(chartDir).sort();
  } catch {
    return [];
  }
})();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // absent: stale
  }
  if (current !== text) {
    console.error(`${target} is out of date with templates/: run node scripts/sync-deploy-templates.mjs`);
    process.exit(1);
  }
  const same =
    chartFiles.join('\n') === files.join('\n') &&
    files.every((name) => readFileSync(chartDir + name, 'utf8') === data[name]);
  if (!same) {
    console.error(`${chartDir} is out of date with templates/: run node scripts/sync-deploy-templates.mjs`);
    process.exit(1);
  }
  const readOrEmpty = (path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  const stale = monitoringFiles.filter(
    (name) => readOrEmpty(chartMonitoringDir + name) !== readFileSync(monitoringDir + name, 'utf8'),
  );
  if (stale.length > 0) {
    console.error(
      `${chartMonitoringDir} is out of date with ${monitoringDir} (${stale.join(', ')}): run node scripts/sync-deploy-templates.mjs`,
    );
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
  rmSync(chartDir, { recursive: true, force: true });
  mkdirSync(chartDir, { recursive: true });
  for (const name of files) writeFileSync(chartDir + name, data[name]);
  mkdirSync(chartMonitoringDir, { recursive: true });
  for (const name of monitoringFiles)
    writeFileSync(chartMonitoringDir + name, readFileSync(monitoringDir + name, 'utf8'));
  console.log(`wrote ${target} and ${chartDir} (${files.length} templates)`);
}
