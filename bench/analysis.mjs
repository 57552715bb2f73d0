// The bench's arithmetic, kept pure so it can be unit tested: it takes the texts and timings the
// runner (bench/run.mjs) collected from the local world (the docker shim's log, the fault proxy's
// request log and rules, the registry's log, the action's stdout and job summary) and returns
// figures. The logs are read by logs.mjs, the medians and intervals summed by numbers.mjs. No
// file, process or network access here; the types are in analysis.d.mts.
import {
  buildLogFigures,
  isManifestPut,
  parseDockerLog,
  parseProxyLog,
  parseRegistryLog,
  registryCounts,
  summaryPhases
} from './logs.mjs'
import { covered, median, overlapMs } from './numbers.mjs'

/** Issue 6's targets: seconds, except `bundleMB` (MB = 10⁶ B). */
export const TARGET = { finishToReturn: 2, overhead: 1, noopOwn: 3, coldStart: 0.3, bundleMB: 3 }

/** AWS operations that change nothing; every other operation the proxy logs counts as a write. */
export const READ_OPERATION = /^(Describe|Get|List|Head|BatchGet|BatchCheck|Validate|Estimate)/

/** The operations that start a stack update; a no-op redeploy must make none. */
const STACK_UPDATE = ['ExecuteChangeSet', 'UpdateStack', 'CreateStack']

/** The run kinds of one round, in the order the runner makes them. */
export const KINDS = ['first', 'update', 'noop', 'warm', 'cold', 'cacheFrom', 'pulled']

const interval = (x) => [x.start, x.end]

// ------------------------------------------------------------------ one action run

/** The simulated operation's [start, end]: from the hold rule's `startedAt`, `holdSeconds` long. */
export function holdWindowOf(label, rules, holdSeconds) {
  const rule = rules.find((r) => r.holdStatus)
  if (!rule?.startedAt) throw new Error(`${label}: the hold never started (no ExecuteChangeSet?)`)
  const start = Date.parse(rule.startedAt)
  return [start, start + holdSeconds * 1000]
}

/**
 * Where the wall time went, one millisecond at a time. A millisecond under docker or the held
 * status is theirs; of the rest: the local AWS (moto) answering, the action's own registry reads,
 * else node (start-up before its first docker or AWS call, its own work and sleeps after).
 */
export function splitWallTime(
  { spawnedAt, exitedAt },
  { dockerList, holdWindow, calls, registry }
) {
  const slots = new Uint8Array(Math.ceil(exitedAt - spawnedAt) + 1)
  const mark = (intervals, bit) => {
    for (const [a, b] of intervals) {
      const to = Math.min(slots.length, b - spawnedAt)
      for (let t = Math.max(0, Math.floor(a - spawnedAt)); t < to; t++) slots[t] |= bit
    }
  }
  mark(dockerList.map(interval), 1)
  if (holdWindow) mark([holdWindow], 2)
  mark(calls.map(interval), 4)
  mark(registry.filter((r) => !r.docker).map(interval), 8)
  const firstWork = Math.min(
    ...dockerList.map((d) => d.start),
    ...calls.map((c) => c.start),
    exitedAt
  )
  const split = { aws: 0, registry: 0, startup: 0, node: 0 }
  for (let t = 0; t < slots.length; t++) {
    const bits = slots[t]
    if (bits & 3) continue
    if (bits & 4) split.aws++
    else if (bits & 8) split.registry++
    else if (t + spawnedAt < firstWork) split.startup++
    else split.node++
  }
  return split
}

/**
 * From the end of the hold (the stack settles) to the exit: the wait for the first DescribeStacks
 * that sees the settled status, the rest, and the CloudFormation reads made while held.
 */
export function releaseFigures(holdWindow, calls, exitedAt) {
  const [heldAt, releasedAt] = holdWindow
  const detected = calls.find(
    (c) => c.operation === 'DescribeStacks' && c.start >= releasedAt && !c.held
  )
  const polls = calls.filter((c) => c.start >= heldAt && c.start < releasedAt)
  const count = (operation) => polls.filter((c) => c.operation === operation).length
  return {
    finishToReturn: exitedAt - releasedAt,
    detectionLag: detected ? detected.end - releasedAt : NaN,
    tail: detected ? exitedAt - detected.end : NaN,
    describeStacks: count('DescribeStacks'),
    describeEvents: count('DescribeStackEvents')
  }
}

