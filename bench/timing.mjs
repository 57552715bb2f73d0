// `npm run bench:timing`: issue 23's figures, measured against the local world with the fault
// proxy's timing model on (local/fault-proxy/faults/timing.mjs: change sets take T₁, resources T₂
// and, in standard mode, T₃). Each round: a build deploy of the bench service (fresh payload
// layers, so the push moves bytes), then two promotes of the image it pushed into another
// repository (the digest is known, so the change set is made while the image is copied): one
// standard, one with `express: true`. Writes bench/timing-results.json and bench/TIMING.md; the
// pure part (figures, targets, PASS/MISS, Markdown) is bench/timing-figures.mjs.
//
//   BENCH_TIMING_RUNS=3        rounds (medians)
//   BENCH_TIMING_PAYLOAD_MB=16 size of each of the image's two payload layers
//   BENCH_TIMING_MODEL='{"changeSet":5}'  the timing rule's fields (defaults: the proxy's, with
//                              jitter 1 s: when an operation ends falls anywhere between two polls,
//                              as on AWS, instead of in the same place each run)
//   BENCH_KEEP=1               keep the scratch workspace
//   LOCAL_WORLD_ENGINE=buildkit|containerd  the world's engine: bench/TIMING-<ENGINE>.md instead
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import * as prettier from 'prettier'
import { createBucket } from '../local/action-runner.mjs'
import * as harness from './harness.mjs'
import { positiveInt, positiveNumber } from './settings.mjs'
import { medians, renderTiming, timingRows, timingRun } from './timing-figures.mjs'

const RUNS = positiveInt('BENCH_TIMING_RUNS', 3)
const PAYLOAD_MB = positiveNumber('BENCH_TIMING_PAYLOAD_MB', 16)
// The world's engine (local/world.sh): the legacy one writes TIMING.md, the others their own page.
const ENGINE = process.env.LOCAL_WORLD_ENGINE || 'legacy'
const SUFFIX = ENGINE === 'legacy' ? '' : `-${ENGINE}`
const JSON_FILE = join(harness.root, `bench/timing${SUFFIX}-results.json`)
const MD_FILE = join(harness.root, `bench/TIMING${SUFFIX.toUpperCase()}.md`)
const BUCKET = 'timing-artifacts'
const WORLD = ['AWS_ENDPOINT_URL', 'LOCAL_FAULT_PROXY_URL', 'LOCAL_REGISTRY_HOST', 'DOCKER_HOST']

const say = harness.sayer('bench:timing')
const s = harness.seconds

/** Node's own start-up in the action's environment (NODE_EXTRA_CA_CERTS included): spawn → exit. */
function nodeStartMs() {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(process.execPath, ['-e', "process.stdout.write('x')"], {
      env: process.env,
      stdio: 'ignore'
    })
    child.on('error', reject)
    child.on('exit', () => resolve(Number(process.hrtime.bigint() - started) / 1e6))
  })
}

/** One action run under the timing rule (`model`), measured. */
async function timedRun(ctx, label, inputs, model) {
  await harness.faults('DELETE', '')
  const rule = await harness.faults('POST', '/rules', { timing: model })
  writeFileSync(ctx.dockerLog, '')
  const run = await harness.runActionChecked(label, inputs, ctx.env)
  const proxyLog = await harness.faults('GET', '/log')
  const dockerLog = existsSync(ctx.dockerLog) ? readFileSync(ctx.dockerLog, 'utf8') : ''
  const seconds = rule.rules[0].timing
  return { run, figures: timingRun({ run, proxyLog, dockerLog, model: seconds }), model: seconds }
}

/** One round: build deploy, then the standard and the express promote of its image. */
async function round(ctx, i, unique, model) {
  harness.writePayloads(ctx.service, PAYLOAD_MB, `timing-${unique}-${i}`)
  const name = `timing-${unique}-${i}`
  const common = {
    template: 'template.yaml',
    bucket: BUCKET,
    'create-repository': 'true',
    'parameter-overrides': 'Stage=dev',
    'timeout-minutes': '5'
  }
  const build = await timedRun(
    ctx,
    `run ${i} build deploy`,
    {
      ...common,
      dockerfile: 'service/Dockerfile',
      binary: 'bootstrap',
      'build-args': `REPOSITORY=${name}`,
      'build-id': `b${i}`,
      'stack-name': name
    },
    model
  )
  const image = build.run.outputs['image-uri-pinned']
  if (!image) throw new Error(`run ${i}: the build deploy set no image-uri-pinned`)
  const promote = (kind, extra) =>
    timedRun(
      ctx,
      `run ${i} promote (${kind})`,
      {
        ...common,
        image,
        repository: `${name}-${kind}`,
        'stack-name': `${name}-${kind}`,
        'build-id': `b${i}-${kind}`,
        ...extra
      },
      model
    )
  const standard = await promote('standard', {})
  const express = await promote('express', { express: 'true' })
  return { build, standard, express }
}

async function main() {
  harness.requireWorld(WORLD, 'npm run bench:timing')
  const model = { jitter: 1, ...JSON.parse(process.env.BENCH_TIMING_MODEL || '{}') }
  const { work, service, workspace } = harness.prepareWorkspace('oci-stack-deploy-timing-')
  const shim = harness.writeDockerShim(work)
  const ctx = { service, dockerLog: shim.log, env: { GITHUB_WORKSPACE: workspace, ...shim.env } }
  const load = [os.loadavg()[0]]
  try {
    await createBucket(BUCKET)
    const unique = Date.now().toString(36)
    const rounds = []
    const nodeStarts = []
    let seconds
    for (let i = 1; i <= RUNS; i++) {
      nodeStarts.push(await nodeStartMs())
      const r = await round(ctx, i, unique, model)
      seconds = r.build.model
      rounds.push({
        build: r.build.figures,
        standard: r.standard.figures,
        express: r.express.figures
      })
      say(
        `run ${i}/${RUNS}: build deploy ${s(r.build.figures.wall)}, promote ${s(r.standard.figures.wall)} (start → execute ${s(r.standard.figures.startToExecute)}), express ${s(r.express.figures.wall)}`
      )
    }
    load.push(os.loadavg()[0])
    const m = {
      build: medians(rounds.map((r) => r.build)),
      standard: medians(rounds.map((r) => r.standard)),
      express: medians(rounds.map((r) => r.express))
    }
    const nodeStart = nodeStarts.sort((a, b) => a - b)[Math.floor(nodeStarts.length / 2)]
    const rows = timingRows({ m, nodeStart, model: seconds, engine: ENGINE })
    const meta = {
      date: harness.isoNow(),
      machine: harness.hostSummary(),
      git: harness.gitHead() ?? 'unknown',
      load: harness.loadSummary(load)
    }
    await harness.writeJson(
      JSON_FILE,
      { model: seconds, meta, nodeStart, medians: m, rows, rounds },
      harness.thousandths
    )
    // Formatted as the repository's prettier would, so `format:check` passes on the committed page.
    const markdown = renderTiming({ rows, meta, model: seconds, runs: RUNS })
    writeFileSync(MD_FILE, await prettier.format(markdown, { filepath: MD_FILE }))
    process.stdout.write(
      `${rows.map((r) => `${r[3]}  ${r[0]}: ${r[1]} (target ${r[2]})`).join('\n')}\n`
    )
  } finally {
    harness.removeScratch(work, say)
  }
}

harness.runMain('bench:timing', main)
