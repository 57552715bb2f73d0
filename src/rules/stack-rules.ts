/**
 * Pure CloudFormation decisions: what kind of change set, which states are terminal, what counts
 * as an empty change set, which parameters to send. Tested with tables, no mocks.
 */
import { createHash } from 'node:crypto'
import type { Parameter, RollbackConfiguration, Stack } from '@aws-sdk/client-cloudformation'
import { DeployError } from '../base/errors.js'

/** What to do with the stack as it stands. */
export type StackPlan =
  | { kind: 'create' }
  | { kind: 'update' }
  | { kind: 'recreate' } // ROLLBACK_COMPLETE: a failed first create, can only be deleted
  | { kind: 'wait'; status: string } // another operation is running
  | { kind: 'blocked'; status: string } // no change set can be created until a person acts

/** States CloudFormation refuses to update until someone continues a rollback or deletes the stack. */
const BLOCKED = new Set([
  'CREATE_FAILED',
  'ROLLBACK_FAILED',
  'DELETE_FAILED',
  'UPDATE_ROLLBACK_FAILED',
  'IMPORT_ROLLBACK_FAILED'
])

/** Failed states an update can fix forward when the operation ran with rollback disabled. */
const FIX_FORWARD = new Set(['CREATE_FAILED', 'UPDATE_FAILED'])

/**
 * Decides the change set type from the stack's current status (undefined: no stack) and its
 * `DisableRollback` field: a stack left CREATE_FAILED by an operation with rollback disabled
 * keeps its resources so that the next update can fix it forward; without it, only a delete helps.
 */
export function planStack(status: string | undefined, disableRollback = false): StackPlan {
  if (status === undefined || status === 'DELETE_COMPLETE') return { kind: 'create' }
  if (status === 'REVIEW_IN_PROGRESS') return { kind: 'create' }
  if (status === 'ROLLBACK_COMPLETE') return { kind: 'recreate' }
  if (status.endsWith('_IN_PROGRESS')) return { kind: 'wait', status }
  if (disableRollback && FIX_FORWARD.has(status)) return { kind: 'update' }
  if (BLOCKED.has(status)) return { kind: 'blocked', status }
  return { kind: 'update' }
}

/**
 * Whether the stack's last operation ran with rollback disabled: its `DisableRollback`, or an
 * express DeploymentConfig that did not turn rollback back on (AWS's express default is off).
 */
export function rollbackWasDisabled(stack: Stack | undefined): boolean {
  if (stack?.DisableRollback === true) return true
  const config = stack?.DeploymentConfig
  return config?.Mode === 'EXPRESS' && config.DisableRollback !== false
}

const FAILED_TERMINAL = new Set([
  'CREATE_FAILED',
  'ROLLBACK_COMPLETE',
  'ROLLBACK_FAILED',
  'DELETE_FAILED',
  'UPDATE_FAILED',
  'UPDATE_ROLLBACK_COMPLETE',
  'UPDATE_ROLLBACK_FAILED',
  'IMPORT_ROLLBACK_COMPLETE',
  'IMPORT_ROLLBACK_FAILED'
])

/** True when no operation is running on the stack (REVIEW_IN_PROGRESS waits for us, so it counts). */
export function isSettled(status: string): boolean {
  return !status.endsWith('_IN_PROGRESS') || status === 'REVIEW_IN_PROGRESS'
}

/**
 * What the reads after one of our own writes (ExecuteChangeSet, DeleteStack) have shown so far.
 * DescribeStacks is eventually consistent: right after the write a read may still answer the
 * stack as it was before, settled, with its old outputs.
 */
export interface SettleEvidence {
  /** A read after the write showed the stack *_IN_PROGRESS (REVIEW_IN_PROGRESS aside). */
  seenInProgress: boolean
  /**
   * This read differs from the stack as read before the write (see `stackChanged`); undefined
   * when there was no read before it to compare with.
   */
  changedSinceCall?: boolean
  /** A stack event newer than the write was seen. */
  newestEventAfterCall: boolean
  /**
   * The settled status the stack's own events (not a resource's) showed after the write, if any:
   * the read that fills the outputs must agree with it.
   */
  eventStatus?: string
}

