import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdirSync, realpathSync, symlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import {
  createRawInputs,
  createWorkspace,
  WORKSPACE_SHA,
  type Workspace
} from '../__fixtures__/inputs.js'
import { InputError } from '../src/errors.js'
import {
  checkBucketName,
  getInputs,
  INPUT_NAMES,
  parseInputs,
  SPARTA_BUILD_ARGS,
  type Inputs,
  type RawInputs
} from '../src/inputs.js'

let ws: Workspace

beforeEach(() => {
  ws = createWorkspace()
})
afterEach(() => {
  ws.remove()
})

function parse(overrides: Partial<RawInputs> = {}, env: NodeJS.ProcessEnv = ws.env) {
  return parseInputs(createRawInputs(overrides), env)
}

/** The message of the InputError `parse` throws. */
function failure(overrides: Partial<RawInputs>, env: NodeJS.ProcessEnv = ws.env): string {
  try {
    parse(overrides, env)
  } catch (error) {
    if (error instanceof InputError) return error.message
    throw error
  }
  throw new Error(`inputs ${JSON.stringify(overrides)} were accepted`)
}

const TEMPLATE_WITHOUT_IMAGE_PARAMETER = `Parameters:
  Image:
    Type: String
Resources:
  Queue:
    Type: AWS::SQS::Queue
`

describe('parseInputs defaults', () => {
  it('fills every optional input with its documented default', () => {
    const inputs = parse()
    expect(inputs).toEqual({
      dockerfile: join(ws.root, 'service/Dockerfile'),
      context: join(ws.root, 'service'),
      binary: '',
      labelName: 'io.sparta.ecr-name',
      buildId: WORKSPACE_SHA,
      buildTag: WORKSPACE_SHA,
      buildArgs: [],
      platform: '',
      target: '',
      bucket: 'my-artifacts',
      stackName: 'hello-service',
      template: expect.objectContaining({
        path: join(ws.root, 'service/template.yaml'),
        format: 'yaml'
      }),
      imageParameter: 'CodeImageURI',
      parameterOverrides: new Map(),
      capabilities: ['CAPABILITY_IAM'],
      tags: [],
      region: 'eu-west-1',
      createRepository: false,
      noFailOnEmptyChangeset: true,
      timeoutMinutes: 60,
      mode: 'deploy',
      codeArchive: '',
      archiveKeyParameter: 'CodeArtifactS3Key',
      archiveVersionParameter: 'CodeArtifactS3ObjectVersion',
      imageTags: [],
      pinDigest: true,
      cacheFrom: [],
      buildCache: 'auto',
      changeSetName: '',
      roleArn: '',
      notificationArns: [],
      terminationProtection: false,
      disableRollback: false,
      rollbackAlarms: [],
      rollbackMonitoringMinutes: 0,
      deploymentMode: '',
      includeNestedStacks: false,
      httpProxy: '',
      githubToken: '',
      prComment: true
    })
  })

  it('detects capabilities from the template when none are given', () => {
    ws.write(
      'service/named.yaml',
      'Transform: AWS::Serverless-2016-10-31\nParameters:\n  CodeImageURI: {Type: String}\nResources:\n  R:\n    Type: AWS::IAM::Role\n    Properties: {RoleName: app}\n'
    )
    expect(parse({ template: 'service/named.yaml' }).capabilities).toEqual([
      'CAPABILITY_IAM',
      'CAPABILITY_NAMED_IAM',
      'CAPABILITY_AUTO_EXPAND'
    ])
  })

  it('takes the region from AWS_REGION, then AWS_DEFAULT_REGION', () => {
    expect(parse({ region: '' }, { ...ws.env, AWS_REGION: 'ap-south-1' }).region).toBe('ap-south-1')
    expect(parse({ region: '' }, { ...ws.env, AWS_DEFAULT_REGION: 'sa-east-1' }).region).toBe(
      'sa-east-1'
    )
    expect(
      parse({ region: '' }, { ...ws.env, AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'sa-east-1' })
        .region
    ).toBe('us-west-2')
  })

  it("prefers the 'region' input over AWS_REGION", () => {
    expect(parse({ region: 'eu-central-1' }, { ...ws.env, AWS_REGION: 'us-west-2' }).region).toBe(
      'eu-central-1'
    )
  })
})

describe('required inputs', () => {
  it.each<[keyof RawInputs, string]>([
    ['dockerfile', "Input 'dockerfile' is required: give the path of the Dockerfile to build."],
    ['bucket', "Input 'bucket' is required: name the S3 bucket the template is uploaded to."],
    ['stack-name', "Input 'stack-name' is required: name the CloudFormation stack to deploy."],
    [
      'template',
      "Input 'template' is required: give the path of the CloudFormation template (JSON or YAML)."
    ]
  ])("refuses a missing '%s'", (name, message) => {
    expect(failure({ [name]: '  ' })).toBe(message)
  })
})

