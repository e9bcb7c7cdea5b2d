# syntax=docker/dockerfile:1
# The one sidekick image: `sidekick serve` (the webhook, the default command), `sidekick certs`
# (the certificate Job) and `sidekick watch` (the config-watcher sidecar) all run from it.
#   docker build -t ghcr.io/sidekick-dev/sidekick:0.1.0 .
# Without a Docker engine, `npm run image` builds the same image from this file: it reads the
# final stage, takes each `COPY --from=build` source from its local equivalent (the same Node
# release, the same Debian 12 libraries, `npm ci --omit=dev`, the compiled code) and writes an
# archive that `docker load`, `podman load` and `ctr images import` accept (scripts/image/).
# Keep the final stage to COPY, ENV, WORKDIR, USER, EXPOSE, LABEL, ENTRYPOINT and CMD: the
# builder refuses anything else, so the two cannot drift apart.
ARG NODE_VERSION=26.12.1

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are here.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json
WORKDIR /prod
RUN cp /app/package.json /app/package-lock.json ./ \
  && npm ci --omit=dev --no-audit --no-fund --ignore-scripts

# No shell, no package manager: Node, the C and C++ runtime it links against, and sidekick.
FROM scratch
COPY --from=build /usr/local/bin/node /usr/local/bin/node
COPY --from=build /lib64/ld-linux-x86-64.so.2 /lib64/
COPY --from=build /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 /usr/lib/x86_64-linux-gnu/libc.so.6 /usr/lib/x86_64-linux-gnu/libm.so.6 /usr/lib/x86_64-linux-gnu/libdl.so.2 /usr/lib/x86_64-linux-gnu/libpthread.so.0 /usr/lib/x86_64-linux-gnu/libatomic.so.1 /usr/lib/x86_64-linux-gnu/libgcc_s.so.1 /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/x86_64-linux-gnu/
COPY --from=build /prod/node_modules /app/node_modules
COPY --from=build /app/dist/src /app/dist/src
COPY package.json /app/package.json
# The built-in templates, found relative to dist/src/templates/load.js.
COPY templates /app/templates
ENV NODE_ENV=production PATH=/usr/local/bin
WORKDIR /app
# Numeric, so that `runAsNonRoot` can verify it without a passwd entry.
USER 65532:65532
EXPOSE 8443 9090
LABEL org.opencontainers.image.title=sidekick org.opencontainers.image.version=0.1.0 org.opencontainers.image.source=https://github.com/sidekick-dev/sidekick org.opencontainers.image.licenses=Apache-2.0
ENTRYPOINT ["/usr/local/bin/node", "/app/dist/src/main.js"]
CMD ["serve"]
