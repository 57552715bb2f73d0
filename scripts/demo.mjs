// Runs `node dist/index.js` exactly as GitHub runs it (INPUT_* env, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY)
// against the local world started by local/world.sh, and shows what it produced.

import { resolve } from 'node:path'
import { createBucket, runAction } from '../local/action-runner.mjs'

const root = resolve(import.meta.dirname, '..')
const bucket = 'oci-stack-deploy-demo'
const stackName = 'hello-demo'
const buildId = `demo-${new Date()
  .toISOString()
  .replace(/[-:TZ.]/g, '')
  .slice(0, 14)}`

await createBucket(bucket)

const inputs = {
  dockerfile: 'examples/hello/Dockerfile',
  binary: 'bootstrap',
  bucket,
  'stack-name': stackName,
  template: 'examples/hello/template.yaml',
  'create-repository': 'true',
  'build-id': buildId,
  'parameter-overrides': 'Stage=dev',
  tags: 'project=oci-stack-deploy-demo'
}

for (const [title, run] of [
  ['First deploy (creates the stack)', 1],
  ['Same build again: nothing changed (no-op)', 2]
]) {
  console.log(`\n==================== ${run}. ${title} ====================\n`)
  const started = Date.now()
  const result = await runAction(root, inputs, { stdio: 'inherit' })
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  console.log(`\n---- exit code ${result.exitCode} after ${seconds} s ----`)
  console.log('\n---- step outputs ----')
  for (const [key, value] of Object.entries(result.outputs)) console.log(`${key} = ${value}`)
  console.log('\n---- job summary (GITHUB_STEP_SUMMARY) ----')
  console.log(result.summary)
  if (result.exitCode !== 0) process.exit(result.exitCode)
}
