/**
 * Lifecycle policies on the world's repositories (moto stores them, never runs them; the
 * registries' pushes reach moto's ECR through the world's mirror): a rule that would expire the
 * deployed image is a warning, or a refusal before any write; 'protect-images' adds its keep rule
 * beside the user's, and after two deploys the live and previous digests carry their tags and the
 * evaluator expires neither; an immutable repository gets unique tags; a promote into another
 * account's repository is protected there too.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createBucket, credentialsEnv, runAction } from '../../local/action-runner.mjs'
import { keepRule } from '../../src/rules/image-protection.js'
import { evaluateLifecycle, type LifecyclePolicy } from '../../src/rules/lifecycle.js'
import {
  accountBCredentials,
  awsCli,
  deploy,
  expectSuccess,
  logOf,
  registryDigest,
  root,
  useWorld,
  type CliTarget
} from './world.js'

const bucket = 'integration-lifecycle'
const unique = Date.now().toString(36)
const repository = 'spartaoci'
const stackName = `keep-${unique}`
const USER_RULE = {
  rulePriority: 10,
  description: 'expire any image after a day',
  selection: { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 },
  action: { type: 'expire' }
}

/** An archive rule (moto accepts it through the launcher's patch 9). */
const ARCHIVE_RULE = {
  rulePriority: 20,
  description: 'archive images not pulled for 90 days',
  selection: {
    tagStatus: 'any',
    countType: 'sinceImagePulled',
    countUnit: 'days',
    countNumber: 90
  },
  action: { type: 'transition', targetStorageClass: 'archive' }
}

interface Image {
  imageDigest: string
  imageTags?: string[]
  imagePushedAt: number | string
}

useWorld(bucket)

function putPolicy(repo: string, policy: unknown, target: CliTarget = {}): void {
  awsCli(
    [
      'ecr',
      'put-lifecycle-policy',
      '--repository-name',
      repo,
      '--lifecycle-policy-text',
      JSON.stringify(policy)
    ],
    target
  )
}

function policyOf(repo: string, target: CliTarget = {}): LifecyclePolicy {
  const read = awsCli(['ecr', 'get-lifecycle-policy', '--repository-name', repo], target) as {
    lifecyclePolicyText: string
  }
  return JSON.parse(read.lifecyclePolicyText) as LifecyclePolicy
}

