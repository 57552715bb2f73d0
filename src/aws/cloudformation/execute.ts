/**
 * Execution: deploys in one go (change set, then execute, under one timeout), or executes a
 * change set made earlier (review mode's second step); waits to a settled state while streaming
 * events, and turns termination protection on afterwards when asked.
 */
import { deletedImageRecovery } from '../../rules/image-recovery.js'
import * as log from '../../base/log.js'
import {
  DescribeChangeSetCommand,
  ExecuteChangeSetCommand,
  UpdateTerminationProtectionCommand,
  type CloudFormationClient,
  type DescribeChangeSetCommandOutput,
  type Stack
} from '@aws-sdk/client-cloudformation'
import { awsErrorName, DeployError, errorMessage, StackOperationError } from '../../base/errors.js'
import {
  disabledRollbackHint,
  isFailedState,
  overlappingChangeSet,
  parameterChanges,
  recoveryHint
} from '../../rules/stack-rules.js'
import { deleteChangeSet, prepareChangeSet } from './change-sets.js'
import { readChangeRows } from './changes.js'
import { EventStream, failedResource, failureDetail } from './events.js'
import { requestToken } from './tokens.js'
import type { ChangeSetRef, DeployRequest, DeployResult, ExecuteOptions } from './types.js'
import { describeStack, waitForChangeSet, waitForStack, type WaitOptions } from './wait.js'

/** What an express deploy leaves behind, said once it succeeded (as SAM CLI says it). */
const EXPRESS_DONE =
  'Deployed with CloudFormation express mode: resources may still be stabilizing in the background (a Lambda function can stay Pending for a few seconds).'

/** Turns termination protection on when asked and the stack lacks it. */
async function ensureTerminationProtection(
  cfn: CloudFormationClient,
  stack: Stack,
  stackName: string,
  extra: ExecuteOptions
): Promise<void> {
  if (!extra.terminationProtection || stack.EnableTerminationProtection) return
  try {
    await cfn.send(
      new UpdateTerminationProtectionCommand({
        StackName: stack.StackId ?? stackName,
        EnableTerminationProtection: true
      })
    )
  } catch (error) {
    throw new DeployError(
      `Stack ${stackName} is ${stack.StackStatus ?? 'deployed'}, but enabling termination protection failed (cloudformation:UpdateTerminationProtection): ${errorMessage(error)}`
    )
  }
  log.info(`Enabled termination protection on stack ${stackName}`)
}

/**
 * Throws when the stack last ran another change set than ours (DescribeStacks' ChangeSetId):
 * another deploy updated it meanwhile, and its status and outputs are that run's, not ours.
 */
function checkOwnChangeSet(final: Stack, stackName: string, changeSetId: string): void {
  if (!overlappingChangeSet(final.ChangeSetId, changeSetId)) return
  throw new DeployError(
    `Another deploy updated stack ${stackName} meanwhile: it last ran change set ${final.ChangeSetId}, not this run's ${changeSetId}, so its status (${final.StackStatus ?? 'unknown'}) and outputs are not this run's and none are reported. Run one deploy per stack at a time (a workflow \`concurrency\` group): see docs/WORKFLOWS.md#concurrency.`
  )
}

/** The settled statuses of a change set that ran to the end. */
const DEPLOYED = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'IMPORT_COMPLETE'])

/** Throws when the executed stack ended deleted or failed, naming each failed resource. */
function checkExecuted(
  final: Stack,
  stackName: string,
  events: EventStream,
  extra: ExecuteOptions
): void {
  const status = final.StackStatus ?? ''
  if (status === 'DELETE_COMPLETE') {
    throw new DeployError(
      `Stack ${stackName} was deleted (DELETE_COMPLETE) while this deploy waited for it (by someone else?); run the deploy again to create it.`
    )
  }
  if (!isFailedState(status)) {
    if (DEPLOYED.has(status)) return
    // A read that never reached a completed deploy is no success (REVIEW_IN_PROGRESS: the stack as it was before).
    throw new DeployError(
      `Stack ${stackName} ended in ${status}, not a completed deploy (CREATE_COMPLETE, UPDATE_COMPLETE or IMPORT_COMPLETE): check the stack's events in the console before deploying again.`
    )
  }
  // Sparta's form: `Error ensuring <Type> (<LogicalId>): <Reason>`.
  const lines = events.failedEvents().map((e) => `Error ensuring ${failedResource(e)}`)
  const failed = StackOperationError.fromEvents('', status, events.failedEvents()).failedResources
  const imageSteps = deletedImageRecovery(stackName, status, failed)
  const usual =
    (extra.disableRollback && disabledRollbackHint(status, extra.express)) || recoveryHint(status)
  // In UPDATE_ROLLBACK_FAILED the image steps say how to continue the rollback.
  const hint =
    status === 'UPDATE_ROLLBACK_FAILED' && imageSteps.length > 0
      ? imageSteps.join('\n')
      : [...imageSteps, usual].join('\n')
  throw StackOperationError.fromEvents(
    `Stack ${stackName} ended in ${status}${failureDetail(lines, final)}\n${hint}`,
    status,
    events.failedEvents()
  )
}

