/**
 * bench/analysis.mjs: the bench's arithmetic. An update run recorded as small log fixtures
 * (__fixtures__/bench/update-*) whose figures are worked out by hand: spawn at 0 ms, exit at
 * 6,000 ms, docker busy 1,900 ms, the stack held for 3,000 ms from the ExecuteChangeSet's answer at
 * 2,730 ms.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import type { ProxyLogEntry } from '../../bench/logs.mjs'
import {
  analyseRun,
  coldStartFigures,
  kindMedians,
  summarise,
  type ProxyRule,
  type Round,
  type RunFigures,
  type RunInput
} from '../../bench/analysis.mjs'

const fixture = (name: string): string =>
  readFileSync(join(process.cwd(), '__fixtures__', 'bench', name), 'utf8')

/** The recorded update run, as bench/run.mjs hands it to analyseRun. */
function updateRun(): RunInput {
  const run = JSON.parse(fixture('update-run.json')) as Pick<RunInput['run'], 'timing' | 'outputs'>
  return {
    label: 'run 1 update',
    run: { ...run, stdout: fixture('update-stdout.txt'), summary: fixture('update-summary.txt') },
    hold: 'UPDATE_IN_PROGRESS',
    holdSeconds: 3,
    rules: JSON.parse(fixture('update-rules.json')) as ProxyRule[],
    proxyLog: JSON.parse(fixture('update-proxy-log.json')) as ProxyLogEntry[],
    dockerLog: fixture('update-docker-log.txt'),
    registryLog: fixture('update-registry-log.txt')
  }
}

describe('analyseRun', () => {
  const figures = analyseRun(updateRun())

  it('splits the wall time into docker, the held status and the overhead', () => {
    expect(figures).toMatchObject({
      label: 'run 1 update',
      wall: 6000,
      firstLine: 200,
      docker: 1900,
      dockerOther: 400,
      hold: 3000,
      overhead: 1100
    })
  })

  it('counts each millisecond of the overhead once: AWS, the action’s registry reads, node', () => {
    // 6,001 one-millisecond slots: 1,900 docker + 3,000 held + these.
    expect(figures.split).toEqual({ aws: 260, registry: 10, startup: 250, node: 581 })
  })

  it('measures finish-to-return from the hold’s end to the exit', () => {
    expect(figures.release).toEqual({
      finishToReturn: 270,
      detectionLag: 90,
      tail: 180,
      describeStacks: 3,
      describeEvents: 3
    })
  })

  it('places the template upload inside the push window', () => {
    expect(figures.parallel).toEqual({
      putStart: 20,
      putEnd: 100,
      pushStart: 250,
      pushEnd: 750,
      manifestPut: 740,
      overlap: 80
    })
  })

  it('counts the AWS calls, the writes and the stack updates', () => {
    expect(figures.awsCalls).toBe(15)
    expect(figures.writes).toEqual(['PutObject', 'CreateChangeSet', 'ExecuteChangeSet'])
    expect(figures.stackUpdates).toBe(1)
    // The request logged before the spawn belongs to an earlier run.
    expect(figures.registry).toEqual({ blobUploads: 1, blobMounts: 1, manifestPuts: 1 })
  })

  it('reads the build log and the job summary’s Time table', () => {
    expect(figures).toMatchObject({ build: 1000, cached: 2, steps: 3 })
    expect(figures.phases).toEqual({
      'Preflight checks': 0.3,
      'Build image': 1.3,
      'Push image and upload template': 0.8,
      'Deploy stack': 3.5,
      Total: 6
    })
    expect(figures).toMatchObject({ replacedChangeSet: false, status: 'UPDATE_COMPLETE' })
  })

  it('lays out the timeline from the spawn with the idle time before each entry', () => {
    expect(figures.timeline.slice(0, 5)).toEqual([
      { at: 0, ms: 0, idle: 0, what: 'spawn node dist/index.js' },
      { at: 200, ms: 0, idle: 200, what: 'first log line' },
      { at: 250, ms: 20, idle: 50, what: 'DescribeStacks' },
      { at: 260, ms: 20, idle: 0, what: 'GetCallerIdentity' },
      { at: 300, ms: 100, idle: 20, what: 'docker version' }
    ])
    expect(figures.timeline.find((e) => e.what.startsWith('registry'))).toEqual({
      at: 1560,
      ms: 10,
      idle: 10,
      what: 'registry GET hello/manifests/b1-2'
    })
    expect(figures.timeline.slice(-4)).toEqual([
      { at: 5730, ms: 0, idle: 710, what: 'stack settles (hold ends)' },
      { at: 5800, ms: 20, idle: 70, what: 'DescribeStacks' },
      { at: 5820, ms: 10, idle: 0, what: 'DescribeStackEvents' },
      { at: 6000, ms: 0, idle: 170, what: 'exit' }
    ])
  })

  it('leaves out the release and the overlap of a run that deploys and pushes nothing', () => {
    const input = updateRun()
    const noop = analyseRun({ ...input, hold: undefined, rules: [], dockerLog: '' })
    expect(noop).toMatchObject({ hold: 0, docker: 0, overhead: 6000, release: undefined })
    expect(noop.parallel).toBeUndefined()
  })

  it('names the run when the hold never started', () => {
    expect(() => analyseRun({ ...updateRun(), rules: [{ id: 1 }] })).toThrow(
      'run 1 update: the hold never started (no ExecuteChangeSet?)'
    )
  })
})

