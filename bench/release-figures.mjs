// Pure figures of `npm run bench:release` (bench/release.mjs): the summary of its rounds, and the
// rows `npm run bench` adds to the Summary table of bench/RESULTS.md. No I/O here, so the unit
// tests (__tests__/bench/release-figures.test.ts) feed it rounds directly.
import { median } from './numbers.mjs'

/** Issue 14's targets: a two-region fan-out under 1.5× one region; no blob uploaded into a holder. */
export const RELEASE_TARGET = { fanOutRatio: 1.5, heldUploads: 0 }

/**
 * The medians and verdicts of the rounds. A promote into a registry that already holds the image
 * passes only when that registry's own log shows no blob upload AND the action reported copying
 * none (a missing report counts as a miss, never as zero).
 */
export function summariseRelease(rounds) {
  const one = median(rounds.map((r) => r.oneRegion.wall))
  const two = median(rounds.map((r) => r.twoRegions.wall))
  const ratio = two / one
  const held = rounds.flatMap((r) => [r.regionAgain, r.accountAgain])
  const heldUploads = Math.max(...held.map((h) => h.registry.blobUploads))
  const reportedCopied = Math.max(...held.map((h) => h.reported?.copied ?? NaN))
  return {
    oneRegion: one,
    twoRegions: two,
    ratio,
    fanOutPass: ratio < RELEASE_TARGET.fanOutRatio,
    heldUploads,
    heldReportedCopied: reportedCopied,
    heldPass: heldUploads === RELEASE_TARGET.heldUploads && reportedCopied === 0
  }
}

/** What bench/results.json keeps of bench/release-results.json. */
export function releaseForResults(json) {
  return { config: json.config, meta: { date: json.meta.date }, summary: json.summary }
}

const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`
const verdict = (pass) => (pass ? 'PASS' : 'MISS')

/** The Summary table's release rows: [figure, value, target, result]. */
export function releaseSummaryRows(release) {
  if (release === undefined) {
    return [['Release pipelines', 'not measured: run `npm run bench:release`', '', '']]
  }
  const { config, meta, summary } = release
  return [
    [
      `Release pipelines (\`npm run bench:release\`, ${meta.date}, median of ${config.runs}; bench/RELEASE.md)`,
      '',
      '',
      ''
    ],
    [
      '  Promote a pushed image: one region / two regions side by side',
      `${seconds(summary.oneRegion)} / ${seconds(summary.twoRegions)}`,
      '',
      ''
    ],
    [
      '  Two-region fan-out ÷ one region',
      `${summary.ratio.toFixed(2)}×`,
      `< ${RELEASE_TARGET.fanOutRatio}×`,
      verdict(summary.fanOutPass)
    ],
    [
      '  Promote into a registry that holds the image: blob uploads (max)',
      `${summary.heldUploads}`,
      `${RELEASE_TARGET.heldUploads}`,
      verdict(summary.heldPass)
    ]
  ]
}
