import { describe, expect, it } from '@jest/globals'
import {
  RELEASE_TARGET,
  releaseForResults,
  releaseSummaryRows,
  summariseRelease,
  type ReleaseRound
} from '../../bench/release-figures.mjs'

function round(
  oneRegion: number,
  twoRegions: number,
  held: { uploads?: number; copied?: number | undefined } = {}
): ReleaseRound {
  const promote = {
    registry: { blobUploads: held.uploads ?? 0 },
    ...('copied' in held && held.copied === undefined
      ? {}
      : { reported: { copied: held.copied ?? 0 } })
  }
  return {
    oneRegion: { wall: oneRegion },
    twoRegions: { wall: twoRegions },
    regionAgain: promote,
    accountAgain: { registry: { blobUploads: 0 }, reported: { copied: 0 } }
  }
}

describe('summariseRelease', () => {
  it('takes the medians of both deploys and passes a fan-out under 1.5× one region', () => {
    const summary = summariseRelease([round(4000, 5000), round(4400, 5200), round(4200, 9000)])
    expect(summary).toMatchObject({ oneRegion: 4200, twoRegions: 5200, fanOutPass: true })
    expect(summary.ratio).toBeCloseTo(5200 / 4200, 6)
  })

  it('misses a fan-out at 1.5× one region or more', () => {
    const summary = summariseRelease([round(4000, 6000)])
    expect(summary.ratio).toBe(RELEASE_TARGET.fanOutRatio)
    expect(summary.fanOutPass).toBe(false)
  })

  it('misses the held promote when the registry log shows one blob upload', () => {
    const summary = summariseRelease([round(4000, 5000), round(4000, 5000, { uploads: 1 })])
    expect(summary).toMatchObject({ heldUploads: 1, heldPass: false })
  })

  it('misses the held promote when the action reports a copied blob', () => {
    expect(summariseRelease([round(4000, 5000, { copied: 2 })]).heldPass).toBe(false)
  })

  it('never counts a missing copy report as zero copies', () => {
    const summary = summariseRelease([round(4000, 5000, { copied: undefined })])
    expect(summary.heldReportedCopied).toBeNaN()
    expect(summary.heldPass).toBe(false)
  })

  it('passes when neither the registry nor the action saw an upload', () => {
    expect(summariseRelease([round(4000, 5000)])).toMatchObject({
      heldUploads: 0,
      heldReportedCopied: 0,
      heldPass: true
    })
  })
})

describe('releaseSummaryRows', () => {
  it('says how to measure when bench:release never ran', () => {
    expect(releaseSummaryRows(undefined)).toEqual([
      ['Release pipelines', 'not measured: run `npm run bench:release`', '', '']
    ])
  })

  it('gives the times, the ratio and the held-promote uploads with their targets', () => {
    const release = releaseForResults({
      config: { runs: 3 },
      meta: { date: '2026-11-29T11:54:16Z' },
      summary: summariseRelease([round(4327, 5137)])
    })
    expect(releaseSummaryRows(release)).toEqual([
      [
        'Release pipelines (`npm run bench:release`, 2026-11-29T11:54:16Z, median of 3; bench/RELEASE.md)',
        '',
        '',
        ''
      ],
      [
        '  Promote a pushed image: one region / two regions side by side',
        '4.33 s / 5.14 s',
        '',
        ''
      ],
      ['  Two-region fan-out ÷ one region', '1.19×', '< 1.5×', 'PASS'],
      ['  Promote into a registry that holds the image: blob uploads (max)', '0', '0', 'PASS']
    ])
  })
})
