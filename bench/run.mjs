// `npm run bench`: the action's own overhead, measured against the local world (local/world.sh:
// moto behind the fault proxy, a real Docker engine, a real registry). This is the runner: it runs
// the action, hands what it collected to bench/analysis.mjs (pure), writes the figures to
// bench/results.json and has bench/render.mjs turn them into bench/RESULTS.md. See bench/README.md
// for what each figure is. The Summary table also carries the fresh-runner cache figures of the
// last `npm run bench:cache` (bench/cache-results.json), which needs a BuildKit engine, and the
// release figures of bench/release.mjs (bench/release-results.json), which `npm run bench` runs
// first in the same world.
//
//   BENCH_RUNS=5           runs per figure (medians); 1 is a quick smoke run
//   BENCH_HOLD_SECONDS=3   simulated CloudFormation operation time after ExecuteChangeSet
//   BENCH_PAYLOAD_MB=8     size of each of the image's two payload layers
//   BENCH_KEEP=1           keep the scratch workspace and the docker call log
//   BENCH_RESULTS=<file>   where to write the Markdown (default bench/RESULTS.md); the JSON goes
//                          to results.json in the same folder
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
import { dirname, join, resolve } from 'node:path'
import * as prettier from 'prettier'
import { createBucket, runAction } from '../local/action-runner.mjs'
import { analyseRun, coldStartFigures, summarise, TARGET } from './analysis.mjs'
import { cacheForResults } from './cache-figures.mjs'
import { releaseForResults } from './release-figures.mjs'
import { renderResults } from './render.mjs'
import { positiveInt, positiveNumber } from './settings.mjs'

const root = resolve(import.meta.dirname, '..')
const RUNS = positiveInt('BENCH_RUNS', 5)
const HOLD_SECONDS = positiveNumber('BENCH_HOLD_SECONDS', 3)
const PAYLOAD_MB = positiveNumber('BENCH_PAYLOAD_MB', 8)
const RESULTS_FILE = resolve(root, process.env.BENCH_RESULTS || 'bench/RESULTS.md')
const JSON_FILE = join(dirname(RESULTS_FILE), 'results.json')

const WORLD = [
  'AWS_ENDPOINT_URL',
  'LOCAL_FAULT_PROXY_URL',
  'LOCAL_REGISTRY_HOST',
  'LOCAL_REGISTRY_PASSWORD',
  'LOCAL_WORLD_DIR',
  'DOCKER_HOST'
]

function say(text) {
  process.stderr.write(`bench: ${text}\n`)
}

/** Milliseconds as `1.23 s`, for the progress lines. */
const s = (ms) => `${(ms / 1000).toFixed(2)} s`

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

const registryLogFile = () => join(process.env.LOCAL_WORLD_DIR, 'registry.log')

function registryOffset() {
  return existsSync(registryLogFile()) ? statSync(registryLogFile()).size : 0
}

/** What the registry logged after `offset`. */
function registryLogSince(offset) {
  return readFileSync(registryLogFile()).subarray(offset).toString('utf8')
}

// ------------------------------------------------------------------ scratch workspace

/** Deterministic pseudo-random bytes (AES-CTR keystream), so every run builds the same layers. */
function payload(seed, bytes) {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16)
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(bytes))
}

/**
 * A scratch workspace: the bench service (Dockerfile, bootstrap, two payload layers) and the
 * example's template, and the docker shim first on the action's PATH.
 */
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

  const bin = join(work, 'bin')
  const realDocker = writeDockerShim(bin)
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

/**
 * Every docker call the action makes goes through this shim in `bin`, which logs its start and
 * end (the format analysis.mjs's parseDockerLog reads). Returns the real CLI's path.
 */
