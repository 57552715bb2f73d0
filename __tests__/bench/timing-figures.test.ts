import { describe, expect, it } from '@jest/globals'
import { medians, timingRows, timingRun, type TimingModel } from '../../bench/timing-figures.mjs'

const MODEL: TimingModel = { changeSetPending: 0.5, changeSet: 5, configure: 4, stabilise: 5 }
const T0 = Date.parse('2026-12-03T12:00:00.000Z')
const at = (s: number) => new Date(T0 + s * 1000).toISOString()
const call = (operation: string, start: number, ms = 20) => ({
  time: at(start),
  ms,
  operation,
  status: 200
})
const ns = (s: number) => String(BigInt(T0 + s * 1000) * 1_000_000n)

describe('timingRun', () => {
  it('reads start → execute, the copy, settled → exit and our own time from the logs', () => {
    const figures = timingRun({
      run: {
        timing: { spawnedAt: T0, exitedAt: T0 + 15_200 },
        stdout: 'Image in place after 3.2 s (copy).\nExecuting change set cs'
      },
      proxyLog: [
        call('GetCallerIdentity', 0.2),
        call('CreateChangeSet', 0.5),
        call('DescribeChangeSet', 5.6),
        call('ExecuteChangeSet', 6),
        call('DescribeStackEvents', 7),
        call('DescribeStacks', 8),
        call('DescribeStackEvents', 15.1)
      ],
      dockerLog: `${ns(0.1)} ${ns(0.2)} 0 version \n`,
      model: MODEL
    })
    expect(figures.startToExecute).toBe(6020)
    expect(figures.delivery).toBe(3200)
    expect(figures.overlapped).toBe(true)
    expect(figures.express).toBe(false)
    // Settled at 6.02 + 9 s; exited at 15.2 s.
    expect(figures.settleToExit).toBeCloseTo(180, 0)
    expect(figures.dockerCallsBefore).toBe(1)
    // Two reads while it settled (the one at 15.1 s came after), over 9 s.
    expect(figures.settleReadsPerSecond).toBeCloseTo(2 / 9, 5)
    // Busy: docker 0.1-0.2, the calls, T1 after the CreateChangeSet and T2 + T3 after the execute.
    // (and the read at 15.1 s, after it settled).
    expect(figures.own).toBeCloseTo(15_200 - (100 + 20 + 5020 + 20 + 9020 + 20), 0)
  })
  it('takes when the proxy ended the change set and the operation from its log (jitter)', () => {
    const figures = timingRun({
      run: { timing: { spawnedAt: T0, exitedAt: T0 + 16_000 }, stdout: '' },
      proxyLog: [
        { ...call('CreateChangeSet', 0.5), modelReady: T0 + 6_120 },
        { ...call('ExecuteChangeSet', 6.2), modelEnd: T0 + 15_900 }
      ],
      model: { ...MODEL, jitter: 1 }
    })
    expect(figures.changeSetMs).toBe(5600)
    expect(figures.settleToExit).toBe(100)
    expect(figures.settleReadsPerSecond).toBe(0)
    // Busy: the two calls, the change set until it was ready, the operation until it ended.
    expect(figures.own).toBeCloseTo(16_000 - (5620 + 20 + 9680), 0)
  })
})

describe('timingRows', () => {
  it('passes each figure within its target and misses the others', () => {
    const base = timingRun({
      run: { timing: { spawnedAt: T0, exitedAt: T0 + 10_000 }, stdout: '' },
      proxyLog: [],
      model: MODEL
    })
    const standard = {
      ...base,
      startToExecute: 5800,
      delivery: 3000,
      overlapped: true,
      wall: 16_000,
      settleToExit: 150
    }
    const express = { ...standard, wall: 11_000, settleToExit: 100 }
    const build = { ...standard, own: 600, dockerCallsBefore: 6, settleToExit: 400 }
    const rows = timingRows({
      m: { build, standard, express },
      nodeStart: 120,
      model: MODEL,
      engine: 'legacy'
    })
    expect(rows.map((r) => r[3])).toEqual(['PASS', 'PASS', 'PASS', 'MISS', 'PASS', '—', 'PASS'])
    expect(rows[6]?.[1]).toBe('0.60 s ÷ 0.12 s = 5.0×')
  })

  it('takes medians figure by figure, booleans only when all agree', () => {
    const one = timingRun({
      run: { timing: { spawnedAt: T0, exitedAt: T0 + 1000 }, stdout: 'Image in place after 1 s' },
      proxyLog: [],
      model: MODEL
    })
    const m = medians([one, { ...one, wall: 3000, overlapped: false }, { ...one, wall: 2000 }])
    expect(m.wall).toBe(2000)
    expect(m.overlapped).toBe(false)
  })
})
