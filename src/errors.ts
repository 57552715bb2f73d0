/**
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
