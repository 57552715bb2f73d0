// `npm run bench`: the action's own overhead, measured against the local world (local/world.sh:
// moto behind the fault proxy, a real Docker engine, a real registry). Prints one table and writes
// it, with the figures behind it, to bench/RESULTS.md. See bench/README.md for what each figure is.
//
//   BENCH_RUNS=5           runs per figure (medians); 1 is a quick smoke run
//   BENCH_HOLD_SECONDS=3   simulated CloudFormation operation time after ExecuteChangeSet
//   BENCH_PAYLOAD_MB=8     size of each of the image's two payload layers
//   BENCH_KEEP=1           keep the scratch workspace and the docker call log
//   BENCH_RESULTS=<file>   where to write the results (default bench/RESULTS.md)
import { execFileSync, spawn } from 'node:child_process'
import { createCipheriv, createHash } from 'node:crypto'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs'
import os from 'node:os'
import { join, resolve } from 'node:path'
import { createBucket, runAction } from '../local/action-runner.mjs'

const root = resolve(import.meta.dirname, '..')
const RUNS = positiveInt('BENCH_RUNS', 5)
const HOLD_SECONDS = positiveNumber('BENCH_HOLD_SECONDS', 3)
const PAYLOAD_MB = positiveNumber('BENCH_PAYLOAD_MB', 8)
const RESULTS_FILE = resolve(root, process.env.BENCH_RESULTS || 'bench/RESULTS.md')

/** Issue 6's targets. */
const TARGET = { finishToReturn: 2, overhead: 1, noopOwn: 3, coldStart: 0.3, bundleMB: 3 }

/** AWS operations that change nothing; every other operation the proxy logs counts as a write. */
const READ_OPERATION = /^(Describe|Get|List|Head|BatchGet|BatchCheck|Validate|Estimate)/

const WORLD = [
  'AWS_ENDPOINT_URL',
  'LOCAL_FAULT_PROXY_URL',
  'LOCAL_REGISTRY_HOST',
  'LOCAL_REGISTRY_PASSWORD',
  'LOCAL_WORLD_DIR',
  'DOCKER_HOST'
]

function positiveNumber(name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!(value > 0)) throw new Error(`${name}=${raw}: give a positive number`)
  return value
}

function positiveInt(name, fallback) {
  const value = positiveNumber(name, fallback)
  if (!Number.isInteger(value)) throw new Error(`${name}=${value}: give a whole number`)
  return value
}

function say(text) {
  process.stderr.write(`bench: ${text}\n`)
}

// ------------------------------------------------------------------ numbers

function median(values) {
  const list = values
    .filter((v) => typeof v === 'number' && Number.isFinite(v))
    .sort((a, b) => a - b)
  if (list.length === 0) return NaN
  const mid = Math.floor(list.length / 2)
  return list.length % 2 ? list[mid] : (list[mid - 1] + list[mid]) / 2
}

const s = (ms) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a')
const sec = (ms) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : 'n/a')
const verdict = (ok) => (ok ? 'PASS' : 'MISS')

/** Milliseconds covered by a list of [start, end] intervals (overlaps counted once). */
function covered(intervals) {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0])
  let total = 0
  let end = -Infinity
  for (const [a, b] of sorted) {
    if (b <= end) continue
    total += b - Math.max(a, end)
    end = b
  }
  return total
}

function overlapMs([a1, b1], [a2, b2]) {
  return Math.max(0, Math.min(b1, b2) - Math.max(a1, a2))
}

