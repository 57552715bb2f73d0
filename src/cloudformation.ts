/**
 * CloudFormation: deploys a stack through a change set (in one go, or created now and executed
 * by a later run), and deletes stacks, streaming stack events while it waits.
 * Every function takes the client first; waits poll at a short, bounded interval.
 */
import * as core from '@actions/core'
import {
  CancelUpdateStackCommand,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  UpdateTerminationProtectionCommand,
  type Change,
  type CloudFormationClient,
  type CreateChangeSetCommandInput,
  type DescribeChangeSetCommandOutput,
  type Output,
  type Parameter,
  type RollbackConfiguration,
  type Stack,
  type StackEvent,
  type Tag
} from '@aws-sdk/client-cloudformation'
import { awsErrorName, DeployError, errorMessage } from './errors.js'
import {
  disabledRollbackHint,
  isEmptyChangeSet,
  isFailedState,
  isSettled,
  parameterChanges,
  planStack,
  recoveryHint,
  type ParameterChange
} from './stack-rules.js'

export type { ParameterChange } from './stack-rules.js'

/** How waits behave; tests pass a fake clock. */
export interface WaitOptions {
  /** Give up (and cancel an update) after this long. */
  timeoutMs: number
  /** First poll delay; grows by half each poll up to `maxPollMs`. */
  initialPollMs: number
  maxPollMs: number
  sleep: (ms: number) => Promise<void>
  now: () => number
}

export const DEFAULT_WAIT: Omit<WaitOptions, 'timeoutMs'> = {
  // Bounded at 1 s so a finished stack is noticed within about a second; with the two reads of
  // a poll running together that is 4 read calls a second at first, 2 once polls reach 1 s.
  initialPollMs: 500,
  maxPollMs: 1000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now()
}

/** One resource change in a change set, flattened for tables and outputs. */
export interface ResourceChangeRow {
  action: string
  logicalId: string
  type: string
  replacement: string
  physicalId: string
  /** For a change inside a nested stack: the nested stack resource's logical id (`Outer/Inner` deeper down). */
  parent?: string
}

/** What the deploy asks of CloudFormation. */
export interface DeployRequest {
  stackName: string
  templateUrl: string
  /** Parameters for the change set; computed by the caller from the stack as it was found. */
  parameters: (previous: Set<string>) => Parameter[]
  capabilities: string[]
  tags: Tag[]
  changeSetName: string
  description: string
  noFailOnEmptyChangeset: boolean
  /** RoleARN: the service role CloudFormation uses for this and later operations on the stack. */
  roleArn?: string
  /** NotificationARNs: SNS topics that receive the stack's events. */
  notificationArns?: string[]
  /** RollbackConfiguration: alarms that roll the operation back (see `rollbackConfiguration()`). */
  rollbackConfiguration?: RollbackConfiguration
  /** DeploymentMode: REVERT_DRIFT makes a drift-aware change set (updates only: a new stack has no drift). */
  deploymentMode?: 'REVERT_DRIFT'
  /** IncludeNestedStacks: also make change sets for nested stacks, and list their changes. */
  includeNestedStacks?: boolean
  /** Parameters declared NoEcho: their values are never listed among the parameter changes. */
  noEchoParameters?: string[]
}

/** A change set that is ready (or was empty), before anything is executed. */
export interface ChangeSetResult {
  changeSetId: string
  changeSetName: string
  stackId: string
  stackName: string
  type: 'CREATE' | 'UPDATE'
  /** True when the change set changed nothing; it was deleted and there is nothing to execute. */
  empty: boolean
  /** Every resource change, nested stacks' changes after their parent row. */
  changes: ResourceChangeRow[]
  /** UPDATE only: the parameters whose values change. */
  parameterChanges?: ParameterChange[]
  /** When empty: the stack's status and outputs as they stand. */
  stackStatus?: string
  outputs?: Output[]
}

