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

/** Past this close to expiry, renewal is overdue (`sidekick check` says so). */
export const RENEW_BEFORE_MS = 30 * 86_400_000;

/** Renew when a third of the validity remains: 121 days of a 365-day certificate. */
export const DEFAULT_RENEW_FRACTION = 1 / 3;

/**
 * What a kept set is good for: `good` (keep it), `due` (it still works, but renewal should start:
 * little validity left, a name missing, a CA about to expire) or `unusable` (it cannot serve at
 * all: unreadable, not chained, the wrong key, expired), with why.
 */
export type Assessment = { state: 'good' } | { state: 'due' | 'unusable'; reason: string };

const remainingFraction = (x509: X509Certificate, now: number): number => {
  const from = Date.parse(x509.validFrom);
  const to = Date.parse(x509.validTo);
  return to > from ? (to - now) / (to - from) : 0;
};

export function assessCertificate(
  pems: PemSet,
  names: CertificateNames,
  now = Date.now(),
  renewFraction = DEFAULT_RENEW_FRACTION,
): Assessment {
  let ca: X509Certificate;
  let cert: X509Certificate;
  try {
    ca = new X509Certificate(pems.ca);
    cert = new X509Certificate(pems.cert);
  } catch (error) {
    return {
      state: 'unusable',
      reason: `unreadable certificate (${error instanceof Error ? error.message : String(error)})`,
    };
  }
  if (!cert.verify(ca.publicKey)) return { state: 'unusable', reason: 'the certificate is not signed by the CA' };
  try {
    if (!cert.checkPrivateKey(createPrivateKey(pems.key))) {
      return { state: 'unusable', reason: 'the key does not belong to the certificate' };
    }
  } catch {
    return { state: 'unusable', reason: 'unreadable private key' };
  }
  if (Date.parse(cert.validTo) <= now) return { state: 'unusable', reason: `the certificate expired ${cert.validTo}` };
  if (Date.parse(ca.validTo) <= now) return { state: 'unusable', reason: `the CA expired ${ca.validTo}` };
  if (remainingFraction(cert, now) < renewFraction) {
    return { state: 'due', reason: `the certificate expires ${cert.validTo}` };
  }
  if (remainingFraction(ca, now) < renewFraction) return { state: 'due', reason: `the CA expires ${ca.validTo}` };
  const missingName = names.dnsNames.find((name) => cert.checkHost(name, { wildcards: false }) === undefined);
  if (missingName !== undefined) return { state: 'due', reason: `the certificate does not cover ${missingName}` };
  const missingIp = (names.ipAddresses ?? []).find((ip) => cert.checkIP(ip) === undefined);
  if (missingIp !== undefined) return { state: 'due', reason: `the certificate does not cover ${missingIp}` };
  return { state: 'good' };
}

/**
 * Why a kept CA, certificate and key should be replaced, or undefined when they are good: they
 * parse, chain, match, cover every name and have more than `renewFraction` of their validity left.
 */
export function certificateProblem(
  pems: PemSet,
  names: CertificateNames,
  now = Date.now(),
  renewFraction = DEFAULT_RENEW_FRACTION,
): string | undefined {
  const assessment = assessCertificate(pems, names, now, renewFraction);
  return assessment.state === 'good' ? undefined : assessment.reason;
}
