// The raw floor: a minimal correct webhook on node:https. It reads the body, parses it and allows
// the Pod, which is the least any webhook can do; nothing else runs on the request's path.
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { allowedReview, BODY_LIMIT, floorArgs, listen, reviewUid } from './common.js';

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

const args = floorArgs(process.argv.slice(2));
const server = createServer({ cert: args.cert, key: args.key }, (req, res) => {
  // The apiserver calls `/mutate?timeout=…` (bench/cluster registers this floor as a webhook).
  if (req.method !== 'POST' || (req.url !== '/mutate' && req.url?.startsWith('/mutate?') !== true)) {
    send(res, 404, '{"message":"POST /mutate only"}');
    req.resume();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= BODY_LIMIT) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > BODY_LIMIT) {
      send(res, 413, '{"message":"request body too large"}');
      return;
    }
    let uid: string | undefined;
    try {
      uid = reviewUid(JSON.parse(Buffer.concat(chunks, size).toString('utf8')));
    } catch {
      uid = undefined;
    }
    if (uid === undefined) send(res, 400, '{"message":"not an AdmissionReview"}');
    else send(res, 200, allowedReview(uid));
  });
});
listen(server, args.port);
