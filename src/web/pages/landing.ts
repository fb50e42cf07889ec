// The start page's handler, usable at /gateway/ and at / alike: authenticates without recording
// anything (looking at yourself is not an attempt on anything), and answers a visitor without a
// valid credential with the "Sign in with <IdP>" page instead of a 401 JSON.

import type { Context } from 'hono';
import { GatewayError } from '../../core/errors.ts';
import type { Principal } from '../../core/principal.ts';
import { gatewayPolicyInput } from '../../policy/gateway-operations.ts';
import type { AppEnv } from '../env.ts';
import type { PagesDeps } from './deps.ts';
import { SignInPage } from './error-views.tsx';
import { type Credential, LandingPage } from './landing-view.tsx';
import { page, wantsHtml } from './respond.ts';
import { rulesFor } from './rules-in-words.ts';

/** Why a browser sees the sign-in page, in words, from the refusal's code. */
export function signInReason(err: GatewayError): string | null {
  if (err.code === 'unauthenticated') return null;
  if (err.code === 'invalid_token') return 'Your sign-in is no longer valid (the session ended or the credential was refused). Sign in again.';
  return err.message;
}

/** The sign-in page for a refused credential, or null when the refusal is not about signing in. */
export async function signInAnswer(c: Context<AppEnv>, deps: Pick<PagesDeps, 'browserLogin' | 'options'>, err: unknown): Promise<Response | null> {
  if (!(err instanceof GatewayError) || err.status !== 401 || !wantsHtml(c)) return null;
  const returnTo = c.get('state').target.rawPath;
  const props = { browserLogin: deps.browserLogin, idpName: deps.options.idpName ?? null, returnTo, reason: signInReason(err) };
  // 401 keeps its WWW-Authenticate challenge (RFC 9110 11.6.1); the body is the page a person needs.
  return page(c, SignInPage(props), 401, err.headers);
}

async function credentialOf(deps: PagesDeps, c: Context<AppEnv>, p: Principal): Promise<Credential> {
  switch (p.method) {
    case 'session': {
      const s = await deps.session(c.get('state').headers, p);
      return {
        kind: 'session',
        // Without a configured name, the issuer the session's principal comes from (`<issuer>#<subject>`).
        idpName: deps.options.idpName ?? p.id.slice(0, p.id.lastIndexOf('#')),
        startedAt: s?.createdAt.toISOString() ?? null,
        expiresAt: s?.expiresAt.toISOString() ?? null,
      };
    }
    case 'oidc_bearer': {
      const exp = p.claims.exp;
      return { kind: 'bearer', issuer: p.id.slice(0, p.id.lastIndexOf('#')), expiresAt: typeof exp === 'number' ? new Date(exp * 1000).toISOString() : null };
    }
    case 'api_key': {
      const row = await deps.apiKeys.findById(p.id.slice('apikey:'.length));
      return { kind: 'api_key', name: p.apiKeyName ?? p.name, createdBy: row?.createdBy ?? null, expiresAt: row?.expiresAt?.toISOString() ?? null };
    }
    case 'ceph_native':
      return { kind: 'ceph_native', cephUser: p.cephUser ?? null };
  }
}

/** True when the policy would let this principal read the audit log (decided, not recorded). */
export function mayReadAudit(deps: Pick<PagesDeps, 'policies' | 'defaultCluster' | 'now'>, p: Principal): boolean {
  return deps.policies.current.decide(gatewayPolicyInput(p, 'Gateway.audit.read', deps.defaultCluster, deps.now())).effect === 'allow';
}

export function createLandingHandler(deps: PagesDeps) {
  return async function landing(c: Context<AppEnv>): Promise<Response> {
    const s = c.get('state');
    let principal: Principal;
    try {
      principal = await deps.authenticate({ method: 'GET', headers: s.headers, target: s.target, clientIp: s.clientIp });
    } catch (err) {
      const answer = await signInAnswer(c, deps, err);
      if (answer !== null) return answer;
      throw err;
    }
    s.principal = principal;
    const props = {
      principal,
      credential: await credentialOf(deps, c, principal),
      rules: rulesFor(deps.policies.current.rules, principal),
      canReadAudit: mayReadAudit(deps, principal),
      dashboardUrl: deps.options.dashboardUrl ?? null,
    };
    return page(c, LandingPage(props));
  };
}
