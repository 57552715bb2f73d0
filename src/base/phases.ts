/** Times each phase of a run for the job summary, each in its own log group. */
import * as log from './log.js'

export class Phases {
  /** Finished phases, in order (a phase that failed too). */
  readonly done: Array<{ name: string; seconds: number }> = []
  /** The phase that threw first, for the failure summary. */
  failed: string | undefined

  /** Runs `fn` inside a log group named `name` and records how long it took. */
  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const start = Date.now()
    try {
      return await log.group(name, fn)
    } catch (error) {
      this.failed ??= name
      throw error
    } finally {
      this.done.push({ name, seconds: (Date.now() - start) / 1000 })
    }
  }

  /** Where a run failed: the phase that threw, else the step after the last finished phase. */
  failedPhase(): string {
    if (this.failed !== undefined) return this.failed
    const last = this.done.at(-1)
    return last === undefined ? 'Before the first phase' : `After ${last.name}`
  }
}
