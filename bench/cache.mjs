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
import { createCipheriv, createHash } from 'node:crypto'
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
import { dirname, join, resolve } from 'node:path'
import * as prettier from 'prettier'
import { createBucket, runAction } from '../local/action-runner.mjs'
import {
  cacheFigures,
  cacheForResults,
  parseBuildSteps,
  phaseDockerCalls,
  phaseSeconds,
  renderCache
} from './cache-figures.mjs'
import { parseDockerLog } from './analysis.mjs'
import { renderResults } from './render.mjs'

const root = resolve(import.meta.dirname, '..')
const RUNS = whole('BENCH_CACHE_RUNS', 3)
const WORK_ROUNDS = whole('BENCH_CACHE_WORK_ROUNDS', 6)
const LAYERS = whole('BENCH_CACHE_LAYERS', 2)
const LAYER_MB = whole('BENCH_CACHE_LAYER_MB', 32)
/** Debian's busybox-static (local/world.sh installs it): the one static shell this machine has. */
const BUSYBOX = '/bin/busybox'
const PAYLOAD_MB = 8
const FILES_PER_LAYER = 64

function whole(name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}=${raw}: give a whole number`)
  return value
}

const say = (text) => process.stderr.write(`bench:cache: ${text}\n`)

/** Deterministic bytes (AES-CTR of zeros under a key derived from `seed`): the same every run. */
function bytes(seed, size) {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16)
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size))
}

function docker(args, env = process.env, input) {
  return execFileSync('docker', args, {
    env,
    input,
    encoding: 'utf8',
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    maxBuffer: 64 << 20
  })
}

/** The scratch workspace: the service (its build stage's source, payloads), the template. */
function prepareWorkspace(work) {
  const service = join(work, 'workspace', 'service')
  mkdirSync(join(service, 'payload'), { recursive: true })
  copyFileSync(join(root, 'bench/service/cache.Dockerfile'), join(service, 'Dockerfile'))
  copyFileSync(join(root, 'bench/service/cache-build.sh'), join(service, 'build.sh'))
  copyFileSync(join(root, 'examples/hello/bootstrap'), join(service, 'bootstrap'))
  chmodSync(join(service, 'bootstrap'), 0o755)
  const mb = PAYLOAD_MB * 1024 * 1024
  writeFileSync(join(service, 'payload/runtime.bin'), bytes('runtime', mb))
  writeFileSync(join(service, 'payload/assets.bin'), bytes('assets', mb))
  copyFileSync(join(root, 'examples/hello/template.yaml'), join(work, 'workspace', 'template.yaml'))
  return join(work, 'workspace')
}

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
      writeFileSync(join(files, `f${f}.bin`), bytes(`toolchain-${layer}-${f}`, size))
    }
    lines.push(`COPY layer${layer}/ /toolchain/layer${layer}/`)
  }
  writeFileSync(join(dir, 'Dockerfile'), `${lines.join('\n')}\n`)
  docker(['build', '--provenance=false', '--sbom=false', '--tag', image, dir])
  docker(
    ['login', '--username', 'AWS', '--password-stdin', process.env.LOCAL_REGISTRY_HOST],
    process.env,
    process.env.LOCAL_REGISTRY_PASSWORD
  )
  docker(['push', image])
  rmSync(dir, { recursive: true, force: true })
}

/**
 * A `docker` first on the action's PATH that logs every docker call of the action (the line
 * analysis.mjs's parseDockerLog reads: start and end in epoch nanoseconds, exit code, first two
 * arguments) and hands it to the real CLI.
 */
function writeDockerShim(work) {
  const bin = join(work, 'bin')
  mkdirSync(bin)
  const real = execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim()
  const callLog = join(work, 'docker-calls.log')
  writeFileSync(callLog, '')
  writeFileSync(
    join(bin, 'docker'),
    `#!/bin/sh
