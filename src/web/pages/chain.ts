// GET /gateway/audit/verify shows the chain and its last verification; POST starts a verification
// (Gateway.audit.read, like every audit page) and sends the browser back to the GET (303).
//
// CSRF: a form cannot send headers, so the page's form carries the session's CSRF token in a hidden
// field and this handler hands it to the one CSRF check there is (auth/browser/session-auth.ts
// csrfProblem: same-origin Origin/Sec-Fetch-Site AND the session's token) as the X-CSRF-Token header
// it reads. A cross-site form cannot know the token; the POST is recorded like any gateway change.

import type { Context } from 'hono';
import { chainStatus } from '../../audit/verify.ts';
import { GatewayError } from '../../core/errors.ts';
import type { AppEnv } from '../env.ts';
import { ChainPage } from './chain-view.tsx';
import type { PagesDeps } from './deps.ts';
import { reading } from './reading.ts';
import { page } from './respond.ts';

/** The form holds one token: a larger body is not this page's form. */
const MAX_FORM_BYTES = 4096;

async function smallForm(c: Context<AppEnv>): Promise<URLSearchParams> {
  const body = c.req.raw.body;
  if (body === null) return new URLSearchParams();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_FORM_BYTES) throw new GatewayError(413, 'body_too_large', `The form is larger than ${MAX_FORM_BYTES} bytes.`);
    chunks.push(chunk);
  }
  if (size === 0) return new URLSearchParams();
  const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded')
    throw new GatewayError(415, 'unsupported_media_type', 'Send the page form (application/x-www-form-urlencoded).');
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export function createChainHandlers(deps: PagesDeps) {
  return {
    async show(c: Context<AppEnv>): Promise<Response> {
      const principal = await deps.authorize(c, 'Gateway.audit.read');
      await deps.audit.flush();
      const status = await reading(() => chainStatus(deps.audit.db));
      const session = await deps.session(c.get('state').headers, principal);
      const props = {
        who: principal.name,
        ...status,
        run: deps.verification.current(),
        csrfToken: session?.csrfToken ?? null,
        checksSignatures: deps.options.checkpointKey !== undefined,
      };
      return page(c, ChainPage(props));
    },

    async start(c: Context<AppEnv>): Promise<Response> {
      const token = (await smallForm(c)).get('csrf_token');
      const state = c.get('state');
      if (token !== null && !state.headers.has('x-csrf-token')) {
        const headers = new Map(state.headers);
        headers.set('x-csrf-token', [token]);
        state.headers = headers;
      }
      const principal = await deps.authorize(c, 'Gateway.audit.read');
      deps.verification.start(principal.id);
      return c.redirect('/gateway/audit/verify', 303);
    },
  };
}
