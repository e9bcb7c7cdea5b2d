// `sidekick certs --dir`: the offline half of `sidekick certs`, proven with real TLS handshakes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, createServer } from 'node:tls';
import { promisify } from 'node:util';
import { ensureCertificateFiles } from '../../src/certs/files.js';
import { SIDEKICK_MAIN } from '../support/paths.js';

const execFileAsync = promisify(execFile);

/** Serves `cert`/`key` on 127.0.0.1 and connects to it as `servername`, trusting only `ca`. */
async function handshake(
  files: { ca: string; cert: string; key: string },
  servername: string,
): Promise<void> {
  const server = createServer({ cert: files.cert, key: files.key }, (socket) => {
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = connect(
        {
          host: '127.0.0.1',
          port: address.port,
          ca: files.ca,
          ...(servername === '127.0.0.1' ? {} : { servername }),
        },
        () => {
          socket.end();
          resolve();
        },
      );
      socket.on('error', reject);
    });
  } finally {
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }
}

async function read(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const [ca, cert, key] = await Promise.all(
    ['ca.crt', 'tls.crt', 'tls.key'].map((name) => readFile(join(dir, name), 'utf8')),
  );
  return { ca: ca!, cert: cert!, key: key! };
}

void describe('sidekick certs --dir', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sidekick-certs-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('creates a CA and a serving certificate that a TLS client accepts, for every name', async () => {
    const out = join(dir, 'created');
    const names = { dnsNames: ['sidekick.sidekick.svc', 'localhost'], ipAddresses: ['127.0.0.1'] };
    const result = await ensureCertificateFiles(out, names);
    assert.equal(result.action, 'created');
    const files = await read(out);
    assert.equal(files.ca, result.ca);
    assert.equal((await stat(join(out, 'tls.key'))).mode & 0o077, 0, 'the key is private to its owner');
    await handshake(files, 'sidekick.sidekick.svc');
    await handshake(files, '127.0.0.1');
    await assert.rejects(handshake(files, 'other.example'), /does not match|altnames/i);
  });

  void it('keeps a good set, and renews one that does not cover the names or is not its own', async () => {
    const out = join(dir, 'kept');
    const names = { dnsNames: ['sidekick.sidekick.svc'] };
    await ensureCertificateFiles(out, names);
    const first = await read(out);
    assert.equal((await ensureCertificateFiles(out, names)).action, 'kept');
    assert.deepEqual(await read(out), first);

    const wider = await ensureCertificateFiles(out, {
      dnsNames: ['sidekick.sidekick.svc', 'sidekick.other.svc'],
    });
    assert.equal(wider.action, 'renewed');
    assert.match(wider.reason ?? '', /sidekick\.other\.svc/);
    await handshake(await read(out), 'sidekick.other.svc');

    // A key that belongs to another certificate is never kept.
    const stray = join(dir, 'stray');
    await ensureCertificateFiles(stray, names);
    await writeFile(join(out, 'tls.key'), (await read(stray)).key);
    const mismatched = await ensureCertificateFiles(out, names);
    assert.equal(mismatched.action, 'renewed');
    assert.match(mismatched.reason ?? '', /key/);

    assert.equal((await ensureCertificateFiles(out, names, { force: true })).action, 'renewed');
  });

  void it('the command writes the files and prints the caBundle', async () => {
    const out = join(dir, 'cli');
    const { stdout } = await execFileAsync(process.execPath, [
      SIDEKICK_MAIN,
      'certs',
      `--dir=${out}`,
      '--service=hooks',
      '--namespace=team',
      '--ip-address=127.0.0.1',
      '--days=30',
    ]);
    assert.match(stdout, /: created: ca\.crt, tls\.crt, tls\.key/);
    const files = await read(out);
    const bundle = /caBundle: (\S+)/.exec(stdout)?.[1];
    assert.equal(Buffer.from(bundle ?? '', 'base64').toString(), files.ca);
    await handshake(files, 'hooks.team.svc');
    await handshake(files, 'hooks.team.svc.cluster.local');
    const cert = new X509Certificate(files.cert);
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    assert.ok(days > 29 && days <= 30, `valid for ${days.toFixed(1)} days`);
  });

  void it('rejects a bad --days with a usage error', async () => {
    await assert.rejects(
      execFileAsync(process.execPath, [SIDEKICK_MAIN, 'certs', `--dir=${dir}`, '--days=0']),
      (error: { code?: number; stderr?: string }) => error.code === 2 && /--days/.test(error.stderr ?? ''),
    );
  });
});
