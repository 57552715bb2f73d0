// `npm run bench:org`: issue 25's figures on the local world (two accounts, two regions, moto
// behind the fault proxy). Writes bench/org-results.json and bench/ORG.md.
//
//   2 accounts × 2 regions, the same image (`image`, promoted: no build in either path):
//   (a) `regions` fan-out: one job per account (run side by side, as two jobs would), each
//       deploying examples/hello/template.yaml to both regions; CloudFormation's time per stack is
//       a fault-proxy holdStatus of BENCH_HOLD_SECONDS (startOn "execute", one per region).
//   (b) a stack set (examples/hello/stack-set.yaml) over both accounts and regions, PARALLEL
//       regions, max-concurrent 100%: one CreateStackInstances operation, held by a holdOperation
//       of BENCH_HOLD_SECONDS (every instance of a region at once: one stack's time).
//   Wall time: spawn to exit of the action (the slower job for the fan-out). AWS calls: what the
//   fault proxy saw during the run (CloudFormation, S3, ECR, STS; registry traffic excluded).
//
//   10 accounts × 4 regions is a SIMULATION, not a run of 40 instances (the world has 2 accounts):
//   the stack set is run once more on the world with the operation held for
//   ceil(10 / BENCH_ORG_MAX_CONCURRENT) stack times (PARALLEL regions), its calls counted; the
//   fan-out is extrapolated from (a): 10 jobs side by side, each with (a)'s per-region calls × 4
//   regions, wall as (a)'s slower job.
//
//   BENCH_ORG_RUNS=2            rounds (medians)
//   BENCH_HOLD_SECONDS=3        simulated time of one stack operation
//   BENCH_ORG_MAX_CONCURRENT=5  accounts at once in the simulated 10 × 4 operation
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { assumeRole, createBucket, credentialsEnv } from '../local/action-runner.mjs'
import * as harness from './harness.mjs'
import { positiveInt, positiveNumber } from './settings.mjs'

const RUNS = positiveInt('BENCH_ORG_RUNS', 2)
const HOLD = positiveNumber('BENCH_HOLD_SECONDS', 3)
const MAX_CONCURRENT = positiveInt('BENCH_ORG_MAX_CONCURRENT', 5)
const JSON_FILE = join(harness.root, 'bench/org-results.json')
const MD_FILE = join(harness.root, 'bench/ORG.md')
const s = harness.seconds
const say = harness.sayer('bench:org')

function world() {
  harness.requireWorld(
    ['LOCAL_FAULT_PROXY_URL', 'LOCAL_ACCOUNT_ID_2', 'LOCAL_REGION_2'],
    'npm run bench:org'
  )
  return {
    a: process.env.LOCAL_ACCOUNT_ID,
    b: process.env.LOCAL_ACCOUNT_ID_2,
    region1: process.env.AWS_REGION,
    region2: process.env.LOCAL_REGION_2
  }
}

/** AWS calls the proxy logged (the log was cleared before the run). */
async function awsCalls() {
  const log = await harness.faults('GET', '/log')
  return log.filter((e) => e.service && e.service !== 'registry').length
}

