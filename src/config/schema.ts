// The configuration schema: the single source of truth for every key, its default and its type.
// `Config` is z.infer of it. Sections owned by other modules are composed here.

import { isIP } from 'node:net';
import { z } from 'zod';
import { auditConfigSchema } from './audit.ts';
import { cephConfigSchema } from './ceph.ts';
import { referenceProblems } from './check-references.ts';
import { identityConfigSchema } from './identity.ts';
import { policyConfigSchema } from './policy.ts';
import { rateLimitsConfigSchema } from './rate-limits.ts';

const port = z.number().int().min(0).max(65535);

/** An IP address or CIDR block (`10.0.0.0/8`, `::1`). */
const ipOrCidr = z.string().refine((s) => {
  const [addr, bits, ...rest] = s.split('/');
  if (rest.length > 0 || addr === undefined) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n >= 0 && n <= (family === 4 ? 32 : 128);
}, 'must be an IP address or CIDR block');

const listenSchema = (defHost: string, defPort: number) =>
  z
    .object({ host: z.string().default(defHost), port: port.default(defPort) })
    .strict()
    .default({ host: defHost, port: defPort });

export const serverSchema = z
  .object({
    listen: listenSchema('0.0.0.0', 8080),
    /** Serve HTTPS on the public listener with these PEM files. */
    tls: z.object({ cert_file: z.string(), key_file: z.string() }).strict().optional(),
    /** The URL clients use to reach the gateway (browser login redirects, cookie scope). */
    public_url: z.url().optional(),
    /** Peers whose X-Request-Id / X-Forwarded-* / Forwarded headers are believed. */
    trusted_proxies: z.array(ipOrCidr).default([]),
    shutdown_grace_ms: z.number().int().nonnegative().default(10000),
  })
  .strict()
  .default({ listen: { host: '0.0.0.0', port: 8080 }, trusted_proxies: [], shutdown_grace_ms: 10000 });

export const adminSchema = z
  .object({ listen: listenSchema('127.0.0.1', 9090), enabled: z.boolean().default(true) })
  .strict()
  .default({ listen: { host: '127.0.0.1', port: 9090 }, enabled: true });

export const limitsSchema = z
  .object({
    max_header_bytes: z.number().int().min(1024).default(16384),
    max_body_bytes: z.number().int().positive().default(1048576),
    header_timeout_ms: z.number().int().positive().default(10000),
    body_timeout_ms: z.number().int().positive().default(30000),
  })
  .strict()
  .default({ max_header_bytes: 16384, max_body_bytes: 1048576, header_timeout_ms: 10000, body_timeout_ms: 30000 });

export const loggingSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** `auto`: pretty on a terminal, JSON otherwise. */
    format: z.enum(['auto', 'json', 'pretty']).default('auto'),
    /** JSON lines are written once this many bytes are waiting (0: every line at once). */
    buffer_bytes: z.number().int().min(0).max(16384).default(4096),
    /** ... and at least this often, and on exit. */
    flush_interval_ms: z.number().int().min(10).max(60_000).default(1000),
  })
  .strict()
  .default({ level: 'info', format: 'auto', buffer_bytes: 4096, flush_interval_ms: 1000 });

export const configSchema = z
  .object({
    server: serverSchema,
    admin: adminSchema,
    limits: limitsSchema,
    logging: loggingSchema,
    ceph: cephConfigSchema,
    identity: identityConfigSchema,
    policy: policyConfigSchema,
    audit: auditConfigSchema,
    rate_limits: rateLimitsConfigSchema,
  })
  .strict()
  .superRefine((cfg, ctx) => {
    // References between keys (config/check-references.ts, shared with `cephgate config check`).
    const named = <T extends { name: string }>(items: readonly T[], base: readonly (string | number)[]) =>
      items.map((value, i) => ({ path: [...base, i], value, name: value.name }));
    const problems = referenceProblems({
      clusters: named(cfg.ceph.clusters, ['ceph', 'clusters']),
      defaultCluster: cfg.ceph.default_cluster,
      issuers: named(cfg.identity.issuers, ['identity', 'issuers']),
      browserLogin: cfg.identity.browser_login,
      rateLimits: cfg.rate_limits,
    });
    for (const p of problems) if (p.severity === 'error') ctx.addIssue({ code: 'custom', path: [...p.path], message: p.message });
  });

export type Config = z.infer<typeof configSchema>;