/** A change set to execute: what `createChangeSet` returned, or one found by `executeExistingChangeSet`. */
export interface ChangeSetRef {
  changeSetId: string
  stackId: string
  stackName: string
  /** For the log; the id is used when absent. */
  changeSetName?: string
  /** Returned in the DeployResult. */
  changes?: ResourceChangeRow[]
  parameterChanges?: ParameterChange[]
}

/** Options of the execution itself. */
export interface ExecuteOptions {
  /** DisableRollback: keep the resources that succeeded when the operation fails. */
  disableRollback?: boolean
  /** Enable termination protection once the stack is deployed (never turns it off). */
  terminationProtection?: boolean
  /** Called once CloudFormation accepted ExecuteChangeSet: from then on the operation is ours. */
  onExecuted?: (stackId: string) => void
}

/** How a delete ended (success only: failures throw). */
export interface DeleteResult {
  /** False when there was no stack to delete. */
  existed: boolean
  stackId?: string
  /** DELETE_COMPLETE, also when there was nothing to delete. */
  status: string
}

/** How the deploy ended (success only: failures throw). */
export interface DeployResult {
  stackId: string
  stackStatus: string
  changeSetId: string
  /** True when the change set was empty and nothing was executed. */
  noChanges: boolean
  changes: ResourceChangeRow[]
  /** UPDATE only, when known: the parameters whose values changed. */
  parameterChanges?: ParameterChange[]
  outputs: Output[]
}

/** The stack, or undefined when there is none. */
export async function describeStack(
  cfn: CloudFormationClient,
  stackName: string
): Promise<Stack | undefined> {
  try {
    const result = await cfn.send(new DescribeStacksCommand({ StackName: stackName }))
    return result.Stacks?.[0]
  } catch (error) {
    if (awsErrorName(error) === 'ValidationError' && /does not exist/.test(errorMessage(error))) {
      return undefined
    }
    throw new DeployError(
      `Could not describe stack ${stackName} (cloudformation:DescribeStacks): ${errorMessage(error)}`
    )
  }
}

/** Streams new stack events into the log and remembers failures. */
export class EventStream {
  private readonly seen = new Set<string>()
  private readonly failures: StackEvent[] = []

  constructor(
    private readonly cfn: CloudFormationClient,
    private readonly stackId: string
  ) {}

  /** Marks the events already there as seen, so only this operation's events are printed. */
  async baseline(): Promise<void> {
    for (const event of await this.firstPage()) if (event.EventId) this.seen.add(event.EventId)
  }

  /** Prints events not seen yet, oldest first. */
  async poll(): Promise<void> {
    const fresh = (await this.firstPage()).filter((e) => e.EventId && !this.seen.has(e.EventId))
    for (const event of fresh.reverse()) {
      this.seen.add(event.EventId as string)
      core.info(formatEvent(event))
      if (event.ResourceStatus?.endsWith('_FAILED')) this.failures.push(event)
    }
  }

  /** The `*_FAILED` events seen so far, oldest first. */
  failedEvents(): StackEvent[] {
    return [...this.failures]
  }

  /** Sparta's form: `Error ensuring <Type> (<LogicalId>): <Reason>`. */
  failureLines(): string[] {
    return this.failures.map(
      (e) =>
        `Error ensuring ${e.ResourceType ?? '?'} (${e.LogicalResourceId ?? '?'}): ${e.ResourceStatusReason ?? 'no reason given'}`
    )
  }

  private async firstPage(): Promise<StackEvent[]> {
    try {
      const result = await this.cfn.send(
        new DescribeStackEventsCommand({ StackName: this.stackId })
      )
      return result.StackEvents ?? []
    } catch (error) {
      // Events are for people; a failed read must not fail the deploy.
      core.debug(`DescribeStackEvents failed: ${errorMessage(error)}`)
      return []
    }
  }
}