/**
 * Whether a read after our own write shows the outcome ('settled') or may be a stale read to
 * wait past ('wait'). A settled status counts once the stack was seen in progress, or once the
 * read itself differs from the stack before the write. Only without a read from before the write
 * does a newer stack event stand in: a stale answer can come after our events are visible, and it
 * carries the old outputs, so events alone would report the previous version as the result.
 * Once the stack's own events showed a settled status, only a read with that status counts, and
 * REVIEW_IN_PROGRESS (the stack before its first change set ran) never does.
 * Without a write (`evidence` undefined) any settled status counts.
 */
export function settledOutcome(status: string, evidence?: SettleEvidence): 'settled' | 'wait' {
  if (!isSettled(status)) return 'wait'
  if (evidence === undefined) return 'settled'
  // After our own write the stack never waits for a change set again: that is the read from before.
  if (status === 'REVIEW_IN_PROGRESS') return 'wait'
  if (evidence.eventStatus !== undefined)
    return status === evidence.eventStatus ? 'settled' : 'wait'
  if (evidence.seenInProgress) return 'settled'
  const confirmed = evidence.changedSinceCall ?? evidence.newestEventAfterCall
  return confirmed ? 'settled' : 'wait'
}

/** True when a status means an operation is running (REVIEW_IN_PROGRESS waits for us: not one). */
export function isInProgress(status: string): boolean {
  return !isSettled(status)
}

/** The fields of a DescribeStacks answer that tell one read of a stack from a later one. */
export type StackRead = Pick<
  Stack,
  'StackStatus' | 'LastUpdatedTime' | 'DeletionTime' | 'ChangeSetId'
>

/**
 * True when `after` cannot be a stale copy of `before`: another status, another last update,
 * another change set run or a deletion time (a stale read replays all of them unchanged).
 */
export function stackChanged(before: StackRead, after: StackRead): boolean {
  const time = (d: Date | undefined): number | undefined => d?.getTime()
  return (
    before.StackStatus !== after.StackStatus ||
    time(before.LastUpdatedTime) !== time(after.LastUpdatedTime) ||
    time(before.DeletionTime) !== time(after.DeletionTime) ||
    before.ChangeSetId !== after.ChangeSetId
  )
}

/**
 * True when the stack's last run change set (DescribeStacks' ChangeSetId) is known and is not
 * ours: another deploy executed its change set on the stack after ours.
 */
export function overlappingChangeSet(lastRun: string | undefined, ours: string): boolean {
  return lastRun !== undefined && lastRun !== '' && lastRun !== ours
}

/** True for a settled state that means the last operation failed. */
export function isFailedState(status: string): boolean {
  return FAILED_TERMINAL.has(status)
}

/** What a change set's status means to a wait for it. */
export type ChangeSetWait =
  | { kind: 'ready' } // CREATE_COMPLETE
  | { kind: 'failed' } // FAILED: empty, or refused (StatusReason says which)
  | { kind: 'wait' } // CREATE_PENDING, CREATE_IN_PROGRESS: CloudFormation is still making it
  | { kind: 'unexpected'; status: string } // deleted, being deleted, or a status this code does not know

/**
 * Decides a change set wait from its Status. Only CREATE_PENDING and CREATE_IN_PROGRESS can still
 * become ready; a DELETE_* status (someone deleted it) or an unknown one never will, so the wait
 * ends at once instead of at `timeout-minutes`.
 */
export function changeSetWait(status: string | undefined): ChangeSetWait {
  if (status === 'CREATE_COMPLETE') return { kind: 'ready' }
  if (status === 'FAILED') return { kind: 'failed' }
  if (status === 'CREATE_PENDING' || status === 'CREATE_IN_PROGRESS') return { kind: 'wait' }
  return { kind: 'unexpected', status: status ?? 'unknown' }
}