s=$(date +%s%N)
"${real}" "$@"
rc=$?
printf '%s %s %s %s %s\\n' "$s" "$(date +%s%N)" "$rc" "$1" "$2" >>"${callLog}"
exit $rc
`
  )
  chmodSync(join(bin, 'docker'), 0o755)
  return { path: `${bin}:${process.env.PATH}`, callLog }
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
  const env = { ...process.env, DOCKER_HOST: host }
  for (let i = 0; ; i++) {
    try {
      docker(['info', '--format', '{{.ID}}'], env)
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

/** `value` as JSON, formatted as the repository's prettier would (so `format:check` passes). */
async function writeJson(file, value) {
  const options = { ...(await prettier.resolveConfig(file)), filepath: file }
  writeFileSync(file, await prettier.format(JSON.stringify(value), options))
}

/**
 * The main bench table repeats these figures: put them in bench/results.json (which bench/run.mjs
 * reads from here on its next run too) and render bench/RESULTS.md again, its other figures as
 * they were.
 */
async function refreshBenchTable(results) {
  const file = join(root, 'bench/results.json')
  if (!existsSync(file)) return
  const bench = { ...JSON.parse(readFileSync(file, 'utf8')), cache: cacheForResults(results) }
  await writeJson(file, bench)
  writeFileSync(join(root, 'bench/RESULTS.md'), renderResults(bench).markdown)
  say('the fresh-runner rows of bench/RESULTS.md are updated')
}

async function main() {
  const engine = process.env.LOCAL_WORLD_ENGINE
  if (!process.env.LOCAL_WORLD_DIR || !process.env.LOCAL_REGISTRY_HOST) {
    throw new Error("the local world is not running: run 'npm run bench:cache'")
  }
  if (engine !== 'containerd' && engine !== 'buildkit') {
    throw new Error(
      `LOCAL_WORLD_ENGINE=${engine}: the build cache needs BuildKit; use containerd (registry cache) or buildkit (inline cache)`
    )
  }
  const work = mkdtempSync(join(os.tmpdir(), 'oci-stack-deploy-bench-cache-'))
  const unique = Date.now().toString(36)
  // One world per bench run: a fixed tag keeps the step names in CACHE.md the same every run.
  const base = `${process.env.LOCAL_REGISTRY_HOST}/bench-base:1`
  const repository = `bench-cache-${unique}`
  try {
    const workspace = prepareWorkspace(work)
    say(`pushing the build image ${base} (busybox, ${LAYERS} × ${LAYER_MB} MB of toolchain)`)
    pushBase(work, base)
    await createBucket('bench-artifacts')
    const common = {
      dockerfile: 'service/Dockerfile',
      template: 'template.yaml',
      bucket: 'bench-artifacts',
      'stack-name': repository,
      'create-repository': 'true',
      'build-args': `REPOSITORY=${repository}\nBASE=${base}\nWORK_ROUNDS=${WORK_ROUNDS}`,
      'timeout-minutes': '5'
    }
    const { path, callLog } = writeDockerShim(work)
    const env = { GITHUB_WORKSPACE: workspace, PATH: path }
    const act = async (label, inputs, extraEnv = {}) => {
      const run = await runAction(root, { ...common, ...inputs }, { env: { ...env, ...extraEnv } })
      if (run.exitCode !== 0) {
        process.stderr.write(run.stdout + run.stderr)
        throw new Error(`${label} failed (exit ${run.exitCode})`)
      }
      return run
    }
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
    const runs = []
    for (let i = 1; i <= RUNS; i++) {
      for (const [variant, mode] of [
        ['without', 'off'],
        ['with', 'auto']
      ]) {
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
          runs.push(figures)
          const cached = figures.steps.filter((step) => step.cached).length
          say(
            `${variant} cache, run ${i}: docker build ${figures.buildSeconds} s (phase ${figures.phaseSeconds} s), ${cached} of ${figures.steps.length} steps CACHED`
          )
        } finally {
          await fresh.stop()
        }
      }
    }
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
        engine: docker(['version', '--format', 'dockerd {{.Server.Version}}']).trim(),
        cpus: os.cpus().length
      },
      figures,
      runs
    }
    await writeJson(join(root, 'bench/cache-results.json'), results)
    const markdown = await prettier.format(renderCache(results), { parser: 'markdown' })
    writeFileSync(join(root, 'bench/CACHE.md'), markdown)
    await refreshBenchTable(results)
    say(
      `${figures.steps.reused} of ${figures.steps.total} steps reused (${figures.steps.reusedPercent} %), build ${figures.buildSeconds.without} s → ${figures.buildSeconds.with} s (${figures.speedUp}×)`
    )
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

await main()
