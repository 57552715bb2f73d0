#!/bin/sh
# The build step of bench/service/cache.Dockerfile (bench/cache.mjs copies it into the service as
# build.sh), run by busybox's sh: the stand-in for compiling, several seconds of CPU. It reads the
# whole toolchain and the source, then deflates generated data at the highest level and hashes
# it, WORK_ROUNDS times; the output is the service's bootstrap and the digests.
set -eu
mkdir -p /out
find /toolchain /src -type f | sort | xargs sha256sum >/out/inputs.sha256
i=0
while [ "$i" -lt "$WORK_ROUNDS" ]; do
  seq "$i" 2500000 | gzip -9 | sha256sum >>/out/work.sha256
  i=$((i + 1))
done
cp -p /src/bootstrap /out/bootstrap
