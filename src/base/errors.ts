/**
 * base/: what every part shares: errors, the log and the untrusted-text rule it applies, phases, the session that undoes what a run
 * leaves behind, the registry login type.
 * May import: nothing outside base/.
 *
 * Errors the user can act on. `run()` is the only place that turns them into `core.setFailed`.
 */

/** A problem with the action's inputs, the template or the built image, found before any write. */
export class InputError extends Error {
  override name = 'InputError'
}

/** A deploy step failed; the message already says what happened and what to do. */
export class DeployError extends Error {
  override name = 'DeployError'
}

/**
 * Some regions of a fan-out failed after the others went on: the summary already shows each
 * region's result, so the step only fails with this message.
 */
export class RegionsError extends DeployError {
  override name = 'RegionsError'

  constructor(
    message: string,
    /** The regions that failed, in the order of `regions`. */
    readonly failedRegions: string[]
  ) {
    super(message)
  }
}

/** One resource that failed, as CloudFormation's stack events name it. */
export interface FailedResource {
  logicalId: string
  type?: string
  /** CREATE_FAILED, UPDATE_FAILED, … */
  status?: string
  reason?: string
}

/** The stack event fields a failed resource is read from (StackEvent from the SDK fits). */
interface FailedEvent {
  LogicalResourceId?: string
  ResourceType?: string
  ResourceStatus?: string
  ResourceStatusReason?: string
}

/**
 * A stack operation that CloudFormation ran and that failed (a rollback, a failed delete): the
 * stack's status at the end and the resources that failed, so the failure summary can list them.
 */
export class StackOperationError extends DeployError {
  override name = 'StackOperationError'

  constructor(
    message: string,
    /** The stack's status when the failure was detected (UPDATE_ROLLBACK_COMPLETE, …). */
    readonly stackStatus: string,
    /** The `*_FAILED` stack events of the operation, oldest first. */
    readonly failedResources: FailedResource[] = []
  ) {
    super(message)
  }

  /** The error with the failed resources read from the operation's failed stack events. */
  static fromEvents(
    message: string,
    stackStatus: string,
    events: readonly FailedEvent[]
  ): StackOperationError {
    return new StackOperationError(
      message,
      stackStatus,
      events.map((e) => ({
        logicalId: e.LogicalResourceId ?? '?',
        ...(e.ResourceType ? { type: e.ResourceType } : {}),
        ...(e.ResourceStatus ? { status: e.ResourceStatus } : {}),
        ...(e.ResourceStatusReason ? { reason: e.ResourceStatusReason } : {})
      }))
    )
  }
}

/** Text of any thrown value, without the stack. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  if (typeof error === 'string') return error
  // Errors from another realm (e.g. fetch under a VM context) fail instanceof but keep message.
  if (error !== null && typeof error === 'object' && 'message' in error) {
    const message = error.message
    if (typeof message === 'string') return message
  }
  try {
    return JSON.stringify(error)
  } catch {
    return String(error)
  }
}

/** The AWS error code of an SDK exception (`name`), or '' when it is not one. */
export function awsErrorName(error: unknown): string {
  if (error !== null && typeof error === 'object' && 'name' in error) {
    const name = error.name
    if (typeof name === 'string') return name
  }
  return ''
}