function writeDockerShim(bin) {
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
  return realDocker
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
  const [rules, proxyLog] = await Promise.all([proxy('GET', '/rules'), proxy('GET', '/log')])
  return analyseRun({
    label,
    run,
    hold,
    holdSeconds: HOLD_SECONDS,
    rules,
    proxyLog,
    dockerLog: existsSync(ctx.dockerLog) ? readFileSync(ctx.dockerLog, 'utf8') : '',
    registryLog: registryLogSince(offset)
  })
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

/** One round: a first deploy, an update, a no-op redeploy, then the four rebuilds. */
async function round(ctx, i, unique) {
  const repository = `bench-${unique}-${i}`
  const common = {
    dockerfile: 'service/Dockerfile',
    binary: 'bootstrap',
    template: 'template.yaml',
    bucket: 'bench-artifacts',
    'stack-name': `bench-${unique}-${i}`,
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
  const pushed = `${process.env.LOCAL_REGISTRY_HOST}/${repository}:b${i}-2`
  return { first, update, noop, ...(await rebuilds(ctx, i, updateInputs, pushed)) }
}

/**
 * Rebuilds of the unchanged Dockerfile, in noop mode (build and checks only): with the local
 * cache, cold, cold with `cache-from` = the tag the update `pushed`, and after pulling that tag.
 */
async function rebuilds(ctx, i, updateInputs, pushed) {
  const buildOnly = { ...updateInputs, mode: 'noop' }
  const warm = await measuredRun(ctx, `run ${i} rebuild (local cache)`, buildOnly)
  wipeDocker(ctx)
  const cold = await measuredRun(ctx, `run ${i} rebuild (no cache)`, buildOnly)
  wipeDocker(ctx)
  const withCacheFrom = { ...buildOnly, 'cache-from': pushed }
  const cacheFrom = await measuredRun(ctx, `run ${i} rebuild (cache-from)`, withCacheFrom)
  wipeDocker(ctx)
  const loginEnv = { DOCKER_CONFIG: ctx.dockerConfig }
  docker(ctx, ['login', '--username', 'AWS', '--password-stdin', process.env.LOCAL_REGISTRY_HOST], {
    input: process.env.LOCAL_REGISTRY_PASSWORD,
    env: loginEnv
  })
  const pullStart = Date.now()
  docker(ctx, ['pull', '--quiet', pushed], { env: loginEnv })
  const pull = Date.now() - pullStart
  const pulled = await measuredRun(ctx, `run ${i} rebuild (pull + cache-from)`, withCacheFrom)
  return { warm, cold, cacheFrom, pulled: { ...pulled, pull } }
}

// ------------------------------------------------------------------ main

/** Every round, with one cold-start sample before each, and the load average around them. */
async function measure(ctx) {
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
  return { rounds, coldSamples, load }
}

/** `git <sha>`, noting uncommitted changes in src/ or dist/. */
function gitSource() {
  const git = (args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim()
  try {
    const dirty = git(['status', '--porcelain', '--', 'src', 'dist'])
    return `git ${git(['rev-parse', '--short', 'HEAD'])}${dirty ? ' with uncommitted changes in src/ or dist/' : ''}`
  } catch {
    return 'unknown' // not a checkout
  }
}

/** When, on what and under which load the bench ran. */
function machineMeta(ctx, load) {
  const engine = docker(ctx, ['version', '--format', '{{.Server.Version}}']).trim()
  const client = docker(ctx, ['version', '--format', '{{.Client.Version}}']).trim()
  const cpus = os.cpus()
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    machine: `${cpus.length} × ${cpus[0]?.model?.trim() ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}, docker CLI ${client} / engine ${engine}`,
    engine,
    git: gitSource(),
    cpus: cpus.length,
    loadMax: Math.max(...load),
    load: `1-minute load average ${load[0].toFixed(2)} at the start, ${load[1].toFixed(2)} at the end (${cpus.length} CPUs)`
  }
}

/**
 * The fresh-runner cache figures of the last `npm run bench:cache` (bench/cache-results.json; it
 * needs a BuildKit engine, this bench runs on the world's default one), for the Summary table,
 * which states their date and engine. `undefined` when it never ran.
 */
function lastCacheFigures() {
  const file = join(root, 'bench/cache-results.json')
  return existsSync(file) ? cacheForResults(JSON.parse(readFileSync(file, 'utf8'))) : undefined
}

/**
 * The release figures of `npm run bench:release` (bench/release-results.json), which `npm run
 * bench` runs first in the same world. `undefined` when it never ran.
 */
function lastReleaseFigures() {
  const file = join(root, 'bench/release-results.json')
  return existsSync(file) ? releaseForResults(JSON.parse(readFileSync(file, 'utf8'))) : undefined
}

/** Fractions to three decimals (milliseconds to the microsecond), so the JSON stays readable. */
const thousandths = (_key, value) =>
  typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value

/**
 * Writes the results as JSON (formatted as the repository's prettier would, so `format:check`
 * passes on the committed file) and, rendered from that JSON (so `node bench/render.mjs` gives
 * the same page), as Markdown. Returns the summary table.
 */
async function writeResults(results) {
  const json = JSON.stringify(results, thousandths)
  const options = { ...(await prettier.resolveConfig(JSON_FILE)), filepath: JSON_FILE }
  writeFileSync(JSON_FILE, await prettier.format(json, options))
  const { summary, markdown } = renderResults(JSON.parse(json))
  writeFileSync(RESULTS_FILE, markdown)
  return summary
}

async function main() {
  checkWorld()
  const started = Date.now()
  const size = bundle()
  if (size.stale.length > 0)
    say(`warning: ${size.stale.join(', ')} changed but dist/ did not: run 'npm run package'`)
  const ctx = prepareWorkspace()
  try {
    await createBucket('bench-artifacts')
    const { rounds, coldSamples, load } = await measure(ctx)
    const coldStart = coldStartFigures(coldSamples)
    const config = { runs: RUNS, holdSeconds: HOLD_SECONDS, payloadMB: PAYLOAD_MB }
    const summary = summarise({ rounds, coldStart, bundle: size, holdSeconds: HOLD_SECONDS })
    const meta = machineMeta(ctx, load)
    const cache = lastCacheFigures()
    const release = lastReleaseFigures()
    const results = {
      config,
      targets: TARGET,
      meta,
      bundle: size,
      coldStart,
      summary,
      rounds,
      cache,
      release
    }
    const table = await writeResults(results)
    process.stdout.write(
      `\n${table}\n\nWritten to ${RESULTS_FILE} and ${JSON_FILE} (${s(Date.now() - started)}).\n`
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