/**
 * Sends ExecuteChangeSet with a ClientRequestToken. When the SDK retried a call whose answer was
 * lost, CloudFormation may answer the retry InvalidChangeSetStatus because the first attempt
 * already started the execution: a change set found executing or executed is then ours to track.
 */
async function sendExecute(
  cfn: CloudFormationClient,
  changeSet: ChangeSetRef,
  label: string,
  extra: ExecuteOptions
): Promise<void> {
  const { changeSetId, stackId } = changeSet
  try {
    await cfn.send(
      new ExecuteChangeSetCommand({
        ChangeSetName: changeSetId,
        StackName: stackId,
        ClientRequestToken: requestToken('execute', `${stackId}\n${changeSetId}`),
        // Express: the change set's DeploymentConfig already says (AWS reads it from there).
        ...(extra.disableRollback && !extra.express ? { DisableRollback: true } : {})
      })
    )
  } catch (error) {
    const refused = new DeployError(
      `CloudFormation refused to execute change set ${label}: ${errorMessage(error)}`
    )
    // The SDK names the error InvalidChangeSetStatusException; the wire code lacks the suffix.
    if (!/^InvalidChangeSetStatus(Exception)?$/.test(awsErrorName(error))) throw refused
    const described = await cfn
      .send(new DescribeChangeSetCommand({ ChangeSetName: changeSetId, StackName: stackId }))
      .catch(() => undefined)
    const execution = described?.ExecutionStatus ?? ''
    if (!['EXECUTE_IN_PROGRESS', 'EXECUTE_COMPLETE', 'EXECUTE_FAILED'].includes(execution)) {
      throw refused
    }
    log.info(`Change set ${label} is ${execution}: a retried call already started it.`)
  }
}

/**
 * Executes a ready change set and waits to a settled state while streaming events; failures name
 * each failed resource. Afterwards enables termination protection when asked and missing.
 */
async function executeChangeSet(
  cfn: CloudFormationClient,
  changeSet: ChangeSetRef,
  options: WaitOptions,
  extra: ExecuteOptions,
  started: number
): Promise<DeployResult> {
  const { changeSetId, stackId, stackName } = changeSet
  const label = changeSet.changeSetName ?? changeSetId
  const events = new EventStream(cfn, stackId)
  await events.baseline()
  log.info(
    `Executing change set ${label}${extra.express ? ' in express mode' : ''}${extra.disableRollback ? ' (rollback disabled: failed resources are kept)' : ''}`
  )
  const calledAt = options.now()
  await sendExecute(cfn, changeSet, label, extra)
  extra.onExecuted?.(stackId)

  const final = await waitForStack(cfn, stackId, events, options, started, undefined, {
    calledAt,
    ...(changeSet.before ? { before: changeSet.before } : {})
  })
  await events.poll()
  checkOwnChangeSet(final, stackName, changeSetId)
  checkExecuted(final, stackName, events, extra)
  await ensureTerminationProtection(cfn, final, stackName, extra)
  if (extra.express) log.info(EXPRESS_DONE)
  return {
    stackId,
    stackStatus: final.StackStatus ?? '',
    changeSetId,
    noChanges: false,
    changes: changeSet.changes ?? [],
    ...(changeSet.parameterChanges ? { parameterChanges: changeSet.parameterChanges } : {}),
    ...(extra.express ? { express: true } : {}),
    outputs: final.Outputs ?? []
  }
}

/**
 * Deploys through a change set: creates it, then (unless it was empty) executes it, under one
 * timeout. A failed update leaves the previous version in place.
 */
export async function deployStack(
  cfn: CloudFormationClient,
  request: DeployRequest,
  options: WaitOptions,
  extra: ExecuteOptions = {}
): Promise<DeployResult> {
  const started = options.now()
  const { result, current, before } = await prepareChangeSet(cfn, request, options, started)
  if (result.empty) {
    if (current) await ensureTerminationProtection(cfn, current, request.stackName, extra)
    return {
      stackId: result.stackId,
      stackStatus: result.stackStatus ?? '',
      changeSetId: result.changeSetId,
      noChanges: true,
      changes: [],
      outputs: result.outputs ?? []
    }
  }
  if (extra.beforeExecute) {
    try {
      await extra.beforeExecute()
    } catch (error) {
      log.info(`Deleting change set ${result.changeSetName}: it will not be executed.`)
      await deleteChangeSet(cfn, result.changeSetId, result.stackId)
      throw error
    }
  }
  return executeChangeSet(
    cfn,
    { ...result, ...(before ? { before } : {}) },
    options,
    extra,
    started
  )
}

function isChangeSetArn(value: string): boolean {
  return /^arn:aws[a-z-]*:cloudformation:/.test(value)
}

