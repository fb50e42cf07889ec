// Configuration of the Ceph clusters behind the gateway: dashboard URLs (one per mgr), release,
// service accounts whose credentials the gateway exchanges for Ceph tokens, and route options.

import { z } from 'zod';
import { secretRefShape } from '../config/secrets.ts';

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
export type CephAccountConfig = z.infer<typeof cephAccountSchema>;
export type CephConfig = z.infer<typeof cephConfigSchema>;
