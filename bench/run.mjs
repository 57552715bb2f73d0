// `npm run bench`: the action's own overhead, measured against the local world (local/world.sh:
// moto behind the fault proxy, a real Docker engine, a real registry). This is the runner: it runs
// the action, hands what it collected to bench/analysis.mjs (pure), writes the figures to
// bench/results.json and has bench/render.mjs turn them into bench/RESULTS.md. See bench/README.md
// for what each figure is. The Summary table also carries the fresh-runner cache figures of the
// last `npm run bench:cache` (bench/cache-results.json), which needs a BuildKit engine, and the
// release figures of bench/release.mjs (bench/release-results.json), which `npm run bench` runs
// first in the same world.
// What the bench scripts share (the world, the scratch workspace and docker shim, running the
// action, writing results) is bench/harness.mjs.
//
//   BENCH_RUNS=5           runs per figure (medians); 1 is a quick smoke run
//   BENCH_HOLD_SECONDS=3   simulated CloudFormation operation time after ExecuteChangeSet
//   BENCH_PAYLOAD_MB=8     size of each of the image's two payload layers
//   BENCH_KEEP=1           keep the scratch workspace and the docker call log
//   BENCH_RESULTS=<file>   where to write the Markdown (default bench/RESULTS.md); the JSON goes
//                          to results.json in the same folder
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createBucket } from '../local/action-runner.mjs'
import { analyseRun, coldStartFigures, summarise, TARGET } from './analysis.mjs'
import { cacheForResults } from './cache-figures.mjs'
import * as harness from './harness.mjs'

const s = harness.seconds
import { releaseForResults } from './release-figures.mjs'
import { renderResults } from './render.mjs'
import { positiveInt, positiveNumber } from './settings.mjs'

const RUNS = positiveInt('BENCH_RUNS', 5)
const HOLD_SECONDS = positiveNumber('BENCH_HOLD_SECONDS', 3)
const PAYLOAD_MB = positiveNumber('BENCH_PAYLOAD_MB', 8)
const RESULTS_FILE = resolve(harness.root, process.env.BENCH_RESULTS || 'bench/RESULTS.md')
const JSON_FILE = join(dirname(RESULTS_FILE), 'results.json')

const WORLD = [
  'AWS_ENDPOINT_URL',
  'LOCAL_FAULT_PROXY_URL',
  'LOCAL_REGISTRY_HOST',
  'LOCAL_REGISTRY_PASSWORD',
  'LOCAL_WORLD_DIR',
  'DOCKER_HOST'
]

const say = harness.sayer('bench')

const registryLogFile = () => join(process.env.LOCAL_WORLD_DIR, 'registry.log')

// ------------------------------------------------------------------ scratch workspace

/**
 * A scratch workspace: the bench service (Dockerfile, bootstrap, two payload layers) and the
 * example's template, and the docker shim first on the action's PATH.
 */
function prepareBenchWorkspace() {
  const { work, workspace, service } = harness.prepareWorkspace('oci-stack-deploy-bench-')
  harness.writePayloads(service, PAYLOAD_MB)
  const shim = harness.writeDockerShim(work)
  // the bench's own docker login (to pull what the action pushed), apart from the action's
  const dockerConfig = join(work, 'docker-config')
  mkdirSync(dockerConfig)
  return {
    work,
    dockerLog: shim.log,
    dockerConfig,
    env: { GITHUB_WORKSPACE: workspace, ...shim.env }
  }
}

/** Removes every image and the build cache from the engine: the next build starts cold. */
function wipeDocker() {
  const images = (all) => [
    ...new Set(
      harness
        .docker(['images', '--no-trunc', all ? '-aq' : '-q'])
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
      if (ids.length > 0) harness.docker(['rmi', '-f', ...ids])
    } catch {
      // "image has dependent child images" / "No such image": the next round sees what is left
    }
    harness.docker(['image', 'prune', '-af'])
  }
  const left = images(true)
  if (left.length > 0) throw new Error(`could not remove every image: ${left.join(' ')}`)
  try {
    harness.docker(['builder', 'prune', '-af'])
  } catch {
    // The legacy builder keeps its cache as images, removed above.
  }
}

// ------------------------------------------------------------------ one action run

/**
 * Runs the action once and measures it. `hold`: the stack status the fault proxy shows for
 * HOLD_SECONDS after ExecuteChangeSet (the simulated CloudFormation operation).
 */
