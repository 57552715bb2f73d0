// Issue 23's figures, pure: what bench/timing.mjs collected under the fault proxy's timing model
// (local/fault-proxy/faults/timing.mjs) turned into per-run figures, medians, the targets and a
// PASS/MISS for each, and the Markdown of bench/TIMING.md.
import { parseDockerLog, parseProxyLog } from './logs.mjs'
import { covered, median } from './numbers.mjs'

/** The targets (issue 23, "Done when"). */
export const TIMING_TARGET = {
  /** start → ExecuteChangeSet answered ≤ max(copy or push, change-set creation) + this many s */
  executeSlack: 1,
  /** own overhead ÷ node start-up in the same environment */
  overheadRatio: 6,
  /** stack settled → process exit, s */
  settleToExit: 0.25,
  /** docker calls before the change set (before issue 23: 8 on the legacy engine, 10 on the BuildKit ones) */
  dockerCallsBefore: { legacy: 8, buildkit: 10, containerd: 10 }
}

/**
 * One run's figures. `run`: the action run (`timing` in epoch ms, `stdout`); `proxyLog`: the fault
 * proxy's log; `dockerLog`: the shim's log; `model`: the timing rule's seconds.
 */
export function timingRun({ run, proxyLog, dockerLog = '', model }) {
  const calls = parseProxyLog(proxyLog)
  const docker = parseDockerLog(dockerLog)
  const { spawnedAt, exitedAt } = run.timing
  const execute = calls.find((c) => c.operation === 'ExecuteChangeSet' && c.status === 200)
  const createChangeSet = calls.find((c) => c.operation === 'CreateChangeSet')
  const express = /in express mode/.test(run.stdout)
  const stackSeconds = model.configure + (express ? 0 : model.stabilise)
  // When the proxy ended them (with its jitter); older logs: from the model's seconds.
  const settledAt = execute ? (execute.modelEnd ?? execute.end + stackSeconds * 1000) : NaN
  const inPlace = /Image in place after ([\d.]+) s/.exec(run.stdout)
  const before = createChangeSet ? docker.filter((d) => d.start < createChangeSet.start) : docker
  // CloudFormation's own time (the model's T₁, and T₂ + T₃ after the execute) is not ours either.
  const modelled = [
    ...(createChangeSet
      ? [
          [
            createChangeSet.end,
            createChangeSet.modelReady ?? createChangeSet.end + model.changeSet * 1000
          ]
        ]
      : []),
    ...(execute ? [[execute.end, settledAt]] : [])
  ]
  const busy = covered([...[...calls, ...docker].map((x) => [x.start, x.end]), ...modelled])
  return {
    wall: exitedAt - spawnedAt,
    startToExecute: execute ? execute.end - spawnedAt : NaN,
    changeSetMs: createChangeSet
      ? (createChangeSet.modelReady ?? createChangeSet.end + model.changeSet * 1000) -
        createChangeSet.end
      : NaN,
    delivery: inPlace ? Number(inPlace[1]) * 1000 : NaN,
    overlapped: inPlace !== null,
    express,
    settleToExit: exitedAt - settledAt,
    dockerCalls: docker.length,
    dockerCallsBefore: before.length,
    dockerMs: covered(docker.map((d) => [d.start, d.end])),
    // Wall time with no docker or AWS call running and CloudFormation not working: node
    // starting, our own work, and the part of our sleeps past what the model keeps us waiting.
    own: exitedAt - spawnedAt - busy,
    // CloudFormation reads a second while the stack settled (the poll rate the run kept).
    settleReadsPerSecond: execute
      ? calls.filter(
          (c) =>
            /^DescribeStack(s|Events)$/.test(c.operation) &&
            c.start >= execute.end &&
            c.start <= settledAt
        ).length /
        ((settledAt - execute.end) / 1000)
      : NaN,
    awsCalls: calls.length
  }
}

/** Medians of each figure over `runs`. */
export function medians(runs) {
  const out = {}
  for (const key of Object.keys(runs[0] ?? {})) {
    const values = runs.map((r) => r[key])
    out[key] = typeof values[0] === 'boolean' ? values.every(Boolean) : median(values)
  }
  return out
}

const pass = (ok) => (ok ? 'PASS' : 'MISS')
const sec = (v) => (Number.isFinite(v) ? `${(v / 1000).toFixed(2)} s` : 'n/a')

