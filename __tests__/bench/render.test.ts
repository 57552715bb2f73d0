/**
 * bench/render.mjs: bench/results.json → bench/RESULTS.md. The fixture __fixtures__/bench/results.json
 * is one round of the analysis fixture's update run (wall 6 s, docker 1.9 s, held 3 s).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import type { BenchCache } from '../../bench/cache-figures.mjs'
import { cacheRunSetup } from '../../__fixtures__/bench/cache-run.js'
import { renderResults, summaryTable, type Results } from '../../bench/render.mjs'
import {
  breakdownTable,
  perRunTable,
  sequence,
  table,
  tally,
  timelineTable
} from '../../bench/tables.mjs'

const results = (): Results =>
  JSON.parse(
    readFileSync(join(process.cwd(), '__fixtures__', 'bench', 'results.json'), 'utf8')
  ) as Results

/** The cells after the first of the table row whose first cell is `first`. */
function cellsAfter(markdownTable: string, first: string): string[] | undefined {
  return markdownTable
    .split('\n')
    .map((line) =>
      line
        .slice(2, -2)
        .split(' | ')
        .map((cell) => cell.trim())
    )
    .find((cells) => cells[0] === first)
    ?.slice(1)
}

/** What bench/results.json keeps of a bench:cache run. */
const CACHE: BenchCache = {
  ...cacheRunSetup(3),
  figures: {
    steps: { total: 6, reused: 5, reusedPercent: 83.3, list: [] },
    buildSeconds: { without: 16.06, with: 1.56 },
    phaseSeconds: { without: 16.6, with: 3.4 },
    wallSeconds: { without: 17.3, with: 4.1 },
    phaseParts: { without: [], with: [] },
    speedUp: 10.3,
    phaseSpeedUp: 4.9,
    pass: { reusedPercent: true, speedUp: true, phaseSpeedUp: false }
  }
}

describe('cells', () => {
  it('pads the columns and escapes a pipe in a cell', () => {
    expect(
      table(
        ['Run', 'Wall'],
        [
          ['first', '1.00'],
          ['a|b', '12.50']
        ]
      )
    ).toBe(
      ['| Run   | Wall  |', '| ----- | ----- |', '| first | 1.00  |', '| a\\|b  | 12.50 |'].join(
        '\n'
      )
    )
  })

  it('tallies a list in order of first occurrence', () => {
    expect(tally(['DeleteChangeSet', 'CreateChangeSet', 'DeleteChangeSet'])).toBe(
      'DeleteChangeSet ×2, CreateChangeSet'
    )
    expect(tally([])).toBe('none')
  })

  it('collapses repeats in a row only', () => {
    expect(sequence(['A', 'B', 'B', 'B', 'A'])).toBe('A, B ×3, A')
  })
})

describe('tables', () => {
  it('gives each summary figure its target and verdict', () => {
    const summary = summaryTable(results())
    expect(summary.split('\n')[0]).toMatch(/^\| Figure +\| Median of 1 +\| Target +\| Result \|$/)
    expect(cellsAfter(summary, 'Update: overhead (wall − docker − CloudFormation)')).toEqual([
      '1.10 s',
      '≤ 1 s',
      'MISS'
    ])
    expect(cellsAfter(summary, 'Finish-to-return, update')).toEqual(['0.27 s', '≤ 2 s', 'PASS'])
    expect(cellsAfter(summary, 'No-op redeploy: AWS write calls')).toEqual([
      '3 (DeleteChangeSet ×2, CreateChangeSet)',
      '',
      ''
    ])
    expect(cellsAfter(summary, 'Rebuild, no local cache, cache-from = pushed tag')).toEqual([
      '0.15 s (0/3 cached)',
      'reuses layers',
      'MISS'
    ])
  })

  it('carries the release figures of the last bench:release with their targets', () => {
    const summary = summaryTable({
      ...results(),
      cache: CACHE,
      release: {
        config: { runs: 3 },
        meta: { date: '2026-11-29T11:54:16Z' },
        summary: {
          oneRegion: 4000,
          twoRegions: 6400,
          ratio: 1.6,
          fanOutPass: false,
          heldUploads: 0,
          heldReportedCopied: 0,
          heldPass: true
        }
      }
    })
    expect(cellsAfter(summary, 'Two-region fan-out ÷ one region')).toEqual([
      '1.60×',
      '< 1.5×',
      'MISS'
    ])
    expect(
      cellsAfter(summary, 'Promote into a registry that holds the image: blob uploads (max)')
    ).toEqual(['0', '0', 'PASS'])
  })

  it('ends with the fresh-runner cache rows of the last bench:cache, saying when and on which engine, then the release rows', () => {
    const summary = summaryTable({ ...results(), cache: CACHE })
    const lines = summary.split('\n')
    const figure = (line: string) => line.split(' | ')[0]?.slice(2).trim()
    expect(figure(lines.at(-1) ?? '')).toBe('Release pipelines')
    expect(lines.slice(-7, -1).map(figure)).toEqual([
      'Fresh-runner rebuild (`npm run bench:cache`, 2026-11-29, containerd engine, median of 3; bench/CACHE.md)',
      '`docker build` without / with the registry cache',
      'Speed-up of `docker build`',
      'Build image phase without / with the registry cache',
      'Speed-up of the Build image phase',
      'Steps reused (BuildKit CACHED, or provably not run)'
    ])
    expect(cellsAfter(summary, 'Speed-up of `docker build`')).toEqual(['10.3×', '≥ 5×', 'PASS'])
    expect(cellsAfter(summary, 'Speed-up of the Build image phase')).toEqual([
      '4.9×',
      '≥ 5×',
      'MISS'
    ])
    expect(cellsAfter(summary, 'Steps reused (BuildKit CACHED, or provably not run)')).toEqual([
      '5 of 6 (83.3 %)',
      '≥ 80 %',
      'PASS'
    ])
  })

  it('says how to get the fresh-runner figures when bench:cache never ran', () => {
    expect(cellsAfter(summaryTable(results()), 'Fresh-runner rebuild')).toEqual([
      'not measured: run `npm run bench:cache`',
      '',
      ''
    ])
  })

  it('splits the overhead in seconds, one column per share', () => {
    expect(cellsAfter(breakdownTable(results().summary.medians), 'update')).toEqual([
      '6.00',
      '1.90',
      '0.40',
      '3.00',
      '1.10',
      '0.26',
      '0.01',
      '0.25',
      '0.58'
    ])
  })

  it('shows every run with the job summary’s phases, `-` where a phase did not run', () => {
    const perRun = perRunTable(results().rounds)
    expect(perRun.split('\n')[0]).toContain(
      '| Preflight checks | Build image | Push image and upload template | Deploy stack | Total |'
    )
    expect(cellsAfter(perRun, 'run 1 no-op redeploy')).toEqual([
      '6.00',
      '1.90',
      '4.10',
      '-',
      '15',
      'DeleteChangeSet ×2, CreateChangeSet',
      '0 / 0',
      '0.3',
      '0.2',
      '-',
      '-',
      '0.6'
    ])
  })

  it('rounds the timeline to milliseconds and leaves idle time under 1 ms blank', () => {
    const timeline = timelineTable([
      { at: 0, ms: 0, idle: 0, what: 'spawn node dist/index.js' },
      { at: 250.4, ms: 19.6, idle: 0.4, what: 'DescribeStacks' },
      { at: 3000, ms: 10, idle: 269.5, what: 'DescribeStacks (held)' }
    ])
    expect(cellsAfter(timeline, '250')).toEqual(['20', '', 'DescribeStacks'])
    expect(cellsAfter(timeline, '3000')).toEqual(['10', '270', 'DescribeStacks (held)'])
  })

  it('writes n/a for a figure that could not be measured (null in the JSON)', () => {
    const r = results()
    const update = { ...r.summary.medians.update, overhead: null as unknown as number }
    const medians = { ...r.summary.medians, update }
    expect(cellsAfter(breakdownTable(medians), 'update')?.[4]).toBe('n/a')
  })
})

