/**
 * run() end to end: real @actions/core (inputs from INPUT_*, outputs and summary in temp files),
 * the real exec runner driving the fake `docker` on PATH, and aws-sdk-client-mock for AWS.
 */
import { describe, expect, it, jest } from '@jest/globals'
import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand
} from '@aws-sdk/client-cloudformation'
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand
} from '@aws-sdk/client-ecr'
import { GetBucketLocationCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { awsError } from '../__fixtures__/aws.js'
import {
  ACCOUNT,
  BUCKET,
  BUILD_ID,
  CHANGE_SET_ID,
  CHANGE_SET_NAME,
  cfn,
  clients,
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
  noWait,
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
  TOKEN,
  useDocker
} from '../__fixtures__/run-harness.js'
import { run } from '../src/main.js'

installRunHarness()

describe('run', () => {
  it('builds, pushes, uploads the template and creates the stack through a change set', async () => {
    const fake = useDocker()
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
    // By the tag: on the containerd image store the iid (a config digest) names no image.
    expect(inspect?.argv).toEqual(['image', 'inspect', LOCAL_TAG])
    expect(login?.argv).toEqual(['login', '--username', 'AWS', '--password-stdin', REGISTRY])
    expect(login?.stdin).toBe(PASSWORD)
    expect(tag?.argv).toEqual(['tag', LOCAL_TAG, IMAGE_URI])
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

    const changeSets = cfn.commandCalls(CreateChangeSetCommand)
    expect(changeSets.map((call) => call.args[0].input)).toEqual([
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
    expect(cfn.commandCalls(ExecuteChangeSetCommand).map((c) => c.args[0].input)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID }
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
      'has-changes': 'true',
      'changes-count': '1',
      'changes-summary':
        '[{"action":"Add","logicalId":"HelloFunction","type":"AWS::Lambda::Function","replacement":""}]',
      'changes-markdown':
        '| Action | Logical id | Type | Replacement |\n| --- | --- | --- | --- |\n| Add | HelloFunction | AWS::Lambda::Function | - |',
      outputs: JSON.stringify({
        FunctionArn: FUNCTION_ARN,
        DeployedImage: IMAGE_URI,
        Docs: 'https://example.com/hello'
      }),
      FunctionArn: FUNCTION_ARN,
      DeployedImage: IMAGE_URI,
      Docs: 'https://example.com/hello'
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

  it('never lets the registry password out: not in argv, not in any env, only masked in the log', async () => {
    const fake = useDocker()
    await runAction()
    expect(failure()).toBeUndefined()

    for (const call of fake.calls()) {
      expect(call.argv.join(' ')).not.toContain(PASSWORD)
      expect(Object.entries(call.env).filter(([, value]) => value.includes(PASSWORD))).toEqual([])
      if (call.argv[0] !== 'login') expect(call.stdin).toBeNull()
    }
    const leaked = Object.entries(process.env).filter(
      ([name, value]) => !name.startsWith('FAKE_DOCKER_') && value?.includes(PASSWORD)
    )
    expect(leaked).toEqual([])
    const lines = harness.stdout.lines()
    expect(lines).toContain(`::add-mask::${PASSWORD}`)
    expect(lines).toContain(`::add-mask::${TOKEN}`)
    expect(lines).toContain(`::add-mask::${DB_PASSWORD}`)
    expect(lines.some((line) => line.startsWith('::debug::run: docker'))).toBe(true)
    for (const secret of [PASSWORD, TOKEN, DB_PASSWORD]) {
      expect(lines.filter((l) => l.includes(secret) && !l.startsWith('::add-mask::'))).toEqual([])
    }
    expect(readFileSync(harness.outputFile, 'utf8')).not.toContain(PASSWORD)
    expect(summary()).not.toContain(PASSWORD)
  })

  it("pushes to the repository and tag of Sparta's full-URI label, read under a custom label name", async () => {
    setInputs({ 'label-name': 'com.example.ecr-name' })
    const fake = useDocker({
      labels: {
        '${SPARTA_ECR_LABEL_NAME}':
          '${AWS_ACCOUNT_ID}.dkr.ecr.${AWS_REGION}.amazonaws.com/spartaoci:${SPARTA_BUILD_ID}'
      }
    })
    await runAction()

    expect(failure()).toBeUndefined()
    expect(fake.callsOf('build')[1]?.argv).toContain('SPARTA_ECR_LABEL_NAME=com.example.ecr-name')
    expect(fake.callsOf('push').map((c) => c.argv)).toEqual([
      ['push', `${REGISTRY}/spartaoci:${BUILD_ID}`]
    ])
    expect(ecr.commandCalls(DescribeRepositoriesCommand)[0]?.args[0].input).toEqual({
      repositoryNames: ['spartaoci']
    })
    expect(readOutputs()['image-uri']).toBe(`${REGISTRY}/spartaoci:${BUILD_ID}`)
  })

  it('logs in again and pushes once more when the first push is refused', async () => {
    const fake = useDocker({ pushFailOnce: true })
    await runAction()

    expect(failure()).toBeUndefined()
    expect(commands()).toEqual([
      'version',
      'build',
      'build',
      'image',
      'login',
      'tag',
      'push',
      'login',
      'push',
      'image'
    ])
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(2)
    expect(fake.callsOf('login').map((c) => c.stdin)).toEqual([PASSWORD, PASSWORD])
    expect(readOutputs()['image-uri']).toBe(IMAGE_URI)
  })

  it('fails with the LABEL line to add when the image has no label, before any write', async () => {
    useDocker({ labels: {} })
    await runAction()

    expect(failure()).toBe(
      `The built image has no 'io.sparta.ecr-name' label, so there is no ECR repository to push to: add LABEL io.sparta.ecr-name="<repository>" (or ARG SPARTA_ECR_LABEL_NAME then LABEL \${SPARTA_ECR_LABEL_NAME}="<repository>") to the Dockerfile.`
    )
    expect(process.exitCode).toBe(1)
    expect(commands()).toEqual(['version', 'build', 'build', 'image'])
    expect(ecr.commandCalls(DescribeRepositoriesCommand)).toHaveLength(0)
    expect(ecr.commandCalls(CreateRepositoryCommand)).toHaveLength(0)
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
    expect(readFileSync(harness.outputFile, 'utf8')).toBe('')
  })

  it('refuses a label naming another account, without pushing', async () => {
    useDocker({
      labels: { 'io.sparta.ecr-name': `999999999999.dkr.ecr.${REGION}.amazonaws.com/hello:v1` }
    })
    await runAction()

    expect(failure()).toBe(
      `The 'io.sparta.ecr-name' label ('999999999999.dkr.ecr.${REGION}.amazonaws.com/hello:v1') names AWS account 999999999999, but the credentials belong to account ${ACCOUNT}: label the image with a bare repository name, or deploy with credentials for 999999999999.`
    )
    expect(process.exitCode).toBe(1)
    expect(commands()).not.toContain('push')
    expect(commands()).not.toContain('login')
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
  })

  it("fails naming the repository and 'create-repository' when the repository is missing", async () => {
    ecr
      .on(DescribeRepositoriesCommand)
      .rejects(
        awsError(
          'RepositoryNotFoundException',
          "The repository with name 'hello-service' does not exist"
        )
      )
    useDocker()
    await runAction()

    expect(failure()).toBe(
      `ECR repository 'hello-service' (from label io.sparta.ecr-name) does not exist in account ${ACCOUNT}, ${REGION}: create it, or set 'create-repository: true'.`
    )
    expect(process.exitCode).toBe(1)
    expect(commands()).not.toContain('push')
    expect(ecr.commandCalls(CreateRepositoryCommand)).toHaveLength(0)
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
  })

  it("creates the missing repository before the push with 'create-repository: true'", async () => {
    setInputs({ 'create-repository': 'true' })
    ecr
      .on(DescribeRepositoriesCommand)
      .rejects(
        awsError(
          'RepositoryNotFoundException',
          "The repository with name 'hello-service' does not exist"
        )
      )
    let pushesBeforeCreate = -1
    ecr.on(CreateRepositoryCommand).callsFake(() => {
      pushesBeforeCreate = harness.docker?.callsOf('push').length ?? -1
      return { repository: { repositoryName: 'hello-service' } }
    })
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(ecr.commandCalls(CreateRepositoryCommand).map((c) => c.args[0].input)).toEqual([
      { repositoryName: 'hello-service', imageScanningConfiguration: { scanOnPush: true } }
    ])
    expect(pushesBeforeCreate).toBe(0)
    expect(commands()).toContain('push')
    expect(readOutputs()['image-uri']).toBe(IMAGE_URI)
  })

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

  it('fails when the Docker engine is not running, before asking AWS anything', async () => {
    useDocker({ noDaemon: true })
    await runAction()

    expect(failure()).toMatch(
      /^The Docker engine is not running or not reachable \(docker version: Cannot connect/
    )
    expect(commands()).toEqual(['version'])
    expect(sts.calls()).toHaveLength(0)
  })

  it('fails before the build and the push when the bucket is in another region', async () => {
    s3.on(GetBucketLocationCommand).resolves({ LocationConstraint: 'eu-central-1' })
    useDocker()
    await runAction()

    expect(failure()).toBe(
      `Input 'bucket': S3 bucket '${BUCKET}' is in eu-central-1, but the stack deploys to ${REGION}; CloudFormation needs the template in the same region: use a bucket in ${REGION}, or set 'region' to eu-central-1.`
    )
    expect(process.exitCode).toBe(1)
    expect(commands()).toEqual(['version'])
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
  })

  it('removes the private DOCKER_CONFIG when the push fails', async () => {
    const fake = useDocker({ pushFail: true })
    await runAction()

    expect(failure()).toBe(
      `docker push ${IMAGE_URI} failed (exit code 1): denied: Your authorization token has expired. Reauthenticate and try again.`
    )
    expect(process.exitCode).toBe(1)
    const configs = new Set(fake.callsOf('login').map((c) => c.dockerConfig))
    expect(configs.size).toBe(1)
    for (const dir of configs) expect(existsSync(dir ?? '')).toBe(false)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
  })

  it('succeeds with "no changes" when the change set of an existing stack is empty', async () => {
    const existing = createdStack({
      StackStatus: 'UPDATE_COMPLETE',
      Parameters: [
        { ParameterKey: 'CodeImageURI', ParameterValue: IMAGE_URI },
        { ParameterKey: 'Stage', ParameterValue: 'prod' },
        { ParameterKey: 'DbPassword', ParameterValue: '****' }
      ]
    })
    cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({ Stacks: [existing] })
    cfn.on(DescribeStacksCommand, { StackName: STACK_ID }).resolves({ Stacks: [existing] })
    cfn
      .on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_NAME })
      .rejects(
        awsError('ChangeSetNotFoundException', `ChangeSet [${CHANGE_SET_NAME}] does not exist`)
      )
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
