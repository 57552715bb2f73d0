import { describe, expect, it } from '@jest/globals'
import { InputError } from '../../src/base/errors.js'
import {
  ecrRegistryHost,
  formatDigestUri,
  formatImageUri,
  isValidTag,
  localImageTag,
  resolveImageTarget,
  sanitizeBuildId
} from '../../src/rules/image-ref.js'

const LABEL = 'io.sparta.ecr-name'
const BUILD = 'abc123'
const SCOPE = { accountId: '123456789012', region: 'us-east-1' }
const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com'

function resolve(value: string | undefined) {
  return resolveImageTarget(value, LABEL, BUILD, SCOPE)
}

function failure(value: string | undefined): InputError {
  try {
    resolve(value)
  } catch (error) {
    if (error instanceof InputError) return error
    throw error
  }
  throw new Error(`label ${JSON.stringify(value)} was accepted`)
}

describe('resolveImageTarget', () => {
  it.each([
    ['spartaoci', 'spartaoci', BUILD],
    ['spartaoci:v1', 'spartaoci', 'v1'],
    ['team/svc', 'team/svc', BUILD],
    ['team/svc:release-2.0', 'team/svc', 'release-2.0'],
    ['my_repo.name-x', 'my_repo.name-x', BUILD],
    ['  spartaoci:v1  ', 'spartaoci', 'v1'],
    [`${HOST}/spartaoci`, 'spartaoci', BUILD],
    [`${HOST}/spartaoci:${BUILD}`, 'spartaoci', BUILD],
    [`${HOST}/team/svc:v2`, 'team/svc', 'v2'],
    ['123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/svc:v3', 'svc', 'v3']
  ])('resolves %j to repository %j, tag %j', (value, repository, tag) => {
    expect(resolve(value)).toEqual({ repository, tag })
  })

  it('accepts a China-partition URI for a cn- region', () => {
    const scope = { accountId: '123456789012', region: 'cn-north-1' }
    const value = '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/svc:v1'
    expect(resolveImageTarget(value, LABEL, BUILD, scope)).toEqual({
      repository: 'svc',
      tag: 'v1'
    })
  })

  it.each([
    ['us-gov-west-1', '123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/svc:v1'],
    ['us-iso-east-1', '123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov/svc:v1'],
    ['us-isob-east-1', '123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov/svc:v1'],
    ['eu-isoe-west-1', '123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk/svc:v1'],
    ['us-isof-south-1', '123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov/svc:v1']
  ])('accepts the URI of its own partition in %s', (region, value) => {
    const scope = { accountId: '123456789012', region }
    expect(resolveImageTarget(value, LABEL, BUILD, scope)).toEqual({
      repository: 'svc',
      tag: 'v1'
    })
  })

  it("refuses a URI whose DNS suffix is not its region's partition's", () => {
    const scope = { accountId: '123456789012', region: 'cn-north-1' }
    const value = '123456789012.dkr.ecr.cn-north-1.amazonaws.com/svc:v1'
    expect(() => resolveImageTarget(value, LABEL, BUILD, scope)).toThrow(
      "The 'io.sparta.ecr-name' label ('123456789012.dkr.ecr.cn-north-1.amazonaws.com/svc:v1') names the registry '123456789012.dkr.ecr.cn-north-1.amazonaws.com'; only a private ECR repository in the deploying account (123456789012) and region (cn-north-1) is supported: set the label to '<repository>[:tag]' or '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/<repository>[:tag]'."
    )
  })

  it('names both accounts when the URI is in another account', () => {
    expect(failure('210987654321.dkr.ecr.us-east-1.amazonaws.com/spartaoci:v1').message).toBe(
      "The 'io.sparta.ecr-name' label ('210987654321.dkr.ecr.us-east-1.amazonaws.com/spartaoci:v1') names AWS account 210987654321, but the credentials belong to account 123456789012: label the image with a bare repository name, or deploy with credentials for 210987654321."
    )
  })

  it("names both regions and the 'region' input when the URI is in another region", () => {
    expect(failure('123456789012.dkr.ecr.eu-west-1.amazonaws.com/spartaoci').message).toBe(
      "The 'io.sparta.ecr-name' label ('123456789012.dkr.ecr.eu-west-1.amazonaws.com/spartaoci') names region eu-west-1, but the deploy region is us-east-1: label the image with a bare repository name, or set input 'region' to eu-west-1."
    )
  })

  it.each([
    ['public.ecr.aws/lambda/provided:al2', 'public.ecr.aws'],
    ['docker.io/library/alpine:3', 'docker.io'],
    ['ghcr.io/org/svc:v1', 'ghcr.io'],
    ['localhost:5000/svc', 'localhost:5000'],
    ['localhost/svc', 'localhost']
  ])('refuses the registry in %j', (value, registry) => {
    expect(failure(value).message).toBe(
      `The 'io.sparta.ecr-name' label ('${value}') names the registry '${registry}'; only a private ECR repository in the deploying account (123456789012) and region (us-east-1) is supported: set the label to '<repository>[:tag]' or '${HOST}/<repository>[:tag]'.`
    )
  })

  it('shows the LABEL line to add when the image has no label', () => {
    expect(failure(undefined).message).toBe(
      'The built image has no \'io.sparta.ecr-name\' label, so there is no ECR repository to push to: add LABEL io.sparta.ecr-name="<repository>" (or ARG SPARTA_ECR_LABEL_NAME then LABEL ${SPARTA_ECR_LABEL_NAME}="<repository>") to the Dockerfile.'
    )
  })

  it('uses the configured label name in the LABEL line', () => {
    expect(() => resolveImageTarget(undefined, 'com.example.repo', BUILD, SCOPE)).toThrow(
      'add LABEL com.example.repo="<repository>"'
    )
  })

  it.each(['', '   '])('says the label is empty for %j', (value) => {
    expect(failure(value).message).toBe(
      'The built image\'s \'io.sparta.ecr-name\' label is empty: set it to the ECR repository name, e.g. LABEL io.sparta.ecr-name="<repository>" (or ARG SPARTA_ECR_LABEL_NAME then LABEL ${SPARTA_ECR_LABEL_NAME}="<repository>").'
    )
  })

  it('refuses whitespace inside the value', () => {
    expect(failure('spartaoci v1').message).toBe(
      "The 'io.sparta.ecr-name' label ('spartaoci v1') contains whitespace; it must be an image reference such as 'my-service' or 'my-service:v1'."
    )
  })

  it('refuses a digest reference', () => {
    const value = `spartaoci@sha256:${'a'.repeat(64)}`
    expect(failure(value).message).toBe(
      `The 'io.sparta.ecr-name' label ('${value}') holds a digest; it must name a repository (and optionally a tag) to push to, not a digest.`
    )
  })

  it.each([
    ['SpartaOCI', 'SpartaOCI'],
    ['team/Svc:v1', 'team/Svc'],
    ['a', 'a'],
    ['-svc', '-svc'],
    ['svc-', 'svc-'],
    ['team//svc', 'team//svc'],
    [`${HOST}/Upper`, 'Upper']
  ])('refuses the repository name in %j', (value, repository) => {
    expect(failure(value).message).toBe(
      `The 'io.sparta.ecr-name' label ('${value}') has an invalid ECR repository name '${repository}': use 2-256 lower-case letters, digits and the separators '.', '_', '-', '/'.`
    )
  })

  it.each([
    ['spartaoci:', ''],
    ['spartaoci:.v1', '.v1'],
    ['spartaoci:-v1', '-v1'],
    ['spartaoci:v1+build', 'v1+build'],
    [`spartaoci:${'t'.repeat(129)}`, 't'.repeat(129)]
  ])('refuses the tag in %j', (value, tag) => {
    expect(failure(value).message).toBe(
      `The 'io.sparta.ecr-name' label ('${value}') has an invalid tag '${tag}': a tag is up to 128 letters, digits, '_', '.', '-', not starting with '.' or '-'.`
    )
  })

  it('throws InputError so run() reports it as a problem the user fixes', () => {
    expect(() => resolve('')).toThrow(InputError)
  })
})

