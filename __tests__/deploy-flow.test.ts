/**
 * The deploy-like modes through run(): review creates the change set and does not execute it;
 * noop builds and reads but writes nothing (Sparta's stand-in account without credentials).
 */
import { describe, expect, it } from '@jest/globals'
import { DescribeStacksCommand, ExecuteChangeSetCommand } from '@aws-sdk/client-cloudformation'
import { GetBucketLocationCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import { awsError } from '../__fixtures__/aws.js'
import {
  ACCOUNT,
  BUCKET,
  BUILD_ID,
  cfn,
  CHANGE_SET_ID,
  CHANGE_SET_NAME,
  commands,
  createdStack,
  DB_PASSWORD,
  ecr,
  failure,
  harness,
  IMAGE_URI,
  installRunHarness,
  PINNED_URI,
  readOutputs,
  REGION,
  REGISTRY,
  runAction,
  s3,
  setInputs,
  STACK,
  STACK_ID,
  sts,
  summary,
  TEMPLATE_KEY,
  TEMPLATE_URL,
  useDocker,
  warnings
} from '../__fixtures__/run-harness.js'
import {
  createChangeSetInputs,
  existingStack,
  fakeComment,
  mockUpdateChangeSet,
  OLD_PINNED,
  STACK_OUTPUT_VALUES
} from '../__fixtures__/run-scenarios.js'

installRunHarness()

describe('review mode', () => {
  it('pushes, uploads and creates the change set of a new stack, and does not execute it', async () => {
    setInputs({ mode: 'review' })
    cfn
      .on(DescribeStacksCommand, { StackName: STACK_ID })
      .resolves({ Stacks: [createdStack({ StackStatus: 'REVIEW_IN_PROGRESS', Outputs: [] })] })
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(process.exitCode).toBeUndefined()
    expect(commands()).toEqual([
      'version',
      'build',
      'build',
      'image',
      'login',
      'tag',
      'push',
      'image'
    ])
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      TEMPLATE_KEY
    ])
    expect(createChangeSetInputs()).toEqual([
      {
        StackName: STACK,
        ChangeSetName: CHANGE_SET_NAME,
        ChangeSetType: 'CREATE',
        TemplateURL: TEMPLATE_URL,
        Parameters: [
          { ParameterKey: 'CodeImageURI', ParameterValue: PINNED_URI },
          { ParameterKey: 'DbPassword', ParameterValue: DB_PASSWORD }
        ],
        Capabilities: ['CAPABILITY_IAM'],
        Tags: [
          { Key: 'team', Value: 'platform' },
          { Key: 'io:sparta:buildId', Value: BUILD_ID }
        ],
        Description: `oci-stack-deploy build ${BUILD_ID}`
      }
    ])
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0)

    const outputs = readOutputs()
    expect(outputs).toEqual({
      'image-uri': IMAGE_URI,
      'image-digest': expect.stringMatching(/^sha256:[a-f0-9]{64}$/),
      'image-uri-pinned': `${REGISTRY}/hello-service@${outputs['image-digest']}`,
      'build-id': BUILD_ID,
      'template-url': TEMPLATE_URL,
      'stack-id': STACK_ID,
      'stack-status': 'REVIEW_IN_PROGRESS',
      'change-set-id': CHANGE_SET_ID,
      'has-changes': 'true',
      'changes-count': '1',
      'changes-summary':
        '[{"action":"Add","logicalId":"HelloFunction","type":"AWS::Lambda::Function","replacement":""}]',
      'changes-markdown':
        '| Action | Logical id | Type | Replacement |\n| --- | --- | --- | --- |\n| Add | HelloFunction | AWS::Lambda::Function | - |',
      outputs: '{}'
    })
    const lines = harness.stdout.lines()
    expect(lines).toContain(
      `Review mode: change set ${CHANGE_SET_NAME} is ready and was not executed. Execute it with 'execute-change-set: ${CHANGE_SET_ID}'.`
    )
    expect(lines).toContain(`Change set for ${STACK}: ready, not executed`)
    expect(summary()).toContain(`<h2>Change set for ${STACK}: ready, not executed</h2>`)
  })

  it("shows an update's image parameter change, old URI → new URI, without executing", async () => {
    setInputs({ mode: 'review' })
    mockUpdateChangeSet(existingStack())
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0)
    expect(createChangeSetInputs()[0]).toMatchObject({
      ChangeSetType: 'UPDATE',
      Parameters: [
        { ParameterKey: 'CodeImageURI', ParameterValue: PINNED_URI },
        { ParameterKey: 'Stage', UsePreviousValue: true },
        { ParameterKey: 'DbPassword', ParameterValue: DB_PASSWORD }
      ]
    })
    const outputs = readOutputs()
    const pinned = outputs['image-uri-pinned'] ?? ''
    expect(pinned).toMatch(/^\d{12}\.dkr\.ecr\.eu-west-2\.amazonaws\.com\/hello-service@sha256:/)
    expect(pinned).not.toBe(OLD_PINNED)
    expect(harness.stdout.lines()).toContain(`  Parameter CodeImageURI: ${OLD_PINNED} → ${pinned}`)
    expect(outputs['changes-markdown']).toBe(
      [
        '| Action | Logical id | Type | Replacement |',
        '| --- | --- | --- | --- |',
        '| Modify | HelloFunction | AWS::Lambda::Function | False |',
        '',
        '| Parameter | Old value | New value |',
        '| --- | --- | --- |',
        `| CodeImageURI | ${OLD_PINNED} | ${pinned} |`
      ].join('\n')
    )
    expect(outputs).toMatchObject({
      'stack-status': 'UPDATE_COMPLETE',
      'has-changes': 'true',
      'changes-count': '1',
      ...STACK_OUTPUT_VALUES
    })
    const text = summary()
    expect(text).toContain(`<h2>Change set for ${STACK}: ready, not executed</h2>`)
    expect(text).toContain(
      `<tr><td>CodeImageURI</td><td><code>${OLD_PINNED}</code></td><td><code>${pinned}</code></td></tr>`
    )
    expect(text).not.toContain('DbPassword')
  })
})

