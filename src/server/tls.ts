import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** Optional: client certificates must chain to it (mutual TLS from the apiserver). */
  clientCaFile?: string;
}

export interface TlsMaterial {
  cert: string;
  key: string;
  clientCa?: string;
  notAfter: Date;
  notBefore: Date;
  /** Of the serving certificate, to tell reloads apart in logs and tests. */
  fingerprint256: string;
  subject: string;
}

export type TlsRead = { ok: true; material: TlsMaterial } | { ok: false; problem: string };

async function readText(path: string): Promise<string | Error> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Reads the pair and accepts it only when both parse and the key belongs to the certificate: a
 * Secret being rewritten file by file must never half-apply.
 */
export async function readTlsMaterial(files: TlsFiles): Promise<TlsRead> {
  const [cert, key, clientCa] = await Promise.all([
    readText(files.certFile),
    readText(files.keyFile),
    files.clientCaFile === undefined ? undefined : readText(files.clientCaFile),
  ]);
  if (cert instanceof Error) return { ok: false, problem: `cannot read ${files.certFile}: ${cert.message}` };
  if (key instanceof Error) return { ok: false, problem: `cannot read ${files.keyFile}: ${key.message}` };
  if (clientCa instanceof Error) {
    return { ok: false, problem: `cannot read ${String(files.clientCaFile)}: ${clientCa.message}` };
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (error) {
    return { ok: false, problem: `${files.certFile} is not a PEM certificate: ${reason(error)}` };
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(key))) {
      return {
        ok: false,
        problem: `${files.keyFile} is not the key of the certificate in ${files.certFile}`,
      };
    }
  } catch (error) {
    return { ok: false, problem: `${files.keyFile} is not a PEM private key: ${reason(error)}` };
  }
  try {
    if (clientCa !== undefined) new X509Certificate(clientCa);
    createSecureContext(secureContextOptions({ cert, key, ...(clientCa !== undefined ? { clientCa } : {}) }));
  } catch (error) {
    return { ok: false, problem: `the TLS files are not usable: ${reason(error)}` };
  }
  const material: TlsMaterial = {
    cert,
    key,
    notAfter: new Date(x509.validTo),
    notBefore: new Date(x509.validFrom),
    fingerprint256: x509.fingerprint256,
    subject: x509.subject,
    ...(clientCa !== undefined ? { clientCa } : {}),
  };
  return { ok: true, material };
}

export function secureContextOptions(
  material: Pick<TlsMaterial, 'cert' | 'key' | 'clientCa'>,
): SecureContextOptions {
  return {
    cert: material.cert,
    key: material.key,
    minVersion: 'TLSv1.2',
    ...(material.clientCa !== undefined ? { ca: material.clientCa } : {}),
  };
}
