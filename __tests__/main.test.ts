/**
 * run() end to end: real @actions/core (inputs from INPUT_*, outputs and summary in temp files),
 * the real exec runner driving the fake `docker` on PATH, and aws-sdk-client-mock for AWS;
 * the pull-request comment it posts however the run ends.
 */
import { describe, expect, it, jest } from '@jest/globals'
import * as github from '@actions/github'
import {
  CreateChangeSetCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand
} from '@aws-sdk/client-cloudformation'
import { GetBucketLocationCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { awsError } from '../__fixtures__/aws.js'
import { fakeOctokit, OWNER, PR_NUMBER, REPO } from '../__fixtures__/github.js'
import { htmlProblems } from '../__fixtures__/html-check.js'
import {
  BUILD_ID,
  cfn,
  CHANGE_SET_ID,
  clients,
  createdStack,
  ecr,
  failure,
  harness,
  IMAGE_URI,
  installRunHarness,
  noWait,
  readOutputs,
  REGION,
  runAction,
  s3,
  setInputs,
  setOnlyInputs,
  STACK,
  STACK_ID,
  sts,
  summary,
  TEMPLATE_URL,
  useDocker,
  warnings
} from '../__fixtures__/run-harness.js'
import { fakeComment, STACK_OUTPUTS } from '../__fixtures__/run-scenarios.js'
import { run } from '../src/main.js'
import { type CommentContent, postPullRequestComment } from '../src/report/pr-comment.js'

installRunHarness()

describe('run', () => {
  it('fails on a bad input before any docker or AWS call', async () => {
    setInputs({ 'stack-name': '1-bad_name' })
    const fake = useDocker()
    const clientFactory = jest.fn(() => clients)
    await run({ clients: clientFactory, wait: noWait })

    expect(failure()).toBe(
      "Input 'stack-name' ('1-bad_name') is not a valid CloudFormation stack name: start with a letter, use only letters, digits and '-', at most 128 characters."
    )
    expect(process.exitCode).toBe(1)
    expect(fake.calls()).toEqual([])
    expect(clientFactory).not.toHaveBeenCalled()
    for (const mock of [sts, ecr, s3, cfn]) expect(mock.calls()).toHaveLength(0)
  })
})

describe('a deploy that fails after the push', () => {
  /** The stack rolls back: the function failed, CloudFormation undid the create. */
  function mockRollback(): void {
    cfn
      .on(DescribeStacksCommand, { StackName: STACK_ID })
      .resolvesOnce({ Stacks: [createdStack({ StackStatus: 'CREATE_IN_PROGRESS', Outputs: [] })] })
      .resolves({ Stacks: [createdStack({ StackStatus: 'ROLLBACK_COMPLETE', Outputs: [] })] })
    cfn
      .on(DescribeStackEventsCommand)
      .resolvesOnce({ StackEvents: [] })
      .resolves({
        StackEvents: [
          {
            EventId: 'e2',
            StackId: STACK_ID,
            StackName: STACK,
            LogicalResourceId: 'HelloFunction',
            ResourceType: 'AWS::Lambda::Function',
            ResourceStatus: 'CREATE_FAILED',
            ResourceStatusReason: 'Source image <oops> does not exist',
            Timestamp: new Date('2024-05-01T12:01:02Z')
          }
        ]
      })
  }

  it('leaves the image, digest, template URL, stack and change set ids in the outputs', async () => {
    mockRollback()
    useDocker()
    await runAction()

    expect(failure()).toMatch(/^Stack Hello-Service ended in ROLLBACK_COMPLETE\n/)
    const outputs = readOutputs()
    expect(outputs).toEqual({
      'image-uri': IMAGE_URI,
      'image-digest': expect.stringMatching(/^sha256:[a-f0-9]{64}$/),
      'image-uri-pinned': expect.stringMatching(/^\S+\/hello-service@sha256:[a-f0-9]{64}$/),
      'template-url': TEMPLATE_URL,
      'stack-id': STACK_ID,
      'change-set-id': CHANGE_SET_ID,
      deployments: expect.any(String)
    })
    // The region's row says how it ended, with the error the step fails with.
    expect(JSON.parse(outputs['deployments'] ?? '')).toEqual({
      [REGION]: {
        stackId: STACK_ID,
        stackStatus: 'ROLLBACK_COMPLETE',
        imageUri: IMAGE_URI,
        imageUriPinned: outputs['image-uri-pinned'],
        imageDigest: outputs['image-digest'],
        outputs: {},
        error: failure()
      }
    })
  })

  it('writes a well-formed failure summary: the phase, the failed resource, the stack now, next steps', async () => {
    mockRollback()
    useDocker()
    await runAction()

    const html = summary()
    expect(htmlProblems(html)).toEqual([])
    expect(html).toContain('<h2>Deploy of Hello-Service failed: Deploy stack</h2>')
    expect(html).toContain('<tr><td>Stack status now</td><td>ROLLBACK_COMPLETE</td></tr>')
    expect(html).toContain(
      '<tr><td>HelloFunction</td><td>AWS::Lambda::Function</td><td>CREATE_FAILED</td><td>Source image &lt;oops&gt; does not exist</td></tr>'
    )
    expect(html).toContain(`<tr><td>Image</td><td><code>${IMAGE_URI}</code></td></tr>`)
    expect(html).toContain('<h3>What to do next</h3>')
    expect(html).toContain('Fix the cause named above and run the workflow again.')
    expect(warnings()).toEqual([])
  })

  it('names the phase and reads the stack status when the change set is refused', async () => {
    cfn.on(CreateChangeSetCommand).rejects(awsError('ValidationError', 'Template format error'))
    useDocker()
    await runAction()

    expect(failure()).toBe(
      'CloudFormation refused the change set for Hello-Service (CreateChangeSet): Template format error'
    )
    const html = summary()
    expect(htmlProblems(html)).toEqual([])
    expect(html).toContain('<h2>Deploy of Hello-Service failed: Deploy stack</h2>')
    expect(html).toContain('<tr><td>Stack status now</td><td>DOES_NOT_EXIST</td></tr>')
    expect(html).not.toContain('<h3>Failed resources</h3>')
    expect(readOutputs()).toMatchObject({ 'image-uri': IMAGE_URI, 'template-url': TEMPLATE_URL })
    expect(readOutputs()['stack-id']).toBeUndefined()
  })

  it('keeps the pushed image in the outputs when the template upload fails beside it', async () => {
    s3.on(PutObjectCommand).rejects(awsError('AccessDenied', 'Access Denied'))
    useDocker()
    await runAction()

    expect(failure()).toMatch(/\(s3:PutObject\): Access Denied$/)
    expect(readOutputs()).toMatchObject({ 'image-uri': IMAGE_URI })
    expect(readOutputs()['template-url']).toBeUndefined()
    expect(summary()).toContain(
      '<h2>Deploy of Hello-Service failed: Push image and upload template</h2>'
    )
  })

  it('only warns when the stack status cannot be read for the summary', async () => {
    let refused = false
    cfn.on(CreateChangeSetCommand).callsFake(() => {
      refused = true
      throw awsError('ValidationError', 'Template format error')
    })
    cfn.on(DescribeStacksCommand, { StackName: STACK }).callsFake(() => {
      // Until the change set is refused the stack is new; then reading it is denied.
      if (refused) throw awsError('AccessDenied', 'no DescribeStacks')
      throw awsError('ValidationError', `Stack with id ${STACK} does not exist`)
    })
    useDocker()
    await runAction()

    expect(failure()).toContain('Template format error')
    expect(warnings()).toEqual([
      expect.stringMatching(/^Could not read the stack's status for the summary: /)
    ])
    expect(summary()).toContain(
      '<tr><td>Stack status now</td><td>unknown (could not be read)</td></tr>'
    )
  })
})

describe('pull-request comment', () => {
  const TOKEN_INPUT = { 'github-token': 'ghs_commenttoken' }

  it('reports a deploy as deployed, with the image, the status and the outputs', async () => {
    setInputs(TOKEN_INPUT)
    useDocker()
    const comment = fakeComment()
    await runAction({ comment })

    expect(failure()).toBeUndefined()
    const digest = readOutputs()['image-digest']
    expect(comment.mock.calls).toEqual([
      [
        'ghs_commenttoken',
        STACK,
        {
          stackName: STACK,
          state: 'deployed',
          stackStatus: 'CREATE_COMPLETE',
          imageUri: IMAGE_URI,
          imageDigest: digest,
          outputs: JSON.parse(STACK_OUTPUTS) as Record<string, string>,
          buildId: BUILD_ID
        }
      ]
    ])
  })

  it('reports review mode as review, with the change table', async () => {
    setInputs({ ...TOKEN_INPUT, mode: 'review' })
    useDocker()
    const comment = fakeComment()
    await runAction({ comment })

    expect(comment).toHaveBeenCalledTimes(1)
    expect(comment.mock.calls[0]?.[2]).toMatchObject({
      state: 'review',
      changesMarkdown:
        '| Action | Logical id | Type | Replacement |\n| --- | --- | --- | --- |\n| Add | HelloFunction | AWS::Lambda::Function | - |'
    })
  })

  it('reports delete mode as deleted', async () => {
    setOnlyInputs({ mode: 'delete', 'stack-name': STACK, region: REGION, ...TOKEN_INPUT })
    cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({ Stacks: [createdStack()] })
    cfn
      .on(DescribeStacksCommand, { StackName: STACK_ID })
      .resolves({ Stacks: [createdStack({ StackStatus: 'DELETE_COMPLETE' })] })
    cfn.on(DeleteStackCommand).resolves({})
    useDocker()
    const comment = fakeComment()
    await runAction({ comment })

    expect(failure()).toBeUndefined()
    expect(comment.mock.calls).toEqual([
      [
        'ghs_commenttoken',
        STACK,
        {
          stackName: STACK,
          state: 'deleted',
          stackStatus: 'DELETE_COMPLETE',
          outputs: {}
        }
      ]
    ])
  })

  it('reports a failure as failed, with the message', async () => {
    setInputs(TOKEN_INPUT)
    s3.on(GetBucketLocationCommand).resolves({ LocationConstraint: 'eu-central-1' })
    useDocker()
    const comment = fakeComment()
    await runAction({ comment })

    expect(failure()).toMatch(/^Input 'bucket': S3 bucket 'artifacts-bucket' is in eu-central-1/)
    expect(comment.mock.calls).toEqual([
      ['ghs_commenttoken', STACK, { stackName: STACK, state: 'failed', error: failure() }]
    ])
  })

  it('never fails the step when the comment throws', async () => {
    setInputs(TOKEN_INPUT)
    useDocker()
    const comment = fakeComment(async () => {
      throw new Error('GitHub is down')
    })
    await runAction({ comment })

    expect(failure()).toBeUndefined()
    expect(process.exitCode).toBeUndefined()
    expect(comment).toHaveBeenCalledTimes(1)
    expect(warnings()).toContain('Could not update the pull-request comment: GitHub is down')
  })

  it("is not posted with 'pr-comment: false'", async () => {
    setInputs({ ...TOKEN_INPUT, 'pr-comment': 'false' })
    useDocker()
    const comment = fakeComment()
    await runAction({ comment })

    expect(failure()).toBeUndefined()
    expect(comment).not.toHaveBeenCalled()
  })

  it('posts to the pull request named by GITHUB_EVENT_PATH', async () => {
    const eventPath = join(harness.workspace, 'event.json')
    writeFileSync(
      eventPath,
      JSON.stringify({ action: 'synchronize', pull_request: { number: PR_NUMBER } })
    )
    Object.assign(process.env, {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
      GITHUB_RUN_ID: '4242'
    })
    // The class of github.context, which reads the environment when constructed.
    const Context = github.context.constructor as new () => typeof github.context
    const context = new Context()
    const octokit = fakeOctokit()
    const tokens: string[] = []
    setInputs(TOKEN_INPUT)
    useDocker()
    await runAction({
      comment: (token, stackName, content: CommentContent) =>
        postPullRequestComment(token, stackName, content, context, (t) => {
          tokens.push(t)
          return octokit
        })
    })

    expect(failure()).toBeUndefined()
    expect(tokens).toEqual(['ghs_commenttoken'])
    const created = octokit.rest.issues.createComment.mock.calls.map((c) => c[0])
    expect(created).toHaveLength(1)
    expect(created[0]).toMatchObject({ owner: OWNER, repo: REPO, issue_number: PR_NUMBER })
    const body = created[0]?.body ?? ''
    expect(body.split('\n').slice(0, 3)).toEqual([
      `<!-- oci-stack-deploy stack=${STACK} -->`,
      '',
      `### Stack ${STACK} deployed`
    ])
    expect(body).toContain(`| Image | \`${IMAGE_URI}\` |`)
    expect(body).toContain(`[Workflow run](https://github.com/${OWNER}/${REPO}/actions/runs/4242)`)
  })
})
