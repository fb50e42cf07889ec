// Pages answer a browser's refusal with a page, not JSON: after the app's one error mapper has logged
// the error and built Ceph's JSON answer (web/app.ts onError), this swaps the body for a page with the
// same status and headers when the client asked for HTML. API clients keep the JSON. A redirect the
// mapper chose (to the login) is left alone.

import { createMiddleware } from 'hono/factory';
import { GatewayError } from '../../core/errors.ts';
import type { AppEnv } from '../env.ts';
import type { PagesDeps } from './deps.ts';
import { ErrorPage } from './error-views.tsx';
import { signInAnswer } from './landing.ts';
import { page, wantsHtml } from './respond.ts';

export function htmlErrors(deps: Pick<PagesDeps, 'browserLogin' | 'options'>) {
  return createMiddleware<AppEnv>(async function htmlError(c, next) {
    await next();
    const err = c.error;
    if (err === undefined || !wantsHtml(c) || (c.res.status >= 300 && c.res.status < 400)) return;
    const signIn = await signInAnswer(c, deps, err);
    if (signIn !== null) {
      c.res = signIn;
      return;
    }
    const state = c.get('state');
    const known = err instanceof GatewayError;
    const props = {
      status: known ? err.status : 500,
      code: known ? err.code : ('internal_error' as const),
      // Unknown errors keep their generic text: causes are logged, never shown.
      detail: known ? err.message : 'The gateway failed to handle the request.',
      requestId: state?.requestId ?? 'none',
      who: state?.principal?.name ?? null,
    };
    c.res = await page(c, ErrorPage(props), props.status, known ? err.headers : {});
  });
}