/** `12:01:02 MyFunction AWS::Lambda::Function UPDATE_COMPLETE reason` */
export function formatEvent(event: StackEvent): string {
  const time = event.Timestamp ? event.Timestamp.toISOString().slice(11, 19) : '--:--:--'
  const reason = event.ResourceStatusReason ? ` ${event.ResourceStatusReason}` : ''
  return `${time} ${event.LogicalResourceId ?? ''} ${event.ResourceType ?? ''} ${event.ResourceStatus ?? ''}${reason}`
}

/** Polls `poll` until it returns a value, with a growing but bounded delay; throws on timeout. */
async function pollUntil<T>(
  options: WaitOptions,
  deadline: number,
  poll: () => Promise<T | undefined>,
  onTimeout: () => Promise<never>
): Promise<T> {
  let delay = options.initialPollMs
  for (;;) {
    const value = await poll()
    if (value !== undefined) return value
    if (options.now() >= deadline) return onTimeout()
    await options.sleep(Math.min(delay, Math.max(0, deadline - options.now())))
    delay = Math.min(options.maxPollMs, Math.ceil(delay * 1.5))
  }
}

function minutes(ms: number): string {
  const m = Math.round(ms / 6000) / 10
  if (m >= 1) return m === 1 ? '1 minute' : `${m} minutes`
  const s = Math.round(ms / 1000)
  return s === 1 ? '1 second' : `${s} seconds`
}

/**
 * Waits until no operation runs on the stack, streaming events. On timeout an update is
 * cancelled (CloudFormation then rolls back to the previous version) and the wait fails.
 */
export async function waitForStack(
  cfn: CloudFormationClient,
  stackId: string,
  events: EventStream | undefined,
  options: WaitOptions,
  started: number,
  /** The stack our own DeleteStack removes: once it is gone it counts as deleted, not lost. */
  deleting?: Stack
): Promise<Stack> {
  const deadline = started + options.timeoutMs
  let last: Stack | undefined
  return pollUntil(
    options,
    deadline,
    async () => {
      // Both reads at once: events are for the log, the status decides.
      const [, stack] = await Promise.all([events?.poll(), describeStack(cfn, stackId)])
      last = stack
      if (last === undefined && deleting) return { ...deleting, StackStatus: 'DELETE_COMPLETE' }
      if (last === undefined) {
        throw new DeployError(
          `Stack ${stackId} disappeared while waiting for it (deleted by someone else?).`
        )
      }
      return isSettled(last.StackStatus ?? '') ? last : undefined
    },
    async () => {
      const status = last?.StackStatus ?? 'unknown'
      let cancelled = ''
      if (status === 'UPDATE_IN_PROGRESS') {
        try {
          await cfn.send(new CancelUpdateStackCommand({ StackName: stackId }))
          cancelled =
            ' Cancelled the update (CancelUpdateStack): CloudFormation rolls back to the previous version.'
        } catch (error) {
          cancelled = ` Cancelling the update failed: ${errorMessage(error)}.`
        }
      }
      throw new DeployError(
        `Stack ${stackId} was still ${status} after waiting ${minutes(options.now() - started)} (timeout-minutes).${cancelled}`
      )
    }
  )
}

async function deleteChangeSet(
  cfn: CloudFormationClient,
  id: string,
  stackName: string
): Promise<void> {
  try {
    await cfn.send(new DeleteChangeSetCommand({ ChangeSetName: id, StackName: stackName }))
  } catch (error) {
    core.warning(`Could not delete change set ${id}: ${errorMessage(error)}`)
  }
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
    core.info(`Replacing change set ${name} left by an earlier run of this build.`)
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
      core.debug(`Looking for an earlier change set ${name}: ${errorMessage(error)}`)
    }
  }
}

/** Deletes a stack left in ROLLBACK_COMPLETE and waits until it is gone. */
async function deleteFailedStack(
  cfn: CloudFormationClient,
  stack: Stack,
  options: WaitOptions
): Promise<void> {
  const stackId = stack.StackId as string
  core.info(
    `Stack ${stack.StackName} is in ROLLBACK_COMPLETE (its first create failed); deleting it to create it again.`
  )
  await cfn.send(new DeleteStackCommand({ StackName: stackId }))
  const gone = await waitForStack(cfn, stackId, undefined, options, options.now(), stack)
  if (gone.StackStatus !== 'DELETE_COMPLETE') {
    throw new DeployError(
      `Deleting the rolled-back stack ${stack.StackName} ended in ${gone.StackStatus}: ${gone.StackStatusReason ?? ''}`
    )
  }
}

