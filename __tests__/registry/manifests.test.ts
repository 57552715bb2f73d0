import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RegistryLogin } from '../../src/base/registry-login.js'
import { DeployError } from '../../src/base/errors.js'
import {
  rejection,
  startRegistryServer,
  testImage,
  type RegistryServer
} from '../../__fixtures__/registry-server.js'
import { nodeFetch } from '../../src/registry/transport.js'
import {
  checkLambdaManifest,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  getManifest,
  isSinglePlatformManifest,
  OCI_INDEX,
  openBlob,
  readImageArchitecture,
  readRawManifest,
  OCI_MANIFEST,
  type ManifestInfo
} from '../../src/registry/manifests.js'
import type { RegistryOptions } from '../../src/registry/http.js'

const PASSWORD = 'ecr-password-5d1e9a77'
const BASIC = Buffer.from(`AWS:${PASSWORD}`).toString('base64')
const REPOSITORY = 'team/hello'
const DIGEST = `sha256:${'a'.repeat(64)}`
const CONFIG_DIGEST = `sha256:${'c'.repeat(64)}`
const IMAGE_URI = `123456789012.dkr.ecr.eu-west-2.amazonaws.com/${REPOSITORY}:b1`
const FAST: RegistryOptions = { scheme: 'http', retryDelaysMs: [0, 0] }

/** What the test registry answers to the next requests, in order (the last one repeats). */
interface Answer {
  status: number
  headers?: Record<string, string>
  body: string
}

interface Received {
  method: string
  url: string
  headers: IncomingHttpHeaders
}

let server: Server
let login: RegistryLogin
let answers: Answer[]
let received: Received[]

beforeAll(async () => {
  server = createServer((req, res) => {
    received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    const answer = answers.length > 1 ? answers.shift() : answers[0]
    res.writeHead(answer?.status ?? 500, answer?.headers ?? {})
    res.end(answer?.body ?? '')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  login = { registry: `127.0.0.1:${port}`, username: 'AWS', password: PASSWORD }
})

afterAll(async () => {
  await new Promise<void>((resolve, reject) =>
    server.close((error) => (error ? reject(error) : resolve()))
  )
})

beforeEach(() => {
  answers = []
  received = []
})

function manifest(mediaType: string, extra: Record<string, string> = {}): Answer {
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: CONFIG_DIGEST },
    layers: [{ digest: `sha256:${'1'.repeat(64)}`, size: 1 }]
  })
  return {
    status: 200,
    headers: { 'Content-Type': mediaType, 'Docker-Content-Digest': DIGEST, ...extra },
    body
  }
}

const attestationEntry = {
  mediaType: OCI_MANIFEST,
  digest: `sha256:${'e'.repeat(64)}`,
  size: 566,
  annotations: {
    'vnd.docker.reference.digest': `sha256:${'b'.repeat(64)}`,
    'vnd.docker.reference.type': 'attestation-manifest'
  },
  platform: { architecture: 'unknown', os: 'unknown' }
}

function index(mediaType: string, manifests: unknown[]): Answer {
  return {
    status: 200,
    headers: { 'Content-Type': mediaType, 'Docker-Content-Digest': DIGEST },
    body: JSON.stringify({ schemaVersion: 2, mediaType, manifests })
  }
}

function registryError(status: number, code: string, message: string): Answer {
  return {
    status,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ errors: [{ code, message, detail: null }] })
  }
}

