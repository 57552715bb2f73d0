// Types of bench/tables.mjs (plain JavaScript, run without a build step), for the unit tests and
// bench/render.mjs.
import type { KindMedians, Round, RunKind, TimelineEntry } from './analysis.mjs'

export declare function count(n: number | undefined): string
export declare function cachedSteps(build: { cached: number; steps: number }): string
export declare function table(
  header: readonly string[],
  rows: readonly (readonly string[])[]
): string
export declare function tally(list: readonly string[]): string
export declare function sequence(list: readonly string[]): string
export declare function breakdownTable(medians: Record<RunKind, KindMedians>): string
export declare function waitingTable(medians: Record<RunKind, KindMedians>): string
export declare function parallelTable(rounds: readonly Round[]): string
export declare function perRunTable(rounds: readonly Round[]): string
export declare function buildsTable(rounds: readonly Round[]): string
export declare function timelineTable(entries: readonly TimelineEntry[]): string