/** Reads every change of a change set (paginated); `stackName` may be left out for a change set ARN. */
async function describeChanges(
  cfn: CloudFormationClient,
  id: string,
  stackName?: string
): Promise<Change[]> {
  const changes: Change[] = []
  let token: string | undefined
  do {
    const page = await cfn.send(
      new DescribeChangeSetCommand({
        ChangeSetName: id,
        ...(stackName === undefined ? {} : { StackName: stackName }),
        NextToken: token
      })
    )
    changes.push(...(page.Changes ?? []))
    token = page.NextToken
  } while (token)
  return changes
}

/** Flattens SDK changes into table rows; `parent` marks changes inside a nested stack. */
export function toChangeRows(changes: Change[], parent?: string): ResourceChangeRow[] {
  return changes.map((change) => ({
    action: change.ResourceChange?.Action ?? '',
    logicalId: change.ResourceChange?.LogicalResourceId ?? '',
    type: change.ResourceChange?.ResourceType ?? '',
    replacement: change.ResourceChange?.Replacement ?? '',
    physicalId: change.ResourceChange?.PhysicalResourceId ?? '',
    ...(parent === undefined ? {} : { parent })
  }))
}

/** How many levels of nested stacks' change sets are read. */
export const MAX_NESTED_DEPTH = 5

/**
 * Rows for `changes`, each nested stack's own changes (IncludeNestedStacks gives its change a
 * ChangeSetId) right after its row, down to MAX_NESTED_DEPTH levels.
 */
async function changeRowsWithNested(
  cfn: CloudFormationClient,
  changes: Change[],
  parent: string | undefined,
  depth: number
): Promise<ResourceChangeRow[]> {
  const rows: ResourceChangeRow[] = []
  for (const change of changes) {
    const [row] = toChangeRows([change], parent)
    if (row) rows.push(row)
    const nestedId = change.ResourceChange?.ChangeSetId
    if (!row || !nestedId || change.ResourceChange?.ResourceType !== 'AWS::CloudFormation::Stack')
      continue
    const path = parent === undefined ? row.logicalId : `${parent}/${row.logicalId}`
    if (depth >= MAX_NESTED_DEPTH) {
      core.info(`  (changes of ${path} not listed: nested more than ${MAX_NESTED_DEPTH} deep)`)
      continue
    }
    try {
      const nested = await describeChanges(cfn, nestedId)
      rows.push(...(await changeRowsWithNested(cfn, nested, path, depth + 1)))
    } catch (error) {
      // The list is for people; the parent change set is what executes.
      core.warning(`Could not read the changes of nested stack ${path}: ${errorMessage(error)}`)
    }
  }
  return rows
}

/** Every change row of a described change set: all pages, then nested stacks. */
async function readChangeRows(
  cfn: CloudFormationClient,
  described: DescribeChangeSetCommandOutput,
  changeSetId: string,
  stackId: string
): Promise<ResourceChangeRow[]> {
  const changes = described.NextToken
    ? await describeChanges(cfn, changeSetId, stackId)
    : (described.Changes ?? [])
  const rows = await changeRowsWithNested(cfn, changes, undefined, 0)
  for (const row of rows) {
    const id = row.parent === undefined ? row.logicalId : `${row.parent}/${row.logicalId}`
    core.info(
      `  ${row.action} ${id} (${row.type})${row.replacement ? ` replacement: ${row.replacement}` : ''}`
    )
  }
  return rows
}