describe('files', () => {
  it('refuses a Dockerfile that does not exist', () => {
    expect(failure({ dockerfile: 'nope/Dockerfile' })).toBe(
      `Input 'dockerfile': nope/Dockerfile does not exist (resolved to ${join(ws.root, 'nope/Dockerfile')}); give a path relative to the repository root.`
    )
  })

  it('refuses a Dockerfile that is a directory', () => {
    expect(failure({ dockerfile: 'service' })).toBe(
      "Input 'dockerfile': service is a directory; give the path of a file."
    )
  })

  it('refuses a template that does not exist', () => {
    expect(failure({ template: 'missing.yaml' })).toBe(
      `Input 'template': missing.yaml does not exist (resolved to ${join(ws.root, 'missing.yaml')}); give a path relative to the repository root.`
    )
  })

  it('passes on the template parser error', () => {
    ws.write('service/bad.yaml', 'Resources: {}\n')
    expect(failure({ template: 'service/bad.yaml' })).toBe(
      `Input 'template': ${join(ws.root, 'service/bad.yaml')} has no 'Resources' section; a CloudFormation template needs at least one resource.`
    )
  })
})

describe('context', () => {
  it('accepts a context directory inside the workspace', () => {
    expect(parse({ context: '.', dockerfile: 'service/Dockerfile' }).context).toBe(ws.root)
  })

  it.each(['service/Dockerfile', 'no-such-dir'])('refuses %j: not a directory', (context) => {
    expect(failure({ context })).toBe(
      `Input 'context': ${context} is not a directory; give the build context directory (default: the Dockerfile's directory).`
    )
  })

  it('refuses a context that leaves the workspace through a symlink to ..', () => {
    symlinkSync('..', join(ws.root, 'escape'))
    const outside = realpathSync(dirname(ws.root))
    expect(failure({ context: 'escape' })).toBe(
      `Input 'context' (escape) resolves to ${outside}, outside the repository ${realpathSync(ws.root)}: keep the build context inside the checkout.`
    )
  })

  it('refuses a context given as ../', () => {
    expect(failure({ context: '../' })).toContain(
      `outside the repository ${realpathSync(ws.root)}: keep the build context inside the checkout.`
    )
  })
})

describe('binary', () => {
  it('gives SPARTA_BINARY relative to the context', () => {
    ws.write('service/bin/app', 'x')
    expect(parse({ binary: 'bootstrap' }).binary).toBe('bootstrap')
    expect(parse({ binary: './bin/../bin/app' }).binary).toBe('bin/app')
    expect(parse({ binary: 'service/bin/app', context: '.' }).binary).toBe('service/bin/app')
  })

  it.each(['missing-bin', 'bin'])('refuses %j: not a file in the context', (binary) => {
    mkdirSync(join(ws.root, 'service/bin'))
    expect(failure({ binary })).toBe(
      `Input 'binary': ${binary} is not a file in the build context ${join(ws.root, 'service')}; the path is relative to the context (it becomes SPARTA_BINARY).`
    )
  })

  it('refuses a binary outside the context', () => {
    ws.write('outside.bin', 'x')
    expect(failure({ binary: '../outside.bin' })).toBe(
      `Input 'binary': ../outside.bin is outside the build context ${join(ws.root, 'service')}; docker can only COPY files inside it.`
    )
  })
})

describe('label-name and build-id', () => {
  it('accepts a custom label name', () => {
    expect(parse({ 'label-name': 'com.example/ecr-repo' }).labelName).toBe('com.example/ecr-repo')
  })

  it.each(['bad label', '.hidden', 'a=b'])('refuses the label name %j', (label) => {
    expect(failure({ 'label-name': label })).toBe(
      `Input 'label-name' ('${label}') is not a valid label key: use letters, digits, '.', '-', '_' and '/', e.g. io.sparta.ecr-name.`
    )
  })

  it('keeps the build id and derives a docker tag from it', () => {
    const inputs = parse({ 'build-id': 'feature/login#2' })
    expect(inputs.buildId).toBe('feature/login#2')
    expect(inputs.buildTag).toBe('feature-login-2')
  })

  it('refuses an empty build id when GITHUB_SHA is not set', () => {
    expect(failure({ 'build-id': '' }, { GITHUB_WORKSPACE: ws.root })).toBe(
      "Input 'build-id' is empty and GITHUB_SHA is not set: give a build id such as the commit SHA."
    )
  })

  it('refuses a build id with nothing to make a tag from', () => {
    expect(failure({ 'build-id': '...' })).toBe(
      "Input 'build-id' ('...') has no letters or digits to make a docker tag from: use e.g. the commit SHA."
    )
  })
})

