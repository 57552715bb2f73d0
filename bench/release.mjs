// `npm run bench:release`: issue 14's release figures, measured against the local world
// (local/world.sh: two accounts, two regions, a registry for each, moto behind the fault proxy).
// Writes bench/release-results.json and bench/RELEASE.md.
//
//   (a) a promote of an image the target registry already holds uploads no blob: counted at the
//       target registry (its log: POST …/blobs/uploads/ answered 202 starts an upload, 201 is a
//       mount) and as the action reports it ("N blob(s) already there, N mounted, N copied …");
//       the first copy into the same registry is measured too, for contrast. Both for another
//       region of the same account and for another account.
//   (b) a two-region fan-out against a one-region deploy of the same image: both promote the
//       round's freshly pushed image (`image: <image-uri-pinned>`), so the fan-out's extra work
//       (copying the image to the second region's registry, which does not hold its layers yet,
//       and a second stack in parallel) is what the ratio shows. CloudFormation's own operation
//       time is simulated as bench/run.mjs does: a fault-proxy holdStatus (startOn "execute") of
//       BENCH_HOLD_SECONDS per stack, here one per region (the rule's "region").
//
//   BENCH_RELEASE_RUNS=3   rounds (medians); each round pushes new layers
//   BENCH_HOLD_SECONDS=3   simulated CloudFormation operation time per stack
//   BENCH_PAYLOAD_MB=8     size of each of the image's two payload layers
//   BENCH_KEEP=1           keep the scratch workspace
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import * as prettier from 'prettier'
import { assumeRole, createBucket, credentialsEnv } from '../local/action-runner.mjs'
import * as harness from './harness.mjs'
import { parseRegistryLog } from './logs.mjs'

const s = harness.seconds
import { RELEASE_TARGET as TARGET, summariseRelease } from './release-figures.mjs'
import { positiveInt, positiveNumber } from './settings.mjs'

const RUNS = positiveInt('BENCH_RELEASE_RUNS', 3)
const HOLD_SECONDS = positiveNumber('BENCH_HOLD_SECONDS', 3)
const PAYLOAD_MB = positiveNumber('BENCH_PAYLOAD_MB', 8)
const JSON_FILE = join(harness.root, 'bench/release-results.json')
const MD_FILE = join(harness.root, 'bench/RELEASE.md')

const say = harness.sayer('bench:release')
/** Each region's artifact bucket (account A). */
const BUCKET = 'bench-release-{region}'

// ------------------------------------------------------------------ the world

const WORLD = ['LOCAL_FAULT_PROXY_URL', 'LOCAL_REGISTRIES', 'LOCAL_ACCOUNT_ID_2', 'LOCAL_REGION_2']

function world() {
  harness.requireWorld(WORLD, 'npm run bench:release')
  const registries = JSON.parse(process.env.LOCAL_REGISTRIES)
  const a = process.env.LOCAL_ACCOUNT_ID
  const b = process.env.LOCAL_ACCOUNT_ID_2
  const region1 = process.env.AWS_REGION
  const region2 = process.env.LOCAL_REGION_2
  const registry = (account, region) =>
    registries.find((r) => r.account === account && r.region === region)
  return { a, b, region1, region2, registry }
}

