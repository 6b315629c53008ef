# The gateway's image: built with the development dependencies, run with the production ones only
# (no TypeScript, no simulator), as a non-root user, on a read-only root filesystem.
#
#   podman build -t cse-jobs-gateway .          (or docker build)
#   podman run --read-only -p 4000:4000 -p 9464:9464 \
#     -e CSE_ENDPOINT=https://cse.example.com -e CSE_PROJECT_ID=… cse-jobs-gateway
#
# NODE_IMAGE is any image with Node.js 20 and npm on its PATH; the default is the official one.
ARG NODE_IMAGE=docker.io/library/node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency's install script runs in the build. The simulator's workspace is
# not here yet, so nothing links it into node_modules.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY schema ./schema
COPY src ./src
# The simulator only for main.ts's types: it is built, then left behind with packages/.
COPY packages/simulator/tsconfig.build.json ./packages/simulator/
COPY packages/simulator/src ./packages/simulator/src
RUN npm run build \
  && rm -rf packages dist/tools \
  && find dist -name '*.map' -delete \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    METRICS_PORT=9464
WORKDIR /app
# Owned by root and not writable by the user the gateway runs as, whether or not the root
# filesystem is mounted read-only.
COPY --from=build /build/package.json ./package.json
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist ./dist
COPY --from=build /build/schema ./schema
# A numeric user, so that a cluster can check runAsNonRoot without a passwd entry.
USER 10001:10001
EXPOSE 4000 9464
# Node.js as PID 1: the gateway handles SIGTERM itself (drain, then exit 0).
ENTRYPOINT ["node", "dist/main.js"]