/** Parses a Go duration (`12.5ms`, `850µs`, `1m2.3s`) into milliseconds. */
function goDurationMs(text) {
  const unit = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
  let total = 0
  for (const [, n, u] of String(text).matchAll(/([\d.]+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(n) * unit[u]
  }
  return total
}

// ------------------------------------------------------------------ the world

function checkWorld() {
  const missing = WORLD.filter((name) => !process.env[name])
  if (missing.length > 0) {
    throw new Error(
      `the local world is not running (missing ${missing.join(', ')}): run 'npm run bench'.`
    )
  }
}

async function proxy(method, path, body) {
  const response = await fetch(`${process.env.LOCAL_FAULT_PROXY_URL}/__faults${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  })
  if (!response.ok) throw new Error(`fault proxy ${method} ${path}: ${await response.text()}`)
  return response.json()
}

/** The fault proxy's request log as intervals (epoch ms). */
async function awsCalls() {
  return (await proxy('GET', '/log')).map((e) => {
    const start = Date.parse(e.time)
    return { ...e, start, end: start + e.ms }
  })
}

const registryLogFile = () => join(process.env.LOCAL_WORLD_DIR, 'registry.log')

function registryOffset() {
  return existsSync(registryLogFile()) ? statSync(registryLogFile()).size : 0
}

/** The registry's completed requests logged after `offset`. */
function registryRequests(offset) {
  const text = readFileSync(registryLogFile()).subarray(offset).toString('utf8')
  const requests = []
  for (const line of text.split('\n')) {
    if (!/msg="response completed( with error)?"/.test(line)) continue
    const fields = {}
    for (const [, key, value] of line.matchAll(/([\w.]+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
      fields[key] = value.startsWith('"') ? value.slice(1, -1) : value
    }
    const end = Date.parse(String(fields.time).replace(/(\.\d{3})\d+/, '$1'))
    requests.push({
      start: end - goDurationMs(fields['http.response.duration']),
      end,
      method: fields['http.request.method'],
      uri: fields['http.request.uri'] ?? '',
      status: Number(fields['http.response.status']),
      docker: /^docker\//.test(fields['http.request.useragent'] ?? '')
    })
  }
  return requests
}

function registryCounts(requests) {
  const byDocker = requests.filter((r) => r.docker)
  const uploads = byDocker.filter((r) => r.method === 'POST' && /\/blobs\/uploads\//.test(r.uri))
  return {
    blobUploads: uploads.filter((r) => r.status === 202).length,
    blobMounts: uploads.filter((r) => r.status === 201).length,
    manifestPuts: byDocker.filter((r) => r.method === 'PUT' && /\/manifests\//.test(r.uri)).length,
    manifestPut: byDocker.find((r) => r.method === 'PUT' && /\/manifests\//.test(r.uri))
  }
}

// ------------------------------------------------------------------ scratch workspace

/** Deterministic pseudo-random bytes (AES-CTR keystream), so every run builds the same layers. */
function payload(seed, bytes) {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16)
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(bytes))
}

function prepareWorkspace() {
  const work = mkdtempSync(join(os.tmpdir(), 'oci-stack-deploy-bench-'))
  const workspace = join(work, 'workspace')
  const service = join(workspace, 'service')
  mkdirSync(join(service, 'payload'), { recursive: true })
  copyFileSync(join(root, 'bench/service/Dockerfile'), join(service, 'Dockerfile'))
  copyFileSync(join(root, 'examples/hello/bootstrap'), join(service, 'bootstrap'))
  chmodSync(join(service, 'bootstrap'), 0o755)
  const bytes = Math.round(PAYLOAD_MB * 1024 * 1024)
  writeFileSync(join(service, 'payload/runtime.bin'), payload('runtime', bytes))
  writeFileSync(join(service, 'payload/assets.bin'), payload('assets', bytes))
  copyFileSync(join(root, 'examples/hello/template.yaml'), join(workspace, 'template.yaml'))

  // Every docker call the action makes goes through this shim, which logs its start and end.
  const bin = join(work, 'bin')
  mkdirSync(bin)
  const realDocker = execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim()
  writeFileSync(
    join(bin, 'docker'),
    [
      '#!/bin/sh',
      '# bench/run.mjs: times each docker call of the action, then hands it to the real CLI',
      's=$(date +%s%N)',
      '"$BENCH_DOCKER_REAL" "$@"',
      'rc=$?',
      `printf '%s %s %s %s %s\\n' "$s" "$(date +%s%N)" "$rc" "$1" "$2" >>"$BENCH_DOCKER_LOG"`,
      'exit $rc',
      ''
    ].join('\n')
  )
  chmodSync(join(bin, 'docker'), 0o755)
  const dockerLog = join(work, 'docker-calls.log')
  const dockerConfig = join(work, 'docker-config')
  mkdirSync(dockerConfig)
  return {
    work,
    workspace,
    realDocker,
    dockerLog,
    dockerConfig,
    env: {
      GITHUB_WORKSPACE: workspace,
      PATH: `${bin}:${process.env.PATH}`,
      BENCH_DOCKER_REAL: realDocker,
      BENCH_DOCKER_LOG: dockerLog
    }
  }
}

/** The docker calls the shim logged: {start, end, command} (epoch ms). */
function dockerCalls(ctx) {
  if (!existsSync(ctx.dockerLog)) return []
  return readFileSync(ctx.dockerLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [start, end, rc, a1 = '', a2 = ''] = line.split(' ')
      const command =
        a1 === 'build'
          ? a2 === '--help'
            ? 'build --help'
            : 'build'
          : a1 === 'image'
            ? `image ${a2}`
            : a1
      return { start: Number(start) / 1e6, end: Number(end) / 1e6, rc: Number(rc), command }
    })
}

/** The real docker CLI (not the shim), for the bench's own housekeeping. */
function docker(ctx, args, options = {}) {
  return execFileSync(ctx.realDocker, args, {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    ...options,
    env: { ...process.env, ...(options.env ?? {}) }
  })
}

/** Removes every image and the build cache from the engine: the next build starts cold. */
function wipeDocker(ctx) {
  const images = (all) => [
    ...new Set(
      docker(ctx, ['images', '--no-trunc', all ? '-aq' : '-q'])
        .split('\n')
        .filter(Boolean)
    )
  ]
  // Tagged images first (their untagged parents go with them), then whatever is left; an
  // intermediate image with a child still present is refused, so go round until none is left.
  for (let attempt = 0; attempt < 5; attempt++) {
    const ids = attempt === 0 ? images(false) : images(true)
    if (ids.length === 0 && attempt > 0) break
    try {
      if (ids.length > 0) docker(ctx, ['rmi', '-f', ...ids])
    } catch {
      // "image has dependent child images" / "No such image": the next round sees what is left
    }
    docker(ctx, ['image', 'prune', '-af'])
  }
  const left = images(true)
  if (left.length > 0) throw new Error(`could not remove every image: ${left.join(' ')}`)
  try {
    docker(ctx, ['builder', 'prune', '-af'])
  } catch {
    // The legacy builder keeps its cache as images, removed above.
  }
}

// ------------------------------------------------------------------ one action run

/** Phase → seconds from the job summary's Time table. */
function summaryPhases(summary) {
  const time = summary.slice(summary.lastIndexOf('Time'))
  const phases = {}
  for (const [, name, seconds] of time.matchAll(/<tr><td>([^<]+)<\/td><td>([\d.]+)<\/td><\/tr>/g)) {
    phases[name] = Number(seconds)
  }
  return phases
}

function failRun(label, run) {
  const log = `${run.stdout}\n${run.stderr}`.trim().split('\n').slice(-40).join('\n')
  throw new Error(`${label}: the action exited with ${run.exitCode}\n${log}`)
}

/**
 * Runs the action once and measures it. `hold`: the stack status the fault proxy shows for
 * HOLD_SECONDS after ExecuteChangeSet (the simulated CloudFormation operation).
 */
async function measuredRun(ctx, label, inputs, hold) {
  await proxy('DELETE', '')
  if (hold) {
    await proxy('POST', '/rules', {
      holdStatus: {
        stackName: inputs['stack-name'],
        status: hold,
        seconds: HOLD_SECONDS,
        startOn: 'execute'
      }
    })
  }
  writeFileSync(ctx.dockerLog, '')
  const offset = registryOffset()
  const run = await runAction(root, inputs, { env: ctx.env })
  if (run.exitCode !== 0) failRun(label, run)
  const [rules, calls] = await Promise.all([proxy('GET', '/rules'), awsCalls()])
  const registry = registryRequests(offset).filter((r) => r.end >= run.timing.spawnedAt)
  return analyseRun({ label, run, hold, rules, calls, dockerList: dockerCalls(ctx), registry })
}

/** The figures of one run, from its timing, the proxy's, the shim's and the registry's logs. */
function analyseRun({ label, run, hold, rules, calls, dockerList, registry }) {
  const { spawnedAt, firstOutputAt, exitedAt } = run.timing
  const wall = exitedAt - spawnedAt
  const dockerMs = covered(dockerList.map((d) => [d.start, d.end]))

  let holdWindow
  if (hold) {
    const rule = rules.find((r) => r.holdStatus)
    if (!rule?.startedAt) throw new Error(`${label}: the hold never started (no ExecuteChangeSet?)`)
    const start = Date.parse(rule.startedAt)
    holdWindow = [start, start + HOLD_SECONDS * 1000]
  }
  const holdMs = holdWindow ? holdWindow[1] - holdWindow[0] : 0

  // Where the wall time went, one millisecond at a time: docker, the simulated operation, the
  // local AWS (moto) answering, the action's own registry reads, and the rest (node itself).
  const slots = new Uint8Array(Math.ceil(wall) + 1)
  const mark = (intervals, bit) => {
    for (const [a, b] of intervals) {
      for (
        let t = Math.max(0, Math.floor(a - spawnedAt));
        t < Math.min(slots.length, b - spawnedAt);
        t++
      )
        slots[t] |= bit
    }
  }
  mark(
    dockerList.map((d) => [d.start, d.end]),
    1
  )
  if (holdWindow) mark([holdWindow], 2)
  mark(
    calls.map((c) => [c.start, c.end]),
    4
  )
  mark(
    registry.filter((r) => !r.docker).map((r) => [r.start, r.end]),
    8
  )
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

  let release
  if (holdWindow) {
    const releasedAt = holdWindow[1]
    const detected = calls.find(
      (c) => c.operation === 'DescribeStacks' && c.start >= releasedAt && !c.held
    )
    const polls = calls.filter(
      (c) =>
        (c.operation === 'DescribeStacks' || c.operation === 'DescribeStackEvents') &&
        c.start >= holdWindow[0] &&
        c.start < releasedAt
    )
    release = {
      finishToReturn: exitedAt - releasedAt,
      detectionLag: detected ? detected.end - releasedAt : NaN,
      tail: detected ? exitedAt - detected.end : NaN,
      describeStacks: polls.filter((c) => c.operation === 'DescribeStacks').length,
      describeEvents: polls.filter((c) => c.operation === 'DescribeStackEvents').length
    }
  }

  const writes = calls.filter((c) => !READ_OPERATION.test(c.operation)).map((c) => c.operation)
  const push = dockerList.find((d) => d.command === 'push')
  const putObject = calls.find((c) => c.operation === 'PutObject')
  const authStart = calls.find((c) => c.operation === 'GetAuthorizationToken')?.start
  const counts = registryCounts(registry)
  let parallel
  if (putObject && push && authStart !== undefined) {
    const phaseStart = Math.min(authStart, putObject.start)
    parallel = {
      putStart: putObject.start - phaseStart,
      putEnd: putObject.end - phaseStart,
      pushStart: push.start - phaseStart,
      pushEnd: push.end - phaseStart,
      manifestPut: counts.manifestPut ? counts.manifestPut.end - phaseStart : NaN,
      overlap: overlapMs([putObject.start, putObject.end], [authStart, push.end])
    }
  }
  const build = dockerList.find((d) => d.command === 'build')
  return {
    label,
    wall,
    firstLine: firstOutputAt === null ? NaN : firstOutputAt - spawnedAt,
    docker: dockerMs,
    dockerOther: covered(
      dockerList
        .filter((d) => d.command !== 'build' && d.command !== 'push')
        .map((d) => [d.start, d.end])
    ),
    dockerCalls: dockerList.map((d) => d.command),
    hold: holdMs,
    overhead: wall - dockerMs - holdMs,
    split,
    release,
    writes,
    awsCalls: calls.length,
    sequence: calls.map((c) => c.operation),
    timeline: [
      { start: spawnedAt, end: spawnedAt, what: 'spawn node dist/index.js' },
      ...(firstOutputAt === null
        ? []
        : [{ start: firstOutputAt, end: firstOutputAt, what: 'first log line' }]),
      ...dockerList.map((d) => ({ ...d, what: `docker ${d.command}` })),
      ...calls.map((c) => ({ ...c, what: `${c.operation}${c.held ? ' (held)' : ''}` })),
      ...registry
        .filter((r) => !r.docker)
        .map((r) => ({ ...r, what: `registry ${r.method} ${r.uri.replace(/^\/v2\//, '')}` })),
      ...(holdWindow
        ? [{ start: holdWindow[1], end: holdWindow[1], what: 'stack settles (hold ends)' }]
        : []),
      { start: exitedAt, end: exitedAt, what: 'exit' }
    ]
      .sort((a, b) => a.start - b.start)
      .map((e) => ({ at: e.start - spawnedAt, ms: e.end - e.start, what: e.what })),
    stackUpdates: calls.filter((c) =>
      ['ExecuteChangeSet', 'UpdateStack', 'CreateStack'].includes(c.operation)
    ).length,
    registry: counts,
    parallel,
    build: build ? build.end - build.start : NaN,
    cached: (run.stdout.match(/^ ---> Using cache$/gm) ?? []).length,
    steps: Number(/^Step \d+\/(\d+) :/m.exec(run.stdout)?.[1] ?? NaN),
    phases: summaryPhases(run.summary),
    replacedChangeSet: run.stdout.includes('left by an earlier run of this build'),
    status: run.outputs['stack-status'] ?? ''
  }
}

// ------------------------------------------------------------------ cold start

/** Spawns node with `args`; resolves the time to the first stdout byte and to the exit. */
function timeSpawn(args, env) {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint()
    const ms = () => Number(process.hrtime.bigint() - started) / 1e6
    let first = NaN
    let out = ''
    const child = spawn(process.execPath, args, {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'ignore']
    })
    child.stdout.on('data', (chunk) => {
      if (Number.isNaN(first)) first = ms()
      out += chunk
    })
    child.on('error', reject)
    child.on('exit', (code) => resolvePromise({ first, exit: ms(), code, out }))
  })
}

