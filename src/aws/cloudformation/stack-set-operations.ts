/**
 * Stack set operations (UpdateStackSet, Create/DeleteStackInstances): started with our own
 * OperationId, so a write retried after a lost answer is recognised, not run twice; never beside
 * another operation (OperationInProgressException: wait for the running one, then start ours);
 * then waited for through RUNNING, QUEUED (managed execution) and STOPPING until SUCCEEDED,
 * FAILED or STOPPED. A wait past the timeout stops the operation (StopStackSetOperation).
 */
import {
  DescribeStackSetOperationCommand,
  ListStackSetOperationsCommand,
  StopStackSetOperationCommand,
  type CloudFormationClient,
  type StackSetOperation
} from '@aws-sdk/client-cloudformation'
import * as log from '../../base/log.js'
import { awsErrorName, DeployError, errorMessage } from '../../base/errors.js'
import { isFinalOperation } from '../../rules/stack-set.js'
import { callAsField, type CallAs } from './stack-sets.js'
import type { WaitOptions } from './wait.js'

/** One operation to start: its id, what it does, and the call that starts it with that id. */
export interface OperationRequest {
  stackSetName: string
  callAs: CallAs
  /** Ours (see `operationIdFor`): the same id on every retry of this write. */
  operationId: string
  /** What the log calls it: `update the stack set`, `add 2 instances`, … */
  label: string
  /** The API, for messages (UpdateStackSet, CreateStackInstances, DeleteStackInstances). */
  api: string
  /** Sends the write with `OperationId: operationId`; resolves to its answer. */
  start: (operationId: string) => Promise<{ OperationId?: string | undefined } | undefined>
}

/** A finished operation. */
export interface OperationOutcome {
  operationId: string
  action: string
  status: string
  statusReason: string
}

/** Hooks the flow gives: a stop on cancel while the operation runs. */
export interface OperationHooks {
  /** Called with the running operation's id, and with undefined when it is over. */
  track?: (operationId: string | undefined) => void
}

const BUSY = new Set(['RUNNING', 'QUEUED', 'STOPPING'])

/** A failed attempt that never reached CloudFormation (no HTTP status): worth one more try. */
function isLostAnswer(error: unknown): boolean {
  const meta = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
  return error instanceof Error && meta?.httpStatusCode === undefined && awsErrorName(error) !== ''
}

/**
 * Starts the operation and waits for it. Another operation running first is waited for (each
 * wait under the same deadline); an OperationIdAlreadyExistsException means an earlier attempt
 * of ours started it, and that one is followed.
 */
export async function runOperation(
  cfn: CloudFormationClient,
  request: OperationRequest,
  wait: WaitOptions,
  hooks: OperationHooks = {}
): Promise<OperationOutcome> {
  const deadline = wait.now() + wait.timeoutMs
  let retriedLost = false
  // CloudFormation answers with the id it was given; follow its answer all the same.
  let operationId = request.operationId
  for (;;) {
    try {
      const answer = await request.start(request.operationId)
      operationId = answer?.OperationId || request.operationId
      log.info(`Stack set ${request.stackSetName}: ${request.label} (operation ${operationId}).`)
      break
    } catch (error) {
      const name = awsErrorName(error)
      if (name === 'OperationIdAlreadyExistsException') {
        log.info(
          `Operation ${request.operationId} was already started by an earlier attempt of this run: following it.`
        )
        break
      }
      if (name === 'OperationInProgressException') {
        await waitForRunning(cfn, request, wait, deadline)
        continue
      }
      if (!retriedLost && isLostAnswer(error)) {
        // Same OperationId: if the first call did start it, CloudFormation says so.
        retriedLost = true
        continue
      }
      throw new DeployError(
        `Stack set ${request.stackSetName}: could not ${request.label} (cloudformation:${request.api}): ${errorMessage(error)}`
      )
    }
  }
  hooks.track?.(operationId)
  try {
    return await waitForOperation(cfn, request, operationId, wait, deadline)
  } finally {
    hooks.track?.(undefined)
  }
}

