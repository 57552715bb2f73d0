import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import {
  createRawInputs,
  createWorkspace,
  createZipArchive,
  EMPTY_ZIP,
  ZIP_SERVICE_TEMPLATE,
  type Workspace
} from '../__fixtures__/inputs.js'
import { InputError } from '../src/errors.js'
import {
  getInputs,
  INPUT_NAMES,
  isStackOnly,
  modeOf,
  parseInputs,
  parseStackOnlyInputs,
  type ActionInputs,
  type Inputs,
  type RawInputs,
  type StackOnlyInputs
} from '../src/inputs.js'

let ws: Workspace

beforeEach(() => {
  ws = createWorkspace()
})
afterEach(() => {
  ws.remove()
})

function parse(overrides: Partial<RawInputs> = {}, env: NodeJS.ProcessEnv = ws.env): Inputs {
  return parseInputs(createRawInputs(overrides), env)
}

/** The message of the InputError `action` throws. */
function inputError(action: () => unknown): string {
  try {
    action()
  } catch (error) {
    if (error instanceof InputError) return error.message
    throw error
  }
  throw new Error('the inputs were accepted')
}

function failure(overrides: Partial<RawInputs>, env: NodeJS.ProcessEnv = ws.env): string {
  return inputError(() => parse(overrides, env))
}

/** Inputs that only the deploy-like modes need, cleared. */
const NO_DEPLOY_INPUTS: Partial<RawInputs> = { dockerfile: '', bucket: '', template: '' }

/** Runs `getInputs` with `raw` as the INPUT_* variables, as the runner sets them. */
function readInputs(raw: RawInputs, env: NodeJS.ProcessEnv = ws.env): ActionInputs {
  for (const name of INPUT_NAMES) process.env[`INPUT_${name.toUpperCase()}`] = raw[name]
  try {
    return getInputs(env)
  } finally {
    for (const name of INPUT_NAMES) delete process.env[`INPUT_${name.toUpperCase()}`]
  }
}

const STACK_ONLY_DEFAULTS: StackOnlyInputs = {
  mode: 'delete',
  stackName: 'hello-service',
  region: 'eu-west-1',
  timeoutMinutes: 60,
  changeSet: '',
  deleteImage: false,
  imageParameter: 'CodeImageURI',
  terminationProtection: false,
  disableRollback: false,
  roleArn: '',
  httpProxy: '',
  githubToken: '',
  prComment: true
}

const MODES_MESSAGE = "Input 'mode' must be one of deploy, review, noop, delete"