/** Waits until a change set is CREATE_COMPLETE, FAILED or gone. */
async function waitForChangeSet(
  cfn: CloudFormationClient,
  changeSetId: string,
  stackName: string | undefined,
  label: string,
  options: WaitOptions,
  started: number
): Promise<DescribeChangeSetCommandOutput> {
  return pollUntil(
    options,
    started + options.timeoutMs,
    async () => {
      const result = await cfn.send(
        new DescribeChangeSetCommand({
          ChangeSetName: changeSetId,
          ...(stackName === undefined ? {} : { StackName: stackName })
        })
      )
      const status = result.Status ?? ''
      return status === 'CREATE_COMPLETE' || status === 'FAILED' || status === 'DELETE_COMPLETE'
        ? result
        : undefined
    },
    () => {
      throw new DeployError(
        `Change set ${label} was not ready after ${minutes(options.timeoutMs)} (timeout-minutes).`
      )
    }
  )
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
    else core.info(`Deployment mode ${request.deploymentMode} left out: a new stack has no drift.`)
  }
  if (request.includeNestedStacks) fields.IncludeNestedStacks = true
  return fields
}

/** A ready change set and, when it was empty, the stack as it stands. */
interface Prepared {
  result: ChangeSetResult
  current?: Stack
}

async function prepareChangeSet(
  cfn: CloudFormationClient,
  request: DeployRequest,
  options: WaitOptions,
  started: number
): Promise<Prepared> {
  let stack = await describeStack(cfn, request.stackName)
  let plan = planStack(stack?.StackStatus)
  if (plan.kind === 'wait' && stack) {
    core.info(
      `Stack ${request.stackName} is busy (${plan.status}); waiting for that operation to finish first.`
    )
    stack = await waitForStack(cfn, stack.StackId as string, undefined, options, started)
    plan = planStack(stack.StackStatus)
  }
  if (plan.kind === 'recreate' && stack) {
    await deleteFailedStack(cfn, stack, options)
    stack = undefined
    plan = { kind: 'create' }
  }
  if (plan.kind === 'blocked') {
    throw new DeployError(
      `Stack ${request.stackName} is in ${plan.status} and cannot be updated. ${recoveryHint(plan.status)}`
    )
  }
  if (plan.kind === 'wait')
    throw new DeployError(`Stack ${request.stackName} is still busy (${plan.status}).`)

  const type = plan.kind === 'create' ? 'CREATE' : 'UPDATE'
  const previous = new Set(
    type === 'UPDATE' ? (stack?.Parameters ?? []).map((p) => p.ParameterKey ?? '') : []
  )
  if (stack?.StackId) await removeStaleChangeSet(cfn, stack.StackId, request.changeSetName)

  core.info(`Creating ${type} change set ${request.changeSetName} for stack ${request.stackName}`)
  let created
  try {
    created = await cfn.send(
      new CreateChangeSetCommand({
        StackName: request.stackName,
        ChangeSetName: request.changeSetName,
        ChangeSetType: type,
        TemplateURL: request.templateUrl,
        Parameters: request.parameters(previous),
        Capabilities: request.capabilities.length > 0 ? (request.capabilities as never) : undefined,
        Tags: request.tags,
        Description: request.description,
        ...optionalChangeSetFields(request, type)
      })
    )
  } catch (error) {
    throw new DeployError(
      `CloudFormation refused the change set for ${request.stackName} (CreateChangeSet): ${errorMessage(error)}`
    )
  }
  const changeSetId = created.Id as string
  const stackId = created.StackId as string
  const base = {
    changeSetId,
    changeSetName: request.changeSetName,
    stackId,
    stackName: request.stackName,
    type
  } as const

  const described = await waitForChangeSet(
    cfn,
    changeSetId,
    stackId,
    request.changeSetName,
    options,
    started
  )

  if (described.Status !== 'CREATE_COMPLETE') {
    if (isEmptyChangeSet(described.Status, described.StatusReason)) {
      await deleteChangeSet(cfn, changeSetId, stackId)
      if (!request.noFailOnEmptyChangeset) {
        throw new DeployError(
          `The change set for ${request.stackName} has no changes (${described.StatusReason}); set 'no-fail-on-empty-changeset: true' to treat that as success.`
        )
      }
      core.info(
        `No changes: stack ${request.stackName} already matches this template and these parameters.`
      )
      const current = await describeStack(cfn, stackId)
      return {
        result: {
          ...base,
          empty: true,
          changes: [],
          stackStatus: current?.StackStatus ?? stack?.StackStatus ?? '',
          outputs: current?.Outputs ?? []
        },
        current
      }
    }
    await deleteChangeSet(cfn, changeSetId, stackId)
    throw new DeployError(
      `The change set for ${request.stackName} failed: ${described.StatusReason ?? 'no reason given'}`
    )
  }

  const changes = await readChangeRows(cfn, described, changeSetId, stackId)
  const result: ChangeSetResult = { ...base, empty: false, changes }
  if (type === 'UPDATE') {
    result.parameterChanges = parameterChanges(
      stack?.Parameters ?? [],
      described.Parameters ?? [],
      request.noEchoParameters
    )
    for (const p of result.parameterChanges) {
      core.info(`  Parameter ${p.key}: ${p.old ?? '(not set)'} → ${p.new ?? '(removed)'}`)
    }
  }
  return { result }
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
  core.info(`Enabled termination protection on stack ${stackName}`)
}

