/**
 * The sticky pull-request comment of preview deploys: one comment per stack, found again by a hidden
 * marker and edited in place on every push. A comment is a courtesy: nothing here ever fails a deploy,
 * every GitHub error becomes a `log.warning`.
 */
import * as log from '../base/log.js'
import * as github from '@actions/github'
import { errorMessage } from '../base/errors.js'
import {
  escapeMarkdownText,
  fence,
  linkDestination,
  markdownCode,
  markdownLinkOrCode,
  markdownTable
} from './markdown.js'

/** The GitHub Actions context, as `@actions/github` builds it from the environment. */
export type GitHubContext = typeof github.context

/** What the comment reads from the context: the event, the repository and the run. */
export type CommentContext = Pick<
  GitHubContext,
  'eventName' | 'payload' | 'repo' | 'serverUrl' | 'runId'
>

/** The issue (pull request) a comment goes to. */
export interface PullRequestTarget {
  owner: string
  repo: string
  /** The pull request's number: comments on pull requests are issue comments. */
  issueNumber: number
}

/** What the comment shows about one deploy of one stack. */
export interface CommentContent {
  stackName: string
  /** deployed: change set executed; review: change set made, not executed; deleted: preview removed. */
  state: 'deployed' | 'no-changes' | 'review' | 'failed' | 'deleted'
  stackStatus?: string
  imageUri?: string
  imageDigest?: string
  /** Stack outputs, key → value; http(s) values become links. */
  outputs?: Record<string, string>
  /** The change set as a ready Markdown table. */
  changesMarkdown?: string
  /** Why the deploy failed (state 'failed'). */
  error?: string
  /** Link to the workflow run; `postPullRequestComment` fills it from the context when absent. */
  runUrl?: string
  buildId?: string
}

/** An issue comment as the REST API returns it; only what the lookup reads. */
export interface IssueComment {
  id: number
  body?: string | undefined
  html_url?: string
  user?: { login: string; type?: string } | null
}

/**
 * Parameters of `GET /repos/{owner}/{repo}/issues/{issue_number}/comments` (a type, not an interface,
 * so Octokit's index-signed request parameters accept it).
 */
export type ListCommentsParameters = {
  owner: string
  repo: string
  issue_number: number
  per_page?: number
  page?: number
}

type ListComments = (params: ListCommentsParameters) => Promise<{ data: IssueComment[] }>

/**
 * The part of an Octokit client this module uses. `github.getOctokit(token)` satisfies it; tests pass a
 * fake with jest functions.
 */
export interface CommentsClient {
  rest: {
    issues: {
      listComments: ListComments
      createComment(params: {
        owner: string
        repo: string
        issue_number: number
        body: string
      }): Promise<{ data: IssueComment }>
      updateComment(params: {
        owner: string
        repo: string
        comment_id: number
        body: string
      }): Promise<{ data: IssueComment }>
    }
  }
  /** Calls `method` page after page and concatenates the items. */
  paginate(method: ListComments, params: ListCommentsParameters): Promise<IssueComment[]>
}

/** GitHub rejects comment bodies longer than this. */
export const MAX_COMMENT_LENGTH = 65536

const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target'])

/** The pull request the workflow runs for; undefined for any other event (push, schedule, …). */
export function pullRequestTarget(
  context: Pick<GitHubContext, 'eventName' | 'payload' | 'repo'> = github.context
): PullRequestTarget | undefined {
  if (!PULL_REQUEST_EVENTS.has(context.eventName)) return undefined
  const number: unknown = context.payload.pull_request?.number
  if (typeof number !== 'number') return undefined
  try {
    const { owner, repo } = context.repo
    return { owner, repo, issueNumber: number }
  } catch {
    // context.repo throws when neither GITHUB_REPOSITORY nor the payload names the repository.
    return undefined
  }
}

/** The hidden line that identifies a stack's comment among all the pull request's comments. */
export function commentMarker(stackName: string): string {
  return `<!-- oci-stack-deploy stack=${stackName} -->`
}

/** Link to the workflow run, or undefined when the context does not name one. */
export function runUrl(
  context: Pick<GitHubContext, 'serverUrl' | 'runId' | 'repo'> = github.context
): string | undefined {
  if (!context.serverUrl || !context.runId) return undefined
  try {
    const { owner, repo } = context.repo
    return `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}`
  } catch {
    return undefined
  }
}

