/**
 * Builds the SDK clients once, all alike: region, retry mode, user agent, proxy. The SDK's own
 * retries (adaptive mode: back-off plus client-side rate limiting) cover throttling and 5xx
 * answers. `AWS_ENDPOINT_URL` is honoured by the SDK itself.
 *
 * The SDK ignores HTTPS_PROXY and friends, so this module applies them: self-hosted runners
 * behind a proxy are common, and without it every AWS call would time out.
 */
import * as core from '@actions/core'
import { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import { ECRClient } from '@aws-sdk/client-ecr'
import { S3Client } from '@aws-sdk/client-s3'
import { STSClient } from '@aws-sdk/client-sts'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { HttpsProxyAgent } from 'https-proxy-agent'
import { InputError } from './errors.js'
import { serviceHost } from './partition.js'

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
}

/** Attempts per call, the first included. */
export const MAX_ATTEMPTS = 8

type Service = keyof AwsClients

/** Endpoint host prefix and the service id of `AWS_ENDPOINT_URL_<ID>`. */
const SERVICES: Record<Service, { prefix: string; id: string }> = {
  sts: { prefix: 'sts', id: 'STS' },
  ecr: { prefix: 'api.ecr', id: 'ECR' },
  s3: { prefix: 's3', id: 'S3' },
  cloudformation: { prefix: 'cloudformation', id: 'CLOUDFORMATION' }
}

/** A proxy chosen for an endpoint, and where it came from (for the log and errors). */
export interface ProxyChoice {
  url: URL
  source: string
}

export function createAwsClients(region: string, options: ClientOptions = {}): AwsClients {
  const env = options.env ?? process.env
  const config = {
    region,
    maxAttempts: MAX_ATTEMPTS,
    retryMode: 'adaptive',
    customUserAgent: 'oci-stack-deploy'
  }
  const agents = new Map<string, HttpsProxyAgent<string>>()
  const logged = new Set<string>()
  const configFor = (service: Service) => {
    const proxy = chooseProxy(endpointFor(service, region, env), options.httpProxy, env)
    if (proxy === undefined) return config
    const key = proxy.url.href
    let agent = agents.get(key)
    if (agent === undefined) {
      // keepAlive and maxSockets as the SDK's own default agents have them.
      agent = new HttpsProxyAgent(key, { keepAlive: true, maxSockets: 50 })
      agents.set(key, agent)
    }
    if (!logged.has(key)) {
      logged.add(key)
      if (proxy.url.password) core.setSecret(decodeURIComponent(proxy.url.password))
      core.info(`AWS calls go through the proxy ${redact(proxy.url)} (from ${proxy.source})`)
    }
    return {
      ...config,
      // One agent serves both: HttpsProxyAgent tunnels plain HTTP through CONNECT too.
      requestHandler: new NodeHttpHandler({ httpAgent: agent, httpsAgent: agent })
    }
  }
  return {
    sts: new STSClient(configFor('sts')),
    ecr: new ECRClient(configFor('ecr')),
    s3: new S3Client(configFor('s3')),
    cloudformation: new CloudFormationClient(configFor('cloudformation'))
  }
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

/** The proxy URL for the log, without its password. */
function redact(url: URL): string {
  const copy = new URL(url.href)
  if (copy.password) copy.password = '***'
  return copy.href.replace(/\/$/, '')
}
