# pipewarden daemon image: Node 24 LTS, production dependencies only, non-root.
# Build: docker build -t pipewarden .
# Run:   docker run -v $PWD/pipewarden.yaml:/etc/pipewarden/pipewarden.yaml:ro \
#          -v $PWD/runbooks:/etc/pipewarden/runbooks:ro \
#          -e DATABASE_URL=postgres://… -e WAREHOUSE_URL=postgres://… -p 9464:9464 pipewarden
# Runbook `command` and `dbt` steps run in this container: extend the image with their tools.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-slim AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY migrations ./migrations
# The embedded state database (used only when no DATABASE_URL is set) keeps its data here.
RUN mkdir -p /var/lib/pipewarden && chown node:node /var/lib/pipewarden
USER node
WORKDIR /var/lib/pipewarden
EXPOSE 9464
# /healthz answers while the process is alive; the port is server.port from the config (default 9464).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/pipewarden.js", "start"]
CMD ["--config", "/etc/pipewarden/pipewarden.yaml"]
