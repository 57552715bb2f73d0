/**
 * Stack set operations: started with our OperationId, waited for through QUEUED, RUNNING and
 * STOPPING; an earlier attempt's operation followed; a timeout stops the operation.
 */
import { describe, expect, it, beforeEach } from '@jest/globals'
import {
  CloudFormationClient,
  DescribeStackSetOperationCommand,
  ListStackInstancesCommand,
  StopStackSetOperationCommand,
  UpdateStackSetCommand
} from '@aws-sdk/client-cloudformation'
import { mockClient } from 'aws-sdk-client-mock'
import { awsError, captureStdout } from '../../../__fixtures__/aws.js'
import {
  runOperation,
  type OperationRequest
} from '../../../src/aws/cloudformation/stack-set-operations.js'
import { listStackInstances } from '../../../src/aws/cloudformation/stack-sets.js'

const client = new CloudFormationClient({ region: 'us-east-1' })
const cfn = mockClient(client)

function request(): OperationRequest {
  return {
    stackSetName: 'svc',
    callAs: '',
    operationId: 'oci-update-1',
    label: 'update the stack set',
    api: 'UpdateStackSet',
    start: (id) => client.send(new UpdateStackSetCommand({ StackSetName: 'svc', OperationId: id }))
  }
}

/** A fake clock: every sleep moves it forward. */
function clock(timeoutMs = 60_000) {
  let now = 0
  return {
    timeoutMs,
    initialPollMs: 1000,
    maxPollMs: 1000,
    sleep: async (ms: number) => {
      now += ms
    },
    now: () => now
  }
}

beforeEach(() => {
  cfn.reset()
})

describe('runOperation', () => {
  it('waits through QUEUED, RUNNING and STOPPING to the final status, logging each', async () => {
    cfn.on(UpdateStackSetCommand).resolves({ OperationId: 'oci-update-1' })
    cfn
      .on(DescribeStackSetOperationCommand)
      .resolvesOnce({ StackSetOperation: { Status: 'QUEUED' } })
      .resolvesOnce({ StackSetOperation: { Status: 'RUNNING' } })
      .resolvesOnce({ StackSetOperation: { Status: 'STOPPING' } })
      .resolves({
        StackSetOperation: { Status: 'STOPPED', Action: 'UPDATE', StatusReason: 'asked' }
      })
    const out = captureStdout()
    const tracked: Array<string | undefined> = []
    const outcome = await runOperation(client, request(), clock(), {
      track: (id) => tracked.push(id)
    })
    out.restore()

    expect(outcome).toEqual({
      operationId: 'oci-update-1',
      action: 'UPDATE',
      status: 'STOPPED',
      statusReason: 'asked'
    })
    expect(out.lines().filter((l) => l.includes('operation oci-update-1 '))).toEqual([
      'Stack set svc: operation oci-update-1 QUEUED',
      'Stack set svc: operation oci-update-1 RUNNING',
      'Stack set svc: operation oci-update-1 STOPPING',
      'Stack set svc: operation oci-update-1 STOPPED'
    ])
    expect(tracked).toEqual(['oci-update-1', undefined])
  })

  it('follows the operation an earlier attempt started (OperationIdAlreadyExistsException)', async () => {
    cfn.on(UpdateStackSetCommand).rejects(awsError('OperationIdAlreadyExistsException', 'exists'))
    cfn
      .on(DescribeStackSetOperationCommand)
      .resolves({ StackSetOperation: { Status: 'SUCCEEDED', Action: 'UPDATE' } })
    const out = captureStdout()
    const outcome = await runOperation(client, request(), clock())
    out.restore()
    expect(outcome.status).toBe('SUCCEEDED')
    expect(cfn.commandCalls(UpdateStackSetCommand)).toHaveLength(1)
  })

  it('stops its operation when the timeout runs out', async () => {
    cfn.on(UpdateStackSetCommand).resolves({})
    cfn.on(DescribeStackSetOperationCommand).resolves({ StackSetOperation: { Status: 'RUNNING' } })
    cfn.on(StopStackSetOperationCommand).resolves({})
    const out = captureStdout()
    await expect(runOperation(client, request(), clock(5_000))).rejects.toThrow(
      "Stack set svc: operation oci-update-1 was still RUNNING when 'timeout-minutes' ran out; it was asked to stop (StopStackSetOperation)."
    )
    out.restore()
    expect(cfn.commandCalls(StopStackSetOperationCommand)[0]?.args[0].input).toEqual({
      StackSetName: 'svc',
      OperationId: 'oci-update-1'
    })
  })

  it('names the API and the stack set when the write is refused', async () => {
    cfn.on(UpdateStackSetCommand).rejects(awsError('ValidationError', 'bad template'))
    await expect(runOperation(client, request(), clock())).rejects.toThrow(
      'Stack set svc: could not update the stack set (cloudformation:UpdateStackSet): bad template'
    )
  })
})

describe('listStackInstances', () => {
  it('reads every page', async () => {
    cfn
      .on(ListStackInstancesCommand)
      .resolvesOnce({ Summaries: [{ Account: '1' }], NextToken: 't' })
      .resolves({ Summaries: [{ Account: '2' }] })
    expect((await listStackInstances(client, 'svc', 'SELF')).map((i) => i.Account)).toEqual([
      '1',
      '2'
    ])
    expect(cfn.commandCalls(ListStackInstancesCommand)[1]?.args[0].input).toEqual({
      StackSetName: 'svc',
      CallAs: 'SELF',
      NextToken: 't'
    })
  })
})
