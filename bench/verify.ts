import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { request } from 'node:https';
import { getOwn, isArray, isObject, type Json, type JsonObject } from '../src/json.js';
import { SIDECARS } from './reviews.js';
import type { ServerName } from './servers.js';

export interface Answer {
  status: number;
  text: string;
}

/** One POST /mutate over a verified TLS connection. */
export function post(url: string, ca: string, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/mutate`,
      { method: 'POST', ca, headers: { 'Content-Type': 'application/json' }, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('no answer in 10 s')));
    req.end(body);
  });
}

function field(value: Json | undefined, ...path: string[]): Json | undefined {
  let at = value;
  for (const key of path) at = isObject(at) ? getOwn(at, key) : undefined;
  return at;
}

function isOperation(value: Json): boolean {
  return isObject(value) && typeof value.op === 'string' && typeof value.path === 'string';
}

/** The sidecars the patch adds to the Pod, in order, once it is applied; throws when it is wrong. */
function injectedSidecars(review: JsonObject, response: Json | undefined): string[] {
  if (field(response, 'patchType') !== 'JSONPatch') throw new Error('no JSONPatch in the answer');
  const encoded = field(response, 'patch');
  if (typeof encoded !== 'string') throw new Error('the patch is not a string');
  const ops: unknown = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  if (!isArray(ops) || !ops.every(isOperation)) throw new Error('the patch is not a list of operations');
  const pod = field(review, 'request', 'object');
  if (!isObject(pod)) throw new Error('the review has no Pod');
  const patched: unknown = fastJsonPatch.applyPatch(
    pod,
    ops as unknown as Operation[],
    true,
    false,
  ).newDocument;
  const init = field(field(patched as Json, 'spec'), 'initContainers');
  if (!isArray(init)) throw new Error('the patched Pod has no initContainers');
  return init
    .filter((c) => isObject(c) && c.restartPolicy === 'Always')
    .map((c) => (isObject(c) && typeof c.name === 'string' ? c.name : ''));
}

/**
 * Checks that a server answers the review correctly before it is loaded: the same uid, allowed,
 * and from sidekick a patch that really adds the three sidecars. A benchmark of wrong answers
 * would measure nothing.
 */
export async function verifyAnswer(name: ServerName, url: string, ca: string, text: string): Promise<number> {
  const answer = await post(url, ca, text);
  if (answer.status !== 200) throw new Error(`${name}: HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
  const sent: unknown = JSON.parse(text);
  const got: unknown = JSON.parse(answer.text);
  if (!isObject(sent) || !isObject(got)) throw new Error(`${name}: not JSON objects`);
  const response = field(got, 'response');
  if (field(got, 'kind') !== 'AdmissionReview' || field(got, 'apiVersion') !== 'admission.k8s.io/v1') {
    throw new Error(`${name}: not an admission.k8s.io/v1 AdmissionReview`);
  }
  if (field(response, 'uid') !== field(sent, 'request', 'uid')) throw new Error(`${name}: wrong uid`);
  if (field(response, 'allowed') !== true)
    throw new Error(`${name}: not allowed: ${answer.text.slice(0, 300)}`);
  if (name === 'sidekick') {
    const sidecars = injectedSidecars(sent, response);
    const missing = SIDECARS.filter((s) => !sidecars.includes(s));
    if (missing.length > 0) throw new Error(`${name}: the patch does not inject ${missing.join(', ')}`);
  }
  return Buffer.byteLength(answer.text);
}
