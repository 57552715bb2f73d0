/**
 * The action's inputs: one typed `Inputs`, read and checked here and nowhere else. Every check
 * that can run without docker or AWS runs here, so bad input fails before any side effect.
 */
import * as core from '@actions/core'
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync
} from 'node:fs'
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import { InputError } from './errors.js'
import { isValidTag, sanitizeBuildId } from './image-ref.js'
import { parseKeyValueLines, parseList, parsePositiveInt, type KeyValue } from './parse.js'
import { detectCapabilities, KNOWN_CAPABILITIES, parseTemplate, type Template } from './template.js'

/** Everything the deploy needs, checked. Paths are absolute. */
export interface Inputs {
  /** The Dockerfile (Sparta: dockerFile). */
  dockerfile: string
  /** Build context; defaults to the Dockerfile's directory, as Sparta does. */
  context: string
  /** Path handed to the build as `SPARTA_BINARY`, relative to the context ('' when not given). */
  binary: string
  /** The reserved label naming the ECR repository (`io.sparta.ecr-name`). */
  labelName: string
  /** The build id as given (`build-id`, else `GITHUB_SHA`). */
  buildId: string
  /** The build id as a docker tag (see `sanitizeBuildId`); used for tags, keys and names. */
  buildTag: string
  /** Extra `--build-arg` pairs, in input order. */
  buildArgs: KeyValue[]
  /** `--platform` for the build ('' = the engine's default). */
  platform: string
  /** `--target` build stage ('' = the last stage). */
  target: string
  /** S3 bucket the template is uploaded to. */
  bucket: string
  stackName: string
  /** The parsed template. */
  template: Template
  /** Template parameter that receives the image URI (Sparta: `CodeImageURI`). */
  imageParameter: string
  /** Values for declared template parameters, by name. */
  parameterOverrides: Map<string, string>
  /** Capabilities passed to CloudFormation (given, or detected from the template). */
  capabilities: string[]
  /** Stack tags, without the `io:sparta:buildId` tag the action adds. */
  tags: KeyValue[]
  region: string
  /** Create the ECR repository when it does not exist. */
  createRepository: boolean
  /** Treat a change set with no changes as success. */
  noFailOnEmptyChangeset: boolean
  /** Limit for waiting on a stack operation, in minutes. */
  timeoutMinutes: number
  /** deploy: execute the change set; review: create it only; noop: build and check, change nothing. */
  mode: 'deploy' | 'review' | 'noop'
  /** Zip package to upload instead of building an image ('' = image mode). */
  codeArchive: string
  /** Template parameters receiving the archive's S3 key and object version (zip mode). */
  archiveKeyParameter: string
  archiveVersionParameter: string
  /** Extra tags pushed for the same digest (e.g. the release version). */
  imageTags: string[]
  /** Hand the template the digest-pinned URI (`repo@sha256:…`) instead of the tag. */
  pinDigest: boolean
  /** Registry images used as build cache (`--cache-from`). */
  cacheFrom: string[]
  /** `build-cache`: the cache kept between runs on BuildKit (auto, registry, inline, off). */
  buildCache: BuildCacheMode
  /** CloudFormation deploy options, as aws-cloudformation-github-deploy offers them. */
  changeSetName: string
  roleArn: string
  notificationArns: string[]
  terminationProtection: boolean
  disableRollback: boolean
  rollbackAlarms: string[]
  rollbackMonitoringMinutes: number
  deploymentMode: '' | 'REVERT_DRIFT'
  includeNestedStacks: boolean
  /** Proxy for every AWS call ('' = HTTPS_PROXY/NO_PROXY from the environment). */
  httpProxy: string
  /** Token for the pull-request comment ('' = no comment). */
  githubToken: string
  /** Post or update the sticky comment on pull requests. */
  prComment: boolean
}

