import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { generateServingCertificate } from './generate.js';
import { certificateProblem, type CertificateNames, type PemSet } from './validity.js';

export interface CertificateFiles {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface EnsureOptions {
  /** Validity of a new serving certificate in days (the CA gets ten times as long). */
  days?: number;
  /** Validity in milliseconds, in place of `days`. */
  validityMs?: number;
  /** Renew a kept set when less than this fraction of its validity remains. */
  renewFraction?: number;
  /** Issue a new set even when the kept one is still good. */
  force?: boolean;
}

export interface EnsureResult extends CertificateFiles {
  /** 'kept': a valid set was already there; otherwise why a new one was written. */
  action: 'kept' | 'created' | 'renewed';
  /** Why an existing set was replaced. */
  reason?: string;
  /** The CA certificate (PEM): what goes, base64-encoded, into a webhook's caBundle. */
  ca: string;
}

/** The file names a kubernetes.io/tls Secret mounts, so a directory and a Secret look alike. */
export function certificateFiles(dir: string): CertificateFiles {
  const absolute = resolve(dir);
  return {
    dir: absolute,
    caFile: join(absolute, 'ca.crt'),
    certFile: join(absolute, 'tls.crt'),
    keyFile: join(absolute, 'tls.key'),
  };
}

async function readPems(files: CertificateFiles): Promise<PemSet | undefined> {
  try {
    const [ca, cert, key] = await Promise.all(
      [files.caFile, files.certFile, files.keyFile].map((path) => readFile(path, 'utf8')),
    );
    return ca === undefined || cert === undefined || key === undefined ? undefined : { ca, cert, key };
  } catch {
    return undefined;
  }
}

/** Each file appears whole: a server watching the directory never reads half a PEM. */
async function writeAtomically(path: string, data: string, mode: number): Promise<void> {
  const temp = `${path}.${String(process.pid)}.tmp`;
  await writeFile(temp, data, { mode });
  await rename(temp, path);
}

/**
 * A CA and a serving certificate for `names` in `dir` (ca.crt, tls.crt, tls.key). A set that is
 * still good is kept, so that clients trusting ca.crt keep working. The CA key is not written:
 * nothing signs with it again; renewal issues a new CA.
 */
export async function ensureCertificateFiles(
  dir: string,
  names: CertificateNames,
  options: EnsureOptions = {},
): Promise<EnsureResult> {
  const files = certificateFiles(dir);
  const existing = await readPems(files);
  const problem = existing
    ? options.force
      ? 'a new set was asked for'
      : certificateProblem(existing, names, Date.now(), options.renewFraction)
    : 'absent';
  if (existing && problem === undefined) return { ...files, action: 'kept', ca: existing.ca };
  const issued = await generateServingCertificate({
    dnsNames: names.dnsNames,
    ipAddresses: names.ipAddresses ?? [],
    ...(options.days === undefined ? {} : { days: options.days }),
    ...(options.validityMs === undefined ? {} : { validityMs: options.validityMs }),
  });
  await mkdir(files.dir, { recursive: true });
  // The key before the certificate: a watcher that sees the new certificate finds its key.
  await writeAtomically(files.caFile, issued.ca.cert, 0o644);
  await writeAtomically(files.keyFile, issued.key, 0o600);
  await writeAtomically(files.certFile, issued.cert, 0o644);
  return existing
    ? { ...files, action: 'renewed', ca: issued.ca.cert, ...(problem === undefined ? {} : { reason: problem }) }
    : { ...files, action: 'created', ca: issued.ca.cert };
}
