/**
 * A small GitHub REST server on loopback for the issue-comment calls the pull-request comment makes,
 * so tests run the real `@actions/github` client (Octokit, its pagination and its errors) against
 * it. Point GITHUB_API_URL at `url` before `@actions/github` is first imported: it reads the
 * variable once, when the module loads, not at `getOctokit` time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface StoredComment {
  id: number
  body: string
  user: { login: string; type: string }
  html_url: string
}

export interface RecordedRequest {
  method: string
  path: string
  authorization: string | undefined
  body?: unknown
}

export interface GitHubServer {
  url: string
  /** Comments per `owner/repo#number`. */
  comments: Map<string, StoredComment[]>
  requests: RecordedRequest[]
  /** The next `times` requests with this method answer `status` (GitHub's error body). */
  failNext(method: 'GET' | 'POST' | 'PATCH', status: number, times?: number): void
  reset(): void
  close(): Promise<void>
}

const LIST = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/
const EDIT = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/

export async function startGitHubServer(): Promise<GitHubServer> {
  const comments = new Map<string, StoredComment[]>()
  const requests: RecordedRequest[] = []
  let faults: Array<{ method: string; status: number }> = []
  let nextId = 5000
  let url = ''

  const send = (res: ServerResponse, status: number, body: unknown, headers = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
    res.end(JSON.stringify(body))
  }
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const parsed = new URL(req.url ?? '/', 'http://localhost')
    const method = req.method ?? 'GET'
    requests.push({
      method,
      path: parsed.pathname + parsed.search,
      authorization: req.headers.authorization,
      ...(text ? { body: JSON.parse(text) as unknown } : {})
    })
    const fault = faults.findIndex((f) => f.method === method)
    if (fault >= 0) {
      const { status } = faults.splice(fault, 1)[0] as { status: number }
      const message = status === 403 ? 'Resource not accessible by integration' : 'Server Error'
      return send(res, status, { message, documentation_url: 'https://docs.github.com/rest' })
    }
    const list = LIST.exec(parsed.pathname)
    if (list) {
      const key = `${list[1]}/${list[2]}#${list[3]}`
      const all = comments.get(key) ?? []
      if (method === 'GET') {
        const perPage = Number(parsed.searchParams.get('per_page') ?? 30)
        const page = Number(parsed.searchParams.get('page') ?? 1)
        const pages = Math.max(1, Math.ceil(all.length / perPage))
        const link =
          page < pages
            ? {
                link: `<${url}${parsed.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next"`
              }
            : {}
        return send(res, 200, all.slice((page - 1) * perPage, page * perPage), link)
      }
      if (method === 'POST') {
        const id = nextId++
        const comment: StoredComment = {
          id,
          body: (JSON.parse(text) as { body: string }).body,
          user: { login: 'github-actions[bot]', type: 'Bot' },
          html_url: `https://github.test/${list[1]}/${list[2]}/pull/${list[3]}#issuecomment-${id}`
        }
        comments.set(key, [...all, comment])
        return send(res, 201, comment)
      }
    }
    const edit = EDIT.exec(parsed.pathname)
    if (edit && method === 'PATCH') {
      for (const list of comments.values()) {
        const comment = list.find((c) => c.id === Number(edit[3]))
        if (comment) {
          comment.body = (JSON.parse(text) as { body: string }).body
          return send(res, 200, comment)
        }
      }
    }
    return send(res, 404, { message: 'Not Found' })
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { message: String(error) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    comments,
    requests,
    failNext(method, status, times = 1) {
      for (let i = 0; i < times; i++) faults.push({ method, status })
    },
    reset() {
      comments.clear()
      requests.length = 0
      faults = []
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
