// Builds the AuthInput of a fetch `Request` (hono's c.req.raw) for the login routes and tests; the real
// pipeline builds it in intake from the raw Node request, keeping repeated headers apart.

import type { AuthInput, HttpMethod } from '../../pipeline/types.ts';

export function authInputFromRequest(req: Request, clientIp = ''): AuthInput {
  const url = new URL(req.url);
  const headers = new Map<string, string[]>();
  req.headers.forEach((value, name) => {
    // Headers joins repeats with ", " (cookie with "; "); Set-Cookie never appears on requests.
    const list = headers.get(name) ?? [];
    list.push(value);
    headers.set(name, list);
  });
  const query: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) query[k] = [...(query[k] ?? []), v];
  const rawQuery = url.search.slice(1);
  return {
    method: req.method as HttpMethod,
    headers,
    target: { raw: url.pathname + url.search, rawPath: url.pathname, segments: url.pathname.split('/').slice(1), rawQuery, query, cluster: null },
    clientIp,
  };
}