describe('mode', () => {
  it('defaults to deploy, which getInputs returns as full Inputs', () => {
    const inputs = readInputs(createRawInputs())
    expect(inputs.mode).toBe('deploy')
    expect(isStackOnly(inputs)).toBe(false)
    expect((inputs as Inputs).dockerfile).toBe(join(ws.root, 'service/Dockerfile'))
  })

  it.each(['deploy', 'review', 'noop'] as const)(
    'reads mode %s as a mode that builds and needs every deploy input',
    (mode) => {
      const inputs = readInputs(createRawInputs({ mode: ` ${mode} ` }))
      expect(inputs.mode).toBe(mode)
      expect(isStackOnly(inputs)).toBe(false)
      expect(inputError(() => readInputs(createRawInputs({ mode, bucket: '' })))).toBe(
        "Input 'bucket' is required: name the S3 bucket the template is uploaded to."
      )
    }
  )

  it('delete needs only stack-name and region: no Dockerfile, bucket or template', () => {
    const inputs = readInputs(createRawInputs({ ...NO_DEPLOY_INPUTS, mode: 'delete' }))
    expect(isStackOnly(inputs)).toBe(true)
    expect(inputs).toEqual(STACK_ONLY_DEFAULTS)
  })

  it('delete does not look at the deploy inputs, even invalid ones', () => {
    const inputs = readInputs(
      createRawInputs({
        mode: 'delete',
        dockerfile: 'missing/Dockerfile',
        bucket: 'Not_A_Bucket',
        template: 'missing.yaml',
        'code-archive': 'missing.zip',
        'image-tags': '-bad',
        'rollback-monitoring-minutes': 'x'
      })
    )
    expect(inputs).toEqual(STACK_ONLY_DEFAULTS)
  })

  it('delete takes the region from AWS_REGION and still requires one', () => {
    const raw = createRawInputs({ ...NO_DEPLOY_INPUTS, mode: 'delete', region: '' })
    expect(readInputs(raw, { ...ws.env, AWS_REGION: 'us-east-2' }).region).toBe('us-east-2')
    expect(inputError(() => readInputs(raw))).toBe(
      "No AWS region: set input 'region', or set aws-region in aws-actions/configure-aws-credentials (AWS_REGION)."
    )
  })

  it('delete requires stack-name', () => {
    expect(
      inputError(() =>
        readInputs(createRawInputs({ ...NO_DEPLOY_INPUTS, mode: 'delete', 'stack-name': '' }))
      )
    ).toBe("Input 'stack-name' is required: name the CloudFormation stack to deploy.")
  })

  it('reads the stack-only options of delete', () => {
    const inputs = readInputs(
      createRawInputs({
        ...NO_DEPLOY_INPUTS,
        mode: 'delete',
        'delete-image': 'true',
        'image-parameter': 'ImageUri',
        'timeout-minutes': '20',
        'termination-protection': 'True',
        'disable-rollback': 'TRUE',
        'http-proxy': 'http://proxy.example.com:3128',
        'github-token': ' ghs_token ',
        'pr-comment': 'false'
      })
    )
    expect(inputs).toEqual({
      ...STACK_ONLY_DEFAULTS,
      deleteImage: true,
      imageParameter: 'ImageUri',
      timeoutMinutes: 20,
      terminationProtection: true,
      disableRollback: true,
      httpProxy: 'http://proxy.example.com:3128',
      githubToken: 'ghs_token',
      prComment: false
    })
  })

  it.each<[Partial<RawInputs>, string]>([
    [{ 'delete-image': 'yes' }, "Input 'delete-image' must be true or false, got 'yes'."],
    [
      { 'timeout-minutes': '400' },
      "Input 'timeout-minutes' must be a whole number between 1 and 355, got '400'."
    ],
    [
      { 'http-proxy': 'proxy:3128' },
      "Input 'http-proxy' ('proxy:3128') must be a URL such as http://proxy.example.com:3128."
    ],
    [
      { region: 'Europe' },
      "Input 'region' ('Europe') is not an AWS region name such as us-east-1 or eu-west-2."
    ]
  ])('delete refuses %j', (overrides, message) => {
    const raw = createRawInputs({ ...NO_DEPLOY_INPUTS, mode: 'delete', ...overrides })
    expect(inputError(() => parseStackOnlyInputs(raw, ws.env, 'delete'))).toBe(message)
  })

  it.each(['destroy', 'Deploy', 'execute', 'preview'])(
    'refuses the unknown mode %s, listing the modes',
    (mode) => {
      const message = `${MODES_MESSAGE}, got '${mode}'.`
      expect(inputError(() => modeOf(createRawInputs({ mode })))).toBe(message)
      expect(inputError(() => readInputs(createRawInputs({ mode })))).toBe(message)
    }
  )

  it('an unknown mode fails before any other input is checked', () => {
    expect(inputError(() => readInputs(createRawInputs({ mode: 'nope', 'stack-name': '' })))).toBe(
      `${MODES_MESSAGE}, got 'nope'.`
    )
  })

  it('parseInputs refuses the stack-only modes', () => {
    expect(failure({ mode: 'delete' })).toBe(
      "Mode 'delete' takes only the stack inputs; this is a bug in the action."
    )
    expect(failure({ 'execute-change-set': 'cs-1' })).toBe(
      "Mode 'execute' takes only the stack inputs; this is a bug in the action."
    )
  })
})

