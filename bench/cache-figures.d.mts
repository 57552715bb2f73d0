// Types of bench/cache-figures.mjs (plain JavaScript, so `node bench/cache.mjs` runs it without a
// build step); the unit tests import it through these. They also describe bench/cache-results.json.

/** Issue 13's targets: percent of steps reused, times faster. */
export declare const CACHE_TARGET: { reusedPercent: number; speedUp: number }

/** A Dockerfile step of a BuildKit build, as its plain progress log names it. */
export interface BuildStep {
  name: string
  cached: boolean
  /** It fetched image layers (a FROM that pulled). */
  fetched: boolean
}
/** One measured build on a fresh engine. */
export interface CacheRun {
  variant: 'without' | 'with'
  /** The `docker build` call. */
  buildSeconds: number
  /** The job summary's Build image phase. */
  phaseSeconds: number
  wallSeconds: number
  steps: BuildStep[]
}
export interface CacheFigures {
  steps: {
    total: number
    reused: number
    reusedPercent: number
    names: string[]
    reusedNames: string[]
  }
  buildSeconds: { without: number; with: number }
  phaseSeconds: { without: number; with: number }
  wallSeconds: { without: number; with: number }
  speedUp: number
  /** The same for the job summary's Build image phase. */
  phaseSpeedUp: number
  pass: { reusedPercent: boolean; speedUp: boolean }
}
/** bench/cache-results.json */
export interface CacheResults {
  config: {
    engine: string
    runs: number
    toolchainImage: string
    toolchainLayers: number
    toolchainLayerMB: number
    payloadMB: number
  }
  meta: { date: string; engine: string; cpus: number }
  figures: CacheFigures
  runs: CacheRun[]
}

export declare function parseBuildSteps(log: string): BuildStep[]
export declare function phaseSeconds(summary: string, phase: string): number
export declare function reusedSteps(withoutCache: BuildStep[], withCache: BuildStep[]): string[]
export declare function median(values: number[]): number
export declare function cacheFigures(runs: CacheRun[]): CacheFigures
export declare function renderCache(results: CacheResults): string
