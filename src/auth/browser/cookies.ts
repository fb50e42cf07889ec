// Cookie attributes for the session and login-state cookies (RFC 6265bis): HttpOnly, SameSite=Lax,
// Path=/, `__Host-` prefix and Secure, except for a plain-http loopback public URL (development).

export interface CookiePolicy {
  readonly sessionName: string;
  readonly loginName: string;
  /** `XSRF-TOKEN`: the name Angular's XSRF support (the dashboard UI) reads; it cannot carry a prefix. */
  readonly xsrfName: string;
  /** The session's CSRF token as the readable cookie the dashboard UI echoes in X-XSRF-TOKEN (double submit). */
  xsrf(token: string): string;
  readonly secure: boolean;
  readonly origin: string;
  serialize(name: string, value: string, maxAgeSeconds: number): string;
  clear(name: string): string;
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Throws at construction when the public URL would put the session cookie on plain http off loopback. */
export function cookiePolicy(publicUrl: string, baseName: string): CookiePolicy {
  const u = new URL(publicUrl);
  const secure = u.protocol === 'https:';
  if (!secure && !(u.protocol === 'http:' && LOOPBACK.has(u.hostname))) {
    throw new Error('browser login needs an https server.public_url (plain http only on loopback, for development)');
  }
  // `__Host-` (RFC 6265bis 4.1.3.2) pins the cookie to this host, Secure and Path=/: no subdomain can set or shadow it.
  const prefix = secure ? '__Host-' : '';
  const serialize = (name: string, value: string, maxAge: number) =>
    `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
  return {
    sessionName: `${prefix}${baseName}`,
    loginName: `${prefix}${baseName}_login`,
    xsrfName: 'XSRF-TOKEN',
    // Not HttpOnly: the page's script must read it. SameSite=Strict: never sent by another site's request.
    xsrf: (token) => `XSRF-TOKEN=${token}; Path=/; SameSite=Strict${secure ? '; Secure' : ''}`,
    secure,
    origin: u.origin,
    serialize,
    clear: (name) => serialize(name, '', 0),
  };
}

/** Cookie values the gateway sets are base64url (or sealed base64url): anything else is not ours. */
export const COOKIE_VALUE = /^[A-Za-z0-9_.-]{1,4096}$/;