describe('the page', () => {
  it('puts the sections in order under a header saying how it was made', () => {
    const { markdown, summary } = renderResults(results())
    expect(markdown.split('\n').slice(0, 7)).toEqual([
      '# Benchmark results',
      '',
      'Written by `npm run bench` (bench/run.mjs measures, bench/render.mjs writes this page from',
      'bench/results.json; how each figure is measured: bench/README.md).',
      '2026-01-01T00:10:00Z; 1 run per figure, medians; simulated CloudFormation operation',
      'time 3 s per deploy; image: two 8 MB payload layers.',
      'Machine: 2 × Test CPU, 8 GiB, linux 6.1, Node v20.20.2, docker CLI 28.2.2 / engine 20.10.24; 1-minute load average 0.40 at the start, 0.50 at the end (2 CPUs). Source: git abc1234.'
    ])
    expect(markdown.match(/^## .*/gm)).toEqual([
      '## Summary',
      '## Where the overhead goes (medians, seconds)',
      '## Waiting for CloudFormation (medians)',
      '## Template upload ∥ image push',
      '## Build cache',
      '## AWS calls of the last round, in order',
      '## Timeline of the last update',
      '## Per run'
    ])
    expect(markdown).toContain(`## Summary\n\n${summary}\n`)
    expect(markdown).toContain(
      '- run 1 no-op redeploy (15): DescribeStacks, GetCallerIdentity, GetAuthorizationToken,'
    )
    expect(markdown).toContain(
      'build and the push (version, build --help, image inspect ×2, login, tag in an update)'
    )
    expect(markdown).toContain('moto keeps executed change\nsets, CloudFormation removes them')
    expect(markdown.endsWith(' |\n')).toBe(true)
  })

  it('warns when the machine was busy and when dist/ lags behind src/', () => {
    const r = results()
    const page = renderResults({
      ...r,
      meta: { ...r.meta, loadMax: 1.5 },
      bundle: { ...r.bundle, stale: ['src/main.ts'] }
    }).markdown
    expect(page).toContain(
      '\n> **src/main.ts changed since the last commit but dist/ did not**: these figures measure the committed bundle'
    )
    expect(page).toContain(
      '\n> The machine was busy (1-minute load average 0.40 at the start, 0.50 at the end (2 CPUs)): other processes'
    )
    expect(renderResults(r).markdown).not.toContain('> ')
  })

  it('is what bench/RESULTS.md holds for bench/results.json (re-render: node bench/render.mjs)', () => {
    const json = JSON.parse(
      readFileSync(join(process.cwd(), 'bench', 'results.json'), 'utf8')
    ) as Results
    expect(renderResults(json).markdown).toBe(
      readFileSync(join(process.cwd(), 'bench', 'RESULTS.md'), 'utf8')
    )
  })
})
