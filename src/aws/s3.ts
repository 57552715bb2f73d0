/** S3: the artifact bucket's preconditions and the template upload. */
import * as log from '../base/log.js'
import {
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client
} from '@aws-sdk/client-s3'
import { createHash } from 'node:crypto'
import { awsErrorName, DeployError, errorMessage } from '../base/errors.js'
import { serviceHost } from '../rules/partition.js'

/** What the bucket checks found. */
export interface BucketState {
  region: string
  versioningEnabled: boolean
}

/** Where the template was uploaded. */
export interface TemplateLocation {
  key: string
  /** `https://<bucket>.s3.<region>.<partition's DNS suffix>/<key>[?versionId=…]`, as CloudFormation wants it. */
  url: string
  versionId?: string
}

/** GetBucketLocation's answer (the fallback) as a region name ('' and null mean us-east-1, 'EU' eu-west-1). */
export function normalizeBucketRegion(constraint: string | undefined | null): string {
  if (constraint === undefined || constraint === null || constraint === '') return 'us-east-1'
  if (constraint === 'EU') return 'eu-west-1'
  return constraint
}

/** What an SDK error carries about the HTTP answer behind it. */
interface HttpErrorDetails {
  status?: number
  /** `x-amz-bucket-region`: S3 sends it on 301, 400 and 403 answers too. */
  bucketRegion?: string
}

function httpDetails(error: unknown): HttpErrorDetails {
  if (error === null || typeof error !== 'object') return {}
  const { $metadata, $response } = error as {
    $metadata?: { httpStatusCode?: number }
    $response?: { statusCode?: number; headers?: Record<string, string | undefined> }
  }
  const status = $metadata?.httpStatusCode ?? $response?.statusCode
  const headers = $response?.headers ?? {}
  const region = Object.entries(headers).find(
    ([name]) => name.toLowerCase() === 'x-amz-bucket-region'
  )?.[1]
  return {
    ...(status === undefined ? {} : { status }),
    ...(region ? { bucketRegion: region } : {})
  }
}

/**
 * The bucket's region from HeadBucket (`BucketRegion`, i.e. the `x-amz-bucket-region` header),
 * which AWS recommends over GetBucketLocation: it needs only `s3:ListBucket`, and S3 names the
 * region even when it refuses the call (403) or redirects it (301 PermanentRedirect, which the SDK
 * does not follow). Undefined when the answer names no region (an S3-compatible store): then
 * GetBucketLocation decides.
 */
async function headBucketRegion(
  s3: S3Client,
  bucket: string,
  region: string
): Promise<string | undefined> {
  try {
    const head = await s3.send(new HeadBucketCommand({ Bucket: bucket }))
    return head?.BucketRegion || undefined
  } catch (error) {
    const name = awsErrorName(error)
    const { status, bucketRegion } = httpDetails(error)
    if (status === 404 || name === 'NotFound' || name === 'NoSuchBucket') {
      throw new DeployError(
        `Input 'bucket': S3 bucket '${bucket}' does not exist: create it in ${region}, or fix the name.`
      )
    }
    // The region is all this check needs; a refused HeadBucket that names it is enough.
    if (bucketRegion !== undefined) return bucketRegion
    if (status === 301 || name === 'PermanentRedirect' || name === 'MovedPermanently') {
      throw new DeployError(
        `Input 'bucket': S3 bucket '${bucket}' is not in ${region} (S3 answered 301 PermanentRedirect), but the stack deploys to ${region}; CloudFormation needs the template in the same region: use a bucket in ${region}, or set 'region' to the bucket's region.`
      )
    }
    if (status === 403 || name === 'AccessDenied' || name === 'Forbidden') {
      throw new DeployError(
        `Input 'bucket': no access to S3 bucket '${bucket}' (s3:ListBucket denied for HeadBucket): check the bucket name and the role's S3 permissions.`
      )
    }
    throw new DeployError(`Could not check S3 bucket '${bucket}': ${errorMessage(error)}`)
  }
}

/** GetBucketLocation, for a store whose HeadBucket answer names no region. */
async function locationRegion(s3: S3Client, bucket: string, region: string): Promise<string> {
  try {
    const location = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }))
    return normalizeBucketRegion(location.LocationConstraint)
  } catch (error) {
    const name = awsErrorName(error)
    if (name === 'NoSuchBucket') {
      throw new DeployError(
        `Input 'bucket': S3 bucket '${bucket}' does not exist: create it in ${region}, or fix the name.`
      )
    }
    if (name === 'AccessDenied') {
      throw new DeployError(
        `Input 'bucket': no access to S3 bucket '${bucket}' (s3:GetBucketLocation denied): check the bucket name and the role's S3 permissions.`
      )
    }
    throw new DeployError(`Could not check S3 bucket '${bucket}': ${errorMessage(error)}`)
  }
}

