/**
 * deleteStack: no stack, a busy stack, termination protection, DELETE_FAILED and the timeout.
 */
import { describe, expect, it } from '@jest/globals'
import { DeleteStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation'
import 'aws-sdk-client-mock-jest'
import { deleteStack } from '../../../src/aws/cloudformation/delete.js'
import { awsError } from '../../../__fixtures__/aws.js'
import {
  callOrder,
  cfn,
  client,
  describeStackEvents,
  describeStacks,
  event,
  failure,
  fakeClock,
  inputs,
  ROLE_ARN,
  stack,
  STACK_ID,
  STACK_NAME,
  stackMissing,
  TOKENS,
  useCloudFormationMock
} from '../../../__fixtures__/cloudformation.js'

const stdout = useCloudFormationMock()

describe('deleteStack', () => {
  it('succeeds without deleting anything when there is no stack', async () => {
    describeStacks(stackMissing())

    const result = await deleteStack(client, STACK_NAME, fakeClock())

    expect(result).toEqual({ existed: false, status: 'DELETE_COMPLETE' })
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand)
    expect(stdout.lines()).toEqual([`Stack ${STACK_NAME} does not exist: nothing to delete.`])
  })

  it('deletes the stack by id and waits for DELETE_COMPLETE, streaming events', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('DELETE_IN_PROGRESS'), stack('DELETE_COMPLETE'))
    const old = [event('old', STACK_NAME, 'UPDATE_COMPLETE')]
    const started = event('d1', STACK_NAME, 'DELETE_IN_PROGRESS', {
      ResourceStatusReason: 'User Initiated'
    })
    describeStackEvents(old, [started, ...old])
    const clock = fakeClock()

    const result = await deleteStack(client, STACK_NAME, clock, { roleArn: ROLE_ARN })

    expect(result).toEqual({ existed: true, stackId: STACK_ID, status: 'DELETE_COMPLETE' })
    expect(inputs(DeleteStackCommand)).toEqual([
      { StackName: STACK_ID, ClientRequestToken: TOKENS.delete, RoleARN: ROLE_ARN }
    ])
    expect(inputs(DescribeStacksCommand)).toEqual([
      { StackName: STACK_NAME },
      { StackName: STACK_ID },
      { StackName: STACK_ID }
    ])
    expect(clock.slept).toEqual([500])
    expect(stdout.lines()).toEqual([
      `Deleting stack ${STACK_NAME}`,
      `12:01:02 ${STACK_NAME} AWS::CloudFormation::Stack DELETE_IN_PROGRESS User Initiated`,
      `Stack ${STACK_NAME} deleted (DELETE_COMPLETE)`
    ])
  })

  it('sends no RoleARN unless given one', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('DELETE_COMPLETE'))

    await deleteStack(client, STACK_NAME, fakeClock())

    expect(inputs(DeleteStackCommand)).toEqual([
      { StackName: STACK_ID, ClientRequestToken: TOKENS.delete }
    ])
    expect(inputs(DeleteStackCommand)[0]).not.toHaveProperty('RoleARN')
  })

  it('counts a stack that no longer answers to its id as deleted', async () => {
    describeStacks(stack('CREATE_COMPLETE'), stack('DELETE_IN_PROGRESS'), stackMissing(STACK_ID))

    const result = await deleteStack(client, STACK_NAME, fakeClock())

    expect(result).toEqual({ existed: true, stackId: STACK_ID, status: 'DELETE_COMPLETE' })
  })

  it('refuses a stack with termination protection and says how to remove it', async () => {
    describeStacks(stack('UPDATE_COMPLETE', { EnableTerminationProtection: true }))

    const error = await failure(deleteStack(client, STACK_NAME, fakeClock()))

    expect(error.message).toBe(
      `Stack ${STACK_NAME} has termination protection enabled, so it was not deleted. Turn it off first: \`aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name ${STACK_NAME}\` (or in the console: Stack actions → Edit termination protection).`
    )
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand)
  })

  it('lists the resources that could not be deleted when it ends in DELETE_FAILED', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE'),
      stack('DELETE_IN_PROGRESS'),
      stack('DELETE_FAILED', { StackStatusReason: 'The following resource(s) failed to delete' })
    )
    const bucketFailed = event('d2', 'Bucket', 'DELETE_FAILED', {
      ResourceType: 'AWS::S3::Bucket',
      ResourceStatusReason: 'The bucket you tried to delete is not empty'
    })
    const stackFailed = event('d3', STACK_NAME, 'DELETE_FAILED', {
      PhysicalResourceId: STACK_ID,
      ResourceStatusReason: 'The following resource(s) failed to delete: [Bucket]'
    })
    describeStackEvents([], [bucketFailed], [stackFailed, bucketFailed])

    const error = await failure(deleteStack(client, STACK_NAME, fakeClock()))

    expect(error.message).toBe(
      [
        `Deleting stack ${STACK_NAME} ended in DELETE_FAILED`,
        'AWS::S3::Bucket (Bucket): The bucket you tried to delete is not empty',
        `Fix the resources that could not be deleted (an S3 bucket must be empty, for example) and delete again, or delete it keeping them: \`aws cloudformation delete-stack --stack-name ${STACK_NAME} --retain-resources Bucket\`.`
      ].join('\n')
    )
  })

  it('falls back to the stack status reason when no event names a resource', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE'),
      stack('DELETE_FAILED', { StackStatusReason: 'Role is invalid or cannot be assumed' })
    )

    const error = await failure(deleteStack(client, STACK_NAME, fakeClock()))

    expect(error.message).toBe(
      `Deleting stack ${STACK_NAME} ended in DELETE_FAILED: Role is invalid or cannot be assumed\nFix the resources that could not be deleted (an S3 bucket must be empty, for example) and delete again, or retain them with \`aws cloudformation delete-stack --retain-resources\`.`
    )
  })

  it('waits for a busy stack before deleting it', async () => {
    describeStacks(
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_COMPLETE'),
      stack('DELETE_IN_PROGRESS'),
      stack('DELETE_COMPLETE')
    )

    const result = await deleteStack(client, STACK_NAME, fakeClock())

    expect(result.existed).toBe(true)
    expect(stdout.lines()[0]).toBe(
      `Stack ${STACK_NAME} is busy (UPDATE_IN_PROGRESS); waiting for that operation to finish first.`
    )
    expect(callOrder().slice(0, 4)).toEqual([
      'DescribeStacksCommand',
      'DescribeStacksCommand',
      'DescribeStackEventsCommand',
      'DeleteStackCommand'
    ])
    expect(inputs(DeleteStackCommand)).toEqual([
      { StackName: STACK_ID, ClientRequestToken: TOKENS.delete }
    ])
  })

  it('does not delete again a stack another operation is already deleting', async () => {
    describeStacks(stack('DELETE_IN_PROGRESS'), stack('DELETE_COMPLETE'))

    const result = await deleteStack(client, STACK_NAME, fakeClock())

    expect(result).toEqual({ existed: true, stackId: STACK_ID, status: 'DELETE_COMPLETE' })
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand)
  })

  it("fails with CloudFormation's words when DeleteStack is refused", async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    cfn.on(DeleteStackCommand).rejects(awsError('AccessDenied', 'not authorized'))

    const error = await failure(deleteStack(client, STACK_NAME, fakeClock()))

    expect(error.message).toBe(
      `CloudFormation refused to delete stack ${STACK_NAME} (DeleteStack): not authorized`
    )
  })

  it('gives up at the timeout', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('DELETE_IN_PROGRESS'))

    const error = await failure(deleteStack(client, STACK_NAME, fakeClock(60_000)))

    expect(error.message).toBe(
      `Stack ${STACK_ID} was still DELETE_IN_PROGRESS after waiting 1 minute (timeout-minutes).`
    )
  })
})
