/**
 * The images a stack needs, through run(): a lifecycle rule that can expire them is a warning
 * (or a refusal before any write), a rollback target already gone is reported, and
 * 'protect-images' adds the keep rule above the user's rules.
 */
import { describe, expect, it } from '@jest/globals'
import { ExecuteChangeSetCommand } from '@aws-sdk/client-cloudformation'
import {
  DescribeImagesCommand,
  GetLifecyclePolicyCommand,
  PutLifecyclePolicyCommand
} from '@aws-sdk/client-ecr'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { awsError } from '../../__fixtures__/aws.js'
import {
  BUILD_COMMANDS,
  cfn,
  commands,
  ecr,
  failure,
  installRunHarness,
  runAction,
  s3,
  setInputs,
  STACK,
  useDocker,
  warnings
} from '../../__fixtures__/run-harness.js'
import { mockCompletedUpdate, OLD_DIGEST, OLD_PINNED } from '../../__fixtures__/run-scenarios.js'
import { keepRule } from '../../src/rules/image-protection.js'
import { withKnownCopies } from '../../src/flows/image-protection.js'
import type { FlowContext } from '../../src/artifacts/flow-context.js'
import { StackOperationError } from '../../src/base/errors.js'
import { parseEcrImage } from '../../src/rules/image-ref.js'

installRunHarness()

const DAY = 86_400_000
const EXPIRE_AFTER_A_DAY = {
  rulePriority: 5,
  description: 'expire after a day',
  selection: { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 },
  action: { type: 'expire' }
}
const POLICY = JSON.stringify({ rules: [EXPIRE_AFTER_A_DAY] })

/** The repository holds the image the stack runs, pushed 3 days ago, under `policy`. */
function repository(policy = POLICY): void {
  ecr.on(GetLifecyclePolicyCommand).resolves({ lifecyclePolicyText: policy })
  ecr.on(DescribeImagesCommand).resolves({
    imageDetails: [
      { imageDigest: OLD_DIGEST, imageTags: ['old'], imagePushedAt: new Date(Date.now() - 3 * DAY) }
    ]
  })
}

/** A registry transport that knows no manifest (the tags cannot be put). */
const emptyRegistry = {
  fetch: () => Promise.resolve(new Response(null, { status: 404 })),
  options: { retryDelaysMs: [] }
}

describe('lifecycle rules against the images a stack needs', () => {
  it('warns, naming the repository, the rule and the rule to add, and deploys', async () => {
    setInputs()
    mockCompletedUpdate()
    repository()
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    const lifecycle = warnings().filter((w) => w.startsWith('Lifecycle rule'))
    expect(lifecycle).toHaveLength(2)
    expect(lifecycle[0]).toMatch(
      /^Lifecycle rule 5 "expire after a day" of ECR repository hello-service \(eu-west-2\) would expire \(delete\) the image being deployed \(the new build\) on \d{4}-\d\d-\d\d\./
    )
    expect(lifecycle[1]).toContain(`would expire (delete) the rollback target (${OLD_DIGEST}) now.`)
    expect(lifecycle[1]).toContain(JSON.stringify(keepRule(STACK, 1)))
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1)
    expect(ecr.commandCalls(PutLifecyclePolicyCommand)).toHaveLength(0)
  })

  it("refuses before any write with 'fail-on-expirable-image'", async () => {
    setInputs({ 'fail-on-expirable-image': 'true' })
    mockCompletedUpdate()
    repository()
    useDocker()
    await runAction()

    expect(failure()).toContain('Lifecycle rule 5 "expire after a day"')
    expect(failure()).toContain("'fail-on-expirable-image' is on, so nothing was written.")
    expect(commands()).toEqual(BUILD_COMMANDS)
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
  })

  it('says plainly when the repository no longer holds the image the stack runs', async () => {
    setInputs()
    mockCompletedUpdate()
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [] })
    useDocker()
    await runAction()

    expect(warnings()).toContain(
      `Stack ${STACK} runs ${OLD_PINNED}, which ECR repository hello-service (eu-west-2) no longer holds: if this update fails, its rollback to that image fails too (UPDATE_ROLLBACK_FAILED). Put the image back first if you have a copy (see "Keeping images for rollback" in docs/RELEASE.md).`
    )
  })

  it("adds the keep rule above the user's rules with 'protect-images', and warns of nothing else", async () => {
    setInputs({ 'protect-images': 'true' })
    mockCompletedUpdate()
    repository()
    ecr.on(PutLifecyclePolicyCommand).resolves({})
    useDocker()
    await runAction({ registryHttp: emptyRegistry })

    expect(failure()).toBeUndefined()
    expect(ecr.commandCalls(PutLifecyclePolicyCommand)[0]?.args[0].input).toEqual({
      repositoryName: 'hello-service',
      lifecyclePolicyText: JSON.stringify({ rules: [keepRule(STACK, 1), EXPIRE_AFTER_A_DAY] })
    })
    expect(warnings().filter((w) => w.startsWith('Lifecycle rule'))).toEqual([])
    // The fake registry knows no manifest: the tags cannot be put, which only warns.
    expect(warnings()).toContainEqual(
      expect.stringContaining(
        "The stack deployed, but tagging its images in hello-service for 'protect-images' failed"
      )
    )
  })
})

