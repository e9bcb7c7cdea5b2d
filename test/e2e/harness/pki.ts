import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  generateCa,
  generateServingCertificate,
  type CertificateAuthority,
} from '../../../src/certs/generate.js';

/** Paths of the PEM files the control plane reads. */
export interface ControlPlanePki {
  ca: CertificateAuthority;
  caFile: string;
  servingCertFile: string;
  servingKeyFile: string;
  /** O=system:masters: the apiserver's RBAC lets this client do anything. */
  admin: { cert: string; key: string };
  serviceAccountPublicKeyFile: string;
  serviceAccountPrivateKeyFile: string;
}

/** One CA for everything: the apiserver's serving certificate, client certificates, and the webhook's. */
export async function writeControlPlanePki(dir: string): Promise<ControlPlanePki> {
  const ca = await generateCa('sidekick-e2e-ca', 30);
  const serving = await generateServingCertificate({
    ca,
    days: 3,
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    ipAddresses: ['127.0.0.1', '10.0.0.1'],
  });
  const admin = await generateServingCertificate({
    ca,
    days: 3,
    dnsNames: ['sidekick-e2e-admin'],
    usage: 'client',
    organization: 'system:masters',
  });
  const serviceAccount = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const pki: ControlPlanePki = {
    ca,
    caFile: join(dir, 'ca.crt'),
    servingCertFile: join(dir, 'apiserver.crt'),
    servingKeyFile: join(dir, 'apiserver.key'),
    admin: { cert: admin.cert, key: admin.key },
    serviceAccountPublicKeyFile: join(dir, 'sa.pub'),
    serviceAccountPrivateKeyFile: join(dir, 'sa.key'),
  };
  await Promise.all([
    writeFile(pki.caFile, ca.cert),
    writeFile(pki.servingCertFile, serving.cert),
    writeFile(pki.servingKeyFile, serving.key, { mode: 0o600 }),
    writeFile(pki.serviceAccountPublicKeyFile, serviceAccount.publicKey),
    writeFile(pki.serviceAccountPrivateKeyFile, serviceAccount.privateKey, { mode: 0o600 }),
  ]);
  return pki;
}
