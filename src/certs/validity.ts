import { createPrivateKey, X509Certificate } from 'node:crypto';

export interface CertificateNames {
  dnsNames: readonly string[];
  ipAddresses?: readonly string[];
}

export interface PemSet {
  ca: string;
  cert: string;
  key: string;
}

/** Re-issue a kept certificate this long before it expires. */
export const RENEW_BEFORE_MS = 30 * 86_400_000;

/**
 * Why a kept CA, certificate and key can no longer serve these names, or undefined when they can:
 * they parse, chain, match, cover every name and are not about to expire.
 */
export function certificateProblem(pems: PemSet, names: CertificateNames, now = Date.now()): string | undefined {
  let ca: X509Certificate;
  let cert: X509Certificate;
  try {
    ca = new X509Certificate(pems.ca);
    cert = new X509Certificate(pems.cert);
  } catch (error) {
    return `unreadable certificate (${error instanceof Error ? error.message : String(error)})`;
  }
  if (!cert.verify(ca.publicKey)) return 'the certificate is not signed by the CA';
  try {
    if (!cert.checkPrivateKey(createPrivateKey(pems.key))) return 'the key does not belong to the certificate';
  } catch {
    return 'unreadable private key';
  }
  if (Date.parse(cert.validTo) - now < RENEW_BEFORE_MS) return `the certificate expires ${cert.validTo}`;
  if (Date.parse(ca.validTo) - now < RENEW_BEFORE_MS) return `the CA expires ${ca.validTo}`;
  const missingName = names.dnsNames.find((name) => cert.checkHost(name, { wildcards: false }) === undefined);
  if (missingName !== undefined) return `the certificate does not cover ${missingName}`;
  const missingIp = (names.ipAddresses ?? []).find((ip) => cert.checkIP(ip) === undefined);
  if (missingIp !== undefined) return `the certificate does not cover ${missingIp}`;
  return undefined;
}
