/**
 * The registry calls' transport: the subset of `fetch` they use (method, headers, a Buffer or
 * streamed body, `redirect`, `signal`; an answer's status, headers, body stream and bytes) over
 * `node:https`, which the AWS SDK has already loaded. Node's global `fetch` would load Node's
 * internal undici and compile its WASM HTTP parser on the first call (~100 ms of a run).
 * TLS is node's: NODE_EXTRA_CA_CERTS applies as it does to the SDK. Like the `fetch` it replaces
 * (whose global dispatcher is a plain undici Agent), it connects directly: no proxy.
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders
} from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { Readable } from 'node:stream'

/** Redirects followed for `redirect: 'follow'` before giving up, as fetch does (20). */
const MAX_REDIRECTS = 20

/** The registry calls' own connections (kept alive between calls), closed at the end of a run. */
const AGENTS = {
  http: new HttpAgent({ keepAlive: true }),
  https: new HttpsAgent({ keepAlive: true })
}

/**
 * Closes the registry connections: the end of a run, so no socket (one whose answer was never
 * read to its end included) keeps node alive until the registry closes it.
 */
export function closeRegistryConnections(): void {
  AGENTS.http.destroy()
  AGENTS.https.destroy()
}

/** The answer's fields the registry calls read, as a `Response` has them. */
interface Answer {
  ok: boolean
  status: number
  statusText: string
  headers: { get(name: string): string | null }
  body: ReadableStream<Uint8Array> | null
  arrayBuffer(): Promise<ArrayBuffer>
}

/**
 * `fetch` for the registry calls, over node:http(s). Redirects are returned as they are
 * (`manual`) or followed (`follow`): a 303, or a 301/302 after a POST, becomes a GET without a
 * body, and the Authorization header is not sent to another origin (as fetch does).
 */
export const nodeFetch = (async (input: string | URL, init: RequestInit = {}) => {
  let url = new URL(String(input))
  let method = (init.method ?? 'GET').toUpperCase()
  let headers = headersOf(init.headers)
  let body = init.body
  for (let hop = 0; ; hop++) {
    const answer = await exchange(url, method, headers, body, init.signal ?? undefined)
    const location = answer.headers.get('location')
    const redirected = answer.status >= 300 && answer.status < 400 && location !== null
    if (init.redirect !== 'follow' || !redirected || hop >= MAX_REDIRECTS) return answer
    await answer.body?.cancel()
    const next = new URL(location, url)
    if (next.origin !== url.origin) headers = withoutAuthorization(headers)
    if (answer.status === 303 || (method === 'POST' && answer.status <= 302)) {
      method = method === 'HEAD' ? 'HEAD' : 'GET'
      body = undefined
    }
    url = next
  }
}) as unknown as typeof fetch

function headersOf(given: RequestInit['headers']): Record<string, string> {
  if (given === undefined) return {}
  if (Array.isArray(given)) return Object.fromEntries(given as [string, string][])
  return { ...(given as Record<string, string>) }
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization')
  )
}

/** One request and its answer; the answer's body is left unread. */
function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: RequestInit['body'],
  signal: AbortSignal | undefined
): Promise<Answer> {
  const sent: OutgoingHttpHeaders = { ...headers }
  if (Buffer.isBuffer(body)) sent['content-length'] = body.byteLength
  const plain = url.protocol === 'http:'
  const send = plain ? httpRequest : httpsRequest
  const agent = plain ? AGENTS.http : AGENTS.https
  return new Promise((resolve, reject) => {
    const options = { method, headers: sent, agent, ...(signal ? { signal } : {}) }
    const request = send(url, options, (res) => resolve(answerOf(res, method)))
    request.on('error', reject)
    if (body === undefined || body === null) {
      request.end()
    } else if (Buffer.isBuffer(body)) {
      request.end(body)
    } else if (isStream(body)) {
      // By shape, not instanceof: a test runner's VM context has its own ReadableStream.
      const stream = Readable.fromWeb(body)
      stream.on('error', (error) => request.destroy(error))
      stream.pipe(request)
    } else {
      request.destroy(new TypeError('The registry transport sends only Buffer or stream bodies.'))
    }
  })
}

function isStream(body: unknown): body is ReadableStream<Uint8Array> {
  return typeof (body as { getReader?: unknown }).getReader === 'function'
}

function answerOf(res: IncomingMessage, method: string): Answer {
  const status = res.statusCode ?? 0
  const empty = method === 'HEAD' || status === 204 || status === 304
  // Read to its end at once, so the socket goes back to the agent (unreferenced there) instead
  // of keeping the process alive until the server closes it.
  if (empty) res.resume()
  let stream: ReadableStream<Uint8Array> | null | undefined
  const body = (): ReadableStream<Uint8Array> | null => {
    stream ??= empty ? null : Readable.toWeb(res)
    return stream
  }
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: res.statusMessage ?? '',
    headers: {
      get(name: string): string | null {
        const value = res.headers[name.toLowerCase()]
        if (value === undefined) return null
        return Array.isArray(value) ? value.join(', ') : String(value)
      }
    },
    get body() {
      return body()
    },
    async arrayBuffer(): Promise<ArrayBuffer> {
      const chunks: Buffer[] = []
      const source = body()
      if (source !== null) {
        for await (const chunk of source) chunks.push(Buffer.from(chunk))
      }
      const all = Buffer.concat(chunks)
      return all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)
    }
  }
}