/** What `registry` was asked to store after `offset`: uploads started, mounts, manifest PUTs. */
function registryWrites(registry, offset) {
  const requests = parseRegistryLog(harness.logSince(registry.log, offset))
  const uploads = requests.filter((r) => r.method === 'POST' && /\/blobs\/uploads\//.test(r.uri))
  return {
    blobUploads: uploads.filter((r) => r.status === 202).length,
    blobMounts: uploads.filter((r) => r.status === 201).length,
    blobPatchesAndPuts: requests.filter(
      (r) => (r.method === 'PATCH' || r.method === 'PUT') && /\/blobs\/uploads\//.test(r.uri)
    ).length,
    manifestPuts: requests.filter((r) => r.method === 'PUT' && /\/manifests\//.test(r.uri)).length
  }
}

/** The action's own report of its copy into `host`. */
function copyStats(run, host) {
  const line = run.stdout
    .split('\n')
    .find((l) => l.includes('Copied ') && l.includes(` to ${host}/`))
  const m =
    /(\d+) blob\(s\) already there, (\d+) mounted, (\d+) copied \((\d+) bytes uploaded\)/.exec(
      line ?? ''
    )
  if (!m) return null
  const [present, mounted, copied, bytesUploaded] = m.slice(1).map(Number)
  return { present, mounted, copied, bytesUploaded }
}

// ------------------------------------------------------------------ runs

/** One action run in the scratch workspace; `holds`: the regions whose stack is held. */
async function run(ctx, label, inputs, { env = {}, holds = [] } = {}) {
  await harness.faults('DELETE', '')
  for (const region of holds) {
    await harness.holdAfterExecute(inputs['stack-name'], 'CREATE_IN_PROGRESS', HOLD_SECONDS, region)
  }
  const result = await harness.runActionChecked(
    label,
    {
      template: 'template.yaml',
      'create-repository': 'true',
      'timeout-minutes': '5',
      // names the template's key in the bucket; each stack has its own key anyway
      'build-id': 'bench',
      ...inputs
    },
    { GITHUB_WORKSPACE: ctx.workspace, ...env }
  )
  if (holds.length > 0) {
    const rules = await harness.faults('GET', '/rules')
    const unstarted = rules.filter((r) => r.holdStatus && r.startedAt === null)
    if (unstarted.length > 0)
      throw new Error(`${label}: a hold never started (no ExecuteChangeSet?)`)
  }
  return result
}

/** A promote of `image` into `registry`, measured at that registry and from the action's log. */
async function promoteInto(ctx, label, registry, inputs, options = {}) {
  const offset = harness.logOffset(registry.log)
  const result = await run(ctx, label, inputs, options)
  return {
    wall: result.wall,
    registry: registryWrites(registry, offset),
    reported: copyStats(result, registry.host)
  }
}

/** Round `i`'s image, built from new payload layers and deployed to a staging stack (not timed). */
async function stagingBuild(ctx, w, i, unique) {
  // new payload layers each round, so each round's image is new to every registry
  harness.writePayloads(ctx.service, PAYLOAD_MB, `${unique}-${i}-`)
  const staging = await run(ctx, `round ${i} staging build`, {
    dockerfile: 'service/Dockerfile',
    binary: 'bootstrap',
    bucket: `bench-release-${w.region1}`,
    'stack-name': `bench-rel-staging-${unique}-${i}`,
    'build-args': `REPOSITORY=bench-release-${unique}-${i}`,
    'build-id': `r${i}`
  })
  return { image: staging.outputs['image-uri-pinned'], digest: staging.outputs['image-digest'] }
}

/** (b) `image` deployed to region 1 only and to both regions, in alternating order. */
async function fanOut(ctx, w, i, unique, image) {
  const oneRegion = () =>
    run(
      ctx,
      `round ${i} one region`,
      { image, bucket: BUCKET, regions: w.region1, 'stack-name': `bench-rel-one-${unique}-${i}` },
      { holds: [w.region1] }
    )
  const twoRegions = () =>
    promoteInto(
      ctx,
      `round ${i} two regions`,
      w.registry(w.a, w.region2),
      {
        image,
        bucket: BUCKET,
        regions: `${w.region1},${w.region2}`,
        'stack-name': `bench-rel-two-${unique}-${i}`
      },
      { holds: [w.region1, w.region2] }
    )
  // Alternate which goes first, so a trend in the machine's load favours neither.
  if (i % 2 === 1) {
    const one = await oneRegion()
    return { one, two: await twoRegions() }
  }
  const two = await twoRegions()
  return { one: await oneRegion(), two }
}

/** (a) `image` promoted into registries that hold it: region 2 again, account B twice. */
async function promoteAgain(ctx, w, accountB, i, unique, image) {
  // The second region's registry now holds the image (the fan-out copied it): promote it there again.
  const regionAgain = await promoteInto(
    ctx,
    `round ${i} region again`,
    w.registry(w.a, w.region2),
    { image, bucket: BUCKET, regions: w.region2, 'stack-name': `bench-rel-again-${unique}-${i}` }
  )
  // … and into account B: first copy, then again.
  const bRegistry = w.registry(w.b, w.region1)
  const env = credentialsEnv(accountB)
  const accountFirst = await promoteInto(
    ctx,
    `round ${i} account B first`,
    bRegistry,
    { image, bucket: 'bench-release-b-{region}', 'stack-name': `bench-rel-b-${unique}-${i}` },
    { env }
  )
  const accountAgain = await promoteInto(
    ctx,
    `round ${i} account B again`,
    bRegistry,
    { image, bucket: 'bench-release-b-{region}', 'stack-name': `bench-rel-b2-${unique}-${i}` },
    { env }
  )
  return { regionAgain, accountFirst, accountAgain }
}

async function round(ctx, w, accountB, i, unique) {
  const { image, digest } = await stagingBuild(ctx, w, i, unique)
  const { one, two } = await fanOut(ctx, w, i, unique, image)
  const again = await promoteAgain(ctx, w, accountB, i, unique, image)
  say(
    `round ${i}/${RUNS}: one region ${s(one.wall)}, two regions ${s(two.wall)} (${(two.wall / one.wall).toFixed(2)}×); uploads into a holder: ${again.regionAgain.registry.blobUploads} (region), ${again.accountAgain.registry.blobUploads} (account)`
  )
  return { digest, oneRegion: { wall: one.wall }, twoRegions: two, ...again }
}

// ------------------------------------------------------------------ results

/** `git <sha>`; a branch may leave dist/ to the merge (bundled locally), changed sources are worth a warning. */
function gitSource() {
  const head = harness.gitHead()
  if (!head) return 'unknown' // not a checkout
  if (harness.uncommitted('src').length > 0) return `${head} with uncommitted changes in src/`
  if (harness.uncommitted('dist').length > 0) return `${head}, dist/ bundled locally from it`
  return head
}

function meta(load) {
  return {
    date: harness.isoNow(),
    machine: `${harness.hostSummary()}, Node ${process.version}`,
    git: gitSource(),
    load: harness.loadSummary(load)
  }
}

const pass = (ok) => (ok ? 'PASS' : 'MISS')

/** RELEASE.md from the results (nothing but formatting). */
function render(results) {
  const { config, summary: sum, rounds } = results
  const writes = (w) =>
    `${w.registry.blobUploads} upload(s), ${w.registry.blobMounts} mount(s), ${w.registry.manifestPuts} manifest PUT(s)`
  const reported = (w) =>
    w.reported
      ? `${w.reported.present} there, ${w.reported.mounted} mounted, ${w.reported.copied} copied, ${w.reported.bytesUploaded} B`
      : 'no copy logged'
  return `# Release figures (issue 14)

Written by \`npm run bench:release\` (bench/release.mjs; the figures: bench/release-results.json).
${results.meta.date}; ${config.runs} rounds, medians; simulated CloudFormation operation time
${config.holdSeconds} s per stack (a fault-proxy hold per region, from its ExecuteChangeSet); image:
two ${config.payloadMB} MB payload layers, new in every round. Machine: ${results.meta.machine};
${results.meta.load}. Source: ${results.meta.git}.

## Summary

| Figure | Result | Target | |
| --- | --- | --- | --- |
| One-region deploy of a pushed image (\`image\`, \`regions: ${results.regions[0]}\`): wall time | ${s(sum.oneRegion)} | | |
| Two-region fan-out of the same image (\`regions: ${results.regions.join(',')}\`): wall time | ${s(sum.twoRegions)} | | |
| Fan-out / one region | ${sum.ratio.toFixed(2)}× | < ${TARGET.fanOutRatio}× | ${pass(sum.fanOutPass)} |
| Promote into a registry that holds the image: blob uploads at the registry (max) | ${sum.heldUploads} | ${TARGET.heldUploads} | ${pass(sum.heldPass)} |
| … blobs copied as the action reports it (max) | ${sum.heldReportedCopied} | 0 | |

## Rounds

| Round | One region | Two regions | Copy into region 2 (registry) | (action) | Region 2 again (registry) | (action) | Account B first (registry) | Account B again (registry) | (action) |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rounds
  .map(
    (r, i) =>
      `| ${i + 1} | ${s(r.oneRegion.wall)} | ${s(r.twoRegions.wall)} | ${writes(r.twoRegions)} | ${reported(r.twoRegions)} | ${writes(r.regionAgain)} | ${reported(r.regionAgain)} | ${writes(r.accountFirst)} | ${writes(r.accountAgain)} | ${reported(r.accountAgain)} |`
  )
  .join('\n')}

## How

Each round builds the bench service (\`bench/service/Dockerfile\`, two payload layers of new
deterministic bytes) once and deploys it to a staging stack in account A, region 1 (not timed). Then,
in alternating order, it promotes that digest (\`image: <image-uri-pinned>\`) to a new stack in region 1
only, and to a new stack in both regions (\`regions\`, \`bucket: bench-release-{region}\`); the second
region's registry holds none of the round's layers, so the fan-out copies them. Wall time is
\`node dist/index.js\` from spawn to exit. Then the same digest is promoted to region 2 again and, with
account B's assumed-role credentials, twice into account B's registry. Registry figures are counted in
that registry's own log: \`POST /v2/<repo>/blobs/uploads/\` answered 202 (an upload started) or 201 (a
cross-repository mount), and manifest PUTs; the action's figures are its "Copied …" log line.
`
}

async function writeResults(results) {
  const json = await harness.writeJson(JSON_FILE, results, harness.thousandths)
  const mdOptions = { ...(await prettier.resolveConfig(MD_FILE)), filepath: MD_FILE }
  writeFileSync(MD_FILE, await prettier.format(render(JSON.parse(json)), mdOptions))
}

async function main() {
  const w = world()
  const started = Date.now()
  const ctx = harness.prepareWorkspace('oci-stack-deploy-bench-release-')
  try {
    const accountB = await assumeRole(w.b, { sessionName: 'bench-release' })
    for (const region of [w.region1, w.region2]) {
      await createBucket(`bench-release-${region}`, { region })
      await createBucket(`bench-release-b-${region}`, { region, credentials: accountB })
    }
    const unique = Date.now().toString(36)
    const load = [os.loadavg()[0]]
    const rounds = []
    for (let i = 1; i <= RUNS; i++) rounds.push(await round(ctx, w, accountB, i, unique))
    load.push(os.loadavg()[0])
    const results = {
      config: { runs: RUNS, holdSeconds: HOLD_SECONDS, payloadMB: PAYLOAD_MB },
      targets: TARGET,
      meta: meta(load),
      regions: [w.region1, w.region2],
      summary: summariseRelease(rounds),
      rounds
    }
    await writeResults(results)
    const sum = results.summary
    process.stdout.write(
      `one region ${s(sum.oneRegion)}, two regions ${s(sum.twoRegions)}: ${sum.ratio.toFixed(2)}× (target < ${TARGET.fanOutRatio}×) ${pass(sum.fanOutPass)}\n` +
        `promote into a holder: ${sum.heldUploads} blob upload(s) at the registry, ${sum.heldReportedCopied} copied as reported ${pass(sum.heldPass)}\n` +
        `Written to ${MD_FILE} and ${JSON_FILE} (${s(Date.now() - started)}).\n`
    )
  } finally {
    harness.removeScratch(ctx.work, say)
  }
}

harness.runMain('bench:release', main)
