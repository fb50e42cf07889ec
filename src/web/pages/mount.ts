// Mounts the pages for people under /gateway: the start page, the audit viewer (list, record, summary,
// chain verification). Each audit page is authorised as the audit API is (Gateway.audit.read through
// the injected authoriser, refusals recorded); a browser gets its refusals as pages.

import type { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { createChainHandlers } from './chain.ts';
import type { PagesDeps } from './deps.ts';
import { htmlErrors } from './html-errors.ts';
import { createLandingHandler } from './landing.ts';
import { createRecordHandler } from './record.ts';
import { createSummaryHandler } from './summary.ts';
import { createViewerHandler } from './viewer.ts';

export function mountPages(app: Hono<AppEnv>, deps: PagesDeps): void {
  const errors = htmlErrors(deps);
  app.use('/gateway', errors);
  app.use('/gateway/', errors);
  app.use('/gateway/audit/*', errors);
  // The start page is /gateway/, and /gateway too: the request-target parser (intake/request-target.ts)
  // refuses a trailing slash everywhere but `/` and `/clusters/<name>/`, so until it also takes
  // `/gateway/`, the pages link to /gateway.
  const landing = createLandingHandler(deps);
  app.get('/gateway', landing);
  app.get('/gateway/', landing);
  app.get('/gateway/audit', createViewerHandler(deps));
  app.get('/gateway/audit/record/:id', createRecordHandler(deps));
  app.get('/gateway/audit/summary', createSummaryHandler(deps));
  const chain = createChainHandlers(deps);
  app.get('/gateway/audit/verify', chain.show);
  app.post('/gateway/audit/verify', chain.start);
}
