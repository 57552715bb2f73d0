/**
 * Every docker call: build, inspect, login (password on stdin), tag, push, digest.
 * Commands run through a `Runner` so tests hand in a fake; argv is always an array, never a shell.
 */
import * as core from '@actions/core'
import { getExecOutput } from '@actions/exec'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DeployError, errorMessage } from './errors.js'

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

/** The production runner: `@actions/exec` with the exit code checked by the caller. */
export const execRunner: Runner = async (command, args, options = {}) => {
  core.debug(`run: ${command} ${JSON.stringify(args)}`)
  try {
    return await getExecOutput(command, args, {
      ignoreReturnCode: true,
      silent: options.silent ?? false,
      ...(options.input === undefined ? {} : { input: options.input }),
      // Always explicit, so the child sees `process.env` as this code sees it (a test runner may
      // hand the code its own copy), not the environment Node started with.
      env: { ...stringEnv(process.env), ...options.env }
    })
  } catch (error) {
    if (/Unable to locate executable file/.test(errorMessage(error))) {
      throw new DeployError(
        `'${command}' is not installed or not on PATH: this action needs the docker CLI and a running Docker engine (GitHub's ubuntu runners have both).`
      )
    }
    throw error
  }
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const result: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) if (value !== undefined) result[key] = value
  return result
}

function failure(what: string, result: RunResult): DeployError {
  const detail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-15).join('\n')
  return new DeployError(`${what} failed (exit code ${result.exitCode}): ${detail}`)
}

/** Checks that the docker CLI can reach an engine; says which of the two is missing. */
export async function checkDockerEngine(run: Runner): Promise<string> {
  const result = await run('docker', ['version', '--format', '{{.Server.Version}}'], {
    silent: true
  })
  if (result.exitCode !== 0) {
    const detail = result.stderr.trim().split('\n').slice(-3).join(' ')
    throw new DeployError(
      `The Docker engine is not running or not reachable (docker version: ${detail}): start the daemon, or check DOCKER_HOST.`
    )
  }
  return result.stdout.trim()
}

/**
 * Whether `docker build` is BuildKit's (buildx) and knows `--provenance` and `--sbom`: the legacy
 * builder rejects both flags. False on any failure, so the build then runs without them.
 */
export async function supportsAttestationFlags(run: Runner): Promise<boolean> {
  try {
    const result = await run('docker', ['build', '--help'], { silent: true })
    if (result.exitCode !== 0) return false
    const help = `${result.stdout}\n${result.stderr}`
    return /(^|\s)--provenance\b/m.test(help) && /(^|\s)--sbom\b/m.test(help)
  } catch (error) {
    core.debug(`docker build --help failed: ${errorMessage(error)}`)
    return false
  }
}

/** What `docker build` is asked to do. */
export interface BuildRequest {
  dockerfile: string
  context: string
  localTag: string
  /** Build args in order; the action's own come first. */
  buildArgs: Array<{ key: string; value: string }>
  platform: string
  target: string
  /**
   * Adds `--provenance=false --sbom=false`, so BuildKit pushes a single-platform manifest (Lambda
   * refuses an index). Only when `supportsAttestationFlags` says the builder knows the flags.
   */
  attestationFlags?: boolean
  /** Images to use as cache sources (`--cache-from`, in order). */
  cacheFrom?: string[]
}

/** A built local image. */
export interface BuiltImage {
  localTag: string
  imageId: string
  labels: Record<string, string>
  architecture: string
  os: string
}

/** The argv of `docker build` for a request (pure, exported for tests and logs). */
export function buildArgv(request: BuildRequest, iidFile: string): string[] {
  const args = ['build', '--tag', request.localTag, '--file', request.dockerfile]
  for (const { key, value } of request.buildArgs) args.push('--build-arg', `${key}=${value}`)
  if (request.platform !== '') args.push('--platform', request.platform)
  if (request.target !== '') args.push('--target', request.target)
  for (const ref of request.cacheFrom ?? []) args.push('--cache-from', ref)
  if (request.attestationFlags === true) args.push('--provenance=false', '--sbom=false')
  args.push('--iidfile', iidFile, request.context)
  return args
}

