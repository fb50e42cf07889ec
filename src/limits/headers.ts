// The rate-limit header fields of draft-ietf-httpapi-ratelimit-headers-11 (May 2026): `RateLimit-Policy`
// lists the quota policies that applied ("name";q=<quota>;w=<window seconds>) and `RateLimit` the
// service limit left under each ("name";r=<remaining>;t=<seconds until the window resets>), both as
// Structured Field lists (RFC 9651). No partition key (`pk`) is sent: it would name the caller's group
// or key, and the draft asks servers not to expose such information (section 6.1).

/** What one policy left for this request. */
export interface PolicyState {
  /** Policy name (an sf-string; config restricts it to letters, digits and `._-`). */
  readonly name: string;
  readonly quota: number;
  readonly windowSeconds: number;
  readonly remaining: number;
  /** Seconds until the window resets (rounded up, at least 0). */
  readonly resetSeconds: number;
}

// A type, not an interface: it is also a plain header record (pipeline/answer.ts adds it to an answer).
export type RateLimitHeaderValues = {
  readonly 'RateLimit-Policy': string;
  readonly RateLimit: string;
};

const sfString = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** Header values for the policies that applied, most constraining (least remaining) first; null when none did. */
export function rateLimitHeaders(states: readonly PolicyState[]): RateLimitHeaderValues | null {
  if (states.length === 0) return null;
  const sorted = [...states].sort((a, b) => a.remaining - b.remaining || b.resetSeconds - a.resetSeconds);
  return {
    'RateLimit-Policy': sorted.map((s) => `${sfString(s.name)};q=${s.quota};w=${s.windowSeconds}`).join(', '),
    RateLimit: sorted.map((s) => `${sfString(s.name)};r=${Math.max(0, s.remaining)};t=${Math.max(0, s.resetSeconds)}`).join(', '),
  };
}