/** The operation running (or queued) on the stack set now, if any. */
export async function runningOperation(
  cfn: CloudFormationClient,
  stackSetName: string,
  callAs: CallAs
): Promise<string | undefined> {
  const { Summaries } = await cfn.send(
    new ListStackSetOperationsCommand({ StackSetName: stackSetName, ...callAsField(callAs) })
  )
  return Summaries?.find((s) => BUSY.has(s.Status ?? ''))?.OperationId
}

/** OperationInProgressException: waits for whatever runs now (someone else's), then returns. */
async function waitForRunning(
  cfn: CloudFormationClient,
  request: OperationRequest,
  wait: WaitOptions,
  deadline: number
): Promise<void> {
  const other = await runningOperation(cfn, request.stackSetName, request.callAs)
  if (wait.now() >= deadline) {
    throw new DeployError(
      `Stack set ${request.stackSetName}: another operation${other ? ` (${other})` : ''} was still running when the timeout ran out; nothing of this run was started. Run again later, or raise 'timeout-minutes'.`
    )
  }
  if (other === undefined) {
    // It ended between our call and the listing: try again after a short pause.
    await wait.sleep(wait.initialPollMs)
    return
  }
  log.info(
    `Stack set ${request.stackSetName}: operation ${other} is in progress; waiting for it before starting ours.`
  )
  await waitForOperation(cfn, request, other, wait, deadline, false)
}

/**
 * Polls DescribeStackSetOperation (strongly consistent) until the operation is final, logging
 * each new status. At the deadline our own operation is stopped and the wait fails.
 */
async function waitForOperation(
  cfn: CloudFormationClient,
  request: OperationRequest,
  operationId: string,
  wait: WaitOptions,
  deadline: number,
  ours = true
): Promise<OperationOutcome> {
  let delay = wait.initialPollMs
  let seen = ''
  for (;;) {
    const operation = await describeOperation(cfn, request, operationId)
    const status = operation.Status ?? ''
    if (status !== seen) {
      log.info(`Stack set ${request.stackSetName}: operation ${operationId} ${status}`)
      seen = status
    }
    if (isFinalOperation(status)) {
      return {
        operationId,
        action: operation.Action ?? '',
        status,
        statusReason: operation.StatusReason ?? ''
      }
    }
    if (wait.now() >= deadline) {
      if (ours) await stopOperation(cfn, request.stackSetName, operationId, request.callAs)
      throw new DeployError(
        `Stack set ${request.stackSetName}: operation ${operationId} was still ${status} when 'timeout-minutes' ran out${ours ? '; it was asked to stop (StopStackSetOperation)' : ''}.`
      )
    }
    await wait.sleep(Math.min(delay, Math.max(0, deadline - wait.now())))
    // Operations take minutes: polls grow to twelve times a stack wait's longest interval (2.4 s).
    delay = Math.min(wait.maxPollMs * 12, Math.ceil(delay * 1.5))
  }
}

async function describeOperation(
  cfn: CloudFormationClient,
  request: OperationRequest,
  operationId: string
): Promise<StackSetOperation> {
  try {
    const { StackSetOperation: operation } = await cfn.send(
      new DescribeStackSetOperationCommand({
        StackSetName: request.stackSetName,
        OperationId: operationId,
        ...callAsField(request.callAs)
      })
    )
    return operation ?? {}
  } catch (error) {
    throw new DeployError(
      `Could not read operation ${operationId} of stack set ${request.stackSetName} (cloudformation:DescribeStackSetOperation): ${errorMessage(error)}`
    )
  }
}

/** Asks CloudFormation to stop the operation (best effort: a warning when it cannot). */
export async function stopOperation(
  cfn: CloudFormationClient,
  stackSetName: string,
  operationId: string,
  callAs: CallAs
): Promise<void> {
  try {
    await cfn.send(
      new StopStackSetOperationCommand({
        StackSetName: stackSetName,
        OperationId: operationId,
        ...callAsField(callAs)
      })
    )
    log.warning(
      `Asked CloudFormation to stop operation ${operationId} of stack set ${stackSetName}: instances not started are cancelled, running ones finish.`
    )
  } catch (error) {
    log.warning(
      `Could not stop operation ${operationId} of stack set ${stackSetName}: ${errorMessage(error)}`
    )
  }
}
