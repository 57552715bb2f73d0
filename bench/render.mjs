// Renders the bench's results (bench/results.json, written by bench/run.mjs) as bench/RESULTS.md:
// the Summary table and the page's sections here, the tables below the Summary in tables.mjs.
// `renderResults` only formats: every figure, median and verdict comes from the JSON. Run on its
// own, it re-renders the Markdown from the JSON without running the world again:
//
//   node bench/render.mjs [results.json] [RESULTS.md]
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { cacheSummaryRows } from './cache-figures.mjs'
import { releaseSummaryRows } from './release-figures.mjs'
import {
  breakdownTable,
  buildsTable,
  cachedSteps,
  count,
  parallelTable,
  perRunTable,
  sequence,
  table,
  tally,
  timelineTable,
  waitingTable
} from './tables.mjs'

// ------------------------------------------------------------------ cells

/** Milliseconds as `1.23 s` (`n/a` when the figure could not be measured). */
const s = (ms) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a')
const verdict = (ok) => (ok ? 'PASS' : 'MISS')

// ------------------------------------------------------------------ the summary table

function coldStartRows({ coldStart, bundle, targets, summary }) {
  const mb = (bytes) => (bytes / 1e6).toFixed(2)
  return [
    [
      'Cold start: `node dist/index.js` → first log line',
      s(coldStart.first),
      `≤ ${targets.coldStart} s`,
      verdict(summary.pass.coldStart)
    ],
    ['  (node alone: empty script → first byte)', s(coldStart.nodeFirst), '', ''],
    [
      'Bundle: dist/index.js',
      `${mb(bundle.size)} MB (${bundle.size} B; all dist/*.js ${mb(bundle.all)} MB)`,
      `≤ ${targets.bundleMB} MB`,
      verdict(summary.pass.bundle)
    ]
  ]
}

/** Wall, docker / CloudFormation and overhead of the first deploy or the update. */
function deployRows({ targets, summary }, kind, name) {
  const m = summary.medians[kind]
  return [
    [`${name}: wall time`, s(m.wall), '', ''],
    [`${name}: docker / simulated CloudFormation`, `${s(m.docker)} / ${s(m.hold)}`, '', ''],
    [
      `${name}: overhead (wall − docker − CloudFormation)`,
      s(m.overhead),
      `≤ ${targets.overhead} s`,
      verdict(summary.pass[`${kind}Overhead`])
    ]
  ]
}

function finishRows({ targets, summary }) {
  const { first, update } = summary.medians
  const target = `≤ ${targets.finishToReturn} s`
  return [
    [
      'Finish-to-return, first deploy (stack settled → exit)',
      s(first.release?.finishToReturn),
      target,
      verdict(summary.pass.firstFinishToReturn)
    ],
    [
      'Finish-to-return, update',
      s(update.release?.finishToReturn),
      target,
      verdict(summary.pass.updateFinishToReturn)
    ],
    [
      '  CloudFormation reads while waiting (DescribeStacks + DescribeStackEvents)',
      `${Number.isFinite(summary.pollRate) ? summary.pollRate.toFixed(2) : 'n/a'} calls/s`,
      'document',
      ''
    ]
  ]
}

function noopRows({ targets, summary, rounds }) {
  const { medians, noop, pass } = summary
  return [
    ['No-op redeploy: wall time', s(medians.noop.wall), '', ''],
    [
      'No-op redeploy: own time (wall − docker)',
      s(medians.noop.own),
      `≤ ${targets.noopOwn} s`,
      verdict(pass.noopOwn)
    ],
    [
      'No-op redeploy: registry blob uploads (max)',
      String(noop.blobUploads),
      '0',
      verdict(pass.noopBlobUploads)
    ],
    [
      'No-op redeploy: stack updates (ExecuteChangeSet, max)',
      String(noop.stackUpdates),
      '0',
      verdict(pass.noopStackUpdates)
    ],
    [
      'No-op redeploy: AWS write calls',
      `${count(noop.writes)} (${tally(rounds[0].noop.writes)})`,
      '',
      ''
    ]
  ]
}

function buildRows({ summary }) {
  const { warm, cold, cacheFrom, pulled } = summary.medians
  const { parallel, pass } = summary
  return [
    [
      'Template upload ∥ image push: PutObject overlaps the push',
      `${parallel.overlapped}/${parallel.deploys} deploys`,
      'overlap',
      verdict(pass.uploadOverlapsPush)
    ],
    [
      'Rebuild, unchanged Dockerfile, local layer cache',
      `${s(warm.build)} (${cachedSteps(warm)} steps cached)`,
      '',
      ''
    ],
    [
      'Rebuild, no local cache, no cache-from',
      `${s(cold.build)} (${cachedSteps(cold)} cached)`,
      '',
      ''
    ],
    [
      'Rebuild, no local cache, cache-from = pushed tag',
      `${s(cacheFrom.build)} (${cachedSteps(cacheFrom)} cached)`,
      'reuses layers',
      verdict(pass.cacheFromReuses)
    ],
    [
      '  (not the action: docker pull, then cache-from)',
      `${s(pulled.pull)} pull + ${s(pulled.build)} build (${cachedSteps(pulled)} cached)`,
      '',
      ''
    ]
  ]
}

/** The table `npm run bench` also prints: every figure with its target and verdict. */
export function summaryTable(results) {
  return table(
    ['Figure', `Median of ${results.config.runs}`, 'Target', 'Result'],
    [
      ...coldStartRows(results),
      ...deployRows(results, 'first', 'First deploy'),
      ...deployRows(results, 'update', 'Update'),
      ...finishRows(results),
      ...noopRows(results),
      ...buildRows(results),
      ...cacheSummaryRows(results.cache),
      ...releaseSummaryRows(results.release)
    ]
  )
}

