// One JSON call to the gateway as an API client makes it: a bearer token, `Accept: application/json`,
// an optional JSON body; the answer parsed when it has one.

import { request } from 'undici';

export async function apiCall(baseUrl: string, method: string, path: string, token: string, body?: unknown) {
  const res = await request(`${baseUrl}${path}`, {
    method: method as 'GET',
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text) : null };
}