/**
 * One cold-start sample: `node dist/index.js` without inputs (it fails fast on the missing input)
 * and, for comparison, node writing one byte. The bench takes one sample per round, so a burst of
 * load on the machine moves one sample, not the median.
 */
async function coldSample() {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('INPUT_') && !k.startsWith('GITHUB_'))
  )
  const action = await timeSpawn([join(root, 'dist/index.js')], env)
  if (action.code !== 1 || !action.out.startsWith('::error::')) {
    throw new Error(
      `node dist/index.js without inputs should fail with ::error::, got: ${action.out}`
    )
  }
  const node = await timeSpawn(['-e', "process.stdout.write('x')"], env)
  return { action, node }
}

function coldSummary(samples) {
  return {
    first: median(samples.map((r) => r.action.first)),
    exit: median(samples.map((r) => r.action.exit)),
    nodeFirst: median(samples.map((r) => r.node.first)),
    line: samples[0].action.out.split('\n')[0]
  }
}

function bundle() {
  const dir = join(root, 'dist')
  const size = statSync(join(dir, 'index.js')).size
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0)
  return { size, all, stale: changedSources() }
}

/**
 * The files of src/ changed since the last commit while dist/ is as committed: the bundle then
 * likely lacks them. (File times mislead: a checkout touches files without changing the bundle.)
 */
