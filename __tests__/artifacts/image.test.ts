/**
 * The image artifact through run(): extra tags and digest pinning, the push skipped when the tag
 * already holds the image, the checks that make an image Lambda-ready, and cache-from.
 */
import { describe, expect, it } from '@jest/globals'
import {
  CreateChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand
} from '@aws-sdk/client-cloudformation'
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand
} from '@aws-sdk/client-ecr'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { readFileSync } from 'node:fs'
import {
  ACCOUNT,
  BUILD_AND_PUSH_COMMANDS,
  BUILD_COMMANDS,
  BUILD_ID,
  cfn,
  commands,
  createdStack,
  ecr,
  failure,
  harness,
  IMAGE_URI,
  installRunHarness,
  readOutputs,
  REGION,
  REGISTRY,
  runAction,
  s3,
  setInputs,
  STACK,
  TEMPLATE,
  useDocker,
  warnings
} from '../../__fixtures__/run-harness.js'
import {
  ARM64_TEMPLATE,
  DOCKER_V2,
  imageParameterSent,
  OCI_INDEX,
  registry,
  repositoryMissing,
  writeTemplate
} from '../../__fixtures__/run-scenarios.js'
import type { ManifestReader } from '../../src/artifacts/flow-context.js'

installRunHarness()

describe('label and repository', () => {
  it("pushes to the repository and tag of Sparta's full-URI label, read under a custom label name", async () => {
    setInputs({ 'label-name': 'com.example.ecr-name' })
    const fake = useDocker({
      labels: {
        '${SPARTA_ECR_LABEL_NAME}':
          '${AWS_ACCOUNT_ID}.dkr.ecr.${AWS_REGION}.amazonaws.com/spartaoci:${SPARTA_BUILD_ID}'
      }
    })
    await runAction()

    expect(failure()).toBeUndefined()
    expect(fake.callsOf('build')[1]?.argv).toContain('SPARTA_ECR_LABEL_NAME=com.example.ecr-name')
    expect(fake.callsOf('push').map((c) => c.argv)).toEqual([
      ['push', `${REGISTRY}/spartaoci:${BUILD_ID}`]
    ])
    expect(ecr.commandCalls(DescribeRepositoriesCommand)[0]?.args[0].input).toEqual({
      repositoryNames: ['spartaoci']
    })
    expect(readOutputs()['image-uri']).toBe(`${REGISTRY}/spartaoci:${BUILD_ID}`)
  })

  it('fails with the LABEL line to add when the image has no label, before any write', async () => {
    useDocker({ labels: {} })
    await runAction()

    expect(failure()).toBe(
      `The built image has no 'io.sparta.ecr-name' label, so there is no ECR repository to push to: add LABEL io.sparta.ecr-name="<repository>" (or ARG SPARTA_ECR_LABEL_NAME then LABEL \${SPARTA_ECR_LABEL_NAME}="<repository>") to the Dockerfile.`
    )
    expect(process.exitCode).toBe(1)
    expect(commands()).toEqual(BUILD_COMMANDS)
    expect(ecr.commandCalls(DescribeRepositoriesCommand)).toHaveLength(0)
    expect(ecr.commandCalls(CreateRepositoryCommand)).toHaveLength(0)
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
    expect(readFileSync(harness.outputFile, 'utf8')).toBe('')
  })

  it('refuses a label naming another account, without pushing', async () => {
    useDocker({
      labels: { 'io.sparta.ecr-name': `999999999999.dkr.ecr.${REGION}.amazonaws.com/hello:v1` }
    })
    await runAction()

    expect(failure()).toBe(
      `The 'io.sparta.ecr-name' label ('999999999999.dkr.ecr.${REGION}.amazonaws.com/hello:v1') names AWS account 999999999999, but the credentials belong to account ${ACCOUNT}: label the image with a bare repository name, or deploy with credentials for 999999999999.`
    )
    expect(process.exitCode).toBe(1)
    expect(commands()).not.toContain('push')
    expect(commands()).not.toContain('login')
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
  })

  it("fails naming the repository and 'create-repository' when the repository is missing", async () => {
    repositoryMissing()
    useDocker()
    await runAction()

    expect(failure()).toBe(
      `ECR repository 'hello-service' (from label io.sparta.ecr-name) does not exist in account ${ACCOUNT}, ${REGION}: create it, or set 'create-repository: true'.`
    )
    expect(process.exitCode).toBe(1)
    expect(commands()).not.toContain('push')
    expect(ecr.commandCalls(CreateRepositoryCommand)).toHaveLength(0)
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
  })

  it("creates the missing repository before the push with 'create-repository: true'", async () => {
    setInputs({ 'create-repository': 'true' })
    repositoryMissing()
    let pushesBeforeCreate = -1
    ecr.on(CreateRepositoryCommand).callsFake(() => {
      pushesBeforeCreate = harness.docker?.callsOf('push').length ?? -1
      return { repository: { repositoryName: 'hello-service' } }
    })
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(ecr.commandCalls(CreateRepositoryCommand).map((c) => c.args[0].input)).toEqual([
      { repositoryName: 'hello-service', imageScanningConfiguration: { scanOnPush: true } }
    ])
    expect(pushesBeforeCreate).toBe(0)
    expect(commands()).toContain('push')
    expect(readOutputs()['image-uri']).toBe(IMAGE_URI)
  })
})

