/**
 * release-inputs.ts: `image`, `repository`, `regions` and the per-region `bucket`, each rule with
 * its exact message.
 */
import { describe, expect, it } from '@jest/globals'
import { createRawInputs, inputError } from '../../__fixtures__/inputs.js'
import type { RawInputs } from '../../src/inputs/raw.js'
import {
  bucketFor,
  checkRegionalBucket,
  readImage,
  readRegions,
  readRepository
} from '../../src/inputs/release.js'

const DIGEST = `sha256:${'b'.repeat(64)}`
const BY_DIGEST = `111122223333.dkr.ecr.us-east-1.amazonaws.com/team/hello@${DIGEST}`
const BY_TAG = '111122223333.dkr.ecr.us-east-1.amazonaws.com/team/hello:v1.2.3'
const FORMS =
  "<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex digits> (the 'image-uri-pinned' output of an earlier run) or <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>"

/** Raw inputs of a promote: `image` set, no dockerfile. */
function raw(overrides: Partial<RawInputs> = {}): RawInputs {
  return createRawInputs({ dockerfile: '', image: BY_DIGEST, ...overrides })
}

describe('readImage', () => {
  it('is undefined without image', () => {
    expect(readImage(createRawInputs())).toBeUndefined()
  })

  it('reads an image by digest', () => {
    expect(readImage(raw())).toEqual({
      uri: BY_DIGEST,
      host: '111122223333.dkr.ecr.us-east-1.amazonaws.com',
      accountId: '111122223333',
      region: 'us-east-1',
      repository: 'team/hello',
      digest: DIGEST
    })
  })

  it('reads an image by tag (resolved later, once)', () => {
    expect(readImage(raw({ image: ` ${BY_TAG}\n` }))).toEqual({
      uri: BY_TAG,
      host: '111122223333.dkr.ecr.us-east-1.amazonaws.com',
      accountId: '111122223333',
      region: 'us-east-1',
      repository: 'team/hello',
      tag: 'v1.2.3'
    })
  })

  it('reads a China region registry', () => {
    expect(
      readImage(raw({ image: `111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/app@${DIGEST}` }))
    ).toMatchObject({ region: 'cn-north-1', repository: 'app' })
  })

  it.each([
    ['docker.io/library/nginx:latest'],
    ['public.ecr.aws/lambda/provided:al2023'],
    ['111122223333.dkr.ecr.us-east-1.amazonaws.com/team/hello'],
    ['111122223333.dkr.ecr.us-east-1.amazonaws.com.cn/app:v1'],
    ['hello:v1']
  ])('refuses %s, naming the forms it takes', (image) => {
    expect(inputError(() => readImage(raw({ image })))).toBe(
      `Input 'image' ('${image}') is not an image in a private ECR registry: give ${FORMS}.`
    )
  })

  it('refuses an invalid repository name', () => {
    const image = '111122223333.dkr.ecr.us-east-1.amazonaws.com/a:v1'
    expect(inputError(() => readImage(raw({ image })))).toBe(
      `Input 'image' ('${image}') has an invalid ECR repository name 'a': use 2-256 lower-case letters, digits and the separators '.', '_', '-', '/'.`
    )
  })

  it('refuses dockerfile and code-archive beside it', () => {
    expect(inputError(() => readImage(raw({ dockerfile: 'service/Dockerfile' })))).toBe(
      "Inputs 'image' and 'dockerfile' are both set: 'image' deploys an image that is already in ECR, 'dockerfile' builds a new one; give only one of them."
    )
    expect(inputError(() => readImage(raw({ 'code-archive': 'fn.zip' })))).toBe(
      "Inputs 'image' and 'code-archive' are both set: 'image' deploys a container image, 'code-archive' a zip package; give only one of them."
    )
  })

  it.each(['context', 'binary', 'build-args', 'platform', 'target', 'cache-from'] as const)(
    'refuses the build input %s beside it',
    (name) => {
      expect(inputError(() => readImage(raw({ [name]: 'x' })))).toBe(
        `Input '${name}' shapes a build, and with 'image' nothing is built (the image's architecture is read from the registry): remove '${name}'.`
      )
    }
  )
})

