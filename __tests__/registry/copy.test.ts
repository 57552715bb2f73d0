/**
 * copyImage against two loopback registries: blobs skipped, mounted or streamed, the manifest put
 * with the source's exact bytes, and refusals that name the ECR permission and never the password.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { captureStdout } from '../../__fixtures__/aws.js'
import {
  LOOPBACK_HTTP,
  rejection,
  testImage,
  useRegistryServers,
  type RegistryServer,
  type RegistryServerOptions,
  type TestImage
} from '../../__fixtures__/registry-server.js'
import {
  blobDigests,
  copyImage,
  type CopyRequest,
  type CopyStats
} from '../../src/registry/copy.js'
import { readRawManifest, type RawManifest } from '../../src/registry/manifests.js'

const SOURCE_PASSWORD = 'source-password-71c2e0'
const TARGET_PASSWORD = 'target-password-a93b11'

const startRegistry = useRegistryServers()
let stdout: ReturnType<typeof captureStdout>

function registry(options: Partial<RegistryServerOptions> = {}): Promise<RegistryServer> {
  return startRegistry({ password: SOURCE_PASSWORD, ...options })
}

beforeEach(() => {
  stdout = captureStdout()
})

afterEach(() => {
  stdout.restore()
})

/** Stores `image` in team/hello of `server`, tagged `tags`; reads back its manifest `reference`. */
async function storeSourceImage(
  server: RegistryServer,
  image: TestImage,
  tags: string[] = [],
  reference = image.digest
): Promise<RawManifest> {
  server.store('team/hello', image, tags)
  const manifest = await readRawManifest(
    LOOPBACK_HTTP,
    { login: server.login, repository: 'team/hello' },
    reference
  )
  if (manifest === undefined) throw new Error(`no manifest ${reference}`)
  return manifest
}

function request(
  source: RegistryServer,
  target: RegistryServer,
  manifest: RawManifest,
  overrides: Partial<CopyRequest> = {}
): CopyRequest {
  return {
    source: { login: source.login, repository: 'team/hello' },
    target: { login: target.login, repository: 'hello-prod' },
    manifest,
    tags: ['v1'],
    ...overrides
  }
}

/** What copyImage reports: `counts`, every other count 0. */
function copyStats(counts: Partial<CopyStats>): CopyStats {
  return {
    blobsPresent: 0,
    blobsMounted: 0,
    blobsCopied: 0,
    bytesUploaded: 0,
    manifestsPut: 0,
    ...counts
  }
}

/** Copies `manifest` from team/hello to `repository` in the same registry. */
function copyWithin(server: RegistryServer, manifest: RawManifest, repository: string) {
  return copyImage(
    LOOPBACK_HTTP,
    request(server, server, manifest, { target: { login: server.login, repository } })
  )
}

/** The requests a registry got, as `METHOD path` without the query's random state. */
function calls(server: RegistryServer): string[] {
  return server.requests.map((r) => `${r.method} ${r.url.replace(/_state=[^&]+&?/, '')}`)
}

