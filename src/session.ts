/**
 * What a run must undo however it ends: the private docker config, and on SIGINT/SIGTERM (a
 * cancelled workflow) a stack update still running, which is cancelled so CloudFormation rolls
 * back to the previous version instead of finishing unobserved.
 */
import * as core from '@actions/core'
import { CancelUpdateStackCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation'
import { errorMessage } from './errors.js'

export class Session {
  private readonly cleanups: Array<() => void> = []
  private update: { cfn: CloudFormationClient; stackId: string } | undefined
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    core.warning(`Received ${signal}: the workflow was cancelled.`)
    void this.cancel().finally(() => {
      this.dispose()
      process.exit(1)
    })
  }

  constructor(private readonly signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']) {
    for (const signal of signals) process.once(signal, this.onSignal)
  }

  /** Runs `cleanup` when the session ends (in reverse order of registration). */
  onDispose(cleanup: () => void): void {
    this.cleanups.push(cleanup)
  }

  /** Marks a stack update as running (or, with undefined, as finished). */
  trackUpdate(cfn: CloudFormationClient, stackId: string | undefined): void {
    this.update = stackId === undefined ? undefined : { cfn, stackId }
  }

  /** Best effort: cancels the tracked stack update. */
  async cancel(): Promise<void> {
    const update = this.update
    if (update === undefined) return
    this.update = undefined
    try {
      await update.cfn.send(new CancelUpdateStackCommand({ StackName: update.stackId }))
      core.warning(
        `Cancelled the running update of ${update.stackId}: CloudFormation rolls back to the previous version.`
      )
    } catch (error) {
      core.warning(`Could not cancel the update of ${update.stackId}: ${errorMessage(error)}`)
    }
  }

  /** Runs every cleanup once and stops listening for signals. */
  dispose(): void {
    for (const signal of this.signals) process.removeListener(signal, this.onSignal)
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        cleanup()
      } catch (error) {
        core.warning(`Cleanup failed: ${errorMessage(error)}`)
      }
    }
  }
}
