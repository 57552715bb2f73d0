/**
 * Every docker call: the builder in use, build, inspect, login (password on stdin), tag, push,
 * digest. Commands run through a `Runner` so tests hand in a fake; argv is always an array, never
 * a shell.
 */
import * as log from '../base/log.js'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { DeployError } from '../base/errors.js'
import type { RegistryLogin } from '../base/registry-login.js'
import type { Runner, RunResult } from './runner.js'

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
   * Also asks for `--metadata-file` (BuildKit's, the legacy builder rejects it).
   */
  attestationFlags?: boolean
  /** Images or cache sources (`--cache-from`, in order). */
  cacheFrom?: string[]
  /** Cache exports (`--cache-to`, BuildKit only). */
  cacheTo?: string[]
  /** Adds `--load`: the builder's driver keeps results to itself otherwise. */
  load?: boolean
  /**
   * The engine keeps images in the containerd image store: a push sends the manifest BuildKit
   * wrote, so the `containerimage.digest` of `--metadata-file` is the digest the registry gets.
   */
  containerdStore?: boolean
}

/** A built local image. */
export interface BuiltImage {
  localTag: string
  /** What the engine calls the image (on the containerd store: the manifest digest). */
  imageId: string
  /** The digest of the image's config: equal in the registry once pushed, whatever the store. */
  configDigest: string
  labels: Record<string, string>
  architecture: string
  os: string
  /**
   * The manifest digest a push will give the registry, known at build time (BuildKit on the
   * containerd image store); absent where the push makes the manifest (the classic store).
   */
  manifestDigest?: string
}

/** The argv of `docker build` for a request (pure, exported for tests and logs). */
export function buildArgv(request: BuildRequest, iidFile: string, metadataFile?: string): string[] {
  const args = ['build', '--tag', request.localTag, '--file', request.dockerfile]
  for (const { key, value } of request.buildArgs) args.push('--build-arg', `${key}=${value}`)
  if (request.platform !== '') args.push('--platform', request.platform)
  if (request.target !== '') args.push('--target', request.target)
  for (const ref of request.cacheFrom ?? []) args.push('--cache-from', ref)
  for (const ref of request.cacheTo ?? []) args.push('--cache-to', ref)
  if (request.load === true) args.push('--load')
  if (metadataFile !== undefined) args.push('--metadata-file', metadataFile)
  if (request.attestationFlags === true) args.push('--provenance=false', '--sbom=false')
  args.push('--iidfile', iidFile, request.context)
  return args
}

/** The config digest BuildKit wrote to `--metadata-file`; '' when there is none (pure). */
export function configDigestFromMetadata(metadata: string): string {
  return digestFromMetadata(metadata, 'containerimage.config.digest')
}

/** A digest BuildKit wrote to `--metadata-file` under `key`; '' when there is none (pure). */
export function digestFromMetadata(metadata: string, key: string): string {
  try {
    const parsed = JSON.parse(metadata) as Record<string, unknown>
    const digest = parsed[key]
    return typeof digest === 'string' && /^sha256:[a-f0-9]{64}$/.test(digest) ? digest : ''
  } catch {
    return ''
  }
}

function readOptional(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim()
  } catch {
    return ''
  }
}

/**
 * `docker build`, output streamed to the log; then the image's labels from `docker inspect`.
 * With `config`, the build runs with that DOCKER_CONFIG (the ECR login a registry cache needs).
 * The ids come from `--iidfile` and `--metadata-file`, never from the build's output.
 */
