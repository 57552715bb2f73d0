/**
 * Helpers for the integration suite, which runs inside the local world (local/world.sh): moto behind
 * the fault proxy, a real Docker engine and four real registries (two accounts, two regions) under
 * their ECR host names.
 */
import { beforeAll, beforeEach, expect } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseRegistryLog, type RegistryRequest } from '../../bench/logs.mjs'
import {
  assumeRole,
  createBucket,
  credentialsEnv,
  runAction,
  type ActionRun,
  type Credentials
} from '../../local/action-runner.mjs'

// Jest 29's ESM runtime has no import.meta.dirname.
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

const REQUIRED = [
  'AWS_ENDPOINT_URL',
  'LOCAL_MOTO_URL',
  'LOCAL_FAULT_PROXY_URL',
  'LOCAL_REGISTRY_HOST',
  'LOCAL_REGISTRY_PASSWORD',
  'LOCAL_ACCOUNT_ID',
  'LOCAL_ACCOUNT_ID_2',
  'LOCAL_REGION_2',
  'LOCAL_REGISTRIES',
  'AWS_REGION',
  'DOCKER_HOST'
] as const

/** The world's variables; a missing part fails the suite (never skips it). */
export function worldEnv(): Record<(typeof REQUIRED)[number], string> {
  const missing = REQUIRED.filter((name) => !process.env[name])
  if (missing.length > 0) {
    throw new Error(
      `The local world is not running (missing ${missing.join(', ')}): run the suite with 'npm run test:integration'.`
    )
  }
  return Object.fromEntries(REQUIRED.map((name) => [name, process.env[name] as string])) as Record<
    (typeof REQUIRED)[number],
    string
  >
}

/** Runs the bundled action with the example service's inputs plus `inputs`. */
export async function deploy(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction(root, {
    dockerfile: 'examples/hello/Dockerfile',
    binary: 'bootstrap',
    template: 'examples/hello/template.yaml',
    'create-repository': 'true',
    ...inputs
  })
}

/** Where an AWS CLI call goes: a region other than AWS_REGION, another account's credentials. */
export interface CliTarget {
  region?: string
  credentials?: Credentials
}

/** The AWS CLI against moto directly (no fault proxy), parsed as JSON. */
export function awsCli(args: string[], target: CliTarget = {}): unknown {
  const out = execFileSync(
    'aws',
    [
      ...args,
      '--endpoint-url',
      worldEnv().LOCAL_MOTO_URL,
      '--output',
      'json',
      ...(target.region ? ['--region', target.region] : [])
    ],
    {
      encoding: 'utf8',
      // A missing stack is an expected answer in some tests: keep the CLI's stderr out of the log.
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(target.credentials
        ? { env: { ...process.env, ...credentialsEnv(target.credentials) } }
        : {})
    }
  )
  return out.trim() === '' ? {} : JSON.parse(out)
}

/** A stack as moto holds it (in AWS_REGION and the world's account unless `target` says). */
export function describeStackCli(
  stackName: string,
  target: CliTarget = {}
): {
  StackId: string
  StackStatus: string
  Parameters?: Array<{ ParameterKey: string; ParameterValue: string }>
  Outputs?: Array<{ OutputKey: string; OutputValue: string }>
  Tags?: Array<{ Key: string; Value: string }>
} {
  const result = awsCli(
    ['cloudformation', 'describe-stacks', '--stack-name', stackName],
    target
  ) as {
    Stacks: Array<ReturnType<typeof describeStackCli>>
  }
  const stack = result.Stacks[0]
  if (stack === undefined) throw new Error(`moto has no stack ${stackName}`)
  return stack
}

/** The value of parameter `key` of a stack as moto holds it. */
export function stackParameter(
  stackName: string,
  key: string,
  target: CliTarget = {}
): string | undefined {
  return describeStackCli(stackName, target).Parameters?.find((p) => p.ParameterKey === key)
    ?.ParameterValue
}

/** The keys of the objects in `bucket` under `prefix`, as moto lists them (none: []). */
export function objectKeys(bucket: string, prefix: string): string[] {
  const objects = awsCli(['s3api', 'list-objects-v2', '--bucket', bucket, '--prefix', prefix]) as {
    Contents?: Array<{ Key: string }>
  }
  return (objects.Contents ?? []).map((object) => object.Key)
}