describe('image tags and digest pinning', () => {
  it('tags and pushes each extra tag once, skipping the build id, and pins the digest', async () => {
    setInputs({ 'image-tags': `v1.2.3\n${BUILD_ID}, stable` })
    const fake = useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    const id = fake.images()[0]?.id ?? 'none'
    expect(fake.callsOf('tag').map((c) => c.argv)).toEqual([
      ['tag', id, IMAGE_URI],
      ['tag', id, `${REGISTRY}/hello-service:v1.2.3`],
      ['tag', id, `${REGISTRY}/hello-service:stable`]
    ])
    expect(fake.callsOf('push').map((c) => c.argv)).toEqual([
      ['push', IMAGE_URI],
      ['push', `${REGISTRY}/hello-service:v1.2.3`],
      ['push', `${REGISTRY}/hello-service:stable`]
    ])
    const outputs = readOutputs()
    const pinned = `${REGISTRY}/hello-service@${outputs['image-digest']}`
    expect(outputs['image-uri-pinned']).toBe(pinned)
    expect(imageParameterSent()).toBe(pinned)
    expect(harness.stdout.lines()).toEqual(
      expect.arrayContaining([
        `Tagged ${REGISTRY}/hello-service:v1.2.3`,
        `Tagged ${REGISTRY}/hello-service:stable`
      ])
    )
  })

  it("hands the template the tag URI with 'pin-digest: false'", async () => {
    setInputs({ 'pin-digest': 'false' })
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(imageParameterSent()).toBe(IMAGE_URI)
    expect(readOutputs()['image-uri']).toBe(IMAGE_URI)
  })
})

describe('push skip', () => {
  const HELD_DIGEST = `sha256:${'5e'.repeat(32)}`

  it('does not log in or push when the tag already holds the built image', async () => {
    const fake = useDocker()
    const { getManifest, reads } = registry((reference) =>
      reference === BUILD_ID
        ? {
            digest: HELD_DIGEST,
            mediaType: DOCKER_V2,
            // The config digest of the image the build made.
            configDigest: fake.images()[0]?.configDigest ?? 'none'
          }
        : undefined
    )
    await runAction({ getManifest })

    expect(failure()).toBeUndefined()
    expect(commands()).toEqual(BUILD_COMMANDS)
    expect(reads).toEqual([`hello-service:${BUILD_ID}`])
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(1)
    expect(imageParameterSent()).toBe(`${REGISTRY}/hello-service@${HELD_DIGEST}`)
    expect(readOutputs()).toMatchObject({
      'image-uri': IMAGE_URI,
      'image-digest': HELD_DIGEST,
      'image-uri-pinned': `${REGISTRY}/hello-service@${HELD_DIGEST}`
    })
    expect(harness.stdout.lines()).toContain(
      `${IMAGE_URI} already holds this image (${HELD_DIGEST}); nothing to push.`
    )
  })

  it('pushes when the tag holds another image', async () => {
    useDocker()
    const { getManifest } = registry((reference) =>
      reference === BUILD_ID
        ? { digest: HELD_DIGEST, mediaType: DOCKER_V2, configDigest: `sha256:${'77'.repeat(32)}` }
        : { digest: reference, mediaType: DOCKER_V2 }
    )
    await runAction({ getManifest })

    expect(failure()).toBeUndefined()
    expect(commands()).toEqual(BUILD_AND_PUSH_COMMANDS)
    expect(readOutputs()['image-digest']).not.toBe(HELD_DIGEST)
  })

  it('pushes and deploys with a warning when the registry cannot be read (e.g. behind a proxy)', async () => {
    useDocker()
    const unreadable: ManifestReader = async () => {
      throw new Error('fetch failed (connect ETIMEDOUT)')
    }
    await runAction({ getManifest: unreadable })

    expect(failure()).toBeUndefined()
    expect(commands()).toEqual(BUILD_AND_PUSH_COMMANDS)
    expect(warnings()).toEqual([
      `Could not read hello-service:${BUILD_ID} from the registry to see if it is already there: fetch failed (connect ETIMEDOUT)`,
      expect.stringMatching(
        /^Could not read hello-service:sha256:[a-f0-9]{64} from the registry to check Lambda accepts its media type: fetch failed \(connect ETIMEDOUT\)$/
      )
    ])
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1)
  })
})