/** True when CloudFormation refused a change set only because it changes nothing. */
export function isEmptyChangeSet(status: string | undefined, reason: string | undefined): boolean {
  if (status !== 'FAILED' || reason === undefined) return false
  return /didn't contain changes|No updates are to be performed|no changes/i.test(reason)
}

/** What to do to continue after a failed state (appended to the failure message). */
export function recoveryHint(status: string): string {
  switch (status) {
    case 'UPDATE_ROLLBACK_FAILED':
      return 'The stack is stuck in UPDATE_ROLLBACK_FAILED: fix the resources that could not be rolled back (its stack events name them), then run `aws cloudformation continue-update-rollback --stack-name <stack>` (optionally with --resources-to-skip) before deploying again.'
    case 'ROLLBACK_COMPLETE':
      return 'The first create failed and was rolled back; the next run deletes and recreates the stack.'
    case 'CREATE_FAILED':
    case 'ROLLBACK_FAILED':
    case 'DELETE_FAILED':
    case 'IMPORT_ROLLBACK_FAILED':
      return 'Delete the stack (retaining the failed resources if needed) before deploying again.'
    default:
      return 'The previous version of the stack is still in place.'
  }
}

/** The refusal of a stack in a blocked state: its status and what a person must do first. */
export function blockedStackError(stackName: string, status: string): DeployError {
  return new DeployError(
    `Stack ${stackName} is in ${status} and cannot be updated. ${recoveryHint(status)}`
  )
}

/**
 * The parameters the stack already has a value for, which `UsePreviousValue` can keep: only for a
 * stack that is updated (now, or once the operation running on it ends); a new stack has none.
 */
export function previousParameterKeys(
  plan: StackPlan,
  parameters: Parameter[] | undefined
): Set<string> {
  if (plan.kind !== 'update' && plan.kind !== 'wait') return new Set()
  return new Set((parameters ?? []).map((p) => p.ParameterKey ?? ''))
}

/**
 * Parameters for the change set: the given values (the overrides and what the action fills in:
 * the image URI, or a zip package's key and version), `UsePreviousValue` for declared parameters
 * the stack already has, and nothing for the rest (their Default applies).
 */
export function buildParameters(
  declared: string[],
  values: Map<string, string>,
  previous: Set<string>
): Parameter[] {
  const parameters: Parameter[] = []
  for (const key of declared) {
    if (values.has(key)) {
      parameters.push({ ParameterKey: key, ParameterValue: values.get(key) })
    } else if (previous.has(key)) {
      parameters.push({ ParameterKey: key, UsePreviousValue: true })
    }
  }
  return parameters
}

/** Declared parameters with no Default that will get no value: CloudFormation would refuse them. */
export function missingParameters(
  declared: Record<string, { Default?: unknown }>,
  values: Map<string, string>,
  previous: Set<string>
): string[] {
  return Object.entries(declared)
    .filter(([key, p]) => p.Default === undefined && !values.has(key) && !previous.has(key))
    .map(([key]) => key)
}

/**
 * The default change set name: stack name and build id, valid for CloudFormation
 * (`[a-zA-Z][-a-zA-Z0-9]*`, at most 128) and the same for a re-run of the same build.
 */
export function defaultChangeSetName(stackName: string, buildId: string): string {
  const build = buildId.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '')
  const name = `${stackName}-${build}`.replace(/-{2,}/g, '-').replace(/-+$/, '')
  if (name.length <= 128) return name
  const hash = createHash('sha256').update(`${stackName}\n${buildId}`).digest('hex').slice(0, 8)
  return `${name.slice(0, 119).replace(/-+$/, '')}-${hash}`
}

/** One template parameter whose value a change set changes; absent `old`/`new`: not set there. */
export interface ParameterChange {
  key: string
  old?: string
  new?: string
}

/**
 * The parameters an UPDATE change set changes: the stack's current values against the change
 * set's. NoEcho values read '****' on both sides, so they compare equal and are never shown;
 * the `noEcho` parameters read so here too, whatever the service answered (an emulator such as
 * moto returns them in clear).
 */
