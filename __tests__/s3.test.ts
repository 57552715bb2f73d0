import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint
} from '@aws-sdk/client-s3'
import { mockClient } from 'aws-sdk-client-mock'
import 'aws-sdk-client-mock-jest'
import { createHash } from 'node:crypto'
import { checkBucket, uploadObject, uploadTemplate } from '../src/s3.js'
import { awsError, captureStdout } from '../__fixtures__/aws.js'

const s3 = mockClient(S3Client)
const client = new S3Client({ region: 'eu-west-1' })

let stdout: ReturnType<typeof captureStdout>
beforeEach(() => {
  s3.reset()
  stdout = captureStdout()
})
afterEach(() => stdout.restore())

function location(constraint: string | null | undefined): void {
  s3.on(GetBucketLocationCommand).resolves({
    LocationConstraint: constraint as BucketLocationConstraint | undefined
  })
}

describe('checkBucket', () => {
  it.each([
    [null, 'us-east-1'],
    ['', 'us-east-1'],
    [undefined, 'us-east-1'],
    ['EU', 'eu-west-1'],
    ['ap-southeast-2', 'ap-southeast-2']
  ])('reads LocationConstraint %j as %s', async (constraint, region) => {
    location(constraint)
    s3.on(GetBucketVersioningCommand).resolves({})
    await expect(checkBucket(client, 'artifacts', region)).resolves.toEqual({
      region,
      versioningEnabled: false
    })
    expect(s3).toHaveReceivedCommandWith(GetBucketLocationCommand, { Bucket: 'artifacts' })
  })

  it('names both regions and the fix when the bucket is elsewhere', async () => {
    location('us-west-2')
    await expect(checkBucket(client, 'artifacts', 'eu-west-1')).rejects.toThrow(
      "Input 'bucket': S3 bucket 'artifacts' is in us-west-2, but the stack deploys to eu-west-1; CloudFormation needs the template in the same region: use a bucket in eu-west-1, or set 'region' to us-west-2."
    )
    expect(s3).not.toHaveReceivedCommand(GetBucketVersioningCommand)
  })

  it('says a missing bucket does not exist (NoSuchBucket)', async () => {
    s3.on(GetBucketLocationCommand).rejects(
      awsError('NoSuchBucket', 'The specified bucket does not exist')
    )
    await expect(checkBucket(client, 'artifacts', 'eu-west-1')).rejects.toThrow(
      "Input 'bucket': S3 bucket 'artifacts' does not exist: create it in eu-west-1, or fix the name."
    )
  })

  it('says access was denied (AccessDenied)', async () => {
    s3.on(GetBucketLocationCommand).rejects(awsError('AccessDenied', 'Access Denied'))
    await expect(checkBucket(client, 'artifacts', 'eu-west-1')).rejects.toThrow(
      "Input 'bucket': no access to S3 bucket 'artifacts' (s3:GetBucketLocation denied): check the bucket name and the role's S3 permissions."
    )
  })

  it('passes other errors on with the bucket named', async () => {
    s3.on(GetBucketLocationCommand).rejects(
      awsError('InternalError', 'We encountered an internal error')
    )
    await expect(checkBucket(client, 'artifacts', 'eu-west-1')).rejects.toThrow(
      "Could not check S3 bucket 'artifacts': We encountered an internal error"
    )
  })

  it.each<['Enabled' | 'Suspended', boolean, string]>([
    ['Enabled', true, 'enabled'],
    ['Suspended', false, 'off']
  ])('reads versioning %s as %s', async (status, enabled, word) => {
    location('eu-west-1')
    s3.on(GetBucketVersioningCommand).resolves({ Status: status })
    await expect(checkBucket(client, 'artifacts', 'eu-west-1')).resolves.toEqual({
      region: 'eu-west-1',
      versioningEnabled: enabled
    })
    expect(s3).toHaveReceivedCommandWith(GetBucketVersioningCommand, { Bucket: 'artifacts' })
    expect(stdout.lines()).toEqual([`S3 bucket artifacts: region eu-west-1, versioning ${word}`])
  })

  it('warns and assumes versioning off when it cannot be read', async () => {
    location('eu-west-1')
    s3.on(GetBucketVersioningCommand).rejects(awsError('AccessDenied', 'Access Denied'))
    await expect(checkBucket(client, 'artifacts', 'eu-west-1')).resolves.toEqual({
      region: 'eu-west-1',
      versioningEnabled: false
    })
    expect(stdout.lines()).toEqual([
      "::warning::Could not read the versioning of S3 bucket 'artifacts' (Access Denied); assuming it is off.",
      'S3 bucket artifacts: region eu-west-1, versioning off'
    ])
  })
})

