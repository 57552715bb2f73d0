// The fresh-runner build cache figures (pure: build logs and timings in, figures and Markdown
// out), for bench/cache.mjs. Typed for the unit tests by cache-figures.d.mts.

/** Issue 13's targets for a rebuild on a fresh engine with the registry cache. */
export const CACHE_TARGET = { reusedPercent: 80, speedUp: 5 }

/**
 * The Dockerfile steps of a BuildKit build log (`--progress=plain`, what a build without a TTY
 * prints): vertices named `[stage n/m] INSTRUCTION …`, in order of first appearance, each with
 * whether BuildKit reported it `CACHED` and whether it fetched image layers (`extracting
 * sha256:…`, a FROM that pulled). `[internal]` and `[auth]` vertices are not steps. Digests are
 * dropped from the names, so the same step has the same name in every build.
 */
export function parseBuildSteps(log) {
  const steps = new Map()
  for (const line of log.split('\n')) {
    const m = /^#(\d+) (.*)$/.exec(line.trim())
    if (!m) continue
    const [, id, rest] = m
    const step = steps.get(id)
    if (step === undefined) {
      if (/^\[[^\]]*\b\d+\/\d+\] /.test(rest)) {
        steps.set(id, {
          name: rest.replace(/@sha256:[a-f0-9]{64}/g, ''),
          cached: false,
          fetched: false
        })
      }
    } else if (rest === 'CACHED') {
      step.cached = true
    } else if (rest.startsWith('extracting sha256:')) {
      step.fetched = true
    }
  }
  return [...steps.values()]
}

/** The seconds the job summary gives a phase (`<tr><td>Build image</td><td>12.3</td></tr>`). */
export function phaseSeconds(summary, phase) {
  const m = new RegExp(`<tr><td>${phase}</td><td>(\\d+(?:\\.\\d+)?)</td></tr>`).exec(summary)
  if (!m) throw new Error(`the job summary has no time for the phase '${phase}'`)
  return Number(m[1])
}

/**
 * The steps of the build without the cache that the build with it did not redo: BuildKit marked
 * them CACHED, never started them, or (a FROM) only read the image's manifest and fetched none
 * of its layers, because everything that used the image was cached. Every step of the build
 * without the cache ran, on an empty engine.
 */
export function reusedSteps(withoutCache, withCache) {
  const redone = new Set(
    withCache
      .filter((step) => !step.cached && (step.fetched || !/\] FROM /.test(step.name)))
      .map((step) => step.name)
  )
  return withoutCache.filter((step) => !redone.has(step.name)).map((step) => step.name)
}

