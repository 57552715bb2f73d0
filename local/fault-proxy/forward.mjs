// A call on its way through: read what it is, log it, let the fault kinds (faults/index.mjs)
// answer in the target's place or prepare its answer, forward it as is (method, path, query,
// headers, streamed body) and relay the target's answer, patched when a fault asked for it.
// The log holds no headers, bodies, query strings or credentials.

import http from 'node:http'
import { classifyHead, regionFromAuth } from './classify.mjs'
import { FAULTS } from './faults/index.mjs'
import { forwardHeaders, readAll } from './http.mjs'
import { logCall, rulesWith } from './state.mjs'

const MAX_BUFFERED_BODY = 16 * 1024 * 1024 // query-protocol bodies are buffered to read Action=
const MAX_PATCHED_ANSWER = 64 * 1024 * 1024

/** The handler of every call that is not for the control API, forwarding to `target`. */
export function forwarder(target) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  return async (req, res, url) => {
    const call = await openCall(req, res, url)
    for (const kind of FAULTS) if (kind.answer?.(call, rulesWith(kind.key))) return
    for (const kind of FAULTS) kind.prepare?.(call, rulesWith(kind.key))
    sendUpstream(call, target, agent)
  }
}

/** The call as the fault kinds see it (faults/index.mjs `Call`), its entry already logged. */
async function openCall(req, res, url) {
  const t0 = Date.now()
  const info = classifyHead(req, url)
  info.region = regionFromAuth(req.headers, url)
  let body = null // Buffer when buffered, else the request streams through
  if (info.needsBody) {
    body = await readAll(req, MAX_BUFFERED_BODY)
    info.operation = new URLSearchParams(body.toString('utf8')).get('Action') || ''
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
  logCall(entry)
  return {
    req,
    res,
    url,
    info,
    body,
    entry,
    patches: [],
    swallow: false,
    drain: () => {
      if (!body) req.resume()
    },
    done: () => {
      entry.ms = Date.now() - t0
    }
  }
}

/** Forwards the call to `target`; its answer goes to `relay`. */
function sendUpstream(call, target, agent) {
  const { req, res, url, body } = call
  const headers = forwardHeaders(req.headers)
  // an answer to patch must come unencoded
  if (call.patches.length) delete headers['accept-encoding']
  if (body) headers['content-length'] = String(body.length)
  const upstream = http.request({
    protocol: target.protocol,
    hostname: target.hostname,
    port: target.port,
    method: req.method,
    path: url.pathname + url.search,
    headers,
    agent
  })
  const fail = (err) => failUpstream(call, err)
  upstream.on('error', fail)
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy()
  })
  upstream.on('response', (up) => relay(call, up, fail))
  if (body) upstream.end(body)
  else {
    req.pipe(upstream)
    req.on('error', () => upstream.destroy())
  }
}

/** The target could not be reached (or its answer not read): 502, or a cut connection. */
function failUpstream(call, err) {
  const { res } = call
  call.entry.status = 502
  call.done()
  if (res.headersSent) return res.destroy(err)
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
}

/** The target answered: the fault kinds hear of it, then the client gets it (or not). */
async function relay(call, up, fail) {
  const { req, res } = call
  call.entry.status = up.statusCode
  for (const kind of FAULTS) kind.answered?.(call, up, rulesWith(kind.key))
  if (call.swallow) return swallow(call, up)
  const outHeaders = forwardHeaders(up.headers)
  const encoded = up.headers['content-encoding'] && up.headers['content-encoding'] !== 'identity'
  if (call.patches.length && up.statusCode === 200 && !encoded && req.method !== 'HEAD')
    return patchAnswer(call, up, outHeaders, fail)
  res.writeHead(up.statusCode, up.statusMessage, outHeaders)
  up.pipe(res)
  up.on('end', () => call.done())
  up.on('error', (err) => res.destroy(err))
}

/** The target has acted; the client never hears of it: its connection is destroyed. */
function swallow(call, up) {
  up.resume()
  up.on('end', () => {
    call.entry.dropped = true
    call.done()
    call.req.socket.destroy()
  })
}

/** The whole answer, through the call's patches in order, then to the client. */
async function patchAnswer(call, up, outHeaders, fail) {
  try {
    let text = (await readAll(up, MAX_PATCHED_ANSWER)).toString('utf8')
    const contentType = String(up.headers['content-type'] || '')
    for (const patch of call.patches) text = patch(text, contentType)
    const buf = Buffer.from(text, 'utf8')
    outHeaders['content-length'] = String(buf.length)
    call.res.writeHead(up.statusCode, up.statusMessage, outHeaders)
    call.res.end(buf)
  } catch (err) {
    fail(err)
  }
  call.done()
}
