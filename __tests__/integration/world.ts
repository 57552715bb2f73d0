/**
 * Helpers for the integration suite, which runs inside the local world (local/world.sh): moto behind
 * the fault proxy, a real Docker engine and a real registry under the ECR host name.
 */
import { execFileSync } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runAction, type ActionRun } from '../../local/action-runner.mjs'

// Jest 29's ESM runtime has no import.meta.dirname.
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

const REQUIRED = [
  'AWS_ENDPOINT_URL',
  'LOCAL_MOTO_URL',
  'LOCAL_FAULT_PROXY_URL',
  'LOCAL_REGISTRY_HOST',
  'LOCAL_REGISTRY_PASSWORD',
  'LOCAL_ACCOUNT_ID',
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

/** The AWS CLI against moto directly (no fault proxy), parsed as JSON. */
export function awsCli(args: string[]): unknown {
  const out = execFileSync(
    'aws',
    [...args, '--endpoint-url', worldEnv().LOCAL_MOTO_URL, '--output', 'json'],
    {
      encoding: 'utf8',
      // A missing stack is an expected answer in some tests: keep the CLI's stderr out of the log.
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  return out.trim() === '' ? {} : JSON.parse(out)
}

/** A stack as moto holds it. */
export function describeStackCli(stackName: string): {
  StackStatus: string
  Parameters?: Array<{ ParameterKey: string; ParameterValue: string }>
  Outputs?: Array<{ OutputKey: string; OutputValue: string }>
  Tags?: Array<{ Key: string; Value: string }>
} {
  const result = awsCli(['cloudformation', 'describe-stacks', '--stack-name', stackName]) as {
    Stacks: Array<ReturnType<typeof describeStackCli>>
  }
  const stack = result.Stacks[0]
  if (stack === undefined) throw new Error(`moto has no stack ${stackName}`)
  return stack
}

function registryAuth(): string {
  const { LOCAL_REGISTRY_PASSWORD } = worldEnv()
  return `Basic ${Buffer.from(`AWS:${LOCAL_REGISTRY_PASSWORD}`).toString('base64')}`
}

/** GET on the registry's HTTP API (TLS trusted through NODE_EXTRA_CA_CERTS). */
export async function registryGet(path: string, accept?: string): Promise<Response> {
  return fetch(`https://${worldEnv().LOCAL_REGISTRY_HOST}${path}`, {
    headers: {
      Authorization: registryAuth(),
      ...(accept === undefined ? {} : { Accept: accept })
    }
  })
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