describe('build-args', () => {
  it('keeps the pairs in order with their values exact', () => {
    expect(parse({ 'build-args': 'GOFLAGS=-mod=vendor -trimpath\n\nEMPTY=\n' }).buildArgs).toEqual([
      { key: 'GOFLAGS', value: '-mod=vendor -trimpath', line: 1 },
      { key: 'EMPTY', value: '', line: 3 }
    ])
  })

  it.each(SPARTA_BUILD_ARGS)('refuses %s, which the action sets itself', (arg) => {
    expect(failure({ 'build-args': `OK=1\n${arg}=x` })).toBe(
      `Input 'build-args' sets ${arg}, which the action sets itself (AWS_ACCOUNT_ID, AWS_REGION, SPARTA_BINARY, SPARTA_ECR_LABEL_NAME, SPARTA_BUILD_ID): remove that line.`
    )
  })

  it('refuses a line without =', () => {
    expect(failure({ 'build-args': 'JUSTAKEY' })).toBe(
      "Input 'build-args' line 1 (\"JUSTAKEY\") has no '=': write one KEY=VALUE per line."
    )
  })
})

describe('stack-name, bucket, region', () => {
  it.each(['1hello', 'hello_world', 'hello.world', `a${'b'.repeat(128)}`])(
    'refuses the stack name %j',
    (name) => {
      expect(failure({ 'stack-name': name })).toBe(
        `Input 'stack-name' ('${name}') is not a valid CloudFormation stack name: start with a letter, use only letters, digits and '-', at most 128 characters.`
      )
    }
  )

  it('accepts a 128-character stack name', () => {
    const name = `A-${'b'.repeat(126)}`
    expect(parse({ 'stack-name': name }).stackName).toBe(name)
  })

  it.each([
    'My-Bucket',
    'my..bucket',
    '192.168.1.1',
    'ab',
    'a'.repeat(64),
    '-bucket',
    'bucket-',
    'my_bucket',
    'xn--bucket',
    'bucket-s3alias'
  ])('refuses the bucket name %j', (bucket) => {
    expect(failure({ bucket })).toBe(
      `Input 'bucket' ('${bucket}') is not a valid S3 bucket name: 3-63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit.`
    )
  })

  it.each(['abc', 'my.artifacts-2024', 'a'.repeat(63), '1bucket'])(
    'accepts the bucket name %j',
    (bucket) => {
      expect(() => checkBucketName(bucket)).not.toThrow()
    }
  )

  it('refuses a missing region, naming the input and AWS_REGION', () => {
    expect(failure({ region: '' })).toBe(
      "No AWS region: set input 'region', or set aws-region in aws-actions/configure-aws-credentials (AWS_REGION)."
    )
  })

  it.each(['us-east', 'US-EAST-1', 'useast1', 'eu west 1', 'us-east-1a'])(
    'refuses the region %j',
    (region) => {
      expect(failure({ region })).toBe(
        `Input 'region' ('${region}') is not an AWS region name such as us-east-1 or eu-west-2.`
      )
    }
  )

  it.each(['us-east-1', 'us-gov-west-1', 'cn-northwest-1', 'ap-southeast-5', 'us-isob-east-1'])(
    'accepts the region %s',
    (region) => {
      expect(parse({ region }).region).toBe(region)
    }
  )
})

