// The Markdown tables of bench/RESULTS.md below its Summary, and the cells and helpers they share
// with the Summary table (bench/render.mjs): formatting only, every figure comes from the JSON.
// Typed by tables.d.mts.

// ------------------------------------------------------------------ cells

/** Milliseconds as seconds without the unit, for tables whose header names it. */
const sec = (ms) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : 'n/a')
/** A count (a median of counts may be a half). */
export const count = (n) => (Number.isFinite(n) ? String(n) : 'n/a')
/** A build's steps cached / steps, as `11/12`. */
export const cachedSteps = (b) => `${b.cached}/${b.steps}`

/** A Markdown table with padded columns; `|` in a cell is escaped. */
export function table(header, rows) {
  const cells = [header, ...rows].map((row) => row.map((c) => String(c).replace(/\|/g, '\\|')))
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i].length)))
  const line = (row) => `| ${row.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  return [line(cells[0]), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join(
    '\n'
  )
}

/** `A ×2, B`: how often each item occurs, in order of first occurrence; `none` when empty. */
export function tally(list) {
  const counts = {}
  for (const item of list) counts[item] = (counts[item] ?? 0) + 1
  const text = Object.entries(counts)
    .map(([k, v]) => (v === 1 ? k : `${k} ×${v}`))
    .join(', ')
  return text || 'none'
}

/** `A, B ×3, C`: an operation list with repeats in a row collapsed. */
export function sequence(list) {
  const out = []
  for (const op of list) {
    const last = out[out.length - 1]
    if (last && last.op === op) last.n++
    else out.push({ op, n: 1 })
  }
  return out.map(({ op, n }) => (n === 1 ? op : `${op} ×${n}`)).join(', ')
}

// ------------------------------------------------------------------ the tables below the summary

const DEPLOY_KINDS = [
  ['first', 'first deploy'],
  ['update', 'update']
]

/** Where the overhead goes: the medians of each deploy kind, one column per share. */
export function breakdownTable(medians) {
  return table(
    [
      'Run',
      'Wall',
      'Docker',
      '…of which not build/push',
      'CloudFormation (held)',
      'Overhead',
      '…local AWS answering',
      '…registry reads (action)',
      '…node start-up',
      '…other node time'
    ],
    [...DEPLOY_KINDS, ['noop', 'no-op redeploy']].map(([kind, name]) => {
      const m = medians[kind]
      const shares = [m.wall, m.docker, m.dockerOther, m.hold, m.overhead]
      const split = [m.split.aws, m.split.registry, m.split.startup, m.split.node]
      return [name, ...shares.map(sec), ...split.map(sec)]
    })
  )
}

/** Waiting for CloudFormation: finish → exit and the reads while held, per deploy kind. */
export function waitingTable(medians) {
  return table(
    [
      'Run',
      'Finish → exit',
      'Finish → settled status read',
      'Read → exit',
      'DescribeStacks while held',
      'DescribeStackEvents while held'
    ],
    DEPLOY_KINDS.map(([kind, name]) => {
      const r = medians[kind].release
      return [
        name,
        sec(r?.finishToReturn),
        sec(r?.detectionLag),
        sec(r?.tail),
        count(r?.describeStacks),
        count(r?.describeEvents)
      ]
    })
  )
}

/** The template upload against the image push, one row per deploy that pushed. */
export function parallelTable(rounds) {
  const deploys = [...rounds.map((r) => r.first), ...rounds.map((r) => r.update)]
  return table(
    ['Run', 'PutObject (s)', 'docker push (s)', 'manifest PUT done (s)', 'Overlap (ms)'],
    deploys
      .filter((r) => r.parallel)
      .map(({ label, parallel: p }) => [
        label,
        `${sec(p.putStart)} → ${sec(p.putEnd)}`,
        `${sec(p.pushStart)} → ${sec(p.pushEnd)}`,
        sec(p.manifestPut),
        String(Math.round(p.overlap))
      ])
  )
}

/** One row per deploy, update and no-op redeploy of every round, with the summary's phases. */
export function perRunTable(rounds) {
  const runs = rounds.flatMap((r) => [r.first, r.update, r.noop])
  const phaseNames = [...new Set(runs.flatMap((r) => Object.keys(r.phases)))]
  const phase = (x, p) => (x.phases[p] === undefined ? '-' : x.phases[p].toFixed(1))
  return table(
    [
      'Run',
      'Wall',
      'Docker',
      'Overhead',
      'Finish→exit',
      'AWS calls',
      'AWS writes',
      'Blob uploads / mounts',
      ...phaseNames
    ],
    runs.map((x) => [
      x.label,
      sec(x.wall),
      sec(x.docker),
      sec(x.overhead),
      x.release ? sec(x.release.finishToReturn) : '-',
      String(x.awsCalls),
      tally(x.writes),
      `${x.registry.blobUploads} / ${x.registry.blobMounts}`,
      ...phaseNames.map((p) => phase(x, p))
    ])
  )
}

/** The rebuild times of every round: local cache, none, cache-from, pull + cache-from. */
export function buildsTable(rounds) {
  const cell = (b) => `${sec(b.build)} (${cachedSteps(b)})`
  return table(
    ['Run', 'Local cache', 'No cache', 'cache-from', 'pull + cache-from'],
    rounds.map((r, i) => [
      String(i + 1),
      cell(r.warm),
      cell(r.cold),
      cell(r.cacheFrom),
      `${sec(r.pulled.pull)} + ${cell(r.pulled)}`
    ])
  )
}

/** The timeline of one run: when each entry started, how long it took, the idle time before. */
export function timelineTable(entries) {
  const rows = entries.map((e) => [
    String(Math.round(e.at)),
    String(Math.round(e.ms)),
    e.idle >= 1 ? String(Math.round(e.idle)) : '',
    e.what
  ])
  return table(['At (ms)', 'Took (ms)', 'Idle before (ms)', 'What'], rows)
}
