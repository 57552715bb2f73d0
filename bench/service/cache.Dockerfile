# The bench service with a build stage, for bench/cache.mjs: `bootstrap` comes from a build image
# (TOOLCHAIN, several layers of generated files the bench pushes first), as a service's binary
# comes from its compiler image. The world has no image that can RUN, so the stage only copies.
ARG TOOLCHAIN=bench-toolchain
FROM ${TOOLCHAIN} AS toolchain

FROM scratch

ARG AWS_ACCOUNT_ID
ARG AWS_REGION
ARG SPARTA_BINARY=bootstrap
ARG SPARTA_ECR_LABEL_NAME=io.sparta.ecr-name
ARG SPARTA_BUILD_ID=latest
ARG REPOSITORY=bench-cache

COPY payload/runtime.bin /opt/runtime.bin
COPY payload/assets.bin /opt/assets.bin
COPY --from=toolchain /out/bootstrap /var/runtime/bootstrap

LABEL ${SPARTA_ECR_LABEL_NAME}="${AWS_ACCOUNT_ID}.dkr.ecr.${AWS_REGION}.amazonaws.com/${REPOSITORY}:${SPARTA_BUILD_ID}"

ENTRYPOINT ["/var/runtime/bootstrap"]