describe('capabilities, tags, timeout, flags', () => {
  it('takes the capabilities given, comma- or newline-separated, instead of detecting them', () => {
    expect(
      parse({ capabilities: 'CAPABILITY_NAMED_IAM,\nCAPABILITY_AUTO_EXPAND' }).capabilities
    ).toEqual(['CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'])
  })

  it.each(['CAPABILITY_FOO', 'capability_iam'])('refuses the unknown capability %j', (bad) => {
    expect(failure({ capabilities: `CAPABILITY_IAM, ${bad}` })).toBe(
      `Input 'capabilities' has unknown capability '${bad}': use CAPABILITY_IAM, CAPABILITY_NAMED_IAM, CAPABILITY_AUTO_EXPAND.`
    )
  })

  it('reads stack tags', () => {
    expect(parse({ tags: 'team=core\ncost-center=42' }).tags).toEqual([
      { key: 'team', value: 'core', line: 1 },
      { key: 'cost-center', value: '42', line: 2 }
    ])
  })

  it.each([
    ['team=core\naws:owner=me', 2, 'aws:owner'],
    [`${'k'.repeat(129)}=v`, 1, 'k'.repeat(129)],
    [`k=${'v'.repeat(257)}`, 1, 'k']
  ])('refuses the tags %#', (tags, line, key) => {
    expect(failure({ tags })).toBe(
      `Input 'tags' line ${line}: tag '${key}' is not allowed: keys are 1-128 characters not starting with 'aws:', values at most 256.`
    )
  })

  it.each(['0', 'abc', '356', '1.5', '-5'])('refuses timeout-minutes %j', (timeout) => {
    expect(failure({ 'timeout-minutes': timeout })).toBe(
      `Input 'timeout-minutes' must be a whole number between 1 and 355, got '${timeout}'.`
    )
  })

  it.each([
    ['1', 1],
    ['355', 355],
    [' 90 ', 90]
  ])('accepts timeout-minutes %j', (timeout, minutes) => {
    expect(parse({ 'timeout-minutes': timeout }).timeoutMinutes).toBe(minutes)
  })

  it.each<[keyof RawInputs, string]>([
    ['create-repository', 'yes'],
    ['create-repository', '1'],
    ['no-fail-on-empty-changeset', 'nope'],
    ['no-fail-on-empty-changeset', 'tRue']
  ])("refuses '%s: %s'", (name, value) => {
    expect(failure({ [name]: value })).toBe(
      `Input '${name}' must be true or false, got '${value}'.`
    )
  })

  it.each([
    ['true', 'FALSE', true, false],
    ['True', 'false', true, false],
    ['FALSE', 'TRUE', false, true]
  ])('reads create-repository %s and no-fail-on-empty-changeset %s', (create, noFail, c, n) => {
    const inputs = parse({ 'create-repository': create, 'no-fail-on-empty-changeset': noFail })
    expect(inputs.createRepository).toBe(c)
    expect(inputs.noFailOnEmptyChangeset).toBe(n)
  })

  it('passes platform and target through, trimmed', () => {
    const inputs = parse({ platform: ' linux/arm64 ', target: 'runtime\n' })
    expect(inputs.platform).toBe('linux/arm64')
    expect(inputs.target).toBe('runtime')
  })
})

describe('image-parameter', () => {
  it('refuses a template that does not declare the image parameter', () => {
    ws.write('service/plain.yaml', TEMPLATE_WITHOUT_IMAGE_PARAMETER)
    expect(failure({ template: 'service/plain.yaml' })).toBe(
      "Input 'image-parameter': the template service/plain.yaml declares no parameter 'CodeImageURI' to receive the image URI: add it under Parameters (Type: String), or set 'image-parameter' to the parameter your function's ImageUri refers to."
    )
  })

  it('accepts another image parameter the template declares', () => {
    ws.write('service/plain.yaml', TEMPLATE_WITHOUT_IMAGE_PARAMETER)
    expect(
      parse({ template: 'service/plain.yaml', 'image-parameter': 'Image' }).imageParameter
    ).toBe('Image')
  })
})

