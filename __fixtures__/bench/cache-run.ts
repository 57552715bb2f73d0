/** How the bench:cache fixtures were set up, as bench/results.json and cache-results.json keep it. */
import type { CacheResults } from '../../bench/cache-figures.mjs'

/** The settings and machine of a bench:cache run of `runs` builds of each kind. */
export function cacheRunSetup(runs: number): Pick<CacheResults, 'config' | 'meta'> {
  return {
    config: {
      engine: 'containerd',
      runs,
      baseImage: 'bench-base',
      workRounds: 6,
      toolchainLayers: 2,
      toolchainLayerMB: 32,
      payloadMB: 8
    },
    meta: { date: '2026-11-29', engine: 'dockerd 26.1.5', cpus: 2 }
  }
}
