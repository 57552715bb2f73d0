/**
 * The log as the user reads it. Outside a region scope this is `@actions/core` itself. Inside one
 * (`inRegion`, while several regions deploy at once) every line carries a `[<region>] ` prefix,
 * after the `::warning::` of a workflow command, and a log group is only a line: GitHub's groups
 * do not nest, and regions running side by side would interleave them.
 *
 * Every message goes through `untrusted.ts` first (`plain`; warnings and errors `forError`), so no
 * text the action echoes can start a workflow command: this module is the one writer of the log.
 */
import * as core from '@actions/core'
import { AsyncLocalStorage } from 'node:async_hooks'
import { StringDecoder } from 'node:string_decoder'
import { forError, oneLine, plain, rememberSecret } from './untrusted.js'

const scope = new AsyncLocalStorage<string>()

/** `[<region>] ` inside a region scope, '' outside. */
export function prefix(): string {
  const region = scope.getStore()
  return region === undefined ? '' : `[${region}] `
}

/** Prefixes every line of a message, so a multi-line one stays attributed. */
function prefixed(message: string): string {
  const p = prefix()
  return p === '' ? message : message.replace(/^/gm, p)
}

/** Runs `fn` with every line it logs (and everything it awaits) prefixed by `[region] `. */
export function inRegion<T>(region: string, fn: () => Promise<T>): Promise<T> {
  return scope.run(region, fn)
}

/** What a user needs to follow the run. */
export function info(message: string): void {
  core.info(prefixed(plain(message)))
}

/** Degraded, not failed. */
export function warning(message: string): void {
  core.warning(prefixed(forError(message)))
}

/** Masks `value` in the runner's log, and keeps it out of cut error messages (see `forError`). */
export function secret(value: string): void {
  core.setSecret(value)
  rememberSecret(value)
}

/** argv, JSON: shown with step debugging on. */
export function debug(message: string): void {
  core.debug(prefixed(plain(message)))
}

/**
 * A command about to run, as `@actions/exec` would echo it (`[command]docker build …`), but with
 * each argument on one line and unable to start a workflow command.
 */
export function printCommand(command: string, args: readonly string[]): void {
  info(`[command]${[command, ...args].map(oneLine).join(' ')}`)
}

/** A log group outside a region scope; inside one, a `▸ name` line before the work. */
export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (prefix() === '') return core.group(oneLine(name), fn)
  info(`▸ ${oneLine(name)}`)
  return fn()
}

/**
 * A child's output stream to the log, line by line as it comes, each line through `info`
 * (`@actions/exec`'s own line listeners drop a last line without a line end).
 */
export class LineEcho {
  private readonly decoder = new StringDecoder('utf8')
  private pending = ''

  readonly write = (data: Buffer): void => {
    const lines = (this.pending + this.decoder.write(data)).split('\n')
    this.pending = lines.pop() ?? ''
    for (const line of lines) info(line)
  }

  flush(): void {
    const rest = this.pending + this.decoder.end()
    this.pending = ''
    if (rest !== '') info(rest)
  }
}