describe('execute-change-set', () => {
  const changeSet =
    'arn:aws:cloudformation:eu-west-1:123456789012:changeSet/hello-service-abc/4b3f2c1e-0000-4000-8000-000000000000'

  it.each(['', 'deploy'])("gives mode 'execute' with the change set (mode '%s')", (mode) => {
    const raw = createRawInputs({ ...NO_DEPLOY_INPUTS, mode, 'execute-change-set': changeSet })
    expect(modeOf(raw)).toBe('execute')
    const inputs = readInputs(raw)
    expect(isStackOnly(inputs)).toBe(true)
    expect(inputs).toEqual({ ...STACK_ONLY_DEFAULTS, mode: 'execute', changeSet })
  })

  it('trims the change set name', () => {
    const raw = createRawInputs({ ...NO_DEPLOY_INPUTS, 'execute-change-set': ' review-7 \n' })
    expect(readInputs(raw)).toMatchObject({ mode: 'execute', changeSet: 'review-7' })
  })

  it.each(['review', 'noop', 'delete'])('cannot be combined with mode %s', (mode) => {
    const raw = createRawInputs({ mode, 'execute-change-set': 'review-7' })
    const message = `Input 'execute-change-set' runs a change set made earlier and cannot be combined with mode '${mode}': remove one of them.`
    expect(inputError(() => modeOf(raw))).toBe(message)
    expect(inputError(() => readInputs(raw))).toBe(message)
  })
})

describe('stack-name-suffix', () => {
  const suffixMessage = (name: string): string =>
    `Input 'stack-name' with 'stack-name-suffix' ('${name}') is not a valid CloudFormation stack name: start with a letter, use only letters, digits and '-', at most 128 characters.`

  it('appends the suffix with a -', () => {
    expect(parse({ 'stack-name': 'my-svc', 'stack-name-suffix': 'pr-42' }).stackName).toBe(
      'my-svc-pr-42'
    )
    expect(parse({ 'stack-name': 'my-svc', 'stack-name-suffix': ' pr-42\n' }).stackName).toBe(
      'my-svc-pr-42'
    )
  })

  it('leaves the name alone without a suffix', () => {
    expect(parse({ 'stack-name': 'my-svc' }).stackName).toBe('my-svc')
  })

  it('refuses a suffix that makes the name invalid, naming stack-name-suffix', () => {
    expect(failure({ 'stack-name': 'my-svc', 'stack-name-suffix': '_x' })).toBe(
      suffixMessage('my-svc-_x')
    )
    expect(failure({ 'stack-name': 'my-svc', 'stack-name-suffix': 'pr 42' })).toBe(
      suffixMessage('my-svc-pr 42')
    )
  })

  it('checks the length of the combined name', () => {
    const base = `s${'a'.repeat(99)}`
    expect(
      parse({ 'stack-name': base, 'stack-name-suffix': 'b'.repeat(27) }).stackName
    ).toHaveLength(128)
    const tooLong = `${base}-${'b'.repeat(28)}`
    expect(failure({ 'stack-name': base, 'stack-name-suffix': 'b'.repeat(28) })).toBe(
      suffixMessage(tooLong)
    )
  })

  it('does not mention the suffix when there is none', () => {
    expect(failure({ 'stack-name': 'my_svc' })).toBe(
      "Input 'stack-name' ('my_svc') is not a valid CloudFormation stack name: start with a letter, use only letters, digits and '-', at most 128 characters."
    )
  })

  it('works in delete mode too', () => {
    const raw = createRawInputs({
      ...NO_DEPLOY_INPUTS,
      mode: 'delete',
      'stack-name': 'my-svc',
      'stack-name-suffix': 'pr-42'
    })
    expect(readInputs(raw).stackName).toBe('my-svc-pr-42')
    expect(inputError(() => readInputs({ ...raw, 'stack-name-suffix': 'pr.42' }))).toBe(
      suffixMessage('my-svc-pr.42')
    )
  })

  it('works with execute-change-set', () => {
    const raw = createRawInputs({
      ...NO_DEPLOY_INPUTS,
      'execute-change-set': 'review-7',
      'stack-name': 'my-svc',
      'stack-name-suffix': 'pr-42'
    })
    expect(readInputs(raw)).toMatchObject({ mode: 'execute', stackName: 'my-svc-pr-42' })
  })
})

