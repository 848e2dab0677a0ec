# rotate in a container, for the Kubernetes CronJob in deploy/kubernetes/ (docs/kubernetes.md).
#   docker build -t rotate:0.1.0 .
# The image holds only Node and the installed package (no npm cache, no sources, no build tools) and runs as the
# unprivileged `node` user. Nothing is written under / at run time, so it runs with a read-only root file system:
# the config is mounted (ConfigMap at /config), the store is PostgreSQL (ROTATE_STORE_URL) or a volume at
# /work/.rotate, and the master key comes from the environment (a Secret). No secret is baked into the image.
ARG NODE_IMAGE=node:22-alpine

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the root's `prepare` would build before the sources are copied; the build runs below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json biome.json ./
COPY scripts ./scripts
COPY src ./src
COPY docs ./docs
COPY README.md ./
RUN npm run build && npm pack --ignore-scripts --silent --pack-destination /tmp && mv /tmp/rotate-*.tgz /tmp/rotate.tgz

FROM ${NODE_IMAGE}
COPY --from=build /tmp/rotate.tgz /tmp/rotate.tgz
RUN npm install -g --omit=dev --ignore-scripts --no-audit --no-fund /tmp/rotate.tgz \
  && rm -rf /tmp/rotate.tgz /root/.npm \
  && mkdir -p /work && chown node:node /work
# rotate's compile cache and any scratch file go to /tmp (an emptyDir in the CronJob), never the read-only root.
ENV NODE_ENV=production XDG_CACHE_HOME=/tmp/.cache
WORKDIR /work
VOLUME ["/work"]
USER node
ENTRYPOINT ["rotate"]
CMD ["--help"]