/** Inputs of the modes that act on an existing stack only. */
export interface StackOnlyInputs {
  /** delete: remove the stack (preview clean-up); execute: run a change set made earlier in review mode. */
  mode: 'delete' | 'execute'
  stackName: string
  region: string
  timeoutMinutes: number
  /** execute: the change set's ARN or name. */
  changeSet: string
  /** delete: also delete the image tag the stack's image parameter names. */
  deleteImage: boolean
  imageParameter: string
  terminationProtection: boolean
  disableRollback: boolean
  /** delete: the role CloudFormation assumes to delete the stack ('' = the stack's own). */
  roleArn: string
  httpProxy: string
  githubToken: string
  prComment: boolean
}

/** What `getInputs` returns: a deploy-like mode, or a stack-only one. */
export type ActionInputs = Inputs | StackOnlyInputs

/** The raw text of every input, as `core.getInput` returns it ('' when not set). */
export type RawInputs = Record<InputName, string>

export const INPUT_NAMES = [
  'dockerfile',
  'context',
  'binary',
  'label-name',
  'build-id',
  'build-args',
  'platform',
  'target',
  'bucket',
  'stack-name',
  'template',
  'image-parameter',
  'parameter-overrides',
  'capabilities',
  'tags',
  'region',
  'create-repository',
  'no-fail-on-empty-changeset',
  'timeout-minutes',
  'mode',
  'stack-name-suffix',
  'code-archive',
  'archive-key-parameter',
  'archive-version-parameter',
  'image-tags',
  'pin-digest',
  'cache-from',
  'build-cache',
  'change-set-name',
  'execute-change-set',
  'delete-image',
  'role-arn',
  'notification-arns',
  'termination-protection',
  'disable-rollback',
  'rollback-alarms',
  'rollback-monitoring-minutes',
  'deployment-mode',
  'include-nested-stacks',
  'http-proxy',
  'github-token',
  'pr-comment'
] as const
export type InputName = (typeof INPUT_NAMES)[number]

/** Build args the action sets itself (Sparta's names). */
export const SPARTA_BUILD_ARGS = [
  'AWS_ACCOUNT_ID',
  'AWS_REGION',
  'SPARTA_BINARY',
  'SPARTA_ECR_LABEL_NAME',
  'SPARTA_BUILD_ID'
] as const