describe('code-archive', () => {
  const ZIP: Partial<RawInputs> = {
    dockerfile: '',
    'code-archive': 'build/function.zip',
    template: 'service/zip.yaml'
  }
  const BOTH_SET =
    "Inputs 'dockerfile' and 'code-archive' are both set: an image is built from a Dockerfile, a zip package is uploaded as it is; give only one of them (Sparta likewise refuses ZIP archive hooks with a dockerFile)."
  const notZip = (shown: string): string =>
    `Input 'code-archive': ${shown} is not a zip file: give the .zip package Lambda runs (e.g. made with 'zip -r function.zip bootstrap').`

  beforeEach(() => {
    ws.write('service/zip.yaml', ZIP_SERVICE_TEMPLATE)
    ws.write('build/function.zip', createZipArchive({ bootstrap: '#!/bin/sh\necho hello\n' }))
  })

  it('takes a zip package instead of a Dockerfile', () => {
    const inputs = parse(ZIP)
    expect(inputs).toMatchObject({
      mode: 'deploy',
      codeArchive: join(ws.root, 'build/function.zip'),
      dockerfile: '',
      context: '',
      binary: '',
      buildArgs: [],
      archiveKeyParameter: 'CodeArtifactS3Key',
      archiveVersionParameter: 'CodeArtifactS3ObjectVersion',
      bucket: 'my-artifacts',
      stackName: 'hello-service'
    })
    expect(inputs.template.path).toBe(join(ws.root, 'service/zip.yaml'))
  })

  it('accepts an empty zip archive', () => {
    ws.write('build/empty.zip', EMPTY_ZIP)
    expect(parse({ ...ZIP, 'code-archive': 'build/empty.zip' }).codeArchive).toBe(
      join(ws.root, 'build/empty.zip')
    )
  })

  it('accepts an absolute path', () => {
    const path = join(ws.root, 'build/function.zip')
    expect(parse({ ...ZIP, 'code-archive': ` ${path} ` }).codeArchive).toBe(path)
  })

  it('is read through getInputs as well', () => {
    const inputs = readInputs(createRawInputs({ ...ZIP, mode: 'review' }))
    expect(inputs).toMatchObject({
      mode: 'review',
      codeArchive: join(ws.root, 'build/function.zip'),
      dockerfile: ''
    })
  })

  it('refuses a Dockerfile and a zip package together', () => {
    expect(failure({ ...ZIP, dockerfile: 'service/Dockerfile' })).toBe(BOTH_SET)
  })

  it('reports both set before any other bad input', () => {
    expect(
      failure({
        ...ZIP,
        dockerfile: 'missing/Dockerfile',
        'code-archive': 'missing.zip',
        bucket: 'Not_A_Bucket',
        template: '',
        'stack-name': '',
        region: 'nowhere',
        'image-tags': '-bad'
      })
    ).toBe(BOTH_SET)
  })

  it.each<[string, string | Buffer]>([
    ['text', 'not a zip at all'],
    ['a gzip file', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0])],
    ['an empty file', ''],
    ['a file shorter than the signature', 'PK'],
    ['a spanned-archive marker', Buffer.from('PK\x07\x08rest', 'latin1')]
  ])('refuses %s', (_, content) => {
    ws.write('build/function.zip', content)
    expect(failure(ZIP)).toBe(notZip('build/function.zip'))
  })

  it('refuses a package that does not exist', () => {
    expect(failure({ ...ZIP, 'code-archive': 'build/missing.zip' })).toBe(
      `Input 'code-archive': build/missing.zip does not exist (resolved to ${join(ws.root, 'build/missing.zip')}); give a path relative to the repository root.`
    )
  })

  it('refuses a directory', () => {
    expect(failure({ ...ZIP, 'code-archive': 'build' })).toBe(
      "Input 'code-archive': build is a directory; give the path of a file."
    )
  })

  it('still requires the bucket and the template', () => {
    expect(failure({ ...ZIP, bucket: '' })).toBe(
      "Input 'bucket' is required: name the S3 bucket the template is uploaded to."
    )
    expect(failure({ ...ZIP, template: '' })).toBe(
      "Input 'template' is required: give the path of the CloudFormation template (JSON or YAML)."
    )
  })

  it('refuses a template without the archive key parameter', () => {
    expect(failure({ ...ZIP, template: 'service/template.yaml' })).toBe(
      "Input 'archive-key-parameter': the template service/template.yaml declares no parameter 'CodeArtifactS3Key' to receive the zip package's S3 key: add it under Parameters (Type: String), or set 'archive-key-parameter'."
    )
  })

  it('does not need the image parameter in zip mode', () => {
    expect(Object.keys(parse(ZIP).template.parameters)).not.toContain('CodeImageURI')
    // The same template is refused for an image build.
    expect(failure({ template: 'service/zip.yaml' })).toBe(
      "Input 'image-parameter': the template service/zip.yaml declares no parameter 'CodeImageURI' to receive the image URI: add it under Parameters (Type: String), or set 'image-parameter' to the parameter your function's ImageUri refers to."
    )
  })

  it('takes other archive parameter names', () => {
    ws.write(
      'service/custom.yaml',
      'Parameters:\n  PackageKey: {Type: String}\n  PackageVersion: {Type: String}\nResources:\n  Q: {Type: AWS::SQS::Queue}\n'
    )
    const inputs = parse({
      ...ZIP,
      template: 'service/custom.yaml',
      'archive-key-parameter': ' PackageKey ',
      'archive-version-parameter': 'PackageVersion'
    })
    expect(inputs.archiveKeyParameter).toBe('PackageKey')
    expect(inputs.archiveVersionParameter).toBe('PackageVersion')
    expect(failure({ ...ZIP, 'archive-key-parameter': 'PackageKey' })).toBe(
      "Input 'archive-key-parameter': the template service/zip.yaml declares no parameter 'PackageKey' to receive the zip package's S3 key: add it under Parameters (Type: String), or set 'archive-key-parameter'."
    )
  })

  it('accepts a template that does not declare the version parameter', () => {
    ws.write(
      'service/key-only.yaml',
      'Parameters:\n  CodeArtifactS3Key: {Type: String}\nResources:\n  Q: {Type: AWS::SQS::Queue}\n'
    )
    expect(parse({ ...ZIP, template: 'service/key-only.yaml' }).archiveVersionParameter).toBe(
      'CodeArtifactS3ObjectVersion'
    )
  })

  it.each(['CodeArtifactS3Key', 'CodeArtifactS3ObjectVersion'])(
    'refuses an override of %s, which the action fills',
    (key) => {
      expect(failure({ ...ZIP, 'parameter-overrides': `${key}=mine.zip` })).toBe(
        `Input 'parameter-overrides' sets '${key}', a zip package parameter the action fills with the pushed package: remove it.`
      )
    }
  )

  it('accepts overrides of the other parameters', () => {
    expect(parse({ ...ZIP, 'parameter-overrides': 'Stage=prod' }).parameterOverrides).toEqual(
      new Map([['Stage', 'prod']])
    )
  })
})

