// Request headers as a map of lower-cased name -> every value received, built from Node's
// rawHeaders so repeated headers are visible (two Authorization headers must be refused, not merged).

import type { RequestHeaders } from '../core/http.ts';

export function headersFromRaw(rawHeaders: readonly string[]): RequestHeaders {
  const map = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const list = map.get(name);
    if (list) list.push(rawHeaders[i + 1] as string);
    else map.set(name, [rawHeaders[i + 1] as string]);
  }
  return map;
}
