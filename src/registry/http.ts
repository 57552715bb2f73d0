/**
 * The Docker Registry HTTP API v2 as the action speaks it: Basic auth with the ECR login, retries
 * on 5xx, 429 and network failures, the registry's `{errors: […]}` bodies, and messages that name
 * the ECR permission a refusal means and never the password. The transport is transport.ts's
 * `nodeFetch` (node:https, already loaded by the SDK), not Node's global `fetch`; no SDK.
 */
import type { RegistryLogin } from '../base/registry-login.js'
import { DeployError, errorMessage } from '../base/errors.js'
import { nodeFetch } from './transport.js'

/** How to reach the registry; the defaults suit ECR. */
export interface RegistryOptions {
  /** `https` (default; ECR) or `http` (a local test registry). */
  scheme?: 'https' | 'http'
  /** Per-request limit (default 30 s). */
  timeoutMs?: number
  /** Waits before each retry of a 5xx, 429 or network failure (default 1 s, 3 s). */
  retryDelaysMs?: number[]
}

/** What a registry call needs from outside: `fetch` and the options (tests pass their own). */
export interface RegistryHttp {
  fetch: typeof fetch
  options: RegistryOptions
}

/** The production transport: node:https (transport.ts), the default timeouts and retries. */
export const DEFAULT_REGISTRY_HTTP: RegistryHttp = {
  fetch: nodeFetch,
  options: {}
}

/** One repository in one registry, and the login that reaches it. */
export interface RegistryRepository {
  login: RegistryLogin
  repository: string
}

/** What a call is for, so a refusal can say what was refused and which permission it needs. */
export interface CallPurpose {
  /** `reading blob sha256:… of repository 'x' on host` */
  doing: string
  /** The ECR permission that call needs (`ecr:PutImage`). */
  permission: string
  repository: string
  /** Who must be granted it ('the deploy role' unless said). */
  grantee?: string
}

/** One entry of a registry's error body. */
export interface RegistryErrorEntry {
  code: string
  message: string
}

/** The `Authorization` header value for a login. */
export function basicAuthorization(login: RegistryLogin): string {
  return `Basic ${Buffer.from(`${login.username}:${login.password}`, 'utf8').toString('base64')}`
}

/** `<scheme>://<registry>/v2/<path>` */
export function registryUrl(login: RegistryLogin, path: string, options: RegistryOptions): string {
  return `${options.scheme ?? 'https'}://${login.registry}/v2/${path}`
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown
  } catch {
    return undefined
  }
}

/** The `{errors: [{code, message}]}` body of a registry error, if it has one. */
export function parseErrors(body: Buffer): RegistryErrorEntry[] {
  const parsed = parseJson(body)
  if (!isRecord(parsed) || !Array.isArray(parsed['errors'])) return []
  return parsed['errors'].filter(isRecord).map((e) => ({
    code: typeof e['code'] === 'string' ? e['code'] : '',
    message: typeof e['message'] === 'string' ? e['message'] : ''
  }))
}

/** ` (CODE: message; …)` for an error body, '' when it has none. */
export function errorSuffix(errors: RegistryErrorEntry[]): string {
  const detail = errors
    .map((e) => [e.code, e.message].filter((part) => part !== '').join(': '))
    .join('; ')
  return detail === '' ? '' : ` (${detail})`
}

/**
 * fetch's "fetch failed" hides the reason in `cause`. Read by shape, not `instanceof`: fetch's
 * errors may come from another realm (a test runner's VM context).
 */
export function networkMessage(error: unknown): string {
  const describe = (value: unknown): string => {
    if (!isRecord(value)) return errorMessage(value)
    const message = typeof value['message'] === 'string' ? value['message'] : ''
    const code = typeof value['code'] === 'string' ? value['code'] : ''
    return message || code || errorMessage(value)
  }
  const cause = isRecord(error) ? error['cause'] : undefined
  return cause === undefined ? describe(error) : `${describe(error)} (${describe(cause)})`
}

/** The text with the password and the Authorization header taken out. */
export function redact(text: string, login: RegistryLogin): string {
  const authorization = basicAuthorization(login)
  let result = text
  for (const secret of [authorization, authorization.slice('Basic '.length), login.password]) {
    if (secret !== '') result = result.split(secret).join('***')
  }
  return result
}

export function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms))
}

/** True for the answers a registry call is retried on. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500
}

/** A failure worth trying again (network, 5xx, 429); anything else is final. */
export class RetryableRegistryError extends DeployError {
  override name = 'RetryableRegistryError'
}

/**
 * The error for an answer that is not what the call needed: 401 and 403 name the permission (and
 * who needs it), anything else the status; the password never appears.
 */
export function refusal(
  response: Response,
  body: Buffer,
  login: RegistryLogin,
  purpose: CallPurpose
): DeployError {
  const suffix = redact(errorSuffix(parseErrors(body)), login)
  const grantee = purpose.grantee ?? 'the deploy role'
  if (response.status === 401) {
    return new DeployError(
      `The registry refused the login when ${purpose.doing} (HTTP 401${suffix}): the ECR token may have expired, or ${grantee} lacks ${purpose.permission} on '${purpose.repository}'.`
    )
  }
  if (response.status === 403) {
    return new DeployError(
      `Access denied ${purpose.doing} (HTTP 403${suffix}): grant ${grantee} ${purpose.permission} on repository '${purpose.repository}'.`
    )
  }
  const message = `${capitalize(purpose.doing)} failed: HTTP ${response.status} ${redact(response.statusText, login)}${suffix}.`
  return isRetryableStatus(response.status)
    ? new RetryableRegistryError(message)
    : new DeployError(message)
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

/**
 * Runs `attempt` and tries it again, after each of `delays`, while it fails with a
 * RetryableRegistryError; the last failure is thrown.
 */
export async function withRetries<T>(delays: number[], attempt: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt()
    } catch (error) {
      if (!(error instanceof RetryableRegistryError) || i >= delays.length) throw error
      await sleep(delays[i] ?? 0)
    }
  }
}

/** A request to a registry; the Authorization header goes only to the registry's own origin. */
export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'PUT'
  /** A path under `/v2/`, or an absolute URL (an upload's `Location`). */
  url: string
  headers?: Record<string, string>
  body?: Buffer | ReadableStream<Uint8Array>
  /** Limit for the whole exchange, body included (default: the options' per-request limit). */
  timeoutMs?: number
}

/**
 * Sends one request. A network failure becomes a RetryableRegistryError naming the purpose; the
 * answer is returned whatever its status (the caller decides). Redirects are not followed: a blob
 * read follows them itself, without the registry's Authorization header.
 */
export async function send(
  http: RegistryHttp,
  login: RegistryLogin,
  request: RegistryRequest,
  purpose: Pick<CallPurpose, 'doing'>
): Promise<Response> {
  const base = registryUrl(login, '', http.options)
  const url = new URL(request.url, base)
  const sameOrigin = url.origin === new URL(base).origin
  const headers = {
    ...(sameOrigin ? { Authorization: basicAuthorization(login) } : {}),
    ...request.headers
  }
  const streamed = request.body !== undefined && !Buffer.isBuffer(request.body)
  try {
    return await http.fetch(url, {
      method: request.method,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(request.timeoutMs ?? http.options.timeoutMs ?? 30_000),
      ...(request.body === undefined ? {} : { body: request.body }),
      // A streamed body must say so to Node's fetch.
      ...(streamed ? { duplex: 'half' } : {})
    })
  } catch (error) {
    throw new RetryableRegistryError(
      `Could not reach the registry when ${purpose.doing}: ${redact(networkMessage(error), login)}`
    )
  }
}
