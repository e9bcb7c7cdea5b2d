// scripts/audit.mjs, the CI audit step: what it makes of every kind of report `npm audit --json`
// prints (recorded from npm 11), and the real npm run against a loopback stand-in for the
// registry's advisory endpoint.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { isObject } from '../../src/json.js';
import { repoPath } from '../support/paths.js';

const SCRIPT = repoPath('scripts', 'audit.mjs');

// Recorded from `npm audit --omit=dev --json` (npm 11.6) in this repository. The advisories in
// the first two were served by a stand-in endpoint; their shape is npm's own.
const RECORDED = {
  clean: `{"auditReportVersion":2,"vulnerabilities":{},"metadata":{"vulnerabilities":{"info":0,"low":0,"moderate":0,"high":0,"critical":0,"total":0},"dependencies":{"prod":166,"dev":152,"optional":1,"peer":0,"peerOptional":0,"total":317}}}`,
  moderateOnly: `{"auditReportVersion":2,"vulnerabilities":{"yaml":{"name":"yaml","severity":"moderate","isDirect":true,"via":[{"source":1101851,"name":"yaml","dependency":"yaml","title":"test advisory: moderate","url":"https://github.com/advisories/GHSA-xxxx-test-0002","severity":"moderate","cwe":[],"cvss":{"score":5.3,"vectorString":null},"range":"<99.0.0"}],"effects":[],"range":"*","nodes":["node_modules/yaml"],"fixAvailable":false}},"metadata":{"vulnerabilities":{"info":0,"low":0,"moderate":1,"high":0,"critical":0,"total":1},"dependencies":{"prod":166,"dev":152,"optional":1,"peer":0,"peerOptional":0,"total":317}}}`,
  high: `{"auditReportVersion":2,"vulnerabilities":{"express":{"name":"express","severity":"high","isDirect":true,"via":["router"],"effects":[],"range":"*","nodes":["node_modules/express"],"fixAvailable":false},"path-to-regexp":{"name":"path-to-regexp","severity":"high","isDirect":false,"via":[{"source":1101850,"name":"path-to-regexp","dependency":"path-to-regexp","title":"test advisory: ReDoS","url":"https://github.com/advisories/GHSA-xxxx-test-0001","severity":"high","cwe":["CWE-1333"],"cvss":{"score":7.5,"vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"},"range":"<99.0.0"}],"effects":["router"],"range":"*","nodes":["node_modules/path-to-regexp"],"fixAvailable":false},"router":{"name":"router","severity":"high","isDirect":false,"via":["path-to-regexp"],"effects":["express"],"range":"*","nodes":["node_modules/router"],"fixAvailable":false},"yaml":{"name":"yaml","severity":"moderate","isDirect":true,"via":[{"source":1101851,"name":"yaml","dependency":"yaml","title":"test advisory: moderate","url":"https://github.com/advisories/GHSA-xxxx-test-0002","severity":"moderate","cwe":[],"cvss":{"score":5.3,"vectorString":null},"range":"<99.0.0"}],"effects":[],"range":"*","nodes":["node_modules/yaml"],"fixAvailable":false}},"metadata":{"vulnerabilities":{"info":0,"low":0,"moderate":1,"high":3,"critical":0,"total":4},"dependencies":{"prod":166,"dev":152,"optional":1,"peer":0,"peerOptional":0,"total":317}}}`,
  // This machine: the registry refuses the bulk advisory endpoint.
  methodNotAllowed: `{"message":"405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk","method":"POST","uri":"https://registry.npmjs.org/-/npm/v1/security/advisories/bulk","headers":{"allow":["GET,HEAD"],"date":["Sun, 22 Nov 2026 01:45:06 GMT"],"content-length":["0"],"x-fetch-attempts":["1"]},"statusCode":405,"body":"","error":{"summary":"","detail":""}}`,
  refused: `{"message":"request to http://127.0.0.1:1/-/npm/v1/security/advisories/bulk failed, reason: connect ECONNREFUSED 127.0.0.1:1","error":{"summary":"","detail":""}}`,
  noLockfile: `{"error":{"code":"ENOLOCK","summary":"This command requires an existing lockfile.","detail":"Try creating one first with: npm i --package-lock-only\\nOriginal error: loadVirtual requires existing shrinkwrap file"}}`,
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function audit(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SCRIPT, ...args],
      { cwd: repoPath(), env, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('scripts/audit.mjs on recorded npm audit reports', () => {
  let dir: string;
  const judge = async (report: string): Promise<Run> => {
    const file = join(dir, 'report.json');
    await writeFile(file, report);
    return audit(['--report', file]);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sidekick-audit-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('passes a clean report', async () => {
    const run = await judge(RECORDED.clean);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /npm audit passed: no high or critical advisories in 166 runtime dependencies/);
  });

  it('passes moderate findings, listing them', async () => {
    const run = await judge(RECORDED.moderateOnly);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /moderate: yaml .*test advisory: moderate/);
    assert.match(run.stdout, /1 lower-severity finding/);
  });

  it('fails on high advisories, naming each package and the advisory', async () => {
    const run = await judge(RECORDED.high);
    assert.equal(run.code, 1);
    for (const name of ['express', 'path-to-regexp', 'router']) {
      assert.match(run.stderr, new RegExp(`high: ${name} `));
    }
    assert.match(run.stderr, /test advisory: ReDoS https:\/\/github\.com\/advisories\/GHSA-xxxx-test-0001/);
    assert.match(run.stderr, /npm audit FAILED: 3 runtime package\(s\) with high or critical advisories/);
  });

  it("fails when npm's totals count a critical advisory that no entry shows", async () => {
    const report: unknown = JSON.parse(RECORDED.clean);
    assert.ok(isObject(report) && isObject(report.metadata) && isObject(report.metadata.vulnerabilities));
    report.metadata.vulnerabilities.critical = 1;
    const run = await judge(JSON.stringify(report));
    assert.equal(run.code, 1);
    assert.match(run.stderr, /FAILED/);
  });

  for (const [name, report, reason] of [
    ['405 from the registry', RECORDED.methodNotAllowed, '405 Method Not Allowed'],
    ['a refused connection', RECORDED.refused, 'ECONNREFUSED'],
  ] as const) {
    it(`says loudly that the audit did not run after ${name}, and exits 0`, async () => {
      const run = await judge(report);
      assert.equal(run.code, 0);
      assert.equal(run.stdout, '', 'nothing that reads like a pass');
      assert.match(run.stderr, /npm audit DID NOT RUN: the advisory database could not be reached/);
      assert.ok(run.stderr.includes(reason), run.stderr);
      assert.match(run.stderr, /NOT checked for advisories/);
      assert.doesNotMatch(run.stderr, /passed/);
    });
  }

  it('fails when npm fails for another reason than the network', async () => {
    const run = await judge(RECORDED.noLockfile);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /npm audit failed: ENOLOCK: This command requires an existing lockfile/);
  });

  it('fails on output that is not a report', async () => {
    for (const text of ['', 'npm ERR! something', '[]', '{"unexpected":true}']) {
      const run = await judge(text);
      assert.equal(run.code, 1, `for ${JSON.stringify(text)}`);
    }
  });
});

