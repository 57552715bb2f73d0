// Types of bench/release-figures.mjs (plain JavaScript, run by node without a build step); the
// unit tests import it through these.

/** Issue 14's targets. */
export declare const RELEASE_TARGET: { fanOutRatio: number; heldUploads: number }

/** A promote into a registry that already held the image, as counted in one round. */
export interface HeldPromote {
  /** Counted in the target registry's own log. */
  registry: { blobUploads: number }
  /** The action's "Copied …" line; undefined when it printed none. */
  reported?: { copied: number }
}

/** One round of bench/release.mjs (only the fields the summary reads). */
export interface ReleaseRound {
  oneRegion: { wall: number }
  twoRegions: { wall: number }
  regionAgain: HeldPromote
  accountAgain: HeldPromote
}

export interface ReleaseSummary {
  oneRegion: number
  twoRegions: number
  ratio: number
  fanOutPass: boolean
  heldUploads: number
  heldReportedCopied: number
  heldPass: boolean
}

export interface ReleaseFigures {
  config: { runs: number }
  meta: { date: string }
  summary: ReleaseSummary
}

export function summariseRelease(rounds: ReleaseRound[]): ReleaseSummary
export function releaseForResults(json: ReleaseFigures): ReleaseFigures
export function releaseSummaryRows(release: ReleaseFigures | undefined): string[][]
