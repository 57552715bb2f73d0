// Types of bench/numbers.mjs (plain JavaScript, run without a build step).

/** A [start, end] interval in epoch milliseconds. */
export type Interval = [number, number]

export declare function median(values: readonly unknown[]): number
export declare function covered(intervals: readonly Interval[]): number
export declare function overlapMs(a: Interval, b: Interval): number
