/**
 * inputs.ts: getInputs, the mode, the stack-only inputs, and parseInputs as the composition of the
 * readers (defaults, which check runs first, the inputs it wires straight through); the contract
 * with action.yml. Each reader's own rules are tested in its module's file.
 */
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import {
  createRawInputs,
  DOCKERFILE_AND_ZIP_MESSAGE,
  inputError,
  inputsParser,
  useWorkspace,
  useZipPackage,
  WORKSPACE_SHA,
  ZIP_INPUTS
} from '../../__fixtures__/inputs.js'
import {
  getInputs,
  isStackOnly,
  modeOf,
  parseStackOnlyInputs,
  type ActionInputs,
  type Inputs,
  type StackOnlyInputs
} from '../../src/inputs/inputs.js'
import { INPUT_NAMES, type RawInputs } from '../../src/inputs/raw.js'

const ws = useWorkspace()

const { parse, failure } = inputsParser(ws)

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
      capabilityReasons: [],
      tags: [],
      region: 'eu-west-1',
      regions: ['eu-west-1'],
      image: undefined,
      repository: '',
      createRepository: false,
      protectImages: false,
      failOnExpirableImage: false,
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
      express: false,
      rollbackAlarms: [],
      rollbackMonitoringMinutes: 0,
      deploymentMode: '',
      includeNestedStacks: false,
      httpProxy: '',
      githubToken: '',
      prComment: true
    })
  })
})

describe('release inputs in parseInputs', () => {
  const IMAGE = `111122223333.dkr.ecr.us-east-1.amazonaws.com/team/hello@sha256:${'a'.repeat(64)}`

  it('with image, needs no dockerfile and reads no build inputs', () => {
    const inputs = parse({ dockerfile: '', image: IMAGE })
    expect(inputs).toMatchObject({
      dockerfile: '',
      codeArchive: '',
      context: '',
      image: {
        uri: IMAGE,
        host: '111122223333.dkr.ecr.us-east-1.amazonaws.com',
        accountId: '111122223333',
        region: 'us-east-1',
        repository: 'team/hello',
        digest: `sha256:${'a'.repeat(64)}`
      },
      repository: 'team/hello'
    })
  })

  it('refuses image together with an explicitly set dockerfile', () => {
    expect(failure({ image: IMAGE })).toBe(
      "Inputs 'image' and 'dockerfile' are both set: 'image' deploys an image that is already in ECR, 'dockerfile' builds a new one; give only one of them."
    )
  })

  it('the first of regions is the region; buckets per region are checked by name', () => {
    const inputs = parse({ region: '', regions: 'us-east-1, eu-west-1', bucket: 'art-{region}' })
    expect(inputs).toMatchObject({
      region: 'us-east-1',
      regions: ['us-east-1', 'eu-west-1'],
      bucket: 'art-{region}'
    })
    expect(failure({ regions: 'us-east-1\neu-west-1', bucket: 'Art-{region}' })).toBe(
      "Input 'bucket' ('Art-us-east-1') is not a valid S3 bucket name: 3-63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit."
    )
  })

  it.each(['delete', 'execute'] as const)('refuses regions in the stack-only mode %s', (mode) => {
    const raw = createRawInputs({ ...NO_DEPLOY_INPUTS, regions: 'us-east-1, eu-west-1' })
    const subject = mode === 'delete' ? "Mode 'delete'" : "Input 'execute-change-set'"
    expect(inputError(() => parseStackOnlyInputs(raw, ws.env, mode))).toBe(
      `${subject} acts on one stack in one region, and 'regions' lists several: run one step per region (a job matrix over the regions) with 'region' set.`
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

describe('zip package', () => {
  useZipPackage(ws)

  it('is read through getInputs as well', () => {
    const inputs = readInputs(createRawInputs({ ...ZIP_INPUTS, mode: 'review' }))
    expect(inputs).toMatchObject({
      mode: 'review',
      codeArchive: join(ws.root, 'build/function.zip'),
      dockerfile: ''
    })
  })

  it('reports both set before any other bad input', () => {
    expect(
      failure({
        ...ZIP_INPUTS,
        dockerfile: 'missing/Dockerfile',
        'code-archive': 'missing.zip',
        bucket: 'Not_A_Bucket',
        template: '',
        'stack-name': '',
        region: 'nowhere',
        'image-tags': '-bad'
      })
    ).toBe(DOCKERFILE_AND_ZIP_MESSAGE)
  })

  it('still requires the bucket and the template', () => {
    expect(failure({ ...ZIP_INPUTS, bucket: '' })).toBe(
      "Input 'bucket' is required: name the S3 bucket the template is uploaded to."
    )
    expect(failure({ ...ZIP_INPUTS, template: '' })).toBe(
      "Input 'template' is required: give the path of the CloudFormation template (JSON or YAML)."
    )
  })
})

describe('flags, lists and inputs passed through', () => {
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

describe('stack-name-suffix in the stack-only modes', () => {
  const suffixMessage = (name: string): string =>
    `Input 'stack-name' with 'stack-name-suffix' ('${name}') is not a valid CloudFormation stack name: start with a letter, use only letters, digits and '-', at most 128 characters.`

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

describe('action.yml', () => {
  const action = parseYaml(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as {
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