const STACK_NAME = /^[A-Za-z][-A-Za-z0-9]*$/
const REGION = /^[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$/
const MAX_TIMEOUT_MINUTES = 355 // stays under GitHub's 6-hour job limit

const MODES = ['deploy', 'review', 'noop', 'delete'] as const

/** Reads every input through `@actions/core` and checks it. */
export function getInputs(env: NodeJS.ProcessEnv = process.env): ActionInputs {
  const raw = {} as RawInputs
  // Untrimmed: parseInputs trims each input itself, and a KEY=VALUE value is kept exactly.
  for (const name of INPUT_NAMES) raw[name] = core.getInput(name, { trimWhitespace: false })
  const mode = modeOf(raw)
  return mode === 'delete' || mode === 'execute'
    ? parseStackOnlyInputs(raw, env, mode)
    : parseInputs(raw, env)
}

/** The mode asked for: the `mode` input, or `execute` when `execute-change-set` is given. */
export function modeOf(raw: RawInputs): Inputs['mode'] | StackOnlyInputs['mode'] {
  const mode = (raw['mode'] ?? '').trim() || 'deploy'
  if (!(MODES as readonly string[]).includes(mode)) {
    throw new InputError(`Input 'mode' must be one of ${MODES.join(', ')}, got '${mode}'.`)
  }
  const changeSet = (raw['execute-change-set'] ?? '').trim()
  if (changeSet !== '') {
    if (mode !== 'deploy') {
      throw new InputError(
        `Input 'execute-change-set' runs a change set made earlier and cannot be combined with mode '${mode}': remove one of them.`
      )
    }
    return 'execute'
  }
  return mode as Inputs['mode'] | 'delete'
}

/** The stack name, with `stack-name-suffix` appended (`my-svc` + `pr-42` → `my-svc-pr-42`), checked. */
function stackNameOf(raw: RawInputs): string {
  const base = required(raw, 'stack-name', 'name the CloudFormation stack to deploy')
  const suffix = (raw['stack-name-suffix'] ?? '').trim()
  const stackName = suffix === '' ? base : `${base}-${suffix}`
  if (!STACK_NAME.test(stackName) || stackName.length > 128) {
    throw new InputError(
      `Input 'stack-name'${suffix === '' ? '' : " with 'stack-name-suffix'"} ('${stackName}') is not a valid CloudFormation stack name: start with a letter, use only letters, digits and '-', at most 128 characters.`
    )
  }
  return stackName
}

function regionOf(raw: RawInputs, env: NodeJS.ProcessEnv): string {
  const region = raw['region'].trim() || env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || ''
  if (region === '') {
    throw new InputError(
      `No AWS region: set input 'region', or set aws-region in aws-actions/configure-aws-credentials (AWS_REGION).`
    )
  }
  if (!REGION.test(region)) {
    throw new InputError(
      `Input 'region' ('${region}') is not an AWS region name such as us-east-1 or eu-west-2.`
    )
  }
  return region
}

function timeoutOf(raw: RawInputs): number {
  const text = raw['timeout-minutes'].trim()
  return text === '' ? 60 : parsePositiveInt(text, 'timeout-minutes', MAX_TIMEOUT_MINUTES)
}

function canParseUrl(text: string): boolean {
  try {
    new URL(text)
    return true
  } catch {
    return false
  }
}

function proxyOf(raw: RawInputs): string {
  const proxy = (raw['http-proxy'] ?? '').trim()
  if (proxy !== '' && (!/^https?:\/\/[^\s/]+(?:\/\S*)?$/.test(proxy) || !canParseUrl(proxy))) {
    throw new InputError(
      `Input 'http-proxy' ('${proxy}') must be a URL such as http://proxy.example.com:3128.`
    )
  }
  return proxy
}

/** Inputs of `mode: delete` and of `execute-change-set`: only the stack is needed. */
export function parseStackOnlyInputs(
  raw: RawInputs,
  env: NodeJS.ProcessEnv,
  mode: StackOnlyInputs['mode']
): StackOnlyInputs {
  return {
    mode,
    stackName: stackNameOf(raw),
    region: regionOf(raw, env),
    timeoutMinutes: timeoutOf(raw),
    changeSet: (raw['execute-change-set'] ?? '').trim(),
    deleteImage: parseBoolean(raw, 'delete-image', false),
    imageParameter: raw['image-parameter'].trim() || 'CodeImageURI',
    terminationProtection: parseBoolean(raw, 'termination-protection', false),
    disableRollback: parseBoolean(raw, 'disable-rollback', false),
    roleArn: roleArnOf(raw),
    httpProxy: proxyOf(raw),
    githubToken: (raw['github-token'] ?? '').trim(),
    prComment: parseBoolean(raw, 'pr-comment', true)
  }
}

function roleArnOf(raw: RawInputs): string {
  const roleArn = (raw['role-arn'] ?? '').trim()
  if (roleArn !== '' && !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(roleArn)) {
    throw new InputError(
      `Input 'role-arn' ('${roleArn}') is not an IAM role ARN such as arn:aws:iam::123456789012:role/cfn-deploy.`
    )
  }
  return roleArn
}

function required(raw: RawInputs, name: InputName, hint: string): string {
  const value = raw[name].trim()
  if (value === '') throw new InputError(`Input '${name}' is required: ${hint}.`)
  return value
}

function parseBoolean(raw: RawInputs, name: InputName, fallback: boolean): boolean {
  const value = (raw[name] ?? '').trim()
  if (value === '') return fallback
  if (/^(true|True|TRUE)$/.test(value)) return true
  if (/^(false|False|FALSE)$/.test(value)) return false
  throw new InputError(`Input '${name}' must be true or false, got '${value}'.`)
}

/** The directory paths are resolved against: the checked-out repository. */
function workspaceRoot(env: NodeJS.ProcessEnv): string {
  return resolve(env['GITHUB_WORKSPACE'] ?? process.cwd())
}

function existingFile(workspace: string, name: InputName, path: string): string {
  const absolute = resolve(workspace, path)
  if (!existsSync(absolute)) {
    throw new InputError(
      `Input '${name}': ${path} does not exist (resolved to ${absolute}); give a path relative to the repository root.`
    )
  }
  if (!statSync(absolute).isFile()) {
    throw new InputError(`Input '${name}': ${path} is a directory; give the path of a file.`)
  }
  return absolute
}

function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/** Checks raw input text of the deploy-like modes; pure apart from reading the named files. */
export function parseInputs(raw: RawInputs, env: NodeJS.ProcessEnv): Inputs {
  const workspace = workspaceRoot(env)
  const mode = modeOf(raw)
  if (mode === 'delete' || mode === 'execute') {
    throw new InputError(`Mode '${mode}' takes only the stack inputs; this is a bug in the action.`)
  }

  const archiveInput = (raw['code-archive'] ?? '').trim()
  if (archiveInput !== '' && raw['dockerfile'].trim() !== '') {
    throw new InputError(
      `Inputs 'dockerfile' and 'code-archive' are both set: an image is built from a Dockerfile, a zip package is uploaded as it is; give only one of them (Sparta likewise refuses ZIP archive hooks with a dockerFile).`
    )
  }
  const zip = archiveInput !== ''
  const dockerfile = zip
    ? ''
    : existingFile(
        workspace,
        'dockerfile',
        required(raw, 'dockerfile', 'give the path of the Dockerfile to build')
      )
  const codeArchive = zip ? existingFile(workspace, 'code-archive', archiveInput) : ''
  if (zip) checkZipArchive(codeArchive, archiveInput)

  const bucket = required(raw, 'bucket', 'name the S3 bucket the template is uploaded to')
  required(raw, 'stack-name', 'name the CloudFormation stack to deploy')
  const templatePath = existingFile(
    workspace,
    'template',
    required(raw, 'template', 'give the path of the CloudFormation template (JSON or YAML)')
  )

  const build = zip ? undefined : parseBuildInputs(raw, workspace, dockerfile)

  const buildId = raw['build-id'].trim() || env['GITHUB_SHA']?.trim() || ''
  if (buildId === '') {
    throw new InputError(
      `Input 'build-id' is empty and GITHUB_SHA is not set: give a build id such as the commit SHA.`
    )
  }
  const buildTag = sanitizeBuildId(buildId)

  const stackName = stackNameOf(raw)
  checkBucketName(bucket)
  const region = regionOf(raw, env)

  const template = parseTemplate(readFileSync(templatePath), templatePath)
  const shownTemplate = relative(workspace, templatePath)
  const imageParameter = raw['image-parameter'].trim() || 'CodeImageURI'
  const archiveKeyParameter = (raw['archive-key-parameter'] ?? '').trim() || 'CodeArtifactS3Key'
  const archiveVersionParameter =
    (raw['archive-version-parameter'] ?? '').trim() || 'CodeArtifactS3ObjectVersion'
  if (!zip && template.parameters[imageParameter] === undefined) {
    throw new InputError(
      `Input 'image-parameter': the template ${shownTemplate} declares no parameter '${imageParameter}' to receive the image URI: add it under Parameters (Type: String), or set 'image-parameter' to the parameter your function's ImageUri refers to.`
    )
  }
  if (zip && template.parameters[archiveKeyParameter] === undefined) {
    throw new InputError(
      `Input 'archive-key-parameter': the template ${shownTemplate} declares no parameter '${archiveKeyParameter}' to receive the zip package's S3 key: add it under Parameters (Type: String), or set 'archive-key-parameter'.`
    )
  }
  const filled = zip ? [archiveKeyParameter, archiveVersionParameter] : [imageParameter]

  const parameterOverrides = parseParameterOverrides(raw['parameter-overrides'], workspace)
  for (const key of parameterOverrides.keys()) {
    if (template.parameters[key] === undefined) {
      const declared = Object.keys(template.parameters).join(', ')
      throw new InputError(
        `Input 'parameter-overrides' sets '${key}', which the template does not declare (declared: ${declared}): fix the name or declare it.`
      )
    }
    if (filled.includes(key)) {
      throw new InputError(
        `Input 'parameter-overrides' sets '${key}', ${zip ? 'a zip package parameter' : 'the image parameter'} the action fills with the pushed ${zip ? 'package' : 'image URI'}: remove it.`
      )
    }
  }

  const capabilityText = raw['capabilities'].trim()
  const capabilities =
    capabilityText === '' ? detectCapabilities(template) : parseList(capabilityText)
  for (const capability of capabilities) {
    if (!(KNOWN_CAPABILITIES as readonly string[]).includes(capability)) {
      throw new InputError(
        `Input 'capabilities' has unknown capability '${capability}': use ${KNOWN_CAPABILITIES.join(', ')}.`
      )
    }
  }

  const tags = parseKeyValueLines(raw['tags'], 'tags')
  for (const tag of tags) {
    if (tag.key.startsWith('aws:') || tag.key.length > 128 || tag.value.length > 256) {
      throw new InputError(
        `Input 'tags' line ${tag.line}: tag '${tag.key}' is not allowed: keys are 1-128 characters not starting with 'aws:', values at most 256.`
      )
    }
  }

  const timeoutMinutes = timeoutOf(raw)

  const imageTags = parseList(raw['image-tags'] ?? '')
  for (const tag of imageTags) {
    if (!isValidTag(tag)) {
      throw new InputError(
        `Input 'image-tags' has '${tag}', which is not a docker tag: up to 128 letters, digits, '_', '.', '-', not starting with '.' or '-'.`
      )
    }
  }

  const changeSetName = (raw['change-set-name'] ?? '').trim()
  if (
    changeSetName !== '' &&
    (!/^[A-Za-z][-A-Za-z0-9]*$/.test(changeSetName) || changeSetName.length > 128)
  ) {
    throw new InputError(
      `Input 'change-set-name' ('${changeSetName}') is not a valid change set name: start with a letter, use only letters, digits and '-', at most 128 characters.`
    )
  }
  const roleArn = roleArnOf(raw)
  const notificationArns = parseList(raw['notification-arns'] ?? '')
  const rollbackAlarms = parseList(raw['rollback-alarms'] ?? '')
  for (const [name, arns, service] of [
    ['notification-arns', notificationArns, 'sns'],
    ['rollback-alarms', rollbackAlarms, 'cloudwatch']
  ] as const) {
    for (const arn of arns) {
      if (!new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:.+$`).test(arn)) {
        throw new InputError(
          `Input '${name}' has '${arn}', which is not ${service === 'sns' ? 'an SNS topic' : 'a CloudWatch alarm'} ARN.`
        )
      }
    }
  }
  if (notificationArns.length > 5) {
    throw new InputError(
      `Input 'notification-arns' has ${notificationArns.length} topics; CloudFormation takes at most 5.`
    )
  }
  if (rollbackAlarms.length > 5) {
    throw new InputError(
      `Input 'rollback-alarms' has ${rollbackAlarms.length} alarms; CloudFormation takes at most 5.`
    )
  }
  const monitoringText = (raw['rollback-monitoring-minutes'] ?? '').trim()
  // 0 (the default) is valid here, so parsePositiveInt's "between 1 and" message would mislead.
  if (monitoringText !== '' && (!/^\d+$/.test(monitoringText) || Number(monitoringText) > 180)) {
    throw new InputError(
      `Input 'rollback-monitoring-minutes' must be a whole number between 0 and 180, got '${monitoringText}'.`
    )
  }
  const rollbackMonitoringMinutes = monitoringText === '' ? 0 : Number(monitoringText)
  const deploymentMode = (raw['deployment-mode'] ?? '').trim()
  if (deploymentMode !== '' && deploymentMode !== 'REVERT_DRIFT') {
    throw new InputError(
      `Input 'deployment-mode' must be empty or REVERT_DRIFT, got '${deploymentMode}'.`
    )
  }

  return {
    dockerfile,
    context: build?.context ?? '',
    binary: build?.binary ?? '',
    labelName: build?.labelName ?? 'io.sparta.ecr-name',
    buildId,
    buildTag,
    buildArgs: build?.buildArgs ?? [],
    platform: raw['platform'].trim(),
    target: raw['target'].trim(),
    bucket,
    stackName,
    template,
    imageParameter,
    parameterOverrides,
    capabilities,
    tags,
    region,
    createRepository: parseBoolean(raw, 'create-repository', false),
    noFailOnEmptyChangeset: parseBoolean(raw, 'no-fail-on-empty-changeset', true),
    timeoutMinutes,
    mode,
    codeArchive,
    archiveKeyParameter,
    archiveVersionParameter,
    imageTags,
    pinDigest: parseBoolean(raw, 'pin-digest', true),
    cacheFrom: parseList(raw['cache-from'] ?? ''),
    buildCache: parseBuildCache(raw['build-cache']),
    changeSetName,
    roleArn,
    notificationArns,
    terminationProtection: parseBoolean(raw, 'termination-protection', false),
    disableRollback: parseBoolean(raw, 'disable-rollback', false),
    rollbackAlarms,
    rollbackMonitoringMinutes,
    deploymentMode,
    includeNestedStacks: parseBoolean(raw, 'include-nested-stacks', false),
    httpProxy: proxyOf(raw),
    githubToken: (raw['github-token'] ?? '').trim(),
    prComment: parseBoolean(raw, 'pr-comment', true)
  }
}

/** The docker build inputs: context inside the checkout, binary inside the context, build args. */
function parseBuildInputs(
  raw: RawInputs,
  workspace: string,
  dockerfile: string
): { context: string; binary: string; labelName: string; buildArgs: KeyValue[] } {
  const contextInput = raw['context'].trim()
  const context = resolve(workspace, contextInput === '' ? dirname(dockerfile) : contextInput)
  if (!existsSync(context) || !statSync(context).isDirectory()) {
    throw new InputError(
      `Input 'context': ${contextInput} is not a directory; give the build context directory (default: the Dockerfile's directory).`
    )
  }
  const realWorkspace = realpathSync(workspace)
  if (!isInside(realWorkspace, realpathSync(context))) {
    throw new InputError(
      `Input 'context' (${contextInput || dirname(dockerfile)}) resolves to ${realpathSync(context)}, outside the repository ${realWorkspace}: keep the build context inside the checkout.`
    )
  }

  const binary = raw['binary'].trim()
  if (binary !== '') {
    const absolute = resolve(context, binary)
    if (!existsSync(absolute) || !statSync(absolute).isFile()) {
      throw new InputError(
        `Input 'binary': ${binary} is not a file in the build context ${context}; the path is relative to the context (it becomes SPARTA_BINARY).`
      )
    }
    if (!isInside(context, absolute)) {
      throw new InputError(
        `Input 'binary': ${binary} is outside the build context ${context}; docker can only COPY files inside it.`
      )
    }
  }

  const labelName = raw['label-name'].trim() || 'io.sparta.ecr-name'
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(labelName)) {
    throw new InputError(
      `Input 'label-name' ('${labelName}') is not a valid label key: use letters, digits, '.', '-', '_' and '/', e.g. io.sparta.ecr-name.`
    )
  }

  const buildArgs = parseKeyValueLines(raw['build-args'], 'build-args')
  for (const arg of buildArgs) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(arg.key)) {
      throw new InputError(
        `Input 'build-args' line ${arg.line}: '${arg.key}' is not a build arg name (letters, digits, '_'); a value cannot continue on the next line: put each KEY=VALUE on one line.`
      )
    }
    if ((SPARTA_BUILD_ARGS as readonly string[]).includes(arg.key)) {
      throw new InputError(
        `Input 'build-args' sets ${arg.key}, which the action sets itself (${SPARTA_BUILD_ARGS.join(', ')}): remove that line.`
      )
    }
  }
  return {
    context,
    binary: binary === '' ? '' : relative(context, resolve(context, binary)).split(sep).join('/'),
    labelName,
    buildArgs
  }
}

