/**
 * bench/cache-figures.mjs: the fresh-runner cache figures, from BuildKit plain progress logs,
 * docker call logs and job summaries worked out by hand.
 */
import { describe, expect, it } from '@jest/globals'
import {
  cacheFigures,
  cacheForResults,
  cacheSummaryRows,
  parseBuildSteps,
  phaseDockerCalls,
  phaseParts,
  phaseSeconds,
  renderCache,
  reusedSteps,
  stepOutcome,
  type CacheResults,
  type CacheRun
} from '../../bench/cache-figures.mjs'
import type { DockerCall } from '../../bench/logs.mjs'
import { cacheRunSetup } from '../../__fixtures__/bench/cache-run.js'

const DIGEST = `sha256:${'ab'.repeat(32)}`
const FROM = '[build 1/3] FROM 123456789012.dkr.ecr.us-east-1.amazonaws.com/bench-base:1'
const SOURCE = '[build 2/3] COPY build.sh bootstrap /src/'
const COMPILE = '[build 3/3] RUN --network=none sh /src/build.sh'
const RUNTIME = '[stage-1 1/3] COPY payload/runtime.bin /opt/runtime.bin'
const ASSETS = '[stage-1 2/3] COPY payload/assets.bin /opt/assets.bin'
const OUT = '[stage-1 3/3] COPY --from=build /out/ /var/runtime/'

/** A fresh engine without the cache: the FROM pulls (its vertex interleaves with others). */
const WITHOUT_LOG = [
  '#0 building with "default" instance using docker driver',
  '#1 [internal] load build definition from Dockerfile',
  '#1 DONE 0.0s',
  '#2 [auth] sharing credentials for 123456789012.dkr.ecr.us-east-1.amazonaws.com',
  '#2 DONE 0.0s',
  '#3 [internal] load metadata for 123456789012.dkr.ecr.us-east-1.amazonaws.com/bench-base:1',
  '#3 DONE 0.1s',
  `#4 ${FROM}@${DIGEST}`,
  `#4 resolve 123456789012.dkr.ecr.us-east-1.amazonaws.com/bench-base:1@${DIGEST} 0.0s done`,
  '#4 ...',
  '#5 [internal] load build context',
  '#5 DONE 0.3s',
  `#6 ${RUNTIME}`,
  '#6 DONE 0.1s',
  `#4 ${FROM}@${DIGEST}`,
  `#4 sha256:${'cd'.repeat(32)} 33.55MB / 33.55MB 0.4s done`,
  `#4 extracting sha256:${'cd'.repeat(32)}`,
  `#4 extracting sha256:${'cd'.repeat(32)} 0.4s done`,
  '#4 DONE 1.3s',
  `#7 ${ASSETS}`,
  '#7 DONE 0.1s',
  `#4 ${FROM}@${DIGEST}`,
  `#4 extracting sha256:${'ef'.repeat(32)} 0.2s done`,
  '#4 DONE 1.5s',
  `#8 ${SOURCE}`,
  '#8 DONE 0.2s',
  `#9 ${COMPILE}`,
  '#9 DONE 8.4s',
  `#10 ${OUT}`,
  '#10 DONE 0.0s',
  '#11 exporting to image',
  '#11 DONE 0.6s'
].join('\n')

/** A fresh engine with the registry cache: the FROM only resolves, the rest is CACHED. */
const WITH_LOG = [
  '#1 [internal] load build definition from Dockerfile',
  '#1 DONE 0.0s',
  `#2 ${FROM}@${DIGEST}`,
  `#2 resolve 123456789012.dkr.ecr.us-east-1.amazonaws.com/bench-base:1@${DIGEST} 0.0s done`,
  '#2 DONE 0.0s',
  '#3 importing cache manifest from 123456789012.dkr.ecr.us-east-1.amazonaws.com/svc:oci-stack-deploy-cache',
  '#3 DONE 0.0s',
  `#4 ${RUNTIME}`,
  '#4 CACHED',
  `#5 ${ASSETS}`,
  '#5 CACHED',
  `#6 ${SOURCE}`,
  '#6 CACHED',
  `#7 ${COMPILE}`,
  '#7 CACHED',
  `#8 ${OUT}`,
  '#8 CACHED',
  '#9 exporting to image',
  '#9 ...',
  `#8 ${OUT}`,
  `#8 sha256:${'12'.repeat(32)} 8.39MB / 8.39MB 0.2s done`,
  '#8 DONE 0.2s',
  '#9 exporting to image',
  '#9 DONE 0.4s'
].join('\n')