/** The registry's bulk advisory endpoint and packuments (from node_modules), on loopback. */
class StandInRegistry {
  /** The package names npm asked about. */
  asked: string[] = [];
  private readonly server = createServer((req, res) => {
    this.handle(req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });

  constructor(
    private readonly advisories: Record<string, { severity: string; title: string }>,
    private readonly status = 200,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${String((this.server.address() as AddressInfo).port)}/`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    res.setHeader('content-type', 'application/json');
    const path = decodeURIComponent(req.url ?? '/');
    if (req.method === 'POST' && path === '/-/npm/v1/security/advisories/bulk') {
      if (this.status !== 200) {
        res.statusCode = this.status;
        res.end();
        return;
      }
      const raw = Buffer.concat(chunks);
      const asked: unknown = JSON.parse(
        (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'),
      );
      assert.ok(isObject(asked));
      this.asked = Object.keys(asked);
      const answer: Record<string, unknown[]> = {};
      for (const [name, advisory] of Object.entries(this.advisories)) {
        if (!(name in asked)) continue;
        answer[name] = [
          { id: 1, url: `https://example.invalid/${name}`, vulnerable_versions: '<99', cwe: [], ...advisory },
        ];
      }
      res.end(JSON.stringify(answer));
      return;
    }
    // A packument with just the installed version: npm reads it to say whether a fix exists.
    const name = path.slice(1);
    const text = await readFile(repoPath('node_modules', name, 'package.json'), 'utf8').catch(() => '');
    const manifest: unknown = text ? JSON.parse(text) : undefined;
    if (!isObject(manifest) || typeof manifest.version !== 'string') {
      res.statusCode = 404;
      res.end('{}');
      return;
    }
    const version = manifest.version;
    const dependencies = manifest.dependencies ?? {};
    res.end(
      JSON.stringify({
        name,
        'dist-tags': { latest: version },
        versions: { [version]: { name, version, dependencies } },
      }),
    );
  }
}

describe('scripts/audit.mjs running the real npm audit', () => {
  const withRegistry = async (registry: StandInRegistry, body: (run: Run) => void): Promise<void> => {
    await registry.start();
    try {
      const run = await audit([], { ...process.env, npm_config_registry: registry.url });
      body(run);
    } finally {
      await registry.close();
    }
  };

  it('asks only about runtime dependencies, and fails on their high advisories', async () => {
    const registry = new StandInRegistry({
      'path-to-regexp': { severity: 'high', title: 'stand-in ReDoS' },
      // Dev-only: never shipped, never asked about.
      prettier: { severity: 'critical', title: 'stand-in dev-only' },
    });
    await withRegistry(registry, (run) => {
      assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
      assert.ok(registry.asked.includes('express') && registry.asked.includes('path-to-regexp'));
      for (const dev of ['prettier', 'typescript', 'eslint', 'autocannon']) {
        assert.ok(!registry.asked.includes(dev), `${dev} is a dev dependency but npm asked about it`);
      }
      assert.match(run.stderr, /high: path-to-regexp .*stand-in ReDoS/);
      assert.doesNotMatch(run.stderr, /prettier/);
    });
  });

  it('passes when the runtime dependencies have no advisories', async () => {
    await withRegistry(new StandInRegistry({}), (run) => {
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /npm audit passed/);
    });
  });

  it('reports that it did not run when the endpoint answers 405, as here', async () => {
    await withRegistry(new StandInRegistry({}, 405), (run) => {
      assert.equal(run.code, 0);
      assert.match(run.stderr, /npm audit DID NOT RUN: .*405 Method Not Allowed/);
    });
  });
});