/**
 * The template upload against the image push, in ms from the phase's start (its first AWS call):
 * the PutObject, the docker push, the manifest PUT, and how long the PutObject ran inside the
 * window from GetAuthorizationToken to the end of the push. Undefined when the run pushed nothing.
 */
export function parallelFigures(calls, dockerList, registry) {
  const push = dockerList.find((d) => d.command === 'push')
  const putObject = calls.find((c) => c.operation === 'PutObject')
  const authStart = calls.find((c) => c.operation === 'GetAuthorizationToken')?.start
  if (!putObject || !push || authStart === undefined) return undefined
  const phaseStart = Math.min(authStart, putObject.start)
  const manifestPut = registry.find((r) => r.docker && isManifestPut(r))
  return {
    putStart: putObject.start - phaseStart,
    putEnd: putObject.end - phaseStart,
    pushStart: push.start - phaseStart,
    pushEnd: push.end - phaseStart,
    manifestPut: manifestPut ? manifestPut.end - phaseStart : NaN,
    overlap: overlapMs(interval(putObject), [authStart, push.end])
  }
}

/**
 * Everything that happened in one run, in ms from the spawn: {at, ms, idle, what}, where `idle` is
 * the time since the previous entries ended in which nothing was in flight.
 */
export function runTimeline({ spawnedAt, firstOutputAt, exitedAt }, parts) {
  const { dockerList, calls, registry, holdWindow } = parts
  const point = (at, what) => [{ start: at, end: at, what }]
  const entries = [
    ...point(spawnedAt, 'spawn node dist/index.js'),
    ...(firstOutputAt === null ? [] : point(firstOutputAt, 'first log line')),
    ...dockerList.map((d) => ({ ...d, what: `docker ${d.command}` })),
    ...calls.map((c) => ({ ...c, what: `${c.operation}${c.held ? ' (held)' : ''}` })),
    ...registry
      .filter((r) => !r.docker)
      .map((r) => ({ ...r, what: `registry ${r.method} ${r.uri.replace(/^\/v2\//, '')}` })),
    ...(holdWindow ? point(holdWindow[1], 'stack settles (hold ends)') : []),
    ...point(exitedAt, 'exit')
  ].sort((a, b) => a.start - b.start)
  let busyUntil = 0
  return entries.map((e) => {
    const at = e.start - spawnedAt
    const ms = e.end - e.start
    const idle = Math.max(0, at - busyUntil)
    busyUntil = Math.max(busyUntil, at + ms)
    return { at, ms, idle, what: e.what }
  })
}

/** The figures of one run, from its timing, the proxy's, the shim's and the registry's logs. */
export function analyseRun({
  label,
  run,
  hold,
  holdSeconds,
  rules,
  proxyLog,
  dockerLog,
  registryLog
}) {
  const { spawnedAt, firstOutputAt, exitedAt } = run.timing
  const calls = parseProxyLog(proxyLog)
  const dockerList = parseDockerLog(dockerLog)
  const registry = parseRegistryLog(registryLog).filter((r) => r.end >= spawnedAt)
  const holdWindow = hold ? holdWindowOf(label, rules, holdSeconds) : undefined
  const parts = { dockerList, holdWindow, calls, registry }
  const wall = exitedAt - spawnedAt
  const docker = covered(dockerList.map(interval))
  const held = holdWindow ? holdWindow[1] - holdWindow[0] : 0
  const build = dockerList.find((d) => d.command === 'build')
  const aroundBuild = dockerList.filter((d) => d.command !== 'build' && d.command !== 'push')
  return {
    label,
    wall,
    firstLine: firstOutputAt === null ? NaN : firstOutputAt - spawnedAt,
    docker,
    dockerOther: covered(aroundBuild.map(interval)),
    dockerCalls: dockerList.map((d) => d.command),
    hold: held,
    overhead: wall - docker - held,
    split: splitWallTime(run.timing, parts),
    release: holdWindow ? releaseFigures(holdWindow, calls, exitedAt) : undefined,
    writes: calls.filter((c) => !READ_OPERATION.test(c.operation)).map((c) => c.operation),
    awsCalls: calls.length,
    sequence: calls.map((c) => c.operation),
    timeline: runTimeline(run.timing, parts),
    stackUpdates: calls.filter((c) => STACK_UPDATE.includes(c.operation)).length,
    registry: registryCounts(registry),
    parallel: parallelFigures(calls, dockerList, registry),
    build: build ? build.end - build.start : NaN,
    ...buildLogFigures(run.stdout),
    phases: summaryPhases(run.summary),
    replacedChangeSet: run.stdout.includes('left by an earlier run of this build'),
    status: run.outputs['stack-status'] ?? ''
  }
}

