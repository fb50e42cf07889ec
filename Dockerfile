# cephgate container image: multi-stage. TypeScript is compiled in `build`, production dependencies
# are installed in `deps`, and the runtime is distroless: Node.js and the compiled gateway, no shell,
# no package manager, no policies, running as uid/gid 65532 (deploy/kubernetes uses the same ids).
#
# Node.js 24: Node 20, which the project develops on, reached end-of-life on 2026-04-30 and gets no
# security fixes. 24 ("Krypton") is an LTS line maintained until 2028-04-30; 22 ends 2027-04-30;
# 26 became LTS only in 2026-10. The gateway needs nothing newer than Node 20; on Node 24.22 every
# unit test passes, and `serve` and `migrate` ran against Postgres. Move on when the project's own CI
# runs on the newer line. Pin the base images by digest in your own build (FROM image:tag@sha256:...)
# and rebuild for every Node.js security release.
#
# Distroless: the gateway only needs `node`. Every CLI command (serve, migrate, policy, audit,
# apikey) is `node dist/src/cli.js ...`, and the Kubernetes probes are HTTP, so a shell is not
# needed. Without a shell or package manager there is much less to exploit, and much less for a
# scanner to flag. Debug with `kubectl debug --image=busybox --target=cephgate`.

# ---- build: dev dependencies + tsc -> dist/ -------------------------------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm 10+ skips esbuild's install script here; tsx is not used in the image, tsc is.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsc also emits src/ceph/catalogue/*.json (imported with `with { type: 'json' }`) into dist/src/ceph/catalogue/.
RUN npm run build && test -f dist/src/ceph/catalogue/pacific.json

# ---- deps: production dependencies only -------------------------------------------------------
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No production dependency has an install script; refusing them keeps a compromised release of a
# dependency from running code at build time.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
# An empty directory, copied below as the runtime user's, for the embedded PGlite store.
RUN mkdir -p /empty/.cephgate

# ---- runtime -------------------------------------------------------------------------------------
FROM gcr.io/distroless/nodejs24-debian12:nonroot AS runtime
ENV NODE_ENV=production
# `node` on the PATH, so that Kubernetes commands (the policy-copying init container) and
# `kubectl exec ... node dist/src/cli.js audit verify` do not depend on where the image keeps it.
ENV PATH=/nodejs/bin:/usr/local/bin:/usr/bin:/bin
WORKDIR /app
# Everything below is owned by root and read-only for the gateway's user.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json: `cephgate version`; drizzle/: the SQL migrations, found by walking up from dist/src/db.
COPY package.json ./
COPY drizzle ./drizzle
# No policies: the examples in policies/ grant everything to any IdP group named `breakglass`, and
# an image must not carry them. Mount your own at policy.dir. The default (./policies) does not exist,
# so `serve` refuses to start ("cannot read policy directory") until a policy directory is configured.
# Writable only here, for PGlite's default ./.cephgate/audit when no Postgres URL is given (mount a
# volume). With Postgres, the gateway writes nothing, and the root filesystem can be read-only.
COPY --from=deps --chown=65532:65532 /empty/.cephgate ./.cephgate
# The distroless `nonroot` user, numeric so that Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8080 9090
# The admin listener answers /healthz. There is no curl here, so node itself probes it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/nodejs/bin/node", "-e", "fetch('http://127.0.0.1:'+(process.env.CEPHGATE__ADMIN__LISTEN__PORT||9090)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/nodejs/bin/node", "dist/src/cli.js"]
CMD ["serve"]
