// Types of bench/cache-figures.mjs (plain JavaScript, so `node bench/cache.mjs` runs it without a
// build step); the unit tests import it through these. They also describe bench/cache-results.json.
import type { DockerCall } from './logs.mjs'

/** Issue 13's targets: percent of steps reused, times faster. */
export declare const CACHE_TARGET: { reusedPercent: number; speedUp: number }

/** A Dockerfile step of a BuildKit build, as its plain progress log names it. */
export interface BuildStep {
  name: string
  cached: boolean
  /** It fetched image layers (a FROM that pulled). */
  fetched: boolean
  /** It first appeared once the export had begun (the exporter fetching its cached layer). */
  afterExport: boolean
  /** Its last `DONE` time; null when it never finished (cached, or not run). */
  seconds: number | null
}
/** What a build with the cache did with a step; `cached`, `not started`, `export only` are reuse. */
export type StepOutcome = 'cached' | 'not started' | 'export only' | 'manifest only' | 'ran'
/** One measured build on a fresh engine. */
export interface CacheRun {
  variant: 'without' | 'with'
  /** The `docker build` call. */
  buildSeconds: number
  /** The job summary's Build image phase. */
  phaseSeconds: number
  wallSeconds: number
  /** The docker calls of the Build image phase (epoch milliseconds). */
  dockerCalls: DockerCall[]
  steps: BuildStep[]
}
/** A part of the Build image phase: docker calls (`a ∥ b` when at once), or `rest`. */
export interface PhasePart {
  part: string
  seconds: number
}
export interface CacheFigures {
  steps: {
    total: number
    reused: number
    reusedPercent: number
    /** Every step of the build without the cache, its median time there, its worst outcome with. */
    list: { name: string; secondsWithout: number; withCache: StepOutcome }[]
  }
  buildSeconds: { without: number; with: number }
  phaseSeconds: { without: number; with: number }
  wallSeconds: { without: number; with: number }
  phaseParts: { without: PhasePart[]; with: PhasePart[] }
  speedUp: number
  /** The same for the job summary's Build image phase. */
  phaseSpeedUp: number
  pass: { reusedPercent: boolean; speedUp: boolean; phaseSpeedUp: boolean }
}
/** bench/cache-results.json */
export interface CacheResults {
  config: {
    engine: string
    runs: number
    baseImage: string
    workRounds: number
    toolchainLayers: number
    toolchainLayerMB: number
    payloadMB: number
  }
  meta: { date: string; engine: string; cpus: number }
  figures: CacheFigures
  runs: CacheRun[]
}
/** What bench/results.json keeps of it, for the main bench table. */
export type BenchCache = Omit<CacheResults, 'runs'>

export declare function parseBuildSteps(log: string): BuildStep[]
export declare function phaseSeconds(summary: string, phase: string): number
export declare function stepOutcome(step: BuildStep | undefined): StepOutcome
export declare function isReused(outcome: StepOutcome): boolean
export declare function reusedSteps(withoutCache: BuildStep[], withCache: BuildStep[]): string[]
export declare function phaseDockerCalls(
  actionLog: string,
  calls: DockerCall[],
  phase: string
): DockerCall[]
export declare function phaseParts(runs: CacheRun[]): PhasePart[]
export declare function cacheFigures(runs: CacheRun[]): CacheFigures
export declare function cacheForResults(results: CacheResults): BenchCache
export declare function cacheSummaryRows(cache: BenchCache | undefined): string[][]
export declare function renderCache(results: CacheResults): string
