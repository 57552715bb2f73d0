/**
 * The deploy-like modes through run(): review creates the change set and does not execute it;
 * noop builds and reads but writes nothing (Sparta's stand-in account without credentials).
 */
import { describe, expect, it } from '@jest/globals'
import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand
} from '@aws-sdk/client-cloudformation'
import { CreateRepositoryCommand, DescribeRepositoriesCommand } from '@aws-sdk/client-ecr'
import { GetBucketLocationCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { awsError } from '../../__fixtures__/aws.js'
import {
  ACCOUNT,
  BUCKET,
  BUILD_AND_PUSH_COMMANDS,
  BUILD_COMMANDS,
  BUILD_ID,
  cfn,
  CHANGE_SET_ID,
  CHANGE_SET_NAME,
  commands,
  createdStack,
  DB_PASSWORD,
  ecr,
  failure,
  FUNCTION_ARN,
  harness,
  IMAGE_URI,
  installRunHarness,
  LOCAL_TAG,
  PASSWORD,
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
  TEMPLATE,
  TEMPLATE_KEY,
  TEMPLATE_URL,
  useDocker,
  warnings
} from '../../__fixtures__/run-harness.js'
import {
  createChangeSetInputs,
  createStackChangeSetInput,
  existingStack,
  fakeComment,
  imageParameterSent,
  FUNCTION_CHANGE_OUTPUTS,
  mockUpdateChangeSet,
  noEarlierChangeSet,
  OLD_PINNED,
  STACK_OUTPUT_VALUES
} from '../../__fixtures__/run-scenarios.js'

installRunHarness()

describe('deploy mode', () => {
  it('builds, pushes, uploads the template and creates the stack through a change set', async () => {
    const fake = useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(process.exitCode).toBeUndefined()
    expect(commands()).toEqual(BUILD_AND_PUSH_COMMANDS)

    const [version, help, build, inspect, login, tag, push] = fake.calls()
    expect(version?.argv).toEqual(['version', '--format', '{{.Server.Version}}'])
    expect(help?.argv).toEqual(['build', '--help'])
    expect(build?.argv).toEqual([
      'build',
      '--tag',
      LOCAL_TAG,
      '--file',
      join(harness.workspace, 'service/Dockerfile'),
      '--build-arg',
      `AWS_ACCOUNT_ID=${ACCOUNT}`,
      '--build-arg',
      `AWS_REGION=${REGION}`,
      '--build-arg',
      'SPARTA_BINARY=bootstrap',
      '--build-arg',
      'SPARTA_ECR_LABEL_NAME=io.sparta.ecr-name',
      '--build-arg',
      `SPARTA_BUILD_ID=${BUILD_ID}`,
      '--iidfile',
      expect.stringMatching(/\/iid$/),
      join(harness.workspace, 'service')
    ])
    // By the id the build wrote, not the local tag another build beside it may move.
    const id = fake.images()[0]?.id ?? 'none'
    expect(inspect?.argv).toEqual(['image', 'inspect', id])
    expect(login?.argv).toEqual(['login', '--username', 'AWS', '--password-stdin', REGISTRY])
    expect(login?.stdin).toBe(PASSWORD)
    expect(tag?.argv).toEqual(['tag', id, IMAGE_URI])
    expect(push?.argv).toEqual(['push', IMAGE_URI])
    expect(push?.dockerConfig).toBe(login?.dockerConfig)
    expect(login?.dockerConfig).toMatch(/oci-stack-deploy-docker-/)
    expect(existsSync(login?.dockerConfig ?? '')).toBe(false)

    const puts = s3.commandCalls(PutObjectCommand)
    expect(puts).toHaveLength(1)
    expect(puts[0]?.args[0].input).toMatchObject({ Bucket: BUCKET, Key: TEMPLATE_KEY })
    expect(puts[0]?.args[0].input.Key).toContain(STACK)
    expect(puts[0]?.args[0].input.Key).toContain(BUILD_ID)
    expect(Buffer.from(puts[0]?.args[0].input.Body as Uint8Array).toString('utf8')).toBe(TEMPLATE)

    expect(createChangeSetInputs()).toEqual([createStackChangeSetInput()])
    expect(cfn.commandCalls(ExecuteChangeSetCommand).map((c) => c.args[0].input)).toEqual([
      {
        ChangeSetName: CHANGE_SET_ID,
        StackName: STACK_ID,
        ClientRequestToken: expect.stringMatching(/^oci-execute-[\w-]+$/)
      }
    ])
    expect(ecr.commandCalls(DescribeRepositoriesCommand)[0]?.args[0].input).toEqual({
      repositoryNames: ['hello-service']
    })
    expect(ecr.commandCalls(CreateRepositoryCommand)).toHaveLength(0)

    const pushedDigest = /: digest: (sha256:[a-f0-9]{64}) size: 528/.exec(
      harness.stdout.lines().join('\n')
    )?.[1]
    expect(pushedDigest).toBeDefined()
    expect(readOutputs()).toEqual({
      'image-uri': IMAGE_URI,
      'image-digest': pushedDigest,
      'build-id': BUILD_ID,
      'template-url': TEMPLATE_URL,
      'stack-id': STACK_ID,
      'stack-status': 'CREATE_COMPLETE',
      'change-set-id': CHANGE_SET_ID,
      'image-uri-pinned': `${REGISTRY}/hello-service@${pushedDigest}`,
      ...FUNCTION_CHANGE_OUTPUTS,
      ...STACK_OUTPUT_VALUES,
      'deployment-config': 'STANDARD',
      // One region: `deployments` holds it too.
      deployments: JSON.stringify({
        [REGION]: {
          stackId: STACK_ID,
          stackStatus: 'CREATE_COMPLETE',
          imageUri: IMAGE_URI,
          imageUriPinned: `${REGISTRY}/hello-service@${pushedDigest}`,
          imageDigest: pushedDigest,
          outputs: {
            FunctionArn: FUNCTION_ARN,
            DeployedImage: IMAGE_URI,
            Docs: 'https://example.com/hello'
          }
        }
      })
    })

    const text = summary()
    expect(text).toContain(`<h2>Deployed ${STACK}: CREATE_COMPLETE</h2>`)
    expect(text).toContain(`<tr><td>Image</td><td><code>${IMAGE_URI}</code></td></tr>`)
    expect(text).toContain(
      '<tr><td>Add</td><td>HelloFunction</td><td>AWS::Lambda::Function</td><td>-</td></tr>'
    )
    expect(text).toContain(
      '<tr><td>Docs</td><td><a href="https://example.com/hello">https://example.com/hello</a></td><td>Where to read about it</td></tr>'
    )
    for (const phase of [
      'Preflight checks',
      'Build image',
      'Push image and upload template',
      'Deploy stack'
    ]) {
      expect(text).toMatch(new RegExp(`<tr><td>${phase}</td><td>\\d+\\.\\d</td></tr>`))
    }
    expect(harness.stdout.lines()).toContain(`Deployed ${STACK}: CREATE_COMPLETE`)
    expect(harness.stdout.lines()).toContain(
      '12:01:02 HelloFunction AWS::Lambda::Function CREATE_COMPLETE'
    )
  })

  it('succeeds with "no changes" when the change set of an existing stack is empty', async () => {
    existingStack(IMAGE_URI)
    noEarlierChangeSet()
    cfn.on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_ID }).resolves({
      ChangeSetId: CHANGE_SET_ID,
      StackId: STACK_ID,
      Status: 'FAILED',
      StatusReason:
        "The submitted information didn't contain changes. Submit different information to create a change set.",
      ExecutionStatus: 'UNAVAILABLE'
    })
    cfn.on(DeleteChangeSetCommand).resolves({})
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(process.exitCode).toBeUndefined()
    expect(cfn.commandCalls(CreateChangeSetCommand)[0]?.args[0].input).toMatchObject({
      ChangeSetType: 'UPDATE',
      Parameters: [
        { ParameterKey: 'CodeImageURI', ParameterValue: PINNED_URI },
        { ParameterKey: 'Stage', UsePreviousValue: true },
        { ParameterKey: 'DbPassword', ParameterValue: DB_PASSWORD }
      ]
    })
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0)
    expect(cfn.commandCalls(DeleteChangeSetCommand).map((c) => c.args[0].input)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID }
    ])
    expect(harness.stdout.lines()).toContain(`Deployed ${STACK}: no changes`)
    expect(readOutputs()).toMatchObject({
      'stack-status': 'UPDATE_COMPLETE',
      'change-set-id': CHANGE_SET_ID
    })
    expect(summary()).toContain('None: the stack already matched.')
  })
})

