// Configuration of identity: trusted OIDC issuers (bearer JWTs), browser login, server-side sessions, API keys.
// Nothing configured means no authenticator accepts anything: the gateway then refuses every request (401).

import { z } from 'zod';
import { secretRefShape } from './secrets.ts';

/** Algorithms a token may be signed with. Never `none` and never HS* (RFC 8725 section 3.1, 3.2). */
export const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export const DEFAULT_ALGS: (typeof ASYMMETRIC_ALGS)[number][] = ['RS256', 'ES256', 'PS256', 'EdDSA'];

/** A claim path: dotted (`realm_access.roles`) or a list of keys when a key contains a dot (`[resource_access, my.client, roles]`). */
const claimPath = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const claimMappingSchema = z
  .object({
    /** Claim holding the stable subject; the principal id is `<issuer>#<subject>`. */
    subject: claimPath.default('sub'),
    /** Claim holding the display name; falls back to `preferred_username`, then the subject. */
    name: claimPath.default('name'),
    /** Claim holding the e-mail address (null when absent). */
    email: claimPath.default('email'),
    /** Claim holding the groups: an array of strings (or one string). Keycloak: `realm_access.roles`. */
    groups: claimPath.default('groups'),
  })
  .strict()
  .default({ subject: 'sub', name: 'name', email: 'email', groups: 'groups' });

export const issuerSchema = z
  .object({
    /** Short label for logs and metrics. */
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, . _ - only'),
    /** Issuer identifier; must equal the tokens' `iss` and the discovery document's `issuer` exactly. */
    issuer: z.url(),
    /** JWKS URL; when unset it comes from `<issuer>/.well-known/openid-configuration` (OIDC Discovery 1.0). */
    jwks_uri: z.url().optional(),
    /** Accepted `aud` values; a token must name at least one (RFC 7519 4.1.3). Required. */
    audiences: z.array(z.string().min(1)).min(1),
    /** Allowed JWS algorithms (explicit allow-list). */
    algorithms: z.array(z.enum(ASYMMETRIC_ALGS)).min(1).default(DEFAULT_ALGS),
    /** Clock skew tolerated on `exp`/`nbf`/`iat`, in seconds (at most 300). */
    clock_skew_seconds: z.number().int().min(0).max(300).default(30),
    /** Required JOSE `typ` header, e.g. `at+jwt` for RFC 9068 access tokens; unset = not checked. */
    required_typ: z.string().min(1).optional(),
    /** Scopes that must all appear in `scope` (space-separated) or `scp`. */
    required_scopes: z.array(z.string().min(1)).default([]),
    claims: claimMappingSchema,
    /** Static mapping of IdP groups to gateway groups: `{ "cn=ops,dc=x": ["operators"] }`. */
    group_mapping: z.record(z.string(), z.array(z.string().min(1))).default({}),
    /** `keep`: unmapped IdP groups pass through as they are; `drop`: only mapped groups are kept. */
    unmapped_groups: z.enum(['keep', 'drop']).default('keep'),
    /** Minimum seconds between two JWKS fetches triggered by an unknown `kid` (rate limit). */
    jwks_cooldown_seconds: z.number().min(0).default(30),
    /** Seconds a fetched JWKS is used before it is refetched. */
    jwks_cache_max_age_seconds: z.number().positive().default(600),
    /** Timeout of discovery and JWKS requests, in milliseconds. */
    http_timeout_ms: z.number().int().positive().default(5000),
  })
  .strict();

export const browserLoginSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** `name` of the issuer (under `issuers`) users log in at; its claim mapping builds the principal. */
    issuer: z.string().min(1),
    /** OAuth client of the gateway at that issuer (confidential client, authorization code + PKCE). */
    client_id: z.string().min(1),
    ...secretRefShape('client_secret'),
    /** How the gateway authenticates at the token endpoint (RFC 6749 2.3.1). */
    token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
    /** Scopes requested at login. */
    scopes: z.string().default('openid profile email'),
    /** Extra authorization request parameters (e.g. `{ "resource": "urn:cephgate" }`). */
    extra_auth_params: z.record(z.string(), z.string()).default({}),
    /** Where the IdP sends the browser after its logout (a path of the gateway's public URL). */
    post_logout_path: z.string().startsWith('/').default('/gateway/'),
    /** Where the browser lands after login when `rd` is missing or refused. */
    default_redirect_path: z.string().startsWith('/').default('/'),
    /** Lifetime of the state/nonce/PKCE cookie of a login in progress, in seconds. */
    login_timeout_seconds: z.number().int().positive().max(3600).default(600),
  })
  .strict();