describe('image-tags, pin-digest, cache-from', () => {
  it('reads comma- and newline-separated image tags', () => {
    expect(parse({ 'image-tags': 'v1.2.3, latest\nstable_2\n\n' }).imageTags).toEqual([
      'v1.2.3',
      'latest',
      'stable_2'
    ])
    expect(parse().imageTags).toEqual([])
  })

  it.each(['-rc1', '.hidden', 'v1 2', 'release/7', 'a:b', 't'.repeat(129)])(
    'refuses the image tag %s',
    (tag) => {
      expect(failure({ 'image-tags': `v1, ${tag}` })).toBe(
        `Input 'image-tags' has '${tag}', which is not a docker tag: up to 128 letters, digits, '_', '.', '-', not starting with '.' or '-'.`
      )
    }
  )

  it('accepts a 128-character image tag', () => {
    expect(parse({ 'image-tags': 't'.repeat(128) }).imageTags).toEqual(['t'.repeat(128)])
  })

  it('pins the digest by default and can be turned off', () => {
    expect(parse().pinDigest).toBe(true)
    expect(parse({ 'pin-digest': 'false' }).pinDigest).toBe(false)
    expect(failure({ 'pin-digest': 'no' })).toBe(
      "Input 'pin-digest' must be true or false, got 'no'."
    )
  })

  it('reads the cache-from list', () => {
    const previous = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:latest'
    const main = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:main'
    expect(parse({ 'cache-from': `${previous}\n${main}` }).cacheFrom).toEqual([previous, main])
    expect(parse({ 'cache-from': `${previous},${main}` }).cacheFrom).toEqual([previous, main])
    expect(parse().cacheFrom).toEqual([])
  })
})

