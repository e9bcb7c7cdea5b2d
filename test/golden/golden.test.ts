// Golden files: test/golden/cases/X.yaml (with the built-in templates) and
// test/golden/fixture-cases/X.yaml (with them and test/fixtures/ordering-templates/, which
// add `requires`) are injected through the CLI path and, for every Pod in it, through the webhook path (AdmissionReview in, JSONPatch applied to the input); both
// must give X.out.yaml (stdout) and X.err.txt (stderr and exit code). The output is injected
// again and must not change. REFRESH_GOLDEN=1 rewrites the expected files; expected files
// without an input fail.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import fastJsonPatch from 'fast-json-patch';
import { parseAllDocuments } from 'yaml';
import { handleReview } from '../../src/admission/handler.js';
import { handleValidation } from '../../src/admission/validate.js';
import { injectDocuments, type DocumentsResult } from '../../src/cli/documents.js';
import { messages } from '../../src/cli/inject.js';
import { injectPod } from '../../src/inject/pipeline.js';
import { getPath, podTemplatePath } from '../../src/inject/workloads.js';
import { isObject, type Json, type JsonObject } from '../../src/json.js';
import type { TemplateSet } from '../../src/templates/types.js';
import type { AdmissionResponse } from '../../src/admission/types.js';
import { repoPath } from '../support/paths.js';
import { loadTemplateDirs, ORDERING_TEMPLATES } from '../support/templates.js';

interface Suite {
  cases: string;
  templateDirs: string[];
}

const BUILTIN = repoPath('templates');
const SUITES: Suite[] = [
  { cases: repoPath('test', 'golden', 'cases'), templateDirs: [BUILTIN] },
  {
    cases: repoPath('test', 'golden', 'fixture-cases'),
    templateDirs: [BUILTIN, ORDERING_TEMPLATES],
  },
];
const REFRESH = process.env.REFRESH_GOLDEN === '1' || process.env.REFRESH_GOLDEN === 'true';
const INJECTOR_NAMESPACE = 'sidekick-system';

function run(templates: TemplateSet, text: string): DocumentsResult {
  return injectDocuments(text, { templates, namespace: 'default', injectorNamespace: INJECTOR_NAMESPACE });
}

function stderrOf(result: DocumentsResult): string {
  return `${result.reports.flatMap(messages).join('')}exit ${result.refused ? 1 : 0}\n`;
}

function documents(text: string): JsonObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Json)
    .filter(isObject);
}

/** Each Pod (or Pod template) of a document, with the namespace the webhook would see. */
function pods(doc: JsonObject): { pod: JsonObject; namespace: string; kind: string }[] {
  const kind = typeof doc.kind === 'string' ? doc.kind : '';
  if (kind === 'List') return (Array.isArray(doc.items) ? doc.items : []).filter(isObject).flatMap(pods);
  const path = podTemplatePath(doc);
  const pod = path ? getPath(doc, path) : undefined;
  const meta = isObject(doc.metadata) ? doc.metadata : {};
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : 'default';
  return pod ? [{ pod, namespace, kind }] : [];
}

function compare(actual: string, file: string): void {
  if (REFRESH) {
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `${file} is missing: run the tests with REFRESH_GOLDEN=1 to write it`);
  assert.equal(actual, readFileSync(file, 'utf8'), `${file} is stale: check the diff, then REFRESH_GOLDEN=1`);
}

type WebhookResult = { allowed: true; pod: JsonObject } | { allowed: false; message: string };

/** The webhook path: an AdmissionReview through the real handler, its patch applied to the input. */
function viaWebhook(templates: TemplateSet, pod: JsonObject, namespace: string): WebhookResult {
  const object: JsonObject = { apiVersion: 'v1', kind: 'Pod', ...pod };
  const body = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'golden',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace,
      operation: 'CREATE',
      object,
    },
  };
  const handled = handleReview(JSON.parse(JSON.stringify(body)), {
    templates: () => templates,
    injectorNamespace: INJECTOR_NAMESPACE,
  });
  if (handled.status !== 200)
    throw new Error(`the handler answered HTTP ${handled.status}: ${handled.message}`);
  const response = handled.review.response;
  if (!response.allowed) return { allowed: false, message: response.status?.message ?? '' };
  const input = structuredClone(object);
  if (response.patch === undefined) return { allowed: true, pod: input };
  const patch = JSON.parse(
    Buffer.from(response.patch, 'base64').toString('utf8'),
  ) as fastJsonPatch.Operation[];
  return { allowed: true, pod: fastJsonPatch.applyPatch(input, patch, true, false).newDocument };
}

/** The apply-time path: a workload through POST /validate's handler, as the apiserver sends it. */
function viaValidate(templates: TemplateSet, object: JsonObject, namespace: string): AdmissionResponse {
  const kind = typeof object.kind === 'string' ? object.kind : '';
  const [group = '', version = 'v1'] =
    typeof object.apiVersion === 'string' && object.apiVersion.includes('/')
      ? object.apiVersion.split('/')
      : ['', typeof object.apiVersion === 'string' ? object.apiVersion : 'v1'];
  const body = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'golden', kind: { group, version, kind }, namespace, operation: 'CREATE', object },
  };
  const handled = handleValidation(
    JSON.parse(JSON.stringify(body)),
    {
      templates: () => templates,
      injectorNamespace: INJECTOR_NAMESPACE,
      workloads: 'deny',
    },
    true,
  );
  if (handled.status !== 200)
    throw new Error(`the handler answered HTTP ${handled.status}: ${handled.message}`);
  return handled.review.response;
}

