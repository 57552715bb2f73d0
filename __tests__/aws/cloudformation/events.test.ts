/**
 * The stack event stream in the log: new events oldest first, earlier ones left out, a failed
 * read never fails the deploy.
 */
import { describe, expect, it } from '@jest/globals'
import { DescribeStackEventsCommand, type StackEvent } from '@aws-sdk/client-cloudformation'
import 'aws-sdk-client-mock-jest'
import { deployStack } from '../../../src/aws/cloudformation/execute.js'
import { awsError } from '../../../__fixtures__/aws.js'
import {
  cfn,
  CHANGE_SET_NAME,
  client,
  deployed,
  describeChangeSet,
  describeStackEvents,
  describeStacks,
  event,
  failure,
  fakeClock,
  MODIFY_ROLE,
  request,
  stack,
  STACK_ID,
  STACK_NAME,
  useCloudFormationMock
} from '../../../__fixtures__/cloudformation.js'

const stdout = useCloudFormationMock()

describe('deployStack: log', () => {
  it('streams new stack events oldest first and leaves out earlier ones', async () => {
    const at = (time: string): Partial<StackEvent> => ({
      Timestamp: new Date(`2024-05-01T${time}Z`)
    })
    const old = [
      event('old-2', STACK_NAME, 'UPDATE_COMPLETE', at('09:00:10')),
      event('old-1', 'HelloFunction', 'UPDATE_COMPLETE', at('09:00:05'))
    ]
    const n1 = event('n1', STACK_NAME, 'UPDATE_IN_PROGRESS', {
      ...at('12:00:01'),
      ResourceStatusReason: 'User Initiated'
    })
    const n2 = event('n2', 'HelloFunction', 'UPDATE_IN_PROGRESS', at('12:00:03'))
    const n3 = event('n3', 'HelloFunction', 'UPDATE_COMPLETE', at('12:00:09'))
    const n4 = event('n4', STACK_NAME, 'UPDATE_COMPLETE', at('12:00:11'))
    describeStacks(
      stack('UPDATE_COMPLETE'),
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_COMPLETE')
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])
    describeStackEvents(old, [n2, n1, ...old], [n2, n1, ...old], [n4, n3, n2, n1, ...old])

    await deployStack(client, request(), fakeClock())

    expect(stdout.lines()).toEqual([
      `Creating UPDATE change set ${CHANGE_SET_NAME} for stack ${STACK_NAME}`,
      '  Modify HelloRole (AWS::IAM::Role) replacement: True',
      `Executing change set ${CHANGE_SET_NAME}`,
      `12:00:01 ${STACK_NAME} AWS::CloudFormation::Stack UPDATE_IN_PROGRESS User Initiated`,
      '12:00:03 HelloFunction AWS::Lambda::Function UPDATE_IN_PROGRESS',
      '12:00:09 HelloFunction AWS::Lambda::Function UPDATE_COMPLETE',
      `12:00:11 ${STACK_NAME} AWS::CloudFormation::Stack UPDATE_COMPLETE`
    ])
  })

  it('keeps deploying when stack events cannot be read', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), deployed('UPDATE_COMPLETE'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])
    cfn.on(DescribeStackEventsCommand).rejects(awsError('Throttling', 'Rate exceeded'))

    const result = await deployStack(client, request(), fakeClock())

    expect(result.stackStatus).toBe('UPDATE_COMPLETE')
    const warning = `Could not read the events of stack ${STACK_ID} (cloudformation:DescribeStackEvents): Rate exceeded. The log may miss events and failure reasons.`
    expect(stdout.lines().filter((l) => l.startsWith('::warning::'))).toEqual([
      `::warning::${warning}`
    ])
    expect(cfn.commandCalls(DescribeStackEventsCommand).length).toBeGreaterThan(1)
  })

  it('reads every page of new events, so a failure reason on page 2 is kept', async () => {
    const at = (time: string): Partial<StackEvent> => ({
      Timestamp: new Date(`2024-05-01T${time}Z`)
    })
    const old = event('old', STACK_NAME, 'UPDATE_COMPLETE', at('09:00:00'))
    const start = event('n1', STACK_NAME, 'UPDATE_IN_PROGRESS', at('12:00:01'))
    const failed = event('n2', 'HelloFunction', 'UPDATE_FAILED', {
      ...at('12:00:02'),
      ResourceStatusReason: 'Image not found'
    })
    const busy = Array.from({ length: 100 }, (_, i) =>
      event(`busy-${i}`, `Queue${i}`, 'UPDATE_COMPLETE', at('12:00:05'))
    )
    const end = event('n3', STACK_NAME, 'UPDATE_ROLLBACK_COMPLETE', at('12:00:09'))
    let polled = false
    cfn.on(DescribeStackEventsCommand).callsFake(async (input: { NextToken?: string }) => {
      if (!polled) {
        polled = true
        return { StackEvents: [old] }
      }
      if (input.NextToken === 'page-2') return { StackEvents: [failed, start, old] }
      return { StackEvents: [end, ...busy], NextToken: 'page-2' }
    })
    describeStacks(stack('UPDATE_COMPLETE'), deployed('UPDATE_ROLLBACK_COMPLETE'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])

    const error = await failure(deployStack(client, request(), fakeClock()))

    expect(error.message).toContain(
      'Error ensuring AWS::Lambda::Function (HelloFunction): Image not found'
    )
    expect(stdout.lines()).toContain(
      '12:00:02 HelloFunction AWS::Lambda::Function UPDATE_FAILED Image not found'
    )
    expect(stdout.lines().filter((l) => l.includes('AWS::Lambda::Function'))).toHaveLength(101)
  })
})
