// The CPU budget of each stage of an authorised GET (bench/stages.ts measures them; docs/performance.md,
// "Stage budgets"). A module of its own so the smoke test can read it without running the benchmark.

/**
 * Budgets in µs of CPU per authorised GET. B1 costs ~27 µs per request on the reference machine and G
 * reaches 0.8x of its rate at ~34 µs: the gateway's own work may add ~7 µs beyond what B1 does (its
 * upstream call and answer copy included, which B1 does too).
 */
export const BUDGET_US: Readonly<Record<string, number>> = {
  'intake + request id': 1.0,
  'authenticate (cached bearer)': 0.5,
  'route match': 0.5,
  decide: 0.3,
  'header preparation (to Ceph)': 1.0,
  'response headers (to the client)': 0.7,
  'access log line': 2.0,
  metrics: 1.0,
};