describe('readRepository', () => {
  const image = readImage(raw())

  it("defaults to the source's repository", () => {
    expect(readRepository(raw(), image)).toBe('team/hello')
  })

  it('takes another repository', () => {
    expect(readRepository(raw({ repository: ' prod/hello ' }), image)).toBe('prod/hello')
  })

  it('refuses an invalid name', () => {
    expect(inputError(() => readRepository(raw({ repository: 'Prod' }), image))).toBe(
      "Input 'repository' ('Prod') has an invalid ECR repository name 'Prod': use 2-256 lower-case letters, digits and the separators '.', '_', '-', '/'."
    )
  })

  it('is refused without image (a build goes where its label says)', () => {
    expect(inputError(() => readRepository(createRawInputs({ repository: 'x1' }), undefined))).toBe(
      "Input 'repository' names the target repository of a promoted 'image'; a built image goes to the repository its label names: remove 'repository', or set 'image'."
    )
    expect(readRepository(createRawInputs(), undefined)).toBe('')
  })
})

describe('readRegions', () => {
  const env = {}

  it('is just region without regions', () => {
    expect(readRegions(createRawInputs({ region: 'eu-west-1' }), env)).toEqual({
      region: 'eu-west-1',
      regions: ['eu-west-1']
    })
  })

  it('takes a comma- and newline-separated list; the first is the region', () => {
    const parsed = readRegions(
      createRawInputs({ region: '', regions: 'us-east-1, eu-west-1\nap-southeast-2\n' }),
      env
    )
    expect(parsed).toEqual({
      region: 'us-east-1',
      regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2']
    })
  })

  it('accepts region when it is one of them', () => {
    const parsed = readRegions(
      createRawInputs({ region: 'eu-west-1', regions: 'us-east-1, eu-west-1' }),
      env
    )
    expect(parsed.region).toBe('us-east-1')
  })

  it('refuses a region that is not one of them', () => {
    expect(
      inputError(() =>
        readRegions(
          createRawInputs({ region: 'eu-central-1', regions: 'us-east-1,eu-west-1' }),
          env
        )
      )
    ).toBe(
      "Input 'region' (eu-central-1) is not one of 'regions' (us-east-1, eu-west-1): leave 'region' empty or list it in 'regions'; the first listed region is where the image is built and pushed."
    )
  })

  it('refuses a bad region name and a duplicate', () => {
    expect(
      inputError(() =>
        readRegions(createRawInputs({ region: '', regions: 'us-east-1, Europe' }), env)
      )
    ).toBe(
      "Input 'regions' has 'Europe', which is not an AWS region name such as us-east-1 or eu-west-2."
    )
    expect(
      inputError(() =>
        readRegions(
          createRawInputs({ region: '', regions: 'us-east-1\neu-west-1\nus-east-1' }),
          env
        )
      )
    ).toBe("Input 'regions' lists us-east-1 twice: list each region once.")
  })
})

describe('buckets per region', () => {
  it('replaces every {region}', () => {
    expect(bucketFor('artifacts-{region}', 'eu-west-1')).toBe('artifacts-eu-west-1')
    expect(bucketFor('{region}.art.{region}', 'us-east-1')).toBe('us-east-1.art.us-east-1')
    expect(bucketFor('artifacts', 'us-east-1')).toBe('artifacts')
  })

  it('refuses one bucket for several regions, saying how to fix it', () => {
    expect(() =>
      checkRegionalBucket('artifacts-{region}', ['us-east-1', 'eu-west-1'])
    ).not.toThrow()
    expect(() => checkRegionalBucket('artifacts', ['us-east-1'])).not.toThrow()
    expect(inputError(() => checkRegionalBucket('artifacts', ['us-east-1', 'eu-west-1']))).toBe(
      "Input 'bucket' ('artifacts') names one bucket, but 'regions' lists 2 regions and a bucket is in one region (CloudFormation reads the template from the stack's region): put {region} in the name, e.g. 'artifacts-{region}', with one bucket per region."
    )
  })
})
