// A Git repository served over HTTPS from inside the suite's network namespace: Debian's
// `git http-backend` (the CGI program git ships for smart HTTP) behind a small Node HTTPS
// server, with a certificate of the control plane's CA for the node's address. The suite
// commits to it from a working clone, as a developer would push.
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { generateServingCertificate, type CertificateAuthority } from '../../../src/certs/generate.js';

/** Debian's git refuses a repository that another user owns ("dubious ownership") unless told it is safe. */
const SAFE = { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'safe.directory', GIT_CONFIG_VALUE_0: '*' };

function git(args: string[], cwd: string): string {
  const result = spawnSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      ...SAFE,
      GIT_AUTHOR_NAME: 'node suite',
      GIT_AUTHOR_EMAIL: 'node-suite@sidekick.test',
      GIT_COMMITTER_NAME: 'node suite',
      GIT_COMMITTER_EMAIL: 'node-suite@sidekick.test',
    },
  });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** Splits a CGI response into its header block and the start of its body. */
function cgiHeaders(buffer: Buffer): { headers: string[]; rest: Buffer } | undefined {
  for (const separator of ['\r\n\r\n', '\n\n']) {
    const end = buffer.indexOf(separator);
    if (end >= 0) {
      const headers = buffer.subarray(0, end).toString('latin1').split(/\r?\n/);
      return { headers, rest: buffer.subarray(end + separator.length) };
    }
  }
  return undefined;
}

export class GitServer {
  private constructor(
    private readonly server: Server,
    private readonly work: string,
    readonly origin: string,
    readonly ca: CertificateAuthority,
  ) {}

  /**
   * Serves `<dir>/repos/<name>.git` with one commit of `files`, on every address of the suite's own
   * network namespace (the bridge Pods reach it on appears with the first Pod), as `host` names it.
   */
  static async start(options: {
    dir: string;
    host: string;
    ca: CertificateAuthority;
    name: string;
    files: Record<string, string>;
  }): Promise<GitServer> {
    const repos = join(options.dir, 'repos');
    const work = join(options.dir, 'work');
    await mkdir(repos, { recursive: true });
    git(['init', '-q', '--bare', '-b', 'main', join(repos, `${options.name}.git`)], options.dir);
    git(['init', '-q', '-b', 'main', work], options.dir);
    git(['remote', 'add', 'origin', join(repos, `${options.name}.git`)], work);
    const tls = await generateServingCertificate({
      ca: options.ca,
      days: 1,
      dnsNames: ['git.sidekick.test'],
      ipAddresses: [options.host],
    });
    const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://git.sidekick.test');
      const header = (name: string): string => {
        const value = req.headers[name];
        return Array.isArray(value) ? value.join(', ') : (value ?? '');
      };
      const child = spawn('git', ['http-backend'], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          ...SAFE,
          GIT_PROJECT_ROOT: repos,
          GIT_HTTP_EXPORT_ALL: '1',
          GATEWAY_INTERFACE: 'CGI/1.1',
          REQUEST_METHOD: req.method ?? 'GET',
          PATH_INFO: decodeURIComponent(url.pathname),
          QUERY_STRING: url.search.slice(1),
          CONTENT_TYPE: header('content-type'),
          REMOTE_ADDR: req.socket.remoteAddress ?? '',
          HTTP_CONTENT_ENCODING: header('content-encoding'),
          GIT_PROTOCOL: header('git-protocol'),
        },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      req.pipe(child.stdin);
      let head: Buffer = Buffer.alloc(0);
      let started = false;
      child.stdout.on('data', (chunk: Buffer) => {
        if (started) {
          res.write(chunk);
          return;
        }
        head = Buffer.concat([head, chunk]);
        const parsed = cgiHeaders(head);
        if (!parsed) return;
        started = true;
        let status = 200;
        for (const line of parsed.headers) {
          const colon = line.indexOf(':');
          if (colon < 0) continue;
          const name = line.slice(0, colon).trim();
          const value = line.slice(colon + 1).trim();
          if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
          else res.setHeader(name, value);
        }
        res.writeHead(status);
        res.write(parsed.rest);
      });
      child.on('close', (code) => {
        if (!started) res.writeHead(500).end(`git http-backend exited ${String(code)}`);
        else res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '0.0.0.0', resolve);
    });
    const { port } = server.address() as AddressInfo;
    const served = new GitServer(server, work, `https://${options.host}:${String(port)}`, options.ca);
    await served.commit(options.files, 'first');
    return served;
  }

  url(name: string): string {
    return `${this.origin}/${name}.git`;
  }

  /** Writes `files` into the working clone, commits and pushes; returns the commit. */
  async commit(files: Record<string, string>, message: string): Promise<string> {
    for (const [path, content] of Object.entries(files)) await writeFile(join(this.work, path), content);
    git(['add', '-A'], this.work);
    git(['commit', '-q', '-m', message], this.work);
    git(['push', '-q', 'origin', 'main'], this.work);
    return git(['rev-parse', 'HEAD'], this.work);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }
}