/** Why a change set cannot be executed, in CloudFormation's words plus what to do. */
function notExecutable(described: DescribeChangeSetCommandOutput, label: string): string {
  const execution = described.ExecutionStatus ?? 'UNAVAILABLE'
  const status = described.Status ?? 'unknown'
  const reason = described.StatusReason ? `: ${described.StatusReason}` : ''
  switch (execution) {
    case 'OBSOLETE':
      return `${label} cannot be executed: it is OBSOLETE (the stack changed after it was created)${reason}. Create and review a new change set.`
    case 'EXECUTE_COMPLETE':
      return `${label} was already executed (EXECUTE_COMPLETE).`
    case 'EXECUTE_IN_PROGRESS':
      return `${label} is already being executed (EXECUTE_IN_PROGRESS).`
    case 'EXECUTE_FAILED':
      return `${label} was executed and failed (EXECUTE_FAILED)${reason}. Create and review a new change set.`
    default:
      return `${label} cannot be executed (Status ${status}, ExecutionStatus ${execution})${reason}.`
  }
}

/** The change set once it is ready, or an error saying it is gone, of another stack or not executable. */
async function readExistingChangeSet(
  cfn: CloudFormationClient,
  stackName: string,
  changeSetIdOrName: string,
  timing: { options: WaitOptions; started: number }
): Promise<DescribeChangeSetCommandOutput> {
  const label = `Change set ${changeSetIdOrName} of stack ${stackName}`
  const byArn = isChangeSetArn(changeSetIdOrName)
  let described: DescribeChangeSetCommandOutput
  try {
    described = await waitForChangeSet(
      cfn,
      changeSetIdOrName,
      byArn ? undefined : stackName,
      changeSetIdOrName,
      timing.options,
      timing.started
    )
  } catch (error) {
    if (error instanceof DeployError) throw error
    const name = awsErrorName(error)
    if (
      name === 'ChangeSetNotFoundException' ||
      name === 'ChangeSetNotFound' ||
      /does not exist/.test(errorMessage(error))
    ) {
      throw new DeployError(
        `${label} was not found (${errorMessage(error)}): it was executed or deleted already, or belongs to another account or region. Create and review a new change set.`
      )
    }
    throw new DeployError(
      `Could not read change set ${changeSetIdOrName} of stack ${stackName} (cloudformation:DescribeChangeSet): ${errorMessage(error)}`
    )
  }
  const wrongStack = isChangeSetArn(stackName)
    ? described.StackId !== undefined && described.StackId !== stackName
    : described.StackName !== undefined && described.StackName !== stackName
  if (wrongStack) {
    throw new DeployError(
      `Change set ${changeSetIdOrName} belongs to stack ${described.StackName ?? described.StackId}, not ${stackName}.`
    )
  }
  if (described.Status !== 'CREATE_COMPLETE' || described.ExecutionStatus !== 'AVAILABLE') {
    throw new DeployError(notExecutable(described, label))
  }
  return described
}

/**
 * The second step of a reviewed deploy: executes a change set created earlier (by ARN, or by name
 * within `stackName`) if CloudFormation still offers it (CREATE_COMPLETE and AVAILABLE). A change
 * set that went OBSOLETE because the stack changed since, or that is gone, is an error.
 */
export async function executeExistingChangeSet(
  cfn: CloudFormationClient,
  stackName: string,
  changeSetIdOrName: string,
  options: WaitOptions,
  extra: ExecuteOptions = {}
): Promise<DeployResult> {
  const timing = { options, started: options.now() }
  const described = await readExistingChangeSet(cfn, stackName, changeSetIdOrName, timing)
  const changeSetId = described.ChangeSetId ?? changeSetIdOrName
  const stackId = described.StackId ?? stackName
  const executeOptions = expressOptions(described, extra)
  log.info(`Change set ${described.ChangeSetName ?? changeSetIdOrName} of stack ${stackName}:`)
  const changes = await readChangeRows(cfn, described, changeSetId, stackId)
  // Review mode listed the parameter changes against the stack as it stood; so does this step.
  const current = await describeStack(cfn, stackId)
  const params =
    current && current.StackStatus !== 'REVIEW_IN_PROGRESS'
      ? parameterChanges(current.Parameters ?? [], described.Parameters ?? [])
      : undefined
  const changeSet: ChangeSetRef = {
    changeSetId,
    stackId,
    stackName: described.StackName ?? stackName,
    changeSetName: described.ChangeSetName ?? changeSetIdOrName,
    changes,
    ...(params ? { parameterChanges: params } : {}),
    ...(current ? { before: current } : {})
  }
  return executeChangeSet(cfn, changeSet, options, executeOptions, timing.started)
}

/**
 * A change set created in express mode carries its rollback choice (DeploymentConfig): the
 * execute step follows it (AWS disables rollback when it was left out), whatever its own
 * `disable-rollback` says.
 */
function expressOptions(
  described: DescribeChangeSetCommandOutput,
  extra: ExecuteOptions
): ExecuteOptions {
  const config = described.DeploymentConfig
  if (config?.Mode !== 'EXPRESS') return extra
  const disableRollback = config.DisableRollback ?? true
  if (disableRollback !== (extra.disableRollback ?? false)) {
    log.info(
      `The change set was created in express mode with rollback ${disableRollback ? 'disabled' : 'enabled'}; this step's disable-rollback does not change that.`
    )
  }
  return { ...extra, express: true, disableRollback }
}