describe('CloudFormation options', () => {
  const topic = (n: number): string => `arn:aws:sns:eu-west-1:123456789012:deploys-${n}`
  const alarm = (n: number): string => `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:errors-${n}`

  it('takes a valid change set name', () => {
    expect(parse({ 'change-set-name': ' release-7 ' }).changeSetName).toBe('release-7')
    expect(parse({ 'change-set-name': `c${'1'.repeat(127)}` }).changeSetName).toHaveLength(128)
  })

  it.each(['release_7', '7-release', '-release', 'release.7', `c${'1'.repeat(128)}`])(
    'refuses the change set name %s',
    (name) => {
      expect(failure({ 'change-set-name': name })).toBe(
        `Input 'change-set-name' ('${name}') is not a valid change set name: start with a letter, use only letters, digits and '-', at most 128 characters.`
      )
    }
  )

  it.each([
    'arn:aws:iam::123456789012:role/cfn-deploy',
    'arn:aws:iam::123456789012:role/service-role/cfn-deploy',
    'arn:aws-us-gov:iam::123456789012:role/cfn-deploy',
    'arn:aws-cn:iam::123456789012:role/cfn-deploy'
  ])('takes the role ARN %s', (arn) => {
    expect(parse({ 'role-arn': arn }).roleArn).toBe(arn)
  })

  it.each([
    'cfn-deploy',
    'arn:aws:iam::12345678901:role/cfn-deploy',
    'arn:aws:iam::123456789012:user/bob',
    'arn:aws:iam::123456789012:role/',
    'arn:aws:sts::123456789012:assumed-role/cfn-deploy/session'
  ])('refuses the role ARN %s', (arn) => {
    expect(failure({ 'role-arn': arn })).toBe(
      `Input 'role-arn' ('${arn}') is not an IAM role ARN such as arn:aws:iam::123456789012:role/cfn-deploy.`
    )
  })

  it('reads up to 5 notification ARNs', () => {
    const five = [1, 2, 3, 4, 5].map(topic)
    expect(parse({ 'notification-arns': five.join(',\n') }).notificationArns).toEqual(five)
    expect(parse().notificationArns).toEqual([])
  })

  it.each([
    'arn:aws:sqs:eu-west-1:123456789012:queue',
    'deploys',
    'arn:aws:sns:eu-west-1:1234:deploys'
  ])('refuses the notification ARN %s', (arn) => {
    expect(failure({ 'notification-arns': `${topic(1)}\n${arn}` })).toBe(
      `Input 'notification-arns' has '${arn}', which is not an SNS topic ARN.`
    )
  })

  it('refuses more than 5 notification ARNs', () => {
    expect(failure({ 'notification-arns': [1, 2, 3, 4, 5, 6].map(topic).join('\n') })).toBe(
      "Input 'notification-arns' has 6 topics; CloudFormation takes at most 5."
    )
  })

  it('reads up to 5 rollback alarms', () => {
    const five = [1, 2, 3, 4, 5].map(alarm)
    expect(parse({ 'rollback-alarms': five.join('\n') }).rollbackAlarms).toEqual(five)
    expect(parse().rollbackAlarms).toEqual([])
  })

  it.each([topic(1), 'errors', 'arn:aws:cloudwatch:eu-west-1:123:alarm:errors'])(
    'refuses the rollback alarm %s',
    (arn) => {
      expect(failure({ 'rollback-alarms': arn })).toBe(
        `Input 'rollback-alarms' has '${arn}', which is not a CloudWatch alarm ARN.`
      )
    }
  )

  it('refuses more than 5 rollback alarms', () => {
    expect(failure({ 'rollback-alarms': [1, 2, 3, 4, 5, 6].map(alarm).join(',') })).toBe(
      "Input 'rollback-alarms' has 6 alarms; CloudFormation takes at most 5."
    )
  })

  it.each([
    ['', 0],
    ['0', 0],
    ['30', 30],
    [' 180 ', 180]
  ])("reads rollback-monitoring-minutes '%s' as %d", (text, minutes) => {
    expect(parse({ 'rollback-monitoring-minutes': text }).rollbackMonitoringMinutes).toBe(minutes)
  })

  it.each(['181', 'x', '-1', '1.5', '30m'])('refuses rollback-monitoring-minutes %s', (text) => {
    expect(failure({ 'rollback-monitoring-minutes': text })).toBe(
      `Input 'rollback-monitoring-minutes' must be a whole number between 0 and 180, got '${text}'.`
    )
  })

  it('takes an empty deployment mode or REVERT_DRIFT', () => {
    expect(parse().deploymentMode).toBe('')
    expect(parse({ 'deployment-mode': ' REVERT_DRIFT ' }).deploymentMode).toBe('REVERT_DRIFT')
  })

  it.each(['revert_drift', 'FULL_REPLACEMENT', 'drift'])('refuses deployment-mode %s', (mode) => {
    expect(failure({ 'deployment-mode': mode })).toBe(
      `Input 'deployment-mode' must be empty or REVERT_DRIFT, got '${mode}'.`
    )
  })

  it.each<[keyof RawInputs, keyof Inputs]>([
    ['include-nested-stacks', 'includeNestedStacks'],
    ['termination-protection', 'terminationProtection'],
    ['disable-rollback', 'disableRollback']
  ])('reads the flag %s, off by default', (name, field) => {
    expect(parse()[field]).toBe(false)
    expect(parse({ [name]: 'true' })[field]).toBe(true)
    expect(parse({ [name]: 'False' })[field]).toBe(false)
    expect(failure({ [name]: 'on' })).toBe(`Input '${name}' must be true or false, got 'on'.`)
  })
})

