// Small HTTP helpers the proxy's parts share: reading a body with a limit, answering JSON,
// dropping hop-by-hop headers on the way through, escaping text for XML answers.

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

/** The whole body of `req` (a request or an answer), refused past `limit` bytes. */
export function readAll(req, limit) {
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

/** Answers `obj` as JSON with `status`. */
export function sendJson(res, status, obj) {
  const body = Buffer.from(JSON.stringify(obj, null, 1))
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(body.length)
  })
  res.end(body)
}

/** `src` without the hop-by-hop headers, which never pass a proxy. */
export function forwardHeaders(src) {
  const out = {}
  for (const [k, v] of Object.entries(src)) if (!HOP_BY_HOP.has(k.toLowerCase())) out[k] = v
  return out
}

/** `s` with the five XML special characters escaped. */
export const xmlEscape = (s) =>
  String(s).replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]
  )
