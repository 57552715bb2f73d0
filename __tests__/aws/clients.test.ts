import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import type { NodeHttpHandler } from '@smithy/node-http-handler'
import { HttpsProxyAgent } from 'https-proxy-agent'
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation'
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net'
import {
  bypassesProxy,
  CALL_BUDGET_MS,
  chooseProxy,
  CLIENT_TIMEOUTS,
  createAwsClients,
  worstCaseCallMs,
  endpointFor,
  parseProxyUrl,
  type AwsClients
} from '../../src/aws/clients.js'
import { InputError } from '../../src/base/errors.js'
import { captureStdout } from '../../__fixtures__/aws.js'

const SERVICES = ['sts', 'ecr', 's3', 'cloudformation'] as const

describe('createAwsClients', () => {
  const clients = createAwsClients('ap-southeast-2', { env: {} })

  it.each(SERVICES)(
    'gives the %s client the region, 8 attempts and adaptive retries',
    async (name) => {
      const config = clients[name].config
      await expect(config.region()).resolves.toBe('ap-southeast-2')
      await expect(config.maxAttempts()).resolves.toBe(8)
      // The strategy the SDK built from retryMode, not only the option as passed.
      expect(await config.retryStrategy()).toHaveProperty('mode', 'adaptive')
      expect(config.customUserAgent).toEqual([['oci-stack-deploy']])
    }
  )
})

describe('endpointFor', () => {
  it.each<[keyof AwsClients, string, Record<string, string>, string]>([
    ['sts', 'eu-west-1', {}, 'https://sts.eu-west-1.amazonaws.com/'],
    ['ecr', 'eu-west-1', {}, 'https://api.ecr.eu-west-1.amazonaws.com/'],
    ['s3', 'cn-north-1', {}, 'https://s3.cn-north-1.amazonaws.com.cn/'],
    ['cloudformation', 'us-gov-west-1', {}, 'https://cloudformation.us-gov-west-1.amazonaws.com/'],
    ['sts', 'us-iso-east-1', {}, 'https://sts.us-iso-east-1.c2s.ic.gov/'],
    ['ecr', 'us-isob-east-1', {}, 'https://api.ecr.us-isob-east-1.sc2s.sgov.gov/'],
    ['s3', 'eu-isoe-west-1', {}, 'https://s3.eu-isoe-west-1.cloud.adc-e.uk/'],
    [
      'cloudformation',
      'us-isof-south-1',
      {},
      'https://cloudformation.us-isof-south-1.csp.hci.ic.gov/'
    ],
    [
      'cloudformation',
      'us-east-1',
      { AWS_ENDPOINT_URL: 'http://localhost:4566' },
      'http://localhost:4566/'
    ],
    [
      's3',
      'us-east-1',
      { AWS_ENDPOINT_URL: 'http://localhost:4566', AWS_ENDPOINT_URL_S3: 'http://s3.local:9000' },
      'http://s3.local:9000/'
    ]
  ])('%s in %s with %j calls %s', (service, region, env, expected) => {
    expect(endpointFor(service, region, env).href).toBe(expected)
  })
})

describe('bypassesProxy', () => {
  const sts = new URL('https://sts.eu-west-1.amazonaws.com')
  it.each([
    [undefined, false],
    ['', false],
    ['*', true],
    ['amazonaws.com', true],
    ['.amazonaws.com', true],
    ['*.amazonaws.com', true],
    ['example.com, sts.eu-west-1.amazonaws.com', true],
    ['example.com sts.eu-west-1.amazonaws.com', true],
    ['STS.EU-WEST-1.AMAZONAWS.COM', true],
    ['sts.eu-west-1.amazonaws.com:443', true],
    ['sts.eu-west-1.amazonaws.com:8443', false],
    ['west-1.amazonaws.com', false],
    ['ws.com', false],
    ['example.com,localhost', false]
  ])('NO_PROXY=%j bypasses the proxy for sts: %s', (noProxy, expected) => {
    expect(bypassesProxy(sts, noProxy)).toBe(expected)
  })

  it('matches IP addresses and bracketed IPv6 hosts with ports', () => {
    expect(bypassesProxy(new URL('http://127.0.0.1:4566'), '127.0.0.1')).toBe(true)
    expect(bypassesProxy(new URL('http://127.0.0.1:4566'), '127.0.0.1:4566')).toBe(true)
    expect(bypassesProxy(new URL('http://127.0.0.1:4566'), '127.0.0.1:80')).toBe(false)
    expect(bypassesProxy(new URL('http://[::1]:4566'), '[::1]:4566')).toBe(true)
    expect(bypassesProxy(new URL('http://[::1]:4566'), '::1')).toBe(true)
  })
})

