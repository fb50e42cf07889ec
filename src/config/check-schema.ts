// The schema's verdict on a configuration as problems with key paths, and a best-effort typed view of
// it for the checks that go beyond the schema. zod skips refinements (the references between keys)
// once any part of an object fails to parse; the view parses each section, each cluster and each
// issuer on its own, so one typo cannot hide the problems of everything else.

import type { z } from 'zod';
import type { ClusterConfig } from './ceph.ts';
import { clusterSchema } from './ceph.ts';
import { type ConfigProblem, error } from './check-problem.ts';
import type { Named } from './check-references.ts';
import type { KeyPath } from './check-source.ts';
import { type BrowserLoginConfig, browserLoginSchema, type IssuerConfig, issuerSchema, type SessionsConfig, sessionsSchema } from './identity.ts';
import { type RateLimitsConfig, rateLimitsConfigSchema } from './rate-limits.ts';
import { type Config, configSchema } from './schema.ts';

/** zod issues as problems: an unknown key points at that key, not at its parent. */
export function issueProblems(issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  return issues.flatMap((i) => {
    const path = i.path.filter((k): k is string | number => typeof k !== 'symbol');
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => error([...path, k], 'unknown key (a typo? every key is in docs/configuration.md)'));
    return [error(path, i.message)];
  });
}

export function schemaProblems(raw: unknown): { config: Config | null; problems: ConfigProblem[] } {
  const r = configSchema.safeParse(raw ?? {});
  return r.success ? { config: r.data, problems: [] } : { config: null, problems: issueProblems(r.error.issues) };
}

type Section = keyof Config;

/** What the deeper checks look at: every part that parsed, typed and with defaults; null where the schema already said what is wrong. */
export interface ConfigView {
  readonly config: Config | null;
  /** The configuration as written (environment applied), for a check whose section did not parse. */
  readonly raw: Record<string, unknown>;
  section<S extends Section>(name: S): Config[S] | null;
  readonly clusters: readonly Named<ClusterConfig>[];
  readonly defaultCluster: string | undefined;
  readonly issuers: readonly Named<IssuerConfig>[];
  /** undefined: not configured; null: configured but does not parse. */
  readonly browserLogin: BrowserLoginConfig | null | undefined;
  readonly sessions: SessionsConfig | null;
  readonly rateLimits: RateLimitsConfig | null;
}

const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const nameOf = (v: unknown): string | undefined => (typeof obj(v).name === 'string' ? (obj(v).name as string) : undefined);

function elements<T>(items: unknown, base: KeyPath, schema: z.ZodType<T>): Named<T>[] {
  return list(items).map((item, i) => ({ path: [...base, i], value: schema.safeParse(item).data ?? null, name: nameOf(item) }));
}

export function configView(raw: Record<string, unknown>, config: Config | null): ConfigView {
  const shape = configSchema.shape;
  const sections = new Map<string, unknown>();
  for (const name of Object.keys(shape) as Section[]) {
    const r = shape[name].safeParse(raw[name]);
    sections.set(name, r.success ? r.data : null);
  }
  const ceph = obj(raw.ceph);
  const identity = obj(raw.identity);
  const bl = identity.browser_login;
  return {
    config,
    raw,
    section: <S extends Section>(name: S) => (config !== null ? config[name] : ((sections.get(name) ?? null) as Config[S] | null)),
    clusters: elements(ceph.clusters, ['ceph', 'clusters'], clusterSchema),
    defaultCluster: typeof ceph.default_cluster === 'string' ? ceph.default_cluster : undefined,
    issuers: elements(identity.issuers, ['identity', 'issuers'], issuerSchema),
    browserLogin: bl === undefined ? undefined : (browserLoginSchema.safeParse(bl).data ?? null),
    sessions: sessionsSchema.safeParse(identity.sessions ?? {}).data ?? null,
    rateLimits: rateLimitsConfigSchema.safeParse(raw.rate_limits ?? {}).data ?? null,
  };
}
