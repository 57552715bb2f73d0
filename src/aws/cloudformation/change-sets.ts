/**
 * aws/cloudformation/: stacks and change sets: ready, submit, settle, execute, wait (events
 * streamed), delete. Every function takes the client first; waits poll at a short, bounded interval.
 * May import: aws/, rules/, base/.
 *
 * Change sets up to the point of execution, in three steps: ready the stack (wait out a busy one,
 * recreate a ROLLBACK_COMPLETE one, refuse a blocked one), submit the change set (replacing one
 * of the same name an earlier run left), and settle it (wait; an empty one is deleted).
 */
import * as log from '../../base/log.js'
import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  type CloudFormationClient,
  type CreateChangeSetCommandInput,
  type DescribeChangeSetCommandOutput,
  type Stack
} from '@aws-sdk/client-cloudformation'
import { awsErrorName, DeployError, errorMessage } from '../../base/errors.js'
import {
  blockedStackError,
  isEmptyChangeSet,
  parameterChanges,
  planStack,
  rollbackWasDisabled,
  previousParameterKeys
} from '../../rules/stack-rules.js'
import { readChangeRows } from './changes.js'
import { requestToken } from './tokens.js'
import {
  KNOWN_STACK_MAX_AGE_MS,
  type ChangeSetResult,
  type DeployRequest,
  type KnownStack
} from './types.js'
import { describeStack, waitForChangeSet, waitForStack, type WaitOptions } from './wait.js'

/** The stack as it stands once it can take a change set (undefined: there is none). */
interface ReadyStack {
  stack?: Stack
  type: 'CREATE' | 'UPDATE'
  /** The parameters the stack has a value for (UsePreviousValue). */
  previous: Set<string>
}

/** A change set CloudFormation accepted, not yet ready. */
type Submitted = Pick<
  ChangeSetResult,
  'changeSetId' | 'changeSetName' | 'stackId' | 'stackName' | 'type'
>

/** A ready change set and, when it was empty, the stack as it stands. */
interface Prepared {
  result: ChangeSetResult
  current?: Stack
  /** The stack as last read before the change set ran (a new one: REVIEW_IN_PROGRESS). */
  before?: Stack
}

/** Removes a change set left under the same name by an earlier run of this build (idempotent re-runs). */
async function removeStaleChangeSet(
  cfn: CloudFormationClient,
  stackId: string,
  name: string
): Promise<void> {
  try {
    const existing = await cfn.send(
      new DescribeChangeSetCommand({ ChangeSetName: name, StackName: stackId })
    )
    if (existing.ExecutionStatus === 'EXECUTE_IN_PROGRESS') return
    log.info(`Replacing change set ${name} left by an earlier run of this build.`)
    await cfn.send(
      new DeleteChangeSetCommand({
        ChangeSetName: existing.ChangeSetId ?? name,
        StackName: stackId
      })
    )
  } catch (error) {
    if (
      awsErrorName(error) !== 'ChangeSetNotFoundException' &&
      awsErrorName(error) !== 'ChangeSetNotFound'
    ) {
      log.debug(`Looking for an earlier change set ${name}: ${errorMessage(error)}`)
    }
  }
}

/** Deletes a change set that will not run; a failure only warns (the change set is harmless). */
export async function deleteChangeSet(
  cfn: CloudFormationClient,
  id: string,
  stackName: string
): Promise<void> {
  try {
    await cfn.send(new DeleteChangeSetCommand({ ChangeSetName: id, StackName: stackName }))
  } catch (error) {
    log.warning(`Could not delete change set ${id}: ${errorMessage(error)}`)
  }
}

/** Deletes a stack left in ROLLBACK_COMPLETE and waits until it is gone. */
async function deleteFailedStack(
  cfn: CloudFormationClient,
  stack: Stack,
  options: WaitOptions
): Promise<void> {
  const stackId = stack.StackId as string
  log.info(
    `Stack ${stack.StackName} is in ROLLBACK_COMPLETE (its first create failed); deleting it to create it again.`
  )
  const calledAt = options.now()
  await cfn.send(
    new DeleteStackCommand({
      StackName: stackId,
      ClientRequestToken: requestToken('delete-failed', stackId)
    })
  )
  const gone = await waitForStack(cfn, stackId, undefined, options, calledAt, stack, {
    calledAt,
    before: stack
  })
  if (gone.StackStatus !== 'DELETE_COMPLETE') {
    throw new DeployError(
      `Deleting the rolled-back stack ${stack.StackName} ended in ${gone.StackStatus}: ${gone.StackStatusReason ?? ''}`
    )
  }
}

