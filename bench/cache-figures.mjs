// The fresh-runner build cache figures (pure: build logs and timings in, figures and Markdown
// out), for bench/cache.mjs, and the rows bench/render.mjs puts in the main bench table. Typed
// for the unit tests by cache-figures.d.mts.
import { dockerCommand } from './logs.mjs'
import { covered, median } from './numbers.mjs'

/** Issue 13's targets for a rebuild on a fresh engine with the registry cache. */
export const CACHE_TARGET = { reusedPercent: 80, speedUp: 5 }

/**
 * The Dockerfile steps of a BuildKit build log (`--progress=plain`, what a build without a TTY
 * prints): vertices named `[stage n/m] INSTRUCTION …`, in order of first appearance, each with
 * whether BuildKit reported it `CACHED`, whether it fetched image layers (`extracting sha256:…`,
 * a FROM that pulled), whether it first appeared only once the export had begun (`exporting to
 * …`), and the seconds of its last `DONE` (null when it never finished: cached or not run).
 * `[internal]` and `[auth]` vertices are not steps. Digests are dropped from the names, so the
 * same step has the same name in every build.
 */
export function parseBuildSteps(log) {
  const steps = new Map()
  let exporting = false
  for (const line of log.split('\n')) {
    const m = /^#(\d+) (.*)$/.exec(line.trim())
    if (!m) continue
    const [, id, rest] = m
    const step = steps.get(id)
    if (step === undefined) {
      if (/^exporting to /.test(rest)) exporting = true
      if (/^\[[^\]]*\b\d+\/\d+\] /.test(rest)) {
        steps.set(id, {
          name: rest.replace(/@sha256:[a-f0-9]{64}/g, ''),
          cached: false,
          fetched: false,
          afterExport: exporting,
          seconds: null
        })
      }
    } else if (rest === 'CACHED') {
      step.cached = true
    } else if (rest.startsWith('extracting sha256:')) {
      step.fetched = true
    } else {
      const done = /^DONE (\d+(?:\.\d+)?)s$/.exec(rest)
      if (done) step.seconds = Number(done[1])
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
 * What the build with the cache did with a step (`undefined`: the step is not in its log):
 * - `cached`: BuildKit reported it CACHED;
 * - `not started`: it never appeared (nothing needed it);
 * - `export only`: it first appeared after the export had begun, when the exporter fetched its
 *   layer from the registry cache. It did not run: BuildKit exports only once the whole build is
 *   solved, and a step that ran is shown as it starts. (BuildKit then sometimes prints no CACHED
 *   for it: the step is shown only by the exporter's fetch.)
 * - `manifest only`: a FROM that ran only to resolve the image's manifest (BuildKit needs the
 *   digest for the cache keys) and fetched none of its layers; BuildKit did not say CACHED, so
 *   it does not count as reused;
 * - `ran`: anything else.
 */
export function stepOutcome(step) {
  if (step === undefined) return 'not started'
  if (step.cached) return 'cached'
  if (step.afterExport) return 'export only'
  if (/\] FROM /.test(step.name) && !step.fetched) return 'manifest only'
  return 'ran'
}

/** Whether an outcome counts as reused: CACHED, or provably never run. */
export const isReused = (outcome) =>
  outcome === 'cached' || outcome === 'not started' || outcome === 'export only'

/**
 * The steps of the build without the cache (every one ran, on an empty engine) that the build
 * with it reused: BuildKit marked them CACHED, or they provably never ran (stepOutcome).
 */
export function reusedSteps(withoutCache, withCache) {
  const byName = new Map(withCache.map((step) => [step.name, step]))
  return withoutCache
    .filter((step) => isReused(stepOutcome(byName.get(step.name))))
    .map((step) => step.name)
}

const round = (value, digits) => Number(value.toFixed(digits))

/**
 * The docker calls the action made in one phase: the shim's calls (logs.mjs's
 * parseDockerLog) placed by the action's log, whose `::group::` lines open the phases and whose
 * `::debug::run: docker [...]` lines announce each call. Phases run one after the other, so the
 * n-th call of a command by start time is the n-th the log announces. Throws when the two do not
 * list the same calls.
 */
export function phaseDockerCalls(actionLog, calls, phase) {
  let group = ''
  const announced = []
  for (const line of actionLog.split('\n')) {
    const opened = /^::group::(.*)$/.exec(line)
    if (opened) group = opened[1]
    else if (line.startsWith('::endgroup::')) group = ''
    const run = /^::debug::run: docker \["([^"]*)"(?:,"([^"]*)")?/.exec(line)
    if (run) announced.push({ group, command: dockerCommand(run[1], run[2]) })
  }
  const count = (list, command) => list.filter((call) => call.command === command).length
  for (const command of new Set([...calls, ...announced].map((call) => call.command))) {
    if (count(calls, command) !== count(announced, command)) {
      throw new Error(
        `the docker shim logged ${count(calls, command)} '${command}' calls, the action announced ${count(announced, command)}`
      )
    }
  }
  const seen = new Map()
  return [...calls]
    .sort((a, b) => a.start - b.start)
    .filter((call) => {
      const n = seen.get(call.command) ?? 0
      seen.set(call.command, n + 1)
      return announced.filter((a) => a.command === call.command)[n].group === phase
    })
}

/**
 * The parts of one run's phase: its docker calls, those that overlap (the action runs some at
 * once) as one part named `a ∥ b`, with the seconds they cover, summed per name; then `rest`,
 * the phase's seconds no docker call covers.
 */
function runPhaseParts(run) {
  const parts = new Map()
  let cluster = null
  const close = () => {
    if (cluster === null) return
    const name = [...new Set(cluster.calls.map((call) => call.command))].join(' ∥ ')
    const seconds = covered(cluster.calls.map((call) => [call.start, call.end])) / 1000
    parts.set(name, (parts.get(name) ?? 0) + seconds)
  }
  for (const call of [...run.dockerCalls].sort((a, b) => a.start - b.start)) {
    if (cluster !== null && call.start < cluster.end) {
      cluster.calls.push(call)
      cluster.end = Math.max(cluster.end, call.end)
    } else {
      close()
      cluster = { calls: [call], end: call.end }
    }
  }
  close()
  const docker = covered(run.dockerCalls.map((call) => [call.start, call.end])) / 1000
  parts.set('rest', run.phaseSeconds - docker)
  return parts
}

/**
 * Where a variant's Build image phase goes, medians over its runs: its docker calls in order
 * (overlapping ones together, see runPhaseParts), then `rest`: the phase minus every docker call
 * (node, the ECR token for the login, and the summary's rounding to 0.1 s).
 */
export function phaseParts(runs) {
  const perRun = runs.map(runPhaseParts)
  const names = [...new Set(perRun.flatMap((parts) => [...parts.keys()]))]
  return names.map((part) => ({
    part,
    seconds: round(median(perRun.map((parts) => parts.get(part) ?? 0)), 2)
  }))
}

/**
 * The figures of the runs: each run is `{ variant: 'without' | 'with', buildSeconds (the docker
 * build call), phaseSeconds (the Build image phase), wallSeconds, dockerCalls, steps }`. Medians
 * per variant; the steps reused are the fewest any build with the cache reused, and each step's
 * outcome is the worst any build with the cache had.
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
  const perVariant = (pick) => ({
    without: median(without.map(pick)),
    with: median(withCache.map(pick))
  })
  const build = perVariant((run) => run.buildSeconds)
  const phase = perVariant((run) => run.phaseSeconds)
  const wall = perVariant((run) => run.wallSeconds)
  const reusedPercent = total === 0 ? 0 : round((100 * reused) / total, 1)
  const speedUp = round(build.without / build.with, 1)
  const phaseSpeedUp = round(phase.without / phase.with, 1)
  const rounded = ({ without: a, with: b }) => ({ without: round(a, 2), with: round(b, 2) })
  return {
    steps: {
      total,
      reused,
      reusedPercent,
      list: stepsWithout.map((step) => ({
        name: step.name,
        secondsWithout: round(median(without.map((run) => stepSeconds(run, step.name))), 1),
        withCache: worstOutcome(
          withCache.map((run) => stepOutcome(run.steps.find((s) => s.name === step.name)))
        )
      }))
    },
    buildSeconds: rounded(build),
    phaseSeconds: rounded(phase),
    wallSeconds: rounded(wall),
    phaseParts: { without: phaseParts(without), with: phaseParts(withCache) },
    speedUp,
    phaseSpeedUp,
    pass: {
      reusedPercent: reusedPercent >= CACHE_TARGET.reusedPercent,
      speedUp: speedUp >= CACHE_TARGET.speedUp,
      phaseSpeedUp: phaseSpeedUp >= CACHE_TARGET.speedUp
    }
  }
}

/** A step's seconds in a run (0 when it has no DONE time, or is missing). */
function stepSeconds(run, name) {
  return run.steps.find((step) => step.name === name)?.seconds ?? 0
}

/** The outcome furthest from reuse, so one lucky build does not speak for all. */
function worstOutcome(outcomes) {
  const ORDER = ['ran', 'manifest only', 'export only', 'not started', 'cached']
  return ORDER.find((outcome) => outcomes.includes(outcome)) ?? 'cached'
}

const verdict = (pass) => (pass ? 'PASS' : 'MISS')
const seconds = (value) => `${value.toFixed(2)} s`

/**
 * What bench/results.json keeps of bench/cache-results.json for the main bench table: the
 * configuration, when and where, and the figures (not every run's log-derived details).
 */
export function cacheForResults({ config, meta, figures }) {
  return { config, meta, figures }
}

/**
 * The rows for the Summary table of bench/RESULTS.md (`[figure, value, target, result]`), from
 * the part of bench/cache-results.json that bench/run.mjs keeps (`undefined` before the first
 * `npm run bench:cache`).
 */
export function cacheSummaryRows(cache) {
  if (cache === undefined) {
    return [['Fresh-runner rebuild', 'not measured: run `npm run bench:cache`', '', '']]
  }
  const { config, meta, figures } = cache
  const { buildSeconds: build, phaseSeconds: phase, steps, pass } = figures
  return [
    [
      `Fresh-runner rebuild (\`npm run bench:cache\`, ${meta.date}, ${config.engine} engine, median of ${config.runs}; bench/CACHE.md)`,
      '',
      '',
      ''
    ],
    [
      '  `docker build` without / with the registry cache',
      `${seconds(build.without)} / ${seconds(build.with)}`,
      '',
      ''
    ],
    [
      '  Speed-up of `docker build`',
      `${figures.speedUp.toFixed(1)}×`,
      `≥ ${CACHE_TARGET.speedUp}×`,
      verdict(pass.speedUp)
    ],
    [
      '  Build image phase without / with the registry cache',
      `${seconds(phase.without)} / ${seconds(phase.with)}`,
      '',
      ''
    ],
    [
      '  Speed-up of the Build image phase',
      `${figures.phaseSpeedUp.toFixed(1)}×`,
      `≥ ${CACHE_TARGET.speedUp}×`,
      verdict(pass.phaseSpeedUp)
    ],
    [
      '  Steps reused (BuildKit CACHED, or provably not run)',
      `${steps.reused} of ${steps.total} (${steps.reusedPercent} %)`,
      `≥ ${CACHE_TARGET.reusedPercent} %`,
      verdict(pass.reusedPercent)
    ]
  ]
}

/** `build --help ∥ info` as `` `docker build --help` ∥ `docker info` ``. */
const dockerPart = (part) =>
  part
    .split(' ∥ ')
    .map((command) => `\`docker ${command}\``)
    .join(' ∥ ')

const OUTCOME_TEXT = {
  cached: 'yes: CACHED',
  'not started': 'yes: never started',
  'export only':
    'yes: not run (in some builds BuildKit printed no CACHED; it was first shown when the export fetched its cached layer)',
  'manifest only': 'no: resolved the image manifest only (no layer fetched); not CACHED',
  ran: 'no: ran again'
}

/** bench/CACHE.md from bench/cache-results.json (no arithmetic beyond formatting). */
export function renderCache(results) {
  const { config, figures, meta } = results
  const { buildSeconds: build, phaseSeconds: phase, wallSeconds: wall } = figures
  const perBuild = (variant) =>
    results.runs
      .filter((run) => run.variant === variant)
      .map((run) => run.buildSeconds.toFixed(2))
      .join(', ')
  const partsWith = new Map(figures.phaseParts.with.map((p) => [p.part, p.seconds]))
  const partsWithout = new Map(figures.phaseParts.without.map((p) => [p.part, p.seconds]))
  // The calls in the order the action makes them (the build with the cache makes them all), the
  // rest last.
  const partNames = [...new Set([...partsWith.keys(), ...partsWithout.keys()])]
    .filter((part) => part !== 'rest')
    .concat('rest')
  const cell = (map, part) => (map.has(part) ? map.get(part).toFixed(2) : '-')
  const lines = [
    '# Build cache on a fresh runner',
    '',
    `Written by \`npm run bench:cache\` (bench/cache.mjs) on ${meta.date}, engine \`${config.engine}\` (${meta.engine}), ${meta.cpus} CPUs; ${config.runs} builds of each kind, medians. The figures are in [cache-results.json](cache-results.json); the main bench table ([RESULTS.md](RESULTS.md)) repeats the summary.`,
    '',
    '| Figure | Without the cache | With the registry cache | Target | |',
    '| --- | --- | --- | --- | --- |',
    `| \`docker build\` (s) | ${build.without.toFixed(2)} | ${build.with.toFixed(2)} | | |`,
    `| Build image phase (s) | ${phase.without.toFixed(2)} | ${phase.with.toFixed(2)} | | |`,
    `| Whole noop run (s) | ${wall.without.toFixed(2)} | ${wall.with.toFixed(2)} | | |`,
    `| Speed-up of \`docker build\` | | ${figures.speedUp.toFixed(1)}× | ≥ ${CACHE_TARGET.speedUp}× | ${verdict(figures.pass.speedUp)} |`,
    `| Speed-up of the Build image phase | | ${figures.phaseSpeedUp.toFixed(1)}× | ≥ ${CACHE_TARGET.speedUp}× | ${verdict(figures.pass.phaseSpeedUp)} |`,
    `| Steps reused | | ${figures.steps.reused} of ${figures.steps.total} (${figures.steps.reusedPercent} %) | ≥ ${CACHE_TARGET.reusedPercent} % | ${verdict(figures.pass.reusedPercent)} |`,
    '',
    `Per build (seconds of \`docker build\`): without the cache ${perBuild('without')}; with it ${perBuild('with')}.`,
    '',
    '## What is measured',
    '',
    `Every build runs on a **fresh engine**: bench/cache.mjs starts a second dockerd exactly like the world's (same binary, same daemon.json) with an empty data root, builds once, stops it and deletes the data root. So nothing is local: no image, no layer, no build cache, as on an ephemeral runner.`,
    '',
    `The image is the bench service with a build stage (bench/service/cache.Dockerfile), shaped like a compiled service's: \`FROM\` a build image, \`COPY\` the source, \`RUN\` the build, then a \`FROM scratch\` stage that copies two ${config.payloadMB} MB payload files from the context and the build's output from the build stage. No image can be pulled here, so the build image, \`${config.baseImage}\`, is made by the bench from Debian's static busybox (\`busybox-static\`, which \`local/world.sh deps\` installs) with its applet links, plus ${config.toolchainLayers} layers of ${config.toolchainLayerMB} MB of generated files standing for a compiler's bulk, and pushed to the world's registry. The \`RUN\` step stands for compiling: it hashes the whole toolchain and the source, then deflates generated data at \`gzip -9\` and hashes it, ${config.workRounds} rounds (bench/service/cache-build.sh). Its time without the cache is in the step table below; the speed-up grows with it (a real compile of minutes gains more, a build with no build stage much less).`,
    '',
    `1. Two deploys on the world's own engine (\`build-cache: auto\`): the first creates the stack; the second finds the stack's image and writes the registry cache \`<repository>:oci-stack-deploy-cache\` (\`--cache-to type=registry,…,mode=max,image-manifest=true,oci-mediatypes=true\`).`,
    `2. ${config.runs} pairs of \`mode: noop\` runs on fresh engines, alternating: \`build-cache: off\` (without) and \`build-cache: auto\` (with: \`--cache-from type=registry,ref=…\`; noop writes no cache).`,
    '',
    "The build time is the `docker build` call the action makes, timed by a `docker` shim first on the action's PATH, which times every docker call. A step is a Dockerfile instruction BuildKit runs (`[stage n/m] …` in its plain progress log). A step counts as reused only when BuildKit reported it `CACHED` in the build with the cache, or it provably did not run: it never appeared, or it first appeared only after \`exporting to image\` began, when the exporter fetched its layer from the cache (BuildKit exports once the whole build is solved, and shows a step that runs when it starts; in such a build BuildKit sometimes prints no \`CACHED\` for that step). Anything else counts as not reused, including a \`FROM\` that only resolved its image manifest. Each step's outcome below is the least reused of the ${config.runs} builds with the cache; the reused count is the smallest of them.",
    '',
    '| Step (as BuildKit names it) | Seconds without the cache | Reused with the cache |',
    '| --- | --- | --- |',
    ...figures.steps.list.map(
      (step) =>
        `| \`${step.name.replace(/\|/g, '\\|')}\` | ${step.secondsWithout.toFixed(1)} | ${OUTCOME_TEXT[step.withCache]} |`
    ),
    '',
    '## Where the Build image phase goes',
    '',
    "Seconds per part of the job summary's \"Build image\" phase, medians: the docker calls the action makes in that phase, in order (`∥`: calls it makes at once, counted once), and the rest: node, the ECR authorization token behind the login, and the summary's rounding of the phase to 0.1 s. `build --help` tells BuildKit from the legacy builder, `buildx inspect` and `info` give the builder's driver and the image store, `login` lets the build read the registry cache (only with the cache), `image inspect` reads the built image.",
    '',
    '| Part | Without the cache (s) | With the registry cache (s) |',
    '| --- | --- | --- |',
    ...partNames.map(
      (part) =>
        `| ${part === 'rest' ? 'rest (not docker)' : dockerPart(part)} | ${cell(partsWithout, part)} | ${cell(partsWith, part)} |`
    ),
    `| whole phase | ${phase.without.toFixed(2)} | ${phase.with.toFixed(2)} |`,
    ''
  ]
  return lines.join('\n')
}