export function parameterChanges(
  current: Parameter[],
  proposed: Parameter[],
  noEcho: readonly string[] = []
): ParameterChange[] {
  const valueOf = (p: Parameter): string =>
    noEcho.includes(p.ParameterKey ?? '') ? '****' : (p.ParameterValue ?? '')
  const before = new Map(current.map((p) => [p.ParameterKey ?? '', valueOf(p)]))
  const changes: ParameterChange[] = []
  const seen = new Set<string>()
  for (const p of proposed) {
    const key = p.ParameterKey ?? ''
    seen.add(key)
    if (p.UsePreviousValue && p.ParameterValue === undefined) continue
    const value = valueOf(p)
    if (!before.has(key)) changes.push({ key, new: value })
    else if (before.get(key) !== value) changes.push({ key, old: before.get(key), new: value })
  }
  for (const [key, value] of before) {
    if (!seen.has(key)) changes.push({ key, old: value })
  }
  return changes
}

/** The RollbackConfiguration CreateChangeSet takes: each alarm is a rollback trigger. */
export function rollbackConfiguration(
  alarmArns: string[],
  monitoringTimeInMinutes?: number
): RollbackConfiguration {
  return {
    RollbackTriggers: alarmArns.map((Arn) => ({ Arn, Type: 'AWS::CloudWatch::Alarm' })),
    ...(monitoringTimeInMinutes === undefined
      ? {}
      : { MonitoringTimeInMinutes: monitoringTimeInMinutes })
  }
}

/**
 * What to do after a failure when rollback was disabled (`disable-rollback`): the resources that
 * succeeded stay, and the stack can be fixed forward or rolled back by hand. A stack last updated
 * in express mode cannot use RollbackStack (aws/aws-cdk-cli#1973): fix forward, or deploy the last
 * good build again.
 */
export function disabledRollbackHint(status: string, express = false): string | undefined {
  if (express && (status === 'UPDATE_FAILED' || status === 'CREATE_FAILED')) {
    return `Rollback was disabled (disable-rollback, express mode), so the resources that were ${status === 'UPDATE_FAILED' ? 'updated' : 'created'} are kept. Fix the cause and deploy again (fix forward), or deploy the last good build again: RollbackStack does not work on a stack last changed in express mode.`
  }
  if (status === 'UPDATE_FAILED') {
    return 'Rollback was disabled (disable-rollback), so the resources that were updated are kept. Fix the cause and deploy again, or return to the last stable state with `aws cloudformation rollback-stack --stack-name <stack>`.'
  }
  if (status === 'CREATE_FAILED') {
    return 'Rollback was disabled (disable-rollback), so the resources that were created are kept. Fix the cause and deploy again: the next deploy updates this stack in place (fix forward). Or run `aws cloudformation rollback-stack --stack-name <stack>` (the next deploy then recreates the stack).'
  }
  return undefined
}

/**
 * Express mode's notes, said before anything is written: custom resources still make
 * CloudFormation wait for their signal, and rollback disabled keeps a failed operation's
 * resources (and CloudFormation has refused replacements on such stacks). Pure; '' none.
 */
export function expressWarnings(resourceTypes: string[], disableRollback: boolean): string[] {
  const warnings: string[] = []
  const custom = [...new Set(resourceTypes.filter(isCustomResourceType))]
  if (custom.length > 0) {
    warnings.push(
      `express: the template has custom resources (${custom.join(', ')}); CloudFormation waits for their response signal even in express mode, so they gain nothing (set a ServiceTimeout to bound them).`
    )
  }
  if (disableRollback) {
    warnings.push(
      'express with disable-rollback: a failed deploy keeps its resources and the stack cannot be rolled back with RollbackStack; CloudFormation has refused replacement updates on stacks with rollback disabled. Leave disable-rollback off unless you are debugging.'
    )
  }
  return warnings
}

/** `AWS::CloudFormation::CustomResource` and `Custom::*`: the types express mode still waits for. */
export function isCustomResourceType(type: string): boolean {
  return type === 'AWS::CloudFormation::CustomResource' || type.startsWith('Custom::')
}