describe('chooseProxy', () => {
  const https = new URL('https://cloudformation.eu-west-1.amazonaws.com')
  const http = new URL('http://localhost:4566')

  it('takes the http-proxy input over the variables', () => {
    expect(
      chooseProxy(https, 'http://input.proxy:3128', { HTTPS_PROXY: 'http://env.proxy:8080' })
    ).toEqual({ url: new URL('http://input.proxy:3128'), source: 'the http-proxy input' })
  })

  it.each([
    [{ HTTPS_PROXY: 'http://a:1', HTTP_PROXY: 'http://b:2' }, 'http://a:1/', 'HTTPS_PROXY'],
    [{ https_proxy: 'http://c:3', HTTPS_PROXY: 'http://a:1' }, 'http://c:3/', 'https_proxy'],
    [{ HTTP_PROXY: 'http://b:2' }, 'http://b:2/', 'HTTP_PROXY'],
    [{ HTTPS_PROXY: '  ', HTTP_PROXY: 'http://b:2' }, 'http://b:2/', 'HTTP_PROXY']
  ])('for an https endpoint, %j gives %s', (env, url, source) => {
    expect(chooseProxy(https, undefined, env)).toEqual({ url: new URL(url), source })
  })

  it('uses only HTTP_PROXY for an http endpoint', () => {
    expect(chooseProxy(http, undefined, { HTTPS_PROXY: 'http://a:1' })).toBeUndefined()
    expect(chooseProxy(http, undefined, { http_proxy: 'http://b:2' })).toEqual({
      url: new URL('http://b:2'),
      source: 'http_proxy'
    })
  })

  it('goes direct when NO_PROXY names the endpoint, input or not', () => {
    expect(
      chooseProxy(https, 'http://input.proxy:3128', { NO_PROXY: '.amazonaws.com' })
    ).toBeUndefined()
    expect(
      chooseProxy(https, undefined, { HTTPS_PROXY: 'http://a:1', no_proxy: 'amazonaws.com' })
    ).toBeUndefined()
  })

  it('goes direct with no proxy anywhere', () => {
    expect(chooseProxy(https, undefined, {})).toBeUndefined()
    expect(chooseProxy(https, '', {})).toBeUndefined()
  })
})

describe('parseProxyUrl', () => {
  it('reads host:port as an http proxy and keeps credentials', () => {
    expect(parseProxyUrl('proxy.corp:3128', 'HTTPS_PROXY').href).toBe('http://proxy.corp:3128/')
    expect(parseProxyUrl('https://u:p@proxy.corp', 'HTTPS_PROXY').href).toBe(
      'https://u:p@proxy.corp/'
    )
  })

  it('refuses other schemes and names where the value came from, not the value', () => {
    expect(() => parseProxyUrl('socks5://u:secret@proxy:1080', 'HTTPS_PROXY')).toThrow(
      new InputError(
        'The proxy URL from HTTPS_PROXY uses socks5: only http:// and https:// proxies are supported.'
      )
    )
    expect(() => parseProxyUrl('http://u:secret@[bad', 'the http-proxy input')).toThrow(
      new InputError(
        'The proxy URL from the http-proxy input is not a valid URL: give it as http://host:port.'
      )
    )
  })
})

/**
 * A local proxy that tunnels every CONNECT to `target` (whatever host was asked for) and records
 * the CONNECT lines, and a local HTTP server standing in for AWS.
 */
