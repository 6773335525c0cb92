# syntax=docker/dockerfile:1
# Multi-stage: compile TypeScript with the dev dependencies, then ship only the
# compiled worker, its production dependencies, migrations, schemas and the
# operators' console (static files, no build step), run as the unprivileged
# `node` user.
FROM node:24.22-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY consumers ./consumers
COPY migrations ./migrations
COPY schemas ./schemas
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:24.22-trixie-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/schemas ./schemas
# Served at /console/ by the operations API (src/ops/console-assets.ts finds it beside dist/).
COPY --chown=node:node console ./console
USER node
EXPOSE 8080
# The node flags are the benchmark's (src/bench/worker-process.ts says why):
# heap and young-generation limits that keep the resident set near 250 MB
# (Node 24 would grow the young generation to 192 MB), an initial old space
# that spares the full collections of a heap still growing, and silencing the one
# warning KafkaJS 2.2.4 provokes on Node 24 (a negative timer delay).
CMD ["node", "--max-old-space-size=256", "--initial-old-space-size=64", "--heap-growing-percent=100", "--max-semi-space-size=16", "--disable-warning=TimeoutNegativeWarning", "dist/src/main.js"]