async function execute(
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
  core.info(
    `Executing change set ${label}${extra.disableRollback ? ' (rollback disabled: failed resources are kept)' : ''}`
  )
  try {
    await cfn.send(
      new ExecuteChangeSetCommand({
        ChangeSetName: changeSetId,
        StackName: stackId,
        ...(extra.disableRollback ? { DisableRollback: true } : {})
      })
    )
  } catch (error) {
    throw new DeployError(
      `CloudFormation refused to execute change set ${label}: ${errorMessage(error)}`
    )
  }
  extra.onExecuted?.(stackId)

  const final = await waitForStack(cfn, stackId, events, options, started)
  await events.poll()
  const status = final.StackStatus ?? ''
  if (status === 'DELETE_COMPLETE') {
    throw new DeployError(
      `Stack ${stackName} was deleted (DELETE_COMPLETE) while this deploy waited for it (by someone else?); run the deploy again to create it.`
    )
  }
  if (isFailedState(status)) {
    const reasons = events.failureLines()
    const detail =
      reasons.length > 0
        ? `\n${reasons.join('\n')}`
        : final.StackStatusReason
          ? `: ${final.StackStatusReason}`
          : ''
    const hint = (extra.disableRollback && disabledRollbackHint(status)) || recoveryHint(status)
    throw new DeployError(`Stack ${stackName} ended in ${status}${detail}\n${hint}`)
  }
  await ensureTerminationProtection(cfn, final, stackName, extra)
  return {
    stackId,
    stackStatus: status,
    changeSetId,
    noChanges: false,
    changes: changeSet.changes ?? [],
    ...(changeSet.parameterChanges ? { parameterChanges: changeSet.parameterChanges } : {}),
    outputs: final.Outputs ?? []
  }
}

/**
 * Executes a ready change set and waits to a settled state while streaming events; failures name
 * each failed resource. Afterwards enables termination protection when asked and missing.
 */
export async function executeChangeSet(
  cfn: CloudFormationClient,
  changeSet: ChangeSetRef,
  options: WaitOptions,
  extra: ExecuteOptions = {}
): Promise<DeployResult> {
  return execute(cfn, changeSet, options, extra, options.now())
}

/**
 * Deploys through a change set: `createChangeSet`, then (unless it was empty) `executeChangeSet`,
 * under one timeout. A failed update leaves the previous version in place.
 */
