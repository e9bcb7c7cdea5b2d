import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../log.js';
import { handleReview, handleValidation } from '../admission/index.js';
import { admissionEndpoint, type MutateDeps } from './admission-endpoint.js';
import { sendStatus } from './status.js';

export interface Readiness {
  ready: boolean;
  /** Why not, e.g. "templates not loaded", "shutting down". */
  reasons: string[];
}

export interface AppDeps extends MutateDeps {
  readiness: () => Readiness;
  logger: Logger;
}

export const MUTATE_PATH = '/mutate';
export const VALIDATE_PATH = '/validate';
/** The ValidatingWebhookConfiguration's entry for namespaces without the opt-in label. */
export const VALIDATE_NOT_OPTED_IN_PATH = '/validate/not-opted-in';

export function mutateEndpoint(deps: MutateDeps): ReturnType<typeof admissionEndpoint> {
  return admissionEndpoint(deps, (body) => handleReview(body, deps.review));
}

/** The webhook's routes, without a listener: the server (or a test) decides where they are served. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.post(MUTATE_PATH, mutateEndpoint(deps));
  app.post(
    VALIDATE_PATH,
    admissionEndpoint(deps, (body) => handleValidation(body, deps.validate, true)),
  );
  app.post(
    VALIDATE_NOT_OPTED_IN_PATH,
    admissionEndpoint(deps, (body) => handleValidation(body, deps.validate, false)),
  );
  app.all([MUTATE_PATH, VALIDATE_PATH, VALIDATE_NOT_OPTED_IN_PATH], (_req, res) => {
    res.setHeader('Allow', 'POST');
    sendStatus(res, 405, 'use POST with an AdmissionReview');
  });
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/readyz', (_req, res) => {
    const { ready, reasons } = deps.readiness();
    if (ready) res.type('text/plain').send('ok');
    else
      res
        .status(503)
        .type('text/plain')
        .send(`not ready: ${reasons.join(', ')}`);
  });
  app.use((req, res) => {
    sendStatus(res, 404, `no route for ${req.method} ${req.path}`);
  });
  // Express recognises an error handler by its four parameters.
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    deps.logger.error({ err: error }, 'request failed');
    if (res.headersSent) {
      next(error);
      return;
    }
    sendStatus(res, 500, 'internal error');
  });
  return app;
}
