/**
 * Waiting: one timeout for the change set and the execution, a running update cancelled at the
 * timeout.
 */
import { describe, expect, it } from '@jest/globals'
import {
  CancelUpdateStackCommand,
  CloudFormationClient,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  type DescribeChangeSetCommandInput,
  ExecuteChangeSetCommand
} from '@aws-sdk/client-cloudformation'
import { mockClient } from 'aws-sdk-client-mock'
import 'aws-sdk-client-mock-jest'
import { waitForChangeSet } from '../../../src/aws/cloudformation/wait.js'
import { deleteStack } from '../../../src/aws/cloudformation/delete.js'
import { deployStack } from '../../../src/aws/cloudformation/execute.js'
import { awsError } from '../../../__fixtures__/aws.js'
import {
  ADD_FUNCTION,
  cfn,
  CHANGE_SET_NAME,
  client,
  deployed,
  describeChangeSet,
  describeRecreatedStack,
  describeStackEvents,
  describeStacks,
  event,
  failure,
  fakeClock,
  inputs,
  MODIFY_ROLE,
  NEW_STACK_ID,
  OUTPUTS,
  request,
  stack,
  STACK_ID,
  STACK_NAME,
  stackMissing,
  useCloudFormationMock
} from '../../../__fixtures__/cloudformation.js'

useCloudFormationMock()

describe('deployStack: timeouts', () => {
  it('cancels an update still running at the timeout and says how long it waited', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('UPDATE_IN_PROGRESS'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])
    const clock = fakeClock(90_000)
    const start = clock.now()

    const error = await failure(deployStack(client, request(), clock))

    expect(inputs(CancelUpdateStackCommand)).toEqual([{ StackName: STACK_ID }])
    expect(error.message).toBe(
      `Stack ${STACK_ID} was still UPDATE_IN_PROGRESS after waiting 1.5 minutes (timeout-minutes). Cancelled the update (CancelUpdateStack): CloudFormation rolls back to the previous version.`
    )
    expect(clock.now() - start).toBe(90_000)
    expect(Math.max(...clock.slept)).toBeLessThanOrEqual(1500)
  })

  it('reports a failed cancel', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('UPDATE_IN_PROGRESS'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])
    cfn
      .on(CancelUpdateStackCommand)
      .rejects(
        awsError('ValidationError', 'CancelUpdateStack cannot be called from current stack status')
      )

    const error = await failure(deployStack(client, request(), fakeClock(60_000)))

    expect(error.message).toBe(
      `Stack ${STACK_ID} was still UPDATE_IN_PROGRESS after waiting 1 minute (timeout-minutes). Cancelling the update failed: CancelUpdateStack cannot be called from current stack status.`
    )
  })

  it('does not cancel a create that times out', async () => {
    describeStacks(stackMissing(), stack('CREATE_IN_PROGRESS'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION] }])

    const error = await failure(deployStack(client, request(), fakeClock(30_000)))

    expect(error.message).toBe(
      `Stack ${STACK_ID} was still CREATE_IN_PROGRESS after waiting 30 seconds (timeout-minutes).`
    )
    expect(cfn).not.toHaveReceivedCommand(CancelUpdateStackCommand)
  })

  it('counts one timeout from the start for the change set and the execution together', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('UPDATE_IN_PROGRESS'))
    let polls = 0
    cfn.on(DescribeChangeSetCommand).callsFake(async (input: DescribeChangeSetCommandInput) => {
      if (input.ChangeSetName === CHANGE_SET_NAME)
        throw awsError('ChangeSetNotFoundException', 'no')
      polls += 1
      return polls < 40
        ? { Status: 'CREATE_IN_PROGRESS' }
        : { Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }
    })
    const clock = fakeClock(90_000)
    const start = clock.now()

    const error = await failure(deployStack(client, request(), clock))

    expect(cfn).toHaveReceivedCommand(ExecuteChangeSetCommand)
    expect(error.message).toMatch(/after waiting 1\.5 minutes \(timeout-minutes\)/)
    expect(clock.now() - start).toBe(90_000)
  })

  it('gives up on a change set that never becomes ready', async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSet([{ Status: 'CREATE_IN_PROGRESS' }])

    const error = await failure(deployStack(client, request(), fakeClock(120_000)))

    expect(error.message).toBe(
      `Change set ${CHANGE_SET_NAME} was not ready after 2 minutes (timeout-minutes).`
    )
    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
  })

  it.each([
    'DELETE_FAILED',
    'DELETE_PENDING',
    'DELETE_IN_PROGRESS',
    'DELETE_COMPLETE',
    'NEW_STATUS'
  ])('ends the wait at once on a change set that is %s, naming it', async (status) => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSet([{ Status: 'CREATE_IN_PROGRESS' }, { Status: status as never }])
    const clock = fakeClock(120_000)
    const start = clock.now()

    const error = await failure(deployStack(client, request(), clock))

    expect(error.message).toBe(
      `Change set ${CHANGE_SET_NAME} is ${status}: it can no longer become ready (deleted, or a status this action does not know), so the wait ends here. Create a new change set.`
    )
    expect(clock.now() - start).toBe(500)
    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
  })
})

