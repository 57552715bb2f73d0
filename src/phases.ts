/** Times each phase of a run for the job summary, each in its own log group. */
import * as core from '@actions/core'

export class Phases {
  /** Finished phases, in order. */
  readonly done: Array<{ name: string; seconds: number }> = []

  /** Runs `fn` inside a log group named `name` and records how long it took. */
  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const start = Date.now()
    try {
      return await core.group(name, fn)
    } finally {
      this.done.push({ name, seconds: (Date.now() - start) / 1000 })
    }
  }
}