function changedSources() {
  const changed = (path) => {
    try {
      return execFileSync('git', ['status', '--porcelain', '--', path], {
        cwd: root,
        encoding: 'utf8'
      })
        .split('\n')
        .filter(Boolean)
        .map((line) => line.slice(3))
    } catch {
      return [] // not a git checkout
    }
  }
  const sources = changed('src')
  return sources.length > 0 && changed('dist').length === 0 ? sources : []
}

// ------------------------------------------------------------------ one round

async function round(ctx, i, unique) {
  const stackName = `bench-${unique}-${i}`
  const repository = `bench-${unique}-${i}`
  const common = {
    dockerfile: 'service/Dockerfile',
    binary: 'bootstrap',
    template: 'template.yaml',
    bucket: 'bench-artifacts',
    'stack-name': stackName,
    'create-repository': 'true',
    'build-args': `REPOSITORY=${repository}`,
    'timeout-minutes': '5'
  }
  const first = await measuredRun(
    ctx,
    `run ${i} first deploy`,
    { ...common, 'build-id': `b${i}-1`, 'parameter-overrides': 'Stage=dev' },
    'CREATE_IN_PROGRESS'
  )
  const updateInputs = { ...common, 'build-id': `b${i}-2`, 'parameter-overrides': 'Stage=prod' }
  const update = await measuredRun(ctx, `run ${i} update`, updateInputs, 'UPDATE_IN_PROGRESS')
  const noop = await measuredRun(ctx, `run ${i} no-op redeploy`, updateInputs)

  // Rebuilds of the unchanged Dockerfile, in noop mode (build and checks only).
  const buildOnly = { ...updateInputs, mode: 'noop' }
  const pushed = `${process.env.LOCAL_REGISTRY_HOST}/${repository}:b${i}-2`
  const warm = await measuredRun(ctx, `run ${i} rebuild (local cache)`, buildOnly)
  wipeDocker(ctx)
  const cold = await measuredRun(ctx, `run ${i} rebuild (no cache)`, buildOnly)
  wipeDocker(ctx)
  const cacheFrom = await measuredRun(ctx, `run ${i} rebuild (cache-from)`, {
    ...buildOnly,
    'cache-from': pushed
  })
  wipeDocker(ctx)
  const loginEnv = { DOCKER_CONFIG: ctx.dockerConfig }
  docker(ctx, ['login', '--username', 'AWS', '--password-stdin', process.env.LOCAL_REGISTRY_HOST], {
    input: process.env.LOCAL_REGISTRY_PASSWORD,
    env: loginEnv
  })
  const pullStart = Date.now()
  docker(ctx, ['pull', '--quiet', pushed], { env: loginEnv })
  const pull = Date.now() - pullStart
  const pulled = await measuredRun(ctx, `run ${i} rebuild (pull + cache-from)`, {
    ...buildOnly,
    'cache-from': pushed
  })
  pulled.pull = pull
  return { first, update, noop, warm, cold, cacheFrom, pulled }
}