/** The optional CreateChangeSet fields, each only when asked for. */
function optionalChangeSetFields(
  request: DeployRequest,
  type: 'CREATE' | 'UPDATE'
): Partial<CreateChangeSetCommandInput> {
  const fields: Partial<CreateChangeSetCommandInput> = {}
  if (request.roleArn) fields.RoleARN = request.roleArn
  if (request.notificationArns && request.notificationArns.length > 0)
    fields.NotificationARNs = request.notificationArns
  if (request.rollbackConfiguration) fields.RollbackConfiguration = request.rollbackConfiguration
  if (request.deploymentMode) {
    if (type === 'UPDATE') fields.DeploymentMode = request.deploymentMode
    else log.info(`Deployment mode ${request.deploymentMode} left out: a new stack has no drift.`)
  }
  if (request.includeNestedStacks) fields.IncludeNestedStacks = true
  // Always explicit: with Mode EXPRESS and DisableRollback left out, AWS disables rollback.
  if (request.express) {
    fields.DeploymentConfig = { Mode: 'EXPRESS', DisableRollback: request.express.disableRollback }
  }
  return fields
}

/**
 * Step 1: waits out a busy stack, recreates a ROLLBACK_COMPLETE one, refuses a blocked one. A
 * read younger than KNOWN_STACK_MAX_AGE_MS (preflight's) is used as it is, not made again.
 */
async function readyStack(
  cfn: CloudFormationClient,
  stackName: string,
  options: WaitOptions,
  started: number,
  known?: KnownStack
): Promise<ReadyStack> {
  const fresh = known !== undefined && options.now() - known.readAt <= KNOWN_STACK_MAX_AGE_MS
  let stack = fresh ? known.stack : await describeStack(cfn, stackName)
  let plan = planStack(stack?.StackStatus, rollbackWasDisabled(stack))
  if (plan.kind === 'wait' && stack) {
    log.info(
      `Stack ${stackName} is busy (${plan.status}); waiting for that operation to finish first.`
    )
    stack = await waitForStack(cfn, stack.StackId as string, undefined, options, started)
    plan = planStack(stack.StackStatus, rollbackWasDisabled(stack))
  }
  if (plan.kind === 'recreate' && stack) {
    await deleteFailedStack(cfn, stack, options)
    stack = undefined
    plan = { kind: 'create' }
  }
  if (plan.kind === 'blocked') throw blockedStackError(stackName, plan.status)
  if (plan.kind === 'wait')
    throw new DeployError(`Stack ${stackName} is still busy (${plan.status}).`)
  return {
    ...(stack ? { stack } : {}),
    type: plan.kind === 'create' ? 'CREATE' : 'UPDATE',
    previous: previousParameterKeys(plan, stack?.Parameters)
  }
}

/**
 * A CreateChangeSet that failed with AlreadyExists after the stale one was removed: the SDK
 * retried a call whose answer was lost, and the first attempt created the change set. Finds it
 * by name and goes on with it; any other failure is the refusal it is.
 */
async function createdByRetry(
  cfn: CloudFormationClient,
  request: DeployRequest,
  error: unknown
): Promise<{ Id?: string; StackId?: string }> {
  const refused = new DeployError(
    `CloudFormation refused the change set for ${request.stackName} (CreateChangeSet): ${errorMessage(error)}`
  )
  if (!/^AlreadyExists(Exception)?$/.test(awsErrorName(error))) throw refused
  try {
    const existing = await cfn.send(
      new DescribeChangeSetCommand({
        ChangeSetName: request.changeSetName,
        StackName: request.stackName
      })
    )
    log.info(`Change set ${request.changeSetName} was created by a retried call; going on with it.`)
    return { Id: existing.ChangeSetId, StackId: existing.StackId }
  } catch {
    throw refused
  }
}

/** Step 2: replaces a stale change set of the same name, then creates this one. */
async function submitChangeSet(
  cfn: CloudFormationClient,
  request: DeployRequest,
  ready: ReadyStack
): Promise<Submitted> {
  const { type } = ready
  if (ready.stack?.StackId) {
    await removeStaleChangeSet(cfn, ready.stack.StackId, request.changeSetName)
  }
  log.info(
    `Creating ${type} change set ${request.changeSetName} for stack ${request.stackName}${request.express ? ' in express mode' : ''}`
  )
  let created: { Id?: string; StackId?: string }
  try {
    created = await cfn.send(
      new CreateChangeSetCommand({
        ClientToken: requestToken(
          'create-change-set',
          `${request.stackName}\n${request.changeSetName}`
        ),
        StackName: request.stackName,
        ChangeSetName: request.changeSetName,
        ChangeSetType: type,
        TemplateURL: request.templateUrl,
        Parameters: request.parameters(ready.previous),
        Capabilities: request.capabilities.length > 0 ? (request.capabilities as never) : undefined,
        Tags: request.tags,
        Description: request.description,
        ...optionalChangeSetFields(request, type)
      })
    )
  } catch (error) {
    created = await createdByRetry(cfn, request, error)
  }
  return {
    changeSetId: created.Id as string,
    changeSetName: request.changeSetName,
    stackId: created.StackId as string,
    stackName: request.stackName,
    type
  }
}

