// Rate limits, assembled: what the pipeline and the composition root use (docs/configuration.md
// `rate_limits`, docs/deployment.md for the store with several instances).

export { createRateLimits, type Limited, type RateLimitResult, type RateLimits, type RateLimitsDeps } from './check.ts';
export { rateLimitError } from './error.ts';
export { type RateLimitHeaderValues, rateLimitHeaders } from './headers.ts';
export { kindOf, type RequestKind } from './match.ts';
