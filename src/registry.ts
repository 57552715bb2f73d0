/**
 * A small Docker Registry HTTP API v2 client: reads a pushed manifest's media type so the deploy
 * can refuse an image index before Lambda does. Basic auth with the ECR login (ECR accepts it for
 * the registry API), Node's global `fetch`, no SDK.
 */
import { createHash } from 'node:crypto'
import type { RegistryLogin } from './docker.js'
import { DeployError, errorMessage } from './errors.js'

/** Docker image manifest, v2 schema 2 (single platform). */
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
/** OCI image manifest (single platform). */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
/** Docker manifest list (several platforms). */
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
/** OCI image index (several platforms, or one platform plus attestations). */
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'

const ACCEPT = [DOCKER_MANIFEST, OCI_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX].join(', ')

/** What the registry says about one manifest. */
export interface ManifestInfo {
  /** The manifest's digest (`Docker-Content-Digest`, else the sha256 of the body). */
  digest: string
  /** Media type: Content-Type when it is a manifest type, else the body's `mediaType`. */
  mediaType: string
  /** A single manifest's `config.digest` (the image id docker shows). */
  configDigest?: string
  /** An index's platforms (`os/architecture[/variant]`), attestation entries left out. */
  platforms?: string[]
  /** How many of an index's entries are attestation manifests (provenance, SBOM). */
  attestations?: number
}

/** How to reach the registry; the defaults suit ECR. */
export interface RegistryOptions {
  /** `https` (default; ECR) or `http` (a local test registry). */
  scheme?: 'https' | 'http'
  /** Per-request limit (default 30 s). */
  timeoutMs?: number
  /** Waits before each retry of a 5xx, 429 or network failure (default 1 s, 3 s). */
  retryDelaysMs?: number[]
}

/** True for the two manifest types Lambda accepts: Docker v2 schema 2 and OCI image manifest. */
export function isSinglePlatformManifest(mediaType: string): boolean {
  return mediaType === DOCKER_MANIFEST || mediaType === OCI_MANIFEST
}

function isIndex(mediaType: string): boolean {
  return mediaType === DOCKER_MANIFEST_LIST || mediaType === OCI_INDEX
}

/**
 * GETs `/v2/<repository>/manifests/<reference>` (a tag or a digest). Returns undefined when the
 * registry does not know it (404, MANIFEST_UNKNOWN); throws a DeployError naming the repository
 * and the permission (ecr:BatchGetImage) on 401/403, and the status on any other failure.
 * The password never appears in a message.
 */
export async function getManifest(
  login: RegistryLogin,
  repository: string,
  reference: string,
  fetchImpl: typeof fetch = fetch,
  options: RegistryOptions = {}
): Promise<ManifestInfo | undefined> {
  const url = `${options.scheme ?? 'https'}://${login.registry}/v2/${repository}/manifests/${reference}`
  const authorization = `Basic ${Buffer.from(`${login.username}:${login.password}`, 'utf8').toString('base64')}`
  const what = `the manifest ${reference} of repository '${repository}' on ${login.registry}`
  const hide = (text: string): string => redact(text, login, authorization)
  const delays = options.retryDelaysMs ?? [1000, 3000]

  for (let attempt = 0; ; attempt++) {
    const retry = attempt < delays.length
    let response: Response
    let body: Buffer
    try {
      response = await fetchImpl(url, {
        method: 'GET',
        headers: { Accept: ACCEPT, Authorization: authorization },
        redirect: 'follow',
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000)
      })
      body = Buffer.from(await response.arrayBuffer())
    } catch (error) {
      if (retry) {
        await sleep(delays[attempt] ?? 0)
        continue
      }
      throw new DeployError(`Could not read ${what}: ${hide(networkMessage(error))}`)
    }

    if (response.ok) return describeManifest(response, body, what)
    const registryErrors = parseErrors(body)
    if (response.status === 404 || registryErrors.some((e) => e.code === 'MANIFEST_UNKNOWN')) {
      return undefined
    }
    const detail = hide(
      registryErrors
        .map((e) => [e.code, e.message].filter((part) => part !== '').join(': '))
        .join('; ')
    )
    const suffix = detail === '' ? '' : ` (${detail})`
    if (response.status === 401) {
      throw new DeployError(
        `The registry refused the login when reading ${what} (HTTP 401${suffix}): the ECR token may have expired, or the credentials lack ecr:BatchGetImage on '${repository}'.`
      )
    }
    if (response.status === 403) {
      throw new DeployError(
        `Access denied reading ${what} (HTTP 403${suffix}): grant the deploy role ecr:BatchGetImage on repository '${repository}'.`
      )
    }
    if (retry && (response.status === 429 || response.status >= 500)) {
      await sleep(delays[attempt] ?? 0)
      continue
    }
    throw new DeployError(
      `Reading ${what} failed: HTTP ${response.status} ${hide(response.statusText)}${suffix}.`
    )
  }
}

/**
 * Throws unless the manifest is one Lambda accepts. An index or manifest list fails with its
 * cause (BuildKit/buildx attestations, or a multi-platform build) and the fix.
 */
