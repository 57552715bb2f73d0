/**
 * registry/: the Registry HTTP API: manifests, the transport, copies between registries.
 * May import: rules/, base/.
 *
 * Copies an image from one registry repository to another through the registry HTTP API, without
 * docker: blobs the target holds are skipped, a blob of another repository of the same registry is
 * mounted, the others are streamed from source to target; then the manifest is put with the
 * source's exact bytes, so the digest in the target is the digest of the source.
 */
import * as log from '../base/log.js'
import { DeployError } from '../base/errors.js'
import { openBlob, TRANSFER_TIMEOUT_MS, type RawManifest } from './manifests.js'
import {
  isRecord,
  parseJson,
  refusal,
  registryUrl,
  send,
  withRetries,
  type CallPurpose,
  type RegistryHttp,
  type RegistryRepository
} from './http.js'

/** What a copy did: the bench and the log read it. */
export interface CopyStats {
  /** Blobs the target already held (nothing moved). */
  blobsPresent: number
  /** Blobs mounted from another repository of the same registry (nothing moved). */
  blobsMounted: number
  /** Blobs streamed from source to target. */
  blobsCopied: number
  /** Bytes sent to the target for those blobs. */
  bytesUploaded: number
  /** Manifests put (one per tag, or one by digest). */
  manifestsPut: number
}

/** A copy of one image. */
export interface CopyRequest {
  source: RegistryRepository
  target: RegistryRepository
  /** The source's manifest, as readRawManifest read it. */
  manifest: RawManifest
  /** Tags the target gets; none: the manifest is put by its digest only. */
  tags: string[]
  /** Who must be allowed to read the source (named when it is refused). */
  sourceGrantee?: string
}

/** A copy that has done nothing yet. */
function noStats(): CopyStats {
  return { blobsPresent: 0, blobsMounted: 0, blobsCopied: 0, bytesUploaded: 0, manifestsPut: 0 }
}

/** Blobs moved side by side. */
const PARALLEL_BLOBS = 4

/**
 * Copies the image. The same registry and repository: nothing to copy. The manifest the target
 * stores must have the source's digest, or the copy fails.
 */
export async function copyImage(http: RegistryHttp, request: CopyRequest): Promise<CopyStats> {
  const stats = noStats()
  const { source, target, manifest } = request
  const from = `${source.login.registry}/${source.repository}`
  const to = `${target.login.registry}/${target.repository}`
  if (from === to) {
    log.info(`${to} is where the image is: nothing to copy.`)
    return stats
  }
  if ((await headManifest(http, target, manifest.digest)) !== manifest.digest) {
    await copyBlobs(http, request, stats)
  } else {
    stats.blobsPresent = blobDigests(manifest).length
  }
  await putManifests(http, request, stats)
  log.info(
    `Copied ${from}@${manifest.digest} to ${to}: ${stats.blobsPresent} blob(s) already there, ${stats.blobsMounted} mounted, ${stats.blobsCopied} copied (${stats.bytesUploaded} bytes uploaded), ${stats.manifestsPut} manifest(s) put.`
  )
  return stats
}

/**
 * Puts `manifest` (already in `target`) under each tag not already on it: tagging through the
 * registry API, as the copies do. Returns how many manifests were put.
 */
export async function putTags(
  http: RegistryHttp,
  target: RegistryRepository,
  manifest: RawManifest,
  tags: string[]
): Promise<number> {
  const stats = noStats()
  await putManifests(http, { source: target, target, manifest, tags }, stats)
  return stats.manifestsPut
}

/** The config and layer digests a single-platform manifest names, each once. */
export function blobDigests(manifest: RawManifest): string[] {
  const parsed = parseJson(manifest.bytes)
  if (!isRecord(parsed)) return []
  const layers: unknown[] = Array.isArray(parsed['layers']) ? parsed['layers'] : []
  const entries = [parsed['config'], ...layers]
  const digests = entries
    .filter(isRecord)
    .map((entry) => entry['digest'])
    .filter((digest): digest is string => typeof digest === 'string')
  return [...new Set(digests)]
}

