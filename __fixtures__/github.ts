/**
 * Typed stand-ins for `@actions/github`: an Octokit that serves issue comments page by page as the REST
 * API does, HTTP errors shaped like Octokit's RequestError, and workflow contexts for each event.
 */
import { jest } from '@jest/globals'
import type {
  CommentContext,
  CommentsClient,
  IssueComment,
  ListCommentsParameters
} from '../src/report/pr-comment.js'

export const OWNER = 'octo-org'
export const REPO = 'hello-service'
export const PR_NUMBER = 17
export const RUN_ID = 9876543210
export const RUN_URL = `https://github.com/${OWNER}/${REPO}/actions/runs/${RUN_ID}`

type Issues = CommentsClient['rest']['issues']

/** A fake client whose methods are jest functions; `comments` is the pull request's comment list. */
export interface FakeOctokit extends CommentsClient {
  rest: {
    issues: {
      listComments: jest.Mock<Issues['listComments']>
      createComment: jest.Mock<Issues['createComment']>
      updateComment: jest.Mock<Issues['updateComment']>
    }
  }
  paginate: jest.Mock<CommentsClient['paginate']>
  comments: IssueComment[]
}

/**
 * An Octokit over `comments`. `listComments` pages like GitHub (30 a page unless `per_page`, pages from
 * 1); `paginate` asks for pages until one comes back short, as Octokit stops when no `next` link is left.
 * Created comments get ids from 1000 and are appended.
 */
export function fakeOctokit(comments: IssueComment[] = []): FakeOctokit {
  const state = [...comments]
  let nextId = 1000
  const listComments = jest.fn<Issues['listComments']>(async (params) => {
    const perPage = params.per_page ?? 30
    const page = params.page ?? 1
    return { data: state.slice((page - 1) * perPage, page * perPage) }
  })
  const paginate = jest.fn<CommentsClient['paginate']>(
    async (method, params: ListCommentsParameters) => {
      const perPage = params.per_page ?? 30
      const all: IssueComment[] = []
      for (let page = 1; ; page++) {
        const { data } = await method({ ...params, page })
        all.push(...data)
        if (data.length < perPage) return all
      }
    }
  )
  return {
    comments: state,
    paginate,
    rest: {
      issues: {
        listComments,
        createComment: jest.fn<Issues['createComment']>(async ({ body }) => {
          const created = botComment(nextId++, body)
          state.push(created)
          return { data: created }
        }),
        updateComment: jest.fn<Issues['updateComment']>(async ({ comment_id, body }) => {
          const found = state.find((c) => c.id === comment_id)
          if (!found) throw httpError(404, 'Not Found')
          found.body = body
          return { data: found }
        })
      }
    }
  }
}

/** A comment written by the workflow's GITHUB_TOKEN. */
export function botComment(id: number, body: string): IssueComment {
  return {
    id,
    body,
    html_url: `https://github.com/${OWNER}/${REPO}/pull/${PR_NUMBER}#issuecomment-${id}`,
    user: { login: 'github-actions[bot]', type: 'Bot' }
  }
}

/** A comment written by a person. */
export function userComment(id: number, body: string, login = 'octocat'): IssueComment {
  return {
    id,
    body,
    html_url: `https://github.com/${OWNER}/${REPO}/pull/${PR_NUMBER}#issuecomment-${id}`,
    user: { login, type: 'User' }
  }
}

/** An error shaped like Octokit's RequestError: what the code reads is `status` and `message`. */
export function httpError(status: number, message: string): Error & { status: number } {
  const error = Object.assign(new Error(message), { status })
  error.name = 'HttpError'
  return error
}

/** A workflow context for `eventName`; pull request events carry PR_NUMBER in their payload. */
export function fakeContext(
  eventName: string,
  overrides: Partial<CommentContext> = {}
): CommentContext {
  const isPullRequest = eventName === 'pull_request' || eventName === 'pull_request_target'
  return {
    eventName,
    payload: isPullRequest
      ? { action: 'synchronize', number: PR_NUMBER, pull_request: { number: PR_NUMBER } }
      : { ref: 'refs/heads/main' },
    repo: { owner: OWNER, repo: REPO },
    serverUrl: 'https://github.com',
    runId: RUN_ID,
    ...overrides
  }
}