describe('Lambda-ready image checks', () => {
  it('fails on a pushed image index, naming the attestations and the fix, before any change set', async () => {
    useDocker()
    const { getManifest } = registry((reference) =>
      reference.startsWith('sha256:')
        ? { digest: reference, mediaType: OCI_INDEX, platforms: ['linux/amd64'], attestations: 1 }
        : undefined
    )
    await runAction({ getManifest })

    expect(failure()).toBe(
      `The pushed image ${IMAGE_URI} is an image index (${OCI_INDEX}: platforms linux/amd64 plus 1 attestation manifest(s)), not a single-platform image manifest. Lambda accepts only a single-platform image manifest and would fail the deploy with "The image manifest, config or layer media type for the source image ${IMAGE_URI} is not supported". BuildKit/buildx adds provenance (and SBOM) attestations by default, and they turn the pushed image into an index: build with --provenance=false --sbom=false, or set BUILDX_NO_DEFAULT_ATTESTATIONS=1 in the builder's environment.`
    )
    expect(process.exitCode).toBe(1)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0)
  })

  it('fails on an architecture mismatch before the push, saying which side to change', async () => {
    writeTemplate(ARM64_TEMPLATE)
    useDocker()
    await runAction()

    expect(failure()).toBe(
      "Function 'HelloFunction' (AWS::Lambda::Function) runs on arm64, but the image is built for x86_64: set the function's Architectures: [x86_64] in the template, or build the image with input 'platform: linux/arm64'."
    )
    expect(process.exitCode).toBe(1)
    expect(commands()).toEqual(BUILD_COMMANDS)
    // The ECR token fetched during the build is a read; nothing was written to ECR.
    expect(ecr.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'GetAuthorizationTokenCommand'
    ])
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
  })

  it("builds for the function's arm64 with 'platform: linux/arm64'", async () => {
    writeTemplate(ARM64_TEMPLATE)
    setInputs({ platform: 'linux/arm64' })
    const fake = useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(fake.callsOf('build')[1]?.argv).toEqual(
      expect.arrayContaining(['--platform', 'linux/arm64'])
    )
    expect(commands()).toContain('push')
  })

  it('warns about a Zip function that references the image parameter, and deploys', async () => {
    writeTemplate(TEMPLATE.replace('PackageType: Image', 'PackageType: Zip'))
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(harness.stdout.lines()).toContain(
      "::warning::Function 'HelloFunction' (AWS::Lambda::Function) references the image parameter 'CodeImageURI' but has PackageType: Zip, so it cannot run the pushed image: set PackageType: Image on it."
    )
    expect(commands()).toContain('push')
  })

  it.each([
    ['BuildKit', '1', ['--provenance=false', '--sbom=false']],
    ['the legacy builder', undefined, []]
  ])('asks %s for attestation flags only when it knows them', async (_builder, buildkit, flags) => {
    const fake = useDocker()
    if (buildkit !== undefined) process.env['FAKE_DOCKER_BUILDKIT'] = buildkit
    await runAction()

    expect(failure()).toBeUndefined()
    const build = fake.callsOf('build')[1]?.argv ?? []
    const iid = build.indexOf('--iidfile')
    expect(build.slice(iid - flags.length, iid)).toEqual(flags)
    expect(build.some((arg) => /^--(provenance|sbom)/.test(arg))).toBe(flags.length > 0)
  })
})