async function copyBlobs(http: RegistryHttp, request: CopyRequest, stats: CopyStats) {
  const queue = blobDigests(request.manifest)
  const delays = http.options.retryDelaysMs ?? [1000, 3000]
  const worker = async (): Promise<void> => {
    for (let digest = queue.shift(); digest !== undefined; digest = queue.shift()) {
      const blob = digest
      const result = await withRetries(delays, () => copyBlob(http, request, blob))
      if (result === 'present') stats.blobsPresent += 1
      else if (result === 'mounted') stats.blobsMounted += 1
      else {
        stats.blobsCopied += 1
        stats.bytesUploaded += result.bytes
      }
    }
  }
  await Promise.all(Array.from({ length: PARALLEL_BLOBS }, worker))
}

/** One blob: already there, mounted, or streamed (how many bytes). */
async function copyBlob(
  http: RegistryHttp,
  { source, target, sourceGrantee }: CopyRequest,
  digest: string
): Promise<'present' | 'mounted' | { bytes: number }> {
  if (await blobExists(http, target, digest)) return 'present'
  const sameRegistry = source.login.registry === target.login.registry
  const upload = await startUpload(
    http,
    target,
    sameRegistry ? { digest, from: source } : undefined
  )
  if (upload === 'mounted') return upload
  const blob = await openBlob(http, source, digest, sourceGrantee)
  return { bytes: await uploadBlob(http, target, upload, digest, blob) }
}

const targetPurpose = (
  target: RegistryRepository,
  doing: string,
  permission: string
): CallPurpose => ({
  doing: `${doing} in repository '${target.repository}' on ${target.login.registry}`,
  permission,
  repository: target.repository
})

/** The digest the target stores under `reference`; undefined when it has none. */
async function headManifest(
  http: RegistryHttp,
  target: RegistryRepository,
  reference: string
): Promise<string | undefined> {
  const purpose = targetPurpose(target, `looking up ${reference}`, 'ecr:BatchGetImage')
  return withRetries(http.options.retryDelaysMs ?? [1000, 3000], async () => {
    const response = await send(
      http,
      target.login,
      { method: 'HEAD', url: `${target.repository}/manifests/${reference}` },
      purpose
    )
    if (response.status === 404) return undefined
    if (!response.ok) throw refusal(response, Buffer.alloc(0), target.login, purpose)
    return response.headers.get('docker-content-digest')?.trim() ?? ''
  })
}

async function blobExists(
  http: RegistryHttp,
  target: RegistryRepository,
  digest: string
): Promise<boolean> {
  const purpose = targetPurpose(
    target,
    `checking for blob ${digest}`,
    'ecr:BatchCheckLayerAvailability'
  )
  const response = await send(
    http,
    target.login,
    { method: 'HEAD', url: `${target.repository}/blobs/${digest}` },
    purpose
  )
  if (response.status === 404) return false
  if (!response.ok) throw refusal(response, Buffer.alloc(0), target.login, purpose)
  return true
}

/**
 * Starts an upload, or with `mount` asks the registry to mount the blob from the source
 * repository: 201 means mounted; 202 means it started an upload instead, which is used.
 * Returns 'mounted', or the upload's URL (its `Location`, made absolute).
 */
async function startUpload(
  http: RegistryHttp,
  target: RegistryRepository,
  mount: { digest: string; from: RegistryRepository } | undefined
): Promise<'mounted' | URL> {
  const purpose = targetPurpose(target, 'starting a blob upload', 'ecr:InitiateLayerUpload')
  const query =
    mount === undefined
      ? ''
      : `?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from.repository)}`
  const url = `${target.repository}/blobs/uploads/${query}`
  const response = await send(
    http,
    target.login,
    { method: 'POST', url, body: Buffer.alloc(0) },
    purpose
  )
  const body = Buffer.from(await response.arrayBuffer())
  if (response.status === 201 && mount !== undefined) return 'mounted'
  const location = response.headers.get('location')
  if (response.status !== 202 || location === null) {
    throw response.ok
      ? new DeployError(`The registry gave no upload location when ${purpose.doing}.`)
      : refusal(response, body, target.login, purpose)
  }
  return absolute(http, target, location)
}

