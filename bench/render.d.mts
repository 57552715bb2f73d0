// Types of bench/render.mjs, for the unit tests; Results is the shape of bench/results.json.
import type { Bundle, ColdStart, Round, Summary, TARGET } from './analysis.mjs'
import type { BenchCache } from './cache-figures.mjs'
import type { ReleaseFigures } from './release-figures.mjs'

export interface Results {
  config: { runs: number; holdSeconds: number; payloadMB: number }
  targets: typeof TARGET
  meta: {
    date: string
    machine: string
    engine: string
    git: string
    cpus: number
    loadMax: number
    load: string
  }
  bundle: Bundle
  coldStart: ColdStart
  summary: Summary
  rounds: Round[]
  /** The last `npm run bench:cache`'s figures; absent before its first run. */
  cache?: BenchCache
  /** The last `npm run bench:release` (bench/release-results.json); absent when it never ran. */
  release?: ReleaseFigures
}

export declare function summaryTable(results: Results): string
export declare function renderResults(results: Results): { summary: string; markdown: string }