describe('getManifest', () => {
  it('asks for the manifest by digest with Basic auth and every manifest media type in Accept', async () => {
    answers = [manifest(DOCKER_MANIFEST)]
    await getManifest(login, REPOSITORY, DIGEST, nodeFetch, FAST)

    expect(received).toHaveLength(1)
    const [request] = received
    expect(request?.method).toBe('GET')
    expect(request?.url).toBe(`/v2/team/hello/manifests/${DIGEST}`)
    expect(request?.headers.authorization).toBe(`Basic ${BASIC}`)
    expect(request?.headers.accept?.split(', ')).toEqual([
      DOCKER_MANIFEST,
      OCI_MANIFEST,
      DOCKER_MANIFEST_LIST,
      OCI_INDEX
    ])
  })

  it.each([DOCKER_MANIFEST, OCI_MANIFEST])(
    'reads a single %s with its digest and config digest',
    async (mediaType) => {
      answers = [manifest(mediaType)]
      await expect(getManifest(login, REPOSITORY, 'b1', nodeFetch, FAST)).resolves.toEqual({
        digest: DIGEST,
        mediaType,
        configDigest: CONFIG_DIGEST
      })
    }
  )

  it('ignores Content-Type parameters', async () => {
    answers = [manifest(OCI_MANIFEST, { 'Content-Type': `${OCI_MANIFEST}; charset=utf-8` })]
    const info = await getManifest(login, REPOSITORY, 'b1', nodeFetch, FAST)
    expect(info?.mediaType).toBe(OCI_MANIFEST)
  })

  it('computes the digest from the body and infers an OCI manifest when the registry says neither', async () => {
    const body = JSON.stringify({
      schemaVersion: 2,
      config: { digest: CONFIG_DIGEST },
      layers: []
    })
    answers = [{ status: 200, headers: { 'Content-Type': 'application/json' }, body }]
    await expect(getManifest(login, REPOSITORY, 'b1', nodeFetch, FAST)).resolves.toEqual({
      digest: `sha256:${createHash('sha256').update(body).digest('hex')}`,
      mediaType: OCI_MANIFEST,
      configDigest: CONFIG_DIGEST
    })
  })

  it("takes the body's mediaType when Content-Type is not a manifest type", async () => {
    answers = [{ ...manifest(DOCKER_MANIFEST), headers: { 'Content-Type': 'text/plain' } }]
    const info = await getManifest(login, REPOSITORY, 'b1', nodeFetch, FAST)
    expect(info?.mediaType).toBe(DOCKER_MANIFEST)
  })

  it("lists an OCI index's platforms and counts BuildKit's attestation manifests apart", async () => {
    answers = [
      index(OCI_INDEX, [
        {
          mediaType: OCI_MANIFEST,
          digest: `sha256:${'b'.repeat(64)}`,
          size: 1234,
          platform: { architecture: 'amd64', os: 'linux' }
        },
        attestationEntry
      ])
    ]
    await expect(getManifest(login, REPOSITORY, DIGEST, nodeFetch, FAST)).resolves.toEqual({
      digest: DIGEST,
      mediaType: OCI_INDEX,
      platforms: ['linux/amd64'],
      attestations: 1
    })
  })

  it("lists a Docker manifest list's platforms with their variants", async () => {
    answers = [
      index(DOCKER_MANIFEST_LIST, [
        { mediaType: DOCKER_MANIFEST, platform: { architecture: 'amd64', os: 'linux' } },
        {
          mediaType: DOCKER_MANIFEST,
          platform: { architecture: 'arm64', os: 'linux', variant: 'v8' }
        }
      ])
    ]
    const info = await getManifest(login, REPOSITORY, DIGEST, nodeFetch, FAST)
    expect(info?.platforms).toEqual(['linux/amd64', 'linux/arm64/v8'])
    expect(info?.attestations).toBe(0)
  })

  it('returns undefined for a manifest the registry does not know (404)', async () => {
    answers = [registryError(404, 'MANIFEST_UNKNOWN', 'manifest unknown')]
    await expect(getManifest(login, REPOSITORY, DIGEST, nodeFetch, FAST)).resolves.toBeUndefined()
  })

  it('returns undefined for MANIFEST_UNKNOWN under another status', async () => {
    answers = [registryError(400, 'MANIFEST_UNKNOWN', 'manifest unknown')]
    await expect(getManifest(login, REPOSITORY, DIGEST, nodeFetch, FAST)).resolves.toBeUndefined()
  })

  it('fails on 401 naming the repository and ecr:BatchGetImage, without the credentials', async () => {
    // A registry that echoes what it was sent must not leak it into the message.
    answers = [
      registryError(401, 'UNAUTHORIZED', `bad credentials Basic ${BASIC} (password ${PASSWORD})`)
    ]
    const error = await rejection(getManifest(login, REPOSITORY, DIGEST, nodeFetch, FAST))
    expect(error).toBeInstanceOf(DeployError)
    expect(error.message).toContain(`repository '${REPOSITORY}'`)
    expect(error.message).toContain('HTTP 401')
    expect(error.message).toContain('ecr:BatchGetImage')
    expect(error.message).toContain('UNAUTHORIZED: bad credentials *** (password ***)')
    expect(error.message).not.toContain(PASSWORD)
    expect(error.message).not.toContain(BASIC)
    // 401 is not retried: the same token would be refused again.
    expect(received).toHaveLength(1)
  })

  it('fails on 403 telling to grant ecr:BatchGetImage on the repository', async () => {
    answers = [registryError(403, 'DENIED', 'not authorized to perform: ecr:BatchGetImage')]
    const error = await rejection(getManifest(login, REPOSITORY, DIGEST, nodeFetch, FAST))
    expect(error).toBeInstanceOf(DeployError)
    expect(error.message).toBe(
      `Access denied reading the manifest ${DIGEST} of repository '${REPOSITORY}' on ${login.registry} (HTTP 403 (DENIED: not authorized to perform: ecr:BatchGetImage)): grant the deploy role ecr:BatchGetImage on repository '${REPOSITORY}'.`
    )
  })

  it('retries a 5xx answer and then reads the manifest', async () => {
    answers = [{ status: 503, body: 'busy' }, manifest(OCI_MANIFEST)]
    const info = await getManifest(login, REPOSITORY, DIGEST, nodeFetch, FAST)
    expect(info?.mediaType).toBe(OCI_MANIFEST)
    expect(received).toHaveLength(2)
  })

  it('fails with the HTTP status once the retries are spent', async () => {
    answers = [{ status: 500, body: 'boom' }]
    const error = await rejection(getManifest(login, REPOSITORY, DIGEST, nodeFetch, FAST))
    expect(error).toBeInstanceOf(DeployError)
    expect(error.message).toBe(
      `Reading the manifest ${DIGEST} of repository '${REPOSITORY}' on ${login.registry} failed: HTTP 500 Internal Server Error.`
    )
    expect(received).toHaveLength(3)
  })

  it('fails on an unreachable registry with the network reason and no credentials', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as AddressInfo
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const error = await rejection(
      getManifest({ ...login, registry: `127.0.0.1:${port}` }, REPOSITORY, DIGEST, nodeFetch, {
        ...FAST,
        retryDelaysMs: []
      })
    )
    expect(error).toBeInstanceOf(DeployError)
    expect(error.message).toMatch(/^Could not read the manifest .* ECONNREFUSED/)
    expect(error.message).not.toContain(PASSWORD)
  })

  it('uses https by default and the fetch it is given', async () => {
    const urls: string[] = []
    const fakeFetch: typeof fetch = async (input) => {
      urls.push(input instanceof Request ? input.url : input.toString())
      return new Response(JSON.stringify({ mediaType: OCI_MANIFEST }), {
        status: 200,
        headers: { 'Content-Type': OCI_MANIFEST, 'Docker-Content-Digest': DIGEST }
      })
    }
    const ecrLogin = { ...login, registry: '123456789012.dkr.ecr.eu-west-2.amazonaws.com' }
    const info = await getManifest(ecrLogin, REPOSITORY, 'b1', fakeFetch)
    expect(urls).toEqual([
      'https://123456789012.dkr.ecr.eu-west-2.amazonaws.com/v2/team/hello/manifests/b1'
    ])
    expect(info).toEqual({ digest: DIGEST, mediaType: OCI_MANIFEST })
  })
})

