import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isObject, type Json, type JsonObject } from '../../../src/json.js';
import type { TlsPair } from './injector.js';

/**
 * A second mutating webhook that does what careless webhooks did to native sidecars: it removes
 * `restartPolicy` from every init container (as one that round-trips Pods through old typed
 * models would). Registered after sidekick's, it makes the apiserver reinvoke sidekick.
 */
export class RestartPolicyStripper {
  /** Admission requests seen. */
  calls = 0;
  /** restartPolicy fields removed. */
  removed = 0;

  private constructor(private readonly server: Server) {}

  static async start(tls: TlsPair): Promise<RestartPolicyStripper> {
    const [cert, key] = await Promise.all([readFile(tls.certFile, 'utf8'), readFile(tls.keyFile, 'utf8')]);
    const holder: { stripper?: RestartPolicyStripper } = {};
    const server = createServer({ cert, key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
        const answer = holder.stripper?.review(review);
        res.writeHead(answer ? 200 : 400, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer ?? { error: 'not an AdmissionReview' }));
      });
    });
    const stripper = new RestartPolicyStripper(server);
    holder.stripper = stripper;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return stripper;
  }

  get url(): string {
    return `https://127.0.0.1:${String((this.server.address() as AddressInfo).port)}/strip`;
  }

  private review(review: Json): JsonObject | undefined {
    if (!isObject(review) || !isObject(review.request) || typeof review.request.uid !== 'string')
      return undefined;
    this.calls += 1;
    const pod = review.request.object;
    const spec = isObject(pod) && isObject(pod.spec) ? pod.spec : {};
    const inits = Array.isArray(spec.initContainers) ? spec.initContainers : [];
    const patch: JsonObject[] = [];
    inits.forEach((container, index) => {
      if (isObject(container) && 'restartPolicy' in container) {
        patch.push({ op: 'remove', path: `/spec/initContainers/${String(index)}/restartPolicy` });
      }
    });
    this.removed += patch.length;
    const response: JsonObject = { uid: review.request.uid, allowed: true };
    if (patch.length > 0) {
      response.patchType = 'JSONPatch';
      response.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
    }
    return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}
