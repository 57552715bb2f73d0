// `npm run bench:cache`: the build cache on a fresh runner, measured in the local world on a
// BuildKit engine (LOCAL_WORLD_ENGINE=containerd by default; buildkit works too, with the inline
// cache). Builds the bench service with and without the registry cache, each on a brand-new engine
// (a second dockerd like the world's, with an empty data root), and writes
// bench/cache-results.json and bench/CACHE.md. The figures are computed by bench/cache-figures.mjs.
// The main bench table repeats them: this also puts them in bench/results.json and re-renders
// bench/RESULTS.md (and `npm run bench` reads them from bench/cache-results.json).
//
//   BENCH_CACHE_RUNS=3          builds of each kind (medians)
//   BENCH_CACHE_WORK_ROUNDS=6   rounds of the build stage's CPU work (a few seconds each)
//   BENCH_CACHE_LAYERS=2        toolchain layers of the build image
//   BENCH_CACHE_LAYER_MB=32     MB of generated files per toolchain layer
//   BENCH_CACHE_LOGS=<dir>      also write each measured run's log there
import { execFileSync, spawn } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import * as prettier from 'prettier'
import { createBucket } from '../local/action-runner.mjs'
import {
  cacheFigures,
  cacheForResults,
  parseBuildSteps,
  phaseDockerCalls,
  phaseSeconds,
  renderCache
} from './cache-figures.mjs'
import * as harness from './harness.mjs'
import { parseDockerLog } from './logs.mjs'
import { renderResults } from './render.mjs'
import { positiveInt } from './settings.mjs'

const RUNS = positiveInt('BENCH_CACHE_RUNS', 3)
const WORK_ROUNDS = positiveInt('BENCH_CACHE_WORK_ROUNDS', 6)
const LAYERS = positiveInt('BENCH_CACHE_LAYERS', 2)
const LAYER_MB = positiveInt('BENCH_CACHE_LAYER_MB', 32)
/** Debian's busybox-static (local/world.sh installs it): the one static shell this machine has. */
const BUSYBOX = '/bin/busybox'
const PAYLOAD_MB = 8
const FILES_PER_LAYER = 64

const say = harness.sayer('bench:cache')

/**
 * The build image: busybox with its applet links (a shell and the tools the build stage runs),
 * then LAYERS layers of generated files under /toolchain (the bulk of a compiler image), built
 * FROM scratch and pushed to the world's registry.
 */
function pushBase(work, image) {
  const dir = join(work, 'base')
  const rootfs = join(dir, 'rootfs')
  mkdirSync(join(rootfs, 'bin'), { recursive: true })
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'))
  chmodSync(join(rootfs, 'bin/busybox'), 0o755)
  const applets = execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' })
  for (const path of applets.split('\n').filter(Boolean)) {
    if (path === 'bin/busybox') continue
    mkdirSync(dirname(join(rootfs, path)), { recursive: true })
    symlinkSync('/bin/busybox', join(rootfs, path))
  }
  mkdirSync(join(rootfs, 'tmp'))
  const lines = ['FROM scratch', 'COPY rootfs/ /']
  for (let layer = 0; layer < LAYERS; layer++) {
    const files = join(dir, `layer${layer}`)
    mkdirSync(files, { recursive: true })
    const size = Math.round((LAYER_MB * 1024 * 1024) / FILES_PER_LAYER)
    for (let f = 0; f < FILES_PER_LAYER; f++) {
      writeFileSync(join(files, `f${f}.bin`), harness.payload(`toolchain-${layer}-${f}`, size))
    }
    lines.push(`COPY layer${layer}/ /toolchain/layer${layer}/`)
  }
  writeFileSync(join(dir, 'Dockerfile'), `${lines.join('\n')}\n`)
  harness.docker(['build', '--provenance=false', '--sbom=false', '--tag', image, dir])
  harness.docker(
    ['login', '--username', 'AWS', '--password-stdin', process.env.LOCAL_REGISTRY_HOST],
    {
      input: process.env.LOCAL_REGISTRY_PASSWORD
    }
  )
  harness.docker(['push', image])
  rmSync(dir, { recursive: true, force: true })
}

/**
 * A fresh engine: a second dockerd started as the world's (its binary, PATH and daemon.json,
 * read from the running process) with an empty data root, exec root and socket of its own.
 */
