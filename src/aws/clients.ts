/**
 * aws/: one module per AWS service (clients, ECR, S3, STS; CloudFormation in cloudformation/). Each
 * takes its client first; none reads inputs or writes outputs.
 * May import: rules/, base/.
 *
 * Builds the SDK clients once, all alike: region, retry mode, user agent, proxy, timeouts. The
 * SDK's own retries (adaptive mode: back-off plus client-side rate limiting) cover throttling,
 * 5xx answers and timeouts. `AWS_ENDPOINT_URL` is honoured by the SDK itself.
 *
 * The SDK's HTTP handler has no timeout by default, so an endpoint (or proxy) that accepts the
 * connection and never answers held the step until the job's own limit. Every client now has a
 * connection and an idle-socket timeout, chosen so that all attempts of one call end within
 * {@link CALL_BUDGET_MS}; the error then names the service and the endpoint.
 *
 * The SDK ignores HTTPS_PROXY and friends, so this module applies them: self-hosted runners
 * behind a proxy are common, and without it every AWS call would time out.
 */
import * as log from '../base/log.js'
import { hideUserInfo } from '../base/untrusted.js'
import { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import { ECRClient } from '@aws-sdk/client-ecr'
import { S3Client } from '@aws-sdk/client-s3'
import { STSClient } from '@aws-sdk/client-sts'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { HttpsProxyAgent } from 'https-proxy-agent'
import { InputError } from '../base/errors.js'
import { serviceHost } from '../rules/partition.js'

/** The four clients the action uses. */
export interface AwsClients {
  sts: STSClient
  ecr: ECRClient
  s3: S3Client
  cloudformation: CloudFormationClient
}

/** How the clients reach AWS. */
export interface ClientOptions {
  /** Proxy for every AWS call (the `http-proxy` input); else HTTPS_PROXY/HTTP_PROXY apply. */
  httpProxy?: string
  /** Where proxy and endpoint variables are read; `process.env` unless a test passes its own. */
  env?: Record<string, string | undefined>
  /** Timeouts and attempts; {@link CLIENT_TIMEOUTS} unless a test passes short ones. */
  timeouts?: ClientTimeouts
}

/** Attempts per call, the first included. */
export const MAX_ATTEMPTS = 8

/** How long one call may wait for the network, and how often it is tried. */
export interface ClientTimeouts {
  /** Limit on opening the TCP (and TLS) connection. */
  connectionTimeoutMs: number
  /**
   * Limit on a socket with no traffic in either direction: a stalled endpoint is idle. An idle
   * limit rather than a total one, so a large upload that keeps moving is never cut off.
   */
  socketTimeoutMs: number
  /** Attempts per call, the first included. */
  maxAttempts: number
}

/** The production values: 8 × (3 s + 15 s) + back-off (≤ 12.7 s) ≈ 157 s, under 3 minutes. */
export const CLIENT_TIMEOUTS: ClientTimeouts = {
  connectionTimeoutMs: 3_000,
  socketTimeoutMs: 15_000,
  maxAttempts: MAX_ATTEMPTS
}

/** The most one call to a stalled endpoint may take, all attempts included (issue 12). */
export const CALL_BUDGET_MS = 180_000

/**
 * The longest one call can take when every attempt times out: each attempt waits at most for the
 * connection plus an idle socket, and the SDK's back-off before retry i (0-based) is at most
 * min(100 ms × 2^i, 20 s) for a timeout (a transient error, not throttling).
 */
export function worstCaseCallMs(timeouts: ClientTimeouts): number {
  let backoff = 0
  for (let retry = 0; retry < timeouts.maxAttempts - 1; retry++) {
    backoff += Math.min(100 * 2 ** retry, 20_000)
  }
  return timeouts.maxAttempts * (timeouts.connectionTimeoutMs + timeouts.socketTimeoutMs) + backoff
}

type Service = keyof AwsClients

/** Endpoint host prefix, the service id of `AWS_ENDPOINT_URL_<ID>`, and the name in messages. */
const SERVICES: Record<Service, { prefix: string; id: string; label: string }> = {
  sts: { prefix: 'sts', id: 'STS', label: 'STS' },
  ecr: { prefix: 'api.ecr', id: 'ECR', label: 'ECR' },
  s3: { prefix: 's3', id: 'S3', label: 'S3' },
  cloudformation: { prefix: 'cloudformation', id: 'CLOUDFORMATION', label: 'CloudFormation' }
}

/** Errors that mean the endpoint did not answer (as the SDK classifies them, plus DNS). */
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN'
])

