import { escapeCell } from '../../src/report/markdown.js'
import { afterAll, afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { captureStdout } from '../../__fixtures__/aws.js'
import { startGitHubServer } from '../../__fixtures__/github-server.js'
import {
  botComment,
  fakeContext,
  fakeOctokit,
  httpError,
  OWNER,
  PR_NUMBER,
  REPO,
  RUN_ID,
  RUN_URL,
  userComment
} from '../../__fixtures__/github.js'
import type { CommentContent, CommentsClient, IssueComment } from '../../src/report/pr-comment.js'

// @actions/github reads GITHUB_API_URL once, when it is first imported (lib/utils.js builds its
// defaults at load), not at getOctokit time: the server must be up and named before the import.
const server = await startGitHubServer()
const savedApiUrl = process.env['GITHUB_API_URL']
process.env['GITHUB_API_URL'] = server.url
const {
  commentMarker,
  findComment,
  isPermissionError,
  MAX_COMMENT_LENGTH,
  postPullRequestComment,
  pullRequestTarget,
  renderComment,
  runUrl,
  upsertComment
} = await import('../../src/report/pr-comment.js')

afterAll(async () => {
  await server.close()
  if (savedApiUrl === undefined) delete process.env['GITHUB_API_URL']
  else process.env['GITHUB_API_URL'] = savedApiUrl
})

const STACK = 'hello-svc-pr-17'
const MARKER = `<!-- oci-stack-deploy stack=${STACK} -->`
const TARGET = { owner: OWNER, repo: REPO, issueNumber: PR_NUMBER }
const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello:b42'
const DIGEST = `sha256:${'ab'.repeat(32)}`
const CHANGES = [
  '| Action | Logical id | Type | Replacement |',
  '| --- | --- | --- | --- |',
  '| Modify | HelloFunction | AWS::Lambda::Function | False |'
].join('\n')

function content(overrides: Partial<CommentContent> = {}): CommentContent {
  return {
    stackName: STACK,
    state: 'deployed',
    stackStatus: 'UPDATE_COMPLETE',
    imageUri: IMAGE,
    imageDigest: DIGEST,
    outputs: {
      ApiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod',
      FunctionName: 'hello-svc-pr-17-HelloFunction-1'
    },
    buildId: 'b42',
    runUrl: RUN_URL,
    ...overrides
  }
}

let stdout: ReturnType<typeof captureStdout>
beforeEach(() => {
  stdout = captureStdout()
})
afterEach(() => {
  stdout.restore()
})

const warnings = () => stdout.lines().filter((line) => line.startsWith('::warning::'))

describe('pullRequestTarget', () => {
  it.each(['pull_request', 'pull_request_target'])(
    'reads the pull request of a %s event',
    (event) => {
      expect(pullRequestTarget(fakeContext(event))).toEqual({
        owner: OWNER,
        repo: REPO,
        issueNumber: PR_NUMBER
      })
    }
  )

  it.each(['push', 'workflow_dispatch', 'schedule'])('is undefined for a %s event', (event) => {
    expect(pullRequestTarget(fakeContext(event))).toBeUndefined()
  })

  it('is undefined for a pull request event whose payload has no number', () => {
    expect(
      pullRequestTarget(fakeContext('pull_request', { payload: { action: 'opened' } }))
    ).toBeUndefined()
  })

  it('is undefined when the repository cannot be named', () => {
    const context = {
      ...fakeContext('pull_request'),
      get repo(): { owner: string; repo: string } {
        throw new Error(
          "context.repo requires a GITHUB_REPOSITORY environment variable like 'owner/repo'"
        )
      }
    }
    expect(pullRequestTarget(context)).toBeUndefined()
  })
})

describe('commentMarker', () => {
  it('is a hidden HTML comment naming the stack', () => {
    expect(commentMarker('hello-svc')).toBe('<!-- oci-stack-deploy stack=hello-svc -->')
  })
})

describe('runUrl', () => {
  it('links the workflow run on the context’s server', () => {
    expect(runUrl(fakeContext('push'))).toBe(RUN_URL)
    expect(runUrl(fakeContext('push', { serverUrl: 'https://ghe.example.com' }))).toBe(
      `https://ghe.example.com/${OWNER}/${REPO}/actions/runs/${RUN_ID}`
    )
  })

  it('is undefined outside a workflow run', () => {
    expect(runUrl(fakeContext('push', { runId: Number.NaN }))).toBeUndefined()
  })
})

describe('renderComment', () => {
  it('renders a deployed stack: marker, status, image, outputs with links, footer', () => {
    expect(renderComment(content())).toBe(
      [
        MARKER,
        '',
        `### Stack ${STACK} deployed`,
        '',
        '| Item | Value |',
        '| --- | --- |',
        '| Stack status | `UPDATE_COMPLETE` |',
        `| Image | \`${IMAGE}\` |`,
        `| Digest | \`${DIGEST}\` |`,
        '',
        '#### Stack outputs',
        '',
        '| Key | Value |',
        '| --- | --- |',
        '| `ApiUrl` | [https://abc123.execute-api.eu-west-1.amazonaws.com/prod](https://abc123.execute-api.eu-west-1.amazonaws.com/prod) |',
        '| `FunctionName` | `hello-svc-pr-17-HelloFunction-1` |',
        '',
        `<sub>Build \`b42\` · [Workflow run](${RUN_URL}) · oci-stack-deploy</sub>`,
        ''
      ].join('\n')
    )
  })

  it.each<[CommentContent['state'], string]>([
    ['deployed', `### Stack ${STACK} deployed`],
    ['no-changes', `### Stack ${STACK} is up to date: no changes`],
    ['review', `### Stack ${STACK}: change set ready for review, not executed`],
    ['failed', `### Stack ${STACK}: deploy failed`],
    ['deleted', `### Stack ${STACK}: preview deleted`]
  ])('gives state %s the heading "%s", in plain text', (state, heading) => {
    const lines = renderComment(content({ state })).split('\n')
    expect(lines[0]).toBe(MARKER)
    expect(lines[2]).toBe(heading)
    expect(lines[2]).toMatch(/^[\x20-\x7e]+$/)
  })

  it('shows the change set in review mode', () => {
    const body = renderComment(content({ state: 'review', changesMarkdown: CHANGES }))
    expect(body).toContain(`#### Change set (not executed)\n\n${CHANGES}\n\n<sub>`)
  })

  it('says so when a review change set has no changes', () => {
    const body = renderComment(content({ state: 'review' }))
    expect(body).toContain('#### Change set (not executed)\n\nThe change set has no changes.')
  })

  it('lists the changes of an executed change set under "Changes"', () => {
    expect(renderComment(content({ changesMarkdown: CHANGES }))).toContain(
      `#### Changes\n\n${CHANGES}\n\n<sub>`
    )
  })

  it('puts the error of a failed deploy in a code block', () => {
    const error =
      'Stack hello-svc-pr-17 is UPDATE_ROLLBACK_COMPLETE.\nError ensuring AWS::Lambda::Function (HelloFunction): Image not found'
    const body = renderComment(
      content({ state: 'failed', stackStatus: 'UPDATE_ROLLBACK_COMPLETE', error })
    )
    expect(body).toContain(`\n\n\`\`\`text\n${error}\n\`\`\`\n\n`)
  })

  it('fences an error that itself contains a code fence with a longer fence', () => {
    const error = 'template says:\n```\nbad\n```'
    expect(renderComment(content({ state: 'failed', error }))).toContain(
      `\`\`\`\`text\n${error}\n\`\`\`\`\n`
    )
  })

  it('says a failed deploy gave no message rather than an empty block', () => {
    expect(renderComment(content({ state: 'failed' }))).toContain(
      '```text\nNo error message was given.\n```'
    )
  })

  it('says the preview stack was deleted and drops its dead outputs and changes', () => {
    const body = renderComment(
      content({ state: 'deleted', stackStatus: 'DELETE_COMPLETE', changesMarkdown: CHANGES })
    )
    expect(body).toContain(
      `The preview stack \`${STACK}\` was deleted; its resources and URLs are gone.`
    )
    expect(body).toContain('| Stack status | `DELETE_COMPLETE` |')
    expect(body).not.toContain('Stack outputs')
    expect(body).not.toContain('execute-api')
    expect(body).not.toContain('HelloFunction')
  })

  it('escapes | and line breaks in table cells', () => {
    const body = renderComment(
      content({
        outputs: { Pipes: 'a|b', Lines: 'first\nsecond', Url: 'https://x.example.com/q?a=1|2' }
      })
    )
    expect(body).toContain('| `Pipes` | `a\\|b` |')
    expect(body).toContain('| `Lines` | first<br>second |')
    expect(body).toContain(
      '| `Url` | [https://x.example.com/q?a=1\\|2](https://x.example.com/q?a=1\\|2) |'
    )
  })

  it('links only http(s) values, and keeps parentheses from ending the link', () => {
    const body = renderComment(
      content({
        outputs: {
          Plain: 'http://example.com/a_(b)',
          Bucket: 's3://bucket/key',
          Arn: 'arn:aws:sns:eu-west-1:123456789012:topic'
        }
      })
    )
    expect(body).toContain(
      '| `Plain` | [http://example.com/a\\_(b)](http://example.com/a_%28b%29) |'
    )
    expect(body).toContain('| `Bucket` | `s3://bucket/key` |')
    expect(body).toContain('| `Arn` | `arn:aws:sns:eu-west-1:123456789012:topic` |')
  })

  it('keeps a value with backticks inside one code span', () => {
    expect(renderComment(content({ outputs: { Tick: 'a`b' } }))).toContain('| `Tick` | ``a`b`` |')
  })

  it('leaves out what it was not given', () => {
    const body = renderComment({ stackName: STACK, state: 'no-changes' })
    expect(body).toBe(
      `${MARKER}\n\n### Stack ${STACK} is up to date: no changes\n\n<sub>oci-stack-deploy</sub>\n`
    )
  })

  it('replaces a change set too long for a comment with a pointer to the job summary', () => {
    const row = '| Add | Function | AWS::Lambda::Function | - |'
    const huge = [CHANGES, ...Array.from({ length: 2000 }, () => row)].join('\n')
    const body = renderComment(content({ state: 'review', changesMarkdown: huge }))
    expect(body.length).toBeLessThanOrEqual(MAX_COMMENT_LENGTH)
    expect(body).toContain('The change set is too long for a comment: see the job summary.')
    expect(body).toContain(RUN_URL)
  })

  it('escapeCell escapes every pipe and every kind of line break', () => {
    expect(escapeCell('a|b|c\r\nd\ne\rf')).toBe('a\\|b\\|c<br>d<br>e<br>f')
  })
})

describe('findComment', () => {
  it('does not take another stack whose name starts with this one', () => {
    const comments = [botComment(1, `${commentMarker(`${STACK}-api`)}\nother`)]
    expect(findComment(comments, STACK)).toBeUndefined()
  })

  it('prefers the bot’s comment over a person’s that quotes the marker', () => {
    const comments = [userComment(1, `> ${MARKER}\nnice`), botComment(2, `${MARKER}\nbody`)]
    expect(findComment(comments, STACK)?.id).toBe(2)
  })

  it('takes a person’s comment when the action runs with a personal token', () => {
    const comments = [userComment(5, `${MARKER}\nbody`, 'deploy-bot-user')]
    expect(findComment(comments, STACK)?.id).toBe(5)
  })
})

describe('upsertComment', () => {
  const others = (): IssueComment[] => [
    userComment(1, 'Looks good to me'),
    botComment(
      2,
      `${commentMarker('hello-svc-pr-17-api')}\n### Stack hello-svc-pr-17-api deployed`
    ),
    botComment(3, 'Coverage: 91%')
  ]

  it('creates the comment when no comment has the stack’s marker', async () => {
    const octokit = fakeOctokit(others())
    const body = renderComment(content())

    await expect(upsertComment(octokit, TARGET, STACK, body)).resolves.toBe('created')

    expect(octokit.paginate).toHaveBeenCalledWith(octokit.rest.issues.listComments, {
      owner: OWNER,
      repo: REPO,
      issue_number: PR_NUMBER,
      per_page: 100
    })
    expect(octokit.rest.issues.createComment).toHaveBeenCalledWith({
      owner: OWNER,
      repo: REPO,
      issue_number: PR_NUMBER,
      body
    })
    expect(octokit.rest.issues.updateComment).not.toHaveBeenCalled()
    expect(stdout.lines()).toContain(
      `Commented on pull request #${PR_NUMBER} (${OWNER}/${REPO}) for stack ${STACK}: https://github.com/${OWNER}/${REPO}/pull/${PR_NUMBER}#issuecomment-1000`
    )
  })

  it('updates the comment with the stack’s marker in place, leaving the others alone', async () => {
    const octokit = fakeOctokit([...others(), botComment(4, `${MARKER}\nold body`)])
    const body = renderComment(content({ buildId: 'b43' }))

    await expect(upsertComment(octokit, TARGET, STACK, body)).resolves.toBe('updated')

    expect(octokit.rest.issues.updateComment).toHaveBeenCalledTimes(1)
    expect(octokit.rest.issues.updateComment).toHaveBeenCalledWith({
      owner: OWNER,
      repo: REPO,
      comment_id: 4,
      body
    })
    expect(octokit.rest.issues.createComment).not.toHaveBeenCalled()
    expect(octokit.comments.map((c) => c.body)).toEqual([...others().map((c) => c.body), body])
    expect(stdout.lines()).toContain(
      `Updated the comment for stack ${STACK} on pull request #${PR_NUMBER} (${OWNER}/${REPO}): https://github.com/${OWNER}/${REPO}/pull/${PR_NUMBER}#issuecomment-4`
    )
  })

  it('finds the marker on a later page of a long conversation', async () => {
    const chatter = Array.from({ length: 150 }, (_, i) => userComment(i + 1, `comment ${i + 1}`))
    chatter.splice(130, 0, botComment(500, `${MARKER}\nold body`))
    const octokit = fakeOctokit(chatter)

    await expect(upsertComment(octokit, TARGET, STACK, 'new body')).resolves.toBe('updated')

    expect(octokit.rest.issues.listComments.mock.calls.map(([p]) => [p.page, p.per_page])).toEqual([
      [1, 100],
      [2, 100]
    ])
    expect(octokit.rest.issues.updateComment).toHaveBeenCalledWith(
      expect.objectContaining({ comment_id: 500, body: 'new body' })
    )
  })

  it('creates one comment per stack, then keeps updating it on later pushes', async () => {
    const octokit = fakeOctokit(others())
    await upsertComment(octokit, TARGET, STACK, renderComment(content({ buildId: 'b1' })))
    await upsertComment(octokit, TARGET, STACK, renderComment(content({ buildId: 'b2' })))
    await upsertComment(octokit, TARGET, STACK, renderComment(content({ buildId: 'b3' })))

    expect(octokit.rest.issues.createComment).toHaveBeenCalledTimes(1)
    expect(octokit.rest.issues.updateComment).toHaveBeenCalledTimes(2)
    const ours = octokit.comments.filter((c) => c.body?.includes(MARKER))
    expect(ours).toHaveLength(1)
    expect(ours[0]?.body).toContain('Build `b3`')
  })

  it.each<[string, 'listComments' | 'createComment', number]>([
    ['listing', 'listComments', 403],
    ['creating', 'createComment', 403],
    ['listing', 'listComments', 404]
  ])(
    'turns HTTP %s while %s into a warning about permissions, never a failure',
    async (_what, method, status) => {
      const octokit = fakeOctokit()
      octokit.rest.issues[method].mockRejectedValue(
        httpError(status, 'Resource not accessible by integration')
      )

      await expect(upsertComment(octokit, TARGET, STACK, 'body')).resolves.toBe('skipped')

      expect(warnings()).toEqual([
        `::warning::Could not write the comment for stack ${STACK} on pull request #${PR_NUMBER} (${OWNER}/${REPO}) (HTTP ${status}: Resource not accessible by integration). The token may not write comments here: pull requests from forks get a read-only GITHUB_TOKEN, otherwise add 'permissions: { pull-requests: write, issues: write }' to the job. The deploy itself is not affected.`
      ])
    }
  )

  it('warns about permissions when updating is refused', async () => {
    const octokit = fakeOctokit([botComment(9, MARKER)])
    octokit.rest.issues.updateComment.mockRejectedValue(httpError(403, 'Forbidden'))

    await expect(upsertComment(octokit, TARGET, STACK, 'body')).resolves.toBe('skipped')

    expect(warnings()).toHaveLength(1)
    expect(warnings()[0]).toContain('(HTTP 403: Forbidden). The token may not write comments here')
  })

  it('warns on any other GitHub error without blaming permissions', async () => {
    const octokit = fakeOctokit()
    octokit.rest.issues.createComment.mockRejectedValue(httpError(502, 'Bad Gateway'))

    await expect(upsertComment(octokit, TARGET, STACK, 'body', { delaysMs: [0, 0] })).resolves.toBe(
      'skipped'
    )

    expect(octokit.rest.issues.createComment).toHaveBeenCalledTimes(3)
    expect(warnings()).toEqual([
      `::warning::Could not write the comment for stack ${STACK} on pull request #${PR_NUMBER} (${OWNER}/${REPO}) (HTTP 502: Bad Gateway). The deploy itself is not affected.`
    ])
  })
})

describe('isPermissionError', () => {
  it.each<[string, unknown, boolean]>([
    ['HTTP 403', httpError(403, 'Forbidden'), true],
    ['HTTP 404 (token cannot see the repository)', httpError(404, 'Not Found'), true],
    ['the message alone', new Error('Resource not accessible by integration'), true],
    [
      'a personal token refused',
      new Error('Resource not accessible by personal access token'),
      true
    ],
    ['HTTP 422', httpError(422, 'Validation Failed'), false],
    ['a network error', new Error('getaddrinfo ENOTFOUND api.github.com'), false]
  ])('%s → %s', (_name, error, expected) => {
    expect(isPermissionError(error)).toBe(expected)
  })
})

describe('postPullRequestComment', () => {
  it('does nothing, and calls no GitHub API, outside a pull request', async () => {
    const factory = jest.fn((_token: string): CommentsClient => fakeOctokit())

    await expect(
      postPullRequestComment('ghs_token', STACK, content(), fakeContext('push'), factory)
    ).resolves.toBe('skipped')

    expect(factory).not.toHaveBeenCalled()
    expect(stdout.lines()).toEqual([])
  })

  it('warns and skips when the token is empty', async () => {
    const factory = jest.fn((_token: string): CommentsClient => fakeOctokit())

    await expect(
      postPullRequestComment(' ', STACK, content(), fakeContext('pull_request'), factory)
    ).resolves.toBe('skipped')

    expect(factory).not.toHaveBeenCalled()
    expect(warnings()).toEqual([
      `::warning::No GitHub token to comment on pull request #${PR_NUMBER}: set the 'github-token' input (default: github.token).`
    ])
  })

  it('posts the rendered comment with the token, linking the run from the context', async () => {
    const octokit = fakeOctokit()
    const factory = jest.fn((_token: string): CommentsClient => octokit)
    const withoutRun = content({ runUrl: undefined })

    await expect(
      postPullRequestComment('ghs_token', STACK, withoutRun, fakeContext('pull_request'), factory)
    ).resolves.toBe('created')

    expect(factory).toHaveBeenCalledWith('ghs_token')
    expect(octokit.rest.issues.createComment).toHaveBeenCalledWith({
      owner: OWNER,
      repo: REPO,
      issue_number: PR_NUMBER,
      body: renderComment(content({ runUrl: RUN_URL }))
    })
  })

  it('marks the comment with the stack it was given', async () => {
    const octokit = fakeOctokit()

    await postPullRequestComment(
      'ghs_token',
      'other-stack',
      content(),
      fakeContext('pull_request_target'),
      () => octokit
    )

    expect(octokit.comments[0]?.body).toMatch(/^<!-- oci-stack-deploy stack=other-stack -->\n/)
  })

  it('updates the same comment when the pull request closes and the preview is deleted', async () => {
    const octokit = fakeOctokit()
    const closed = fakeContext('pull_request', {
      payload: { action: 'closed', number: PR_NUMBER, pull_request: { number: PR_NUMBER } }
    })

    await postPullRequestComment('t', STACK, content(), fakeContext('pull_request'), () => octokit)
    await expect(
      postPullRequestComment(
        't',
        STACK,
        { stackName: STACK, state: 'deleted', stackStatus: 'DELETE_COMPLETE' },
        closed,
        () => octokit
      )
    ).resolves.toBe('updated')

    expect(octokit.comments).toHaveLength(1)
    expect(octokit.comments[0]?.body).toContain(`The preview stack \`${STACK}\` was deleted`)
  })

  it('warns instead of throwing when no client can be built', async () => {
    await expect(
      postPullRequestComment('t', STACK, content(), fakeContext('pull_request'), () => {
        throw new Error('bad proxy URL')
      })
    ).resolves.toBe('skipped')

    expect(warnings()).toEqual([
      `::warning::Could not comment on pull request #${PR_NUMBER} for stack ${STACK}: bad proxy URL. The deploy itself is not affected.`
    ])
  })
})

describe('postPullRequestComment through the real @actions/github client', () => {
  const content: CommentContent = {
    stackName: STACK,
    state: 'deployed',
    stackStatus: 'UPDATE_COMPLETE',
    imageUri: IMAGE
  }
  const post = (body: CommentContent = content) =>
    postPullRequestComment('ghs_test', STACK, body, fakeContext('pull_request'), undefined, {
      delaysMs: [0, 0]
    })
  const stored = () => server.comments.get(`${OWNER}/${REPO}#${PR_NUMBER}`) ?? []

  beforeEach(() => server.reset())

  it('creates the comment on the first run and updates the same one on the next', async () => {
    await expect(post()).resolves.toBe('created')
    await expect(post({ ...content, stackStatus: 'UPDATE_ROLLBACK_COMPLETE' })).resolves.toBe(
      'updated'
    )
    expect(stored()).toHaveLength(1)
    expect(stored()[0]?.body).toContain(MARKER)
    expect(stored()[0]?.body).toContain('`UPDATE_ROLLBACK_COMPLETE`')
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /repos/${OWNER}/${REPO}/issues/${PR_NUMBER}/comments?per_page=100`,
      `POST /repos/${OWNER}/${REPO}/issues/${PR_NUMBER}/comments`,
      `GET /repos/${OWNER}/${REPO}/issues/${PR_NUMBER}/comments?per_page=100`,
      `PATCH /repos/${OWNER}/${REPO}/issues/comments/${stored()[0]?.id}`
    ])
    expect(server.requests[0]?.authorization).toBe('token ghs_test')
  })

  it('finds its comment on a later page, as Octokit follows the Link header', async () => {
    const others = Array.from({ length: 150 }, (_, i) => ({
      id: i + 1,
      body: `chatter ${i}`,
      user: { login: 'someone', type: 'User' },
      html_url: ''
    }))
    server.comments.set(`${OWNER}/${REPO}#${PR_NUMBER}`, [
      ...others,
      {
        id: 999,
        body: `${MARKER}\nold`,
        user: { login: 'github-actions[bot]', type: 'Bot' },
        html_url: ''
      }
    ])
    await expect(post()).resolves.toBe('updated')
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'PATCH'])
    expect(stored().find((c) => c.id === 999)?.body).toContain('Stack hello-svc-pr-17 deployed')
  })

  it('warns when the token may not comment (a pull request from a fork)', async () => {
    server.failNext('GET', 403)
    await expect(post()).resolves.toBe('skipped')
    expect(warnings()).toEqual([
      `::warning::Could not write the comment for stack ${STACK} on pull request #${PR_NUMBER} (${OWNER}/${REPO}) (HTTP 403: Resource not accessible by integration - https://docs.github.com/rest). The token may not write comments here: pull requests from forks get a read-only GITHUB_TOKEN, otherwise add 'permissions: { pull-requests: write, issues: write }' to the job. The deploy itself is not affected.`
    ])
    expect(stored()).toEqual([])
  })

  it('retries a 5xx and comments once', async () => {
    server.failNext('POST', 502)
    await expect(post()).resolves.toBe('created')
    expect(stored()).toHaveLength(1)
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'POST', 'GET', 'POST'])
    expect(warnings()).toEqual([])
  })

  it('warns when the 5xx lasts, and the step goes on', async () => {
    server.failNext('GET', 503, 3)
    await expect(post()).resolves.toBe('skipped')
    expect(server.requests).toHaveLength(3)
    expect(warnings()).toEqual([
      `::warning::Could not write the comment for stack ${STACK} on pull request #${PR_NUMBER} (${OWNER}/${REPO}) (HTTP 503: Server Error - https://docs.github.com/rest). The deploy itself is not affected.`
    ])
  })
})
