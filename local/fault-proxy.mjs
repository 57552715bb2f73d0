#!/usr/bin/env node
// Fault-injecting HTTP proxy between an AWS SDK/CLI and moto (Node builtins only).
//
//   node local/fault-proxy.mjs --target http://127.0.0.1:<motoPort> [--port 0] [--port-file FILE]
//
// Every request is forwarded as is (method, path, query, headers, streamed body) to
// --target and the answer is relayed. It binds 127.0.0.1 only. --port 0 (default)
// picks a free port; the bound port is written to --port-file once listening.
//
// Control API (JSON) on the same port:
//   GET    /__faults/health      -> {"ok":true}
//   GET    /__faults             -> {"rules":[...],"logSize":N}
//   GET    /__faults/rules       -> [rules]          (with remaining "times")
//   POST   /__faults/rules       <- a rule or an array of rules -> {"ids":[...]}
//   DELETE /__faults/rules/<id>  -> remove one rule
//   DELETE /__faults             -> remove all rules and clear the log
//   GET    /__faults/log         -> [{time,service,operation,protocol,method,status,rule,held,ms}]
//   DELETE /__faults/log         -> clear the log
//
// Rules (first matching rule wins; "times" omitted = unlimited):
//   {"operation":"DescribeStacks","error":"throttle","times":2}
//   {"operation":"PutObject","service":"s3","error":"5xx","status":503,"times":1}
//   {"operation":"*","error":"5xx"}                      (every operation)
//   optional on error rules: "service", "code", "message", "status"
//   optional on error, stall and dropResponse rules and inside holdStatus: "region" - only calls
//     signed for that region (the SigV4 credential scope), e.g. to fail or hold one region of a
//     multi-region deploy; an "execute" hold with a region starts on that region's execute
//   {"holdStatus":{"stackName":"x","status":"UPDATE_IN_PROGRESS","seconds":3,
//                  "startOn":"added"|"firstRequest"|"execute"}}   (default "added")
//     -> DescribeStacks answers for stack x show StackStatus=status during that window.
//     "execute": the window opens when an ExecuteChangeSet for stack x (StackName = its name or
//     its stack ARN; any stack when the request names none) is answered 200, so the hold
//     stands in for CloudFormation's operation time. GET /__faults/rules shows a hold's
//     "startedAt" (ISO time, ms; null until it starts) and "remainingSeconds".
//   {"staleReads":{"stackName":"x","count":2}}            (eventual consistency)
//     -> after each write to stack x answered 200 (ExecuteChangeSet, DeleteStack, CreateChangeSet,
//     UpdateStack, CreateStack; StackName = its name or its stack ARN; any stack when the request
//     names none), the next "count" DescribeStacks for x get the answer DescribeStacks gave just
//     before that write (status, headers, body), without asking the target. Optional
//     "operations": [...] narrows the writes. GET /__faults/rules shows "staleRemaining".
//   {"operation":"CreateChangeSet","dropResponse":true,"times":1}   (a lost response)
//     -> the call is forwarded and the target acts on it, then the client's connection is
//     destroyed instead of answering, so the SDK retries a call that already took effect.
//     Optional "service". The log marks such calls "dropped": true.
//   {"operation":"DescribeStacks","stall":true,"times":1}   (a stalled endpoint)
//     -> the connection is accepted and the request read, then nothing is ever answered (the call
//     is not forwarded): only the client's own timeout ends it. Optional "service". The log marks
//     such calls "stalled": true.
//
// Errors are written in the wire protocol the client used:
//   query (Action=... form/query string; CloudFormation, STS): XML <ErrorResponse>, 400 Throttling
//   JSON (X-Amz-Target; ECR) and REST-JSON (Lambda): {"__type":..,"message":..} + x-amzn-ErrorType
//   smithy rpc-v2-cbor (path /service/S/operation/O): CBOR {"__type","message"}
//   S3 REST-XML: 503 <Error><Code>SlowDown</Code>...; 5xx -> InternalError / ServiceUnavailable
// The log holds no headers, bodies, query strings or credentials.
// GET /__faults/log entries also say "stale" (answered from a stale-reads snapshot), "dropped",
// "stalled" and "region" (the SigV4 credential scope's; "" when unsigned).

import http from 'node:http'
import { randomUUID } from 'node:crypto'
import { writeFileSync, renameSync } from 'node:fs'