/** `docker build`, output streamed to the log; then the image's labels from `docker inspect`. */
export async function buildImage(run: Runner, request: BuildRequest): Promise<BuiltImage> {
  const dir = mkdtempSync(join(tmpdir(), 'oci-stack-deploy-build-'))
  try {
    const iidFile = join(dir, 'iid')
    const result = await run('docker', buildArgv(request, iidFile))
    if (result.exitCode !== 0) throw failure('docker build', result)
    let imageId = ''
    try {
      imageId = readFileSync(iidFile, 'utf8').trim()
    } catch {
      // Engines that ignore --iidfile: the tag names the same image.
    }
    const inspected = await inspectImage(run, imageId || request.localTag)
    return {
      localTag: request.localTag,
      imageId: imageId || inspected.id,
      labels: inspected.labels,
      architecture: inspected.architecture,
      os: inspected.os
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

interface Inspected {
  id: string
  labels: Record<string, string>
  architecture: string
  os: string
  repoDigests: string[]
}

/** `docker image inspect`, parsed as JSON. */
export async function inspectImage(run: Runner, reference: string): Promise<Inspected> {
  const result = await run('docker', ['image', 'inspect', reference], { silent: true })
  if (result.exitCode !== 0) throw failure(`docker image inspect ${reference}`, result)
  let parsed: unknown
  try {
    parsed = JSON.parse(result.stdout)
  } catch {
    throw new DeployError(`docker image inspect ${reference} printed something that is not JSON.`)
  }
  const image = (Array.isArray(parsed) ? parsed[0] : undefined) as
    | {
        Id?: string
        Architecture?: string
        Os?: string
        RepoDigests?: string[] | null
        Config?: { Labels?: Record<string, string> | null }
      }
    | undefined
  if (image === undefined)
    throw new DeployError(`docker image inspect ${reference} found no image.`)
  return {
    id: image.Id ?? '',
    labels: image.Config?.Labels ?? {},
    architecture: image.Architecture ?? '',
    os: image.Os ?? '',
    repoDigests: image.RepoDigests ?? []
  }
}

/** A private docker config directory, so no registry credentials outlive the step. */
export interface DockerConfig {
  /** Pass as `env` to every command that needs the login. */
  env: Record<string, string>
  /** Removes the directory and the credentials in it. */
  dispose(): void
}

/** Makes a private (0700) `DOCKER_CONFIG` directory. */
export function createDockerConfig(): DockerConfig {
  const dir = mkdtempSync(join(tmpdir(), 'oci-stack-deploy-docker-'))
  return {
    env: { DOCKER_CONFIG: dir },
    dispose: () => rmSync(dir, { recursive: true, force: true })
  }
}

/** Registry credentials; the password is masked before this is built. */
export interface RegistryLogin {
  registry: string
  username: string
  password: string
}

/** `docker login --password-stdin`: the password only ever travels on stdin. */
export async function login(
  run: Runner,
  config: DockerConfig,
  creds: RegistryLogin
): Promise<void> {
  const result = await run(
    'docker',
    ['login', '--username', creds.username, '--password-stdin', creds.registry],
    { input: Buffer.from(creds.password, 'utf8'), env: config.env, silent: true }
  )
  if (result.exitCode !== 0) throw failure(`docker login ${creds.registry}`, result)
}

/** `docker pull` with the private login; false (not an error) when the image cannot be pulled. */
export async function pullImage(
  run: Runner,
  config: DockerConfig,
  reference: string
): Promise<boolean> {
  const result = await run('docker', ['pull', reference], { env: config.env, silent: true })
  if (result.exitCode !== 0) core.debug(`docker pull ${reference}: ${lastLine(result)}`)
  return result.exitCode === 0
}

/** `docker tag source target` */
export async function tagImage(run: Runner, source: string, target: string): Promise<void> {
  const result = await run('docker', ['tag', source, target], { silent: true })
  if (result.exitCode !== 0) throw failure(`docker tag ${target}`, result)
}

/**
 * `docker push`; on failure calls `reauthenticate` once and pushes again (a token may have
 * expired, or the registry answered 5xx). Returns the pushed digest.
 */
export async function pushImage(
  run: Runner,
  config: DockerConfig,
  reference: string,
  reauthenticate: () => Promise<void>
): Promise<string> {
  let result = await run('docker', ['push', reference], { env: config.env })
  if (result.exitCode !== 0) {
    core.warning(
      `docker push ${reference} failed (${lastLine(result)}); logging in again and retrying once.`
    )
    await reauthenticate()
    result = await run('docker', ['push', reference], { env: config.env })
    if (result.exitCode !== 0) throw failure(`docker push ${reference}`, result)
  }
  return pushedDigest(run, reference, result.stdout)
}

function lastLine(result: RunResult): string {
  return (result.stderr.trim() || result.stdout.trim()).split('\n').pop() ?? ''
}

/** The digest from `RepoDigests` for the pushed repository, else from the push output. */
async function pushedDigest(run: Runner, reference: string, pushOutput: string): Promise<string> {
  const repository = reference.replace(/:[^:/]+$/, '')
  const inspected = await inspectImage(run, reference)
  const match = inspected.repoDigests.find((d) => d.startsWith(`${repository}@`))
  const fromInspect = match?.slice(repository.length + 1)
  if (fromInspect !== undefined && /^sha256:[a-f0-9]{64}$/.test(fromInspect)) return fromInspect
  const fromOutput = /digest: (sha256:[a-f0-9]{64})/.exec(pushOutput)?.[1]
  if (fromOutput !== undefined) return fromOutput
  throw new DeployError(
    `docker push ${reference} finished but the pushed digest could not be read from docker.`
  )
}
