import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { generateServingCertificate } from '../certs/generate.js';

export interface SelfSignedFiles {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** false when a still-valid certificate from an earlier run was kept. */
  generated: boolean;
}

/** Re-issue a kept certificate this long before it expires. */
const RENEW_BEFORE_MS = 30 * 86_400_000;

/** The names a local serving certificate answers to: loopback, plus a specific listen address. */
export function localNames(address: string): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames = ['localhost'];
  const ipAddresses = ['127.0.0.1', '::1'];
  const wildcard = address === '0.0.0.0' || address === '::' || address === '';
  if (!wildcard && isIP(address) !== 0 && !ipAddresses.includes(address)) ipAddresses.push(address);
  if (!wildcard && isIP(address) === 0 && !dnsNames.includes(address)) dnsNames.push(address);
  return { dnsNames, ipAddresses };
}

async function stillGood(
  files: Omit<SelfSignedFiles, 'generated'>,
  names: { dnsNames: string[]; ipAddresses: string[] },
): Promise<boolean> {
  try {
    const [ca, cert, key] = await Promise.all(
      [files.caFile, files.certFile, files.keyFile].map((path) => readFile(path, 'utf8')),
    );
    const caCert = new X509Certificate(ca ?? '');
    const serving = new X509Certificate(cert ?? '');
    return (
      serving.verify(caCert.publicKey) &&
      serving.checkPrivateKey(createPrivateKey(key ?? '')) &&
      Date.parse(serving.validTo) - Date.now() > RENEW_BEFORE_MS &&
      names.dnsNames.every((name) => serving.checkHost(name) !== undefined) &&
      names.ipAddresses.every((ip) => serving.checkIP(ip) !== undefined)
    );
  } catch {
    return false;
  }
}

async function writeAtomically(path: string, data: string, mode: number): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, data, { mode });
  await rename(temp, path);
}

/**
 * The zero-configuration certificate: a CA and a serving certificate for the local names in `dir`
 * (ca.crt, tls.crt, tls.key). A valid set from an earlier run is kept, so that a client that
 * trusts ca.crt keeps working across restarts. The CA key is not kept: nothing signs with it again.
 */
export async function ensureSelfSignedCertificate(dir: string, address: string): Promise<SelfSignedFiles> {
  const absolute = resolve(dir);
  const files = {
    dir: absolute,
    caFile: join(absolute, 'ca.crt'),
    certFile: join(absolute, 'tls.crt'),
    keyFile: join(absolute, 'tls.key'),
  };
  const names = localNames(address);
  if (await stillGood(files, names)) return { ...files, generated: false };
  const issued = await generateServingCertificate(names);
  await mkdir(absolute, { recursive: true });
  await writeAtomically(files.caFile, issued.ca.cert, 0o644);
  await writeAtomically(files.keyFile, issued.key, 0o600);
  await writeAtomically(files.certFile, issued.cert, 0o644);
  return { ...files, generated: true };
}