export const sessionsSchema = z
  .object({
    /** Cookie name; `__Host-` prefixed unless the public URL is plain http on loopback (dev). */
    cookie_name: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default('cephgate_session'),
    /** Absolute session lifetime in seconds. */
    ttl_seconds: z.number().int().positive().default(28800),
    /** Groups are refreshed from the IdP (refresh token grant) at most this often; a failed refresh ends the session. */
    groups_refresh_seconds: z.number().int().positive().default(300),
    /** 32-byte key (base64 or 64 hex chars) for AES-256-GCM of refresh tokens at rest and of the login cookie. */
    ...secretRefShape('encryption_key'),
  })
  .strict()
  .default({ cookie_name: 'cephgate_session', ttl_seconds: 28800, groups_refresh_seconds: 300 });

export const apiKeysSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Header carrying the key: `authorization` (`Bearer cgk_...`) or another header name (value = the key). */
    header: z
      .string()
      .regex(/^[a-z0-9-]+$/, 'lower-case header name')
      .default('authorization'),
    /** Minimum seconds between two writes of a key's last-used time. */
    last_used_write_interval_seconds: z.number().int().min(0).default(60),
    /** Longest lifetime a key may be created with, in days. */
    max_lifetime_days: z.number().int().positive().default(365),
  })
  .strict()
  .default({ enabled: true, header: 'authorization', last_used_write_interval_seconds: 60, max_lifetime_days: 365 });

export const tokenCacheSchema = z
  .object({
    /** Verified bearer tokens kept (the oldest inserted is evicted first); 0 disables the cache. */
    max_entries: z.number().int().min(0).default(10000),
    /** Longest a verified token is served from cache (never beyond its `exp`), in seconds. */
    max_ttl_seconds: z.number().int().min(0).default(300),
  })
  .strict()
  .default({ max_entries: 10000, max_ttl_seconds: 300 });

export const identityConfigSchema = z
  .object({
    issuers: z.array(issuerSchema).default([]),
    token_cache: tokenCacheSchema,
    browser_login: browserLoginSchema.optional(),
    sessions: sessionsSchema,
    api_keys: apiKeysSchema,
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const names = new Set<string>();
    const issuers = new Set<string>();
    cfg.issuers.forEach((iss, i) => {
      if (names.has(iss.name)) ctx.addIssue({ code: 'custom', path: ['issuers', i, 'name'], message: `duplicate issuer name ${iss.name}` });
      if (issuers.has(iss.issuer)) ctx.addIssue({ code: 'custom', path: ['issuers', i, 'issuer'], message: `duplicate issuer ${iss.issuer}` });
      names.add(iss.name);
      issuers.add(iss.issuer);
    });
    const bl = cfg.browser_login;
    if (bl?.enabled === true) {
      if (!names.has(bl.issuer)) ctx.addIssue({ code: 'custom', path: ['browser_login', 'issuer'], message: `no issuer named ${bl.issuer}` });
      if (bl.client_secret === undefined && bl.client_secret_env === undefined && bl.client_secret_file === undefined) {
        ctx.addIssue({ code: 'custom', path: ['browser_login', 'client_secret_env'], message: 'browser login needs client_secret_env or client_secret_file' });
      }
      const s = cfg.sessions;
      if (s.encryption_key === undefined && s.encryption_key_env === undefined && s.encryption_key_file === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['sessions', 'encryption_key_env'],
          message: 'browser login needs sessions.encryption_key_env or encryption_key_file',
        });
      }
    }
  })
  .default({
    issuers: [],
    token_cache: { max_entries: 10000, max_ttl_seconds: 300 },
    sessions: { cookie_name: 'cephgate_session', ttl_seconds: 28800, groups_refresh_seconds: 300 },
    api_keys: { enabled: true, header: 'authorization', last_used_write_interval_seconds: 60, max_lifetime_days: 365 },
  });

export type IdentityConfig = z.infer<typeof identityConfigSchema>;
export type IssuerConfig = z.infer<typeof issuerSchema>;
export type ClaimMapping = z.infer<typeof claimMappingSchema>;
export type BrowserLoginConfig = z.infer<typeof browserLoginSchema>;
export type SessionsConfig = z.infer<typeof sessionsSchema>;
export type ApiKeysConfig = z.infer<typeof apiKeysSchema>;