function isNetworkFailure(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false
  const { name, code } = error as { name?: unknown; code?: unknown }
  return name === 'TimeoutError' || (typeof code === 'string' && NETWORK_ERROR_CODES.has(code))
}

/** The part of an SDK client this module extends (typed here: @smithy/types is not a dependency). */
interface WithMiddleware {
  middlewareStack: { add(middleware: never, options: { step: 'initialize'; name: string }): void }
}

/**
 * Rewrites the message of a call that never got an answer so that it names the service, the
 * endpoint and the attempts: the SDK's own ("socket timed out after 15000 ms") names neither.
 * The error's name and fields stay, so callers still classify it.
 */
function nameTheEndpoint(client: WithMiddleware, service: Service, endpoint: URL): void {
  const label = SERVICES[service].label
  const middleware =
    (next: (args: unknown) => Promise<unknown>) =>
    async (args: unknown): Promise<unknown> => {
      try {
        return await next(args)
      } catch (error) {
        if (isNetworkFailure(error) && error instanceof Error) {
          const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts
          const tries = attempts === undefined ? '' : ` after ${attempts} attempts`
          error.message = `${label} endpoint ${endpoint.origin} did not answer${tries} (${error.message})`
        }
        throw error
      }
    }
  // Initialize wraps the whole call, retries included, so the message is rewritten once.
  client.middlewareStack.add(middleware as never, {
    step: 'initialize',
    name: 'ociStackDeployNameTheEndpoint'
  })
}

/** A proxy chosen for an endpoint, and where it came from (for the log and errors). */
export interface ProxyChoice {
  url: URL
  source: string
}

/**
 * The SDK tells every process on Node 20 to move to Node 22. The runtime is action.yml's
 * `runs.using`, not the user's to change, so in a user's log the notice is noise; a user who set
 * the SDK's switch keeps their choice.
 */
function quietNodeSupportNotice(): void {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true'
}

/** The four clients for `region`, configured alike (see the module comment). */
export function createAwsClients(region: string, options: ClientOptions = {}): AwsClients {
  quietNodeSupportNotice()
  const env = options.env ?? process.env
  const timeouts = options.timeouts ?? CLIENT_TIMEOUTS
  const config = {
    region,
    maxAttempts: timeouts.maxAttempts,
    retryMode: 'adaptive',
    customUserAgent: 'oci-stack-deploy'
  }
  const handlerTimeouts = {
    connectionTimeout: timeouts.connectionTimeoutMs,
    socketTimeout: timeouts.socketTimeoutMs
  }
  const agents = new Map<string, HttpsProxyAgent<string>>()
  const logged = new Set<string>()
  const configFor = (service: Service) => {
    const proxy = chooseProxy(endpointFor(service, region, env), options.httpProxy, env)
    if (proxy === undefined) {
      return { ...config, requestHandler: new NodeHttpHandler(handlerTimeouts) }
    }
    const key = proxy.url.href
    let agent = agents.get(key)
    if (agent === undefined) {
      // keepAlive and maxSockets as the SDK's own default agents have them.
      agent = new HttpsProxyAgent(key, { keepAlive: true, maxSockets: 50 })
      agents.set(key, agent)
    }
    if (!logged.has(key)) {
      logged.add(key)
      if (proxy.url.password) log.secret(decodeURIComponent(proxy.url.password))
      log.info(`AWS calls go through the proxy ${redact(proxy.url)} (from ${proxy.source})`)
    }
    return {
      ...config,
      // One agent serves both: HttpsProxyAgent tunnels plain HTTP through CONNECT too.
      requestHandler: new NodeHttpHandler({
        httpAgent: agent,
        httpsAgent: agent,
        ...handlerTimeouts
      })
    }
  }
  const clients: AwsClients = {
    sts: new STSClient(configFor('sts')),
    ecr: new ECRClient(configFor('ecr')),
    s3: new S3Client(configFor('s3')),
    cloudformation: new CloudFormationClient(configFor('cloudformation'))
  }
  for (const service of Object.keys(clients) as Service[]) {
    nameTheEndpoint(clients[service], service, endpointFor(service, region, env))
  }
  return clients
}