const HEADINGS: Record<CommentContent['state'], (stack: string) => string> = {
  deployed: (stack) => `Stack ${stack} deployed`,
  'no-changes': (stack) => `Stack ${stack} is up to date: no changes`,
  review: (stack) => `Stack ${stack}: change set ready for review, not executed`,
  failed: (stack) => `Stack ${stack}: deploy failed`,
  deleted: (stack) => `Stack ${stack}: preview deleted`
}

/** The comment's Markdown: marker, status heading, image and stack table, outputs, changes, footer. */
export function renderComment(content: CommentContent): string {
  const body = render(content, true)
  if (body.length <= MAX_COMMENT_LENGTH) return body
  // The change set is the only part without a natural bound (one row per resource).
  return render(content, false).slice(0, MAX_COMMENT_LENGTH)
}

function render(content: CommentContent, withChanges: boolean): string {
  const sections: string[] = [
    commentMarker(content.stackName),
    `### ${escapeMarkdownText(HEADINGS[content.state](content.stackName))}`
  ]

  if (content.state === 'deleted') {
    sections.push(
      `The preview stack ${markdownCode(content.stackName)} was deleted; its resources and URLs are gone.`
    )
  }

  const details: Array<[string, string]> = []
  if (content.stackStatus) details.push(['Stack status', markdownCode(content.stackStatus)])
  if (content.imageUri) details.push(['Image', markdownCode(content.imageUri)])
  if (content.imageDigest) details.push(['Digest', markdownCode(content.imageDigest)])
  if (details.length > 0) sections.push(markdownTable(['Item', 'Value'], details))

  if (content.state === 'failed') {
    sections.push(fence(content.error?.trim() || 'No error message was given.'))
  }

  // Once the stack is deleted its outputs point nowhere.
  const outputs = Object.entries(content.outputs ?? {})
  if (content.state !== 'deleted' && outputs.length > 0) {
    sections.push(
      '#### Stack outputs',
      markdownTable(
        ['Key', 'Value'],
        outputs.map(([key, value]) => [markdownCode(key), markdownLinkOrCode(value)])
      )
    )
  }

  const changes = content.changesMarkdown?.trim() ?? ''
  if (content.state === 'review') {
    sections.push('#### Change set (not executed)')
    if (!withChanges) {
      sections.push('The change set is too long for a comment: see the job summary.')
    } else {
      sections.push(changes || 'The change set has no changes.')
    }
  } else if (changes && content.state !== 'deleted') {
    sections.push(
      '#### Changes',
      withChanges ? changes : 'The change list is too long for a comment: see the job summary.'
    )
  }

  const footer: string[] = []
  if (content.buildId) footer.push(`Build ${markdownCode(content.buildId)}`)
  if (content.runUrl) footer.push(`[Workflow run](${linkDestination(content.runUrl)})`)
  footer.push('oci-stack-deploy')
  sections.push(`<sub>${footer.join(' · ')}</sub>`)

  return sections.join('\n\n') + '\n'
}

/** Waits between attempts after a GitHub server error (5xx) or a lost connection. */
export interface CommentRetry {
  /** One delay per retry; `[]` tries once. */
  delaysMs: number[]
  sleep?: (ms: number) => Promise<void>
}

/** Two retries, 1 s and 3 s apart: a 5xx from GitHub is usually gone within seconds. */
export const DEFAULT_COMMENT_RETRY: CommentRetry = { delaysMs: [1000, 3000] }

/**
 * Creates the stack's comment on the pull request, or updates the one found by its marker.
 * Never throws: a permission problem or any other GitHub error is a warning and 'skipped'. A server
 * error (5xx) or a lost connection is retried from the lookup on, so a create whose answer was
 * lost is found by its marker and updated, never posted twice.
 */