async function measuredRun(ctx, label, inputs, hold) {
  await harness.faults('DELETE', '')
  if (hold) await harness.holdAfterExecute(inputs['stack-name'], hold, HOLD_SECONDS)
  writeFileSync(ctx.dockerLog, '')
  const offset = harness.logOffset(registryLogFile())
  const run = await harness.runActionChecked(label, inputs, ctx.env)
  const [rules, proxyLog] = await Promise.all([
    harness.faults('GET', '/rules'),
    harness.faults('GET', '/log')
  ])
  return analyseRun({
    label,
    run,
    hold,
    holdSeconds: HOLD_SECONDS,
    rules,
    proxyLog,
    dockerLog: existsSync(ctx.dockerLog) ? readFileSync(ctx.dockerLog, 'utf8') : '',
    registryLog: harness.logSince(registryLogFile(), offset)
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
      cwd: harness.root,
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
  const action = await timeSpawn([join(harness.root, 'dist/index.js')], env)
  if (action.code !== 1 || !action.out.startsWith('::error::')) {
    throw new Error(
      `node dist/index.js without inputs should fail with ::error::, got: ${action.out}`
    )
  }
  const node = await timeSpawn(['-e', "process.stdout.write('x')"], env)
  return { action, node }
}

function bundle() {
  const dir = join(harness.root, 'dist')
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
  const sources = harness.uncommitted('src')
  return sources.length > 0 && harness.uncommitted('dist').length === 0 ? sources : []
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
  wipeDocker()
  const cold = await measuredRun(ctx, `run ${i} rebuild (no cache)`, buildOnly)
  wipeDocker()
  const withCacheFrom = { ...buildOnly, 'cache-from': pushed }
  const cacheFrom = await measuredRun(ctx, `run ${i} rebuild (cache-from)`, withCacheFrom)
  wipeDocker()
  const loginEnv = { DOCKER_CONFIG: ctx.dockerConfig }
  harness.docker(
    ['login', '--username', 'AWS', '--password-stdin', process.env.LOCAL_REGISTRY_HOST],
    {
      input: process.env.LOCAL_REGISTRY_PASSWORD,
      env: loginEnv
    }
  )
  const pullStart = Date.now()
  harness.docker(['pull', '--quiet', pushed], { env: loginEnv })
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
  const head = harness.gitHead()
  if (!head) return 'unknown' // not a checkout
  const dirty = harness.uncommitted('src').length > 0 || harness.uncommitted('dist').length > 0
  return `${head}${dirty ? ' with uncommitted changes in src/ or dist/' : ''}`
}

/** When, on what and under which load the bench ran. */
function machineMeta(load) {
  const engine = harness.docker(['version', '--format', '{{.Server.Version}}']).trim()
  const client = harness.docker(['version', '--format', '{{.Client.Version}}']).trim()
  return {
    date: harness.isoNow(),
    machine: `${harness.hostSummary()}, ${os.platform()} ${os.release()}, Node ${process.version}, docker CLI ${client} / engine ${engine}`,
    engine,
    git: gitSource(),
    cpus: os.cpus().length,
    loadMax: Math.max(...load),
    load: harness.loadSummary(load)
  }
}

/**
 * The fresh-runner cache figures of the last `npm run bench:cache` (bench/cache-results.json; it
 * needs a BuildKit engine, this bench runs on the world's default one), for the Summary table,
 * which states their date and engine. `undefined` when it never ran.
 */
function lastCacheFigures() {
  const file = join(harness.root, 'bench/cache-results.json')
  return existsSync(file) ? cacheForResults(JSON.parse(readFileSync(file, 'utf8'))) : undefined
}

/**
 * The release figures of `npm run bench:release` (bench/release-results.json), which `npm run
 * bench` runs first in the same world. `undefined` when it never ran.
 */
function lastReleaseFigures() {
  const file = join(harness.root, 'bench/release-results.json')
  return existsSync(file) ? releaseForResults(JSON.parse(readFileSync(file, 'utf8'))) : undefined
}

/**
 * Writes the results as JSON (formatted as the repository's prettier would, so `format:check`
 * passes on the committed file) and, rendered from that JSON (so `node bench/render.mjs` gives
 * the same page), as Markdown. Returns the summary table.
 */
async function writeResults(results) {
  const json = await harness.writeJson(JSON_FILE, results, harness.thousandths)
  const { summary, markdown } = renderResults(JSON.parse(json))
  writeFileSync(RESULTS_FILE, markdown)
  return summary
}

async function main() {
  harness.requireWorld(WORLD, 'npm run bench')
  const started = Date.now()
  const size = bundle()
  if (size.stale.length > 0)
    say(`warning: ${size.stale.join(', ')} changed but dist/ did not: run 'npm run package'`)
  const ctx = prepareBenchWorkspace()
  try {
    await createBucket('bench-artifacts')
    const { rounds, coldSamples, load } = await measure(ctx)
    const coldStart = coldStartFigures(coldSamples)
    const config = { runs: RUNS, holdSeconds: HOLD_SECONDS, payloadMB: PAYLOAD_MB }
    const summary = summarise({ rounds, coldStart, bundle: size, holdSeconds: HOLD_SECONDS })
    const meta = machineMeta(load)
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
    harness.removeScratch(ctx.work, say)
  }
}

harness.runMain('bench', main)