function parseArgs(argv) {
  const out = {
    target: process.env.FAULT_PROXY_TARGET || '',
    port: 0,
    host: '127.0.0.1',
    portFile: ''
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`)
      return argv[++i]
    }
    if (a === '--target') out.target = next()
    else if (a === '--port') out.port = Number(next())
    else if (a === '--host') out.host = next()
    else if (a === '--port-file') out.portFile = next()
    else throw new Error(`unknown argument ${a}`)
  }
  if (!out.target) throw new Error('--target http://127.0.0.1:<port> is required')
  return out
}

const args = parseArgs(process.argv.slice(2))
const target = new URL(args.target)
if (
  !['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname) ||
  !['127.0.0.1', 'localhost', '::1'].includes(args.host)
) {
  console.error('fault-proxy: target and listen address must be loopback')
  process.exit(2)
}
const upstreamAgent = new http.Agent({ keepAlive: true, maxSockets: 64 })

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'expect'
])
const MAX_BUFFERED_BODY = 16 * 1024 * 1024 // query-protocol bodies are buffered to read Action=
const MAX_LOG = 5000

/** @type {Array<any>} */
let rules = []
/** @type {Array<any>} */
let log = []
let nextRuleId = 1
/** The last DescribeStacks answer per stack name: what a stale read replays. */
const lastDescribe = new Map()
const STACK_WRITES = [
  'ExecuteChangeSet',
  'DeleteStack',
  'CreateChangeSet',
  'UpdateStack',
  'CreateStack'
]

// ---------------------------------------------------------------- detection

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
function regionFromAuth(headers, url) {
  const auth = String(headers['authorization'] || '')
  const m = /Credential=[^/,\s]+\/\d{8}\/([^/]+)\/[^/]+\/aws4_request/.exec(auth)
  if (m) return m[1]
  const parts = (url.searchParams.get('X-Amz-Credential') || '').split('/')
  return parts.length >= 5 ? parts[2] : ''
}

/** A rule's optional "region" (validated); undefined when the rule applies to every region. */
function regionOf(r) {
  if (r.region === undefined || r.region === null || r.region === '') return undefined
  if (typeof r.region !== 'string' || !/^[a-z0-9-]+$/.test(r.region))
    throw new Error('region must be a region name such as "us-west-2"')
  return r.region
}

const inRegion = (r, region) => !r.region || r.region === region

const TARGET_PREFIX_SERVICE = [
  [/^AmazonEC2ContainerRegistry/, 'ecr'],
  [/^CloudFormation/, 'cloudformation'],
  [/^AWSSecurityTokenService/, 'sts'],
  [/^DynamoDB/, 'dynamodb'],
  [/^Logs_/, 'logs']
]

/** Returns {protocol, service, operation, needsBody} from what is known before the body. */
function classifyHead(req, url) {
  const headers = req.headers
  let service = serviceFromAuth(headers, url)
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
  if (amzTarget) {
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

function s3Operation(req, url) {
  const q = url.searchParams
  const xid = q.get('x-id')
  if (xid) return xid
  const method = req.method
  const { bucket, key } = s3BucketAndKey(req, url)
  const has = (k) => q.has(k)
  const sub = (name) =>
    ({ GET: `Get${name}`, PUT: `Put${name}`, DELETE: `Delete${name}` })[method] ||
    `${method}${name}`
  if (!bucket) return method === 'GET' ? 'ListBuckets' : `${method}Service`
  if (!key) {
    if (has('location')) return 'GetBucketLocation'
    if (has('versioning')) return sub('BucketVersioning')
    if (has('versions')) return 'ListObjectVersions'
    if (has('uploads')) return 'ListMultipartUploads'
    if (has('delete') && method === 'POST') return 'DeleteObjects'
    for (const [k, n] of [
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
    ]) {
      if (has(k)) return sub(n)
    }
    if (method === 'GET') return q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects'
    if (method === 'HEAD') return 'HeadBucket'
    if (method === 'PUT') return 'CreateBucket'
    if (method === 'DELETE') return 'DeleteBucket'
    return `${method}Bucket`
  }
  const copy = 'x-amz-copy-source' in req.headers
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

// ---------------------------------------------------------------- errors

function cborEncodeStringMap(obj) {
  const chunks = []
  const head = (major, n) => {
    if (n < 24) chunks.push(Buffer.from([(major << 5) | n]))
    else if (n < 256) chunks.push(Buffer.from([(major << 5) | 24, n]))
    else if (n < 65536) {
      const b = Buffer.alloc(3)
      b[0] = (major << 5) | 25
      b.writeUInt16BE(n, 1)
      chunks.push(b)
    } else {
      const b = Buffer.alloc(5)
      b[0] = (major << 5) | 26
      b.writeUInt32BE(n, 1)
      chunks.push(b)
    }
  }
  const text = (s) => {
    const b = Buffer.from(s, 'utf8')
    head(3, b.length)
    chunks.push(b)
  }
  const entries = Object.entries(obj)
  head(5, entries.length)
  for (const [k, v] of entries) {
    text(k)
    text(String(v))
  }
  return Buffer.concat(chunks)
}

const xmlEscape = (s) =>
  String(s).replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]
  )

function errorSpec(rule, info) {
  const throttle = rule.error === 'throttle'
  const s3 = info.protocol === 'rest-xml'
  let status = rule.status ?? (throttle ? (s3 ? 503 : 400) : 500)
  let code = rule.code
  if (!code) {
    if (throttle)
      code = s3 ? 'SlowDown' : info.protocol === 'query' ? 'Throttling' : 'ThrottlingException'
    else if (s3) code = status === 503 ? 'ServiceUnavailable' : 'InternalError'
    else if (info.protocol === 'query')
      code = status === 503 ? 'ServiceUnavailable' : 'InternalFailure'
    else code = status === 503 ? 'ServiceUnavailableException' : 'InternalFailure'
  }
  let message = rule.message
  if (!message) {
    if (throttle) message = s3 ? 'Please reduce your request rate.' : 'Rate exceeded'
    else
      message =
        status === 503
          ? 'Service is unavailable. Please try again.'
          : 'We encountered an internal error. Please try again.'
  }
  return { status, code, message }
}

function sendFault(req, res, rule, info) {
  const { status, code, message } = errorSpec(rule, info)
  const requestId = randomUUID()
  const headers = { 'x-amzn-requestid': requestId, date: new Date().toUTCString() }
  let body
  switch (info.protocol) {
    case 'query':
      headers['content-type'] = 'text/xml'
      body = `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
      break
    case 'rest-xml':
      headers['content-type'] = 'application/xml'
      headers['x-amz-request-id'] = requestId
      headers['x-amz-id-2'] = Buffer.from(requestId).toString('base64')
      body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message><RequestId>${requestId}</RequestId><HostId>${headers['x-amz-id-2']}</HostId></Error>`
      break
    case 'rpcv2cbor':
      headers['content-type'] = 'application/cbor'
      headers['smithy-protocol'] = 'rpc-v2-cbor'
      body = cborEncodeStringMap({ __type: code, message })
      break
    default: // json, rest-json
      headers['content-type'] =
        info.protocol === 'json'
          ? String(req.headers['content-type'] || 'application/x-amz-json-1.1')
          : 'application/json'
      headers['x-amzn-errortype'] = code
      body = JSON.stringify({ __type: code, message })
  }
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')
  headers['content-length'] = String(buf.length)
  res.writeHead(status, headers)
  res.end(req.method === 'HEAD' ? undefined : buf)
  return status
}

// ---------------------------------------------------------------- rules

function validateRule(r) {
  if (!r || typeof r !== 'object') throw new Error('rule must be an object')
  if (r.holdStatus) {
    const h = r.holdStatus
    if (!h.stackName || !h.status || !(Number(h.seconds) > 0))
      throw new Error('holdStatus needs stackName, status and seconds > 0')
    if (h.startOn && !['added', 'firstRequest', 'execute'].includes(h.startOn))
      throw new Error('holdStatus.startOn must be "added", "firstRequest" or "execute"')
    return {
      id: nextRuleId++,
      holdStatus: {
        stackName: String(h.stackName),
        status: String(h.status),
        seconds: Number(h.seconds),
        startOn: h.startOn || 'added',
        ...(regionOf(h) ? { region: regionOf(h) } : {})
      },
      startedAt: h.startOn === 'firstRequest' || h.startOn === 'execute' ? null : Date.now(),
      hits: 0
    }
  }
  if (r.staleReads) {
    const st = r.staleReads
    if (!st.stackName || !(Number.isInteger(Number(st.count)) && Number(st.count) > 0))
      throw new Error('staleReads needs stackName and count > 0')
    const operations = st.operations === undefined ? STACK_WRITES : st.operations
    if (!Array.isArray(operations) || !operations.every((o) => STACK_WRITES.includes(o)))
      throw new Error(`staleReads.operations must be a list of ${STACK_WRITES.join(', ')}`)
    return {
      id: nextRuleId++,
      staleReads: { stackName: String(st.stackName), count: Number(st.count), operations },
      armed: null,
      hits: 0
    }
  }
  if (r.stall) {
    if (!r.operation) throw new Error('stall rule needs "operation"')
    return {
      id: nextRuleId++,
      ...operationMatch(r),
      stall: true,
      times: timesOf(r),
      hits: 0
    }
  }
  if (r.dropResponse) {
    if (!r.operation) throw new Error('dropResponse rule needs "operation"')
    const times = r.times === undefined || r.times === null ? null : Number(r.times)
    if (times !== null && !(Number.isInteger(times) && times >= 0))
      throw new Error('times must be a non-negative integer')
    return {
      id: nextRuleId++,
      operation: String(r.operation),
      service: r.service ? String(r.service) : undefined,
      region: regionOf(r),
      dropResponse: true,
      times,
      hits: 0
    }
  }
  if (!r.operation)
    throw new Error('rule needs "operation" (or "holdStatus", "staleReads", "stall")')
  if (!['throttle', '5xx'].includes(r.error))
    throw new Error('rule "error" must be "throttle" or "5xx"')
  if (r.status !== undefined && !(Number.isInteger(r.status) && r.status >= 400 && r.status <= 599))
    throw new Error('status must be 400..599')
  if (r.error === '5xx' && r.status !== undefined && r.status < 500)
    throw new Error('5xx rule needs status >= 500')
  const times = r.times === undefined || r.times === null ? null : Number(r.times)
  if (times !== null && !(Number.isInteger(times) && times >= 0))
    throw new Error('times must be a non-negative integer')
  return {
    id: nextRuleId++,
    operation: String(r.operation),
    service: r.service ? String(r.service) : undefined,
    region: regionOf(r),
    error: r.error,
    status: r.status,
    code: r.code,
    message: r.message,
    times,
    hits: 0
  }
}

function operationMatch(r) {
  return {
    operation: String(r.operation),
    service: r.service ? String(r.service) : undefined,
    region: regionOf(r)
  }
}

function timesOf(r) {
  const times = r.times === undefined || r.times === null ? null : Number(r.times)
  if (times !== null && !(Number.isInteger(times) && times >= 0))
    throw new Error('times must be a non-negative integer')
  return times
}

/** The first rule of `kind` ("error", "stall" or "dropResponse") that matches the call and has uses left. */
function matchRule(info, kind) {
  for (const r of rules) {
    if (!r[kind]) continue
    if (r.times !== null && r.hits >= r.times) continue
    if (r.operation !== '*' && r.operation !== info.operation) continue
    if (r.service && r.service !== info.service) continue
    if (!inRegion(r, info.region)) continue
    r.hits++
    return r
  }
  return null
}

/** The stack a query-protocol request names (StackName; a stack ARN counts by its name). */
function stackNameOf(body) {
  const value = body ? new URLSearchParams(body.toString('utf8')).get('StackName') || '' : ''
  const arn = /:stack\/([^/]+)\//.exec(value)
  return arn ? arn[1] : value
}

/** After a write answered 200, arms the stale-reads rules of its stack with the answer before it. */
function armStaleReads(operation, body) {
  const written = stackNameOf(body)
  for (const r of rules) {
    if (!r.staleReads || !r.staleReads.operations.includes(operation)) continue
    const name = r.staleReads.stackName
    if (written && written !== name) continue
    const snapshot = lastDescribe.get(name)
    // Nothing seen before the write: nothing stale to replay.
    if (snapshot) r.armed = { remaining: r.staleReads.count, snapshot, after: operation }
  }
}

/** The stale answer for a DescribeStacks of `stack`, when a rule is armed for it. */
function takeStaleRead(stack) {
  for (const r of rules) {
    if (!r.staleReads || !r.armed || r.armed.remaining <= 0) continue
    if (stack && stack !== r.staleReads.stackName) continue
    r.armed.remaining--
    r.hits++
    return r.armed.snapshot
  }
  return null
}

/** The holds that rewrite a DescribeStacks signed for `region`. */
function activeHolds(region) {
  const now = Date.now()
  const out = []
  for (const r of rules) {
    if (!r.holdStatus || !inRegion(r.holdStatus, region)) continue
    // startOn "execute": nothing is held until the change set is executed
    if (r.holdStatus.startOn === 'execute' && r.startedAt === null) continue
    // startOn "firstRequest": the clock starts with the first answer that shows the stack
    if (r.startedAt === null || now - r.startedAt < r.holdStatus.seconds * 1000) out.push(r)
  }
  return out
}

function rewriteStackStatusXml(text, holds) {
  const start = text.indexOf('<Stacks>')
  const end = text.lastIndexOf('</Stacks>')
  if (start < 0 || end < 0) return { text, changed: false }
  const inner = text.slice(start + 8, end)
  let out = ''
  let depth = 0
  let blockStart = -1
  let last = 0
  let changed = false
  const re = /<(\/?)member>/g
  let m
  while ((m = re.exec(inner))) {
    if (!m[1]) {
      if (depth === 0) blockStart = m.index
      depth++
    } else {
      depth--
      if (depth === 0 && blockStart >= 0) {
        const blockEnd = m.index + m[0].length
        let block = inner.slice(blockStart, blockEnd)
        for (const h of holds) {
          const name = xmlEscape(h.holdStatus.stackName)
          if (block.includes(`<StackName>${name}</StackName>`)) {
            if (h.startedAt === null) h.startedAt = Date.now()
            block = block.replace(
              /<StackStatus>[^<]*<\/StackStatus>/,
              `<StackStatus>${xmlEscape(h.holdStatus.status)}</StackStatus>`
            )
            h.hits++
            changed = true
          }
        }
        out += inner.slice(last, blockStart) + block
        last = blockEnd
        blockStart = -1
      }
    }
  }
  out += inner.slice(last)
  return { text: text.slice(0, start + 8) + out + text.slice(end), changed }
}

function rewriteStackStatusJson(text, holds) {
  let doc
  try {
    doc = JSON.parse(text)
  } catch {
    return { text, changed: false }
  }
  let changed = false
  for (const s of doc?.Stacks || []) {
    for (const h of holds) {
      if (s.StackName === h.holdStatus.stackName) {
        if (h.startedAt === null) h.startedAt = Date.now()
        s.StackStatus = h.holdStatus.status
        h.hits++
        changed = true
      }
    }
  }
  return changed ? { text: JSON.stringify(doc), changed } : { text, changed }
}

/** Starts the "execute" holds for the stack an answered ExecuteChangeSet (signed for `region`) names. */
function startExecuteHolds(body, region) {
  const stackName = body ? new URLSearchParams(body.toString('utf8')).get('StackName') || '' : ''
  const now = Date.now()
  for (const r of rules) {
    if (!r.holdStatus || r.holdStatus.startOn !== 'execute' || r.startedAt !== null) continue
    if (!inRegion(r.holdStatus, region)) continue
    const name = r.holdStatus.stackName
    if (!stackName || stackName === name || stackName.includes(`:stack/${name}/`)) r.startedAt = now
  }
}

// ---------------------------------------------------------------- control API

function sendJson(res, status, obj) {
  const body = Buffer.from(JSON.stringify(obj, null, 1))
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(body.length)
  })
  res.end(body)
}

function readAll(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', (c) => {
      size += c.length
      if (size > limit) {
        reject(new Error('body too large'))
        req.destroy()
        return
      }
      chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

const publicRule = (r) => {
  if (r.staleReads) {
    const { armed, ...rest } = r
    return {
      ...rest,
      staleRemaining: armed ? armed.remaining : 0,
      armedAfter: armed?.after ?? null
    }
  }
  const { startedAt, ...rest } = r
  if (r.holdStatus) {
    const remaining =
      startedAt === null
        ? r.holdStatus.seconds
        : Math.max(0, r.holdStatus.seconds - (Date.now() - startedAt) / 1000)
    return {
      ...rest,
      startedAt: startedAt === null ? null : new Date(startedAt).toISOString(),
      remainingSeconds: Math.round(remaining * 1000) / 1000
    }
  }
  return { ...rest, remaining: r.times === null ? null : Math.max(0, r.times - r.hits) }
}

async function control(req, res, url) {
  const p = url.pathname.replace(/\/+$/, '')
  try {
    if (req.method === 'GET' && p === '/__faults/health')
      return sendJson(res, 200, { ok: true, target: target.origin })
    if (req.method === 'GET' && p === '/__faults')
      return sendJson(res, 200, { rules: rules.map(publicRule), logSize: log.length })
    if (req.method === 'GET' && p === '/__faults/rules')
      return sendJson(res, 200, rules.map(publicRule))
    if (req.method === 'GET' && p === '/__faults/log') return sendJson(res, 200, log)
    if (req.method === 'DELETE' && p === '/__faults') {
      rules = []
      log = []
      lastDescribe.clear()
      return sendJson(res, 200, { ok: true })
    }
    if (req.method === 'DELETE' && p === '/__faults/log') {
      log = []
      return sendJson(res, 200, { ok: true })
    }
    if (req.method === 'POST' && p === '/__faults/rules') {
      const body = JSON.parse((await readAll(req, 1024 * 1024)).toString('utf8') || 'null')
      const list = Array.isArray(body) ? body : [body]
      const parsed = list.map(validateRule)
      rules.push(...parsed)
      return sendJson(res, 201, { ids: parsed.map((r) => r.id), rules: parsed.map(publicRule) })
    }
    const del = /^\/__faults\/rules\/(\d+)$/.exec(p)
    if (req.method === 'DELETE' && del) {
      const before = rules.length
      rules = rules.filter((r) => r.id !== Number(del[1]))
      return sendJson(res, before === rules.length ? 404 : 200, { ok: before !== rules.length })
    }
    return sendJson(res, 404, { error: `no control endpoint ${req.method} ${p}` })
  } catch (err) {
    return sendJson(res, 400, { error: String(err && err.message ? err.message : err) })
  }
}

// ---------------------------------------------------------------- proxy

function addLog(entry) {
  log.push(entry)
  if (log.length > MAX_LOG) log.splice(0, log.length - MAX_LOG)
}

function forwardHeaders(src) {
  const out = {}
  for (const [k, v] of Object.entries(src)) if (!HOP_BY_HOP.has(k.toLowerCase())) out[k] = v
  return out
}

async function proxy(req, res, url) {
  const t0 = Date.now()
  const info = classifyHead(req, url)
  info.region = regionFromAuth(req.headers, url)
  let body = null // Buffer when buffered, else stream
  if (info.needsBody) {
    body = await readAll(req, MAX_BUFFERED_BODY)
    const action = new URLSearchParams(body.toString('utf8')).get('Action')
    info.operation = action || ''
  }
  const entry = {
    time: new Date(t0).toISOString(),
    service: info.service,
    operation: info.operation,
    protocol: info.protocol,
    region: info.region,
    method: req.method,
    status: 0,
    rule: null,
    held: false,
    stale: false,
    dropped: false,
    stalled: false,
    ms: 0
  }
  addLog(entry)

  const rule = matchRule(info, 'error')
  if (rule) {
    if (!body) req.resume() // drain
    entry.rule = rule.id
    entry.status = sendFault(req, res, rule, info)
    entry.ms = Date.now() - t0
    return
  }

  const stall = matchRule(info, 'stall')
  if (stall) {
    // Accept and never answer: only the client's timeout ends the call.
    if (!body) req.resume()
    entry.rule = stall.id
    entry.stalled = true
    req.socket.on('close', () => {
      entry.ms = Date.now() - t0
    })
    return
  }

  const describedStack = info.operation === 'DescribeStacks' ? stackNameOf(body) : ''
  if (info.operation === 'DescribeStacks') {
    const stale = takeStaleRead(describedStack)
    if (stale) {
      if (!body) req.resume()
      entry.stale = true
      entry.status = stale.status
      res.writeHead(stale.status, { ...stale.headers, 'content-length': String(stale.body.length) })
      res.end(req.method === 'HEAD' ? undefined : stale.body)
      entry.ms = Date.now() - t0
      return
    }
  }
  const drop = matchRule(info, 'dropResponse')
  if (drop) entry.rule = drop.id

  const holds = info.operation === 'DescribeStacks' ? activeHolds(info.region) : []
  const headers = forwardHeaders(req.headers)
  if (holds.length) delete headers['accept-encoding']
  if (body) headers['content-length'] = String(body.length)

  const upstream = http.request({
    protocol: target.protocol,
    hostname: target.hostname,
    port: target.port,
    method: req.method,
    path: url.pathname + url.search,
    headers,
    agent: upstreamAgent
  })
  const fail = (err) => {
    entry.status = 502
    entry.ms = Date.now() - t0
    if (!res.headersSent) {
      const msg = Buffer.from(
        JSON.stringify({
          error: 'fault-proxy: upstream error',
          detail: String(err.code || err.message)
        })
      )
      res.writeHead(502, {
        'content-type': 'application/json',
        'content-length': String(msg.length)
      })
      res.end(msg)
    } else res.destroy(err)
  }
  upstream.on('error', fail)
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy()
  })

  upstream.on('response', async (up) => {
    entry.status = up.statusCode
    if (info.operation === 'ExecuteChangeSet' && up.statusCode === 200)
      startExecuteHolds(body, info.region)
    if (STACK_WRITES.includes(info.operation) && up.statusCode === 200) {
      armStaleReads(info.operation, body)
    }
    if (drop) {
      // The target has acted; the client never hears of it.
      up.resume()
      up.on('end', () => {
        entry.dropped = true
        entry.ms = Date.now() - t0
        req.socket.destroy()
      })
      return
    }
    const outHeaders = forwardHeaders(up.headers)
    if (info.operation === 'DescribeStacks' && describedStack && !holds.length) {
      // Keep a copy of the answer (what a later stale read replays), still streaming it on.
      const chunks = []
      up.on('data', (c) => chunks.push(c))
      up.on('end', () =>
        lastDescribe.set(describedStack, {
          status: up.statusCode,
          headers: outHeaders,
          body: Buffer.concat(chunks)
        })
      )
    }
    const encoded = up.headers['content-encoding'] && up.headers['content-encoding'] !== 'identity'
    if (holds.length && up.statusCode === 200 && !encoded && req.method !== 'HEAD') {
      try {
        const raw = (await readAll(up, 64 * 1024 * 1024)).toString('utf8')
        const ctype = String(up.headers['content-type'] || '')
        const r = ctype.includes('json')
          ? rewriteStackStatusJson(raw, holds)
          : rewriteStackStatusXml(raw, holds)
        entry.held = r.changed
        const buf = Buffer.from(r.text, 'utf8')
        outHeaders['content-length'] = String(buf.length)
        res.writeHead(up.statusCode, up.statusMessage, outHeaders)
        res.end(buf)
      } catch (err) {
        fail(err)
      }
      entry.ms = Date.now() - t0
      return
    }
    res.writeHead(up.statusCode, up.statusMessage, outHeaders)
    up.pipe(res)
    up.on('end', () => {
      entry.ms = Date.now() - t0
    })
    up.on('error', (err) => res.destroy(err))
  })

  if (body) upstream.end(body)
  else {
    req.pipe(upstream)
    req.on('error', () => upstream.destroy())
  }
}

const server = http.createServer((req, res) => {
  let url
  try {
    url = new URL(req.url || '/', 'http://proxy.invalid')
  } catch {
    res.writeHead(400)
    res.end()
    return
  }
  const handler =
    url.pathname === '/__faults' || url.pathname.startsWith('/__faults/') ? control : proxy
  handler(req, res, url).catch((err) => {
    console.error(`fault-proxy: ${req.method} ${url.pathname}: ${err && err.message}`)
    if (!res.headersSent) {
      res.writeHead(500, { 'content-type': 'text/plain' })
      res.end('fault-proxy internal error')
    } else res.destroy()
  })
})
server.keepAliveTimeout = 65_000
server.headersTimeout = 70_000
server.requestTimeout = 0 // long uploads stream through

server.listen(args.port, args.host, () => {
  const { port } = server.address()
  if (args.portFile) {
    writeFileSync(args.portFile + '.tmp', `${port}\n`)
    renameSync(args.portFile + '.tmp', args.portFile)
  }
  console.log(`fault-proxy: listening on http://${args.host}:${port} -> ${target.origin}`)
})

const shutdown = () => {
  server.close(() => process.exit(0))
  server.closeAllConnections?.()
  setTimeout(() => process.exit(0), 2000).unref()
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