/** A zip package: the file must start with a zip signature. */
function checkZipArchive(path: string, shown: string): void {
  const head = Buffer.alloc(4)
  const fd = openSync(path, 'r')
  try {
    readSync(fd, head, 0, 4, 0)
  } finally {
    closeSync(fd)
  }
  if (head.readUInt32LE(0) !== 0x04034b50 && head.readUInt32LE(0) !== 0x06054b50) {
    throw new InputError(
      `Input 'code-archive': ${shown} is not a zip file: give the .zip package Lambda runs (e.g. made with 'zip -r function.zip bootstrap').`
    )
  }
}

/** S3's bucket naming rules, checked before any call. */
export function checkBucketName(bucket: string): void {
  const valid =
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) &&
    !/\.\./.test(bucket) &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(bucket) &&
    !bucket.startsWith('xn--') &&
    !bucket.endsWith('-s3alias')
  if (!valid) {
    throw new InputError(
      `Input 'bucket' ('${bucket}') is not a valid S3 bucket name: 3-63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit.`
    )
  }
}

/**
 * `parameter-overrides`: `KEY=VALUE` lines, or the path of a JSON file holding `{"Key": "Value"}`
 * or `[{"ParameterKey": …, "ParameterValue": …}]` (a single line without '=', optionally `file://`).
 */
