// A development OIDC provider (oidc-provider) on loopback, for tests and `npm run demo`:
// demo users in groups, JWT access tokens for audience `cephgate`, key rotation. Run alone: `tsx scripts/dev-idp/provider.ts`.
// biome-ignore-all lint/suspicious/noExplicitAny: oidc-provider ships no types; its ctx/model objects are used as documented

import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import Provider from 'oidc-provider';
import { DEMO_PASSWORD, DEMO_USERS, type DemoUser, loginPage, readForm, sendHtml } from './accounts.ts';

export const DEV_AUDIENCE = 'cephgate';
/** RFC 8707 resource indicators must be absolute URIs; the token audience is the plain `cephgate`. */
export const DEV_RESOURCE = 'urn:cephgate';
/** A dev-only token-endpoint grant that issues a user's access token without a browser. */
export const DEV_USER_GRANT = 'urn:cephgate:params:oauth:grant-type:dev-user';

export interface DevClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface DevIdpOptions {
  /** Loopback port (0 = any free port). */
  readonly port?: number;
  readonly host?: string;
  /** Demo users by login name (default: alice, bob, carol, dave, erin). */
  readonly users?: Readonly<Record<string, DemoUser>>;
  /** Redirect URIs of the gateway's browser-login client (its `/gateway/callback`). */
  readonly redirectUris?: readonly string[];
  /** Allowed post-logout redirect URIs of the gateway client. */
  readonly postLogoutRedirectUris?: readonly string[];
  /** Access / ID token lifetime in seconds (default 600). */
  readonly tokenTtlSeconds?: number;
  readonly clients?: { readonly browser?: DevClient; readonly automation?: DevClient };
}

export interface DevIdp {
  readonly issuer: string;
  readonly port: number;
  readonly browserClient: DevClient;
  readonly automationClient: DevClient;
  /** A real RS256 JWT access token (aud `cephgate`, `groups` claim) for a demo user, via the dev-user grant. */
  tokenFor(user: string): Promise<string>;
  /** A client-credentials access token of the automation client (aud `cephgate`). */
  clientCredentialsToken(): Promise<string>;
  /** Adds a new signing key and signs with it from now on; old keys stay published unless `dropOld`. */
  rotateKeys(opts?: { dropOld?: boolean }): Promise<string>;
  /** Kid of the current signing key. */
  currentKid(): string;
  /** Signs arbitrary claims with the current private key (test forging: expired, wrong aud, ...). */
  signRaw(payload: JWTPayload, header?: { kid?: string; typ?: string }): Promise<string>;
  /** Changes a user's groups (seen on the next token / refresh). */
  setGroups(user: string, groups: readonly string[]): void;
  /** Deletes a user: refreshes and new tokens for them fail. */
  removeUser(user: string): void;
  stop(): Promise<void>;
}

interface SigningKey {
  readonly kid: string;
  readonly jwk: JWK;
}

async function newSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  return { kid, jwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' } };
}