const ran = { cached: false, fetched: false, afterExport: false }
const STEPS_WITHOUT = [
  { ...ran, name: FROM, fetched: true, seconds: 1.5 },
  { ...ran, name: RUNTIME, seconds: 0.1 },
  { ...ran, name: ASSETS, seconds: 0.1 },
  { ...ran, name: SOURCE, seconds: 0.2 },
  { ...ran, name: COMPILE, seconds: 8.4 },
  { ...ran, name: OUT, seconds: 0 }
]

/**
 * A build with the cache in which BuildKit printed no CACHED for the last step: it shows up only
 * when the exporter fetches its layer from the cache (seen on the containerd engine).
 */
const WITH_LOG_LATE = WITH_LOG.replace(`#8 ${OUT}\n#8 CACHED\n`, '')

/**
 * The Build image phase's docker calls with the cache, milliseconds from the phase's start: the
 * builder check, the driver and the image store at once, the login, the build, the inspect.
 */
const call = (command: string, start: number, end: number): DockerCall => ({
  start: 1_000_000 + start,
  end: 1_000_000 + end,
  rc: 0,
  command
})
const callsWith = (build: number): DockerCall[] => [
  call('build --help', 0, 120),
  call('buildx inspect', 130, 280),
  call('info', 135, 220),
  call('login', 300, 500),
  call('build', 520, 520 + build * 1000),
  call('image inspect', 540 + build * 1000, 620 + build * 1000)
]

const summary = (seconds: string): string =>
  `<table><tr><td>Preflight checks</td><td>0.2</td></tr><tr><td>Build image</td><td>${seconds}</td></tr></table>`

describe('parseBuildSteps', () => {
  it('takes the Dockerfile steps in order of first appearance, digests dropped, with their last DONE time', () => {
    expect(parseBuildSteps(WITHOUT_LOG)).toEqual([
      STEPS_WITHOUT[0],
      STEPS_WITHOUT[1],
      STEPS_WITHOUT[2],
      STEPS_WITHOUT[3],
      STEPS_WITHOUT[4],
      STEPS_WITHOUT[5]
    ])
  })

  it('marks the steps BuildKit reported CACHED, even when their layers are fetched later for the export', () => {
    expect(parseBuildSteps(WITH_LOG)).toEqual([
      { ...ran, name: FROM, seconds: 0 },
      { ...ran, name: RUNTIME, cached: true, seconds: null },
      { ...ran, name: ASSETS, cached: true, seconds: null },
      { ...ran, name: SOURCE, cached: true, seconds: null },
      { ...ran, name: COMPILE, cached: true, seconds: null },
      { ...ran, name: OUT, cached: true, seconds: 0.2 }
    ])
  })

  it('notes a step first shown once the export began', () => {
    expect(parseBuildSteps(WITH_LOG_LATE).at(-1)).toEqual({
      ...ran,
      name: OUT,
      afterExport: true,
      seconds: 0.2
    })
  })

  it('finds no steps in a legacy builder log', () => {
    expect(parseBuildSteps('Step 1/5 : FROM scratch\n ---> Using cache\n')).toEqual([])
  })
})

describe('stepOutcome', () => {
  const step = { ...ran, name: COMPILE, seconds: 8 }
  it.each([
    ['CACHED', { ...step, cached: true }, 'cached'],
    ['missing from the log', undefined, 'not started'],
    ['first shown by the export', { ...step, name: OUT, afterExport: true }, 'export only'],
    ['a FROM that fetched no layer', { ...step, name: FROM, seconds: 0 }, 'manifest only'],
    ['a FROM that pulled', { ...step, name: FROM, fetched: true }, 'ran'],
    ['a RUN that finished', step, 'ran']
  ])('%s: %s', (_what, given, outcome) => {
    expect(stepOutcome(given)).toBe(outcome)
  })
})

