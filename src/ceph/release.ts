// Detects a running dashboard's release for `release: auto`: its own OpenAPI document (served without a
// token at /docs/openapi.json, docs/ceph-facts.md) is compared with the bundled catalogues; the closest one wins.

import { type Dispatcher, request } from 'undici';
import type { CephRelease } from '../core/catalogue.ts';
import { loadCatalogue } from './catalogue.ts';

const RELEASES: readonly CephRelease[] = ['pacific', 'reef', 'tentacle'];

/** `ceph version 18.2.7 (...) reef (stable)` (from /api/summary) -> the catalogued release to use. */
export function releaseFromVersionString(s: string): CephRelease | null {
  const major = Number(/ceph version (\d+)\./.exec(s)?.[1]);
  if (!Number.isFinite(major)) return null;
  if (major <= 17) return 'pacific'; // Quincy (17) is closest to Pacific's API among the catalogued ones
  if (major <= 18) return 'reef';
  return 'tentacle'; // Squid (19) and later
}

/** The catalogue whose (method, template) set overlaps most with the spec's (Jaccard index). Pure. */
export function releaseFromSpec(spec: unknown): CephRelease | null {
  const paths = (spec as { paths?: unknown } | null)?.paths;
  if (typeof paths !== 'object' || paths === null) return null;
  const seen = new Set<string>();
  for (const [template, item] of Object.entries(paths)) {
    if (typeof item === 'object' && item !== null) for (const m of Object.keys(item)) seen.add(`${m.toUpperCase()} ${template}`);
  }
  let best: { release: CephRelease; score: number } | null = null;
  for (const release of RELEASES) {
    const ops = new Set(
      loadCatalogue(release)
        .operations.filter((o) => !o.template.startsWith('/docs') && !o.template.startsWith('/ui-api'))
        .map((o) => `${o.method} ${o.template}`),
    );
    let both = 0;
    for (const k of seen) if (ops.has(k)) both++;
    const score = both / (seen.size + ops.size - both);
    if (best === null || score > best.score) best = { release, score };
  }
  return best !== null && best.score > 0.5 ? best.release : null;
}

/** Fetches `<url>/docs/openapi.json` and names the closest catalogued release; throws when it cannot tell. */
export async function detectRelease(url: string, opts: { dispatcher?: Dispatcher; timeoutMs?: number } = {}): Promise<CephRelease> {
  const timeout = opts.timeoutMs ?? 10_000;
  const target = new URL('/docs/openapi.json', url);
  const res = await request(target, {
    method: 'GET',
    headers: { accept: 'application/json' },
    headersTimeout: timeout,
    bodyTimeout: timeout,
    ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
  });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`detectRelease: ${target.origin}/docs/openapi.json answered ${res.statusCode}`);
  }
  const release = releaseFromSpec(await res.body.json());
  if (release === null) throw new Error(`detectRelease: the API of ${target.origin} matches no catalogued release; set release explicitly`);
  return release;
}
