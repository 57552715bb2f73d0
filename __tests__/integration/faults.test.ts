/**
 * The bundled action against the local world with the fault proxy acting as a real AWS region can:
 * stale DescribeStacks reads after each write, answers lost after AWS acted, and two deploys of one
 * stack overlapping. Each test proves the run reports its own result, tracked to the end.
 */
import { describe, expect, it } from '@jest/globals'
import { runAction } from '../../local/action-runner.mjs'
import {
  addFault,
  clearFaults,
  deploy,
  expectSuccess,
  faultLog,
  logOf,
  root,
  useWorld,
  worldEnv
} from './world.js'

const bucket = 'fault-artifacts'
const unique = Date.now().toString(36)

type Run = Awaited<ReturnType<typeof deploy>>

/** The stack outputs the run reported. */
function stackOutputs(run: Run): Record<string, string> {
  return JSON.parse(run.outputs['outputs'] ?? '{}') as Record<string, string>
}

/** True when the run's log shows the stack's own event with `status` (the events were tracked). */
function showsStackEvent(run: Run, stackName: string, status: string): boolean {
  return new RegExp(`\\d\\d:\\d\\d:\\d\\d ${stackName} AWS::CloudFormation::Stack ${status}`).test(
    run.stdout
  )
}

useWorld(bucket, { clearFaultRules: true })

describe('stale reads after each write (staleReads)', () => {
  // "beforeChangeSet" (issue 21): after each execute the reads show the stack as before its change
  // set, a new stack REVIEW_IN_PROGRESS without outputs, which is never the run's result.
  it.each([
    ['as before each write', 'stale', {}],
    ['as before its change set', 'stale-cs', { as: 'beforeChangeSet' }]
  ])(
    'creates, updates and deletes a stack under reads %s, each outcome its own',
    async (_how, prefix, rule) => {
      const stackName = `${prefix}-${unique}`
      await addFault({ staleReads: { stackName, count: 3, ...rule } })

      const created = await deploy({ bucket, 'stack-name': stackName, 'build-id': `${prefix}-1` })
      expectSuccess(created)
      expect(created.outputs['stack-status']).toBe('CREATE_COMPLETE')
      expect(stackOutputs(created)['DeployedImage']).toBe(created.outputs['image-uri-pinned'])

      const updated = await deploy({ bucket, 'stack-name': stackName, 'build-id': `${prefix}-2` })
      expectSuccess(updated)
      expect(updated.outputs['stack-status']).toBe('UPDATE_COMPLETE')
      // A stale read would carry the first build's image as the outputs.
      expect(stackOutputs(updated)['DeployedImage']).toBe(updated.outputs['image-uri-pinned'])
      expect(stackOutputs(updated)['DeployedImage']).not.toBe(created.outputs['image-uri-pinned'])

      const deleted = await deploy({
        'stack-name': stackName,
        mode: 'delete',
        dockerfile: '',
        binary: '',
        template: ''
      })
      expectSuccess(deleted)
      expect(deleted.outputs['stack-status']).toBe('DELETE_COMPLETE')

      const stale = (await faultLog()).filter(
        (entry) => (entry as { stale?: boolean }).stale === true
      )
      expect(stale.length).toBeGreaterThanOrEqual(6)
    }
  )

  it('recreates a stack left in ROLLBACK_COMPLETE, though reads after the delete are stale', async () => {
    const stackName = `stale-rollback-${unique}`
    const failed = await deploy({
      bucket,
      'stack-name': stackName,
      'build-id': 'stale-rb-1',
      template: '__fixtures__/integration/failing-template.yaml'
    })
    expect(failed.exitCode).toBe(1)
    expect(logOf(failed)).toContain(`Stack ${stackName} ended in ROLLBACK_COMPLETE`)

    // From here every write (the delete of the rolled-back stack, the new change set, its execution)
    // is followed by reads that still show the stack as it was before.
    await addFault({ staleReads: { stackName, count: 3 } })
    const recreated = await deploy({ bucket, 'stack-name': stackName, 'build-id': 'stale-rb-2' })
    expectSuccess(recreated)
    expect(logOf(recreated)).toContain(
      `Stack ${stackName} is in ROLLBACK_COMPLETE (its first create failed); deleting it to create it again.`
    )
    expect(recreated.outputs['stack-status']).toBe('CREATE_COMPLETE')
    expect(recreated.outputs['stack-id']).not.toBe(failed.outputs['stack-id'])
    expect(stackOutputs(recreated)['DeployedImage']).toBe(recreated.outputs['image-uri-pinned'])
    const stale = (await faultLog()).filter(
      (entry) => (entry as { stale?: boolean }).stale === true
    )
    expect(stale.length).toBeGreaterThanOrEqual(3)
  })
})