describe('reusedSteps', () => {
  const without = parseBuildSteps(WITHOUT_LOG)

  it('counts only the steps BuildKit said CACHED, not a FROM that only read its manifest', () => {
    expect(reusedSteps(without, parseBuildSteps(WITH_LOG))).toEqual([
      RUNTIME,
      ASSETS,
      SOURCE,
      COMPILE,
      OUT
    ])
  })

  it('counts a step run again as not reused', () => {
    const withCache = parseBuildSteps(WITH_LOG).map((step) =>
      step.name === COMPILE ? { ...step, cached: false, seconds: 8.1 } : step
    )
    expect(reusedSteps(without, withCache)).toEqual([RUNTIME, ASSETS, SOURCE, OUT])
  })

  it('counts a step first shown when the export fetched its layer as reused: it never ran', () => {
    expect(reusedSteps(without, parseBuildSteps(WITH_LOG_LATE))).toEqual([
      RUNTIME,
      ASSETS,
      SOURCE,
      COMPILE,
      OUT
    ])
  })

  it('counts a step the cached build never started as reused', () => {
    expect(reusedSteps(without, parseBuildSteps(WITH_LOG).slice(1))).toEqual([
      FROM,
      RUNTIME,
      ASSETS,
      SOURCE,
      COMPILE,
      OUT
    ])
  })
})

describe('phaseSeconds', () => {
  it('reads a phase time from the job summary', () => {
    expect(phaseSeconds(summary('12.5'), 'Build image')).toBe(12.5)
  })

  it('says which phase is missing', () => {
    expect(() => phaseSeconds(summary('1.0'), 'Deploy stack')).toThrow(
      "the job summary has no time for the phase 'Deploy stack'"
    )
  })
})

describe('phaseDockerCalls', () => {
  const log = [
    '::group::Preflight checks',
    '::debug::run: docker ["version","--format","{{.Server.Version}}"]',
    '::debug::run: docker ["image","inspect","sparta/svc:1"]',
    '::endgroup::',
    '::group::Build image',
    '::debug::run: docker ["build","--help"]',
    '::debug::run: docker ["buildx","inspect"]',
    '::debug::run: docker ["info","--format","{{json .DriverStatus}}"]',
    '::debug::run: docker ["login","--username","AWS","--password-stdin","host"]',
    'build cache: registry, host/svc:oci-stack-deploy-cache',
    '::debug::run: docker ["build","--tag","sparta/svc:2","--file","Dockerfile","."]',
    '::debug::run: docker ["image","inspect","sparta/svc:2"]',
    '::endgroup::'
  ].join('\n')
  const preflight = [call('version', -900, -850), call('image inspect', -800, -700)]

  it('keeps the calls the log announces in the phase, in order of start', () => {
    // The shim logs a call when it ends: info before buildx inspect.
    const shimOrder = [...preflight, ...callsWith(1)].sort((a, b) => a.end - b.end)
    expect(phaseDockerCalls(log, shimOrder, 'Build image')).toEqual(callsWith(1))
    expect(phaseDockerCalls(log, shimOrder, 'Preflight checks')).toEqual(preflight)
  })

  it('refuses a shim log that does not list the calls the action announced', () => {
    expect(() =>
      phaseDockerCalls(log, [...preflight.slice(1), ...callsWith(1)], 'Build image')
    ).toThrow("the docker shim logged 0 'version' calls, the action announced 1")
  })
})

/** A run; its phase adds 0.5 s to the build without the cache, 1 s with it (0.6 s of calls). */
const run = (
  variant: 'without' | 'with',
  buildSeconds: number,
  phase = buildSeconds + (variant === 'with' ? 1 : 0.5)
): CacheRun => ({
  variant,
  buildSeconds,
  phaseSeconds: phase,
  wallSeconds: buildSeconds + 1,
  dockerCalls:
    variant === 'with' ? callsWith(buildSeconds) : [call('build', 0, buildSeconds * 1000)],
  steps: parseBuildSteps(variant === 'with' ? WITH_LOG : WITHOUT_LOG)
})