describe('isSinglePlatformManifest', () => {
  it.each([
    [DOCKER_MANIFEST, true],
    [OCI_MANIFEST, true],
    [DOCKER_MANIFEST_LIST, false],
    [OCI_INDEX, false],
    ['application/vnd.docker.distribution.manifest.v1+prettyjws', false],
    ['', false]
  ])('%s → %s', (mediaType, expected) => {
    expect(isSinglePlatformManifest(mediaType)).toBe(expected)
  })
})

describe('checkLambdaManifest', () => {
  it.each([DOCKER_MANIFEST, OCI_MANIFEST])('accepts a single %s', (mediaType) => {
    expect(() => checkLambdaManifest({ digest: DIGEST, mediaType }, IMAGE_URI)).not.toThrow()
  })

  function messageOf(info: ManifestInfo): string {
    try {
      checkLambdaManifest(info, IMAGE_URI)
    } catch (error) {
      expect(error).toBeInstanceOf(DeployError)
      return (error as Error).message
    }
    throw new Error('expected checkLambdaManifest to throw')
  }

  it('refuses an index made by attestations, naming BuildKit and both fixes', () => {
    const message = messageOf({
      digest: DIGEST,
      mediaType: OCI_INDEX,
      platforms: ['linux/amd64'],
      attestations: 1
    })
    expect(message).toContain(
      `The pushed image ${IMAGE_URI} is an image index (${OCI_INDEX}: platforms linux/amd64 plus 1 attestation manifest(s)), not a single-platform image manifest.`
    )
    expect(message).toContain('is not supported')
    expect(message).toContain('provenance (and SBOM) attestations')
    expect(message).toContain('--provenance=false --sbom=false')
    expect(message).toContain('BUILDX_NO_DEFAULT_ATTESTATIONS=1')
  })

  it('refuses a multi-platform manifest list, telling to build one platform', () => {
    const message = messageOf({
      digest: DIGEST,
      mediaType: DOCKER_MANIFEST_LIST,
      platforms: ['linux/amd64', 'linux/arm64'],
      attestations: 0
    })
    expect(message).toContain(
      `is a multi-platform image index (${DOCKER_MANIFEST_LIST}: platforms linux/amd64, linux/arm64)`
    )
    expect(message).toContain("build one platform (input 'platform'")
  })

  it('refuses an unknown media type, naming it and the accepted ones', () => {
    const schema1 = 'application/vnd.docker.distribution.manifest.v1+prettyjws'
    const message = messageOf({ digest: DIGEST, mediaType: schema1 })
    expect(message).toContain(`has the manifest media type '${schema1}'`)
    expect(message).toContain(DOCKER_MANIFEST)
    expect(message).toContain(OCI_MANIFEST)
  })
})

