/**
 * An in-process registry on loopback speaking the subset of the Docker Registry HTTP API v2 the
 * action uses: manifests (HEAD, GET, PUT by tag or digest), blobs (HEAD, GET with an optional
 * redirect to an "S3" URL that refuses the registry's Authorization header, as pre-signed S3 URLs
 * do), uploads (POST with cross-repository mount, PATCH, PUT ?digest=). Basic auth as ECR's
 * registry API takes it; every request is recorded; faults can be scripted per request. Also the
 * error a registry call rejects with.
 */
import { afterEach } from '@jest/globals'
import { createHash, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RegistryLogin } from '../src/base/registry-login.js'
import type { RegistryHttp } from '../src/registry/http.js'
import { nodeFetch } from '../src/registry/transport.js'
import { DOCKER_MANIFEST } from '../src/registry/manifests.js'

export const sha256 = (bytes: Buffer | string): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`

/** The error `promise` rejects with; the test fails if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the promise to reject')
}

/** One request as the registry saw it. */
export interface SeenRequest {
  method: string
  /** Path and query. */
  url: string
  authorization: string | undefined
  contentType: string | undefined
  transferEncoding: string | undefined
  bodyBytes: number
}

/** A scripted answer: the next `times` requests matching `method` and `path` get `status`. */
export interface Fault {
  method: string
  /** Matched against the path and query. */
  path: RegExp
  status: number
  times?: number
  /** Registry error code in the body (`DENIED`, …). */
  code?: string
  message?: string
}

export interface RegistryServerOptions {
  /** The password Basic auth must carry (user `AWS`). */
  password: string
  /** Answer a mount request by mounting (201); off: start an upload instead (202), as ECR may. */
  mount?: boolean
  /** GET blob answers 307 to an "S3" URL on the same server. */
  redirectBlobs?: boolean
  /** Upload `Location`s as absolute URLs (ECR) instead of paths (distribution). */
  absoluteLocations?: boolean
  /** Answers a manifest PUT with this digest instead of the real one (a registry that lies). */
  wrongManifestDigest?: string
}

/** A test image's parts. */
export interface TestImage {
  config: Buffer
  layers: Buffer[]
  manifest: Buffer
  mediaType: string
  digest: string
  configDigest: string
  layerDigests: string[]
}

/** A single-platform image: a config naming `architecture`, and `layers` as given. */
export function testImage(
  architecture = 'amd64',
  layers: Buffer[] = [Buffer.from('layer one'), Buffer.from('layer two')],
  mediaType = DOCKER_MANIFEST
): TestImage {
  const config = Buffer.from(JSON.stringify({ architecture, os: 'linux', config: {} }))
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        size: config.length,
        digest: sha256(config)
      },
      layers: layers.map((layer) => ({
        mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
        size: layer.length,
        digest: sha256(layer)
      }))
    })
  )
  return {
    config,
    layers,
    manifest,
    mediaType,
    digest: sha256(manifest),
    configDigest: sha256(config),
    layerDigests: layers.map(sha256)
  }
}

interface Repository {
  blobs: Map<string, Buffer>
  /** digest → bytes and media type */
  manifests: Map<string, { bytes: Buffer; mediaType: string }>
  tags: Map<string, string>
}

export interface RegistryServer {
  /** `127.0.0.1:<port>` */
  host: string
  login: RegistryLogin
  requests: SeenRequest[]
  faults: Fault[]
  /** Stores an image (its blobs and manifest) in a repository, under `tags`. */
  store(repository: string, image: TestImage, tags?: string[]): void
  /** Stores a manifest as given (an index, say) under a tag. */
  storeManifest(repository: string, bytes: Buffer, mediaType: string, tag?: string): string
  /** The blob's bytes, if the repository holds it. */
  blob(repository: string, digest: string): Buffer | undefined
  /** The manifest a tag or digest names in a repository. */
  manifest(repository: string, reference: string): { bytes: Buffer; mediaType: string } | undefined
  close(): Promise<void>
}

function registryError(res: ServerResponse, status: number, code: string, message: string) {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify({ errors: [{ code, message, detail: null }] }))
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** How the tests reach the loopback registries: the production transport over plain http, retries without waiting. */
export const LOOPBACK_HTTP: RegistryHttp = {
  fetch: nodeFetch,
  options: { scheme: 'http', retryDelaysMs: [0, 0] }
}

/**
 * Registers an afterEach that closes every registry the test started; returns the function that
 * starts one (see startRegistryServer).
 */
export function useRegistryServers(): (options: RegistryServerOptions) => Promise<RegistryServer> {
  const servers: RegistryServer[] = []
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()))
  })
  return async (options) => {
    const server = await startRegistryServer(options)
    servers.push(server)
    return server
  }
}

/** Starts a registry on 127.0.0.1 and an ephemeral port. */
export async function startRegistryServer(options: RegistryServerOptions): Promise<RegistryServer> {
  const repositories = new Map<string, Repository>()
  const uploads = new Map<string, { repository: string; data: Buffer[] }>()
  const repo = (name: string): Repository => {
    let found = repositories.get(name)
    if (found === undefined) {
      found = { blobs: new Map(), manifests: new Map(), tags: new Map() }
      repositories.set(name, found)
    }
    return found
  }
  const expected = `Basic ${Buffer.from(`AWS:${options.password}`).toString('base64')}`
  let base = ''
  let s3Base = ''
  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      res.writeHead(500)
      res.end(String(error))
    })
  })
  // Pre-signed blob URLs point at another origin, as S3's do.
  const s3: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      res.writeHead(500)
      res.end(String(error))
    })
  })

  const self: RegistryServer = {
    host: '',
    login: { registry: '', username: 'AWS', password: options.password },
    requests: [],
    faults: [],
    store(repository, image, tags = []) {
      const r = repo(repository)
      r.blobs.set(image.configDigest, image.config)
      image.layers.forEach((layer, i) => r.blobs.set(image.layerDigests[i] ?? '', layer))
      self.storeManifest(repository, image.manifest, image.mediaType)
      for (const tag of tags) r.tags.set(tag, image.digest)
    },
    storeManifest(repository, bytes, mediaType, tag) {
      const r = repo(repository)
      const digest = sha256(bytes)
      r.manifests.set(digest, { bytes, mediaType })
      if (tag !== undefined) r.tags.set(tag, digest)
      return digest
    },
    blob: (repository, digest) => repositories.get(repository)?.blobs.get(digest),
    manifest(repository, reference) {
      const r = repositories.get(repository)
      const digest = reference.startsWith('sha256:') ? reference : r?.tags.get(reference)
      return digest === undefined ? undefined : r?.manifests.get(digest)
    },
    close: async () => {
      for (const listener of [server, s3]) listener.closeAllConnections()
      await Promise.all([server, s3].map((l) => new Promise((resolve) => l.close(resolve))))
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', base)
    const body = await readBody(req)
    self.requests.push({
      method: req.method ?? '',
      url: `${url.pathname}${url.search}`,
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      transferEncoding: req.headers['transfer-encoding'],
      bodyBytes: body.length
    })
    const fault = self.faults.find(
      (f) => f.method === req.method && f.path.test(`${url.pathname}${url.search}`)
    )
    if (fault !== undefined) {
      fault.times = (fault.times ?? 1) - 1
      if (fault.times <= 0) self.faults.splice(self.faults.indexOf(fault), 1)
      registryError(res, fault.status, fault.code ?? 'DENIED', fault.message ?? 'refused')
      return
    }
    if (url.pathname.startsWith('/s3/')) return serveS3(req, res, url)
    if (req.headers.authorization !== expected) {
      registryError(res, 401, 'UNAUTHORIZED', 'authentication required')
      return
    }
    const match = /^\/v2\/(.+)\/(manifests|blobs\/uploads|blobs)\/?(.*)$/.exec(url.pathname)
    if (match === null) return registryError(res, 404, 'NAME_UNKNOWN', 'no such route')
    const [, name = '', kind, rest = ''] = match
    if (kind === 'manifests') return manifests(req, res, name, rest, body)
    if (kind === 'blobs') return blobs(req, res, name, rest)
    return uploadsRoute(req, res, url, name, rest, body)
  }

  function serveS3(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (req.headers.authorization !== undefined) {
      res.writeHead(400)
      res.end('Only one auth mechanism allowed')
      return
    }
    const [repository = '', digest = ''] = decodeURIComponent(url.pathname.slice(4)).split('@')
    const blob = self.blob(repository, digest)
    res.writeHead(blob === undefined ? 404 : 200)
    res.end(blob ?? '')
  }

  function manifests(
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    reference: string,
    body: Buffer
  ): void {
    if (req.method === 'PUT') return putManifest(res, name, reference, body)
    const found = self.manifest(name, reference)
    if (found === undefined) return registryError(res, 404, 'MANIFEST_UNKNOWN', 'unknown')
    res.writeHead(200, {
      'Content-Type': found.mediaType,
      'Docker-Content-Digest': sha256(found.bytes),
      'Content-Length': String(found.bytes.length)
    })
    res.end(req.method === 'HEAD' ? undefined : found.bytes)
  }

  function putManifest(res: ServerResponse, name: string, reference: string, body: Buffer) {
    const r = repo(name)
    const parsed = JSON.parse(body.toString('utf8')) as {
      config?: { digest: string }
      layers?: Array<{ digest: string }>
    }
    const missing = [parsed.config, ...(parsed.layers ?? [])]
      .filter((entry) => entry !== undefined)
      .find((entry) => !r.blobs.has(entry.digest))
    if (missing !== undefined) {
      return registryError(res, 400, 'BLOB_UNKNOWN', `blob ${missing.digest} unknown`)
    }
    const digest = sha256(body)
    if (reference.startsWith('sha256:') && reference !== digest) {
      return registryError(res, 400, 'DIGEST_INVALID', 'digest does not match')
    }
    const mediaType = String(res.req.headers['content-type'] ?? '')
    self.storeManifest(
      name,
      body,
      mediaType,
      reference.startsWith('sha256:') ? undefined : reference
    )
    res.writeHead(201, {
      'Docker-Content-Digest': options.wrongManifestDigest ?? digest,
      Location: `/v2/${name}/manifests/${digest}`
    })
    res.end()
  }

  function blobs(req: IncomingMessage, res: ServerResponse, name: string, digest: string): void {
    const blob = self.blob(name, digest)
    if (blob === undefined) return registryError(res, 404, 'BLOB_UNKNOWN', 'unknown blob')
    if (req.method === 'GET' && options.redirectBlobs) {
      res.writeHead(307, {
        Location: `${s3Base}/s3/${encodeURIComponent(`${name}@${digest}`)}?sig=x`
      })
      res.end()
      return
    }
    res.writeHead(200, { 'Content-Length': String(blob.length), 'Docker-Content-Digest': digest })
    res.end(req.method === 'HEAD' ? undefined : blob)
  }

  function uploadLocation(name: string, id: string): string {
    const path = `/v2/${name}/blobs/uploads/${id}?_state=${randomUUID()}`
    return options.absoluteLocations ? `${base}${path}` : path
  }

  function uploadsRoute(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    name: string,
    id: string,
    body: Buffer
  ): void {
    if (req.method === 'POST') {
      const mount = url.searchParams.get('mount')
      const from = url.searchParams.get('from')
      const source = mount && from ? self.blob(from, mount) : undefined
      if (options.mount && mount && source !== undefined) {
        repo(name).blobs.set(mount, source)
        res.writeHead(201, {
          Location: `/v2/${name}/blobs/${mount}`,
          'Docker-Content-Digest': mount
        })
        res.end()
        return
      }
      const upload = randomUUID()
      uploads.set(upload, { repository: name, data: [] })
      res.writeHead(202, { Location: uploadLocation(name, upload), Range: '0-0' })
      res.end()
      return
    }
    const upload = uploads.get(id)
    if (upload === undefined) return registryError(res, 404, 'BLOB_UPLOAD_UNKNOWN', 'unknown')
    upload.data.push(body)
    if (req.method === 'PATCH') {
      const size = upload.data.reduce((sum, part) => sum + part.length, 0)
      res.writeHead(202, {
        Location: uploadLocation(name, id),
        Range: `0-${Math.max(size - 1, 0)}`
      })
      res.end()
      return
    }
    const digest = url.searchParams.get('digest') ?? ''
    const data = Buffer.concat(upload.data)
    if (sha256(data) !== digest) return registryError(res, 400, 'DIGEST_INVALID', 'mismatch')
    uploads.delete(id)
    repo(name).blobs.set(digest, data)
    res.writeHead(201, { 'Docker-Content-Digest': digest, Location: `/v2/${name}/blobs/${digest}` })
    res.end()
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  await new Promise<void>((resolve) => s3.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  s3Base = `http://127.0.0.1:${(s3.address() as AddressInfo).port}`
  self.host = `127.0.0.1:${port}`
  self.login.registry = self.host
  base = `http://${self.host}`
  return self
}