describe('phaseParts', () => {
  it('takes the calls in order, overlapping ones as one part, and leaves the rest to what is not docker', () => {
    expect(phaseParts([run('with', 1.1, 2.0), run('with', 1.1, 2.4)])).toEqual([
      { part: 'build --help', seconds: 0.12 },
      { part: 'buildx inspect ∥ info', seconds: 0.15 },
      { part: 'login', seconds: 0.2 },
      { part: 'build', seconds: 1.1 },
      { part: 'image inspect', seconds: 0.08 },
      { part: 'rest', seconds: 0.55 }
    ])
  })

  it('sums the parts of the same name in a run', () => {
    const twice = {
      ...run('with', 1, 2),
      dockerCalls: [call('info', 0, 100), call('info', 200, 250)]
    }
    expect(phaseParts([twice])).toEqual([
      { part: 'info', seconds: 0.15 },
      { part: 'rest', seconds: 1.85 }
    ])
  })
})

describe('cacheFigures', () => {
  it('gives medians, the share of steps reused and the speed-ups, against the targets', () => {
    const figures = cacheFigures([
      run('without', 12),
      run('with', 2),
      run('without', 10),
      run('with', 1.5),
      run('without', 11),
      run('with', 3)
    ])
    expect(figures).toEqual({
      steps: {
        total: 6,
        reused: 5,
        reusedPercent: 83.3,
        list: [
          { name: FROM, secondsWithout: 1.5, withCache: 'manifest only' },
          { name: RUNTIME, secondsWithout: 0.1, withCache: 'cached' },
          { name: ASSETS, secondsWithout: 0.1, withCache: 'cached' },
          { name: SOURCE, secondsWithout: 0.2, withCache: 'cached' },
          { name: COMPILE, secondsWithout: 8.4, withCache: 'cached' },
          { name: OUT, secondsWithout: 0, withCache: 'cached' }
        ]
      },
      buildSeconds: { without: 11, with: 2 },
      phaseSeconds: { without: 11.5, with: 3 },
      wallSeconds: { without: 12, with: 3 },
      phaseParts: {
        without: [
          { part: 'build', seconds: 11 },
          { part: 'rest', seconds: 0.5 }
        ],
        with: [
          { part: 'build --help', seconds: 0.12 },
          { part: 'buildx inspect ∥ info', seconds: 0.15 },
          { part: 'login', seconds: 0.2 },
          { part: 'build', seconds: 2 },
          { part: 'image inspect', seconds: 0.08 },
          { part: 'rest', seconds: 0.45 }
        ]
      },
      speedUp: 5.5,
      phaseSpeedUp: 3.8,
      pass: { reusedPercent: true, speedUp: true, phaseSpeedUp: false }
    })
  })

  it('takes the fewest steps any cached build reused, and each step’s worst outcome', () => {
    const unlucky = run('with', 2)
    unlucky.steps = unlucky.steps.map((step) =>
      step.name === COMPILE ? { ...step, cached: false, seconds: 8 } : step
    )
    const figures = cacheFigures([run('without', 12), run('with', 2), unlucky])
    expect(figures.steps.reused).toBe(4)
    expect(figures.steps.list.find((step) => step.name === COMPILE)?.withCache).toBe('ran')
  })

  it('reports a step BuildKit showed only in the export of some build', () => {
    const late = { ...run('with', 2), steps: parseBuildSteps(WITH_LOG_LATE) }
    const figures = cacheFigures([run('without', 12), run('with', 2), late])
    expect(figures.steps.reused).toBe(5)
    expect(figures.steps.list.find((step) => step.name === OUT)?.withCache).toBe('export only')
  })

  it('misses the targets it does not reach', () => {
    const redone = { ...run('with', 3), steps: parseBuildSteps(WITHOUT_LOG) }
    expect(cacheFigures([run('without', 12), redone]).pass).toEqual({
      reusedPercent: false,
      speedUp: false,
      phaseSpeedUp: false
    })
  })

  it('needs both kinds of build', () => {
    expect(() => cacheFigures([run('with', 1)])).toThrow(
      'need at least one build without and one with the cache'
    )
  })
})