/**
 * The rows: figure, value, target, verdict. `m`: medians per kind (`build`, `standard`,
 * `express`); `nodeStart` ms; `model`: the timing rule's seconds; `engine`: legacy | buildkit.
 */
export function timingRows({ m, nodeStart, model, engine }) {
  // The change set's own time under the model (its jitter included), median.
  const changeSet = Number.isFinite(m.standard.changeSetMs)
    ? m.standard.changeSetMs
    : model.changeSet * 1000
  const bound = Math.max(m.standard.delivery, changeSet) + TIMING_TARGET.executeSlack * 1000
  // In sequence the copy would come before the change set: all of it added to start → execute.
  const sequence = m.standard.startToExecute + m.standard.delivery
  const ratio = m.build.own / nodeStart
  const limit = TIMING_TARGET.dockerCallsBefore[engine] ?? 8
  return [
    [
      'start → ExecuteChangeSet answered (promote, digest known)',
      sec(m.standard.startToExecute),
      `≤ max(copy ${sec(m.standard.delivery)}, change set ${sec(changeSet)}) + ${TIMING_TARGET.executeSlack} s = ${sec(bound)}`,
      pass(m.standard.startToExecute <= bound)
    ],
    [
      'copy ∥ change set vs in sequence',
      `${sec(m.standard.startToExecute)} (overlapped: ${m.standard.overlapped ? 'yes' : 'no'})`,
      `< in sequence: the same + the copy = ${sec(sequence)}`,
      pass(m.standard.overlapped)
    ],
    [
      'whole deploy, standard vs express',
      `${sec(m.standard.wall)} vs ${sec(m.express.wall)}`,
      `express faster by about T₃ = ${model.stabilise} s`,
      pass(m.standard.wall - m.express.wall >= model.stabilise * 800)
    ],
    [
      'stack settled → process exit (express, standard, build)',
      `${sec(m.express.settleToExit)}, ${sec(m.standard.settleToExit)}, ${sec(m.build.settleToExit)}`,
      `≤ ${TIMING_TARGET.settleToExit} s`,
      pass(
        Math.max(m.express.settleToExit, m.standard.settleToExit, m.build.settleToExit) <=
          TIMING_TARGET.settleToExit * 1000
      )
    ],
    [
      `docker calls before the change set (build, ${engine} engine)`,
      `${m.build.dockerCallsBefore} (all: ${m.build.dockerCalls}, ${sec(m.build.dockerMs)})`,
      `< ${limit}`,
      pass(m.build.dockerCallsBefore < limit)
    ],
    [
      'CloudFormation reads a second while a stack settles (standard)',
      m.standard.settleReadsPerSecond.toFixed(1),
      'for comparison: SAM CLI 2 (events every 0.5 s); AWS publishes no limit',
      '—'
    ],
    [
      'own overhead ÷ node start-up (build deploy)',
      `${sec(m.build.own)} ÷ ${sec(nodeStart)} = ${ratio.toFixed(1)}×`,
      `≤ ${TIMING_TARGET.overheadRatio}×`,
      pass(ratio <= TIMING_TARGET.overheadRatio)
    ]
  ]
}

/** bench/TIMING.md from the results. */
export function renderTiming({ rows, meta, model, runs }) {
  const table = [
    '| Figure | Median | Target | |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`)
  ].join('\n')
  return `# Where users wait: CloudFormation's timing (issue 23)

Generated by \`npm run bench:timing\` (bench/timing.mjs); ${runs} runs, medians. ${meta.machine}; ${meta.git};
${meta.date}; ${meta.load}.

Under the fault proxy's timing model (\`{"timing": ${JSON.stringify(model)}}\`, seconds; defaults and their
sources in docs/RELIABILITY.md#cloudformations-timing-the-timing-rule): change sets take T₁ = ${model.changeSet} s,
each resource T₂ = ${model.configure} s to configure and T₃ = ${model.stabilise} s more to stabilise (not in express
mode), each change set and each operation ${model.jitter ?? 0} s more at most (a random part: when one ends falls
anywhere between two polls, as on AWS). Each run: a build deploy of the bench service (its docker calls), then two promotes of the image it pushed to
another repository (the digest is known: the change set is made while the image is copied), one standard and one
with \`express: true\`. "Own overhead": wall time during which no docker and no AWS call ran (node start-up, our
work, our sleeps); node start-up is \`node -e\` in the same environment.

${table}
`
}