describe('all runs', () => {
  it('takes the cold start’s medians and the first line of the first sample', () => {
    const sample = (first: number, node: number) => ({
      action: {
        first,
        exit: first + 10,
        code: 1,
        out: "::error::Input 'dockerfile' is required\n"
      },
      node: { first: node }
    })
    expect(coldStartFigures([sample(210, 60), sample(190, 50), sample(400, 70)])).toEqual({
      first: 210,
      exit: 220,
      nodeFirst: 60,
      line: "::error::Input 'dockerfile' is required"
    })
  })

  /** Three rounds of the fixture run, with the wall times and builds varied per round. */
  function rounds(): Round[] {
    const base = analyseRun(updateRun())
    return [6000, 8000, 7000].map((wall, i) => {
      const run = (extra: Partial<RunFigures>): RunFigures => ({ ...base, wall, ...extra })
      const noop = run({ release: undefined, parallel: undefined, writes: ['CreateChangeSet'] })
      return {
        first: run({}),
        update: run({}),
        noop: {
          ...noop,
          stackUpdates: 0,
          registry: { ...base.registry, blobUploads: i === 1 ? 2 : 0 }
        },
        warm: run({ build: 100 + i }),
        cold: run({ build: 9000, cached: 0 }),
        cacheFrom: run({ build: 150, cached: 2 }),
        pulled: run({ build: 140, cached: 2, pull: 300 + 10 * i })
      }
    })
  }

  it('takes the medians of each kind of run', () => {
    const m = kindMedians(rounds().map((r) => r.update))
    expect(m).toMatchObject({ wall: 7000, docker: 1900, own: 5100, overhead: 1100 })
    expect(m.release?.finishToReturn).toBe(270)
    expect(kindMedians(rounds().map((r) => r.noop)).release).toBeUndefined()
    expect(kindMedians(rounds().map((r) => r.pulled))).toMatchObject({ build: 140, pull: 310 })
  })

  it('summarises the no-op’s worst case, the call rate and the verdicts', () => {
    const summary = summarise({
      rounds: rounds(),
      coldStart: { first: 250, exit: 260, nodeFirst: 60, line: '' },
      bundle: { size: 3_000_001, all: 3_000_001, stale: [] },
      holdSeconds: 3
    })
    expect(summary.noop).toEqual({ blobUploads: 2, stackUpdates: 0, writes: 1 })
    expect(summary.parallel).toEqual({ deploys: 6, overlapped: 6 })
    expect(summary.pollRate).toBe(2)
    expect(summary.medians.warm.build).toBe(101)
    expect(summary.pass).toEqual({
      coldStart: true,
      bundle: false,
      firstOverhead: false,
      updateOverhead: false,
      firstFinishToReturn: true,
      updateFinishToReturn: true,
      noopOwn: false,
      noopBlobUploads: false,
      noopStackUpdates: true,
      uploadOverlapsPush: true,
      cacheFromReuses: true
    })
  })
})
