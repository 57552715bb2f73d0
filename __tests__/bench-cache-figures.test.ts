/**
 * bench/cache-figures.mjs: the fresh-runner cache figures, from BuildKit plain progress logs and
 * job summaries worked out by hand.
 */
import { describe, expect, it } from '@jest/globals'
import {
  cacheFigures,
  parseBuildSteps,
  phaseSeconds,
  renderCache,
  reusedSteps,
  type CacheResults,
  type CacheRun
} from '../bench/cache-figures.mjs'

const DIGEST = `sha256:${'ab'.repeat(32)}`
const FROM = '[toolchain 1/1] FROM 123456789012.dkr.ecr.us-east-1.amazonaws.com/bench-toolchain:x'
const RUNTIME = '[stage-1 1/3] COPY payload/runtime.bin /opt/runtime.bin'
const ASSETS = '[stage-1 2/3] COPY payload/assets.bin /opt/assets.bin'
const BOOTSTRAP = '[stage-1 3/3] COPY --from=toolchain /out/bootstrap /var/runtime/bootstrap'

const WITHOUT_LOG = [
  '#0 building with "default" instance using docker driver',
  '#1 [internal] load build definition from Dockerfile',
  '#1 DONE 0.0s',
  '#2 [auth] bench-toolchain:pull token for 123456789012.dkr.ecr.us-east-1.amazonaws.com',
  '#2 DONE 0.0s',
  `#3 ${FROM}@${DIGEST}`,
  '#3 resolve 123456789012.dkr.ecr.us-east-1.amazonaws.com/bench-toolchain:x done',
  '#4 [internal] load build context',
  '#4 DONE 0.3s',
  `#5 ${RUNTIME}`,
  '#5 DONE 0.2s',
  `#3 sha256:${'cd'.repeat(32)} 67.11MB / 67.11MB 1.2s done`,
  `#3 extracting sha256:${'cd'.repeat(32)}`,
  `#3 extracting sha256:${'cd'.repeat(32)} 0.5s done`,
  '#3 DONE 6.1s',
  `#6 ${ASSETS}`,
  '#6 DONE 0.2s',
  `#7 ${BOOTSTRAP}`,
  '#7 DONE 0.1s',
  '#8 exporting to image',
  '#8 DONE 1.0s'
].join('\n')

const WITH_LOG = [
  '#1 [internal] load build definition from Dockerfile',
  '#1 DONE 0.0s',
  `#2 ${FROM}@${DIGEST}`,
  '#2 resolve 123456789012.dkr.ecr.us-east-1.amazonaws.com/bench-toolchain:x done',
  '#2 DONE 0.0s',
  '#3 importing cache manifest from 123456789012.dkr.ecr.us-east-1.amazonaws.com/svc:oci-stack-deploy-cache',
  '#3 DONE 0.1s',
  `#4 ${RUNTIME}`,
  '#4 CACHED',
  `#5 ${ASSETS}`,
  '#5 CACHED',
  `#6 ${BOOTSTRAP}`,
  '#6 CACHED',
  '#7 exporting to image',
  '#7 DONE 0.4s'
].join('\n')

const summary = (seconds: string): string =>
  `<table><tr><td>Preflight checks</td><td>0.2</td></tr><tr><td>Build image</td><td>${seconds}</td></tr></table>`

describe('parseBuildSteps', () => {
  it('takes the Dockerfile steps in order, digests dropped, with whether BuildKit cached them', () => {
    expect(parseBuildSteps(WITHOUT_LOG)).toEqual([
      { name: FROM, cached: false, fetched: true },
      { name: RUNTIME, cached: false, fetched: false },
      { name: ASSETS, cached: false, fetched: false },
      { name: BOOTSTRAP, cached: false, fetched: false }
    ])
    expect(parseBuildSteps(WITH_LOG)).toEqual([
      { name: FROM, cached: false, fetched: false },
      { name: RUNTIME, cached: true, fetched: false },
      { name: ASSETS, cached: true, fetched: false },
      { name: BOOTSTRAP, cached: true, fetched: false }
    ])
  })

  it('finds no steps in a legacy builder log', () => {
    expect(parseBuildSteps('Step 1/5 : FROM scratch\n ---> Using cache\n')).toEqual([])
  })
})

