// The frame of every page (head with the hashed style and script, the top bar, the footer) and the
// small pieces the pages share: times in UTC with the local time on hover, badges, short hashes.
// Everything passed in as text is escaped by hono/jsx; only the two constants of assets.ts are raw.

import type { Child } from 'hono/jsx';
import { SCRIPT, STYLE } from './assets.ts';

export type NavItem = 'home' | 'audit' | 'summary' | 'chain' | null;

export interface FrameProps {
  readonly title: string;
  readonly nav: NavItem;
  /** The signed-in person's display name, when there is one. */
  readonly who?: string | null;
  /** Show the audit links in the bar (the viewer is allowed). */
  readonly auditLinks?: boolean;
  /** Reload the page after this many seconds (a running verification), without script. */
  readonly refreshSeconds?: number;
  readonly children?: Child;
}

function NavLink(props: { href: string; here: boolean; children: Child }) {
  return props.here ? (
    <a href={props.href} aria-current="page">
      {props.children}
    </a>
  ) : (
    <a href={props.href}>{props.children}</a>
  );
}

export function Frame(props: FrameProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        {props.refreshSeconds === undefined ? null : <meta http-equiv="refresh" content={String(props.refreshSeconds)} />}
        <title>{`${props.title} · cephgate`}</title>
        <style dangerouslySetInnerHTML={{ __html: STYLE }} />
      </head>
      <body>
        <header class="top">
          <span class="brand">cephgate</span>
          <NavLink href="/gateway" here={props.nav === 'home'}>
            Home
          </NavLink>
          {props.auditLinks ? (
            <>
              <NavLink href="/gateway/audit" here={props.nav === 'audit'}>
                Audit log
              </NavLink>
              <NavLink href="/gateway/audit/summary" here={props.nav === 'summary'}>
                Summary
              </NavLink>
              <NavLink href="/gateway/audit/verify" here={props.nav === 'chain'}>
                Chain
              </NavLink>
            </>
          ) : null}
          <a href="/gateway/openapi.json">API</a>
          {props.who ? <span class="who">{props.who}</span> : null}
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.children}
        </main>
        <footer>Times are UTC; hover over one for your local time.</footer>
        <script dangerouslySetInnerHTML={{ __html: SCRIPT }} />
      </body>
    </html>
  );
}

/** `2026-11-26 20:05:01.123 UTC`, with the ISO instant for the local-time script. */
export function Time(props: { readonly iso: string | null }) {
  if (props.iso === null) return <span class="muted">—</span>;
  const text = `${props.iso.replace('T', ' ').replace('Z', '')} UTC`;
  return (
    <time datetime={props.iso} title={props.iso}>
      {text}
    </time>
  );
}

export function Badge(props: { readonly kind: string; readonly children: Child }) {
  return <span class={`badge ${props.kind}`}>{props.children}</span>;
}

/** The first 12 hex digits, with the whole hash on hover. */
export function ShortHash(props: { readonly hash: string }) {
  return (
    <code title={props.hash} class="mono">
      {props.hash.slice(0, 12)}…
    </code>
  );
}

/** A thousands-separated count (en-GB: a comma), stable whatever the server's locale. */
export const count = (n: number): string => n.toLocaleString('en-GB');
