// What the bench scripts (bench/run.mjs, bench/release.mjs, bench/cache.mjs) share around their
// measurements: the local world they run in (local/world.sh: its environment, the fault proxy's
// control API, the registries' logs, the docker CLI), the scratch workspace with the bench
// service and a docker shim that times every docker call, the action run (through
// local/action-runner.mjs), and the writing of results: where they came from (git, machine,
// load) and the JSON, formatted as the repository's prettier would.
import { execFileSync } from 'node:child_process'
import { createCipheriv, createHash } from 'node:crypto'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs'
import os from 'node:os'
import { join, resolve } from 'node:path'
import * as prettier from 'prettier'
import { runAction } from '../local/action-runner.mjs'

/** The repository's root. */
export const root = resolve(import.meta.dirname, '..')

// ------------------------------------------------------------------ the script

/** A progress line writer: `<name>: <text>` on stderr. */
export const sayer = (name) => (text) => process.stderr.write(`${name}: ${text}\n`)

/** Runs a bench script's `main`; on failure prints `<name>: <message>` and exits 1. */
export function runMain(name, main) {
  main().catch((error) => {
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}

/** Milliseconds as `1.23 s`. */
export const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`

// ------------------------------------------------------------------ the world

/** Throws, naming `script` (the npm script that starts a world), when the world is not running. */
export function requireWorld(names, script) {
  const missing = names.filter((name) => !process.env[name])
  if (missing.length > 0) {
    throw new Error(
      `the local world is not running (missing ${missing.join(', ')}): run '${script}'.`
    )
  }
}

/** A call to the fault proxy's control API (`/__faults<path>`); its JSON answer. */
export async function faults(method, path, body) {
  const response = await fetch(`${process.env.LOCAL_FAULT_PROXY_URL}/__faults${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  })
  if (!response.ok) throw new Error(`fault proxy ${method} ${path}: ${await response.text()}`)
  return response.json()
}

/**
 * Simulated CloudFormation operation time: for `seconds` after the ExecuteChangeSet of
 * `stackName` (signed for `region`, or any region), DescribeStacks shows it in `status`.
 */
export function holdAfterExecute(stackName, status, seconds, region) {
  return faults('POST', '/rules', {
    holdStatus: { stackName, status, seconds, startOn: 'execute', ...(region ? { region } : {}) }
  })
}

/** The size of a log file (0 before it exists): where what comes next starts. */
export const logOffset = (file) => (existsSync(file) ? statSync(file).size : 0)

/** What `file` logged after `offset`. */
export const logSince = (file, offset) => readFileSync(file).subarray(offset).toString('utf8')

/** The docker CLI (the real one, never the action's shim) with `env` added; its stdout. */
export function docker(args, { env = {}, input } = {}) {
  return execFileSync('docker', args, {
    env: { ...process.env, ...env },
    input,
    encoding: 'utf8',
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    maxBuffer: 64 << 20
  })
}

/**
 * Runs the action once in the world (`node dist/index.js`, as GitHub runs it), with `env` added;
 * throws with the end of its log when it fails. The result has `wall`: spawn to exit, in ms.
 */
export async function runActionChecked(label, inputs, env) {
  const run = await runAction(root, inputs, { env })
  if (run.exitCode !== 0) {
    const log = `${run.stdout}\n${run.stderr}`.trim().split('\n').slice(-40).join('\n')
    throw new Error(`${label}: the action exited with ${run.exitCode}\n${log}`)
  }
  return { ...run, wall: run.timing.exitedAt - run.timing.spawnedAt }
}

// ------------------------------------------------------------------ the scratch workspace

/** Deterministic pseudo-random bytes (AES-CTR keystream under a key from `seed`). */
export function payload(seed, bytes) {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16)
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(bytes))
}

/**
 * A scratch dir (`mkdtemp` of `prefix`) holding `workspace/`: the example's template and
 * `service/` with `files` (its name → a file of bench/service/; `Dockerfile` by default) and the
 * example's bootstrap. The payloads come from `writePayloads`.
 */
