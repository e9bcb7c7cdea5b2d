// The framework floor: the raw floor's webhook on express with its JSON body parser, set up as
// sidekick sets up express (no x-powered-by, no ETag).
import express from 'express';
import { createServer } from 'node:https';
import { allowedReview, BODY_LIMIT, floorArgs, listen, reviewUid } from './common.js';

const args = floorArgs(process.argv.slice(2));
const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.post('/mutate', express.json({ limit: BODY_LIMIT }), (req, res) => {
  const uid = reviewUid(req.body);
  if (uid === undefined) res.status(400).json({ message: 'not an AdmissionReview' });
  else res.type('application/json').send(allowedReview(uid));
});
app.use((_req, res) => {
  res.status(404).json({ message: 'POST /mutate only' });
});
listen(createServer({ cert: args.cert, key: args.key }, app), args.port);
