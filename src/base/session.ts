/**
 * What a run must undo however it ends: the private docker config, and on SIGINT/SIGTERM (a
 * cancelled workflow) a stack update still running, which is cancelled so CloudFormation rolls
 * back to the previous version instead of finishing unobserved.
 */
import * as log from './log.js'
import { CancelUpdateStackCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation'
import { errorMessage } from './errors.js'

export class Session {
  private readonly cleanups: Array<() => void> = []
  /** Stack updates running now, one per CloudFormation client (one client per region). */
  private readonly updates = new Map<CloudFormationClient, string>()
  /** Other work to stop on cancel (a running stack set operation), by key. */
  private readonly stops = new Map<string, () => Promise<void>>()
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    log.warning(`Received ${signal}: the workflow was cancelled.`)
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

  /** Marks a stack update as running through `cfn` (or, with undefined, as finished). */
  trackUpdate(cfn: CloudFormationClient, stackId: string | undefined): void {
    if (stackId === undefined) this.updates.delete(cfn)
    else this.updates.set(cfn, stackId)
  }

  /** Marks work to stop on cancel (`stop`), or with undefined as finished. */
  trackStop(key: string, stop: (() => Promise<void>) | undefined): void {
    if (stop === undefined) this.stops.delete(key)
    else this.stops.set(key, stop)
  }

  /** Best effort: cancels every tracked stack update (one per region) and stops tracked work. */
  async cancel(): Promise<void> {
    const updates = [...this.updates.entries()]
    const stops = [...this.stops.values()]
    this.updates.clear()
    this.stops.clear()
    await Promise.all([
      ...updates.map(([cfn, stackId]) => cancelUpdate(cfn, stackId)),
      ...stops.map((stop) => stop().catch(() => undefined))
    ])
  }

  /** Runs every cleanup once and stops listening for signals. */
  dispose(): void {
    for (const signal of this.signals) process.removeListener(signal, this.onSignal)
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        cleanup()
      } catch (error) {
        log.warning(`Cleanup failed: ${errorMessage(error)}`)
      }
    }
  }
}

async function cancelUpdate(cfn: CloudFormationClient, stackId: string): Promise<void> {
  try {
    await cfn.send(new CancelUpdateStackCommand({ StackName: stackId }))
    log.warning(
      `Cancelled the running update of ${stackId}: CloudFormation rolls back to the previous version.`
    )
  } catch (error) {
    log.warning(`Could not cancel the update of ${stackId}: ${errorMessage(error)}`)
  }
}