export async function startDevIdp(options: DevIdpOptions = {}): Promise<DevIdp> {
  const host = options.host ?? '127.0.0.1';
  const ttl = options.tokenTtlSeconds ?? 600;
  const users = new Map<string, DemoUser>(Object.entries(options.users ?? DEMO_USERS));
  const browserClient = options.clients?.browser ?? { clientId: 'cephgate', clientSecret: 'cephgate-dev-secret' };
  const automationClient = options.clients?.automation ?? { clientId: 'automation', clientSecret: 'automation-dev-secret' };
  const cookieKeys = [randomBytes(32).toString('base64url')];
  let keys: SigningKey[] = [await newSigningKey()];
  let provider: Provider | null = null;

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendHtml(res, 500, '<h1>dev IdP error</h1>');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://${host}:${port}`;

  const resourceServer = () => ({
    scope: 'cephgate',
    audience: DEV_AUDIENCE,
    accessTokenTTL: ttl,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'RS256' } },
  });

  function build(): Provider {
    const p = new Provider(issuer, {
      clients: [
        {
          client_id: browserClient.clientId,
          client_secret: browserClient.clientSecret,
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [...(options.redirectUris ?? ['http://127.0.0.1:8080/gateway/callback'])],
          post_logout_redirect_uris: [...(options.postLogoutRedirectUris ?? ['http://127.0.0.1:8080/gateway/'])],
        },
        {
          client_id: automationClient.clientId,
          client_secret: automationClient.clientSecret,
          grant_types: ['client_credentials', DEV_USER_GRANT],
          response_types: [],
          redirect_uris: [],
          // Groups of the automation client's own tokens (client credentials have no user).
          'urn:cephgate:groups': ['automation'],
        },
      ],
      extraClientMetadata: { properties: ['urn:cephgate:groups'] },
      jwks: { keys: keys.map((k) => k.jwk) },
      cookies: { keys: cookieKeys },
      findAccount: async (_ctx: unknown, sub: string) => {
        const u = users.get(sub);
        if (u === undefined) return undefined;
        return { accountId: sub, claims: async () => ({ sub, name: u.name, email: u.email, email_verified: true, groups: [...u.groups] }) };
      },
      claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'], groups: ['groups'] },
      scopes: ['openid', 'offline_access', 'profile', 'email', 'groups', 'cephgate'],
      // Put the granted claims (groups) into the ID token too, not only into userinfo.
      conformIdTokenClaims: false,
      ttl: { AccessToken: ttl, IdToken: ttl, ClientCredentials: ttl, RefreshToken: 86400, Interaction: 600, Session: 86400, Grant: 86400 },
      pkce: { required: () => true },
      // Refresh tokens for the confidential browser client without `offline_access` + `prompt=consent`.
      issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) => client.grantTypeAllowed('refresh_token'),
      // First-party clients only: grant every requested scope instead of showing a consent page.
      loadExistingGrant: async (ctx: any) => {
        const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
        const grant = grantId
          ? await ctx.oidc.provider.Grant.find(grantId)
          : new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
        grant.addOIDCScope('openid profile email groups offline_access');
        grant.addResourceScope(DEV_RESOURCE, 'cephgate');
        await grant.save();
        return grant;
      },
      extraTokenClaims: async (ctx: any, token: any) => {
        if (token.accountId) return { groups: [...(users.get(token.accountId)?.groups ?? [])] };
        const clientGroups = ctx.oidc?.client?.['urn:cephgate:groups'];
        return Array.isArray(clientGroups) ? { groups: clientGroups } : undefined;
      },
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        revocation: { enabled: true },
        rpInitiatedLogout: {
          enabled: true,
          // Dev only: confirm the sign-out without a click, so browser tests flow straight through.
          logoutSource: async (ctx: any, form: string) => {
            const auto = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
            ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Signing out</title></head><body>${auto}<script>document.forms[0].submit()</script></body></html>`;
          },
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: async (ctx: any, _client: unknown, oneOf?: string[]) =>
            ctx.oidc.params?.grant_type === 'client_credentials' ? DEV_RESOURCE : oneOf,
          useGrantedResource: async () => false,
          getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
            if (indicator !== DEV_RESOURCE) throw new Error('unknown resource');
            return resourceServer();
          },
        },
      },
    });
    p.registerGrantType(
      DEV_USER_GRANT,
      async (ctx: any) => {
        const username = String(ctx.oidc.params.username ?? '');
        if (!users.has(username)) {
          ctx.status = 400;
          ctx.body = { error: 'invalid_grant', error_description: 'unknown user' };
          return;
        }
        const at = new p.AccessToken({ accountId: username, client: ctx.oidc.client, gty: DEV_USER_GRANT, scope: 'openid profile email groups cephgate' });
        at.resourceServer = new p.ResourceServer(DEV_RESOURCE, resourceServer());
        const value: string = await at.save();
        ctx.body = { access_token: value, token_type: 'Bearer', expires_in: at.expiration, scope: at.scope };
      },
      ['username'],
    );
    return p;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const p = provider;
    if (p === null) return sendHtml(res, 503, '<h1>starting</h1>');
    const path = new URL(req.url ?? '/', issuer).pathname;
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(path);
    if (m === null) return p.callback()(req, res);
    const details = await p.interactionDetails(req, res);
    if (details.uid !== m[1]) return sendHtml(res, 400, '<h1>interaction mismatch</h1>');
    if (m[2] === undefined) return sendHtml(res, 200, loginPage(details.uid, null));
    if (req.method !== 'POST') return sendHtml(res, 405, '<h1>method not allowed</h1>');
    const form = await readForm(req);
    const username = form.get('username') ?? '';
    if (!users.has(username) || form.get('password') !== DEMO_PASSWORD) {
      return sendHtml(res, 401, loginPage(details.uid, 'Unknown user or wrong password.'));
    }
    await p.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
  }

  provider = build();

  async function tokenRequest(body: Record<string, string>): Promise<string> {
    const auth = Buffer.from(`${encodeURIComponent(automationClient.clientId)}:${encodeURIComponent(automationClient.clientSecret)}`).toString('base64');
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${auth}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    });
    const json = (await res.json()) as { access_token?: string; error?: string };
    if (!res.ok || typeof json.access_token !== 'string') throw new Error(`dev IdP token request failed: ${res.status} ${json.error ?? ''}`);
    return json.access_token;
  }

  return {
    issuer,
    port,
    browserClient,
    automationClient,
    tokenFor: (user) => tokenRequest({ grant_type: DEV_USER_GRANT, username: user }),
    clientCredentialsToken: () => tokenRequest({ grant_type: 'client_credentials', resource: DEV_RESOURCE, scope: 'cephgate' }),
    async rotateKeys(opts = {}) {
      const k = await newSigningKey();
      // The first key of the set signs; older keys stay published so tokens already issued still verify.
      keys = opts.dropOld === true ? [k] : [k, ...keys].slice(0, 3);
      provider = build();
      return k.kid;
    },
    currentKid: () => (keys[0] as SigningKey).kid,
    async signRaw(payload, header = {}) {
      const k = keys[0] as SigningKey;
      const key = await importJWK(k.jwk, 'RS256');
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', kid: header.kid ?? k.kid, ...(header.typ === undefined ? {} : { typ: header.typ }) })
        .sign(key);
    },
    setGroups(user, groups) {
      const u = users.get(user);
      if (u !== undefined) users.set(user, { ...u, groups: [...groups] });
    },
    removeUser: (user) => void users.delete(user),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// `tsx scripts/dev-idp/provider.ts [port]`: run the provider alone (the demo and manual testing).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? process.env.DEV_IDP_PORT ?? 9400);
  const gw = process.env.DEV_IDP_GATEWAY_URL ?? 'http://127.0.0.1:8080';
  const idp = await startDevIdp({ port, redirectUris: [`${gw}/gateway/callback`], postLogoutRedirectUris: [`${gw}/gateway/`] });
  console.log(`dev IdP: issuer ${idp.issuer}; users ${Object.keys(DEMO_USERS).join(', ')} (password ${DEMO_PASSWORD})`);
  console.log(`browser client ${idp.browserClient.clientId}, automation client ${idp.automationClient.clientId} (dev secrets)`);
  const stop = () => void idp.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