describe('noop mode', () => {
  it("builds with Sparta's stand-in account when there are no credentials, and changes nothing", async () => {
    setInputs({ mode: 'noop', 'create-repository': 'true' })
    sts
      .on(GetCallerIdentityCommand)
      .rejects(
        awsError('CredentialsProviderError', 'Could not load credentials from any providers')
      )
    const fake = useDocker()
    const comment = fakeComment()
    await runAction({ comment })

    expect(failure()).toBeUndefined()
    expect(process.exitCode).toBeUndefined()
    expect(commands()).toEqual(['version', 'build', 'build', 'image'])
    const build = fake.callsOf('build')[1]?.argv ?? []
    expect(build).toContain('AWS_ACCOUNT_ID=123412341234')
    expect(build).not.toContain(`AWS_ACCOUNT_ID=${ACCOUNT}`)
    expect(warnings()).toEqual([
      "noop: no usable AWS credentials (No AWS credentials: add aws-actions/configure-aws-credentials before this step (Could not load credentials from any providers).); using Sparta's stand-in account 123412341234 and skipping the AWS checks."
    ])
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1)
    // The preflight reads start together with the identity read; nothing else is sent.
    expect(ecr.calls()).toHaveLength(0)
    for (const call of [...s3.calls(), ...cfn.calls()]) {
      expect([
        'GetBucketLocationCommand',
        'GetBucketVersioningCommand',
        'DescribeStacksCommand'
      ]).toContain((call.args[0] as object).constructor.name)
    }

    const wouldBe = `123412341234.dkr.ecr.${REGION}.amazonaws.com/hello-service:${BUILD_ID}`
    const url = `https://${BUCKET}.s3.${REGION}.amazonaws.com/${TEMPLATE_KEY}`
    expect(readOutputs()).toEqual({
      'image-uri': wouldBe,
      'image-digest': '',
      'build-id': BUILD_ID,
      'template-url': url,
      'stack-id': '',
      'stack-status': '',
      'change-set-id': '',
      outputs: '{}'
    })
    expect(harness.stdout.lines()).toContain(
      `noop: would push ${wouldBe}, upload the template to ${url} and deploy stack ${STACK} (new); nothing was changed.`
    )
    expect(harness.stdout.lines()).toContain(
      `Noop for ${STACK}: built and checked, nothing pushed or deployed`
    )
    expect(summary()).toContain(
      `<h2>Noop for ${STACK}: built and checked, nothing pushed or deployed</h2>`
    )
    expect(comment).not.toHaveBeenCalled()
  })

  it('reads the account, the bucket and the stack with credentials, and writes nothing', async () => {
    setInputs({ mode: 'noop', 'create-repository': 'true' })
    existingStack()
    const fake = useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(commands()).toEqual(['version', 'build', 'build', 'image'])
    expect(fake.callsOf('build')[1]?.argv).toContain(`AWS_ACCOUNT_ID=${ACCOUNT}`)
    expect(s3.commandCalls(GetBucketLocationCommand)).toHaveLength(1)
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(ecr.calls()).toHaveLength(0)
    expect(cfn.calls().map((c) => c.args[0].constructor.name)).toEqual(['DescribeStacksCommand'])
    expect(readOutputs()).toMatchObject({
      'image-uri': IMAGE_URI,
      'stack-status': 'UPDATE_COMPLETE',
      'change-set-id': ''
    })
    expect(harness.stdout.lines()).toContain(
      `noop: would push ${IMAGE_URI}, upload the template to https://${BUCKET}.s3.${REGION}.amazonaws.com/${TEMPLATE_KEY} and deploy stack ${STACK} (now UPDATE_COMPLETE); nothing was changed.`
    )
  })
})
