// Types of bench/analysis.mjs (plain JavaScript, so `node bench/run.mjs` runs it without a build
// step); the unit tests import it through these. They also describe bench/results.json.
import type {
  AwsCall,
  DockerCall,
  ProxyLogEntry,
  RegistryCounts,
  RegistryRequest
} from './logs.mjs'
import type { Interval } from './numbers.mjs'

/** Issue 6's targets: seconds, except `bundleMB` (MB = 10⁶ B). */
export declare const TARGET: {
  finishToReturn: number
  overhead: number
  noopOwn: number
  coldStart: number
  bundleMB: number
}
export declare const READ_OPERATION: RegExp
export declare const KINDS: readonly RunKind[]

/** The seven runs of one round. */
export type RunKind = 'first' | 'update' | 'noop' | 'warm' | 'cold' | 'cacheFrom' | 'pulled'

/** One fault-proxy rule of `GET /__faults/rules`; only the hold rule matters here. */
export interface ProxyRule {
  holdStatus?: { stackName?: string; status: string; seconds: number; startOn?: string }
  startedAt?: string | null
  [field: string]: unknown
}
/** What local/action-runner.mjs's runAction returns, as far as the analysis reads it. */
export interface ActionRun {
  timing: { spawnedAt: number; firstOutputAt: number | null; exitedAt: number }
  stdout: string
  summary: string
  outputs: Record<string, string>
}
export interface RunInput {
  label: string
  run: ActionRun
  /** The stack status held after ExecuteChangeSet; absent when the run deploys nothing. */
  hold?: string | undefined
  holdSeconds: number
  rules: ProxyRule[]
  proxyLog: ProxyLogEntry[]
  /** The docker shim's log of this run. */
  dockerLog: string
  /** The registry's log since the run started (earlier requests are dropped). */
  registryLog: string
}

export interface WallSplit {
  aws: number
  registry: number
  startup: number
  node: number
}
export interface Release {
  finishToReturn: number
  detectionLag: number
  tail: number
  describeStacks: number
  describeEvents: number
}
export interface Parallel {
  putStart: number
  putEnd: number
  pushStart: number
  pushEnd: number
  manifestPut: number
  overlap: number
}
export interface TimelineEntry {
  at: number
  ms: number
  idle: number
  what: string
}
/** The figures of one run, in milliseconds. */
export interface RunFigures {
  label: string
  wall: number
  firstLine: number
  docker: number
  dockerOther: number
  dockerCalls: string[]
  hold: number
  overhead: number
  split: WallSplit
  release: Release | undefined
  writes: string[]
  awsCalls: number
  sequence: string[]
  timeline: TimelineEntry[]
  stackUpdates: number
  registry: RegistryCounts
  parallel: Parallel | undefined
  build: number
  cached: number
  steps: number
  phases: Record<string, number>
  replacedChangeSet: boolean
  status: string
  /** The bench's own `docker pull` before the last rebuild. */
  pull?: number
}
export type Round = Record<RunKind, RunFigures>

export interface ColdStartSample {
  action: { first: number; exit: number; code: number | null; out: string }
  node: { first: number }
}
export interface ColdStart {
  first: number
  exit: number
  nodeFirst: number
  line: string
}
export interface Bundle {
  size: number
  all: number
  /** Files of src/ changed while dist/ is as committed. */
  stale: string[]
}
export interface KindMedians {
  wall: number
  docker: number
  dockerOther: number
  hold: number
  overhead: number
  own: number
  split: WallSplit
  release: Release | undefined
  build: number
  cached: number
  steps: number
  pull: number
}
export interface Verdicts {
  coldStart: boolean
  bundle: boolean
  firstOverhead: boolean
  updateOverhead: boolean
  firstFinishToReturn: boolean
  updateFinishToReturn: boolean
  noopOwn: boolean
  noopBlobUploads: boolean
  noopStackUpdates: boolean
  uploadOverlapsPush: boolean
  cacheFromReuses: boolean
}
export interface Summary {
  medians: Record<RunKind, KindMedians>
  noop: { blobUploads: number; stackUpdates: number; writes: number }
  parallel: { deploys: number; overlapped: number }
  pollRate: number
  pass: Verdicts
}

export declare function holdWindowOf(
  label: string,
  rules: readonly ProxyRule[],
  holdSeconds: number
): Interval
export declare function splitWallTime(
  timing: ActionRun['timing'],
  parts: {
    dockerList: DockerCall[]
    holdWindow: Interval | undefined
    calls: AwsCall[]
    registry: RegistryRequest[]
  }
): WallSplit
export declare function releaseFigures(
  holdWindow: Interval,
  calls: readonly AwsCall[],
  exitedAt: number
): Release
export declare function parallelFigures(
  calls: readonly AwsCall[],
  dockerList: readonly DockerCall[],
  registry: readonly RegistryRequest[]
): Parallel | undefined
export declare function runTimeline(
  timing: ActionRun['timing'],
  parts: {
    dockerList: DockerCall[]
    holdWindow: Interval | undefined
    calls: AwsCall[]
    registry: RegistryRequest[]
  }
): TimelineEntry[]
export declare function analyseRun(input: RunInput): RunFigures
export declare function coldStartFigures(samples: readonly ColdStartSample[]): ColdStart
export declare function kindMedians(runs: readonly RunFigures[]): KindMedians
export declare function verdicts(
  medians: Record<RunKind, KindMedians>,
  figures: {
    coldStart: ColdStart
    bundle: Bundle
    noop: Summary['noop']
    parallel: Summary['parallel']
  }
): Verdicts
export declare function summarise(input: {
  rounds: readonly Round[]
  coldStart: ColdStart
  bundle: Bundle
  holdSeconds: number
}): Summary