describe('createAwsClients through a proxy', () => {
  let proxy: Server
  let target: Server
  let proxyUrl: string
  let targetPort: number
  const connects: string[] = []
  const requests: Array<{ host: string | undefined; url: string | undefined }> = []
  const sockets = new Set<Socket>()
  let stdout: ReturnType<typeof captureStdout>
  let clients: AwsClients | undefined

  beforeAll(async () => {
    target = createServer((req: IncomingMessage, res) => {
      requests.push({ host: req.headers.host, url: req.url })
      res.end('hello from the endpoint')
    })
    proxy = createServer()
    proxy.on('connect', (req: IncomingMessage, client: Socket) => {
      connects.push(req.url ?? '')
      sockets.add(client)
      const upstream = connect(targetPort, '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        upstream.pipe(client)
        client.pipe(upstream)
      })
      sockets.add(upstream)
      upstream.on('error', () => client.destroy())
      client.on('error', () => upstream.destroy())
    })
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    targetPort = (target.address() as AddressInfo).port
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => proxy.close(resolve))
    await new Promise((resolve) => target.close(resolve))
  })

  beforeEach(() => {
    connects.length = 0
    requests.length = 0
    stdout = captureStdout()
  })

  afterEach(() => {
    stdout.restore()
    if (clients) for (const name of SERVICES) clients[name].destroy()
    clients = undefined
  })

  /** Sends one GET through a client's request handler (no signing, no retries). */
  async function get(
    handler: NodeHttpHandler,
    url: URL
  ): Promise<{ status: number; body: string }> {
    const { response } = await handler.handle({
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      method: 'GET',
      path: '/ping',
      query: {},
      headers: { host: url.host }
    } as unknown as Parameters<NodeHttpHandler['handle']>[0])
    const chunks: Buffer[] = []
    for await (const chunk of response.body as AsyncIterable<Buffer>) chunks.push(chunk)
    return { status: response.statusCode, body: Buffer.concat(chunks).toString('utf8') }
  }

  function handlerOf(client: keyof AwsClients): NodeHttpHandler {
    return clients?.[client].config.requestHandler as NodeHttpHandler
  }

  it('sends every client through the http-proxy input with CONNECT', async () => {
    const endpoint = 'http://cloudformation.example.test:8080'
    clients = createAwsClients('eu-west-1', {
      httpProxy: proxyUrl,
      env: { AWS_ENDPOINT_URL: endpoint }
    })

    const answer = await get(handlerOf('cloudformation'), new URL(endpoint))

    expect(answer).toEqual({ status: 200, body: 'hello from the endpoint' })
    expect(connects).toEqual(['cloudformation.example.test:8080'])
    expect(requests).toEqual([{ host: 'cloudformation.example.test:8080', url: '/ping' }])
    for (const name of ['sts', 'ecr', 's3'] as const) await get(handlerOf(name), new URL(endpoint))
    // All four share one keep-alive agent, so the tunnel opened first carries every request.
    expect(requests).toHaveLength(4)
    expect(connects).toEqual(['cloudformation.example.test:8080'])
    for (const name of SERVICES) {
      // The handler's settings are readable once it has sent a request.
      const { httpAgent, httpsAgent } = handlerOf(name).httpHandlerConfigs()
      expect(httpAgent).toBeInstanceOf(HttpsProxyAgent)
      expect(httpsAgent).toBe(httpAgent)
      expect((httpAgent as HttpsProxyAgent<string>).proxy.href).toBe(`${proxyUrl}/`)
    }
    expect(stdout.lines()).toEqual([
      `AWS calls go through the proxy ${proxyUrl} (from the http-proxy input)`
    ])
  })

  it('tunnels an https endpoint to port 443 with HTTPS_PROXY', async () => {
    clients = createAwsClients('eu-west-1', {
      env: { HTTPS_PROXY: proxyUrl.replace('http://', 'http://user:s3cret@') }
    })

    // The local endpoint speaks plain HTTP, so the TLS handshake fails; the CONNECT is what counts.
    await expect(
      get(handlerOf('sts'), new URL('https://sts.eu-west-1.amazonaws.com'))
    ).rejects.toThrow()

    expect(connects).toEqual(['sts.eu-west-1.amazonaws.com:443'])
    expect(stdout.lines()).toEqual([
      '::add-mask::s3cret',
      `AWS calls go through the proxy ${proxyUrl.replace('http://', 'http://***@')} (from HTTPS_PROXY)`
    ])
  })

  it('connects directly to an endpoint NO_PROXY names, and proxies the others', async () => {
    const direct = `http://127.0.0.1:${targetPort}`
    clients = createAwsClients('eu-west-1', {
      env: {
        HTTPS_PROXY: proxyUrl,
        HTTP_PROXY: proxyUrl,
        NO_PROXY: 'localhost,127.0.0.1',
        AWS_ENDPOINT_URL_S3: direct
      }
    })

    const answer = await get(handlerOf('s3'), new URL(direct))

    expect(answer.status).toBe(200)
    expect(connects).toEqual([])
    expect(requests).toEqual([{ host: `127.0.0.1:${targetPort}`, url: '/ping' }])
    expect(handlerOf('s3').httpHandlerConfigs().httpAgent).not.toBeInstanceOf(HttpsProxyAgent)
    await get(handlerOf('sts'), new URL(direct))
    expect(connects).toEqual([`127.0.0.1:${targetPort}`])
    expect(handlerOf('sts').httpHandlerConfigs().httpsAgent).toBeInstanceOf(HttpsProxyAgent)
  })

  it('keeps the default handler when no proxy is set', async () => {
    const direct = `http://127.0.0.1:${targetPort}`
    clients = createAwsClients('eu-west-1', { env: { AWS_ENDPOINT_URL: direct } })

    await get(handlerOf('cloudformation'), new URL(direct))

    expect(connects).toEqual([])
    expect(requests).toHaveLength(1)
    const { httpAgent, httpsAgent } = handlerOf('cloudformation').httpHandlerConfigs()
    expect(httpAgent).not.toBeInstanceOf(HttpsProxyAgent)
    expect(httpsAgent).not.toBeInstanceOf(HttpsProxyAgent)
    expect(stdout.lines()).toEqual([])
  })
})