/** Checks the bucket exists, is in the deploy region, and reads its versioning (read only). */
export async function checkBucket(
  s3: S3Client,
  bucket: string,
  region: string
): Promise<BucketState> {
  // Side by side: the versioning read needs nothing from the region check, and is only used
  // (or warned about) once the bucket turned out to be in the right region.
  const versioning = (async (): Promise<{ enabled: boolean } | { error: unknown }> => {
    try {
      const read = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))
      return { enabled: read.Status === 'Enabled' }
    } catch (error) {
      return { error }
    }
  })()
  const bucketRegion =
    (await headBucketRegion(s3, bucket, region)) ?? (await locationRegion(s3, bucket, region))
  if (bucketRegion !== region) {
    throw new DeployError(
      `Input 'bucket': S3 bucket '${bucket}' is in ${bucketRegion}, but the stack deploys to ${region}; CloudFormation needs the template in the same region: use a bucket in ${region}, or set 'region' to ${bucketRegion}.`
    )
  }
  const read = await versioning
  const versioningEnabled = 'enabled' in read && read.enabled
  if ('error' in read) {
    log.warning(
      `Could not read the versioning of S3 bucket '${bucket}' (${errorMessage(read.error)}); assuming it is off.`
    )
  }
  log.info(
    `S3 bucket ${bucket}: region ${bucketRegion}, versioning ${versioningEnabled ? 'enabled' : 'off'}`
  )
  return { region: bucketRegion, versioningEnabled }
}

/** The template's key: stack name and build id, so an older deploy's template is never overwritten. */
export function templateKey(stackName: string, buildTag: string, format: 'json' | 'yaml'): string {
  return `${stackName}/${buildTag}/${stackName}-cftemplate.${format}`
}

/** The `TemplateURL` CloudFormation reads (virtual-hosted style; path style for dotted buckets). */
export function templateUrl(
  bucket: string,
  region: string,
  key: string,
  versionId?: string
): string {
  const host = serviceHost('s3', region)
  const path = key.split('/').map(encodeURIComponent).join('/')
  const base = bucket.includes('.')
    ? `https://${host}/${bucket}/${path}`
    : `https://${bucket}.${host}/${path}`
  return versionId === undefined ? base : `${base}?versionId=${encodeURIComponent(versionId)}`
}

/** Uploads an object; returns its version id when the bucket is versioned. */
export async function uploadObject(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Buffer,
  versioningEnabled: boolean
): Promise<{ versionId?: string }> {
  const unchanged = await sameObject(s3, bucket, key, body)
  if (unchanged !== undefined) {
    log.info(`s3://${bucket}/${key} already holds these bytes; not uploaded again.`)
    return versioningEnabled && unchanged.versionId !== undefined
      ? { versionId: unchanged.versionId }
      : {}
  }
  try {
    const result = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: contentType(key)
      })
    )
    log.info(
      `Uploaded s3://${bucket}/${key}${result.VersionId ? ` (version ${result.VersionId})` : ''}`
    )
    return versioningEnabled && result.VersionId !== undefined
      ? { versionId: result.VersionId }
      : {}
  } catch (error) {
    throw new DeployError(
      `Could not upload s3://${bucket}/${key} (s3:PutObject): ${errorMessage(error)}`
    )
  }
}

/**
 * The object at `key` when it holds exactly `body` (its ETag is the body's MD5, as for a single
 * PutObject without KMS), so a re-run of the same build writes nothing. Any doubt: undefined.
 */
async function sameObject(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Buffer
): Promise<{ versionId?: string } | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    const md5 = `"${createHash('md5').update(body).digest('hex')}"`
    if (head?.ETag !== md5 || head.ContentLength !== body.length) return undefined
    return head.VersionId === undefined ? {} : { versionId: head.VersionId }
  } catch {
    return undefined
  }
}

function contentType(key: string): string {
  if (key.endsWith('.json')) return 'application/json'
  if (key.endsWith('.zip')) return 'application/zip'
  return 'application/yaml'
}

/** Uploads the template; with versioning on, the URL names the exact version. */
export async function uploadTemplate(
  s3: S3Client,
  bucket: string,
  region: string,
  key: string,
  body: Buffer,
  versioningEnabled: boolean
): Promise<TemplateLocation> {
  const { versionId } = await uploadObject(s3, bucket, key, body, versioningEnabled)
  return {
    key,
    url: templateUrl(bucket, region, key, versionId),
    ...(versionId === undefined ? {} : { versionId })
  }
}
