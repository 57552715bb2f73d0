// What a call is, read from the request before anything is forwarded: its wire protocol, the
// AWS service, the operation and the region it is signed for. The log, the rules and the error
// answers all go by this.

import { s3Operation } from './s3-operations.mjs'

/** The service of the SigV4 credential scope (header or presigned query), "" when unsigned. */
function serviceFromAuth(headers, url) {
  const auth = String(headers['authorization'] || '')
  let m = /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth)
  if (m) return m[1]
  const cred = url.searchParams.get('X-Amz-Credential')
  if (cred) {
    const parts = cred.split('/')
    if (parts.length >= 5) return parts[3]
  }
  return ''
}

/** The region a call is signed for (SigV4 credential scope), "" when unsigned. */
export function regionFromAuth(headers, url) {
  const auth = String(headers['authorization'] || '')
  const m = /Credential=[^/,\s]+\/\d{8}\/([^/]+)\/[^/]+\/aws4_request/.exec(auth)
  if (m) return m[1]
  const parts = (url.searchParams.get('X-Amz-Credential') || '').split('/')
  return parts.length >= 5 ? parts[2] : ''
}

const TARGET_PREFIX_SERVICE = [
  [/^AmazonEC2ContainerRegistry/, 'ecr'],
  [/^CloudFormation/, 'cloudformation'],
  [/^AWSSecurityTokenService/, 'sts'],
  [/^DynamoDB/, 'dynamodb'],
  [/^Logs_/, 'logs']
]

/** An awsJson call: the operation is the part of X-Amz-Target after its last dot. */
function classifyJson(amzTarget, service) {
  const t = String(amzTarget)
  const dot = t.lastIndexOf('.')
  const prefix = dot >= 0 ? t.slice(0, dot) : ''
  if (!service) for (const [re, s] of TARGET_PREFIX_SERVICE) if (re.test(prefix)) service = s
  return {
    protocol: 'json',
    service,
    operation: dot >= 0 ? t.slice(dot + 1) : t,
    needsBody: false
  }
}

/**
 * Returns {protocol, service, operation, needsBody} from what is known before the body. A
 * query-protocol POST names its operation (Action=) in the body: `needsBody` then, and the
 * operation is "" until the body is read.
 */
export function classifyHead(req, url) {
  const headers = req.headers
  const service = serviceFromAuth(headers, url)
  const ctype = String(headers['content-type'] || '').toLowerCase()
  const smithy = String(headers['smithy-protocol'] || '').toLowerCase()
  const rpcPath = /^\/service\/([^/]+)\/operation\/([^/?]+)/.exec(url.pathname)
  if (smithy === 'rpc-v2-cbor' || (rpcPath && ctype.includes('cbor'))) {
    return {
      protocol: 'rpcv2cbor',
      service: service || (rpcPath ? rpcPath[1] : ''),
      operation: rpcPath ? rpcPath[2] : '',
      needsBody: false
    }
  }
  const amzTarget = headers['x-amz-target']
  if (amzTarget) return classifyJson(amzTarget, service)
  const qsAction = url.searchParams.get('Action')
  if (qsAction) return { protocol: 'query', service, operation: qsAction, needsBody: false }
  if (
    req.method === 'POST' &&
    ctype.startsWith('application/x-www-form-urlencoded') &&
    service !== 's3'
  ) {
    return { protocol: 'query', service, operation: '', needsBody: true }
  }
  if (service === 's3' || service === '') {
    return {
      protocol: 'rest-xml',
      service: service || 's3',
      operation: s3Operation(req, url),
      needsBody: false
    }
  }
  return {
    protocol: 'rest-json',
    service,
    operation: restJsonOperation(service, req.method, url.pathname),
    needsBody: false
  }
}

/** A REST-JSON operation: a few Lambda paths by name, any other as `METHOD /first/three/segments`. */
function restJsonOperation(service, method, path) {
  if (service === 'lambda') {
    const m = /^\/\d{4}-\d{2}-\d{2}\/functions(?:\/([^/]+))?(?:\/([^/]+))?/.exec(path)
    if (m) {
      const [, fn, sub] = m
      if (!fn) return method === 'POST' ? 'CreateFunction' : 'ListFunctions'
      if (!sub)
        return { GET: 'GetFunction', DELETE: 'DeleteFunction' }[method] || `${method}Function`
      if (sub === 'configuration')
        return method === 'PUT' ? 'UpdateFunctionConfiguration' : 'GetFunctionConfiguration'
      if (sub === 'code') return 'UpdateFunctionCode'
      if (sub === 'invocations') return 'Invoke'
      if (sub === 'versions') return method === 'POST' ? 'PublishVersion' : 'ListVersionsByFunction'
    }
  }
  const segs = path.split('/').filter(Boolean).slice(0, 3).join('/')
  return `${method} /${segs}`
}
