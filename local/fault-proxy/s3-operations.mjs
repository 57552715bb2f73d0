// The S3 operation a REST-XML request is, from its method, path, host and subresources (the SDK's
// `x-id` query parameter when it sends one): S3 is the one service whose operation is not named on
// the wire.

/** The bucket and key a request addresses, virtual-hosted (`<bucket>.s3….`) or path-style. */
function s3BucketAndKey(req, url) {
  const host = String(req.headers['host'] || '').replace(/:\d+$/, '')
  let m = /^(.+?)\.s3[.-]/.exec(host)
  if (!m) m = /^(.+)\.localhost$/.exec(host)
  const path = url.pathname.replace(/^\//, '')
  if (m) return { bucket: m[1], key: path }
  const slash = path.indexOf('/')
  if (slash < 0) return { bucket: path, key: '' }
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) }
}

/** Bucket subresources (`?policy`, …) and the name their Get/Put/Delete operations share. */
const BUCKET_SUBRESOURCES = [
  ['policy', 'BucketPolicy'],
  ['tagging', 'BucketTagging'],
  ['encryption', 'BucketEncryption'],
  ['publicAccessBlock', 'PublicAccessBlock'],
  ['acl', 'BucketAcl'],
  ['lifecycle', 'BucketLifecycleConfiguration'],
  ['cors', 'BucketCors'],
  ['ownershipControls', 'BucketOwnershipControls'],
  ['notification', 'BucketNotificationConfiguration'],
  ['website', 'BucketWebsite'],
  ['logging', 'BucketLogging'],
  ['object-lock', 'ObjectLockConfiguration']
]

/** The operation of a request to a bucket itself (no key). */
function bucketOperation(method, q) {
  const has = (k) => q.has(k)
  const sub = (name) =>
    ({ GET: `Get${name}`, PUT: `Put${name}`, DELETE: `Delete${name}` })[method] ||
    `${method}${name}`
  if (has('location')) return 'GetBucketLocation'
  if (has('versioning')) return sub('BucketVersioning')
  if (has('versions')) return 'ListObjectVersions'
  if (has('uploads')) return 'ListMultipartUploads'
  if (has('delete') && method === 'POST') return 'DeleteObjects'
  for (const [k, n] of BUCKET_SUBRESOURCES) {
    if (has(k)) return sub(n)
  }
  if (method === 'GET') return q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects'
  if (method === 'HEAD') return 'HeadBucket'
  if (method === 'PUT') return 'CreateBucket'
  if (method === 'DELETE') return 'DeleteBucket'
  return `${method}Bucket`
}

/** The operation of a request to an object (a key in a bucket). */
function objectOperation(method, q, copy) {
  const has = (k) => q.has(k)
  if (method === 'PUT') {
    if (has('partNumber') && has('uploadId')) return copy ? 'UploadPartCopy' : 'UploadPart'
    if (has('tagging')) return 'PutObjectTagging'
    if (has('acl')) return 'PutObjectAcl'
    if (has('retention')) return 'PutObjectRetention'
    if (has('legal-hold')) return 'PutObjectLegalHold'
    return copy ? 'CopyObject' : 'PutObject'
  }
  if (method === 'GET') {
    if (has('tagging')) return 'GetObjectTagging'
    if (has('acl')) return 'GetObjectAcl'
    if (has('uploadId')) return 'ListParts'
    if (has('attributes')) return 'GetObjectAttributes'
    return 'GetObject'
  }
  if (method === 'HEAD') return 'HeadObject'
  if (method === 'DELETE') {
    if (has('uploadId')) return 'AbortMultipartUpload'
    if (has('tagging')) return 'DeleteObjectTagging'
    return 'DeleteObject'
  }
  if (method === 'POST') {
    if (has('uploads')) return 'CreateMultipartUpload'
    if (has('uploadId')) return 'CompleteMultipartUpload'
    return 'PostObject'
  }
  return `${method}Object`
}

/** The S3 operation of `req` (e.g. `PutObject`, `ListObjectsV2`, `ListBuckets`). */
export function s3Operation(req, url) {
  const q = url.searchParams
  const xid = q.get('x-id')
  if (xid) return xid
  const method = req.method
  const { bucket, key } = s3BucketAndKey(req, url)
  if (!bucket) return method === 'GET' ? 'ListBuckets' : `${method}Service`
  if (!key) return bucketOperation(method, q)
  return objectOperation(method, q, 'x-amz-copy-source' in req.headers)
}