describe('http-proxy, github-token, pr-comment', () => {
  it.each([
    'http://proxy.example.com:3128',
    'https://proxy.example.com',
    'http://user:secret@10.0.0.1:8080/',
    'http://[::1]:3128'
  ])('takes the proxy URL %s', (url) => {
    expect(parse({ 'http-proxy': ` ${url} ` }).httpProxy).toBe(url)
  })

  it.each([
    'proxy.example.com:3128',
    'socks5://proxy.example.com:1080',
    'http://',
    'http://proxy example.com:3128',
    'http://proxy.example.com:3128 extra',
    'http://[bad:3128'
  ])('refuses the proxy %s', (url) => {
    expect(failure({ 'http-proxy': url })).toBe(
      `Input 'http-proxy' ('${url}') must be a URL such as http://proxy.example.com:3128.`
    )
  })

  it('keeps the github token, trimmed', () => {
    expect(parse({ 'github-token': ' ghs_abc123\n' }).githubToken).toBe('ghs_abc123')
    expect(parse().githubToken).toBe('')
  })

  it('comments on pull requests by default', () => {
    expect(parse().prComment).toBe(true)
    expect(parse({ 'pr-comment': 'false' }).prComment).toBe(false)
    expect(failure({ 'pr-comment': 'sometimes' })).toBe(
      "Input 'pr-comment' must be true or false, got 'sometimes'."
    )
  })
})