export function parseParameterOverrides(text: string, workspace: string): Map<string, string> {
  const trimmed = text.trim()
  const overrides = new Map<string, string>()
  if (trimmed === '') return overrides
  const isFile =
    trimmed.startsWith('file://') || (!trimmed.includes('\n') && !trimmed.includes('='))
  if (!isFile) {
    for (const pair of parseKeyValueLines(text, 'parameter-overrides')) {
      overrides.set(pair.key, pair.value)
    }
    return overrides
  }
  const path = existingFile(workspace, 'parameter-overrides', trimmed.replace(/^file:\/\//, ''))
  let document: unknown
  try {
    document = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new InputError(
      `Input 'parameter-overrides': ${trimmed} is not valid JSON (${error instanceof Error ? error.message : String(error)}).`
    )
  }
  const shape = `give {"Key": "Value"} or [{"ParameterKey": "Key", "ParameterValue": "Value"}]`
  if (Array.isArray(document)) {
    for (const entry of document as unknown[]) {
      const item = entry as { ParameterKey?: unknown; ParameterValue?: unknown }
      if (typeof item?.ParameterKey !== 'string' || typeof item.ParameterValue !== 'string') {
        throw new InputError(
          `Input 'parameter-overrides': ${trimmed} has an entry without string ParameterKey and ParameterValue: ${shape}.`
        )
      }
      overrides.set(item.ParameterKey, item.ParameterValue)
    }
    return overrides
  }
  if (document !== null && typeof document === 'object') {
    for (const [key, value] of Object.entries(document)) {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new InputError(
          `Input 'parameter-overrides': ${trimmed} gives '${key}' a value that is not a string: ${shape}.`
        )
      }
      overrides.set(key, String(value))
    }
    return overrides
  }
  throw new InputError(`Input 'parameter-overrides': ${trimmed} holds neither shape: ${shape}.`)
}

/** True for the modes that need only the stack (`delete`, `execute`). */
export function isStackOnly(inputs: ActionInputs): inputs is StackOnlyInputs {
  return inputs.mode === 'delete' || inputs.mode === 'execute'
}

/** How the build cache is kept between runs on BuildKit (the `build-cache` input). */
export type BuildCacheMode = 'auto' | 'registry' | 'inline' | 'off'

const BUILD_CACHE_MODES: readonly BuildCacheMode[] = ['auto', 'registry', 'inline', 'off']

/** `build-cache`: one of auto (the default when empty), registry, inline, off. */
export function parseBuildCache(value: string): BuildCacheMode {
  const mode = value.trim() || 'auto'
  if (!(BUILD_CACHE_MODES as readonly string[]).includes(mode)) {
    throw new InputError(
      `Input 'build-cache' must be one of ${BUILD_CACHE_MODES.join(', ')}, got '${mode}'.`
    )
  }
  return mode as BuildCacheMode
}
