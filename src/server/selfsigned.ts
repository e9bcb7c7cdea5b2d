import { isIP } from 'node:net';
import { ensureCertificateFiles, type CertificateFiles } from '../certs/files.js';

export interface SelfSignedFiles extends CertificateFiles {
  /** false when a still-valid certificate from an earlier run was kept. */
  generated: boolean;
}

/** The names a local serving certificate answers to: loopback, plus a specific listen address. */
export function localNames(address: string): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames = ['localhost'];
  const ipAddresses = ['127.0.0.1', '::1'];
  const wildcard = address === '0.0.0.0' || address === '::' || address === '';
  if (!wildcard && isIP(address) !== 0 && !ipAddresses.includes(address)) ipAddresses.push(address);
  if (!wildcard && isIP(address) === 0 && !dnsNames.includes(address)) dnsNames.push(address);
  return { dnsNames, ipAddresses };
}

/**
 * The zero-configuration certificate: a CA and a serving certificate for the local names in `dir`
 * (ca.crt, tls.crt, tls.key). A valid set from an earlier run is kept, so that a client that
 * trusts ca.crt keeps working across restarts.
 */
export async function ensureSelfSignedCertificate(dir: string, address: string): Promise<SelfSignedFiles> {
  const {
    action,
    dir: absolute,
    caFile,
    certFile,
    keyFile,
  } = await ensureCertificateFiles(dir, localNames(address));
  return { dir: absolute, caFile, certFile, keyFile, generated: action !== 'kept' };
}
