// AWS error answers in the wire protocol the client used, so the SDK and CLI read them as the
// real service's: query (CloudFormation, STS) as XML <ErrorResponse>; awsJson (ECR) and REST-JSON
// (Lambda) as {"__type","message"} with x-amzn-ErrorType; smithy rpc-v2-cbor as a CBOR map; S3's
// REST-XML as <Error>.

import { randomUUID } from 'node:crypto'
import { xmlEscape } from './http.mjs'

/** A CBOR map of text to text: all an rpc-v2-cbor error needs. */
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

/**
 * The status, code and message of an error rule's answer ("throttle" or "5xx", with the rule's
 * own status, code and message when it gives them), as the call's service would word them.
 */
export function errorSpec(rule, info) {
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

/** The error body and its content headers for the call's protocol. */
function errorBody(req, info, { status, code, message }, requestId, headers) {
  switch (info.protocol) {
    case 'query':
      headers['content-type'] = 'text/xml'
      return `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
    case 'rest-xml':
      headers['content-type'] = 'application/xml'
      headers['x-amz-request-id'] = requestId
      headers['x-amz-id-2'] = Buffer.from(requestId).toString('base64')
      return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message><RequestId>${requestId}</RequestId><HostId>${headers['x-amz-id-2']}</HostId></Error>`
    case 'rpcv2cbor':
      headers['content-type'] = 'application/cbor'
      headers['smithy-protocol'] = 'rpc-v2-cbor'
      return cborEncodeStringMap({ __type: code, message })
    default: // json, rest-json
      headers['content-type'] =
        info.protocol === 'json'
          ? String(req.headers['content-type'] || 'application/x-amz-json-1.1')
          : 'application/json'
      headers['x-amzn-errortype'] = code
      return JSON.stringify({ __type: code, message })
  }
}

/** Answers the call with the error `rule` describes; returns the status sent. */
export function sendFault(req, res, rule, info) {
  const spec = errorSpec(rule, info)
  const requestId = randomUUID()
  const headers = { 'x-amzn-requestid': requestId, date: new Date().toUTCString() }
  const body = errorBody(req, info, spec, requestId, headers)
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')
  headers['content-length'] = String(buf.length)
  res.writeHead(spec.status, headers)
  res.end(req.method === 'HEAD' ? undefined : buf)
  return spec.status
}