function withoutType(object: JsonObject): JsonObject {
  const rest = { ...object };
  delete rest.apiVersion;
  delete rest.kind;
  return rest;
}

function inputsOf(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && !f.endsWith('.out.yaml'))
    .sort();
}

describe('golden cases', () => {
  it('has at least 30 cases', () => {
    const count = SUITES.reduce((n, suite) => n + inputsOf(suite.cases).length, 0);
    assert.ok(count >= 30, `only ${count} cases`);
  });

  for (const suite of SUITES) describeSuite(suite);
});

function describeSuite({ cases: CASES, templateDirs }: Suite): void {
  const inputs = inputsOf(CASES);
  let templates: TemplateSet;
  before(async () => {
    templates = await loadTemplateDirs(templateDirs);
  });

  it(`${CASES}: has no expected file without an input`, () => {
    const names = new Set(inputs.map((f) => f.replace(/\.yaml$/, '')));
    const orphans = readdirSync(CASES).filter(
      (f) =>
        (f.endsWith('.out.yaml') || f.endsWith('.err.txt')) &&
        !names.has(f.replace(/\.(out\.yaml|err\.txt)$/, '')),
    );
    assert.deepEqual(orphans, [], 'expected files whose input is gone');
  });

  for (const file of inputs) {
    const name = file.replace(/\.yaml$/, '');
    describe(name, () => {
      const input = readFileSync(`${CASES}/${file}`, 'utf8');
      const outFile = `${CASES}/${name}.out.yaml`;

      it('CLI path matches the golden output', () => {
        const result = run(templates, input);
        compare(result.output, outFile);
        compare(stderrOf(result), `${CASES}/${name}.err.txt`);
      });

      it('webhook path (patch applied to the input) gives the same Pods', () => {
        const expected = run(templates, input);
        const outputs = expected.refused ? [] : documents(expected.output).flatMap(pods);
        const refusals = expected.reports.flatMap((r) =>
          r.outcome.decision === 'refuse' ? [r.outcome.message] : [],
        );
        documents(input)
          .flatMap(pods)
          .forEach(({ pod, namespace, kind }, i) => {
            const result = viaWebhook(templates, pod, namespace);
            if (!result.allowed) {
              assert.ok(
                expected.refused,
                `${kind} #${i}: the webhook refused what the CLI injected: ${result.message}`,
              );
              const detail = result.message.slice(result.message.indexOf(': ') + 2);
              assert.ok(
                refusals.some((m) => m.endsWith(detail)),
                `${kind} #${i}: different refusal: ${result.message}`,
              );
              return;
            }
            if (expected.refused) return;
            const want = outputs[i]?.pod;
            assert.ok(want, `${kind} #${i}: missing from the CLI output`);
            assert.deepEqual(withoutType(result.pod), withoutType(want));
          });
      });

      it('apply-time path (/validate) gives the same warnings and refusals for workloads', () => {
        const expected = run(templates, input);
        const workloads = documents(input).flatMap((doc) =>
          doc.kind === 'List' ? (Array.isArray(doc.items) ? doc.items.filter(isObject) : []) : [doc],
        );
        const reports = expected.reports.filter((r) => r.object !== 'YAML input');
        workloads.forEach((object, i) => {
          const report = reports[i];
          if (object.kind === 'Pod' || report === undefined || report.outcome.decision === 'pass') return;
          const meta = isObject(object.metadata) ? object.metadata : {};
          const namespace = typeof meta.namespace === 'string' ? meta.namespace : 'default';
          const response = viaValidate(templates, object, namespace);
          assert.equal(response.patch, undefined, '/validate patched');
          if (report.outcome.decision === 'refuse') {
            assert.equal(response.allowed, false, `${report.object}: refused offline, allowed at apply time`);
            assert.equal(response.status?.message, `${report.outcome.message} (its Pods would be refused)`);
          } else {
            assert.equal(response.allowed, true, `${report.object}: ${response.status?.message ?? ''}`);
          }
          assert.deepEqual(response.warnings ?? [], report.outcome.warnings, `${report.object}: warnings`);
        });
      });

      it('injecting the output again changes nothing', () => {
        const first = run(templates, input);
        if (first.refused) return;
        const second = run(templates, first.output);
        assert.equal(second.output, first.output);
        for (const { pod, namespace } of documents(first.output).flatMap(pods)) {
          const outcome = injectPod(pod, { templates, namespace, injectorNamespace: INJECTOR_NAMESPACE });
          if (outcome.decision === 'inject')
            assert.deepEqual(outcome.patch, [], 'a second injection patched');
        }
      });
    });
  }
}
