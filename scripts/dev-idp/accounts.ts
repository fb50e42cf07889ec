// Demo users of the development OIDC provider and the dev-only login form that accepts them.
// Development only: every demo user's password is `demo`; never expose this provider beyond loopback.

import type { IncomingMessage, ServerResponse } from 'node:http';

export interface DemoUser {
  readonly name: string;
  readonly email: string;
  readonly groups: readonly string[];
}

export const DEMO_PASSWORD = 'demo';

export const DEMO_USERS: Readonly<Record<string, DemoUser>> = {
  alice: { name: 'Alice Anders', email: 'alice@example.test', groups: ['team-a'] },
  bob: { name: 'Bob Berg', email: 'bob@example.test', groups: ['team-b'] },
  carol: { name: 'Carol Chen', email: 'carol@example.test', groups: ['operators', 'readers'] },
  dave: { name: 'Dave Dunn', email: 'dave@example.test', groups: ['auditors'] },
  erin: { name: 'Erin Evans', email: 'erin@example.test', groups: ['breakglass'] },
};

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** The login page: a plain form, no scripts, no external resources. */
export function loginPage(uid: string, error: string | null): string {
  const err = error === null ? '' : `<p id="error" style="color:#b00">${escapeHtml(error)}</p>`;
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>cephgate dev IdP - sign in</title></head>
<body>
<h1>cephgate development IdP</h1>
<p>Demo users: ${Object.keys(DEMO_USERS).join(', ')}; password <code>${DEMO_PASSWORD}</code>.</p>
${err}
<form method="post" action="/interaction/${encodeURIComponent(uid)}/login" autocomplete="off">
  <label>User <input id="username" name="username" required autofocus></label>
  <label>Password <input id="password" name="password" type="password" required></label>
  <button id="submit" type="submit">Sign in</button>
</form>
</body></html>`;
}

/** Reads a small urlencoded form body (the login form); refuses anything over 4 KiB. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 4096) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(html);
}
