// `npm run bench:cache`: the build cache on a fresh runner, measured in the local world on a
// BuildKit engine (LOCAL_WORLD_ENGINE=containerd by default; buildkit works too, with the inline
// cache). Builds the bench service with and without the registry cache, each on a brand-new engine
// (a second dockerd like the world's, with an empty data root), and writes
// bench/cache-results.json and bench/CACHE.md. The figures are computed by bench/cache-figures.mjs.
//
//   BENCH_CACHE_RUNS=3          builds of each kind (medians)
//   BENCH_CACHE_LAYERS=4        layers of the build image
//   BENCH_CACHE_LAYER_MB=64     MB of generated files per layer
//   BENCH_CACHE_LOGS=<dir>      also write each measured run's log there
import { execFileSync, spawn } from 'node:child_process'
import { createCipheriv, createHash } from 'node:crypto'
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import os from 'node:os'
import { join, resolve } from 'node:path'
import * as prettier from 'prettier'
import { createBucket, runAction } from '../local/action-runner.mjs'
import { cacheFigures, parseBuildSteps, phaseSeconds, renderCache } from './cache-figures.mjs'

const root = resolve(import.meta.dirname, '..')
const RUNS = whole('BENCH_CACHE_RUNS', 3)
const LAYERS = whole('BENCH_CACHE_LAYERS', 4)
const LAYER_MB = whole('BENCH_CACHE_LAYER_MB', 64)
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

/** The scratch workspace: the service with its build stage, payloads, template. */
function prepareWorkspace(work) {
  const service = join(work, 'workspace', 'service')
  mkdirSync(join(service, 'payload'), { recursive: true })
  copyFileSync(join(root, 'bench/service/cache.Dockerfile'), join(service, 'Dockerfile'))
  const mb = PAYLOAD_MB * 1024 * 1024
  writeFileSync(join(service, 'payload/runtime.bin'), bytes('runtime', mb))
  writeFileSync(join(service, 'payload/assets.bin'), bytes('assets', mb))
  copyFileSync(join(root, 'examples/hello/template.yaml'), join(work, 'workspace', 'template.yaml'))
  return join(work, 'workspace')
}

/** The build image: LAYERS layers of generated files and /out/bootstrap, pushed to the world. */
function pushToolchain(work, image) {
  const dir = join(work, 'toolchain')
  const lines = ['FROM scratch']
  for (let layer = 0; layer < LAYERS; layer++) {
    const files = join(dir, `layer${layer}`)
    mkdirSync(files, { recursive: true })
    const size = Math.round((LAYER_MB * 1024 * 1024) / FILES_PER_LAYER)
    for (let f = 0; f < FILES_PER_LAYER; f++) {
      writeFileSync(join(files, `f${f}.bin`), bytes(`toolchain-${layer}-${f}`, size))
    }
    lines.push(`COPY layer${layer}/ /toolchain/layer${layer}/`)
  }
  mkdirSync(join(dir, 'out'))
  copyFileSync(join(root, 'examples/hello/bootstrap'), join(dir, 'out/bootstrap'))
  chmodSync(join(dir, 'out/bootstrap'), 0o755)
  lines.push('COPY out/bootstrap /out/bootstrap')
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
 * A `docker` first on the action's PATH that times each image build (the call with --iidfile, not
 * `build --help`) in milliseconds, one line per build, and runs the real CLI.
 */
function writeDockerShim(work) {
  const bin = join(work, 'bin')
  mkdirSync(bin)
  const real = execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim()
  const buildLog = join(work, 'builds.log')
  writeFileSync(buildLog, '')
  writeFileSync(
    join(bin, 'docker'),
    `#!/usr/bin/env bash
case " $* " in
*" --iidfile "*) start=$(date +%s%N); "${real}" "$@"; rc=$?
  echo $(( ($(date +%s%N) - start) / 1000000 )) >>"${buildLog}"; exit $rc ;;
*) exec "${real}" "$@" ;;
esac
`
  )
  chmodSync(join(bin, 'docker'), 0o755)
  return { path: `${bin}:${process.env.PATH}`, buildLog }
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
  const toolchain = `${process.env.LOCAL_REGISTRY_HOST}/bench-toolchain:1`
  const repository = `bench-cache-${unique}`
  try {
    const workspace = prepareWorkspace(work)
    say(`pushing the build image ${toolchain} (${LAYERS} × ${LAYER_MB} MB)`)
    pushToolchain(work, toolchain)
    await createBucket('bench-artifacts')
    const common = {
      dockerfile: 'service/Dockerfile',
      template: 'template.yaml',
      bucket: 'bench-artifacts',
      'stack-name': repository,
      'create-repository': 'true',
      'build-args': `REPOSITORY=${repository}\nTOOLCHAIN=${toolchain}`,
      'timeout-minutes': '5'
    }
    const { path, buildLog } = writeDockerShim(work)
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
    writeFileSync(buildLog, '')
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
          const builds = readFileSync(buildLog, 'utf8').trim().split('\n')
          writeFileSync(buildLog, '')
          if (builds.length !== 1)
            throw new Error(`expected one docker build, the shim saw ${builds}`)
          const figures = {
            variant,
            buildSeconds: Number(builds[0]) / 1000,
            phaseSeconds: phaseSeconds(run.summary, 'Build image'),
            wallSeconds: (run.timing.exitedAt - run.timing.spawnedAt) / 1000,
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
        toolchainImage: 'bench-toolchain',
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
    writeFileSync(join(root, 'bench/cache-results.json'), `${JSON.stringify(results, null, 2)}\n`)
    const markdown = await prettier.format(renderCache(results), { parser: 'markdown' })
    writeFileSync(join(root, 'bench/CACHE.md'), markdown)
    say(
      `${figures.steps.reused} of ${figures.steps.total} steps reused (${figures.steps.reusedPercent} %), build ${figures.buildSeconds.without} s → ${figures.buildSeconds.with} s (${figures.speedUp}×)`
    )
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

await main()
