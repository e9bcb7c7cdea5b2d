# syntax=docker/dockerfile:1
# The one sidekick image: `sidekick serve` (the webhook, the default command), `sidekick certs`
# (the certificate Job) and `sidekick watch` (the config-watcher sidecar) all run from it.
#   docker build -t sidekick:0.1.0 .
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are here.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist/src ./dist/src
# The built-in templates, found relative to dist/src/templates/load.js.
COPY templates ./templates
RUN chmod 0755 /app/dist/src/main.js && ln -s /app/dist/src/main.js /usr/local/bin/sidekick
# Numeric, so that `runAsNonRoot` can verify it without a passwd entry.
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["sidekick"]
CMD ["serve"]