// ------------------------------------------------------------------ the page

function header({ config, meta, bundle }) {
  const { runs, holdSeconds, payloadMB } = config
  const stale =
    bundle.stale.length > 0
      ? `\n> **${bundle.stale.join(', ')} changed since the last commit but dist/ did not**: these figures measure the committed bundle, not the current source (run \`npm run package\`).\n`
      : ''
  const busy =
    meta.loadMax > meta.cpus / 2
      ? `\n> The machine was busy (${meta.load}): other processes competed for the CPUs, so times are longer than on an idle machine.\n`
      : ''
  return `# Benchmark results

Written by \`npm run bench\` (bench/run.mjs measures, bench/render.mjs writes this page from
bench/results.json; how each figure is measured: bench/README.md).
${meta.date}; ${runs} run${runs === 1 ? '' : 's'} per figure, medians; simulated CloudFormation operation
time ${holdSeconds} s per deploy; image: two ${payloadMB} MB payload layers.
Machine: ${meta.machine}; ${meta.load}. Source: ${meta.git}.
${stale}${busy}`
}

function summarySection(results) {
  const replaced = results.rounds.some((r) => r.noop.replacedChangeSet)
    ? `
The no-op redeploy's first DeleteChangeSet removes the change set of the same name that the update
executed ("Replacing change set … left by an earlier run of this build"): moto keeps executed change
sets, CloudFormation removes them after an execution, so against AWS that call does not happen.
`
    : ''
  return `## Summary

${summaryTable(results)}

Overhead is everything that is neither docker nor CloudFormation's own (simulated) time: node's
start-up, the AWS calls (answered here by a local moto, faster than AWS), the action's registry
reads, and its own CPU and waits. Cold start: \`${results.coldStart.line.slice(0, 80)}\` is the first line.
The fresh-runner rows come from the last \`npm run bench:cache\`, which needs a BuildKit engine
(this bench runs on the world's default one): a rebuild on an empty engine with and without the
registry cache, detailed in bench/CACHE.md.
${replaced}`
}

function overheadSection({ rounds, summary }) {
  const around = rounds[0].update.dockerCalls.filter((c) => c !== 'build' && c !== 'push')
  return `## Where the overhead goes (medians, seconds)

Each millisecond of a run is counted once: docker first, then the held stack status, then an AWS
call in flight, then a registry read by the action, else node (start-up before the first call, or
its own work and sleeps later). "Not build/push" is the docker calls the action adds around the
build and the push (${tally(around)} in an update):
counted as docker time above, though they are the action's choice.

${breakdownTable(summary.medians)}
`
}

function waitingSection({ config, summary }) {
  return `## Waiting for CloudFormation (medians)

The fault proxy shows the stack \`*_IN_PROGRESS\` for ${config.holdSeconds} s after ExecuteChangeSet; "finish"
is when that ends.

${waitingTable(summary.medians)}
`
}

function parallelSection({ rounds }) {
  return `## Template upload ∥ image push

Seconds from the start of the "Push image and upload template" phase (its first AWS call). The
template upload runs while the image is published (ECR login, manifest check, docker login, tag,
push); "overlap" is how long PutObject ran inside that window.

${parallelTable(rounds)}
`
}

function buildSection({ rounds, meta }) {
  return `## Build cache

Rebuilds of the unchanged Dockerfile in \`mode: noop\` (build and checks only); docker build time
(steps cached / steps). "No cache": every image and the build cache removed first; "cache-from":
likewise, with \`cache-from\` set to the tag the update pushed. The engine is docker ${meta.engine}
without buildx, so the legacy builder runs: it only uses \`--cache-from\` images that are already
local and does not pull them (dockerd logs "Could not look up … for cache resolution, skipping").
The last column pulls the tag first (the bench does that, not the action) to show what a pull buys.

${buildsTable(rounds)}
`
}

function lastRoundSections({ rounds }) {
  const last = rounds[rounds.length - 1]
  const calls = ['first', 'update', 'noop']
    .map(
      (kind) =>
        `- ${last[kind].label} (${last[kind].sequence.length}): ${sequence(last[kind].sequence)}`
    )
    .join('\n')
  return `## AWS calls of the last round, in order

${calls}

## Timeline of the last update

Milliseconds from the spawn; "idle before" is the time since the previous entry ended in which
nothing was in flight (node's own work, or a sleep between polls).

${timelineTable(last.update.timeline)}
`
}

/** RESULTS.md for the bench's results, and the summary table on its own (for the terminal). */
export function renderResults(results) {
  const markdown = [
    header(results),
    summarySection(results),
    overheadSection(results),
    waitingSection(results),
    parallelSection(results),
    buildSection(results),
    lastRoundSections(results),
    `## Per run\n\n${perRunTable(results.rounds)}\n`
  ].join('\n')
  return { summary: summaryTable(results), markdown }
}

// ------------------------------------------------------------------ command line

/** `node bench/render.mjs [results.json] [RESULTS.md]`: re-renders the Markdown from the JSON. */
function main([jsonFile = 'bench/results.json', markdownFile] = []) {
  const source = resolve(jsonFile)
  const target = resolve(markdownFile ?? join(dirname(source), 'RESULTS.md'))
  writeFileSync(target, renderResults(JSON.parse(readFileSync(source, 'utf8'))).markdown)
  process.stdout.write(`Rendered ${source} to ${target}.\n`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2))
}
