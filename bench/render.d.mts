// Types of bench/render.mjs, for the unit tests; Results is the shape of bench/results.json.
import type {
  Bundle,
  ColdStart,
  KindMedians,
  Round,
  RunKind,
  Summary,
  TARGET,
  TimelineEntry
} from './analysis.mjs'
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

export declare function table(
  header: readonly string[],
  rows: readonly (readonly string[])[]
): string
export declare function tally(list: readonly string[]): string
export declare function sequence(list: readonly string[]): string
export declare function summaryTable(results: Results): string
export declare function breakdownTable(medians: Record<RunKind, KindMedians>): string
export declare function perRunTable(rounds: readonly Round[]): string
export declare function timelineTable(entries: readonly TimelineEntry[]): string
export declare function renderResults(results: Results): { summary: string; markdown: string }