describe('reusedSteps', () => {
  const without = parseBuildSteps(WITHOUT_LOG)

  it('counts CACHED steps and a FROM that fetched no layer (only its manifest was read)', () => {
    expect(reusedSteps(without, parseBuildSteps(WITH_LOG))).toEqual([
      FROM,
      RUNTIME,
      ASSETS,
      BOOTSTRAP
    ])
  })

  it('counts a FROM that pulled its layers, and a step run again, as not reused', () => {
    const withCache = parseBuildSteps(WITH_LOG).map((step) =>
      step.name === FROM ? { ...step, fetched: true } : step
    )
    withCache[2] = { name: ASSETS, cached: false, fetched: false }
    expect(reusedSteps(without, withCache)).toEqual([RUNTIME, BOOTSTRAP])
  })

  it('counts a step the cached build never started as reused', () => {
    expect(reusedSteps(without, parseBuildSteps(WITH_LOG).slice(1))).toEqual([
      FROM,
      RUNTIME,
      ASSETS,
      BOOTSTRAP
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

describe('cacheFigures', () => {
  const run = (variant: 'without' | 'with', buildSeconds: number): CacheRun => ({
    variant,
    buildSeconds,
    phaseSeconds: buildSeconds + 0.5,
    wallSeconds: buildSeconds + 1,
    steps: parseBuildSteps(variant === 'with' ? WITH_LOG : WITHOUT_LOG)
  })

  it('gives medians, the share of steps reused and the speed-up, against the targets', () => {
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
        total: 4,
        reused: 4,
        reusedPercent: 100,
        names: [FROM, RUNTIME, ASSETS, BOOTSTRAP],
        reusedNames: [FROM, RUNTIME, ASSETS, BOOTSTRAP]
      },
      buildSeconds: { without: 11, with: 2 },
      phaseSeconds: { without: 11.5, with: 2.5 },
      wallSeconds: { without: 12, with: 3 },
      speedUp: 5.5,
      phaseSpeedUp: 4.6,
      pass: { reusedPercent: true, speedUp: true }
    })
  })

  it('misses the targets it does not reach', () => {
    const redone = { ...run('with', 3), steps: parseBuildSteps(WITHOUT_LOG) }
    expect(cacheFigures([run('without', 12), redone]).pass).toEqual({
      reusedPercent: false,
      speedUp: false
    })
  })

  it('needs both kinds of build', () => {
    expect(() => cacheFigures([run('with', 1)])).toThrow(
      'need at least one build without and one with the cache'
    )
  })
})

describe('renderCache', () => {
  it('puts the figures and the verdicts in the table', () => {
    const runs = [run2('without', 11), run2('with', 2)]
    const results: CacheResults = {
      config: {
        engine: 'containerd',
        runs: 1,
        toolchainImage: 'bench-toolchain',
        toolchainLayers: 4,
        toolchainLayerMB: 64,
        payloadMB: 8
      },
      meta: { date: '2026-11-29', engine: 'dockerd 26.1.5', cpus: 2 },
      figures: cacheFigures(runs),
      runs
    }
    const page = renderCache(results)
    expect(page).toContain('| `docker build` (s) | 11.00 | 2.00 | | |')
    expect(page).toContain('| Build image phase (s) | 11.50 | 2.50 | | |')
    expect(page).toContain('| Speed-up of the build | | 5.5× | ≥ 5× | PASS |')
    expect(page).toContain('| Speed-up of the Build image phase | | 4.6× | | |')
    expect(page).toContain(
      'Per build (seconds of `docker build`): without the cache 11.00; with it 2.00.'
    )
    expect(page).toContain('| Steps reused | | 4 of 4 (100 %) | ≥ 80 % | PASS |')
    expect(page).toContain(`| \`${FROM}\` | yes |`)
    expect(page).toContain(`| \`${BOOTSTRAP}\` | yes |`)
  })

  function run2(variant: 'without' | 'with', buildSeconds: number): CacheRun {
    return {
      variant,
      buildSeconds,
      phaseSeconds: buildSeconds + 0.5,
      wallSeconds: buildSeconds,
      steps: parseBuildSteps(variant === 'with' ? WITH_LOG : WITHOUT_LOG)
    }
  }
})