describe('a role without the lifecycle reads', () => {
  it('warns that the check is skipped and deploys', async () => {
    setInputs()
    mockCompletedUpdate()
    ecr.on(DescribeImagesCommand).rejects(awsError('AccessDeniedException', 'not authorized'))
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(warnings()).toContain(
      "Could not read the DescribeImages of ECR repository 'hello-service' (ecr:DescribeImages): not authorized. The lifecycle check is skipped: allow ecr:GetLifecyclePolicy and ecr:DescribeImages on the repository to have it."
    )
  })

  it("fails with 'protect-images', which needs them", async () => {
    setInputs({ 'protect-images': 'true' })
    mockCompletedUpdate()
    ecr.on(DescribeImagesCommand).rejects(awsError('AccessDeniedException', 'not authorized'))
    useDocker()
    await runAction()

    expect(failure()).toContain('(ecr:DescribeImages): not authorized')
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
  })
})

describe('withKnownCopies', () => {
  const digest = `sha256:${'1e'.repeat(32)}`
  const gone = new StackOperationError(
    'Stack s ended in UPDATE_ROLLBACK_FAILED',
    'UPDATE_ROLLBACK_FAILED',
    [
      {
        logicalId: 'Fn',
        reason: `Source image 123456789012.dkr.ecr.eu-west-2.amazonaws.com/svc@${digest} does not exist.`
      }
    ]
  )
  const ctx = {
    inputs: {
      region: 'eu-west-2',
      regions: ['eu-west-2', 'us-east-1'],
      image: parseEcrImage(
        `111122223333.dkr.ecr.eu-west-1.amazonaws.com/staging@${'ab'.repeat(32).replace(/^/, 'sha256:')}`
      )
    }
  } as unknown as FlowContext

  it("names the promote's source and the run's other regions as places a copy may be", () => {
    const wrapped = withKnownCopies(ctx, '123456789012', 'svc', gone) as StackOperationError
    expect(wrapped.message).toBe(
      `Stack s ended in UPDATE_ROLLBACK_FAILED\nThis run knows where ${digest} may still be: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/staging@${digest}, 123456789012.dkr.ecr.us-east-1.amazonaws.com/svc@${digest}.`
    )
    expect(wrapped.failedResources).toEqual(gone.failedResources)
  })

  it('leaves any other failure as it was', () => {
    const other = new StackOperationError('quota', 'UPDATE_ROLLBACK_COMPLETE', [
      { logicalId: 'Fn', reason: 'quota' }
    ])
    expect(withKnownCopies(ctx, '123456789012', 'svc', other)).toBe(other)
  })
})
