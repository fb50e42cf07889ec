// Ceph API version negotiation (pure). Ceph demands exactly one `application/vnd.ceph.api.vX.Y+json`
// Accept per request and answers 415 to `application/json`, `*/*`, nothing or a list (docs/ceph-facts.md "Versioning").

import type { CatalogueOperation } from '../core/catalogue.ts';
import { GatewayError } from '../core/errors.ts';
import type { HttpMethod } from '../core/http.ts';

const CEPH_MEDIA = /^application\/vnd\.ceph\.api\.v(\d{1,3})\.(\d{1,3})\+json$/i;
const CEPH_MEDIA_PREFIX = /^application\/vnd\.ceph\.api\./i;

export const cephMediaType = (version: string): string => `application/vnd.ceph.api.v${version}+json`;

/** `MAJOR.MINOR` of a Ceph media type (parameters ignored), or null when it is not one. */
export function parseCephMediaType(mediaType: string): string | null {
  const m = CEPH_MEDIA.exec(mediaType.split(';')[0]?.trim() ?? '');
  return m === null ? null : `${Number(m[1])}.${Number(m[2])}`;
}

/**
 * The Ceph version a client asked for in its Accept, or null when it asked for none (plain JSON clients:
 * `application/json`, `*\/*`, missing, a list without a Ceph type). A malformed Ceph media type is a 415:
 * the client meant a version and guessing another one would answer a different API shape.
 */
export function clientVersion(accept: string | null): string | null {
  if (accept === null) return null;
  // The usual case, `application/json` or `*/*`: no Ceph type anywhere, nothing to split.
  if (!/vnd\.ceph\.api\./i.test(accept)) return null;
  for (const item of accept.split(',')) {
    const type = item.split(';')[0]?.trim() ?? '';
    if (!CEPH_MEDIA_PREFIX.test(type)) continue;
    const v = parseCephMediaType(type);
    if (v === null)
      throw new GatewayError(415, 'unsupported_media_type', 'Unsupported Ceph API media type in Accept.', { extra: { accept: type.slice(0, 100) } });
    return v;
  }
  return null;
}

/** Key of the version pins and of learned versions: `"GET /api/host"`. */
export const routeKey = (method: HttpMethod, template: string): string => `${method} ${template}`;

export type VersionSource = 'client' | 'pin' | 'learned' | 'catalogue' | 'default';

export interface Negotiated {
  /** The exact upstream Accept header. */
  readonly accept: string;
  readonly version: string;
  readonly source: VersionSource;
  /** The client asked for no Ceph type: give it `application/json` back. */
  readonly plainJson: boolean;
}

export interface NegotiateInput {
  readonly clientAccept: string | null;
  readonly method: HttpMethod;
  readonly operation: CatalogueOperation | null;
  /** Template of the matched operation, or the raw path for an allowed unknown route. */
  readonly template: string;
  readonly pins: Readonly<Record<string, string>>;
  readonly learned: VersionMemory | null;
}

/** Client's own valid version, else a configured pin, else one learned from a 415, else the catalogue's, else 1.0. */
export function negotiate(input: NegotiateInput): Negotiated {
  const own = clientVersion(input.clientAccept);
  if (own !== null) return { accept: cephMediaType(own), version: own, source: 'client', plainJson: false };
  const key = routeKey(input.method, input.template);
  const pick = (version: string, source: VersionSource): Negotiated => ({ accept: cephMediaType(version), version, source, plainJson: true });
  const pin = input.pins[key];
  if (pin !== undefined) return pick(pin, 'pin');
  const learned = input.learned?.get(key);
  if (learned !== undefined) return pick(learned, 'learned');
  if (input.operation !== null) return pick(input.operation.version, 'catalogue');
  return pick('1.0', 'default'); // docs/ceph-facts.md: an endpoint's default version is 1.0
}

/** The endpoint version named by Ceph's 415 detail "Incorrect version: endpoint is '1.1', client requested '1.2'". */
export function versionFrom415(body: unknown): string | null {
  let detail: unknown = body;
  if (typeof body === 'string') {
    try {
      detail = (JSON.parse(body) as { detail?: unknown }).detail;
    } catch {
      detail = body;
    }
  } else if (typeof body === 'object' && body !== null) {
    detail = (body as { detail?: unknown }).detail;
  }
  if (typeof detail !== 'string') return null;
  const m = /endpoint is '(\d{1,3})\.(\d{1,3})'/.exec(detail);
  return m === null ? null : `${Number(m[1])}.${Number(m[2])}`;
}

/** Versions learned from 415 answers, per cluster. `learn` says whether the fact is new (so it is logged once). */
export class VersionMemory {
  readonly #map = new Map<string, string>();
  get(key: string): string | undefined {
    return this.#map.get(key);
  }
  learn(key: string, version: string): boolean {
    if (this.#map.get(key) === version) return false;
    if (this.#map.size >= 10_000) return false; // bounded: unknown raw paths must not grow it forever
    this.#map.set(key, version);
    return true;
  }
  entries(): [string, string][] {
    return [...this.#map];
  }
}
