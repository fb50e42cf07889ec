// The shape of a policy file (YAML), checked with zod. Routes, parameters, accounts and globs are
// checked afterwards against the catalogue and the configuration (resolve.ts, conditions.ts).

import { z } from 'zod';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export const AUTH_METHODS = ['oidc_bearer', 'session', 'api_key', 'ceph_native'] as const;
export const OPERATORS = ['equals', 'one_of', 'glob', 'prefix', 'min', 'max', 'exists'] as const;

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const oneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const names = z.array(z.string().min(1)).min(1);

/** `field: value` is shorthand for `field: {equals: value}`. Several operators in one condition all apply. */
export const conditionSchema = z.preprocess(
  (v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v : { equals: v }),
  z
    .object({
      equals: scalar.optional(),
      one_of: z.array(scalar).min(1).optional(),
      glob: oneOrMany.optional(),
      prefix: oneOrMany.optional(),
      min: z.number().finite().optional(),
      max: z.number().finite().optional(),
      exists: z.boolean().optional(),
    })
    .strict()
    .refine((o) => Object.values(o).some((v) => v !== undefined), `a condition needs an operator (${OPERATORS.join(', ')})`),
);
export type RawCondition = z.infer<typeof conditionSchema>;

export const subjectsSchema = z.union([
  z.literal('*'),
  z
    .object({
      groups: names.optional(),
      principals: names.optional(),
      auth_methods: z.array(z.enum(AUTH_METHODS)).min(1).optional(),
      api_keys: names.optional(),
    })
    .strict()
    .refine((o) => Object.values(o).some((v) => v !== undefined), "subjects needs groups, principals, auth_methods or api_keys (or '*')"),
]);

export const ruleSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'letters, digits and _ . : - only'),
    effect: z.enum(['allow', 'deny']),
    description: z.string().optional(),
    subjects: subjectsSchema,
    methods: z
      .array(z.enum([...HTTP_METHODS, '*']))
      .min(1)
      .optional(),
    routes: z.array(z.string().min(1)).min(1),
    clusters: names.optional(),
    when: z.record(z.string(), conditionSchema).optional(),
    ceph_account: z.string().min(1).optional(),
    mode: z.enum(['enforce', 'shadow']).optional(),
  })
  .strict();
export type RawRule = z.infer<typeof ruleSchema>;

export const fileSchema = z
  .object({
    description: z.string().optional(),
    /** `rules:` with nothing under it is an empty list (a file of comments only denies nothing). */
    rules: z
      .array(z.unknown())
      .nullable()
      .transform((r) => r ?? []),
  })
  .strict();