describe('timeouts: an endpoint that accepts and never answers', () => {
  let silent: TcpServer
  let endpoint: string
  const held = new Set<Socket>()
  let accepted = 0
  let clients: AwsClients | undefined
  const credentials = {
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret'
  }
  const saved: Record<string, string | undefined> = {}

  beforeAll(async () => {
    silent = createTcpServer((socket) => {
      // Accept, read whatever comes, answer nothing.
      accepted++
      held.add(socket)
      socket.on('data', () => undefined)
      socket.on('close', () => held.delete(socket))
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
    // The SDK reads the endpoint from the environment itself; `env` below is for the proxy choice.
    for (const [name, value] of Object.entries({ ...credentials, AWS_ENDPOINT_URL: endpoint })) {
      saved[name] = process.env[name]
      process.env[name] = value
    }
  })

  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    for (const socket of held) socket.destroy()
    await new Promise((resolve) => silent.close(resolve))
  })

  beforeEach(() => {
    accepted = 0
  })

  afterEach(() => {
    if (clients) for (const name of SERVICES) clients[name].destroy()
    clients = undefined
  })

  it.each<[string, string, (c: AwsClients) => Promise<unknown>]>([
    [
      'cloudformation',
      'CloudFormation',
      (c: AwsClients) => c.cloudformation.send(new DescribeStacksCommand({}))
    ],
    ['sts', 'STS', (c: AwsClients) => c.sts.send(new GetCallerIdentityCommand({}))]
  ])(
    'fails the %s call after every attempt timed out, naming %s and the endpoint',
    async (_service, label, call) => {
      clients = createAwsClients('eu-west-1', {
        env: { AWS_ENDPOINT_URL: endpoint },
        timeouts: { connectionTimeoutMs: 500, socketTimeoutMs: 300, maxAttempts: 2 }
      })
      const started = Date.now()
      const error = await call(clients).then(
        () => {
          throw new Error('the call was answered')
        },
        (failure: unknown) => failure as Error
      )
      const elapsed = Date.now() - started
      expect(error.name).toBe('TimeoutError')
      expect(error.message).toMatch(
        new RegExp(
          `^${label} endpoint ${endpoint.replace(/[.]/g, '\\.')} did not answer after 2 attempts \\(.*socket timed out after 300 ms of inactivity`
        )
      )
      // Two attempts of 300 ms and one short back-off: well under a second, not forever.
      expect(accepted).toBe(2)
      expect(elapsed).toBeGreaterThanOrEqual(600)
      expect(elapsed).toBeLessThan(5_000)
    },
    15_000
  )

  it.each([
    ['without a proxy', {}],
    ['through a proxy', { HTTPS_PROXY: 'http://proxy.invalid:3128' }]
  ])('gives every client the production timeouts (%s)', async (_, env) => {
    const stdout = captureStdout()
    clients = createAwsClients('eu-west-1', { env })
    stdout.restore()
    for (const name of SERVICES) {
      const handler = clients[name].config.requestHandler as unknown as {
        configProvider: Promise<{ connectionTimeout?: number; socketTimeout?: number }>
      }
      await expect(handler.configProvider).resolves.toMatchObject({
        connectionTimeout: 3_000,
        socketTimeout: 15_000
      })
      await expect(clients[name].config.maxAttempts()).resolves.toBe(8)
    }
  })

  it('keeps the production values within 3 minutes for one call, all attempts included', () => {
    expect(CLIENT_TIMEOUTS).toEqual({
      connectionTimeoutMs: 3_000,
      socketTimeoutMs: 15_000,
      maxAttempts: 8
    })
    expect(CALL_BUDGET_MS).toBe(180_000)
    // 8 × 18 s + (0.1 + 0.2 + … + 6.4 s) of back-off
    expect(worstCaseCallMs(CLIENT_TIMEOUTS)).toBe(156_700)
    expect(worstCaseCallMs(CLIENT_TIMEOUTS)).toBeLessThan(CALL_BUDGET_MS)
  })
})

describe("the SDK's Node 20 notice", () => {
  const SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'
  let saved: string | undefined
  beforeEach(() => {
    saved = process.env[SWITCH]
    delete process.env[SWITCH]
  })
  afterEach(() => {
    if (saved === undefined) delete process.env[SWITCH]
    else process.env[SWITCH] = saved
  })

  it('is turned off before the clients are made: the runtime is action.yml’s, not the user’s', () => {
    createAwsClients('eu-west-1', { env: {} })
    expect(process.env[SWITCH]).toBe('true')
  })

  it('keeps a value the user set', () => {
    process.env[SWITCH] = 'false'
    createAwsClients('eu-west-1', { env: {} })
    expect(process.env[SWITCH]).toBe('false')
  })
})
