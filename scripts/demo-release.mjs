// A release pipeline on the local world (local/world.sh), run as GitHub would run its two jobs:
//   1. staging: build examples/hello and deploy it to a staging stack (account A, first region);
//   2. production: with account B's credentials (STS AssumeRole, as configure-aws-credentials
//      would give them), promote the staging job's `image-uri-pinned` to a production stack in
//      both regions (`regions`, `bucket` with {region}), with a `docker` on PATH that refuses to
//      run, so nothing is built.
// Then one line per deployed stack: region, account (from the stack's ARN), stack name, digest
// (the action's, checked against what that region's registry serves). Exits 1 unless every
// digest is the same.

import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { assumeRole, createBucket, credentialsEnv, runAction } from '../local/action-runner.mjs'

const root = resolve(import.meta.dirname, '..')
const region1 = process.env.AWS_REGION
const region2 = process.env.LOCAL_REGION_2
const accountB = process.env.LOCAL_ACCOUNT_ID_2
if (!region1 || !region2 || !accountB || !process.env.LOCAL_REGISTRIES) {
  console.error('demo-release: run me in the local world: npm run demo:release')
  process.exit(2)
}
const registries = JSON.parse(process.env.LOCAL_REGISTRIES)
const buildId = `release-${new Date()
  .toISOString()
  .replace(/[-:TZ.]/g, '')
  .slice(0, 14)}`
const stagingBucket = `oci-stack-deploy-demo-staging-${region1}`
const productionBucket = 'oci-stack-deploy-demo-prod-{region}'
const stagingStack = 'hello-staging'
const productionStack = 'hello-production'

function banner(title) {
  console.log(`\n==================== ${title} ====================\n`)
}

/** Runs the action with its log streamed; stops the demo when it fails. */
async function step(title, inputs, env = {}) {
  banner(title)
  const started = Date.now()
  const run = await runAction(root, inputs, { stdio: 'inherit', env })
  console.log(
    `\n---- exit code ${run.exitCode} after ${((Date.now() - started) / 1000).toFixed(1)} s ----`
  )
  if (run.exitCode !== 0) process.exit(run.exitCode)
  return run
}

/** A `docker` first on PATH that records any call and fails: the promote must not build. */
function dockerTrap() {
  const dir = mkdtempSync(join(tmpdir(), 'demo-release-'))
  const log = join(dir, 'docker-calls.log')
  writeFileSync(log, '')
  writeFileSync(
    join(dir, 'docker'),
    `#!/bin/sh\necho "docker $*" >>'${log}'\necho 'demo-release: the promote called docker' >&2\nexit 127\n`
  )
  chmodSync(join(dir, 'docker'), 0o755)
  return {
    env: { PATH: `${dir}:${process.env.PATH}` },
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
    remove: () => rmSync(dir, { recursive: true, force: true })
  }
}

/** The digest the registry of `account`/`region` serves for repository@digest (null if none). */
async function servedDigest(account, region, imageUriPinned) {
  const registry = registries.find((r) => r.account === account && r.region === region)
  const [, repository, digest] = /^[^/]+\/(.+)@(sha256:[a-f0-9]{64})$/.exec(imageUriPinned) ?? []
  if (!registry || !repository) return null
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${digest}`, {
    method: 'HEAD',
    headers: {
      Authorization: `Basic ${Buffer.from(`AWS:${registry.password}`).toString('base64')}`,
      Accept:
        'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json'
    }
  })
  return response.ok ? response.headers.get('docker-content-digest') : null
}

/** Account and region from a stack ARN (arn:aws:cloudformation:<region>:<account>:stack/…). */
function arnParts(stackId) {
  const [, , , region, account] = stackId.split(':')
  return { region, account }
}

// Both jobs of one workflow run share its build id (on GitHub: the commit SHA), which names the
// template's key in each bucket.
const common = {
  template: 'examples/hello/template.yaml',
  'create-repository': 'true',
  'build-id': buildId,
  tags: 'project=oci-stack-deploy-demo'
}

await createBucket(stagingBucket, { region: region1 })
const staging = await step('1. Staging: build once, deploy (account A)', {
  ...common,
  dockerfile: 'examples/hello/Dockerfile',
  binary: 'bootstrap',
  bucket: stagingBucket,
  'stack-name': stagingStack,
  'parameter-overrides': 'Stage=dev'
})

const credentials = await assumeRole(accountB, { sessionName: 'demo-release' })
for (const region of [region1, region2]) {
  await createBucket(productionBucket.replace('{region}', region), { region, credentials })
}
const trap = dockerTrap()
process.on('exit', trap.remove)
const production = await step(
  `2. Production: promote ${staging.outputs['image-uri-pinned']} to ${region1} and ${region2} (account B, no build)`,
  {
    ...common,
    image: staging.outputs['image-uri-pinned'],
    regions: `${region1},${region2}`,
    bucket: productionBucket,
    'stack-name': productionStack,
    'parameter-overrides': 'Stage=prod'
  },
  { ...credentialsEnv(credentials), ...trap.env }
)
const dockerCalls = trap.calls()

const rows = [
  {
    ...arnParts(staging.outputs['stack-id']),
    stack: stagingStack,
    digest: staging.outputs['image-digest'],
    pinned: staging.outputs['image-uri-pinned']
  }
]
for (const [region, d] of Object.entries(JSON.parse(production.outputs['deployments']))) {
  rows.push({
    ...arnParts(d.stackId),
    region,
    stack: productionStack,
    digest: d.imageDigest,
    pinned: d.imageUriPinned
  })
}

banner('Deployed stacks')
const problems = []
for (const row of rows) {
  const served = await servedDigest(row.account, row.region, row.pinned)
  if (served !== row.digest)
    problems.push(
      `${row.region}/${row.account}: the registry serves ${served ?? 'nothing'} for ${row.pinned}`
    )
  console.log(`${row.region.padEnd(10)} ${row.account}  ${row.stack.padEnd(17)} ${row.digest}`)
}
if (new Set(rows.map((r) => r.digest)).size !== 1) problems.push('the stacks run different digests')
if (rows.length !== 3) problems.push(`expected 3 stacks, got ${rows.length}`)
if (dockerCalls.length > 0) problems.push(`the promote called docker: ${dockerCalls.join('; ')}`)
if (problems.length > 0) {
  for (const p of problems) console.error(`demo-release: FAIL: ${p}`)
  process.exit(1)
}
console.log(
  `\nOne digest in ${rows.length} stacks, 2 accounts, 2 regions; the promote ran no docker.`
)