describe('uploadTemplate', () => {
  const key = 'hello-svc/build-42/hello-svc-cftemplate.json'
  const body = Buffer.from('{"Resources":{}}')

  it('puts the template with its key and content type', async () => {
    s3.on(PutObjectCommand).resolves({})
    await uploadTemplate(client, 'artifacts', 'eu-west-1', key, body, false)
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1)
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'artifacts',
      Key: key,
      Body: body,
      ContentType: 'application/json'
    })
  })

  it('uploads YAML templates as application/yaml', async () => {
    s3.on(PutObjectCommand).resolves({})
    await uploadTemplate(client, 'artifacts', 'eu-west-1', 'svc/1/svc-cftemplate.yaml', body, false)
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { ContentType: 'application/yaml' })
  })

  it('names the version in the URL when versioning is enabled', async () => {
    s3.on(PutObjectCommand).resolves({ VersionId: 'v1+/=' })
    await expect(
      uploadTemplate(client, 'artifacts', 'eu-west-1', key, body, true)
    ).resolves.toEqual({
      key,
      url: `https://artifacts.s3.eu-west-1.amazonaws.com/${key}?versionId=v1%2B%2F%3D`,
      versionId: 'v1+/='
    })
  })

  it('leaves the version out when versioning is off, even if S3 returns one', async () => {
    s3.on(PutObjectCommand).resolves({ VersionId: 'null' })
    await expect(
      uploadTemplate(client, 'artifacts', 'eu-west-1', key, body, false)
    ).resolves.toEqual({
      key,
      url: `https://artifacts.s3.eu-west-1.amazonaws.com/${key}`
    })
  })

  it('names the object and the call when the upload fails', async () => {
    s3.on(PutObjectCommand).rejects(awsError('AccessDenied', 'Access Denied'))
    await expect(
      uploadTemplate(client, 'artifacts', 'eu-west-1', key, body, false)
    ).rejects.toThrow(`Could not upload s3://artifacts/${key} (s3:PutObject): Access Denied`)
  })
})

describe('uploadObject on a re-run', () => {
  const body = Buffer.from('Resources: {}\n')
  const md5 = `"${createHash('md5').update(body).digest('hex')}"`

  it('writes nothing when the key already holds the same bytes, and names that version', async () => {
    s3.on(HeadObjectCommand).resolves({ ETag: md5, ContentLength: body.length, VersionId: 'v7' })

    await expect(uploadObject(client, 'artifacts', 'svc/b1/t.yaml', body, true)).resolves.toEqual({
      versionId: 'v7'
    })
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand)
    // One true line: the bytes were there, nothing claims an upload.
    expect(stdout.lines()).toEqual([
      's3://artifacts/svc/b1/t.yaml already holds these bytes; not uploaded again.'
    ])
  })

  it.each([
    ['other bytes', { ETag: '"0123456789abcdef0123456789abcdef"', ContentLength: 14 }],
    ['a multipart or KMS ETag', { ETag: `"abc-2"`, ContentLength: 14 }]
  ])('uploads when the key holds %s', async (_what, head) => {
    s3.on(HeadObjectCommand).resolves(head)
    s3.on(PutObjectCommand).resolves({ VersionId: 'v8' })

    await expect(uploadObject(client, 'artifacts', 'k', body, true)).resolves.toEqual({
      versionId: 'v8'
    })
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1)
    expect(stdout.lines()).toEqual(['Uploaded s3://artifacts/k (version v8)'])
  })

  it('uploads when the key does not exist yet', async () => {
    s3.on(HeadObjectCommand).rejects(awsError('NotFound', 'Not Found'))
    s3.on(PutObjectCommand).resolves({})

    await expect(uploadObject(client, 'artifacts', 'k', body, false)).resolves.toEqual({})
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1)
    expect(stdout.lines()).toEqual(['Uploaded s3://artifacts/k'])
  })
})