describe('getInputs with the new inputs', () => {
  it('reads each new input from its INPUT_* variable', () => {
    const inputs = readInputs(
      createRawInputs({
        mode: 'noop',
        'stack-name-suffix': 'pr-9',
        'image-tags': 'v2,latest',
        'pin-digest': 'false',
        'cache-from': 'app:latest',
        'change-set-name': 'review-9',
        'role-arn': 'arn:aws:iam::123456789012:role/cfn-deploy',
        'notification-arns': 'arn:aws:sns:eu-west-1:123456789012:deploys',
        'termination-protection': 'true',
        'disable-rollback': 'true',
        'rollback-alarms': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:errors',
        'rollback-monitoring-minutes': '15',
        'deployment-mode': 'REVERT_DRIFT',
        'include-nested-stacks': 'true',
        'http-proxy': 'http://proxy:3128',
        'github-token': 'ghs_x',
        'pr-comment': 'false'
      })
    )
    expect(inputs).toMatchObject({
      mode: 'noop',
      stackName: 'hello-service-pr-9',
      imageTags: ['v2', 'latest'],
      pinDigest: false,
      cacheFrom: ['app:latest'],
      changeSetName: 'review-9',
      roleArn: 'arn:aws:iam::123456789012:role/cfn-deploy',
      notificationArns: ['arn:aws:sns:eu-west-1:123456789012:deploys'],
      terminationProtection: true,
      disableRollback: true,
      rollbackAlarms: ['arn:aws:cloudwatch:eu-west-1:123456789012:alarm:errors'],
      rollbackMonitoringMinutes: 15,
      deploymentMode: 'REVERT_DRIFT',
      includeNestedStacks: true,
      httpProxy: 'http://proxy:3128',
      githubToken: 'ghs_x',
      prComment: false
    })
  })
})

describe('action.yml', () => {
  const action = parseYaml(readFileSync(new URL('../action.yml', import.meta.url), 'utf8')) as {
    inputs: Record<string, { default?: string; required?: boolean }>
  }

  it('declares exactly the inputs the action reads', () => {
    expect(Object.keys(action.inputs).sort()).toEqual([...INPUT_NAMES].sort())
  })

  it('documents defaults that mean the same as leaving the input empty', () => {
    const defaults: Partial<RawInputs> = {}
    for (const name of INPUT_NAMES) {
      const value = action.inputs[name]?.default
      // github-token's default is an expression the runner fills in.
      if (value !== undefined && value !== '' && !value.startsWith('${{')) defaults[name] = value
    }
    expect(Object.keys(defaults).length).toBeGreaterThan(10)
    expect(parse(defaults)).toEqual(parse())
  })
})

describe('build-args values', () => {
  it('keeps commas, further =, spaces and quotes exactly', () => {
    const inputs = parseInputs(
      createRawInputs({ 'build-args': `LIST=a,b,c\nEQ=x=y==\nQUOTED="hello world" 'x'` }),
      ws.env
    )
    expect(inputs.buildArgs.map((a) => [a.key, a.value])).toEqual([
      ['LIST', 'a,b,c'],
      ['EQ', 'x=y=='],
      ['QUOTED', `"hello world" 'x'`]
    ])
  })

  it('refuses a value continued on the next line, even when that line holds an =', () => {
    expect(() =>
      parseInputs(
        createRawInputs({ 'build-args': 'CERT=line one\nstill the cert=base64==' }),
        ws.env
      )
    ).toThrow(
      "Input 'build-args' line 2: 'still the cert' is not a build arg name (letters, digits, '_'); a value cannot continue on the next line: put each KEY=VALUE on one line."
    )
  })
})