export async function upsertComment(
  octokit: CommentsClient,
  target: PullRequestTarget,
  stackName: string,
  body: string,
  retry: CommentRetry = DEFAULT_COMMENT_RETRY
): Promise<'created' | 'updated' | 'skipped'> {
  const where = `pull request #${target.issueNumber} (${target.owner}/${target.repo})`
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  for (let attempt = 0; ; attempt++) {
    try {
      return await upsertOnce(octokit, target, stackName, body, where)
    } catch (error) {
      const delay = retry.delaysMs[attempt]
      const status = httpStatus(error)
      const transient = status === undefined || status >= 500
      if (!transient || delay === undefined) {
        log.warning(commentWarning(error, stackName, where))
        return 'skipped'
      }
      log.info(
        `GitHub answered ${status ? `HTTP ${status}` : errorMessage(error)} for the comment; trying again in ${delay / 1000} s.`
      )
      await sleep(delay)
    }
  }
}

async function upsertOnce(
  octokit: CommentsClient,
  target: PullRequestTarget,
  stackName: string,
  body: string,
  where: string
): Promise<'created' | 'updated'> {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issueNumber,
    per_page: 100
  })
  const existing = findComment(comments, stackName)
  if (existing) {
    const { data } = await octokit.rest.issues.updateComment({
      owner: target.owner,
      repo: target.repo,
      comment_id: existing.id,
      body
    })
    log.info(`Updated the comment for stack ${stackName} on ${where}: ${data.html_url ?? data.id}`)
    return 'updated'
  }
  const { data } = await octokit.rest.issues.createComment({
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issueNumber,
    body
  })
  log.info(`Commented on ${where} for stack ${stackName}: ${data.html_url ?? data.id}`)
  return 'created'
}

/**
 * The comment carrying the stack's marker. One written by a bot (the workflow's GITHUB_TOKEN) wins over
 * one written by a person, who may have quoted it; with a personal token every match is by a user.
 */
export function findComment(comments: IssueComment[], stackName: string): IssueComment | undefined {
  const marker = commentMarker(stackName)
  const matches = comments.filter((c) => c.body?.includes(marker))
  return matches.find((c) => c.user?.type === 'Bot') ?? matches[0]
}

/** True for the answers GitHub gives a token that may not comment here. */
export function isPermissionError(error: unknown): boolean {
  const status = httpStatus(error)
  return (
    status === 403 ||
    status === 404 ||
    /Resource not accessible by (integration|personal access token)/i.test(errorMessage(error))
  )
}

function httpStatus(error: unknown): number | undefined {
  if (error !== null && typeof error === 'object' && 'status' in error) {
    const status = error.status
    if (typeof status === 'number') return status
  }
  return undefined
}

function commentWarning(error: unknown, stackName: string, where: string): string {
  const status = httpStatus(error)
  const reason = `${status ? `HTTP ${status}: ` : ''}${errorMessage(error)}`
  if (isPermissionError(error)) {
    return (
      `Could not write the comment for stack ${stackName} on ${where} (${reason}). ` +
      `The token may not write comments here: pull requests from forks get a read-only GITHUB_TOKEN, ` +
      `otherwise add 'permissions: { pull-requests: write, issues: write }' to the job. ` +
      `The deploy itself is not affected.`
    )
  }
  return `Could not write the comment for stack ${stackName} on ${where} (${reason}). The deploy itself is not affected.`
}

/**
 * Renders and posts the stack's comment when the workflow runs for a pull request; 'skipped' (without
 * calling GitHub) for other events, and with a warning when there is no token.
 */
export async function postPullRequestComment(
  token: string,
  stackName: string,
  content: CommentContent,
  context: CommentContext = github.context,
  octokitFactory: (token: string) => CommentsClient = github.getOctokit,
  retry: CommentRetry = DEFAULT_COMMENT_RETRY
): Promise<'created' | 'updated' | 'skipped'> {
  const target = pullRequestTarget(context)
  if (!target) return 'skipped'
  if (!token.trim()) {
    log.warning(
      `No GitHub token to comment on pull request #${target.issueNumber}: set the 'github-token' input (default: github.token).`
    )
    return 'skipped'
  }
  try {
    const body = renderComment({
      ...content,
      stackName,
      runUrl: content.runUrl ?? runUrl(context)
    })
    return await upsertComment(octokitFactory(token), target, stackName, body, retry)
  } catch (error) {
    // upsertComment never throws; this catches a client that could not be built.
    log.warning(
      `Could not comment on pull request #${target.issueNumber} for stack ${stackName}: ${errorMessage(error)}. The deploy itself is not affected.`
    )
    return 'skipped'
  }
}
