/**
 * The core scenarios on the engine the world runs (LOCAL_WORLD_ENGINE: legacy, buildkit or
 * containerd): create, update, the no-op redeploy, a missing label, review then execute, the
 * architecture check. The pushed image is checked through the registry's HTTP API: a
 * single-platform manifest Lambda accepts, the label in its config, the digest the action reported.
 */
import { describe, expect, it } from '@jest/globals'
import { type ActionRun } from '../../local/action-runner.mjs'
import {
  deploy,
  describeStackCli,
  expectSuccess,
  logOf,
  registryCatalog,
  registryDigest,
  registryGet,
  stackParameter,
  useWorld,
  worldEnv
} from './world.js'

const engine = process.env['LOCAL_WORLD_ENGINE'] ?? 'legacy'
const bucket = 'engine-artifacts'
const unique = `${engine}-${Date.now().toString(36)}`
const stackName = `engine-${unique}`
const SINGLE = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json'
]
const ACCEPT_ALL = [
  ...SINGLE,
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json'
].join(', ')

/** The manifest and config the registry serves for spartaoci:<tag>. */
async function pushedImage(tag: string): Promise<{
  mediaType: string
  digest: string | null
  config: { architecture?: string; os?: string; config?: { Labels?: Record<string, string> } }
}> {
  const response = await registryGet(`/v2/spartaoci/manifests/${tag}`, ACCEPT_ALL)
  expect(response.status).toBe(200)
  const manifest = (await response.json()) as { mediaType?: string; config?: { digest: string } }
  const mediaType = manifest.mediaType ?? response.headers.get('content-type') ?? ''
  const blob = await registryGet(`/v2/spartaoci/blobs/${manifest.config?.digest ?? 'none'}`)
  expect(blob.status).toBe(200)
  return {
    mediaType,
    digest: response.headers.get('docker-content-digest'),
    config: (await blob.json()) as never
  }
}

/** What every build on this engine must show in the log. */
function expectBuilder(run: ActionRun): void {
  const log = logOf(run)
  if (engine === 'legacy') {
    expect(log).toContain('DEPRECATED: The legacy builder is deprecated')
  } else {
    // BuildKit through buildx: no legacy builder, single-platform output asked for.
    expect(log).not.toContain('DEPRECATED: The legacy builder')
    expect(log).toMatch(/\[command\]\S*docker build .*--provenance=false --sbom=false/)
  }
}

useWorld(bucket)

describe(`the core scenarios on the ${engine} engine`, () => {
  it('creates the stack; the registry holds a single-platform image with the label', async () => {
    const run = await deploy({ bucket, 'stack-name': stackName, 'build-id': `${unique}-1` })
    expectSuccess(run)
    expectBuilder(run)
    const image = await pushedImage(`${unique}-1`)
    expect(SINGLE).toContain(image.mediaType)
    expect(image.digest).toBe(run.outputs['image-digest'])
    expect(image.config.architecture).toBe('amd64')
    expect(image.config.os).toBe('linux')
    expect(image.config.config?.Labels?.['io.sparta.ecr-name']).toBe(
      `${worldEnv().LOCAL_REGISTRY_HOST}/spartaoci:${unique}-1`
    )
    expect(stackParameter(stackName, 'CodeImageURI')).toBe(run.outputs['image-uri-pinned'])
  })

  it('updates the stack with a new build; BuildKit engines keep a build cache', async () => {
    const run = await deploy({ bucket, 'stack-name': stackName, 'build-id': `${unique}-2` })
    expectSuccess(run)
    expectBuilder(run)
    const image = await pushedImage(`${unique}-2`)
    expect(SINGLE).toContain(image.mediaType)
    expect(image.digest).toBe(run.outputs['image-digest'])
    expect(stackParameter(stackName, 'CodeImageURI')).toBe(run.outputs['image-uri-pinned'])
    const cacheRef = `${worldEnv().LOCAL_REGISTRY_HOST}/spartaoci:oci-stack-deploy-cache`
    if (engine === 'containerd') {
      // The containerd store exports caches: a registry cache next to the images.
      expect(logOf(run)).toContain(`build cache: registry, ${cacheRef}`)
      expect(await registryDigest('spartaoci', 'oci-stack-deploy-cache')).not.toBeNull()
    } else if (engine === 'buildkit') {
      // The docker driver on the classic store: the inline cache, read from the running image.
      expect(logOf(run)).toContain('build cache: inline, reusing ')
      expect(logOf(run)).toMatch(/--cache-to type=inline/)
    } else {
      expect(logOf(run)).toContain('build cache: none (the legacy builder exports no cache)')
    }
  })

  it('redeploys the same build as a no-op: nothing pushed, no stack update', async () => {
    const before = describeStackCli(stackName)
    const run = await deploy({ bucket, 'stack-name': stackName, 'build-id': `${unique}-2` })
    expectSuccess(run)
    expect(logOf(run)).toContain(`${run.outputs['image-uri']} already holds this image`)
    expect(logOf(run)).not.toContain('[command]docker push')
    expect(logOf(run)).toContain(`No changes: stack ${stackName} already matches`)
    expect(run.outputs['stack-status']).toBe(before.StackStatus)
    expect(await registryDigest('spartaoci', `${unique}-2`)).toBe(run.outputs['image-digest'])
  })

  it('reviews a change set, then executes it', async () => {
    const review = await deploy({
      bucket,
      'stack-name': stackName,
      'build-id': `${unique}-3`,
      mode: 'review'
    })
    expectSuccess(review)
    expect(review.outputs['has-changes']).toBe('true')
    const executed = await deploy({
      'stack-name': stackName,
      'execute-change-set': review.outputs['change-set-id'] as string
    })
    expectSuccess(executed)
    expect(stackParameter(stackName, 'CodeImageURI')).toBe(review.outputs['image-uri-pinned'])
  })

  it('fails on an image without the label and pushes nothing', async () => {
    const before = await registryCatalog()
    const run = await deploy({
      dockerfile: '__fixtures__/services/no-label/Dockerfile',
      bucket,
      'stack-name': `nolabel-${unique}`,
      'build-id': `${unique}-nolabel`
    })
    expect(run.exitCode).toBe(1)
    expect(logOf(run)).toContain("::error::The built image has no 'io.sparta.ecr-name' label")
    expect(await registryCatalog()).toEqual(before)
  })

  it('refuses an arm64 function for an x86_64 image before pushing anything', async () => {
    const run = await deploy({
      bucket,
      'stack-name': `arch-${unique}`,
      'build-id': `${unique}-arch`,
      template: '__fixtures__/integration/arm64-template.yaml'
    })
    expect(run.exitCode).toBe(1)
    expect(logOf(run)).toMatch(/::error::.*HelloFunction.*arm64/)
    expect(await registryDigest('spartaoci', `${unique}-arch`)).toBeNull()
  })
})