export function median(values) {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const round = (value, digits) => Number(value.toFixed(digits))

/**
 * The figures of the runs: each run is `{ variant: 'without' | 'with', buildSeconds (the docker
 * build call), phaseSeconds (the Build image phase), wallSeconds, steps }`. Medians per variant; the reused share comes from the median-time run of each variant
 * (every run of a variant reuses the same steps; the rounds check that).
 */
export function cacheFigures(runs) {
  const of = (variant) => runs.filter((run) => run.variant === variant)
  const without = of('without')
  const withCache = of('with')
  if (without.length === 0 || withCache.length === 0) {
    throw new Error('need at least one build without and one with the cache')
  }
  const stepsWithout = without[0].steps
  const reusedPerRun = withCache.map((run) => reusedSteps(stepsWithout, run.steps).length)
  const reused = Math.min(...reusedPerRun)
  const total = stepsWithout.length
  const buildWithout = median(without.map((run) => run.buildSeconds))
  const buildWith = median(withCache.map((run) => run.buildSeconds))
  const reusedPercent = total === 0 ? 0 : round((100 * reused) / total, 1)
  const speedUp = round(buildWithout / buildWith, 1)
  return {
    steps: {
      total,
      reused,
      reusedPercent,
      names: stepsWithout.map((step) => step.name),
      reusedNames: reusedSteps(stepsWithout, withCache[0].steps)
    },
    buildSeconds: { without: round(buildWithout, 2), with: round(buildWith, 2) },
    phaseSeconds: {
      without: round(median(without.map((run) => run.phaseSeconds)), 2),
      with: round(median(withCache.map((run) => run.phaseSeconds)), 2)
    },
    wallSeconds: {
      without: round(median(without.map((run) => run.wallSeconds)), 2),
      with: round(median(withCache.map((run) => run.wallSeconds)), 2)
    },
    speedUp,
    phaseSpeedUp: round(
      median(without.map((r) => r.phaseSeconds)) / median(withCache.map((r) => r.phaseSeconds)),
      1
    ),
    pass: {
      reusedPercent: reusedPercent >= CACHE_TARGET.reusedPercent,
      speedUp: speedUp >= CACHE_TARGET.speedUp
    }
  }
}

const verdict = (pass) => (pass ? 'PASS' : 'MISS')

/** bench/CACHE.md from bench/cache-results.json (no arithmetic beyond formatting). */
export function renderCache(results) {
  const { config, figures, meta } = results
  const lines = [
    '# Build cache on a fresh runner',
    '',
    `Written by \`npm run bench:cache\` (bench/cache.mjs) on ${meta.date}, engine \`${config.engine}\` (${meta.engine}), ${meta.cpus} CPUs; ${config.runs} builds of each kind, medians. The figures are in [cache-results.json](cache-results.json).`,
    '',
    '| Figure | Without the cache | With the registry cache | Target | |',
    '| --- | --- | --- | --- | --- |',
    `| \`docker build\` (s) | ${figures.buildSeconds.without.toFixed(2)} | ${figures.buildSeconds.with.toFixed(2)} | | |`,
    `| Build image phase (s) | ${figures.phaseSeconds.without.toFixed(2)} | ${figures.phaseSeconds.with.toFixed(2)} | | |`,
    `| Whole noop run (s) | ${figures.wallSeconds.without.toFixed(2)} | ${figures.wallSeconds.with.toFixed(2)} | | |`,
    `| Speed-up of the build | | ${figures.speedUp.toFixed(1)}× | ≥ ${CACHE_TARGET.speedUp}× | ${verdict(figures.pass.speedUp)} |`,
    `| Speed-up of the Build image phase | | ${figures.phaseSpeedUp.toFixed(1)}× | | |`,
    `| Steps reused | | ${figures.steps.reused} of ${figures.steps.total} (${figures.steps.reusedPercent} %) | ≥ ${CACHE_TARGET.reusedPercent} % | ${verdict(figures.pass.reusedPercent)} |`,
    '',
    `Per build (seconds of \`docker build\`): without the cache ${results.runs
      .filter((run) => run.variant === 'without')
      .map((run) => run.buildSeconds.toFixed(2))
      .join(', ')}; with it ${results.runs
      .filter((run) => run.variant === 'with')
      .map((run) => run.buildSeconds.toFixed(2))
      .join(', ')}.`,
    '',
    '## What is measured',
    '',
    `Every build runs on a **fresh engine**: bench/cache.mjs starts a second dockerd exactly like the world's (same binary, same daemon.json) with an empty data root, builds once, stops it and deletes the data root. So nothing is local: no image, no layer, no build cache, as on an ephemeral runner.`,
    '',
    `The image is the bench service with one more stage (bench/service/cache.Dockerfile): its \`bootstrap\` is copied from a build image, \`${config.toolchainImage}\`, ${config.toolchainLayers} layers of ${config.toolchainLayerMB} MB of generated files that the bench pushes to the world's registry first. It stands for the build stage of a real service (a compiler image that makes a small binary). The world cannot run a compiler: it has no base image with a shell, and a \`FROM scratch\` stage cannot \`RUN\`. So the work the cache saves here is fetching and unpacking that build image and making the layers of the two ${config.payloadMB} MB payload files from the context (the context is still sent to the builder, to check it is unchanged), not compiling: a real build stage that runs for minutes would gain more, a build with no build stage less. Of the steps counted as reused, BuildKit reported the COPY steps \`CACHED\`; the \`FROM\` of the build image counts because it only read the image's manifest and fetched none of its layers.`,
    '',
    `1. Two deploys on the world's own engine (\`build-cache: auto\`): the first creates the stack; the second finds the stack's image and writes the registry cache \`<repository>:oci-stack-deploy-cache\` (\`--cache-to type=registry,…,mode=max,image-manifest=true,oci-mediatypes=true\`).`,
    `2. ${config.runs} pairs of \`mode: noop\` runs on fresh engines, alternating: \`build-cache: off\` (without) and \`build-cache: auto\` (with: \`--cache-from type=registry,ref=…\`; noop writes no cache).`,
    '',
    'The build time is the `docker build` call the action makes (timed by a `docker` shim first on the action\'s PATH); the "Build image" phase of the job summary adds builder detection, the ECR login the cache needs and `docker image inspect`. A step is a Dockerfile instruction BuildKit runs (`[stage n/m] …` in its plain progress log); a step is reused when the build with the cache did not redo it: BuildKit reported it `CACHED`, never started it, or, for a `FROM`, only read the image\'s manifest and fetched none of its layers (everything that used the image was cached).',
    '',
    '| Step (as BuildKit names it) | Reused with the cache |',
    '| --- | --- |',
    ...figures.steps.names.map(
      (name) =>
        `| \`${name.replace(/\|/g, '\\|')}\` | ${figures.steps.reusedNames.includes(name) ? 'yes' : 'no'} |`
    ),
    ''
  ]
  return lines.join('\n')
}
