/**
 * run() end to end: real @actions/core (inputs from INPUT_*, outputs and summary in temp files),
 * the real exec runner driving the fake `docker` on PATH, and aws-sdk-client-mock for AWS;
 * the pull-request comment it posts however the run ends.
 */
import { describe, expect, it, jest } from '@jest/globals'
import * as github from '@actions/github'
import { DeleteStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation'
import { GetBucketLocationCommand } from '@aws-sdk/client-s3'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fakeOctokit, OWNER, PR_NUMBER, REPO } from '../__fixtures__/github.js'
import {
  BUILD_ID,
  cfn,
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
  useDocker,
  warnings
} from '../__fixtures__/run-harness.js'
import { fakeComment, STACK_OUTPUTS } from '../__fixtures__/run-scenarios.js'
import { run } from '../src/main.js'
import { type CommentContent, postPullRequestComment } from '../src/pr-comment.js'

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
