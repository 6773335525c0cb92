# syntax=docker/dockerfile:1
# Multi-stage: compile TypeScript with the dev dependencies, then ship only the
# compiled worker, its production dependencies, migrations and schemas, run as
# the unprivileged `node` user.
FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY consumers ./consumers
COPY migrations ./migrations
COPY schemas ./schemas
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20.20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/schemas ./schemas
USER node
EXPOSE 8080
# The heap limit keeps the resident set near 250 MB: without it V8 lets the
# heap grow well past what the worker keeps alive (see docs/benchmark.md).
CMD ["node", "--max-old-space-size=256", "dist/src/main.js"]
