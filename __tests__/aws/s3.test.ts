import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint
} from '@aws-sdk/client-s3'
import { mockClient } from 'aws-sdk-client-mock'
import 'aws-sdk-client-mock-jest'
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { checkBucket, uploadObject, uploadTemplate } from '../../src/aws/s3.js'
import { awsError, captureStdout } from '../../__fixtures__/aws.js'

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

/** HeadBucket answers with the bucket's region (the `x-amz-bucket-region` header). */
function headRegion(region: string): void {
  s3.on(HeadBucketCommand).resolves({ BucketRegion: region })
}

/** An S3 error as the SDK throws it for a HEAD: no code, the HTTP status and the answer's headers. */
function httpError(status: number, headers: Record<string, string> = {}): Error {
  const error = Object.assign(new Error('UnknownError'), {
    name: status === 404 ? 'NotFound' : 'Unknown',
    $metadata: { httpStatusCode: status }
  })
  Object.defineProperty(error, '$response', { value: { statusCode: status, headers } })
  return error
}

describe('checkBucket', () => {
  it.each(['eu-west-1', 'us-east-1', 'ap-southeast-2', 'cn-north-1'])(
    'reads the region %s from HeadBucket and never calls GetBucketLocation',
    async (region) => {
      headRegion(region)
      s3.on(GetBucketVersioningCommand).resolves({})
      await expect(checkBucket(client, 'artifacts', region)).resolves.toEqual({
        region,
        versioningEnabled: false
      })
      expect(s3).toHaveReceivedCommandWith(HeadBucketCommand, { Bucket: 'artifacts' })
      expect(s3).not.toHaveReceivedCommand(GetBucketLocationCommand)
    }
  )

  it('names both regions and the fix when HeadBucket says the bucket is elsewhere', async () => {
    headRegion('us-west-2')
    await expect(checkBucket(client, 'artifacts', 'eu-west-1')).rejects.toThrow(
      "Input 'bucket': S3 bucket 'artifacts' is in us-west-2, but the stack deploys to eu-west-1; CloudFormation needs the template in the same region: use a bucket in eu-west-1, or set 'region' to us-west-2."
    )
    // Read side by side with HeadBucket (one round trip), but its failure is not warned about.
    expect(s3).toHaveReceivedCommandWith(GetBucketVersioningCommand, { Bucket: 'artifacts' })
    expect(stdout.lines().some((l) => l.includes('::warning::'))).toBe(false)
  })

  it.each([301, 400, 403])(
    'turns a %i naming the region in x-amz-bucket-region into the region message',
    async (status) => {
      s3.on(HeadBucketCommand).rejects(httpError(status, { 'x-amz-bucket-region': 'us-west-2' }))
      await expect(checkBucket(client, 'artifacts', 'eu-west-1')).rejects.toThrow(
        "Input 'bucket': S3 bucket 'artifacts' is in us-west-2, but the stack deploys to eu-west-1; CloudFormation needs the template in the same region: use a bucket in eu-west-1, or set 'region' to us-west-2."
      )
    }
  )

  it('goes on when HeadBucket is refused (403) but names the deploy region', async () => {
    s3.on(HeadBucketCommand).rejects(httpError(403, { 'x-amz-bucket-region': 'eu-west-1' }))
    s3.on(GetBucketVersioningCommand).resolves({ Status: 'Enabled' })
    await expect(checkBucket(client, 'artifacts', 'eu-west-1')).resolves.toEqual({
      region: 'eu-west-1',
      versioningEnabled: true
    })
    expect(s3).not.toHaveReceivedCommand(GetBucketLocationCommand)
  })

  it('says a 301 PermanentRedirect without a region header means another region', async () => {
    s3.on(HeadBucketCommand).rejects(httpError(301))
    await expect(checkBucket(client, 'artifacts', 'eu-west-1')).rejects.toThrow(
      "Input 'bucket': S3 bucket 'artifacts' is not in eu-west-1 (S3 answered 301 PermanentRedirect), but the stack deploys to eu-west-1; CloudFormation needs the template in the same region: use a bucket in eu-west-1, or set 'region' to the bucket's region."
    )
  })

  it('says a missing bucket does not exist (HeadBucket 404)', async () => {
    s3.on(HeadBucketCommand).rejects(httpError(404))
    await expect(checkBucket(client, 'artifacts', 'eu-west-1')).rejects.toThrow(
      "Input 'bucket': S3 bucket 'artifacts' does not exist: create it in eu-west-1, or fix the name."
    )
    expect(s3).not.toHaveReceivedCommand(GetBucketLocationCommand)
  })

  it('says access was denied (HeadBucket 403 without a region)', async () => {
    s3.on(HeadBucketCommand).rejects(httpError(403))
    await expect(checkBucket(client, 'artifacts', 'eu-west-1')).rejects.toThrow(
      "Input 'bucket': no access to S3 bucket 'artifacts' (s3:ListBucket denied for HeadBucket): check the bucket name and the role's S3 permissions."
    )
  })

  it('passes other HeadBucket errors on with the bucket named', async () => {
    s3.on(HeadBucketCommand).rejects(awsError('InternalError', 'We encountered an internal error'))
    await expect(checkBucket(client, 'artifacts', 'eu-west-1')).rejects.toThrow(
      "Could not check S3 bucket 'artifacts': We encountered an internal error"
    )
  })

  describe('when HeadBucket names no region (an S3-compatible store): GetBucketLocation', () => {
    beforeEach(() => {
      s3.on(HeadBucketCommand).resolves({})
    })

    it.each<[string | null | undefined, string]>([
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
  })

  it.each<['Enabled' | 'Suspended', boolean, string]>([
    ['Enabled', true, 'enabled'],
    ['Suspended', false, 'off']
  ])('reads versioning %s as %s', async (status, enabled, word) => {
    headRegion('eu-west-1')
    s3.on(GetBucketVersioningCommand).resolves({ Status: status })
    await expect(checkBucket(client, 'artifacts', 'eu-west-1')).resolves.toEqual({
      region: 'eu-west-1',
      versioningEnabled: enabled
    })
    expect(s3).toHaveReceivedCommandWith(GetBucketVersioningCommand, { Bucket: 'artifacts' })
    expect(stdout.lines()).toEqual([`S3 bucket artifacts: region eu-west-1, versioning ${word}`])
  })

  it('warns and assumes versioning off when it cannot be read', async () => {
    headRegion('eu-west-1')
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

describe('checkBucket with the real S3 client against a loopback endpoint', () => {
  let server: Server
  let answer: { status: number; headers: Record<string, string> }
  let requests: string[]
  let real: S3Client

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`)
      res.writeHead(answer.status, answer.headers)
      res.end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  beforeEach(() => {
    // This block talks to a real server: take the S3 client out of aws-sdk-client-mock's hands.
    s3.restore()
    requests = []
    real = new S3Client({
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      maxAttempts: 1
    })
  })
  afterEach(() => {
    real.destroy()
  })

  it('reads a 301 PermanentRedirect the SDK does not follow as the region message', async () => {
    answer = { status: 301, headers: { 'x-amz-bucket-region': 'ap-northeast-1' } }
    await expect(checkBucket(real, 'artifacts', 'eu-west-1')).rejects.toThrow(
      "Input 'bucket': S3 bucket 'artifacts' is in ap-northeast-1, but the stack deploys to eu-west-1; CloudFormation needs the template in the same region: use a bucket in eu-west-1, or set 'region' to ap-northeast-1."
    )
    // The versioning read goes out beside HeadBucket; nothing else follows the refusal.
    expect(requests.sort()).toEqual(['GET /artifacts/?versioning=', 'HEAD /artifacts/'])
  })

  it('says access was denied for a 403 that names no region', async () => {
    answer = { status: 403, headers: {} }
    await expect(checkBucket(real, 'artifacts', 'eu-west-1')).rejects.toThrow(
      "Input 'bucket': no access to S3 bucket 'artifacts' (s3:ListBucket denied for HeadBucket): check the bucket name and the role's S3 permissions."
    )
  })
})
