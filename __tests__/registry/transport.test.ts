import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { closeRegistryConnections, nodeFetch } from '../../src/registry/transport.js'

interface Seen {
  method: string
  url: string
  authorization: string | undefined
  contentLength: string | undefined
  body: string
}

const seen: Seen[] = []
let server: Server
let base: string

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void readBody(req).then((body) => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        contentLength: req.headers['content-length'],
        body
      })
      if (req.url === '/moved') {
        res.writeHead(307, { Location: '/target' }).end()
      } else if (req.url === '/away') {
        // Another origin: the same server under another host name.
        res.writeHead(302, { Location: base.replace('127.0.0.1', 'localhost') + '/target' }).end()
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 2000)
      } else {
        res.writeHead(200, 'Fine', { 'Docker-Content-Digest': 'sha256:abc', 'X-Two': ['a', 'b'] })
        res.end(`${req.method} ${req.url} ${body}`)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('nodeFetch (the registry transport over node:http(s))', () => {
  it('answers with the status, headers and body as fetch does', async () => {
    const response = await nodeFetch(`${base}/v2/x`, { method: 'GET', headers: { A: 'b' } })
    expect(response.ok).toBe(true)
    expect(response.status).toBe(200)
    expect(response.statusText).toBe('Fine')
    expect(response.headers.get('docker-content-digest')).toBe('sha256:abc')
    expect(response.headers.get('X-Two')).toBe('a, b')
    expect(response.headers.get('missing')).toBeNull()
    expect(Buffer.from(await response.arrayBuffer()).toString()).toBe('GET /v2/x ')
  })

  it('sends a Buffer with its length and a stream as it comes', async () => {
    seen.length = 0
    await (
      await nodeFetch(`${base}/b`, { method: 'PUT', body: Buffer.from('bytes') })
    ).arrayBuffer()
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(Buffer.from('str'))
        controller.enqueue(Buffer.from('eam'))
        controller.close()
      }
    })
    const streamed = await nodeFetch(`${base}/s`, { method: 'PATCH', body: stream })
    const chunks: Buffer[] = []
    for await (const chunk of streamed.body as ReadableStream<Uint8Array>) {
      chunks.push(Buffer.from(chunk))
    }
    expect(Buffer.concat(chunks).toString()).toBe('PATCH /s stream')
    expect(seen.map((s) => [s.method, s.body, s.contentLength])).toEqual([
      ['PUT', 'bytes', '5'],
      ['PATCH', 'stream', undefined]
    ])
  })

  it('returns a redirect as it is unless told to follow it', async () => {
    const manual = await nodeFetch(`${base}/moved`, { redirect: 'manual' })
    expect(manual.status).toBe(307)
    expect(manual.headers.get('location')).toBe('/target')
    await manual.arrayBuffer()
    const followed = await nodeFetch(`${base}/moved`, {
      redirect: 'follow',
      headers: { Authorization: 'Basic c2VjcmV0' }
    })
    expect(await followed.arrayBuffer().then((b) => Buffer.from(b).toString())).toBe('GET /target ')
  })

  it('keeps Authorization on the same origin and drops it for another', async () => {
    seen.length = 0
    const auth = { Authorization: 'Basic c2VjcmV0' }
    await (await nodeFetch(`${base}/moved`, { redirect: 'follow', headers: auth })).arrayBuffer()
    await (await nodeFetch(`${base}/away`, { redirect: 'follow', headers: auth })).arrayBuffer()
    expect(seen.map((s) => [s.url, s.authorization])).toEqual([
      ['/moved', 'Basic c2VjcmV0'],
      ['/target', 'Basic c2VjcmV0'],
      ['/away', 'Basic c2VjcmV0'],
      ['/target', undefined]
    ])
  })

  it('has no body for HEAD', async () => {
    const response = await nodeFetch(`${base}/h`, { method: 'HEAD' })
    expect(response.body).toBeNull()
    expect((await response.arrayBuffer()).byteLength).toBe(0)
  })

  it('closes its connections at the end of a run, a socket whose answer was never read included', async () => {
    await nodeFetch(`${base}/unread`)
    const connections = (): Promise<number> =>
      new Promise((resolve, reject) =>
        server.getConnections((error, count) => (error ? reject(error) : resolve(count)))
      )
    expect(await connections()).toBeGreaterThan(0)
    closeRegistryConnections()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await connections()).toBe(0)
  })

  it('fails with the signal when it times out, and with the network reason', async () => {
    await expect(nodeFetch(`${base}/slow`, { signal: AbortSignal.timeout(50) })).rejects.toThrow(
      /abort/i
    )
    await expect(nodeFetch('http://127.0.0.1:1/x')).rejects.toThrow(/ECONNREFUSED/)
  })
})