/**
 * Registers the hooks of an integration file: before its tests the world's environment is checked
 * and `bucket` created; with `clearFaultRules`, the fault proxy's rules are cleared before each test.
 */
export function useWorld(bucket: string, { clearFaultRules = false } = {}): void {
  beforeAll(async () => {
    worldEnv()
    await createBucket(bucket)
  })
  if (clearFaultRules) {
    beforeEach(async () => {
      await clearFaults()
    })
  }
}

/** Expects `run` to have exited 0; when it did not, the assertion shows the run's log. */
export function expectSuccess(run: ActionRun): void {
  expect({ exitCode: run.exitCode, log: run.exitCode === 0 ? '' : logOf(run) }).toEqual({
    exitCode: 0,
    log: ''
  })
}

/** One registry of the world (an entry of LOCAL_REGISTRIES, see local/world.sh). */
export interface WorldRegistry {
  account: string
  region: string
  /** `<account>.dkr.ecr.<region>.amazonaws.com` */
  host: string
  /** Its loopback address (127.0.0.1 … 127.0.0.4). */
  address: string
  url: string
  /** `<account>-auth-token`, user AWS. */
  password: string
  /** Its log file (one line per request). */
  log: string
}

/** The world's four registries: account A then B, each in AWS_REGION then LOCAL_REGION_2. */
export function registries(): WorldRegistry[] {
  return JSON.parse(worldEnv().LOCAL_REGISTRIES) as WorldRegistry[]
}

/** The registry of `account` in `region`. */
export function registryOf(account: string, region: string): WorldRegistry {
  const found = registries().find((r) => r.account === account && r.region === region)
  if (found === undefined) throw new Error(`the world has no registry for ${account} in ${region}`)
  return found
}

/** Account A / B and region 1 / 2 of the world. */
export function worldNames(): { a: string; b: string; region1: string; region2: string } {
  const env = worldEnv()
  return {
    a: env.LOCAL_ACCOUNT_ID,
    b: env.LOCAL_ACCOUNT_ID_2,
    region1: env.AWS_REGION,
    region2: env.LOCAL_REGION_2
  }
}

/** Account B's credentials (STS AssumeRole, as a release job gets them). */
export async function accountBCredentials(): Promise<Credentials> {
  return assumeRole(worldEnv().LOCAL_ACCOUNT_ID_2, { sessionName: 'integration' })
}

function registryAuth(registry?: WorldRegistry): string {
  const password = registry?.password ?? worldEnv().LOCAL_REGISTRY_PASSWORD
  return `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}`
}

/**
 * GET (or `method`) on a registry's HTTP API (TLS trusted through NODE_EXTRA_CA_CERTS); the first
 * registry (LOCAL_REGISTRY_HOST) unless `registry` says.
 */
export async function registryGet(
  path: string,
  accept?: string,
  registry?: WorldRegistry,
  method = 'GET'
): Promise<Response> {
  return fetch(`https://${registry?.host ?? worldEnv().LOCAL_REGISTRY_HOST}${path}`, {
    method,
    headers: {
      Authorization: registryAuth(registry),
      ...(accept === undefined ? {} : { Accept: accept })
    }
  })
}

const MANIFEST_TYPES =
  'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json'

/** A manifest as a registry serves it: the digest it names, the body's own sha256, the blobs. */
export interface ServedManifest {
  /** Docker-Content-Digest */
  digest: string | null
  /** `sha256:` + the sha256 of the bytes served */
  bytesDigest: string
  mediaType: string | null
  /** config digest, then the layers' */
  blobs: string[]
  /** Sizes of `blobs`, in order. */
  sizes: number[]
}

/** repository:reference (tag or digest) in `registry`; null when it has none. */
export async function registryManifest(
  registry: WorldRegistry,
  repository: string,
  reference: string
): Promise<ServedManifest | null> {
  const response = await registryGet(
    `/v2/${repository}/manifests/${reference}`,
    MANIFEST_TYPES,
    registry
  )
  if (response.status === 404) return null
  if (!response.ok)
    throw new Error(
      `${registry.host}: manifest ${repository}:${reference}: HTTP ${response.status}`
    )
  const bytes = Buffer.from(await response.arrayBuffer())
  const body = JSON.parse(bytes.toString('utf8')) as {
    config: { digest: string; size: number }
    layers: Array<{ digest: string; size: number }>
  }
  const described = [body.config, ...body.layers]
  return {
    digest: response.headers.get('docker-content-digest'),
    bytesDigest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    mediaType: response.headers.get('content-type'),
    blobs: described.map((d) => d.digest),
    sizes: described.map((d) => d.size)
  }
}

