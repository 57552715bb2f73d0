/**
 * Reading images through the Docker Registry HTTP API v2: a pushed manifest's media type, so the
 * deploy can refuse an image index before Lambda does; a manifest's exact bytes and an image's
 * architecture, for an image given as input 'image'; a blob, for a copy. Basic auth with the ECR
 * login (ECR accepts it for the registry API); the transport is http.ts.
 */
import { createHash } from 'node:crypto'
import type { RegistryLogin } from '../base/registry-login.js'
import { DeployError, InputError } from '../base/errors.js'
import {
  basicAuthorization,
  isRecord,
  networkMessage,
  parseErrors,
  parseJson,
  redact,
  refusal,
  registryUrl,
  send,
  sleep,
  withRetries,
  type RegistryHttp,
  type RegistryOptions,
  type RegistryRepository
} from './http.js'
import { nodeFetch } from './transport.js'

/** Docker image manifest, v2 schema 2 (single platform). */
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
/** OCI image manifest (single platform). */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
/** Docker manifest list (several platforms). */
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
/** OCI image index (several platforms, or one platform plus attestations). */
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'

/** Every manifest media type, for a manifest request's Accept header. */
export const MANIFEST_ACCEPT = [
  DOCKER_MANIFEST,
  OCI_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_INDEX
].join(', ')

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
  fetchImpl: typeof fetch = nodeFetch,
  options: RegistryOptions = {}
): Promise<ManifestInfo | undefined> {
  const url = `${options.scheme ?? 'https'}://${login.registry}/v2/${repository}/manifests/${reference}`
  const authorization = basicAuthorization(login)
  const what = `the manifest ${reference} of repository '${repository}' on ${login.registry}`
  const hide = (text: string): string => redact(text, login)
  const delays = options.retryDelaysMs ?? [1000, 3000]

  for (let attempt = 0; ; attempt++) {
    const retry = attempt < delays.length
    let response: Response
    let body: Buffer
    try {
      response = await fetchImpl(url, {
        method: 'GET',
        headers: { Accept: MANIFEST_ACCEPT, Authorization: authorization },
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
 * cause (BuildKit/buildx attestations, or a multi-platform build) and the fix. `given`: the image
 * came from input 'image' rather than a push, so the fix is another reference, and the error an
 * InputError (found before any write).
 */
export function checkLambdaManifest(
  info: ManifestInfo,
  imageUri: string,
  origin: 'pushed' | 'given' = 'pushed'
): void {
  if (isSinglePlatformManifest(info.mediaType)) return
  const given = origin === 'given'
  const subject = given ? `Input 'image': ${imageUri}` : `The pushed image ${imageUri}`
  const fail = (message: string): Error =>
    given ? new InputError(message) : new DeployError(message)
  const lambdaError = `Lambda accepts only a single-platform image manifest and would fail the deploy with "The image manifest, config or layer media type for the source image ${imageUri} is not supported"`
  const pickOne = `give the digest of the one platform's image manifest the index lists (docker buildx imagetools inspect ${imageUri} shows them) that matches the function's Architectures`
  if (isIndex(info.mediaType)) {
    const platforms = info.platforms ?? []
    const attestations = info.attestations ?? 0
    const contents = [
      platforms.length > 0 ? `platforms ${platforms.join(', ')}` : 'no platform entries',
      ...(attestations > 0 ? [`${attestations} attestation manifest(s)`] : [])
    ].join(' plus ')
    if (platforms.length > 1) {
      throw fail(
        `${subject} is a multi-platform image index (${info.mediaType}: ${contents}). ${lambdaError}: ${given ? pickOne : "build one platform (input 'platform', e.g. linux/amd64 or linux/arm64, matching the function's Architectures)"}.`
      )
    }
    throw fail(
      `${subject} is an image index (${info.mediaType}: ${contents}), not a single-platform image manifest. ${lambdaError}. BuildKit/buildx adds provenance (and SBOM) attestations by default, and they turn the pushed image into an index: ${given ? `${pickOne}, or rebuild it with --provenance=false --sbom=false` : "build with --provenance=false --sbom=false, or set BUILDX_NO_DEFAULT_ATTESTATIONS=1 in the builder's environment"}.`
    )
  }
  throw fail(
    `${subject} has the manifest media type '${info.mediaType || '(none)'}'. ${lambdaError}: a Docker v2 schema 2 (${DOCKER_MANIFEST}) or OCI (${OCI_MANIFEST}) image manifest; push it with a current docker CLI.`
  )
}

/** What a manifest's answer says: digest, media type, config digest, an index's platforms. */
export function describeManifest(response: Response, body: Buffer, what: string): ManifestInfo {
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

/** A manifest exactly as the registry holds it: what a copy puts back, byte for byte. */
export interface RawManifest {
  bytes: Buffer
  /** Its media type (the Content-Type a PUT must send). */
  mediaType: string
  /** `sha256:` of the bytes: the image's digest. */
  digest: string
  info: ManifestInfo
}

/** Blob transfers may take long; the per-request limit is for calls without a body to move. */
export const TRANSFER_TIMEOUT_MS = 30 * 60_000

/**
 * GETs a manifest's exact bytes (by tag or digest); undefined when the registry does not know it.
 * A digest reference must match the bytes' sha256. Refusals name ecr:BatchGetImage.
 */
export async function readRawManifest(
  http: RegistryHttp,
  from: RegistryRepository,
  reference: string,
  grantee?: string
): Promise<RawManifest | undefined> {
  const doing = `reading the manifest ${reference} of repository '${from.repository}' on ${from.login.registry}`
  const purpose = { doing, permission: 'ecr:BatchGetImage', repository: from.repository, grantee }
  return withRetries(http.options.retryDelaysMs ?? [1000, 3000], async () => {
    const response = await send(
      http,
      from.login,
      {
        method: 'GET',
        url: `${from.repository}/manifests/${reference}`,
        headers: { Accept: MANIFEST_ACCEPT }
      },
      purpose
    )
    const body = Buffer.from(await response.arrayBuffer())
    if (response.status === 404 || parseErrors(body).some((e) => e.code === 'MANIFEST_UNKNOWN')) {
      return undefined
    }
    if (!response.ok) throw refusal(response, body, from.login, purpose)
    const info = describeManifest(response, body, `the manifest ${reference}`)
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new DeployError(
        `The registry answered ${doing} with bytes whose digest is ${digest}: refusing an image that is not the one asked for.`
      )
    }
    return { bytes: body, mediaType: info.mediaType, digest, info: { ...info, digest } }
  })
}

/**
 * GETs a blob, following the registry's redirect (ECR hands out a pre-signed S3 URL, which must
 * not get the registry's Authorization header). The answer's body is the blob, still unread.
 * Refusals name ecr:GetDownloadUrlForLayer.
 */
export async function openBlob(
  http: RegistryHttp,
  from: RegistryRepository,
  digest: string,
  grantee?: string
): Promise<Response> {
  const doing = `reading blob ${digest} of repository '${from.repository}' on ${from.login.registry}`
  const purpose = {
    doing,
    permission: 'ecr:GetDownloadUrlForLayer',
    repository: from.repository,
    grantee
  }
  let url = new URL(`${from.repository}/blobs/${digest}`, registryUrl(from.login, '', http.options))
    .href
  for (let hop = 0; hop <= 5; hop++) {
    const request = { method: 'GET', url, timeoutMs: TRANSFER_TIMEOUT_MS } as const
    const response = await send(http, from.login, request, purpose)
    const location = response.headers.get('location')
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.body?.cancel()
      url = new URL(location, url).href
      continue
    }
    if (response.ok) return response
    throw refusal(response, Buffer.from(await response.arrayBuffer()), from.login, purpose)
  }
  throw new DeployError(`Too many redirects when ${doing}.`)
}

/** The architecture an image's config blob names (`amd64`, `arm64`); '' when it names none. */
export async function readImageArchitecture(
  http: RegistryHttp,
  from: RegistryRepository,
  configDigest: string,
  grantee?: string
): Promise<string> {
  const response = await withRetries(http.options.retryDelaysMs ?? [1000, 3000], () =>
    openBlob(http, from, configDigest, grantee)
  )
  const config = parseJson(Buffer.from(await response.arrayBuffer()))
  if (!isRecord(config)) {
    throw new DeployError(
      `The image config ${configDigest} in repository '${from.repository}' on ${from.login.registry} is not JSON.`
    )
  }
  return typeof config['architecture'] === 'string' ? config['architecture'] : ''
}