describe('copyImage between two registries', () => {
  it('streams each blob, puts the exact manifest bytes and keeps the digest', async () => {
    const source = await registry({ redirectBlobs: true })
    const target = await registry({ password: TARGET_PASSWORD, absoluteLocations: true })
    const image = testImage('arm64', [Buffer.alloc(300_000, 7), Buffer.from('small layer')])
    const manifest = await storeSourceImage(source, image, ['rc1'], 'rc1')

    const stats = await copyImage(LOOPBACK_HTTP, request(source, target, manifest))

    expect(stats).toEqual(
      copyStats({
        blobsCopied: 3,
        bytesUploaded: image.config.length + 300_000 + 'small layer'.length,
        manifestsPut: 1
      })
    )
    const stored = target.manifest('hello-prod', 'v1')
    expect(stored?.bytes.equals(image.manifest)).toBe(true)
    expect(stored?.mediaType).toBe(image.mediaType)
    expect(target.manifest('hello-prod', image.digest)).toBeDefined()
    for (const digest of [image.configDigest, ...image.layerDigests]) {
      expect(target.blob('hello-prod', digest)).toEqual(source.blob('team/hello', digest))
    }
    // Each upload: POST, one PATCH with the whole streamed body, PUT ?digest=.
    const uploads = target.requests.filter((r) => r.url.includes('/blobs/uploads/'))
    expect(uploads.map((r) => r.method).sort()).toEqual(
      ['PATCH', 'POST', 'PUT'].flatMap((method) => [method, method, method])
    )
    const patches = target.requests.filter((r) => r.method === 'PATCH')
    expect(patches.map((r) => r.transferEncoding)).toEqual(['chunked', 'chunked', 'chunked'])
    expect(patches.map((r) => r.contentType)).toEqual(Array(3).fill('application/octet-stream'))
    const put = target.requests.find((r) => r.url.startsWith('/v2/hello-prod/manifests/v1'))
    expect(put?.method).toBe('HEAD')
    expect(
      target.requests.filter((r) => r.method === 'PUT' && r.url.includes('/manifests/'))
    ).toEqual([expect.objectContaining({ url: '/v2/hello-prod/manifests/v1' })])
    // The pre-signed blob URLs got no Authorization header; the registry's calls all did.
    const s3 = source.requests.filter((r) => r.url.startsWith('/s3/'))
    expect(s3).toHaveLength(3)
    expect(s3.every((r) => r.authorization === undefined)).toBe(true)
    expect(target.requests.every((r) => r.authorization?.startsWith('Basic '))).toBe(true)
    expect(stdout.lines()).toContain(
      `Copied ${source.host}/team/hello@${image.digest} to ${target.host}/hello-prod: 0 blob(s) already there, 0 mounted, 3 copied (${stats.bytesUploaded} bytes uploaded), 1 manifest(s) put.`
    )
  })

  it('uploads no blob when the target already holds the image, and only adds the tag', async () => {
    const source = await registry()
    const target = await registry({ password: TARGET_PASSWORD })
    const image = testImage()
    const manifest = await storeSourceImage(source, image, ['rc1'])
    target.store('hello-prod', image, ['rc1'])
    source.requests.length = 0

    const stats = await copyImage(
      LOOPBACK_HTTP,
      request(source, target, manifest, { tags: ['v1', 'rc1'] })
    )

    expect(stats).toEqual(copyStats({ blobsPresent: 3, manifestsPut: 1 }))
    expect(calls(target)).toEqual([
      `HEAD /v2/hello-prod/manifests/${image.digest}`,
      'HEAD /v2/hello-prod/manifests/v1',
      'PUT /v2/hello-prod/manifests/v1',
      'HEAD /v2/hello-prod/manifests/rc1'
    ])
    // Nothing read from the source either.
    expect(source.requests).toEqual([])
  })

  it('skips the blobs the target has and copies the rest', async () => {
    const source = await registry()
    const target = await registry({ password: TARGET_PASSWORD })
    const base = Buffer.from('shared base layer')
    const image = testImage('amd64', [base, Buffer.from('app layer')])
    const manifest = await storeSourceImage(source, image)
    // The target repository holds the base layer and the (identical) config: an earlier version.
    target.store('hello-prod', testImage('amd64', [base]))

    const stats = await copyImage(LOOPBACK_HTTP, request(source, target, manifest, { tags: [] }))

    expect(stats).toMatchObject({ blobsPresent: 2, blobsCopied: 1, manifestsPut: 1 })
    expect(source.requests.filter((r) => r.url.includes(image.layerDigests[0] ?? ''))).toEqual([])
    expect(calls(target)).toContain(`PUT /v2/hello-prod/manifests/${image.digest}`)
  })

  it('does nothing when source and target are the same repository of the same registry', async () => {
    const source = await registry()
    const image = testImage()
    const manifest = await storeSourceImage(source, image)
    source.requests.length = 0

    const stats = await copyWithin(source, manifest, 'team/hello')

    expect(stats).toEqual(copyStats({}))
    expect(source.requests).toEqual([])
  })

  it('fails loudly when the target stores the manifest under another digest', async () => {
    const source = await registry()
    const target = await registry({
      password: TARGET_PASSWORD,
      wrongManifestDigest: `sha256:${'0'.repeat(64)}`
    })
    const image = testImage()
    const manifest = await storeSourceImage(source, image)

    await expect(copyImage(LOOPBACK_HTTP, request(source, target, manifest))).rejects.toThrow(
      `The registry stored the manifest as sha256:${'0'.repeat(64)}, not ${image.digest}, when putting manifest v1 in repository 'hello-prod' on ${target.host}: the image in ${target.host}/hello-prod would not be the one tested. Nothing was deployed from it.`
    )
  })

  it('retries a 5xx and a 429 and then succeeds', async () => {
    const source = await registry()
    const target = await registry({ password: TARGET_PASSWORD })
    const image = testImage('amd64', [Buffer.from('only layer')])
    const manifest = await storeSourceImage(source, image)
    target.faults.push(
      { method: 'PATCH', path: /blobs\/uploads/, status: 503, times: 1 },
      { method: 'PUT', path: /manifests\/v1/, status: 429, times: 1 }
    )

    const stats = await copyImage(LOOPBACK_HTTP, request(source, target, manifest))

    expect(stats).toMatchObject({ blobsCopied: 2, manifestsPut: 1 })
    expect(target.manifest('hello-prod', 'v1')?.bytes.equals(image.manifest)).toBe(true)
  })
})