// ------------------------------------------------------------------ report

function table(header, rows) {
  const cells = [header, ...rows].map((row) => row.map((c) => String(c).replace(/\|/g, '\\|')))
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i].length)))
  const line = (row) => `| ${row.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  return [line(cells[0]), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join(
    '\n'
  )
}

function tally(list) {
  const counts = {}
  for (const item of list) counts[item] = (counts[item] ?? 0) + 1
  const text = Object.entries(counts)
    .map(([k, v]) => (v === 1 ? k : `${k} ×${v}`))
    .join(', ')
  return text || 'none'
}

function timeline(entries) {
  let busyUntil = 0
  const rows = entries.map((e) => {
    const idle = Math.max(0, e.at - busyUntil)
    busyUntil = Math.max(busyUntil, e.at + e.ms)
    return [
      String(Math.round(e.at)),
      String(Math.round(e.ms)),
      idle >= 1 ? String(Math.round(idle)) : '',
      e.what
    ]
  })
  return table(['At (ms)', 'Took (ms)', 'Idle before (ms)', 'What'], rows)
}

/** `A, B ×3, C`: an operation list with repeats in a row collapsed. */
function sequence(list) {
  const out = []
  for (const op of list) {
    const last = out[out.length - 1]
    if (last && last.op === op) last.n++
    else out.push({ op, n: 1 })
  }
  return out.map(({ op, n }) => (n === 1 ? op : `${op} ×${n}`)).join(', ')
}

function report(rounds, cold, size, meta) {
  const pick = (kind) => rounds.map((r) => r[kind])
  const m = (kind, f) => median(pick(kind).map(f))
  const firstD = pick('first')
  const updateD = pick('update')
  const noop = pick('noop')
  const deploys = [...firstD, ...updateD]

  const ftr = {
    first: m('first', (r) => r.release.finishToReturn),
    update: m('update', (r) => r.release.finishToReturn)
  }
  const over = { first: m('first', (r) => r.overhead), update: m('update', (r) => r.overhead) }
  const noopOwn = m('noop', (r) => r.wall - r.docker)
  const noopUploads = Math.max(...noop.map((r) => r.registry.blobUploads))
  const noopUpdates = Math.max(...noop.map((r) => r.stackUpdates))
  const noopWrites = noop.map((r) => r.writes.length)
  const parallelRuns = deploys.filter((r) => r.parallel)
  const overlapped = parallelRuns.filter((r) => r.parallel.overlap > 0)
  const pollRate = median(
    deploys.map((r) => (r.release.describeStacks + r.release.describeEvents) / HOLD_SECONDS)
  )
  const build = (kind) => ({
    time: m(kind, (r) => r.build),
    cached: m(kind, (r) => r.cached),
    steps: m(kind, (r) => r.steps)
  })
  const warm = build('warm')
  const coldB = build('cold')
  const cf = build('cacheFrom')
  const pulled = build('pulled')
  const pullMs = m('pulled', (r) => r.pull)

  const summary = table(
    ['Figure', `Median of ${RUNS}`, 'Target', 'Result'],
    [
      [
        'Cold start: `node dist/index.js` → first log line',
        s(cold.first),
        `≤ ${TARGET.coldStart} s`,
        verdict(cold.first <= TARGET.coldStart * 1000)
      ],
      ['  (node alone: empty script → first byte)', s(cold.nodeFirst), '', ''],
      [
        'Bundle: dist/index.js',
        `${(size.size / 1e6).toFixed(2)} MB (${size.size} B; all dist/*.js ${(size.all / 1e6).toFixed(2)} MB)`,
        `≤ ${TARGET.bundleMB} MB`,
        verdict(size.size <= TARGET.bundleMB * 1e6)
      ],
      ['First deploy: wall time', s(m('first', (r) => r.wall)), '', ''],
      [
        'First deploy: docker / simulated CloudFormation',
        `${s(m('first', (r) => r.docker))} / ${s(m('first', (r) => r.hold))}`,
        '',
        ''
      ],
      [
        'First deploy: overhead (wall − docker − CloudFormation)',
        s(over.first),
        `≤ ${TARGET.overhead} s`,
        verdict(over.first <= TARGET.overhead * 1000)
      ],
      ['Update: wall time', s(m('update', (r) => r.wall)), '', ''],
      [
        'Update: docker / simulated CloudFormation',
        `${s(m('update', (r) => r.docker))} / ${s(m('update', (r) => r.hold))}`,
        '',
        ''
      ],
      [
        'Update: overhead (wall − docker − CloudFormation)',
        s(over.update),
        `≤ ${TARGET.overhead} s`,
        verdict(over.update <= TARGET.overhead * 1000)
      ],
      [
        'Finish-to-return, first deploy (stack settled → exit)',
        s(ftr.first),
        `≤ ${TARGET.finishToReturn} s`,
        verdict(ftr.first <= TARGET.finishToReturn * 1000)
      ],
      [
        'Finish-to-return, update',
        s(ftr.update),
        `≤ ${TARGET.finishToReturn} s`,
        verdict(ftr.update <= TARGET.finishToReturn * 1000)
      ],
      [
        '  CloudFormation reads while waiting (DescribeStacks + DescribeStackEvents)',
        `${pollRate.toFixed(2)} calls/s`,
        'document',
        ''
      ],
      ['No-op redeploy: wall time', s(m('noop', (r) => r.wall)), '', ''],
      [
        'No-op redeploy: own time (wall − docker)',
        s(noopOwn),
        `≤ ${TARGET.noopOwn} s`,
        verdict(noopOwn <= TARGET.noopOwn * 1000)
      ],
      [
        'No-op redeploy: registry blob uploads (max)',
        String(noopUploads),
        '0',
        verdict(noopUploads === 0)
      ],
      [
        'No-op redeploy: stack updates (ExecuteChangeSet, max)',
        String(noopUpdates),
        '0',
        verdict(noopUpdates === 0)
      ],
      [
        'No-op redeploy: AWS write calls',
        `${median(noopWrites)} (${tally(noop[0].writes)})`,
        '',
        ''
      ],
      [
        'Template upload ∥ image push: PutObject overlaps the push',
        `${overlapped.length}/${parallelRuns.length} deploys`,
        'overlap',
        verdict(parallelRuns.length > 0 && overlapped.length === parallelRuns.length)
      ],
      [
        'Rebuild, unchanged Dockerfile, local layer cache',
        `${s(warm.time)} (${warm.cached}/${warm.steps} steps cached)`,
        '',
        ''
      ],
      [
        'Rebuild, no local cache, no cache-from',
        `${s(coldB.time)} (${coldB.cached}/${coldB.steps} cached)`,
        '',
        ''
      ],
      [
        'Rebuild, no local cache, cache-from = pushed tag',
        `${s(cf.time)} (${cf.cached}/${cf.steps} cached)`,
        'reuses layers',
        verdict(cf.cached > 0)
      ],
      [
        '  (not the action: docker pull, then cache-from)',
        `${s(pullMs)} pull + ${s(pulled.time)} build (${pulled.cached}/${pulled.steps} cached)`,
        '',
        ''
      ]
    ]
  )

  const breakdown = table(
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
    [
      ['first', 'first deploy'],
      ['update', 'update'],
      ['noop', 'no-op redeploy']
    ].map(([kind, name]) => [
      name,
      sec(m(kind, (r) => r.wall)),
      sec(m(kind, (r) => r.docker)),
      sec(m(kind, (r) => r.dockerOther)),
      sec(m(kind, (r) => r.hold)),
      sec(m(kind, (r) => r.overhead)),
      sec(m(kind, (r) => r.split.aws)),
      sec(m(kind, (r) => r.split.registry)),
      sec(m(kind, (r) => r.split.startup)),
      sec(m(kind, (r) => r.split.node))
    ])
  )

  const waiting = table(
    [
      'Run',
      'Finish → exit',
      'Finish → settled status read',
      'Read → exit',
      'DescribeStacks while held',
      'DescribeStackEvents while held'
    ],
    [
      ['first', 'first deploy'],
      ['update', 'update']
    ].map(([kind, name]) => [
      name,
      sec(m(kind, (r) => r.release.finishToReturn)),
      sec(m(kind, (r) => r.release.detectionLag)),
      sec(m(kind, (r) => r.release.tail)),
      String(m(kind, (r) => r.release.describeStacks)),
      String(m(kind, (r) => r.release.describeEvents))
    ])
  )

  const parallel = table(
    ['Run', 'PutObject (s)', 'docker push (s)', 'manifest PUT done (s)', 'Overlap (ms)'],
    parallelRuns.map((r) => [
      r.label,
      `${sec(r.parallel.putStart)} → ${sec(r.parallel.putEnd)}`,
      `${sec(r.parallel.pushStart)} → ${sec(r.parallel.pushEnd)}`,
      sec(r.parallel.manifestPut),
      String(Math.round(r.parallel.overlap))
    ])
  )

  const phaseNames = [...new Set(deploys.concat(noop).flatMap((r) => Object.keys(r.phases)))]
  const perRun = table(
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
    rounds.flatMap((r) =>
      [r.first, r.update, r.noop].map((x) => [
        x.label,
        sec(x.wall),
        sec(x.docker),
        sec(x.overhead),
        x.release ? sec(x.release.finishToReturn) : '-',
        String(x.awsCalls),
        tally(x.writes),
        `${x.registry.blobUploads} / ${x.registry.blobMounts}`,
        ...phaseNames.map((p) => (x.phases[p] === undefined ? '-' : x.phases[p].toFixed(1)))
      ])
    )
  )

  const builds = table(
    ['Run', 'Local cache', 'No cache', 'cache-from', 'pull + cache-from'],
    rounds.map((r, i) => [
      String(i + 1),
      `${sec(r.warm.build)} (${r.warm.cached}/${r.warm.steps})`,
      `${sec(r.cold.build)} (${r.cold.cached}/${r.cold.steps})`,
      `${sec(r.cacheFrom.build)} (${r.cacheFrom.cached}/${r.cacheFrom.steps})`,
      `${sec(r.pulled.pull)} + ${sec(r.pulled.build)} (${r.pulled.cached}/${r.pulled.steps})`
    ])
  )

  const busy =
    meta.loadMax > os.cpus().length / 2
      ? `\n> The machine was busy (${meta.load}): other processes competed for the CPUs, so times are longer than on an idle machine.\n`
      : ''
  const stale =
    size.stale.length > 0
      ? `\n> **${size.stale.join(', ')} changed since the last commit but dist/ did not**: these figures measure the committed bundle, not the current source (run \`npm run package\`).\n`
      : ''

  const markdown = `# Benchmark results

Written by \`npm run bench\` (bench/run.mjs; how each figure is measured: bench/README.md).
${meta.date}; ${RUNS} run${RUNS === 1 ? '' : 's'} per figure, medians; simulated CloudFormation operation
time ${HOLD_SECONDS} s per deploy; image: two ${PAYLOAD_MB} MB payload layers.
Machine: ${meta.machine}; ${meta.load}. Source: ${meta.git}.
${stale}${busy}
## Summary

${summary}

Overhead is everything that is neither docker nor CloudFormation's own (simulated) time: node's
start-up, the AWS calls (answered here by a local moto, faster than AWS), the action's registry
reads, and its own CPU and waits. Cold start: \`${cold.line.slice(0, 80)}\` is the first line.
${
  noop.some((r) => r.replacedChangeSet)
    ? `
The no-op redeploy's first DeleteChangeSet removes the change set of the same name that the update
executed ("Replacing change set … left by an earlier run of this build"): moto keeps executed change
sets, CloudFormation removes them after an execution, so against AWS that call does not happen.
`
    : ''
}
## Where the overhead goes (medians, seconds)

Each millisecond of a run is counted once: docker first, then the held stack status, then an AWS
call in flight, then a registry read by the action, else node (start-up before the first call, or
its own work and sleeps later). "Not build/push" is the docker calls the action adds around the
build and the push (${tally(rounds[0].update.dockerCalls.filter((c) => c !== 'build' && c !== 'push'))} in an update):
counted as docker time above, though they are the action's choice.

${breakdown}

## Waiting for CloudFormation (medians)

The fault proxy shows the stack \`*_IN_PROGRESS\` for ${HOLD_SECONDS} s after ExecuteChangeSet; "finish"
is when that ends.

${waiting}

## Template upload ∥ image push

Seconds from the start of the "Push image and upload template" phase (its first AWS call). The
template upload runs while the image is published (ECR login, manifest check, docker login, tag,
push); "overlap" is how long PutObject ran inside that window.

${parallel}

## Build cache

Rebuilds of the unchanged Dockerfile in \`mode: noop\` (build and checks only); docker build time
(steps cached / steps). "No cache": every image and the build cache removed first; "cache-from":
likewise, with \`cache-from\` set to the tag the update pushed. The engine is docker ${meta.engine}
without buildx, so the legacy builder runs: it only uses \`--cache-from\` images that are already
local and does not pull them (dockerd logs "Could not look up … for cache resolution, skipping").
The last column pulls the tag first (the bench does that, not the action) to show what a pull buys.

${builds}

## AWS calls of the last round, in order

${['first', 'update', 'noop']
  .map((kind) => {
    const r = rounds[rounds.length - 1][kind]
    return `- ${r.label} (${r.sequence.length}): ${sequence(r.sequence)}`
  })
  .join('\n')}

## Timeline of the last update

Milliseconds from the spawn; "idle before" is the time since the previous entry ended in which
nothing was in flight (node's own work, or a sleep between polls).

${timeline(rounds[rounds.length - 1].update.timeline)}

## Per run

${perRun}
`
  return { summary, markdown }
}

// ------------------------------------------------------------------ main

async function main() {
  checkWorld()
  const started = Date.now()
  const size = bundle()
  if (size.stale.length > 0)
    say(`warning: ${size.stale.join(', ')} changed but dist/ did not: run 'npm run package'`)
  const ctx = prepareWorkspace()
  try {
    await createBucket('bench-artifacts')
    await coldSample() // warm-up: the disk cache
    const coldSamples = []
    const load = [os.loadavg()[0]]
    const unique = Date.now().toString(36)
    const rounds = []
    for (let i = 1; i <= RUNS; i++) {
      const t0 = Date.now()
      coldSamples.push(await coldSample())
      const r = await round(ctx, i, unique)
      rounds.push(r)
      say(
        `run ${i}/${RUNS} in ${s(Date.now() - t0)} (load ${os.loadavg()[0].toFixed(2)}): first deploy ${s(r.first.wall)} (overhead ${s(r.first.overhead)}), update ${s(r.update.wall)} (overhead ${s(r.update.overhead)}), no-op ${s(r.noop.wall)}`
      )
    }
    load.push(os.loadavg()[0])
    const cold = coldSummary(coldSamples)
    const engine = docker(ctx, ['version', '--format', '{{.Server.Version}}']).trim()
    const client = docker(ctx, ['version', '--format', '{{.Client.Version}}']).trim()
    let git = 'unknown'
    try {
      const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
        cwd: root,
        encoding: 'utf8'
      }).trim()
      const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'dist'], {
        cwd: root,
        encoding: 'utf8'
      }).trim()
      git = `git ${sha}${dirty ? ' with uncommitted changes in src/ or dist/' : ''}`
    } catch {
      // not a checkout
    }
    const cpus = os.cpus()
    const meta = {
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      machine: `${cpus.length} × ${cpus[0]?.model?.trim() ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}, docker CLI ${client} / engine ${engine}`,
      engine,
      git,
      loadMax: Math.max(...load),
      load: `1-minute load average ${load[0].toFixed(2)} at the start, ${load[1].toFixed(2)} at the end (${cpus.length} CPUs)`
    }
    const { summary, markdown } = report(rounds, cold, size, meta)
    writeFileSync(RESULTS_FILE, markdown)
    process.stdout.write(
      `\n${summary}\n\nWritten to ${RESULTS_FILE} (${s(Date.now() - started)}).\n`
    )
  } finally {
    if (process.env.BENCH_KEEP === '1') say(`kept ${ctx.work}`)
    else rmSync(ctx.work, { recursive: true, force: true })
  }
}

main().catch((error) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
