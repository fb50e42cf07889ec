# cephgate container image: multi-stage, TypeScript compiled with tsc in the build stage, only
# production dependencies and the compiled output in the runtime stage, running as a non-root user.

# ---- build: dev dependencies + tsc -> dist/ -------------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm 10+ skips esbuild's install script here; tsx is not used in the image, tsc is.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsc also emits src/ceph/catalogue/*.json (imported with `with { type: 'json' }`) into dist/src/ceph/catalogue/.
RUN npm run build && test -f dist/src/ceph/catalogue/pacific.json

# ---- runtime: production dependencies only ------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Migrations are found by walking up from dist/src/db (migrate.ts); policies/ are the examples.
COPY drizzle ./drizzle
COPY policies ./policies
# A writable home for the embedded PGlite store when no DATABASE_URL is given (mount a volume there).
RUN mkdir -p /app/.cephgate && chown node:node /app/.cephgate
# The `node` user (uid 1000) of the official image: the gateway never needs root.
USER node
EXPOSE 8080 9090
# The admin listener answers /healthz; node has no curl, so probe with node itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.CEPHGATE__ADMIN__LISTEN__PORT||9090)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["serve"]
