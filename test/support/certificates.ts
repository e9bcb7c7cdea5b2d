import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  generateServingCertificate,
  type CertificateAuthority,
  type ServingCertificate,
} from '../../src/certs/generate.js';

/** A certificate for 127.0.0.1 and localhost (tests call loopback only), from `ca` or a new CA. */
export function loopbackCertificate(
  options: { ca?: CertificateAuthority; days?: number } = {},
): Promise<ServingCertificate> {
  return generateServingCertificate({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], ...options });
}

/** `<name>.crt` and `<name>.key` (readable by its owner only) in `dir`. */
export async function writeCertificate(
  dir: string,
  cert: { cert: string; key: string },
  name = 'tls',
): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await writeFile(certFile, cert.cert);
  await writeFile(keyFile, cert.key, { mode: 0o600 });
  return { certFile, keyFile };
}