/** Whether `registry` holds blob `digest` in `repository` (HEAD). */
export async function registryHasBlob(
  registry: WorldRegistry,
  repository: string,
  digest: string
): Promise<boolean> {
  const response = await registryGet(
    `/v2/${repository}/blobs/${digest}`,
    undefined,
    registry,
    'HEAD'
  )
  return response.ok
}

/** Where `registry`'s log ends now: pass it to registryRequestsSince. */
export function registryLogOffset(registry: WorldRegistry): number {
  return existsSync(registry.log) ? statSync(registry.log).size : 0
}

/** The requests `registry` answered after `offset` (its log, parsed as the bench parses it). */
export function registryRequestsSince(registry: WorldRegistry, offset: number): RegistryRequest[] {
  return parseRegistryLog(readFileSync(registry.log).subarray(offset).toString('utf8'))
}

/** Blob uploads started (POST …/blobs/uploads/ answered 202) and manifest PUTs among `requests`. */
export function uploadCounts(requests: readonly RegistryRequest[]): {
  blobUploads: number
  blobMounts: number
  manifestPuts: number
} {
  const uploads = requests.filter((r) => r.method === 'POST' && /\/blobs\/uploads\//.test(r.uri))
  return {
    blobUploads: uploads.filter((r) => r.status === 202).length,
    blobMounts: uploads.filter((r) => r.status === 201).length,
    manifestPuts: requests.filter((r) => r.method === 'PUT' && /\/manifests\//.test(r.uri)).length
  }
}

/**
 * A `docker` that must not run: first on PATH, it records its argv and fails. `env` goes to
 * runAction; `calls()` lists what was attempted.
 */
export function dockerTrap(): { env: Record<string, string>; calls: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'docker-trap-'))
  const log = join(dir, 'calls.log')
  writeFileSync(log, '')
  writeFileSync(
    join(dir, 'docker'),
    `#!/bin/sh\n# a promote must not call docker\necho "docker $*" >>'${log}'\necho 'docker must not run here' >&2\nexit 127\n`
  )
  chmodSync(join(dir, 'docker'), 0o755)
  return {
    env: { PATH: `${dir}:${process.env.PATH ?? ''}` },
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean)
  }
}

/** Repositories the registry holds. */
export async function registryCatalog(): Promise<string[]> {
  const response = await registryGet('/v2/_catalog?n=1000')
  if (!response.ok) throw new Error(`registry catalog: HTTP ${response.status}`)
  return ((await response.json()) as { repositories: string[] | null }).repositories ?? []
}

/** The digest the registry serves for repository:reference (Docker-Content-Digest). */
export async function registryDigest(
  repository: string,
  reference: string
): Promise<string | null> {
  const response = await registryGet(
    `/v2/${repository}/manifests/${reference}`,
    'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json'
  )
  if (response.status === 404) return null
  if (!response.ok)
    throw new Error(`registry manifest ${repository}:${reference}: HTTP ${response.status}`)
  return response.headers.get('docker-content-digest')
}

/** Adds a fault rule to the proxy between the action and moto. */
export async function addFault(rule: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${worldEnv().LOCAL_FAULT_PROXY_URL}/__faults/rules`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rule)
  })
  if (!response.ok)
    throw new Error(`fault proxy refused ${JSON.stringify(rule)}: ${await response.text()}`)
}

/** Clears the proxy's rules and log. */
export async function clearFaults(): Promise<void> {
  await fetch(`${worldEnv().LOCAL_FAULT_PROXY_URL}/__faults`, { method: 'DELETE' })
}

/** What the proxy saw. */
export async function faultLog(): Promise<Array<{ operation: string; rule?: unknown }>> {
  const response = await fetch(`${worldEnv().LOCAL_FAULT_PROXY_URL}/__faults/log`)
  return (await response.json()) as Array<{ operation: string; rule?: unknown }>
}

/** The log text of a run, with a tail useful in assertion messages. */
export function logOf(run: ActionRun): string {
  return `${run.stdout}\n${run.stderr}`
}
