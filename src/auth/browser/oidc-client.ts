// The gateway as an OIDC relying party (openid-client 6): lazy discovery, authorization code + PKCE
// (RFC 7636, S256) with state and nonce, refresh (groups), and RP-initiated logout (OIDC RP-Initiated Logout 1.0).

import * as oidc from 'openid-client';
import type { BrowserLoginConfig, IssuerConfig } from '../../config/identity.ts';
import type { FetchLike } from '../jwks.ts';

export interface LoginStart {
  readonly url: URL;
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
}

export interface RpTokens {
  readonly claims: Record<string, unknown>;
  readonly refreshToken: string | null;
  readonly idToken: string | null;
}

export interface RelyingParty {
  start(redirectUri: string): Promise<LoginStart>;
  /** Exchanges the code; checks state, nonce, PKCE, ID token (iss, aud, exp, signature). */
  finish(callbackUrl: URL, checks: { state: string; nonce: string; verifier: string }): Promise<RpTokens>;
  /** Refresh grant: the user's current claims (ID token or, failing that, userinfo for the same subject). */
  refresh(refreshToken: string, subject: string): Promise<RpTokens>;
  /** The IdP's end-session URL, or null when it publishes none. */
  endSessionUrl(params: { idTokenHint: string | null; postLogoutRedirectUri: string }): Promise<URL | null>;
}

const isLoopbackHttp = (u: URL) => u.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname);

export function createRelyingParty(issuer: IssuerConfig, login: BrowserLoginConfig, clientSecret: string, fetchFn?: FetchLike): RelyingParty {
  let config: Promise<oidc.Configuration> | null = null;
  const issuerUrl = new URL(issuer.issuer);

  function configuration(): Promise<oidc.Configuration> {
    config ??= oidc
      .discovery(
        issuerUrl,
        login.client_id,
        undefined,
        login.token_endpoint_auth_method === 'client_secret_post' ? oidc.ClientSecretPost(clientSecret) : oidc.ClientSecretBasic(clientSecret),
        {
          timeout: Math.ceil(issuer.http_timeout_ms / 1000),
          // Plain http only for a loopback development IdP.
          ...(isLoopbackHttp(issuerUrl) ? { execute: [oidc.allowInsecureRequests] } : {}),
          ...(fetchFn === undefined ? {} : { [oidc.customFetch]: fetchFn as oidc.CustomFetch }),
        },
      )
      .catch((err: unknown) => {
        config = null; // retry discovery on the next login instead of caching the failure
        throw err;
      });
    return config;
  }

  const tokensOf = (t: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers): RpTokens => ({
    claims: (t.claims() ?? {}) as Record<string, unknown>,
    refreshToken: t.refresh_token ?? null,
    idToken: t.id_token ?? null,
  });

  return {
    async start(redirectUri) {
      const cfg = await configuration();
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(cfg, {
        ...login.extra_auth_params,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: login.scopes,
        state,
        nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      return { url, state, nonce, verifier };
    },
    async finish(callbackUrl, checks) {
      const cfg = await configuration();
      const t = await oidc.authorizationCodeGrant(cfg, callbackUrl, {
        pkceCodeVerifier: checks.verifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
      return tokensOf(t);
    },
    async refresh(refreshToken, subject) {
      const cfg = await configuration();
      const t = await oidc.refreshTokenGrant(cfg, refreshToken);
      const out = tokensOf(t);
      if (out.idToken !== null) return out;
      const info = await oidc.fetchUserInfo(cfg, t.access_token, subject);
      return { ...out, claims: info as Record<string, unknown> };
    },
    async endSessionUrl({ idTokenHint, postLogoutRedirectUri }) {
      const cfg = await configuration();
      if (cfg.serverMetadata().end_session_endpoint === undefined) return null;
      return oidc.buildEndSessionUrl(cfg, {
        post_logout_redirect_uri: postLogoutRedirectUri,
        ...(idTokenHint === null ? {} : { id_token_hint: idTokenHint }),
      });
    },
  };
}
