# The bench service with a build stage, for bench/cache.mjs: a service whose binary is built in a
# build image, as a Go or Rust service's is. BASE is the image the bench builds from Debian's
# static busybox and pushes to the world's registry first (busybox and its applet links, plus
# "toolchain" layers of generated files), since no base image can be pulled here. build.sh is
# bench/service/cache-build.sh: the stand-in for compiling.
ARG BASE=bench-base
FROM ${BASE} AS build
ARG WORK_ROUNDS=6
COPY build.sh bootstrap /src/
# No network: the build needs none.
RUN --network=none sh /src/build.sh

FROM scratch

ARG AWS_ACCOUNT_ID
ARG AWS_REGION
ARG SPARTA_BINARY=bootstrap
ARG SPARTA_ECR_LABEL_NAME=io.sparta.ecr-name
ARG SPARTA_BUILD_ID=latest
ARG REPOSITORY=bench-cache

COPY payload/runtime.bin /opt/runtime.bin
COPY payload/assets.bin /opt/assets.bin
COPY --from=build /out/ /var/runtime/

LABEL ${SPARTA_ECR_LABEL_NAME}="${AWS_ACCOUNT_ID}.dkr.ecr.${AWS_REGION}.amazonaws.com/${REPOSITORY}:${SPARTA_BUILD_ID}"

ENTRYPOINT ["/var/runtime/bootstrap"]