describe('parameter-overrides', () => {
  it('reads KEY=VALUE lines, keeping the value after the first = exactly', () => {
    expect(
      parse({ 'parameter-overrides': 'Stage=prod\nDbPassword=a=b, c ' }).parameterOverrides
    ).toEqual(
      new Map([
        ['Stage', 'prod'],
        ['DbPassword', 'a=b, c ']
      ])
    )
  })

  it.each([
    ['a JSON object file', 'params/object.json', { Stage: 'prod', DbPassword: 's3cret' }],
    [
      'a ParameterKey/ParameterValue array file',
      'params/array.json',
      { Stage: 'test', DbPassword: 'hunter2' }
    ],
    ['a file:// path', 'file://params/array.json', { Stage: 'test', DbPassword: 'hunter2' }]
  ])('reads %s', (_, text, expected) => {
    expect(Object.fromEntries(parse({ 'parameter-overrides': text }).parameterOverrides)).toEqual(
      expected
    )
  })

  it('reads an absolute file:// path', () => {
    const path = join(ws.root, 'params/object.json')
    expect(parse({ 'parameter-overrides': `file://${path}` }).parameterOverrides.get('Stage')).toBe(
      'prod'
    )
  })

  it('turns JSON numbers and booleans into strings', () => {
    ws.write('params/scalars.json', '{"Stage": 7, "DbPassword": false}')
    expect(
      Object.fromEntries(parse({ 'parameter-overrides': 'params/scalars.json' }).parameterOverrides)
    ).toEqual({ Stage: '7', DbPassword: 'false' })
  })

  it('refuses an override naming an undeclared parameter, listing the declared ones', () => {
    expect(failure({ 'parameter-overrides': 'Stage=prod\nStgae=dev' })).toBe(
      "Input 'parameter-overrides' sets 'Stgae', which the template does not declare (declared: CodeImageURI, Stage, DbPassword, ApiKey): fix the name or declare it."
    )
  })

  it('refuses an override of the image parameter', () => {
    expect(failure({ 'parameter-overrides': 'CodeImageURI=nginx' })).toBe(
      "Input 'parameter-overrides' sets 'CodeImageURI', the image parameter the action fills with the pushed image URI: remove it."
    )
  })

  it('refuses a parameter file that does not exist', () => {
    expect(failure({ 'parameter-overrides': 'params/none.json' })).toBe(
      `Input 'parameter-overrides': params/none.json does not exist (resolved to ${join(ws.root, 'params/none.json')}); give a path relative to the repository root.`
    )
  })

  it('refuses a parameter file that is not JSON', () => {
    ws.write('params/bad.json', 'Stage: prod\n')
    expect(failure({ 'parameter-overrides': 'params/bad.json' })).toMatch(
      /^Input 'parameter-overrides': params\/bad\.json is not valid JSON \(.+\)\.$/s
    )
  })

  const shape = `give {"Key": "Value"} or [{"ParameterKey": "Key", "ParameterValue": "Value"}]`
  it.each([
    [
      '[{"ParameterKey": "Stage"}]',
      `Input 'parameter-overrides': params/p.json has an entry without string ParameterKey and ParameterValue: ${shape}.`
    ],
    [
      '[null]',
      `Input 'parameter-overrides': params/p.json has an entry without string ParameterKey and ParameterValue: ${shape}.`
    ],
    [
      '{"Stage": {"nested": true}}',
      `Input 'parameter-overrides': params/p.json gives 'Stage' a value that is not a string: ${shape}.`
    ],
    [
      '{"Stage": null}',
      `Input 'parameter-overrides': params/p.json gives 'Stage' a value that is not a string: ${shape}.`
    ],
    ['"Stage=prod"', `Input 'parameter-overrides': params/p.json holds neither shape: ${shape}.`],
    ['null', `Input 'parameter-overrides': params/p.json holds neither shape: ${shape}.`]
  ])('refuses the parameter file %s', (content, message) => {
    ws.write('params/p.json', content)
    expect(failure({ 'parameter-overrides': 'params/p.json' })).toBe(message)
  })
})

describe('getInputs', () => {
  const envNames = INPUT_NAMES.map((name) => `INPUT_${name.toUpperCase()}`)
  afterEach(() => {
    for (const name of envNames) delete process.env[name]
  })

  it('reads every input from its INPUT_* variable, hyphens kept, values untrimmed', () => {
    Object.assign(process.env, {
      INPUT_DOCKERFILE: 'service/Dockerfile',
      INPUT_BINARY: 'bootstrap',
      'INPUT_BUILD-ID': 'release/7',
      'INPUT_BUILD-ARGS': 'MODE=fast\nGREETING= hello ',
      INPUT_BUCKET: 'my-artifacts',
      'INPUT_STACK-NAME': 'from-env',
      INPUT_TEMPLATE: 'service/template.yaml',
      'INPUT_PARAMETER-OVERRIDES': 'Stage=prod',
      INPUT_REGION: 'us-west-2',
      'INPUT_CREATE-REPOSITORY': 'true',
      'INPUT_NO-FAIL-ON-EMPTY-CHANGESET': 'false',
      'INPUT_TIMEOUT-MINUTES': '15'
    })
    const inputs = getInputs(ws.env) as Inputs
    expect(inputs).toMatchObject({
      dockerfile: join(ws.root, 'service/Dockerfile'),
      binary: 'bootstrap',
      buildId: 'release/7',
      buildTag: 'release-7',
      buildArgs: [
        { key: 'MODE', value: 'fast', line: 1 },
        { key: 'GREETING', value: ' hello ', line: 2 }
      ],
      stackName: 'from-env',
      region: 'us-west-2',
      createRepository: true,
      noFailOnEmptyChangeset: false,
      timeoutMinutes: 15
    })
    expect(inputs.parameterOverrides).toEqual(new Map([['Stage', 'prod']]))
  })

  it('reports a missing required input by its action.yml name', () => {
    process.env['INPUT_DOCKERFILE'] = 'service/Dockerfile'
    process.env['INPUT_BUCKET'] = 'my-artifacts'
    expect(() => getInputs(ws.env)).toThrow(
      "Input 'stack-name' is required: name the CloudFormation stack to deploy."
    )
  })
})