export function checkLambdaManifest(info: ManifestInfo, imageUri: string): void {
  if (isSinglePlatformManifest(info.mediaType)) return
  const lambdaError = `Lambda accepts only a single-platform image manifest and would fail the deploy with "The image manifest, config or layer media type for the source image ${imageUri} is not supported"`
  if (isIndex(info.mediaType)) {
    const platforms = info.platforms ?? []
    const attestations = info.attestations ?? 0
    const contents = [
      platforms.length > 0 ? `platforms ${platforms.join(', ')}` : 'no platform entries',
      ...(attestations > 0 ? [`${attestations} attestation manifest(s)`] : [])
    ].join(' plus ')
    if (platforms.length > 1) {
      throw new DeployError(
        `The pushed image ${imageUri} is a multi-platform image index (${info.mediaType}: ${contents}). ${lambdaError}: build one platform (input 'platform', e.g. linux/amd64 or linux/arm64, matching the function's Architectures).`
      )
    }
    throw new DeployError(
      `The pushed image ${imageUri} is an image index (${info.mediaType}: ${contents}), not a single-platform image manifest. ${lambdaError}. BuildKit/buildx adds provenance (and SBOM) attestations by default, and they turn the pushed image into an index: build with --provenance=false --sbom=false, or set BUILDX_NO_DEFAULT_ATTESTATIONS=1 in the builder's environment.`
    )
  }
  throw new DeployError(
    `The pushed image ${imageUri} has the manifest media type '${info.mediaType || '(none)'}'. ${lambdaError}: a Docker v2 schema 2 (${DOCKER_MANIFEST}) or OCI (${OCI_MANIFEST}) image manifest; push it with a current docker CLI.`
  )
}

interface RegistryErrorEntry {
  code: string
  message: string
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown
  } catch {
    return undefined
  }
}

/** The `{errors: [{code, message}]}` body of a registry error, if it has one. */
function parseErrors(body: Buffer): RegistryErrorEntry[] {
  const parsed = parseJson(body)
  if (!isRecord(parsed) || !Array.isArray(parsed['errors'])) return []
  return parsed['errors'].filter(isRecord).map((e) => ({
    code: typeof e['code'] === 'string' ? e['code'] : '',
    message: typeof e['message'] === 'string' ? e['message'] : ''
  }))
}

function describeManifest(response: Response, body: Buffer, what: string): ManifestInfo {
  const manifest = parseJson(body)
  if (!isRecord(manifest)) throw new DeployError(`The registry answered ${what} with no JSON.`)
  const contentType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? ''
  const mediaType = knownMediaType(contentType)
    ? contentType
    : typeof manifest['mediaType'] === 'string'
      ? manifest['mediaType']
      : inferMediaType(manifest, contentType)
  const digest =
    response.headers.get('docker-content-digest')?.trim() ||
    `sha256:${createHash('sha256').update(body).digest('hex')}`
  const info: ManifestInfo = { digest, mediaType }
  const config = manifest['config']
  if (isRecord(config) && typeof config['digest'] === 'string') info.configDigest = config['digest']
  if (isIndex(mediaType) && Array.isArray(manifest['manifests'])) {
    const entries = manifest['manifests'].filter(isRecord)
    const attestation = entries.filter(isAttestation)
    info.platforms = entries.filter((e) => !isAttestation(e)).map(platformOf)
    info.attestations = attestation.length
  }
  return info
}

function knownMediaType(mediaType: string): boolean {
  return isSinglePlatformManifest(mediaType) || isIndex(mediaType)
}

/** OCI lets a manifest leave out `mediaType`; its shape still tells the kind. */
function inferMediaType(manifest: Record<string, unknown>, contentType: string): string {
  if (Array.isArray(manifest['manifests'])) return OCI_INDEX
  if (isRecord(manifest['config']) && Array.isArray(manifest['layers'])) return OCI_MANIFEST
  return contentType
}

/** BuildKit marks attestation entries with an annotation and the platform unknown/unknown. */
function isAttestation(entry: Record<string, unknown>): boolean {
  const annotations = entry['annotations']
  if (
    isRecord(annotations) &&
    annotations['vnd.docker.reference.type'] === 'attestation-manifest'
  ) {
    return true
  }
  const platform = entry['platform']
  return (
    isRecord(platform) && platform['os'] === 'unknown' && platform['architecture'] === 'unknown'
  )
}

function platformOf(entry: Record<string, unknown>): string {
  const platform = isRecord(entry['platform']) ? entry['platform'] : {}
  const part = (key: string): string => (typeof platform[key] === 'string' ? platform[key] : '')
  return [part('os') || 'unknown', part('architecture') || 'unknown', part('variant')]
    .filter((p) => p !== '')
    .join('/')
}

/**
 * fetch's "fetch failed" hides the reason in `cause`. Read by shape, not `instanceof`: fetch's
 * errors may come from another realm (a test runner's VM context).
 */
function networkMessage(error: unknown): string {
  const describe = (value: unknown): string => {
    if (!isRecord(value)) return errorMessage(value)
    const message = typeof value['message'] === 'string' ? value['message'] : ''
    const code = typeof value['code'] === 'string' ? value['code'] : ''
    return message || code || errorMessage(value)
  }
  const cause = isRecord(error) ? error['cause'] : undefined
  return cause === undefined ? describe(error) : `${describe(error)} (${describe(cause)})`
}

function redact(text: string, login: RegistryLogin, authorization: string): string {
  let result = text
  for (const secret of [authorization, authorization.slice('Basic '.length), login.password]) {
    if (secret !== '') result = result.split(secret).join('***')
  }
  return result
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms))
}
