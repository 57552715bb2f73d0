/** Types of bench/timing-figures.mjs (issue 23's figures under the timing model). */
export interface TimingModel {
  changeSetPending: number
  changeSet: number
  configure: number
  stabilise: number
  /** 0…jitter s more for each change set and operation (the proxy draws it) */
  jitter?: number
}

export interface TimingFigures {
  wall: number
  startToExecute: number
  /** the change set's own time under the model (ms) */
  changeSetMs: number
  delivery: number
  overlapped: boolean
  express: boolean
  settleToExit: number
  dockerCalls: number
  dockerCallsBefore: number
  dockerMs: number
  own: number
  /** DescribeStacks and DescribeStackEvents calls a second while the stack settled */
  settleReadsPerSecond: number
  awsCalls: number
}

export declare const TIMING_TARGET: {
  executeSlack: number
  overheadRatio: number
  settleToExit: number
  dockerCallsBefore: { legacy: number; buildkit: number; containerd: number }
}

export declare function timingRun(input: {
  run: { timing: { spawnedAt: number; exitedAt: number }; stdout: string }
  proxyLog: Array<{
    time: string
    ms: number
    operation: string
    status: number
    /** CreateChangeSet: when the proxy makes it ready (epoch ms) */
    modelReady?: number
    /** ExecuteChangeSet: when the proxy ends the operation (epoch ms) */
    modelEnd?: number
  }>
  dockerLog?: string
  model: TimingModel
}): TimingFigures

export declare function medians(runs: TimingFigures[]): TimingFigures

export declare function timingRows(input: {
  m: { build: TimingFigures; standard: TimingFigures; express: TimingFigures }
  nodeStart: number
  model: TimingModel
  engine: 'legacy' | 'buildkit'
}): Array<[string, string, string, 'PASS' | 'MISS']>

export declare function renderTiming(input: {
  rows: string[][]
  meta: { date: string; machine: string; git: string; load: string }
  model: TimingModel
  runs: number
}): string
