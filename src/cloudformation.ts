/**
 * CloudFormation: deploys a stack through a change set, streaming stack events while it waits.
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
  type Change,
  type CloudFormationClient,
  type Output,
  type Parameter,
  type Stack,
  type StackEvent,
  type Tag
} from '@aws-sdk/client-cloudformation'
import { awsErrorName, DeployError, errorMessage } from './errors.js'
import {
  isEmptyChangeSet,
  isFailedState,
  isSettled,
  planStack,
  recoveryHint
} from './stack-rules.js'

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
  initialPollMs: 500,
  maxPollMs: 1500,
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
}

/** How the deploy ended (success only: failures throw). */
export interface DeployResult {
  stackId: string
  stackStatus: string
  changeSetId: string
  /** True when the change set was empty and nothing was executed. */
  noChanges: boolean
  changes: ResourceChangeRow[]
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
      await events?.poll()
      last = await describeStack(cfn, stackId)
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

/** Reads every change of a change set (paginated). */
async function describeChanges(
  cfn: CloudFormationClient,
  id: string,
  stackName: string
): Promise<Change[]> {
  const changes: Change[] = []
  let token: string | undefined
  do {
    const page = await cfn.send(
      new DescribeChangeSetCommand({ ChangeSetName: id, StackName: stackName, NextToken: token })
    )
    changes.push(...(page.Changes ?? []))
    token = page.NextToken
  } while (token)
  return changes
}

/** Flattens SDK changes into table rows. */
export function toChangeRows(changes: Change[]): ResourceChangeRow[] {
  return changes.map((change) => ({
    action: change.ResourceChange?.Action ?? '',
    logicalId: change.ResourceChange?.LogicalResourceId ?? '',
    type: change.ResourceChange?.ResourceType ?? '',
    replacement: change.ResourceChange?.Replacement ?? '',
    physicalId: change.ResourceChange?.PhysicalResourceId ?? ''
  }))
}

/**
 * Deploys through a change set: waits out a busy stack, recreates a ROLLBACK_COMPLETE stack,
 * creates and waits for the change set, treats an empty one as asked, executes it and waits to
 * a settled state while streaming events. A failed update leaves the previous version in place.
 */
export async function deployStack(
  cfn: CloudFormationClient,
  request: DeployRequest,
  options: WaitOptions
): Promise<DeployResult> {
  const started = options.now()
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
        Description: request.description
      })
    )
  } catch (error) {
    throw new DeployError(
      `CloudFormation refused the change set for ${request.stackName} (CreateChangeSet): ${errorMessage(error)}`
    )
  }
  const changeSetId = created.Id as string
  const stackId = created.StackId as string

  const described = await pollUntil(
    options,
    started + options.timeoutMs,
    async () => {
      const result = await cfn.send(
        new DescribeChangeSetCommand({ ChangeSetName: changeSetId, StackName: stackId })
      )
      const status = result.Status ?? ''
      return status === 'CREATE_COMPLETE' || status === 'FAILED' || status === 'DELETE_COMPLETE'
        ? result
        : undefined
    },
    () => {
      throw new DeployError(
        `Change set ${request.changeSetName} was not ready after ${minutes(options.timeoutMs)} (timeout-minutes).`
      )
    }
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
        stackId,
        stackStatus: current?.StackStatus ?? stack?.StackStatus ?? '',
        changeSetId,
        noChanges: true,
        changes: [],
        outputs: current?.Outputs ?? []
      }
    }
    await deleteChangeSet(cfn, changeSetId, stackId)
    throw new DeployError(
      `The change set for ${request.stackName} failed: ${described.StatusReason ?? 'no reason given'}`
    )
  }

  const changes = toChangeRows(
    described.NextToken
      ? await describeChanges(cfn, changeSetId, stackId)
      : (described.Changes ?? [])
  )
  for (const row of changes) {
    core.info(
      `  ${row.action} ${row.logicalId} (${row.type})${row.replacement ? ` replacement: ${row.replacement}` : ''}`
    )
  }

  const events = new EventStream(cfn, stackId)
  await events.baseline()
  core.info(`Executing change set ${request.changeSetName}`)
  try {
    await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: changeSetId, StackName: stackId }))
  } catch (error) {
    throw new DeployError(
      `CloudFormation refused to execute change set ${request.changeSetName}: ${errorMessage(error)}`
    )
  }

  const final = await waitForStack(cfn, stackId, events, options, started)
  await events.poll()
  const status = final.StackStatus ?? ''
  if (status === 'DELETE_COMPLETE') {
    throw new DeployError(
      `Stack ${request.stackName} was deleted (DELETE_COMPLETE) while this deploy waited for it (by someone else?); run the deploy again to create it.`
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
    throw new DeployError(
      `Stack ${request.stackName} ended in ${status}${detail}\n${recoveryHint(status)}`
    )
  }
  return {
    stackId,
    stackStatus: status,
    changeSetId,
    noChanges: false,
    changes,
    outputs: final.Outputs ?? []
  }
}