describe('stale reads after our own write (DescribeStacks is eventually consistent)', () => {
  const NEW_OUTPUTS = [{ OutputKey: 'FunctionArn', OutputValue: 'new' }]

  it('waits past reads that still show the stack as before ExecuteChangeSet', async () => {
    const before = stack('UPDATE_COMPLETE', { Outputs: OUTPUTS })
    describeStacks(before, before, before, deployed('UPDATE_COMPLETE', { Outputs: NEW_OUTPUTS }))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])

    const result = await deployStack(client, request(), fakeClock())

    expect(result.outputs).toEqual(NEW_OUTPUTS)
    expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(4)
  })

  it('accepts a read equal to the one before once the stack was seen in progress', async () => {
    const before = stack('UPDATE_COMPLETE', { Outputs: OUTPUTS })
    describeStacks(before, stack('UPDATE_IN_PROGRESS'), before)
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])

    const result = await deployStack(client, request(), fakeClock())

    expect(result.stackStatus).toBe('UPDATE_COMPLETE')
    expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(3)
  })

  /** A create whose reads stay REVIEW_IN_PROGRESS (as before it) twice, then show it done. */
  const staleCreate = (): void => {
    describeStacks(
      stackMissing(),
      stack('REVIEW_IN_PROGRESS'),
      stack('REVIEW_IN_PROGRESS'),
      stack('CREATE_COMPLETE', { Outputs: NEW_OUTPUTS })
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION] }])
  }

  it('does not report a stale REVIEW_IN_PROGRESS after a create as success', async () => {
    staleCreate()

    const result = await deployStack(client, request(), fakeClock())

    expect(result.stackStatus).toBe('CREATE_COMPLETE')
    expect(result.outputs).toEqual(NEW_OUTPUTS)
  })

  it('waits past a stale UPDATE_COMPLETE after DeleteStack', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE'),
      stack('UPDATE_COMPLETE'),
      stack('UPDATE_COMPLETE'),
      stack('DELETE_COMPLETE', { DeletionTime: new Date('2024-05-01T12:02:00Z') })
    )

    const result = await deleteStack(client, STACK_NAME, fakeClock())

    expect(result).toEqual({ existed: true, stackId: STACK_ID, status: 'DELETE_COMPLETE' })
  })

  it('waits past a stale ROLLBACK_COMPLETE after deleting it to recreate the stack', async () => {
    describeRecreatedStack(
      stack('ROLLBACK_COMPLETE'),
      stack('ROLLBACK_COMPLETE'),
      stack('ROLLBACK_COMPLETE'),
      stackMissing(STACK_ID)
    )

    const result = await deployStack(client, request(), fakeClock())

    expect(result.stackId).toBe(NEW_STACK_ID)
    expect(result.stackStatus).toBe('CREATE_COMPLETE')
  })

  it('ignores a read of the deleted stack while waiting for the recreated one', async () => {
    describeRecreatedStack(
      stack('ROLLBACK_COMPLETE'),
      stack('DELETE_COMPLETE', { DeletionTime: new Date('2024-05-01T12:02:00Z') }),
      stack('DELETE_COMPLETE', { DeletionTime: new Date('2024-05-01T12:02:00Z') })
    )

    const result = await deployStack(client, request(), fakeClock())

    expect(result.stackStatus).toBe('CREATE_COMPLETE')
  })

  /** The stack's own event (PhysicalResourceId = StackId) that ends an operation. */
  const stackEvent = (id: string, status: string) =>
    event(id, STACK_NAME, status, {
      PhysicalResourceId: STACK_ID,
      Timestamp: new Date(Date.UTC(2024, 4, 1, 13))
    })

  it('waits for a read that agrees with the events after reads flip back to REVIEW_IN_PROGRESS', async () => {
    describeStacks(
      stackMissing(),
      stack('REVIEW_IN_PROGRESS'),
      stack('CREATE_IN_PROGRESS'),
      stack('REVIEW_IN_PROGRESS'),
      stack('REVIEW_IN_PROGRESS'),
      stack('CREATE_COMPLETE', { Outputs: NEW_OUTPUTS })
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION] }])
    describeStackEvents([], [stackEvent('done', 'CREATE_COMPLETE')], [])

    const result = await deployStack(client, request(), fakeClock())

    expect(result.stackStatus).toBe('CREATE_COMPLETE')
    expect(result.outputs).toEqual(NEW_OUTPUTS)
  })

  it('reads the stack each poll once the events showed it settled, not only every describeEvery', async () => {
    staleCreate()
    describeStackEvents([], [], [stackEvent('done', 'CREATE_COMPLETE')], [])
    const clock = { ...fakeClock(), initialPollMs: 500, maxPollMs: 500, describeEvery: 20 }

    const result = await deployStack(client, request(), clock)

    expect(result.stackStatus).toBe('CREATE_COMPLETE')
    // Poll 1 reads both; poll 2 sees the end event and a stale read; poll 3 reads again at once.
    expect(clock.slept).toEqual([500, 500])
  })

  it('reads a stack that disagrees with its end event each poll for 10 polls, then at the usual rate', async () => {
    describeStacks(stackMissing(), stack('REVIEW_IN_PROGRESS'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION] }])
    describeStackEvents([], [stackEvent('done', 'CREATE_COMPLETE')], [])
    const clock = {
      ...fakeClock(20_000),
      initialPollMs: 500,
      maxPollMs: 500,
      describeEvery: 20
    }

    await failure(deployStack(client, request(), clock))

    // The read before the change set; polls 1 (due) and 2 (the end event); the 10 polls after
    // it; then only every 20th poll (21 and 41, the last, at the 20 s timeout).
    expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(1 + 2 + 10 + 2)
  })

  it('fails, naming both statuses, when the reads never agree with the events', async () => {
    describeStacks(
      stackMissing(),
      stack('REVIEW_IN_PROGRESS'),
      stack('CREATE_IN_PROGRESS'),
      stack('REVIEW_IN_PROGRESS')
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION] }])
    describeStackEvents([], [stackEvent('done', 'CREATE_COMPLETE')], [])

    const error = await failure(deployStack(client, request(), fakeClock(60_000)))

    expect(error.message).toBe(
      `Stack ${STACK_ID}'s events say CREATE_COMPLETE, but DescribeStacks still answered REVIEW_IN_PROGRESS after waiting 1 minute (timeout-minutes): CloudFormation's reads never agreed, so no status or outputs are reported. Check the stack in the console; a deploy run again reads it afresh.`
    )
  })

  it('waits past a stale UPDATE_COMPLETE once the events said the update rolled back', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE', { Outputs: OUTPUTS }),
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_COMPLETE', { Outputs: OUTPUTS }),
      stack('UPDATE_ROLLBACK_COMPLETE', { Outputs: OUTPUTS })
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])
    describeStackEvents([], [stackEvent('rolled-back', 'UPDATE_ROLLBACK_COMPLETE')], [])

    const error = await failure(deployStack(client, request(), fakeClock()))

    expect(error.message).toMatch(/^Stack hello-svc ended in UPDATE_ROLLBACK_COMPLETE/)
  })

  it('gives up at the timeout when every read stays as before, saying so', async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])

    const error = await failure(deployStack(client, request(), fakeClock(60_000)))

    expect(error.message).toBe(
      `Stack ${STACK_ID} still read UPDATE_COMPLETE, as before this run's change, after waiting 1 minute (timeout-minutes): CloudFormation's reads never showed the operation start or end. Check the stack's events in the console before deploying again.`
    )
    expect(cfn).not.toHaveReceivedCommand(CancelUpdateStackCommand)
  })
})

describe('poll cadence', () => {
  it('counts the time a poll takes in the interval, so polls start at the chosen rate', async () => {
    const cfn = mockClient(CloudFormationClient)
    const clock = { ...fakeClock(60_000), initialPollMs: 500, maxPollMs: 500 }
    let reads = 0
    cfn.on(DescribeChangeSetCommand).callsFake(async () => {
      await clock.sleep(200) // the call itself takes 0.2 s
      return { Status: ++reads < 3 ? 'CREATE_IN_PROGRESS' : 'CREATE_COMPLETE' }
    })
    const cs = await waitForChangeSet(
      new CloudFormationClient({ region: 'eu-west-1' }),
      'arn:cs',
      'stack',
      'cs',
      clock,
      clock.now()
    )
    expect(cs.Status).toBe('CREATE_COMPLETE')
    // 0.2 s of call, then 0.3 s of sleep: one poll every 0.5 s.
    expect(clock.slept).toEqual([200, 300, 200, 300, 200])
    cfn.restore()
  })
})