/**
 * A change set that did not become ready: an empty one is deleted and is success only with
 * `noFailOnEmptyChangeset` (with the stack as it stands); any other failure is deleted and thrown.
 */
async function unreadyChangeSet(
  cfn: CloudFormationClient,
  request: DeployRequest,
  ready: ReadyStack,
  submitted: Submitted,
  described: DescribeChangeSetCommandOutput
): Promise<Prepared> {
  const { changeSetId, stackId } = submitted
  await deleteChangeSet(cfn, changeSetId, stackId)
  if (!isEmptyChangeSet(described.Status, described.StatusReason)) {
    throw new DeployError(
      `The change set for ${request.stackName} failed: ${described.StatusReason ?? 'no reason given'}`
    )
  }
  if (!request.noFailOnEmptyChangeset) {
    throw new DeployError(
      `The change set for ${request.stackName} has no changes (${described.StatusReason}); set 'no-fail-on-empty-changeset: true' to treat that as success.`
    )
  }
  log.info(
    `No changes: stack ${request.stackName} already matches this template and these parameters.`
  )
  const current = await describeStack(cfn, stackId)
  return {
    result: {
      ...submitted,
      empty: true,
      changes: [],
      stackStatus: current?.StackStatus ?? ready.stack?.StackStatus ?? '',
      outputs: current?.Outputs ?? []
    },
    current
  }
}

/** Step 3: waits for the change set, then lists its changes and (UPDATE) parameter changes. */
async function settleChangeSet(
  cfn: CloudFormationClient,
  request: DeployRequest,
  ready: ReadyStack,
  submitted: Submitted,
  timing: { options: WaitOptions; started: number }
): Promise<Prepared> {
  const { changeSetId, stackId } = submitted
  const described = await waitForChangeSet(
    cfn,
    changeSetId,
    stackId,
    request.changeSetName,
    timing.options,
    timing.started
  )
  if (described.Status !== 'CREATE_COMPLETE') {
    return unreadyChangeSet(cfn, request, ready, submitted, described)
  }
  const changes = await readChangeRows(cfn, described, changeSetId, stackId)
  const result: ChangeSetResult = { ...submitted, empty: false, changes }
  if (submitted.type === 'UPDATE') {
    result.parameterChanges = parameterChanges(
      ready.stack?.Parameters ?? [],
      described.Parameters ?? [],
      request.noEchoParameters
    )
    for (const p of result.parameterChanges) {
      log.info(`  Parameter ${p.key}: ${p.old ?? '(not set)'} → ${p.new ?? '(removed)'}`)
    }
  }
  return { result }
}

/** Everything up to a change set ready to execute, under the deadline counted from `started`. */
export async function prepareChangeSet(
  cfn: CloudFormationClient,
  request: DeployRequest,
  options: WaitOptions,
  started: number
): Promise<Prepared> {
  const ready = await readyStack(cfn, request.stackName, options, started, request.known)
  const submitted = await submitChangeSet(cfn, request, ready)
  request.onSubmitted?.(submitted)
  const prepared = await settleChangeSet(cfn, request, ready, submitted, { options, started })
  const before: Stack =
    ready.type === 'UPDATE' && ready.stack
      ? ready.stack
      : ({
          StackId: submitted.stackId,
          StackName: request.stackName,
          StackStatus: 'REVIEW_IN_PROGRESS'
        } as Stack)
  return { ...prepared, before }
}

/**
 * Everything up to a change set ready to execute: waits out a busy stack, recreates a
 * ROLLBACK_COMPLETE stack, refuses blocked states, replaces a change set of the same name left
 * by an earlier run, creates the change set and waits for it. An empty change set is deleted and
 * fails unless `noFailOnEmptyChangeset` (then `empty` is true, with the stack's status and outputs).
 */
export async function createChangeSet(
  cfn: CloudFormationClient,
  request: DeployRequest,
  options: WaitOptions
): Promise<ChangeSetResult> {
  return (await prepareChangeSet(cfn, request, options, options.now())).result
}
