// Configuration of rate limits (`rate_limits`): budgets per principal, group, API key, route/operation and
// cluster, separate for reads and mutations, and a global budget per cluster that protects its active mgr.
// Enforced by limits/ (rate-limiter-flexible); docs/configuration.md describes every key.

import { z } from 'zod';

const storeSchema = z.enum(['database', 'memory']);

const policyName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, . _ - only (it is sent in RateLimit-Policy)');

/** `requests` per `window_seconds`, one fixed window per counter. */
export const budgetSchema = z
  .object({
    requests: z.number().int().positive(),
    window_seconds: z.number().int().positive().max(86400).default(1),
  })
  .strict();

export const rateLimitRuleSchema = z
  .object({
    /** The policy name clients see in `RateLimit-Policy` / `RateLimit` and in the 429 body. */
    name: policyName,
    /** Who the rule applies to: any listed principal id, group, API key name or auth method (omitted = everyone). */
    subjects: z
      .object({
        principals: z.array(z.string().min(1)).default([]),
        groups: z.array(z.string().min(1)).default([]),
        api_keys: z.array(z.string().min(1)).default([]),
        auth_methods: z.array(z.enum(['oidc_bearer', 'session', 'api_key', 'ceph_native'])).default([]),
      })
      .strict()
      .default({ principals: [], groups: [], api_keys: [], auth_methods: [] }),
    /** Clusters it applies on (omitted = every cluster). */
    clusters: z.array(z.string().min(1)).default([]),
    /** Routes it applies to: operation ids (`Pool.create`), `METHOD /api/template` or `/api/template` (omitted = every route). */
    routes: z.array(z.string().min(1)).default([]),
    /**
     * Whose budget a request spends: `principal` (each caller its own), `group` (each group the rule names,
     * or every group of the caller when it names none, shared by its members), `api_key`, `cluster` (all
     * matching callers together, per cluster) or `rule` (all matching callers together).
     */
    per: z.enum(['principal', 'group', 'api_key', 'cluster', 'rule']).default('principal'),
    /** This rule's counters' store (default `rate_limits.store`): `database` suits low-rate budgets that must be exact across instances, e.g. mutations. */
    store: storeSchema.optional(),
    /** Budget of GET/HEAD requests (omitted = reads are not limited by this rule). */
    reads: budgetSchema.optional(),
    /** Budget of POST/PUT/PATCH/DELETE requests (omitted = mutations are not limited by this rule). */
    mutations: budgetSchema.optional(),
  })
  .strict()
  .refine((r) => r.reads !== undefined || r.mutations !== undefined, { message: 'a rule needs reads, mutations or both', path: ['reads'] });

/** "Never more than N requests/s to this cluster": every request through the gateway spends it. */
export const clusterBudgetSchema = z
  .object({
    cluster: z.string().min(1),
    requests_per_second: z.number().int().positive(),
    /** A request over budget waits up to this long for the next slot before it is refused. */
    queue_ms: z.number().int().min(0).max(10_000).default(250),
    /** Requests waiting at once on one instance; beyond it they are refused at once. */
    max_queue: z.number().int().min(0).default(1000),
    /** This budget's store (default `rate_limits.store`). Every request spends it: `memory` (each instance its share) keeps it cheap. */
    store: storeSchema.optional(),
    /** Status of a refusal: 503 (the cluster is saturated, nobody's fault) or 429. */
    status: z.union([z.literal(503), z.literal(429)]).default(503),
  })
  .strict();

export const rateLimitsConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    /**
     * Where counters live, unless a rule or budget says otherwise. `memory`: in each instance, each
     * enforcing its share (budget / `instances`): ~0.05 ms a check. `database`: in the gateway database,
     * exact across every instance, but one upsert per counter and request (1-5 ms and a few thousand per
     * second at most on the test machine: bench/rate-limit-store.ts, docs/deployment.md). With PGlite
     * (one process) memory is exact.
     */
    store: storeSchema.default('memory'),
    /** With `store: memory`: how many instances share the budgets (each enforces 1/instances of them). */
    instances: z.number().int().positive().default(1),
    /** Send `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers) on every limited route, not only on refusals. */
    headers: z.boolean().default(true),
    rules: z.array(rateLimitRuleSchema).default([]),
    clusters: z.array(clusterBudgetSchema).default([]),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const names = new Set<string>();
    cfg.rules.forEach((r, i) => {
      if (names.has(r.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicate rate-limit rule ${r.name}` });
      names.add(r.name);
    });
    const clusters = new Set<string>();
    cfg.clusters.forEach((c, i) => {
      if (clusters.has(c.cluster)) ctx.addIssue({ code: 'custom', path: ['clusters', i, 'cluster'], message: `duplicate cluster budget ${c.cluster}` });
      clusters.add(c.cluster);
    });
  })
  .default({ enabled: false, store: 'memory', instances: 1, headers: true, rules: [], clusters: [] });

export type RateLimitsConfig = z.infer<typeof rateLimitsConfigSchema>;
export type RateLimitRule = z.infer<typeof rateLimitRuleSchema>;
export type ClusterBudget = z.infer<typeof clusterBudgetSchema>;
export type Budget = z.infer<typeof budgetSchema>;