export async function deployStack(
  cfn: CloudFormationClient,
  request: DeployRequest,
  options: WaitOptions,
  extra: ExecuteOptions = {}
): Promise<DeployResult> {
  const started = options.now()
  const { result, current } = await prepareChangeSet(cfn, request, options, started)
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
  return execute(cfn, result, options, extra, started)
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
  const started = options.now()
  const byArn = isChangeSetArn(changeSetIdOrName)
  const label = `Change set ${changeSetIdOrName} of stack ${stackName}`
  let described: DescribeChangeSetCommandOutput
  try {
    described = await waitForChangeSet(
      cfn,
      changeSetIdOrName,
      byArn ? undefined : stackName,
      changeSetIdOrName,
      options,
      started
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
  const changeSetId = described.ChangeSetId ?? changeSetIdOrName
  const stackId = described.StackId ?? stackName
  core.info(`Change set ${described.ChangeSetName ?? changeSetIdOrName} of stack ${stackName}:`)
  const changes = await readChangeRows(cfn, described, changeSetId, stackId)
  return execute(
    cfn,
    {
      changeSetId,
      stackId,
      stackName: described.StackName ?? stackName,
      changeSetName: described.ChangeSetName ?? changeSetIdOrName,
      changes
    },
    options,
    extra,
    started
  )
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
    core.info(`Stack ${stackName} does not exist: nothing to delete.`)
    return { existed: false, status: 'DELETE_COMPLETE' }
  }
  const stackId = stack.StackId as string
  if (!isSettled(stack.StackStatus ?? '')) {
    core.info(
      `Stack ${stackName} is busy (${stack.StackStatus}); waiting for that operation to finish first.`
    )
    stack = await waitForStack(cfn, stackId, undefined, options, started, stack)
    if (stack.StackStatus === 'DELETE_COMPLETE') {
      core.info(`Stack ${stackName} was deleted (DELETE_COMPLETE).`)
      return { existed: true, stackId, status: 'DELETE_COMPLETE' }
    }
  }
  if (stack.EnableTerminationProtection) {
    throw new DeployError(
      `Stack ${stackName} has termination protection enabled, so it was not deleted. Turn it off first: \`aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name ${stackName}\` (or in the console: Stack actions → Edit termination protection).`
    )
  }

  const events = new EventStream(cfn, stackId)
  await events.baseline()
  core.info(`Deleting stack ${stackName}`)
  try {
    await cfn.send(
      new DeleteStackCommand({
        StackName: stackId,
        ...(extra.roleArn ? { RoleARN: extra.roleArn } : {})
      })
    )
  } catch (error) {
    throw new DeployError(
      `CloudFormation refused to delete stack ${stackName} (DeleteStack): ${errorMessage(error)}`
    )
  }
  const final = await waitForStack(cfn, stackId, events, options, started, stack)
  await events.poll()
  const status = final.StackStatus ?? ''
  if (status === 'DELETE_COMPLETE') {
    core.info(`Stack ${stackName} deleted (DELETE_COMPLETE)`)
    return { existed: true, stackId, status }
  }
  const failed = events
    .failedEvents()
    .filter(
      (e) =>
        !(e.ResourceType === 'AWS::CloudFormation::Stack' && e.PhysicalResourceId === stackId) &&
        !(e.ResourceType === 'AWS::CloudFormation::Stack' && e.LogicalResourceId === stackName)
    )
  const lines = failed.map(
    (e) =>
      `${e.ResourceType ?? '?'} (${e.LogicalResourceId ?? '?'}): ${e.ResourceStatusReason ?? 'no reason given'}`
  )
  const detail =
    lines.length > 0
      ? `\n${lines.join('\n')}`
      : final.StackStatusReason
        ? `: ${final.StackStatusReason}`
        : ''
  const ids = [...new Set(failed.map((e) => e.LogicalResourceId ?? '').filter(Boolean))]
  const retain =
    ids.length > 0
      ? ` or delete it keeping them: \`aws cloudformation delete-stack --stack-name ${stackName} --retain-resources ${ids.join(' ')}\``
      : ''
  throw new DeployError(
    `Deleting stack ${stackName} ended in ${status}${detail}\nFix the resources that could not be deleted (an S3 bucket must be empty, for example) and delete again,${retain || ' or retain them with `aws cloudformation delete-stack --retain-resources`'}.`
  )
}
