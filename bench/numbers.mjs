// Interval and median arithmetic the bench's figures share (analysis.mjs, timing-figures.mjs,
// cache-figures.mjs, release-figures.mjs): pure, typed by numbers.d.mts.

/** The median of the finite numbers in `values` (NaN when there are none). */
export function median(values) {
  const list = values
    .filter((v) => typeof v === 'number' && Number.isFinite(v))
    .sort((a, b) => a - b)
  if (list.length === 0) return NaN
  const mid = Math.floor(list.length / 2)
  return list.length % 2 ? list[mid] : (list[mid - 1] + list[mid]) / 2
}

/** Milliseconds covered by a list of [start, end] intervals (overlaps counted once). */
export function covered(intervals) {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0])
  let total = 0
  let end = -Infinity
  for (const [a, b] of sorted) {
    if (b <= end) continue
    total += b - Math.max(a, end)
    end = b
  }
  return total
}

/** Milliseconds two [start, end] intervals share. */
export function overlapMs([a1, b1], [a2, b2]) {
  return Math.max(0, Math.min(b1, b2) - Math.max(a1, a2))
}