export async function buildImage(
  run: Runner,
  request: BuildRequest,
  config?: DockerConfig
): Promise<BuiltImage> {
  const dir = mkdtempSync(join(tmpdir(), 'oci-stack-deploy-build-'))
  try {
    const iidFile = join(dir, 'iid')
    const metadataFile = request.attestationFlags === true ? join(dir, 'metadata.json') : undefined
    const result = await run(
      'docker',
      buildArgv(request, iidFile, metadataFile),
      config ? { env: config.env } : {}
    )
    if (result.exitCode !== 0) throw failure('docker build', result)
    // Engines that ignore --iidfile: the tag names the same image.
    const iid = readOptional(iidFile)
    const metadata = metadataFile ? readOptional(metadataFile) : ''
    const fromMetadata = configDigestFromMetadata(metadata)
    const manifestDigest = request.containerdStore
      ? digestFromMetadata(metadata, 'containerimage.digest')
      : ''
    const { inspected, imageId } = await inspectBuilt(run, manifestDigest || iid, request.localTag)
    return {
      ...(manifestDigest ? { manifestDigest } : {}),
      localTag: request.localTag,
      imageId,
      // The legacy builder and the classic store: the image id is the config digest.
      configDigest: fromMetadata || iid || imageId,
      labels: inspected.labels,
      architecture: inspected.architecture,
      os: inspected.os
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The built image read by the id this build reported, not by its tag: another build beside it on
 * the engine may re-tag it meanwhile. The id is the manifest digest on the containerd store (its
 * image id); buildx's iid file may hold the config digest there, which names no image: then, as
 * when no id was written, by the tag.
 */
async function inspectBuilt(
  run: Runner,
  id: string,
  localTag: string
): Promise<{ inspected: Inspected; imageId: string }> {
  if (id !== '') {
    const inspected = await inspectImage(run, id).catch(() => undefined)
    if (inspected) return { inspected, imageId: id }
  }
  const inspected = await inspectImage(run, localTag)
  return { inspected, imageId: inspected.id }
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

/** The docker config directory the user's commands use: `DOCKER_CONFIG`, else `~/.docker`. */
export function userDockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['DOCKER_CONFIG'] || join(homedir(), '.docker')
}

/** What the private config links back to in the user's: contexts, buildx builders, CLI plugins. */
const SHARED_ENTRIES = ['contexts', 'buildx', 'cli-plugins'] as const

/**
 * Makes a private (0700) `DOCKER_CONFIG` directory that still reaches the user's engine and
 * builder: it starts as a copy of the user's `config.json` (current context, plugin dirs,
 * proxies, other registries' logins) and links the user's `contexts/`, `buildx/` and
 * `cli-plugins/`, so login, pull, push and build all talk to the same engine. Only the ECR
 * login written by `login` is new, and it dies with the directory.
 */
export function createDockerConfig(source: string = userDockerConfigDir()): DockerConfig {
  const dir = mkdtempSync(join(tmpdir(), 'oci-stack-deploy-docker-'))
  let config: Record<string, unknown> = {}
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(source, 'config.json'), 'utf8'))
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      config = parsed as Record<string, unknown>
    }
  } catch {
    // No config (or an unreadable one): docker's defaults, as with an empty file.
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2), { mode: 0o600 })
  for (const entry of SHARED_ENTRIES) {
    const target = join(source, entry)
    if (existsSync(target)) symlinkSync(target, join(dir, entry))
  }
  return {
    env: { DOCKER_CONFIG: dir },
    dispose: () => rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Keeps the login for `registry` in the private config file itself: a `credsStore` or
 * `credHelpers` copied from the user's config would otherwise store the ECR password outside
 * the directory, where it outlives the step.
 */
function keepLoginInFile(config: DockerConfig, registry: string): void {
  const dir = config.env['DOCKER_CONFIG']
  if (dir === undefined) return
  const file = join(dir, 'config.json')
  let parsed: Record<string, unknown> = {}
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  } catch {
    // Written by createDockerConfig; missing only if someone removed it: start afresh.
  }
  if (parsed['credsStore'] === undefined && parsed['credHelpers'] === undefined) return
  const helpers = (parsed['credHelpers'] ?? {}) as Record<string, string>
  // An empty helper name makes docker use the file store for this registry.
  parsed['credHelpers'] = { ...helpers, [registry]: '' }
  writeFileSync(file, JSON.stringify(parsed, null, 2), { mode: 0o600 })
}

/** `docker login --password-stdin`: the password only ever travels on stdin. */
export async function login(
  run: Runner,
  config: DockerConfig,
  creds: RegistryLogin
): Promise<void> {
  keepLoginInFile(config, creds.registry)
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
  if (result.exitCode !== 0) log.debug(`docker pull ${reference}: ${lastLine(result)}`)
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
    log.warning(
      `docker push ${reference} failed (${lastLine(result)}); logging in again and retrying once.`
    )
    await reauthenticate()
    result = await run('docker', ['push', reference], { env: config.env })
    if (result.exitCode !== 0) throw failure(`docker push ${reference}`, result)
  }
  return pushedDigest(run, reference, result.stdout)
}

/** The last non-empty line of a command's stderr (else stdout): what a failure message quotes. */
export function lastLine(result: RunResult): string {
  return (result.stderr.trim() || result.stdout.trim()).split('\n').pop() ?? ''
}

/**
 * The pushed digest: docker prints it (`<tag>: digest: sha256:… size: …`), so no `image inspect`
 * is needed; only output without it falls back to `RepoDigests` for the pushed repository.
 */
async function pushedDigest(run: Runner, reference: string, pushOutput: string): Promise<string> {
  const fromOutput = /digest: (sha256:[a-f0-9]{64})/.exec(pushOutput)?.[1]
  if (fromOutput !== undefined) return fromOutput
  const repository = reference.replace(/:[^:/]+$/, '')
  const inspected = await inspectImage(run, reference)
  const match = inspected.repoDigests.find((d) => d.startsWith(`${repository}@`))
  const fromInspect = match?.slice(repository.length + 1)
  if (fromInspect !== undefined && /^sha256:[a-f0-9]{64}$/.test(fromInspect)) return fromInspect
  throw new DeployError(
    `docker push ${reference} finished but the pushed digest could not be read from docker.`
  )
}