describe('copyImage within one registry', () => {
  it('mounts each blob from the source repository instead of uploading it', async () => {
    const server = await registry({ mount: true })
    const image = testImage()
    const manifest = await storeSourceImage(server, image)
    server.requests.length = 0

    const stats = await copyWithin(server, manifest, 'prod/hello')

    expect(stats).toEqual(copyStats({ blobsMounted: 3, manifestsPut: 1 }))
    const posts = server.requests.filter((r) => r.method === 'POST').map((r) => r.url)
    expect(posts.sort()).toEqual(
      [image.configDigest, ...image.layerDigests]
        .map(
          (d) =>
            `/v2/prod/hello/blobs/uploads/?mount=${encodeURIComponent(d)}&from=${encodeURIComponent('team/hello')}`
        )
        .sort()
    )
    expect(server.requests.filter((r) => r.method === 'PATCH')).toEqual([])
    expect(server.manifest('prod/hello', 'v1')?.bytes.equals(image.manifest)).toBe(true)
  })

  it('uploads into the session the registry opened when it does not mount (202)', async () => {
    const server = await registry({ mount: false })
    const image = testImage('amd64', [Buffer.from('one')])
    const manifest = await storeSourceImage(server, image)

    const stats = await copyWithin(server, manifest, 'prod/hello')

    expect(stats).toMatchObject({
      blobsMounted: 0,
      blobsCopied: 2,
      bytesUploaded: 3 + image.config.length
    })
    expect(
      server.requests.filter((r) => r.method === 'POST').every((r) => r.url.includes('mount='))
    ).toBe(true)
    expect(server.blob('prod/hello', image.layerDigests[0] ?? '')).toEqual(Buffer.from('one'))
  })
})