// ------------------------------------------------------------------ all runs

/** The medians of the cold-start samples; `line` is the first sample's first line of output. */
export function coldStartFigures(samples) {
  return {
    first: median(samples.map((r) => r.action.first)),
    exit: median(samples.map((r) => r.action.exit)),
    nodeFirst: median(samples.map((r) => r.node.first)),
    line: samples[0].action.out.split('\n')[0]
  }
}

/** The medians of one kind of run across the rounds (`release` only where every run has one). */
export function kindMedians(runs) {
  const m = (f) => median(runs.map(f))
  const released = runs.every((r) => r.release)
  return {
    wall: m((r) => r.wall),
    docker: m((r) => r.docker),
    dockerOther: m((r) => r.dockerOther),
    hold: m((r) => r.hold),
    overhead: m((r) => r.overhead),
    own: m((r) => r.wall - r.docker),
    split: {
      aws: m((r) => r.split.aws),
      registry: m((r) => r.split.registry),
      startup: m((r) => r.split.startup),
      node: m((r) => r.split.node)
    },
    release: released
      ? {
          finishToReturn: m((r) => r.release.finishToReturn),
          detectionLag: m((r) => r.release.detectionLag),
          tail: m((r) => r.release.tail),
          describeStacks: m((r) => r.release.describeStacks),
          describeEvents: m((r) => r.release.describeEvents)
        }
      : undefined,
    build: m((r) => r.build),
    cached: m((r) => r.cached),
    steps: m((r) => r.steps),
    pull: m((r) => r.pull)
  }
}

/** Whether each of issue 6's targets is met (NaN, a figure that could not be measured, misses). */
export function verdicts(medians, { coldStart, bundle, noop, parallel }) {
  const within = (ms, seconds) => ms <= seconds * 1000
  return {
    coldStart: within(coldStart.first, TARGET.coldStart),
    bundle: bundle.size <= TARGET.bundleMB * 1e6,
    firstOverhead: within(medians.first.overhead, TARGET.overhead),
    updateOverhead: within(medians.update.overhead, TARGET.overhead),
    firstFinishToReturn: within(medians.first.release?.finishToReturn, TARGET.finishToReturn),
    updateFinishToReturn: within(medians.update.release?.finishToReturn, TARGET.finishToReturn),
    noopOwn: within(medians.noop.own, TARGET.noopOwn),
    noopBlobUploads: noop.blobUploads === 0,
    noopStackUpdates: noop.stackUpdates === 0,
    uploadOverlapsPush: parallel.deploys > 0 && parallel.overlapped === parallel.deploys,
    cacheFromReuses: medians.cacheFrom.cached > 0
  }
}

/**
 * The figures RESULTS.md leads with: the medians of each kind of run, the no-op's worst case,
 * the call rate while waiting, how many deploys overlapped the upload and the push, and the
 * verdicts against issue 6's targets.
 */
export function summarise({ rounds, coldStart, bundle, holdSeconds }) {
  const medians = Object.fromEntries(
    KINDS.map((kind) => [kind, kindMedians(rounds.map((r) => r[kind]))])
  )
  const noops = rounds.map((r) => r.noop)
  const deploys = rounds.flatMap((r) => [r.first, r.update])
  const pushed = deploys.filter((r) => r.parallel)
  const noop = {
    blobUploads: Math.max(...noops.map((r) => r.registry.blobUploads)),
    stackUpdates: Math.max(...noops.map((r) => r.stackUpdates)),
    writes: median(noops.map((r) => r.writes.length))
  }
  const parallel = {
    deploys: pushed.length,
    overlapped: pushed.filter((r) => r.parallel.overlap > 0).length
  }
  const pollRate = median(
    deploys.map((r) => (r.release.describeStacks + r.release.describeEvents) / holdSeconds)
  )
  return {
    medians,
    noop,
    parallel,
    pollRate,
    pass: verdicts(medians, { coldStart, bundle, noop, parallel })
  }
}