describe('answers lost after AWS acted (dropResponse)', () => {
  it.each(['CreateChangeSet', 'ExecuteChangeSet'])(
    'deploys and tracks the update when the answer to %s is lost',
    async (operation) => {
      const stackName = `drop-${operation.toLowerCase()}-${unique}`
      const first = await deploy({ bucket, 'stack-name': stackName, 'build-id': 'drop-1' })
      expectSuccess(first)
      await clearFaults()

      await addFault({ operation, dropResponse: true, times: 1 })
      const run = await deploy({ bucket, 'stack-name': stackName, 'build-id': 'drop-2' })
      expectSuccess(run)
      expect(run.outputs['stack-status']).toBe('UPDATE_COMPLETE')
      expect(stackOutputs(run)['DeployedImage']).toBe(run.outputs['image-uri-pinned'])
      expect(showsStackEvent(run, stackName, 'UPDATE_COMPLETE')).toBe(true)

      const calls = (await faultLog()).filter((entry) => entry.operation === operation)
      expect(calls.filter((entry) => (entry as { dropped?: boolean }).dropped)).toHaveLength(1)
      expect(calls.length).toBeGreaterThan(1)
    }
  )
})

describe('two deploys of one stack overlapping', () => {
  it('fails the run whose change set was superseded, without the other run outputs', async () => {
    const stackName = `overlap-${unique}`
    expectSuccess(await deploy({ bucket, 'stack-name': stackName, 'build-id': 'overlap-0' }))
    await clearFaults()

    // Run A's update "takes" 45 s (its reads through the proxy show UPDATE_IN_PROGRESS); run B
    // talks to moto directly, deploys meanwhile, and its change set is the one the stack last ran.
    await addFault({
      holdStatus: { stackName, status: 'UPDATE_IN_PROGRESS', seconds: 45, startOn: 'execute' }
    })
    const a = deploy({ bucket, 'stack-name': stackName, 'build-id': 'overlap-a' })
    await waitForExecute()
    const b = await runAction(
      root,
      {
        dockerfile: 'examples/hello/Dockerfile',
        binary: 'bootstrap',
        template: 'examples/hello/template.yaml',
        'create-repository': 'true',
        bucket,
        'stack-name': stackName,
        'build-id': 'overlap-b'
      },
      { env: { AWS_ENDPOINT_URL_CLOUDFORMATION: worldEnv().LOCAL_MOTO_URL } }
    )
    expectSuccess(b)
    // B is done: end A's held reads now rather than after the 45 s (its wait sees B's change set).
    await clearFaults()
    const first = await a

    expect(first.exitCode).not.toBe(0)
    expect(logOf(first)).toContain(
      `Another deploy updated stack ${stackName} meanwhile: it last ran change set`
    )
    expect(logOf(first)).toContain('see docs/WORKFLOWS.md#concurrency')
    expect(first.outputs['outputs'] ?? '').not.toContain(b.outputs['image-digest'] ?? 'none')
    expect(stackOutputs(b)['DeployedImage']).toBe(b.outputs['image-uri-pinned'])
  })
})

/** Resolves once the fault proxy has answered an ExecuteChangeSet (run A's). */
async function waitForExecute(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const log = await faultLog()
    if (log.some((entry) => entry.operation === 'ExecuteChangeSet')) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error('run A never executed its change set')
}

describe('a stalled endpoint (stall)', () => {
  it('gives up on a call that is never answered, retries it and deploys', async () => {
    const stackName = `stall-${unique}`
    await addFault({ operation: 'DescribeStacks', stall: true, times: 1 })
    const started = Date.now()
    const run = await deploy({ bucket, 'stack-name': stackName, 'build-id': 'stall-1' })
    expectSuccess(run)
    expect(run.outputs['stack-status']).toBe('CREATE_COMPLETE')
    // The SDK's socket timeout (15 s in src/aws/clients.ts) ended the stalled call, not the job's.
    expect(Date.now() - started).toBeGreaterThanOrEqual(15_000)
    expect(Date.now() - started).toBeLessThan(120_000)
    const stalled = (await faultLog()).filter(
      (entry) => (entry as { stalled?: boolean }).stalled === true
    )
    expect(stalled).toHaveLength(1)
  })
})
