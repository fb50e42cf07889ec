// Configuration of the Ceph clusters behind the gateway: dashboard URLs (one per mgr), release,
// service accounts whose credentials the gateway exchanges for Ceph tokens, and route options.

import { z } from 'zod';
import { nativeLoginSchema } from './native-login.ts';
import { secretRefShape } from './secrets.ts';

const versionString = z.string().regex(/^\d+\.\d+$/, 'must look like 1.0');

export const cephAccountSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, . _ - only'),
    username: z.string().min(1),
    ...secretRefShape('password'),
  })
  .strict();

export const clusterSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and - only'),
    /** One URL per mgr daemon; the gateway finds the active one. */
    dashboards: z.array(z.url()).min(1),
    release: z.enum(['auto', 'pacific', 'reef', 'tentacle']).default('auto'),
    tls: z
      .object({
        ca_file: z.string().optional(),
        insecure_skip_verify: z.boolean().default(false),
      })
      .strict()
      .default({ insecure_skip_verify: false }),
    accounts: z.array(cephAccountSchema).default([]),
    /** Account used when the deciding rule names none. */
    default_account: z.string().optional(),
    allow_unknown_routes: z.boolean().default(false),
    /** `"GET /api/host": "1.1"`: force the version sent for a route template. */
    version_pins: z.record(z.string(), versionString).default({}),
    /** Ceph's unauthenticated paths are refused unless listed here (e.g. `/api/auth/check`). */
    forward_unauthenticated_paths: z.array(z.string()).default([]),
    timeouts: z
      .object({
        connect_ms: z.number().int().positive().default(5000),
        headers_ms: z.number().int().positive().default(60000),
        body_ms: z.number().int().positive().default(300000),
      })
      .strict()
      .default({ connect_ms: 5000, headers_ms: 60000, body_ms: 300000 }),
    /** Service-account logins: back-off, and the breaker that stops before Ceph's lock-out (10 failures). */
    login: z
      .object({
        /** Invalid-credential answers in a row after which no login is tried until the password changes. */
        max_credential_failures: z.number().int().min(1).max(8).default(3),
        backoff_base_ms: z.number().int().positive().default(1000),
        backoff_max_ms: z.number().int().positive().default(60000),
        /** Renew a token this long before its `exp`. */
        refresh_before_exp_s: z.number().int().nonnegative().default(60),
      })
      .strict()
      .default({ max_credential_failures: 3, backoff_base_ms: 1000, backoff_max_ms: 60000, refresh_before_exp_s: 60 }),
    /** Active-mgr tracking across `dashboards`. */
    failover: z
      .object({
        health_interval_ms: z.number().int().nonnegative().default(5000),
        /** How long a request waits for an active mgr during a fail-over before it gets 503. */
        wait_ms: z.number().int().nonnegative().default(5000),
        probe_timeout_ms: z.number().int().positive().default(2000),
      })
      .strict()
      .default({ health_interval_ms: 5000, wait_ms: 5000, probe_timeout_ms: 2000 }),
    /**
     * The dashboard's own web UI through the gateway, for people signed in with the browser login
     * (docs/dashboard-ui.md): at `/` for the default cluster, `/clusters/<name>/` for the others.
     * Served only when identity.browser_login is configured.
     */
    dashboard_ui: z
      .object({ enabled: z.boolean().default(true) })
      .strict()
      .default({ enabled: true }),
    /** Ceph-native `POST /api/auth` for existing Ceph clients (off by default); see docs/configuration.md. */
    native_login: nativeLoginSchema.optional(),
    /**
     * Request coalescing for safe, expensive reads: concurrent identical GETs (same account, path,
     * query and version) share one upstream call; `micro_cache_ms` also serves repeats for that long.
     * Off unless routes are listed, e.g. `["GET /api/health/full", "GET /api/summary"]`.
     */
    coalesce: z
      .object({
        routes: z.array(z.string().regex(/^GET \/\S+$/, 'must look like "GET /api/health/full"')).default([]),
        micro_cache_ms: z.number().int().min(0).max(10000).default(0),
        max_body_bytes: z
          .number()
          .int()
          .positive()
          .default(8 * 1048576),
      })
      .strict()
      .default({ routes: [], micro_cache_ms: 0, max_body_bytes: 8 * 1048576 }),
  })
  .strict();

export const cephConfigSchema = z
  .object({
    /** Cluster reached by `/api/...`; others by `/clusters/<name>/api/...`. */
    default_cluster: z.string().optional(),
    clusters: z.array(clusterSchema).default([]),
  })
  .strict()
  .default({ clusters: [] });

export type ClusterConfig = z.infer<typeof clusterSchema>;
export type CephConfig = z.infer<typeof cephConfigSchema>;