/** Review mode on a new stack (REVIEW_IN_PROGRESS once the change set exists), with `inputs`. */
async function reviewNewStack(inputs: Record<string, string> = {}): Promise<void> {
  setInputs({ mode: 'review', ...inputs })
  cfn
    .on(DescribeStacksCommand, { StackName: STACK_ID })
    .resolves({ Stacks: [createdStack({ StackStatus: 'REVIEW_IN_PROGRESS', Outputs: [] })] })
  useDocker()
  await runAction()
}

describe('review mode', () => {
  it('pushes, uploads and creates the change set of a new stack, and does not execute it', async () => {
    await reviewNewStack()

    expect(failure()).toBeUndefined()
    expect(process.exitCode).toBeUndefined()
    expect(commands()).toEqual(BUILD_AND_PUSH_COMMANDS)
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      TEMPLATE_KEY
    ])
    expect(createChangeSetInputs()).toEqual([createStackChangeSetInput()])
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
      ...FUNCTION_CHANGE_OUTPUTS,
      outputs: '{}',
      'deployment-config': 'STANDARD',
      deployments: JSON.stringify({
        [REGION]: {
          stackId: STACK_ID,
          stackStatus: 'REVIEW_IN_PROGRESS',
          imageUri: IMAGE_URI,
          imageUriPinned: `${REGISTRY}/hello-service@${outputs['image-digest']}`,
          imageDigest: outputs['image-digest'],
          outputs: {}
        }
      })
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
    expect(commands()).toEqual(BUILD_COMMANDS)
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
        'HeadBucketCommand',
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
    expect(commands()).toEqual(BUILD_COMMANDS)
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

describe('what reading the template noticed', () => {
  it('logs why every capability was acknowledged, and warns about a duplicate key, before the preflight', async () => {
    const withMacro = TEMPLATE.replace(
      "AWSTemplateFormatVersion: '2010-09-09'\n",
      "AWSTemplateFormatVersion: '2010-09-09'\nTransform: Count\n"
    ).replace('  Docs:\n', '  Docs:\n    Value: first\n  Docs:\n')
    writeFileSync(join(harness.workspace, 'template.yaml'), withMacro)
    setInputs({ mode: 'noop' })
    sts.on(GetCallerIdentityCommand).rejects(awsError('CredentialsProviderError', 'no credentials'))
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    const template = join(harness.workspace, 'template.yaml')
    expect(warnings()[0]).toBe(
      `${template} gives 'Outputs.Docs' twice (lines 40 and 42); CloudFormation keeps the last one without a word, and so does this action: remove the one you do not mean.`
    )
    const lines = harness.stdout.lines()
    const reason =
      'Macro Count: CloudFormation checks capabilities on the template the macro writes, which the action cannot see, so every capability is acknowledged.'
    expect(lines).toContain(reason)
    expect(lines.indexOf(reason)).toBeLessThan(lines.indexOf('::group::Preflight checks'))
  })
})

describe('express mode', () => {
  it('creates the change set with DeploymentConfig EXPRESS (rollback on), executes without DisableRollback, and says so', async () => {
    setInputs({ express: 'true' })
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(createChangeSetInputs()).toEqual([
      {
        ...createStackChangeSetInput(),
        DeploymentConfig: { Mode: 'EXPRESS', DisableRollback: false }
      }
    ])
    const executed = cfn.commandCalls(ExecuteChangeSetCommand).map((c) => c.args[0].input)
    expect(executed).toHaveLength(1)
    expect(executed[0]).not.toHaveProperty('DisableRollback')
    expect(readOutputs()['deployment-config']).toBe('EXPRESS')
    expect(summary()).toContain(
      '<tr><td>Deployment</td><td>CloudFormation express mode: resources may still be stabilizing after the step ended</td></tr>'
    )
    const lines = harness.stdout.lines()
    expect(lines).toContain(
      `Creating CREATE change set ${CHANGE_SET_NAME} for stack ${STACK} in express mode`
    )
    expect(lines.some((l) => l.startsWith('Deployed with CloudFormation express mode:'))).toBe(true)
  })

  it('folds disable-rollback into DeploymentConfig in review mode, and warns before the preflight', async () => {
    await reviewNewStack({ express: 'true', 'disable-rollback': 'true' })

    expect(failure()).toBeUndefined()
    expect(createChangeSetInputs()[0]?.DeploymentConfig).toEqual({
      Mode: 'EXPRESS',
      DisableRollback: true
    })
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0)
    expect(readOutputs()['deployment-config']).toBe('EXPRESS')
    expect(warnings()).toContain(
      'express with disable-rollback: a failed deploy keeps its resources and the stack cannot be rolled back with RollbackStack; CloudFormation has refused replacement updates on stacks with rollback disabled. Leave disable-rollback off unless you are debugging.'
    )
    const lines = harness.stdout.lines()
    const note = lines.findIndex((l) => l.includes('warning::express with disable-rollback'))
    expect(note).toBeGreaterThanOrEqual(0)
    expect(note).toBeLessThan(lines.indexOf('::group::Preflight checks'))
  })

  it('sends no DeploymentConfig and says STANDARD without the input', async () => {
    useDocker()
    await runAction()

    expect(createChangeSetInputs()[0]).not.toHaveProperty('DeploymentConfig')
    expect(readOutputs()['deployment-config']).toBe('STANDARD')
  })
})

describe('change set while the image travels', () => {
  it('creates the change set during the push when the build reported the digest (containerd store), and executes after it', async () => {
    useDocker({ buildkit: true, containerdStore: true })
    await runAction()

    expect(failure()).toBeUndefined()
    const digest = readOutputs()['image-digest'] ?? ''
    expect(imageParameterSent()).toBe(`${REGISTRY}/hello-service@${digest}`)
    const lines = harness.stdout.lines()
    const at = (start: string) => lines.findIndex((l) => l.startsWith(start))
    expect(lines).toContain(
      `Digest ${digest} is known before the image is in place: creating the change set while the image is pushed.`
    )
    expect(at('Image in place after ')).toBeGreaterThan(at(`Creating CREATE change set`))
    expect(at('Change set ready after ')).toBeGreaterThan(0)
    expect(at('Executing change set')).toBeGreaterThan(at('Image in place after '))
    expect(summary()).toMatch(/<tr><td>Push image ∥ deploy stack<\/td><td>\d+\.\d<\/td><\/tr>/)
  })

  it('deletes the change set and executes nothing when that push fails', async () => {
    cfn.on(DeleteChangeSetCommand).resolves({})
    useDocker({ buildkit: true, containerdStore: true, pushFail: true })
    await runAction()

    expect(failure()).toMatch(/^docker push .* failed/)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1)
    expect(cfn.commandCalls(DeleteChangeSetCommand).map((c) => c.args[0].input)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID }
    ])
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0)
  })

  it("tags from the build's own id and pushes again when another build on the engine re-tagged it", async () => {
    const fake = useDocker({ buildkit: true, containerdStore: true, retagBeforePush: 1 })
    await runAction()

    expect(failure()).toBeUndefined()
    const ours = fake.images()[0]?.id ?? ''
    expect(readOutputs()['image-digest']).toBe(ours)
    expect(fake.callsOf('push')).toHaveLength(2)
    expect(fake.callsOf('tag').map((c) => c.argv[1])).toEqual([ours, ours])
    expect(harness.stdout.lines()).toContainEqual(
      expect.stringMatching(
        /^::warning::docker push sent \S+ as sha256:\w+, not sha256:\w+ as the build reported: another build on this Docker engine re-tagged it meanwhile\. Tagging and pushing again\.$/
      )
    )
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1)
  })

  it('gives up after three pushes of another build, deleting the change set it made', async () => {
    cfn.on(DeleteChangeSetCommand).resolves({})
    useDocker({ buildkit: true, containerdStore: true, retagBeforePush: 3 })
    await runAction()

    expect(failure()).toMatch(
      /^docker push gave \S+ digest sha256:\w+, not sha256:\w+ as the build reported, in 3 attempts: another build on this Docker engine keeps re-tagging it\./
    )
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1)
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0)
  })

  it('keeps the order on the classic store, where only the push tells the digest', async () => {
    useDocker({ buildkit: true })
    await runAction()

    expect(failure()).toBeUndefined()
    expect(harness.stdout.lines().some((l) => l.includes('is known before the image'))).toBe(false)
    expect(summary()).toContain('<tr><td>Push image and upload template</td>')
  })
})