export function prepareWorkspace(prefix, files = { Dockerfile: 'Dockerfile' }) {
  const work = mkdtempSync(join(os.tmpdir(), prefix))
  const workspace = join(work, 'workspace')
  const service = join(workspace, 'service')
  mkdirSync(join(service, 'payload'), { recursive: true })
  for (const [name, source] of Object.entries(files)) {
    copyFileSync(join(root, 'bench/service', source), join(service, name))
  }
  copyFileSync(join(root, 'examples/hello/bootstrap'), join(service, 'bootstrap'))
  chmodSync(join(service, 'bootstrap'), 0o755)
  copyFileSync(join(root, 'examples/hello/template.yaml'), join(workspace, 'template.yaml'))
  return { work, workspace, service }
}

/** The service's two payload layers, `mb` MB each, the same bytes for the same `seed`. */
export function writePayloads(service, mb, seed = '') {
  const bytes = Math.round(mb * 1024 * 1024)
  writeFileSync(join(service, 'payload/runtime.bin'), payload(`${seed}runtime`, bytes))
  writeFileSync(join(service, 'payload/assets.bin'), payload(`${seed}assets`, bytes))
}

/**
 * A `docker` in `<work>/bin` that logs every docker call of the action (the line logs.mjs's
 * parseDockerLog reads: start and end in epoch nanoseconds, exit code, first two arguments) to
 * `<work>/docker-calls.log` and hands it to the real CLI. Returns the log and the action's env.
 */
export function writeDockerShim(work) {
  const bin = join(work, 'bin')
  mkdirSync(bin)
  const real = execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim()
  const log = join(work, 'docker-calls.log')
  writeFileSync(log, '')
  writeFileSync(
    join(bin, 'docker'),
    [
      '#!/bin/sh',
      '# bench/harness.mjs: times each docker call of the action, then hands it to the real CLI',
      's=$(date +%s%N)',
      '"$BENCH_DOCKER_REAL" "$@"',
      'rc=$?',
      `printf '%s %s %s %s %s\\n' "$s" "$(date +%s%N)" "$rc" "$1" "$2" >>"$BENCH_DOCKER_LOG"`,
      'exit $rc',
      ''
    ].join('\n')
  )
  chmodSync(join(bin, 'docker'), 0o755)
  return {
    log,
    env: { PATH: `${bin}:${process.env.PATH}`, BENCH_DOCKER_REAL: real, BENCH_DOCKER_LOG: log }
  }
}

/** Removes the scratch dir, or keeps it (and says where) with BENCH_KEEP=1. */
export function removeScratch(work, say) {
  if (process.env.BENCH_KEEP === '1') say(`kept ${work}`)
  else rmSync(work, { recursive: true, force: true })
}

// ------------------------------------------------------------------ where results come from

const git = (args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' })

/** `git <short HEAD>` of the checkout; null outside one. */
export function gitHead() {
  try {
    return `git ${git(['rev-parse', '--short', 'HEAD']).trim()}`
  } catch {
    return null
  }
}

/** The files under `path` (from the root) with uncommitted changes; [] outside a checkout. */
export function uncommitted(path) {
  try {
    return git(['status', '--porcelain', '--', path])
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(3))
  } catch {
    return []
  }
}

/** Now, to the second: `2026-01-02T03:04:05Z`. */
export const isoNow = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z')

/** This machine: `<n> × <CPU model>, <memory> GiB`. */
export function hostSummary() {
  const cpus = os.cpus()
  return `${cpus.length} × ${cpus[0]?.model?.trim() ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`
}

/** The 1-minute load averages `load` (at the start, at the end) in words. */
export const loadSummary = (load) =>
  `1-minute load average ${load[0].toFixed(2)} at the start, ${load[1].toFixed(2)} at the end (${os.cpus().length} CPUs)`

// ------------------------------------------------------------------ writing results

/** A JSON.stringify replacer: fractions to three decimals (ms to the µs), so the JSON stays readable. */
export const thousandths = (_key, value) =>
  typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value

/**
 * Writes `value` to `file` as JSON formatted as the repository's prettier would (so
 * `format:check` passes on the committed file). Returns the JSON before formatting.
 */
export async function writeJson(file, value, replacer) {
  const json = JSON.stringify(value, replacer)
  const options = { ...(await prettier.resolveConfig(file)), filepath: file }
  writeFileSync(file, await prettier.format(json, options))
  return json
}
