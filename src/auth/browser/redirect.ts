// Post-login / post-logout redirect targets: same-origin relative paths only (docs/security.md class 4).
// Browsers normalise `\` to `/`, drop tabs/newlines and follow `//host`; so anything unusual is refused.

/**
 * Returns the path when it is a plain same-origin path (`/a/b?c=d`), else null. Refused: `//host`, `/\host`,
 * schemes, userinfo, control or whitespace characters (raw or percent-encoded), encoded `/` `\` `.`
 * at the start, fragments, and anything not starting with exactly one `/`.
 */
export function safeRedirectPath(rd: string | undefined | null): string | null {
  if (typeof rd !== 'string' || rd.length === 0 || rd.length > 2048) return null;
  if (!rd.startsWith('/') || rd.startsWith('//') || rd.startsWith('/\\')) return null;
  // Raw controls, whitespace, backslashes and fragments anywhere: WHATWG URL parsing strips or rewrites them.
  if (/[\u0000-\u0020\u007f-\u00a0\\#@]/.test(rd) || /[^\u0021-\u007e]/.test(rd)) return null;
  // Encoded controls/whitespace (%00-%20, %7f), backslash (%5c), slash (%2f) and dot (%2e) are never needed here.
  if (/%(?:[01][0-9a-f]|20|7f|5c|2f|2e|40|23|25)/i.test(rd)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rd);
  } catch {
    return null;
  }
  if (decoded.startsWith('//') || decoded.startsWith('/\\')) return null;
  // Final check with a real URL parser: it must stay on the dummy origin with the same path.
  const base = 'https://gateway.invalid';
  const u = new URL(rd, base);
  if (u.origin !== base || u.username !== '' || u.password !== '') return null;
  return u.pathname + u.search === rd ? rd : null;
}
