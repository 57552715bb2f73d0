/**
 * How a docker command runs: the `Runner` every docker call goes through (tests hand in a fake),
 * and the production one. The executable is looked up on PATH once per PATH (a lookup stats every
 * PATH directory: most of a spawn's cost when made on every call) and then spawned by its path.
 */
import { getExecOutput } from '@actions/exec'
import { which } from '@actions/io'
import * as log from '../base/log.js'
import { DeployError } from '../base/errors.js'

/** What a finished command returned. */
export interface RunResult {
  exitCode: number
  stdout: string
  stderr: string
}

export interface RunOptions {
  /** Written to the child's stdin (the registry password goes here, never in argv). */
  input?: Buffer
  /** Extra environment on top of the action's own. */
  env?: Record<string, string>
  /** Stream the child's output into the log (default) or keep it quiet. */
  silent?: boolean
}

/** Runs a command with an argv array. */
export type Runner = (command: string, args: string[], options?: RunOptions) => Promise<RunResult>

/** Resolved executables by command and PATH: a changed PATH is looked up afresh. */
const resolved = new Map<string, Promise<string>>()

/**
 * The command's executable on the current PATH, looked up once. A failed lookup is not kept, so
 * a docker installed later in the job is found.
 */
export function resolveExecutable(command: string): Promise<string> {
  const key = `${command}\0${process.env['PATH'] ?? ''}`
  let path = resolved.get(key)
  if (path === undefined) {
    path = which(command, true)
    resolved.set(key, path)
    path.catch(() => resolved.delete(key))
  }
  return path
}

/**
 * The production runner: the executable resolved once, run through `@actions/exec` with the exit
 * code checked by the caller and its raw echo off; the command line (as the user typed it) and
 * the output are printed through the log (base/untrusted.ts).
 */
export const execRunner: Runner = async (command, args, options = {}) => {
  log.debug(`run: ${command} ${JSON.stringify(args)}`)
  const echo = !(options.silent ?? false)
  let executable: string
  try {
    executable = await resolveExecutable(command)
  } catch {
    throw new DeployError(
      `'${command}' is not installed or not on PATH: this action needs the docker CLI and a running Docker engine (GitHub's ubuntu runners have both).`
    )
  }
  if (echo) log.printCommand(command, args)
  const out = new log.LineEcho()
  const err = new log.LineEcho()
  try {
    return await getExecOutput(executable, args, {
      ignoreReturnCode: true,
      silent: true,
      ...(echo ? { listeners: { stdout: out.write, stderr: err.write } } : {}),
      ...(options.input === undefined ? {} : { input: options.input }),
      // Always explicit, so the child sees `process.env` as this code sees it (a test runner may
      // hand the code its own copy), not the environment Node started with.
      env: { ...stringEnv(process.env), ...options.env }
    })
  } finally {
    out.flush()
    err.flush()
  }
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const result: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) if (value !== undefined) result[key] = value
  return result
}