describe('cache-from', () => {
  it('logs in and pulls the cache images before the build, which gets --cache-from', async () => {
    const cache = `${REGISTRY}/hello-service:previous`
    setInputs({ 'cache-from': cache })
    const fake = useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    // The fake refuses pulls: the build goes on without the cache image, with a warning.
    expect(warnings()).toContain(`cache-from: could not pull ${cache}; building without it.`)
    const login = fake.callsOf('login')
    const pull = fake.callsOf('pull')
    expect(pull.map((c) => c.argv)).toEqual([['pull', cache]])
    expect(pull[0]?.env['DOCKER_CONFIG']).toBe(login[0]?.env['DOCKER_CONFIG'])
    const build = fake.callsOf('build')[1]?.argv ?? []
    expect(build[build.indexOf('--cache-from') + 1]).toBe(cache)
    // One login serves the pull and the push.
    expect(login).toHaveLength(1)
    expect(commands().indexOf('pull')).toBeLessThan(commands().lastIndexOf('build'))
  })
})

describe('build cache', () => {
  const RUNNING = `${REGISTRY}/hello-service@sha256:${'ab'.repeat(32)}`
  const CACHE_REF = `${REGISTRY}/hello-service:oci-stack-deploy-cache`

  /** The stack exists and runs RUNNING (its CodeImageURI), so the cache has a repository. */
  function stackRunning(): void {
    cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({
      Stacks: [
        createdStack({
          Parameters: [
            { ParameterKey: 'CodeImageURI', ParameterValue: RUNNING },
            { ParameterKey: 'DbPassword', ParameterValue: '****' }
          ]
        })
      ]
    })
  }

  it('reads and writes the registry cache beside the running image on the containerd store, logged in first', async () => {
    stackRunning()
    const fake = useDocker({ buildkit: true, containerdStore: true })
    await runAction()

    expect(failure()).toBeUndefined()
    const build = fake.callsOf('build').find((c) => c.argv.includes('--iidfile'))
    const argv = build?.argv ?? []
    expect(argv[argv.indexOf('--cache-from') + 1]).toBe(`type=registry,ref=${CACHE_REF}`)
    expect(argv[argv.indexOf('--cache-to') + 1]).toBe(
      `type=registry,ref=${CACHE_REF},mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true`
    )
    expect(argv).not.toContain('--load')
    const login = fake.callsOf('login')
    expect(login).toHaveLength(1)
    expect(build?.dockerConfig).toBe(login[0]?.dockerConfig)
    expect(commands().indexOf('login')).toBeLessThan(commands().lastIndexOf('build'))
    expect(harness.stdout.lines()).toContain(`build cache: registry, ${CACHE_REF}`)
  })

  it('reads the cache but writes none in noop mode', async () => {
    stackRunning()
    setInputs({ mode: 'noop' })
    const fake = useDocker({ buildkit: true, containerdStore: true })
    await runAction()

    expect(failure()).toBeUndefined()
    const argv = fake.callsOf('build').find((c) => c.argv.includes('--iidfile'))?.argv ?? []
    expect(argv[argv.indexOf('--cache-from') + 1]).toBe(`type=registry,ref=${CACHE_REF}`)
    expect(argv).not.toContain('--cache-to')
  })

  it('loads the result of a docker-container builder into the engine', async () => {
    const fake = useDocker({ buildkit: true, buildxDriver: 'docker-container' })
    // As docker/setup-buildx-action leaves it: a builder selected, so buildx is asked its driver.
    process.env['BUILDX_BUILDER'] = 'builder'
    try {
      await runAction()
    } finally {
      delete process.env['BUILDX_BUILDER']
    }

    expect(failure()).toBeUndefined()
    const argv = fake.callsOf('build').find((c) => c.argv.includes('--iidfile'))?.argv ?? []
    expect(argv).toContain('--load')
    // A new stack names no image yet: the registry cache starts with the next run.
    expect(argv).not.toContain('--cache-from')
    expect(harness.stdout.lines()).toContain(
      'build cache: registry, from the next run on (the stack names no image yet)'
    )
  })
})