async function startFreshEngine() {
  const world = process.env.LOCAL_WORLD_DIR
  const pid = readFileSync(join(world, 'dockerd.pid'), 'utf8').trim()
  const exe = readlinkSync(`/proc/${pid}/exe`)
  const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
  const path = environ.find((v) => v.startsWith('PATH='))?.slice(5) ?? process.env.PATH
  const dir = mkdtempSync('/tmp/bc-')
  const host = `unix://${dir}/docker.sock`
  // prettier-ignore
  const args = ['--config-file', join(world, 'daemon.json'), '--iptables=false', '--ip6tables=false',
    '--bridge=none', '--ip-masq=false', '--userland-proxy=false', '--data-root', join(dir, 'docker'),
    '--exec-root', join(dir, 'x'), '--pidfile', join(dir, 'dockerd.pid'), '--host', host]
  const child = spawn(exe, args, {
    env: { ...process.env, PATH: path },
    stdio: ['ignore', 'ignore', 'ignore']
  })
  const exited = new Promise((done) => child.on('exit', done))
  for (let i = 0; ; i++) {
    try {
      harness.docker(['info', '--format', '{{.ID}}'], { env: { DOCKER_HOST: host } })
      break
    } catch (error) {
      if (i > 150) throw new Error(`the fresh engine did not start: ${error}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  const stop = async () => {
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    await exited
    clearTimeout(timer)
    for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n').reverse()) {
      const target = line.split(' ')[1]
      if (target?.startsWith(`${dir}/`)) execFileSync('umount', ['-l', target])
    }
    rmSync(dir, { recursive: true, force: true })
  }
  return { host, stop }
}

/**
 * The main bench table repeats these figures: put them in bench/results.json (which bench/run.mjs
 * reads from here on its next run too) and render bench/RESULTS.md again, its other figures as
 * they were.
 */
async function refreshBenchTable(results) {
  const file = join(harness.root, 'bench/results.json')
  if (!existsSync(file)) return
  const bench = { ...JSON.parse(readFileSync(file, 'utf8')), cache: cacheForResults(results) }
  await harness.writeJson(file, bench)
  writeFileSync(join(harness.root, 'bench/RESULTS.md'), renderResults(bench).markdown)
  say('the fresh-runner rows of bench/RESULTS.md are updated')
}

/**
 * The action with the cache bench's inputs, its docker calls logged by the shim (`callLog`):
 * `act(label, inputs, env)` runs it once with `inputs` and `env` added.
 */
function cacheAction(work, workspace, repository, base) {
  const common = {
    dockerfile: 'service/Dockerfile',
    template: 'template.yaml',
    bucket: 'bench-artifacts',
    'stack-name': repository,
    'create-repository': 'true',
    'build-args': `REPOSITORY=${repository}\nBASE=${base}\nWORK_ROUNDS=${WORK_ROUNDS}`,
    'timeout-minutes': '5'
  }
  const shim = harness.writeDockerShim(work)
  const env = { GITHUB_WORKSPACE: workspace, ...shim.env }
  const act = (label, inputs, extraEnv = {}) =>
    harness.runActionChecked(label, { ...common, ...inputs }, { ...env, ...extraEnv })
  return { act, callLog: shim.log }
}

/** A first deploy, then an update that writes the registry cache (checked on containerd). */
async function seed({ act, callLog }, engine) {
  say('seeding: a first deploy, then an update that writes the registry cache')
  await act('first deploy', { 'build-id': 'seed-1' })
  const seeded = await act('update', {
    'build-id': 'seed-2',
    'parameter-overrides': 'Stage=prod'
  })
  writeFileSync(callLog, '')
  if (engine === 'containerd' && !/build cache: registry, /.test(seeded.stdout)) {
    throw new Error('the update did not use the registry cache:\n' + seeded.stdout)
  }
}

/** Build `i` of a `variant` ("without"/"with", `build-cache: mode`) on a fresh engine: its figures. */
async function measureBuild({ act, callLog }, variant, mode, i) {
  const fresh = await startFreshEngine()
  try {
    const run = await act(
      `${variant} cache ${i}`,
      { mode: 'noop', 'build-id': `measure-${i}`, 'build-cache': mode },
      { DOCKER_HOST: fresh.host }
    )
    const log = `${run.stdout}\n${run.stderr}`
    if (process.env.BENCH_CACHE_LOGS) {
      writeFileSync(join(process.env.BENCH_CACHE_LOGS, `${variant}-${i}.log`), log)
    }
    const calls = parseDockerLog(readFileSync(callLog, 'utf8'))
    writeFileSync(callLog, '')
    const dockerCalls = phaseDockerCalls(run.stdout, calls, 'Build image')
    const builds = dockerCalls.filter((call) => call.command === 'build')
    if (builds.length !== 1) {
      throw new Error(`expected one docker build, the shim saw ${JSON.stringify(calls)}`)
    }
    const figures = {
      variant,
      buildSeconds: (builds[0].end - builds[0].start) / 1000,
      phaseSeconds: phaseSeconds(run.summary, 'Build image'),
      wallSeconds: (run.timing.exitedAt - run.timing.spawnedAt) / 1000,
      dockerCalls,
      steps: parseBuildSteps(log)
    }
    const cached = figures.steps.filter((step) => step.cached).length
    say(
      `${variant} cache, run ${i}: docker build ${figures.buildSeconds} s (phase ${figures.phaseSeconds} s), ${cached} of ${figures.steps.length} steps CACHED`
    )
    return figures
  } finally {
    await fresh.stop()
  }
}

/** cache-results.json and CACHE.md from the measured `runs`, and the main table's rows. */
async function writeCacheResults(engine, runs) {
  const figures = cacheFigures(runs)
  const results = {
    config: {
      engine,
      runs: RUNS,
      baseImage: 'bench-base',
      workRounds: WORK_ROUNDS,
      toolchainLayers: LAYERS,
      toolchainLayerMB: LAYER_MB,
      payloadMB: PAYLOAD_MB
    },
    meta: {
      date: new Date().toISOString().slice(0, 10),
      engine: harness.docker(['version', '--format', 'dockerd {{.Server.Version}}']).trim(),
      cpus: os.cpus().length
    },
    figures,
    runs
  }
  await harness.writeJson(join(harness.root, 'bench/cache-results.json'), results)
  const markdown = await prettier.format(renderCache(results), { parser: 'markdown' })
  writeFileSync(join(harness.root, 'bench/CACHE.md'), markdown)
  await refreshBenchTable(results)
  return figures
}

async function main() {
  const engine = process.env.LOCAL_WORLD_ENGINE
  harness.requireWorld(['LOCAL_WORLD_DIR', 'LOCAL_REGISTRY_HOST'], 'npm run bench:cache')
  if (engine !== 'containerd' && engine !== 'buildkit') {
    throw new Error(
      `LOCAL_WORLD_ENGINE=${engine}: the build cache needs BuildKit; use containerd (registry cache) or buildkit (inline cache)`
    )
  }
  const { work, workspace, service } = harness.prepareWorkspace('oci-stack-deploy-bench-cache-', {
    Dockerfile: 'cache.Dockerfile',
    'build.sh': 'cache-build.sh'
  })
  const unique = Date.now().toString(36)
  // One world per bench run: a fixed tag keeps the step names in CACHE.md the same every run.
  const base = `${process.env.LOCAL_REGISTRY_HOST}/bench-base:1`
  try {
    harness.writePayloads(service, PAYLOAD_MB)
    say(`pushing the build image ${base} (busybox, ${LAYERS} × ${LAYER_MB} MB of toolchain)`)
    pushBase(work, base)
    await createBucket('bench-artifacts')
    const action = cacheAction(work, workspace, `bench-cache-${unique}`, base)
    await seed(action, engine)
    const runs = []
    for (let i = 1; i <= RUNS; i++) {
      runs.push(await measureBuild(action, 'without', 'off', i))
      runs.push(await measureBuild(action, 'with', 'auto', i))
    }
    const figures = await writeCacheResults(engine, runs)
    say(
      `${figures.steps.reused} of ${figures.steps.total} steps reused (${figures.steps.reusedPercent} %), build ${figures.buildSeconds.without} s → ${figures.buildSeconds.with} s (${figures.speedUp}×)`
    )
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

harness.runMain('bench:cache', main)