/** The repository's images once `ready` holds (the mirror records pushes asynchronously). */
async function imagesWhen(
  repo: string,
  ready: (images: Image[]) => boolean,
  target: CliTarget = {}
): Promise<Image[]> {
  let images: Image[] = []
  for (let i = 0; i < 50; i += 1) {
    images = (
      awsCli(['ecr', 'describe-images', '--repository-name', repo], target) as {
        imageDetails: Image[]
      }
    ).imageDetails
    if (ready(images)) return images
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return images
}

const tagged = (images: Image[], tag: string) =>
  images.find((i) => i.imageTags?.includes(tag))?.imageDigest

beforeAll(() => {
  try {
    awsCli(['ecr', 'create-repository', '--repository-name', repository])
  } catch {
    // already there (another file's deploy created it)
  }
  putPolicy(repository, { rules: [USER_RULE] })
})

// Other files deploy into the same repository: leave it without a policy.
afterAll(() => {
  awsCli(['ecr', 'delete-lifecycle-policy', '--repository-name', repository])
})

describe('lifecycle rules and the images a stack needs', () => {
  it('warns with the rule named when a rule would expire the image being deployed', async () => {
    const run = await deploy({ bucket, 'stack-name': stackName, 'build-id': `lc-1-${unique}` })
    expectSuccess(run)
    expect(logOf(run)).toContain(
      `Lifecycle rule 10 "expire any image after a day" of ECR repository ${repository} (us-east-1) would expire (delete) the image being deployed`
    )
    expect(logOf(run)).toContain(JSON.stringify(keepRule(stackName, 1)))
  })

  it("refuses before any write with 'fail-on-expirable-image'", async () => {
    const build = `lc-2-${unique}`
    const run = await deploy({
      bucket,
      'stack-name': stackName,
      'build-id': build,
      'fail-on-expirable-image': 'true'
    })
    expect(run.exitCode).not.toBe(0)
    expect(logOf(run)).toContain("'fail-on-expirable-image' is on, so nothing was written.")
    expect(logOf(run)).toContain('the rollback target')
    expect(await registryDigest(repository, build)).toBeNull()
  })

  it("with 'protect-images': the keep rule beside the user's, live and previous tagged, neither expired", async () => {
    const first = await deploy({
      bucket,
      'stack-name': stackName,
      'build-id': `lc-3-${unique}`,
      'protect-images': 'true'
    })
    expectSuccess(first)
    expect(policyOf(repository)).toEqual({ rules: [keepRule(stackName, 1), USER_RULE] })
    const second = await deploy({
      bucket,
      'stack-name': stackName,
      'build-id': `lc-4-${unique}`,
      'protect-images': 'true'
    })
    expectSuccess(second)
    expect(logOf(second)).not.toContain('Lifecycle rule')
    expect(policyOf(repository)).toEqual({ rules: [keepRule(stackName, 1), USER_RULE] })

    const live = second.outputs['image-digest']
    const previous = first.outputs['image-digest']
    const images = await imagesWhen(
      repository,
      (i) =>
        tagged(i, `${stackName}--live`) === live && tagged(i, `${stackName}--previous`) === previous
    )
    expect(tagged(images, `${stackName}--live`)).toBe(live)
    expect(tagged(images, `${stackName}--previous`)).toBe(previous)
    // A year from now the user's rule has expired every other image, and neither of these.
    const later = Date.now() + 365 * 86_400_000
    const expired = evaluateLifecycle(
      policyOf(repository),
      images.map((i) => ({
        digest: i.imageDigest,
        tags: i.imageTags ?? [],
        pushedAt: new Date(
          typeof i.imagePushedAt === 'number' ? i.imagePushedAt * 1000 : i.imagePushedAt
        ).getTime()
      })),
      later
    ).map((a) => a.digest)
    expect(expired).not.toContain(live)
    expect(expired).not.toContain(previous)
    expect(expired.length).toBeGreaterThan(0)
  })

  it('gives unique tags in an immutable repository', async () => {
    const target = `immutable-${unique}`
    awsCli([
      'ecr',
      'create-repository',
      '--repository-name',
      target,
      '--image-tag-mutability',
      'IMMUTABLE'
    ])
    putPolicy(target, { rules: [USER_RULE, ARCHIVE_RULE] })
    const source = await imagesWhen(
      repository,
      (i) => tagged(i, `${stackName}--live`) !== undefined
    )
    const digest = tagged(source, `${stackName}--live`) ?? ''
    const { LOCAL_REGISTRY_HOST } = process.env
    const promoteStack = `promo-${unique}`
    const run = await runAction(root, {
      template: 'examples/hello/template.yaml',
      bucket,
      'stack-name': promoteStack,
      'build-id': `p1-${unique}`,
      image: `${LOCAL_REGISTRY_HOST}/${repository}@${digest}`,
      repository: target,
      'protect-images': 'true'
    })
    expectSuccess(run)
    const images = await imagesWhen(
      target,
      (i) => tagged(i, `${promoteStack}--live-p1-${unique}`) !== undefined
    )
    expect(tagged(images, `${promoteStack}--live-p1-${unique}`)).toBe(digest)
    expect(policyOf(target)).toEqual({
      rules: [keepRule(promoteStack, 1), USER_RULE, ARCHIVE_RULE]
    })
  })
  it("promotes into another account's repository and protects the image there", async () => {
    const credentials = await accountBCredentials()
    const inB = { credentials }
    const target = `keep-b-${unique}`
    const bucketB = `integration-lifecycle-b-${unique}`
    await createBucket(bucketB, { credentials })
    awsCli(['ecr', 'create-repository', '--repository-name', target], inB)
    putPolicy(target, { rules: [USER_RULE] }, inB)
    const source = await imagesWhen(
      repository,
      (i) => tagged(i, `${stackName}--live`) !== undefined
    )
    const digest = tagged(source, `${stackName}--live`) ?? ''
    const promoteStack = `promo-b-${unique}`
    const run = await runAction(
      root,
      {
        template: 'examples/hello/template.yaml',
        bucket: bucketB,
        'stack-name': promoteStack,
        'build-id': `pb-${unique}`,
        image: `${process.env.LOCAL_REGISTRY_HOST}/${repository}@${digest}`,
        repository: target,
        'protect-images': 'true'
      },
      { env: credentialsEnv(credentials) }
    )
    expectSuccess(run)
    expect(policyOf(target, inB)).toEqual({ rules: [keepRule(promoteStack, 1), USER_RULE] })
    const images = await imagesWhen(
      target,
      (i) => tagged(i, `${promoteStack}--live`) !== undefined,
      inB
    )
    expect(tagged(images, `${promoteStack}--live`)).toBe(digest)
  })
})
