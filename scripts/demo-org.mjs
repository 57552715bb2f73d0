// Org scale on the local world (local/world.sh): examples/hello built once and deployed as a
// CloudFormation stack set (examples/hello/stack-set.yaml) to both accounts in both regions, with
// the fault proxy giving the operation CloudFormation's queueing and run time. Then the same digest
// again (input `image`, no build): nothing changes, and the run says so.
// One line per instance: account, region, stack id, status, image URI with digest; each stack's
// DeployedImage output (read in its own account and region) must be that region's image, and every
// instance must run the same digest.

import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { assumeRole, createBucket, credentialsEnv, runAction } from '../local/action-runner.mjs'

const root = resolve(import.meta.dirname, '..')
const region1 = process.env.AWS_REGION
const region2 = process.env.LOCAL_REGION_2
const accountA = process.env.LOCAL_ACCOUNT_ID
const accountB = process.env.LOCAL_ACCOUNT_ID_2
const proxy = process.env.LOCAL_FAULT_PROXY_URL
if (!region1 || !region2 || !accountA || !accountB || !proxy) {
  console.error('demo-org: run me in the local world: npm run demo:org')
  process.exit(2)
}
const stackSet = 'hello-org'
const bucket = `oci-stack-deploy-demo-org-${region1}`

function banner(title) {
  console.log(`\n==================== ${title} ====================\n`)
}

/** Runs the action with its log streamed; stops the demo when it fails. */
async function step(title, inputs) {
  banner(title)
  const started = Date.now()
  const run = await runAction(root, inputs, { stdio: 'inherit' })
  console.log(
    `\n---- exit code ${run.exitCode} after ${((Date.now() - started) / 1000).toFixed(1)} s ----`
  )
  if (run.exitCode !== 0) process.exit(run.exitCode)
  return run
}

/** The stack's DeployedImage output, read with the AWS CLI in its own account and region. */
function deployedImage(stackId, account, region, credentials) {
  const env =
    account === accountA ? process.env : { ...process.env, ...credentialsEnv(credentials) }
  const out = execFileSync(
    'aws',
    [
      'cloudformation',
      'describe-stacks',
      '--stack-name',
      stackId,
      '--region',
      region,
      '--endpoint-url',
      process.env.LOCAL_MOTO_URL,
      '--output',
      'json'
    ],
    { encoding: 'utf8', env }
  )
  const stack = JSON.parse(out).Stacks[0]
  return stack?.Outputs?.find((o) => o.OutputKey === 'DeployedImage')?.OutputValue ?? ''
}

await createBucket(bucket, { region: region1 })
// CloudFormation's operation time, which moto lacks: QUEUED for 1 s, then RUNNING for 2 s more.
await fetch(`${proxy}/__faults/rules`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ holdOperation: { stackSetName: stackSet, seconds: 3, queuedSeconds: 1 } })
})
const common = {
  template: 'examples/hello/stack-set.yaml',
  bucket,
  regions: `${region1},${region2}`,
  'stack-set-name': stackSet,
  accounts: `${accountA},${accountB}`,
  'create-repository': 'true',
  'max-concurrent': '2',
  'failure-tolerance': '1',
  'build-id': 'demo-org'
}
const first = await step(`1. Build once, deploy stack set ${stackSet} to 2 accounts × 2 regions`, {
  ...common,
  dockerfile: 'examples/hello/Dockerfile',
  binary: 'bootstrap'
})
const second = await step('2. The same digest again (no build): nothing changes', {
  ...common,
  image: first.outputs['image-uri-pinned']
})

banner('Stack set instances')
const credentials = await assumeRole(accountB, { sessionName: 'demo-org' })
const instances = JSON.parse(second.outputs['instances'])
const problems = []
for (const i of instances) {
  const deployed = deployedImage(i.stackId, i.account, i.region, credentials)
  if (deployed !== i.imageUri)
    problems.push(`${i.account} ${i.region}: the stack runs ${deployed}, not ${i.imageUri}`)
  console.log(
    `${i.account}  ${i.region.padEnd(10)} ${i.stackId}  ${i.status.padEnd(9)} ${deployed}`
  )
}
const digests = new Set(instances.map((i) => i.imageUri.split('@')[1]))
if (digests.size !== 1) problems.push(`the instances run ${digests.size} digests`)
if (new Set(instances.map((i) => i.account)).size < 2) problems.push('fewer than 2 accounts')
if (new Set(instances.map((i) => i.region)).size < 2) problems.push('fewer than 2 regions')
if (second.outputs['operation-id'] !== '') problems.push('the second run started an operation')
if (problems.length > 0) {
  for (const p of problems) console.error(`demo-org: FAIL: ${p}`)
  process.exit(1)
}
console.log(
  `\n${instances.length} instances over 2 accounts and 2 regions run ${[...digests][0]}, each from its own region's repository; the second run changed nothing.`
)