function absolute(http: RegistryHttp, target: RegistryRepository, location: string): URL {
  return new URL(location, registryUrl(target.login, '', http.options))
}

/**
 * Streams the blob into the upload: one PATCH carrying the whole body (a single, final chunk),
 * then PUT `?digest=` to close it. Returns the bytes sent.
 */
async function uploadBlob(
  http: RegistryHttp,
  target: RegistryRepository,
  location: URL,
  digest: string,
  blob: Response
): Promise<number> {
  let bytes = 0
  const counted = blob.body?.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength
        controller.enqueue(chunk)
      }
    })
  )
  const patch = targetPurpose(target, `uploading blob ${digest}`, 'ecr:UploadLayerPart')
  const patched = await send(
    http,
    target.login,
    {
      method: 'PATCH',
      url: location.href,
      headers: { 'Content-Type': 'application/octet-stream' },
      body: counted ?? Buffer.alloc(0),
      timeoutMs: TRANSFER_TIMEOUT_MS
    },
    patch
  )
  const patchBody = Buffer.from(await patched.arrayBuffer())
  if (patched.status !== 202 && !patched.ok) {
    throw refusal(patched, patchBody, target.login, patch)
  }
  const next = absolute(http, target, patched.headers.get('location') ?? location.href)
  next.searchParams.set('digest', digest)
  await completeUpload(http, target, next.href, digest)
  return bytes
}

async function completeUpload(
  http: RegistryHttp,
  target: RegistryRepository,
  url: string,
  digest: string
): Promise<void> {
  const purpose = targetPurpose(target, `completing blob ${digest}`, 'ecr:CompleteLayerUpload')
  const response = await send(
    http,
    target.login,
    { method: 'PUT', url, body: Buffer.alloc(0) },
    purpose
  )
  const body = Buffer.from(await response.arrayBuffer())
  if (!response.ok) throw refusal(response, body, target.login, purpose)
  const stored = response.headers.get('docker-content-digest')?.trim()
  if (stored && stored !== digest) {
    throw new DeployError(
      `The registry stored blob ${digest} as ${stored} when ${purpose.doing}: the bytes changed on the way.`
    )
  }
}

/** Puts the manifest under each tag (or its digest), skipping a tag that already holds it. */
async function putManifests(http: RegistryHttp, request: CopyRequest, stats: CopyStats) {
  const { target, manifest } = request
  const references = request.tags.length > 0 ? request.tags : [manifest.digest]
  for (const reference of references) {
    if ((await headManifest(http, target, reference)) === manifest.digest) continue
    await withRetries(http.options.retryDelaysMs ?? [1000, 3000], () =>
      putManifest(http, target, manifest, reference)
    )
    stats.manifestsPut += 1
  }
}

async function putManifest(
  http: RegistryHttp,
  target: RegistryRepository,
  manifest: RawManifest,
  reference: string
): Promise<void> {
  const purpose = targetPurpose(target, `putting manifest ${reference}`, 'ecr:PutImage')
  const response = await send(
    http,
    target.login,
    {
      method: 'PUT',
      url: `${target.repository}/manifests/${reference}`,
      headers: { 'Content-Type': manifest.mediaType },
      body: manifest.bytes
    },
    purpose
  )
  const body = Buffer.from(await response.arrayBuffer())
  if (!response.ok) throw refusal(response, body, target.login, purpose)
  const stored =
    response.headers.get('docker-content-digest')?.trim() ||
    (await headManifest(http, target, reference))
  if (stored !== manifest.digest) {
    throw new DeployError(
      `The registry stored the manifest as ${stored || 'an unknown digest'}, not ${manifest.digest}, when ${purpose.doing}: the image in ${target.login.registry}/${target.repository} would not be the one tested. Nothing was deployed from it.`
    )
  }
}