/** The endpoint a service's client calls: `AWS_ENDPOINT_URL_<ID>`, `AWS_ENDPOINT_URL`, else AWS's. */
export function endpointFor(
  service: Service,
  region: string,
  env: Record<string, string | undefined>
): URL {
  const { prefix, id } = SERVICES[service]
  const configured = env[`AWS_ENDPOINT_URL_${id}`] || env['AWS_ENDPOINT_URL']
  if (configured) {
    try {
      return new URL(configured)
    } catch {
      // The SDK reports a bad endpoint itself; for the proxy decision fall back to AWS's host.
    }
  }
  return new URL(`https://${serviceHost(prefix, region)}`)
}

/**
 * The proxy for `endpoint`, or undefined for a direct connection. NO_PROXY/no_proxy applies to
 * the `http-proxy` input and to the variables alike; for an https endpoint HTTPS_PROXY wins over
 * HTTP_PROXY (lower-case spellings first, as curl reads them).
 */
export function chooseProxy(
  endpoint: URL,
  explicit: string | undefined,
  env: Record<string, string | undefined>
): ProxyChoice | undefined {
  if (bypassesProxy(endpoint, env['no_proxy'] || env['NO_PROXY'])) return undefined
  const names =
    endpoint.protocol === 'https:'
      ? ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY']
      : ['http_proxy', 'HTTP_PROXY']
  const candidates: Array<[string, string | undefined]> = [
    ['the http-proxy input', explicit],
    ...names.map((name): [string, string | undefined] => [name, env[name]])
  ]
  for (const [source, value] of candidates) {
    if (value === undefined || value.trim() === '') continue
    return { url: parseProxyUrl(value.trim(), source), source }
  }
  return undefined
}

/** `proxy:3128` means `http://proxy:3128`; only http and https proxies are supported. */
export function parseProxyUrl(value: string, source: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new InputError(
      `The proxy URL from ${source} is not a valid URL: give it as http://host:port.`
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(
      `The proxy URL from ${source} uses ${url.protocol.slice(0, -1)}: only http:// and https:// proxies are supported.`
    )
  }
  return url
}

/**
 * True when NO_PROXY names the endpoint: `*`, a host (which also covers its subdomains; a leading
 * `.` or `*.` is allowed), optionally with `:port`. CIDR ranges are not supported.
 */
export function bypassesProxy(endpoint: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false
  const host = endpoint.hostname.toLowerCase().replace(/^\[|\]$/g, '')
  const port = endpoint.port || (endpoint.protocol === 'https:' ? '443' : '80')
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase()
    if (entry === '') continue
    if (entry === '*') return true
    let entryHost = entry
    let entryPort: string | undefined
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry)
    const withPort = /^([^:]+):(\d+)$/.exec(entry)
    if (bracketed) [, entryHost = '', entryPort] = bracketed
    else if (withPort) [, entryHost = '', entryPort] = withPort
    if (entryPort !== undefined && entryPort !== port) continue
    entryHost = entryHost.replace(/^\*?\./, '')
    if (host === entryHost || host.endsWith(`.${entryHost}`)) return true
  }
  return false
}

/** The proxy URL for the log, its user info (name and password) shown as `***`. */
function redact(url: URL): string {
  return hideUserInfo(url.href.replace(/\/$/, ''))
}