describe('copyImage refusals', () => {
  const cases: Array<[string, 'source' | 'target', RegExp, string, string]> = [
    [
      'a source blob read',
      'source',
      /^\/v2\/team\/hello\/blobs\/sha256/,
      'GET',
      'ecr:GetDownloadUrlForLayer'
    ],
    [
      'the target blob check',
      'target',
      /^\/v2\/hello-prod\/blobs\/sha256/,
      'HEAD',
      'ecr:BatchCheckLayerAvailability'
    ],
    [
      'the upload start',
      'target',
      /^\/v2\/hello-prod\/blobs\/uploads\/$/,
      'POST',
      'ecr:InitiateLayerUpload'
    ],
    [
      'the upload part',
      'target',
      /^\/v2\/hello-prod\/blobs\/uploads\/.+/,
      'PATCH',
      'ecr:UploadLayerPart'
    ],
    [
      'the upload completion',
      'target',
      /^\/v2\/hello-prod\/blobs\/uploads\/.+digest=/,
      'PUT',
      'ecr:CompleteLayerUpload'
    ],
    ['the manifest put', 'target', /^\/v2\/hello-prod\/manifests\/v1$/, 'PUT', 'ecr:PutImage']
  ]

  it.each(cases)(
    'names the permission when %s is denied (403)',
    async (_what, side, path, method, permission) => {
      const source = await registry()
      const target = await registry({ password: TARGET_PASSWORD })
      const image = testImage('amd64', [Buffer.from('one')])
      const manifest = await storeSourceImage(source, image)
      const server = side === 'source' ? source : target
      server.faults.push({
        method,
        path,
        status: 403,
        times: 99,
        code: 'DENIED',
        message: 'not allowed'
      })

      const error = await rejection(copyImage(LOOPBACK_HTTP, request(source, target, manifest)))

      const repository = side === 'source' ? 'team/hello' : 'hello-prod'
      expect(error.message).toMatch(
        new RegExp(
          `^Access denied .* \\(HTTP 403${method === 'HEAD' ? '' : ' \\(DENIED: not allowed\\)'}\\): grant the deploy role ${permission} on repository '${repository}'\\.$`
        )
      )
      expect(error.message).not.toContain(SOURCE_PASSWORD)
      expect(error.message).not.toContain(TARGET_PASSWORD)
    }
  )

  it('says the token may have expired on a 401, without the password', async () => {
    const source = await registry()
    const target = await registry({ password: TARGET_PASSWORD })
    const image = testImage()
    const manifest = await storeSourceImage(source, image)
    const wrong = { ...target.login, password: 'stale-token-9f' }

    const error = await rejection(
      copyImage(
        LOOPBACK_HTTP,
        request(source, target, manifest, { target: { login: wrong, repository: 'hello-prod' } })
      )
    )

    expect(error.message).toBe(
      `The registry refused the login when looking up ${image.digest} in repository 'hello-prod' on ${target.host} (HTTP 401): the ECR token may have expired, or the deploy role lacks ecr:BatchGetImage on 'hello-prod'.`
    )
    expect(error.message).not.toContain('stale-token-9f')
  })

  it('names who must grant the source read when the caller says (another account)', async () => {
    const source = await registry()
    const target = await registry({ password: TARGET_PASSWORD })
    const image = testImage('amd64', [Buffer.from('one')])
    const manifest = await storeSourceImage(source, image)
    source.faults.push({ method: 'GET', path: /blobs/, status: 403, times: 9 })

    const error = await rejection(
      copyImage(
        LOOPBACK_HTTP,
        request(source, target, manifest, {
          sourceGrantee:
            'the deploy role (and the policy of repository team/hello in account 111122223333)'
        })
      )
    )

    expect(error.message).toContain(
      'grant the deploy role (and the policy of repository team/hello in account 111122223333) ecr:GetDownloadUrlForLayer'
    )
  })
})

describe('blobDigests', () => {
  it('lists the config and the layers once each', () => {
    const layer = Buffer.from('same')
    const image = testImage('amd64', [layer, layer])
    const manifest = {
      bytes: image.manifest,
      mediaType: image.mediaType,
      digest: image.digest,
      info: { digest: image.digest, mediaType: image.mediaType }
    }
    expect(blobDigests(manifest)).toEqual([image.configDigest, image.layerDigests[0]])
  })
})