const median = (values) => {
  const sorted = [...values].sort((x, y) => x - y)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** (a): both accounts' fan-outs side by side. */
async function fanOut(w, accountB, image, tag) {
  await harness.faults('DELETE', '')
  const stack = `bench-org-fan-${tag}`
  for (const region of [w.region1, w.region2])
    await harness.holdAfterExecute(stack, 'CREATE_IN_PROGRESS', HOLD, region)
  const inputs = (bucket) => ({
    image,
    template: 'examples/hello/template.yaml',
    regions: `${w.region1},${w.region2}`,
    bucket,
    'stack-name': stack,
    'build-id': tag,
    'create-repository': 'true'
  })
  const runs = await Promise.all([
    harness.runActionChecked('fan-out A', inputs('bench-org-a-{region}'), {}),
    harness.runActionChecked('fan-out B', inputs('bench-org-b-{region}'), credentialsEnv(accountB))
  ])
  return { wall: Math.max(...runs.map((r) => r.wall)), calls: await awsCalls() }
}

/** (b) and the simulation: one stack set run, its operation held for `holdSeconds`. */
async function stackSet(w, image, name, holdSeconds) {
  await harness.faults('DELETE', '')
  await harness.faults('POST', '/rules', {
    holdOperation: { stackSetName: name, seconds: holdSeconds }
  })
  const run = await harness.runActionChecked(
    'stack set',
    {
      image,
      template: 'examples/hello/stack-set.yaml',
      regions: `${w.region1},${w.region2}`,
      bucket: `bench-org-a-${w.region1}`,
      'stack-set-name': name,
      accounts: `${w.a},${w.b}`,
      'create-repository': 'true',
      'region-concurrency': 'PARALLEL',
      'max-concurrent': '100%',
      'build-id': name
    },
    {}
  )
  return { wall: run.wall, calls: await awsCalls() }
}

function render(r) {
  const row = (what, x) => `| ${what} | ${s(x.wall)} | ${x.calls} |`
  return [
    '# Org scale: a stack set against a `regions` fan-out',
    '',
    `Measured by \`npm run bench:org\` (bench/org.mjs) on the local world, ${r.meta.date}, commit ${r.meta.commit}; ${r.config.runs} rounds, medians; one stack operation held ${r.config.holdSeconds} s by the fault proxy. Host: ${r.meta.host}.`,
    '',
    '| Path | Wall time | AWS calls |',
    '| --- | --- | --- |',
    row(
      '2 × 2: `regions` fan-out, one job per account side by side (slower job)',
      r.summary.fanOut
    ),
    row('2 × 2: one stack set (PARALLEL regions, max-concurrent 100%)', r.summary.stackSet),
    row(
      `10 × 4 SIMULATED: stack set, operation held ceil(10 / ${r.config.maxConcurrent}) stack times`,
      r.summary.simulatedStackSet
    ),
    row(
      '10 × 4 EXTRAPOLATED: fan-out, 10 jobs side by side (wall as 2 × 2), calls × 5 accounts × 2 regions',
      r.summary.simulatedFanOut
    ),
    '',
    'The stack set path makes the same number of AWS calls whatever the number of instances (its operation runs in CloudFormation; only the paged lists grow, by one call per 100 instances), and needs one set of credentials. The fan-out makes its calls per account and region, from as many jobs as there are accounts. Both 10 × 4 rows are simulations: the world has two accounts; moto runs every operation at once, so the operation time is the proxy\u2019s hold.',
    ''
  ].join('\n')
}

async function main() {
  const w = world()
  const accountB = await assumeRole(w.b, { sessionName: 'bench-org' })
  for (const region of [w.region1, w.region2]) {
    await createBucket(`bench-org-a-${region}`, { region })
    await createBucket(`bench-org-b-${region}`, { region, credentials: accountB })
  }
  const unique = Date.now().toString(36)
  say('building the image once')
  const staged = await harness.runActionChecked(
    'stage',
    {
      dockerfile: 'examples/hello/Dockerfile',
      binary: 'bootstrap',
      template: 'examples/hello/template.yaml',
      bucket: `bench-org-a-${w.region1}`,
      'stack-name': `bench-org-stage-${unique}`,
      'build-id': `bench-org-${unique}`,
      'create-repository': 'true'
    },
    {}
  )
  const image = staged.outputs['image-uri-pinned']
  const rounds = []
  for (let i = 1; i <= RUNS; i++) {
    say(`round ${i}`)
    const tag = `${unique}-${i}`
    rounds.push({
      fanOut: await fanOut(w, accountB, image, tag),
      stackSet: await stackSet(w, image, `bench-org-${tag}`, HOLD),
      simulatedStackSet: await stackSet(
        w,
        image,
        `bench-org-sim-${tag}`,
        HOLD * Math.ceil(10 / MAX_CONCURRENT)
      )
    })
  }
  const med = (key) => ({
    wall: median(rounds.map((r) => r[key].wall)),
    calls: median(rounds.map((r) => r[key].calls))
  })
  const fan = med('fanOut')
  const results = {
    config: { runs: RUNS, holdSeconds: HOLD, maxConcurrent: MAX_CONCURRENT },
    meta: { date: harness.isoNow(), commit: harness.gitHead(), host: harness.hostSummary() },
    summary: {
      fanOut: fan,
      stackSet: med('stackSet'),
      simulatedStackSet: med('simulatedStackSet'),
      simulatedFanOut: { wall: fan.wall, calls: Math.round(fan.calls * (10 / 2) * (4 / 2)) }
    },
    rounds
  }
  await harness.writeJson(JSON_FILE, results)
  writeFileSync(MD_FILE, render(results))
  process.stdout.write(`${render(results)}\nWritten to ${MD_FILE} and ${JSON_FILE}.\n`)
}

harness.runMain('bench:org', main)