function cacheResults(runs: CacheRun[]): CacheResults {
  return {
    ...cacheRunSetup(runs.length / 2),
    figures: cacheFigures(runs),
    runs
  }
}

describe('cacheSummaryRows', () => {
  it('gives the main bench table its rows, with when and where they were measured', () => {
    const results = cacheResults([run('without', 11, 11.8), run('with', 2, 2.8)])
    expect(cacheSummaryRows(cacheForResults(results))).toEqual([
      [
        'Fresh-runner rebuild (`npm run bench:cache`, 2026-11-29, containerd engine, median of 1; bench/CACHE.md)',
        '',
        '',
        ''
      ],
      ['  `docker build` without / with the registry cache', '11.00 s / 2.00 s', '', ''],
      ['  Speed-up of `docker build`', '5.5×', '≥ 5×', 'PASS'],
      ['  Build image phase without / with the registry cache', '11.80 s / 2.80 s', '', ''],
      ['  Speed-up of the Build image phase', '4.2×', '≥ 5×', 'MISS'],
      ['  Steps reused (BuildKit CACHED, or provably not run)', '5 of 6 (83.3 %)', '≥ 80 %', 'PASS']
    ])
  })

  it('says how to measure them when bench:cache never ran', () => {
    expect(cacheSummaryRows(undefined)).toEqual([
      ['Fresh-runner rebuild', 'not measured: run `npm run bench:cache`', '', '']
    ])
  })

  it('keeps the figures and leaves the runs out of bench/results.json', () => {
    const results = cacheResults([run('without', 11), run('with', 2)])
    expect(cacheForResults(results)).toEqual({
      config: results.config,
      meta: results.meta,
      figures: results.figures
    })
  })
})

describe('renderCache', () => {
  it('puts the figures, the verdicts, each step’s outcome and the phase’s parts in tables', () => {
    const page = renderCache(cacheResults([run('without', 11), run('with', 2)]))
    expect(page).toContain('| `docker build` (s) | 11.00 | 2.00 | | |')
    expect(page).toContain('| Build image phase (s) | 11.50 | 3.00 | | |')
    expect(page).toContain('| Speed-up of `docker build` | | 5.5× | ≥ 5× | PASS |')
    expect(page).toContain('| Speed-up of the Build image phase | | 3.8× | ≥ 5× | MISS |')
    expect(page).toContain(
      'Per build (seconds of `docker build`): without the cache 11.00; with it 2.00.'
    )
    expect(page).toContain('| Steps reused | | 5 of 6 (83.3 %) | ≥ 80 % | PASS |')
    expect(page).toContain(
      `| \`${FROM}\` | 1.5 | no: resolved the image manifest only (no layer fetched); not CACHED |`
    )
    expect(page).toContain(`| \`${COMPILE}\` | 8.4 | yes: CACHED |`)
    expect(page).toContain('| `docker login` | - | 0.20 |')
    expect(page).toContain('| `docker buildx inspect` ∥ `docker info` | - | 0.15 |')
    expect(page).toContain('| `docker build` | 11.00 | 2.00 |')
    expect(page).toContain('| rest (not docker) | 0.50 | 0.45 |')
    expect(page).toContain('| whole phase | 11.50 | 3.00 |')
    const parts = page.slice(page.indexOf('| Part |')).split('\n').slice(2, -1)
    expect(parts.map((line) => line.split(' | ')[0])).toEqual([
      '| `docker build --help`',
      '| `docker buildx inspect` ∥ `docker info`',
      '| `docker login`',
      '| `docker build`',
      '| `docker image inspect`',
      '| rest (not docker)',
      '| whole phase'
    ])
  })
})
