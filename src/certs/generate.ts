import { randomBytes } from 'node:crypto';
import { generate } from 'selfsigned';

export interface CertificateAuthority {
  cert: string;
  key: string;
}

export interface ServingCertificate {
  ca: CertificateAuthority;
  cert: string;
  key: string;
}

export interface ServingCertificateOptions {
  /** DNS names for the subjectAltName; the first is the common name. */
  dnsNames: readonly string[];
  /** IP addresses for the subjectAltName (the apiserver calls a `url` webhook by IP). */
  ipAddresses?: readonly string[];
  /** Validity in days; the CA lives ten times as long so that re-issuing keeps its bundle. */
  days?: number;
  /** Validity in milliseconds, in place of `days` (certificates that live minutes, for tests). */
  validityMs?: number;
  /** The time of issue (ms since the epoch), for simulated clocks; the real clock otherwise. */
  now?: number;
  /** An existing CA to sign with instead of a new one. */
  ca?: CertificateAuthority;
  /** Extended key usage: a serving certificate by default, a client certificate on request. */
  usage?: 'server' | 'client' | 'both';
  /** Subject organisation (the apiserver reads O= as the group of a client certificate). */
  organization?: string;
  /** Subject common name when it is not a DNS name (a client certificate's user, `system:node:NAME`). */
  commonName?: string;
}

const DAY_MS = 86_400_000;

/** Clocks differ a little: a certificate is valid from slightly before it was made. */
const backdateMs = (validityMs: number): number => Math.min(5 * 60_000, Math.floor(validityMs / 10));

export async function generateCa(
  commonName = 'sidekick-ca',
  days = 3650,
  validityMs = days * DAY_MS,
  issuedAt = Date.now(),
): Promise<CertificateAuthority> {
  const now = new Date(issuedAt);
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    algorithm: 'sha256',
    keySize: 2048,
    notBeforeDate: new Date(now.getTime() - backdateMs(validityMs)),
    notAfterDate: new Date(now.getTime() + validityMs),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** A CA (new unless given) and a certificate signed by it, all PEM, sha256. */
export async function generateServingCertificate(options: ServingCertificateOptions): Promise<ServingCertificate> {
  const validityMs = options.validityMs ?? (options.days ?? 365) * DAY_MS;
  const issuedAt = options.now ?? Date.now();
  // Each CA gets its own subject: during a rotation a bundle holds the old and the new CA, and
  // OpenSSL (Node's TLS, so config-watchers verifying the relay) picks an issuer by subject alone
  // when the certificates carry no key identifiers, failing the signature on the wrong one.
  const ca =
    options.ca ??
    (await generateCa(
      `sidekick-ca ${new Date(issuedAt).toISOString()} ${randomBytes(4).toString('hex')}`,
      undefined,
      validityMs * 10,
      issuedAt,
    ));
  const commonName = options.commonName ?? options.dnsNames[0] ?? options.ipAddresses?.[0] ?? 'sidekick';
  const usage = options.usage ?? 'server';
  const now = new Date(issuedAt);
  const attrs = [{ name: 'commonName', value: commonName }];
  if (options.organization) attrs.push({ name: 'organizationName', value: options.organization });
  const pems = await generate(attrs, {
    algorithm: 'sha256',
    keySize: 2048,
    notBeforeDate: new Date(now.getTime() - backdateMs(validityMs)),
    notAfterDate: new Date(now.getTime() + validityMs),
    ca,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      {
        name: 'extKeyUsage',
        serverAuth: usage !== 'client',
        clientAuth: usage !== 'server',
      },
      {
        name: 'subjectAltName',
        altNames: [
          ...options.dnsNames.map((value) => ({ type: 2 as const, value })),
          ...(options.ipAddresses ?? []).map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  return { ca, cert: pems.cert, key: pems.private };
}
