/**
 * Deleting a stack: waits out a running operation, refuses termination protection with the way
 * to turn it off, deletes and waits until it is gone; DELETE_FAILED names what could not go.
 */
import * as log from '../../base/log.js'
import {
  DeleteStackCommand,
  type CloudFormationClient,
  type Stack
} from '@aws-sdk/client-cloudformation'
import { DeployError, errorMessage, StackOperationError } from '../../base/errors.js'
import { isSettled } from '../../rules/stack-rules.js'
import { EventStream, failedResource, failureDetail } from './events.js'
import { requestToken } from './tokens.js'
import type { DeleteResult } from './types.js'
import { describeStack, waitForStack, type WaitOptions } from './wait.js'

/** The DELETE_FAILED error: each resource that stayed, and how to retry or retain them. */
function deleteFailed(stackName: string, final: Stack, events: EventStream): DeployError {
  const stackId = final.StackId
  // The stack's own failed event repeats what the resources' events say.
  const failed = events
    .failedEvents()
    .filter(
      (e) =>
        !(e.ResourceType === 'AWS::CloudFormation::Stack' && e.PhysicalResourceId === stackId) &&
        !(e.ResourceType === 'AWS::CloudFormation::Stack' && e.LogicalResourceId === stackName)
    )
  const detail = failureDetail(failed.map(failedResource), final)
  const ids = [...new Set(failed.map((e) => e.LogicalResourceId ?? '').filter(Boolean))]
  const retain =
    ids.length > 0
      ? ` or delete it keeping them: \`aws cloudformation delete-stack --stack-name ${stackName} --retain-resources ${ids.join(' ')}\``
      : ''
  return StackOperationError.fromEvents(
    `Deleting stack ${stackName} ended in ${final.StackStatus ?? ''}${detail}\nFix the resources that could not be deleted (an S3 bucket must be empty, for example) and delete again,${retain || ' or retain them with `aws cloudformation delete-stack --retain-resources`'}.`,
    final.StackStatus ?? '',
    failed
  )
}

/** Sends DeleteStack and waits until the stack is gone or the delete failed. */
async function deleteAndWait(
  cfn: CloudFormationClient,
  stack: Stack,
  stackName: string,
  roleArn: string | undefined,
  timing: { options: WaitOptions; started: number }
): Promise<DeleteResult> {
  const stackId = stack.StackId as string
  const events = new EventStream(cfn, stackId)
  await events.baseline()
  log.info(`Deleting stack ${stackName}`)
  const calledAt = timing.options.now()
  try {
    await cfn.send(
      new DeleteStackCommand({
        StackName: stackId,
        ClientRequestToken: requestToken('delete', stackId),
        ...(roleArn ? { RoleARN: roleArn } : {})
      })
    )
  } catch (error) {
    throw new DeployError(
      `CloudFormation refused to delete stack ${stackName} (DeleteStack): ${errorMessage(error)}`
    )
  }
  const final = await waitForStack(cfn, stackId, events, timing.options, timing.started, stack, {
    calledAt,
    before: stack
  })
  await events.poll()
  if (final.StackStatus !== 'DELETE_COMPLETE') {
    throw deleteFailed(stackName, { ...final, StackId: stackId }, events)
  }
  log.info(`Stack ${stackName} deleted (DELETE_COMPLETE)`)
  return { existed: true, stackId, status: 'DELETE_COMPLETE' }
}

/**
 * Deletes a stack and waits until it is gone, streaming events. No stack is success
 * (`existed: false`); a busy stack is waited for first; termination protection is an error that
 * says how to turn it off; DELETE_FAILED names each resource that could not be deleted.
 */
export async function deleteStack(
  cfn: CloudFormationClient,
  stackName: string,
  options: WaitOptions,
  extra: { roleArn?: string } = {}
): Promise<DeleteResult> {
  const started = options.now()
  let stack = await describeStack(cfn, stackName)
  if (!stack) {
    log.info(`Stack ${stackName} does not exist: nothing to delete.`)
    return { existed: false, status: 'DELETE_COMPLETE' }
  }
  const stackId = stack.StackId as string
  if (!isSettled(stack.StackStatus ?? '')) {
    log.info(
      `Stack ${stackName} is busy (${stack.StackStatus}); waiting for that operation to finish first.`
    )
    stack = await waitForStack(cfn, stackId, undefined, options, started, stack)
    if (stack.StackStatus === 'DELETE_COMPLETE') {
      log.info(`Stack ${stackName} was deleted (DELETE_COMPLETE).`)
      return { existed: true, stackId, status: 'DELETE_COMPLETE' }
    }
  }
  if (stack.EnableTerminationProtection) {
    throw new DeployError(
      `Stack ${stackName} has termination protection enabled, so it was not deleted. Turn it off first: \`aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name ${stackName}\` (or in the console: Stack actions → Edit termination protection).`
    )
  }
  return deleteAndWait(cfn, stack, stackName, extra.roleArn, { options, started })
}