describe('reading an image for a copy (readRawManifest, openBlob, readImageArchitecture)', () => {
  const HTTP = { fetch: nodeFetch, options: { scheme: 'http' as const, retryDelaysMs: [0, 0] } }
  let registryServer: RegistryServer

  beforeAll(async () => {
    registryServer = await startRegistryServer({ password: PASSWORD, redirectBlobs: true })
  })
  afterAll(async () => {
    await registryServer.close()
  })

  it('reads the exact bytes and media type by tag, and the digest of those bytes', async () => {
    const image = testImage('arm64')
    registryServer.store('team/app', image, ['v7'])
    const from = { login: registryServer.login, repository: 'team/app' }

    const manifest = await readRawManifest(HTTP, from, 'v7')

    expect(manifest?.bytes.equals(image.manifest)).toBe(true)
    expect(manifest?.mediaType).toBe(DOCKER_MANIFEST)
    expect(manifest?.digest).toBe(image.digest)
    expect(manifest?.info).toMatchObject({ digest: image.digest, configDigest: image.configDigest })
    await expect(readImageArchitecture(HTTP, from, image.configDigest)).resolves.toBe('arm64')
  })

  it('is undefined for a reference the registry does not know', async () => {
    const from = { login: registryServer.login, repository: 'team/app' }
    await expect(readRawManifest(HTTP, from, 'missing')).resolves.toBeUndefined()
  })

  it('refuses bytes that are not the digest asked for', async () => {
    const image = testImage('amd64')
    registryServer.store('team/lie', image, ['v1'])
    const wrong = `sha256:${'f'.repeat(64)}`
    const from = { login: registryServer.login, repository: 'team/lie' }
    // The registry answers a digest reference with another image's bytes.
    const lying = {
      fetch: ((input: URL, init?: RequestInit) =>
        nodeFetch(input.href.replace(wrong, image.digest), init)) as typeof fetch,
      options: HTTP.options
    }

    await expect(readRawManifest(lying, from, wrong)).rejects.toThrow(
      `The registry answered reading the manifest ${wrong} of repository 'team/lie' on ${registryServer.host} with bytes whose digest is ${image.digest}: refusing an image that is not the one asked for.`
    )
  })

  it('follows a blob redirect without the registry password', async () => {
    const image = testImage('amd64', [Buffer.from('layer bytes')])
    registryServer.store('team/blob', image)
    const response = await openBlob(
      HTTP,
      { login: registryServer.login, repository: 'team/blob' },
      image.layerDigests[0] ?? ''
    )
    expect(Buffer.from(await response.arrayBuffer()).toString()).toBe('layer bytes')
    const s3 = registryServer.requests.filter((r) => r.url.startsWith('/s3/'))
    expect(s3.at(-1)?.authorization).toBeUndefined()
  })
})
