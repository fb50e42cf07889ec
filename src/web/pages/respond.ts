// Turns a rendered page into the answer: HTML5 doctype, UTF-8, the pages' Content-Security-Policy and
// the status. Also tells whether a client asked for HTML (a browser), as opposed to an API client.

import type { Context } from 'hono';
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { AppEnv } from '../env.ts';
import { PAGE_CSP } from './assets.ts';

export async function page(c: Context<AppEnv>, node: JSX.Element, status = 200, headers: Record<string, string> = {}): Promise<Response> {
  const body = `<!DOCTYPE html>${await node.toString()}`;
  return c.body(body, status as 200, {
    ...headers,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': PAGE_CSP,
    // Not no-referrer: with it, browsers send `Origin: null` on form posts and the CSRF check (which
    // wants this origin) refuses the page's own forms. same-origin sends nothing to other sites.
    'Referrer-Policy': 'same-origin',
  });
}

/** A browser navigating (Accept names text/html); API clients and scripts get Ceph's JSON errors. */
export function wantsHtml(c: Context<AppEnv>): boolean {
  return (c.req.header('accept') ?? '').includes('text/html');
}
