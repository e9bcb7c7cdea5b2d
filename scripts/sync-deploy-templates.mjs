#!/usr/bin/env node
// Writes deploy/base/templates-configmap.yaml from the built-in templates/ directory, so that the
// deployed server reads the same templates as the package (kustomize cannot load files from
// outside the kustomization's own directory). `--check` only reports whether it is current.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Document } from 'yaml';

const templatesDir = fileURLToPath(new URL('../templates/', import.meta.url));
const target = fileURLToPath(new URL('../deploy/base/templates-configmap.yaml', import.meta.url));

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
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target} (${files.length} templates)`);
}