describe('sanitizeBuildId', () => {
  it.each([
    ['0123abc', '0123abc'],
    ['feature/login', 'feature-login'],
    ['refs/heads/main', 'refs-heads-main'],
    ['..hidden', 'hidden'],
    ['-.-x', 'x'],
    ['_underscore', '_underscore'],
    ['v1.2.3-rc.1', 'v1.2.3-rc.1'],
    ['  spaced id  ', 'spaced-id'],
    ['build#42@home', 'build-42-home']
  ])('turns %j into the tag %j', (buildId, tag) => {
    expect(sanitizeBuildId(buildId)).toBe(tag)
  })

  it('cuts a 200-character id to a valid 128-character tag', () => {
    const tag = sanitizeBuildId('x'.repeat(200))
    expect(tag).toBe('x'.repeat(128))
    expect(isValidTag(tag)).toBe(true)
  })

  it.each(['', '   ', '...', '-.-'])("refuses %j, naming input 'build-id'", (buildId) => {
    expect(() => sanitizeBuildId(buildId)).toThrow(
      `Input 'build-id' ('${buildId}') has no letters or digits to make a docker tag from: use e.g. the commit SHA.`
    )
  })
})

describe('localImageTag', () => {
  it.each([
    ['hello', 'abc', 'sparta/hello:abc'],
    ['Hello-Service', 'abc', 'sparta/hello-service:abc'],
    ['MyStack-', 'v1', 'sparta/mystack:v1'],
    ['a--b', 'v1', 'sparta/a-b:v1'],
    ['---', 'v1', 'sparta/service:v1']
  ])('tags stack %j, build %j as %j', (stackName, buildTag, expected) => {
    expect(localImageTag(stackName, buildTag)).toBe(expected)
  })
})

describe('isValidTag', () => {
  it.each([
    ['latest', true],
    ['_x', true],
    ['a'.repeat(128), true],
    ['a'.repeat(129), false],
    ['.x', false],
    ['-x', false],
    ['', false],
    ['a:b', false]
  ])('%j is valid: %j', (tag, valid) => {
    expect(isValidTag(tag)).toBe(valid)
  })
})

describe('registry host and URIs', () => {
  it.each([
    ['us-east-1', '123456789012.dkr.ecr.us-east-1.amazonaws.com'],
    ['cn-northwest-1', '123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn'],
    ['us-gov-west-1', '123456789012.dkr.ecr.us-gov-west-1.amazonaws.com'],
    ['us-iso-east-1', '123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov'],
    ['us-isob-east-1', '123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov'],
    ['eu-isoe-west-1', '123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk'],
    ['us-isof-south-1', '123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov']
  ])('builds the private registry host for %s', (region, host) => {
    expect(ecrRegistryHost({ accountId: '123456789012', region })).toBe(host)
  })

  it('formats tag and digest references', () => {
    expect(formatImageUri(HOST, { repository: 'team/svc', tag: 'v1' })).toBe(`${HOST}/team/svc:v1`)
    expect(formatDigestUri(HOST, 'team/svc', 'sha256:abc')).toBe(`${HOST}/team/svc@sha256:abc`)
  })
})
