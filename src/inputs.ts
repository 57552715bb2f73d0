/**
 * The action's inputs: one typed `Inputs`, read and checked here and nowhere else. Every check
 * that can run without docker or AWS runs here, so bad input fails before any side effect.
 */
import * as core from '@actions/core'
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import { InputError } from './errors.js'
import { sanitizeBuildId } from './image-ref.js'
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
}

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
  'timeout-minutes'
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

/** Reads every input through `@actions/core` and checks it. */
export function getInputs(env: NodeJS.ProcessEnv = process.env): Inputs {
  const raw = {} as RawInputs
  // Untrimmed: parseInputs trims each input itself, and a KEY=VALUE value is kept exactly.
  for (const name of INPUT_NAMES) raw[name] = core.getInput(name, { trimWhitespace: false })
  return parseInputs(raw, env)
}

function required(raw: RawInputs, name: InputName, hint: string): string {
  const value = raw[name].trim()
  if (value === '') throw new InputError(`Input '${name}' is required: ${hint}.`)
  return value
}

function parseBoolean(raw: RawInputs, name: InputName, fallback: boolean): boolean {
  const value = raw[name].trim()
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

/** Checks raw input text; pure apart from reading the named files. */
export function parseInputs(raw: RawInputs, env: NodeJS.ProcessEnv): Inputs {
  const workspace = workspaceRoot(env)

  const dockerfile = existingFile(
    workspace,
    'dockerfile',
    required(raw, 'dockerfile', 'give the path of the Dockerfile to build')
  )
  const bucket = required(raw, 'bucket', 'name the S3 bucket the template is uploaded to')
  const stackName = required(raw, 'stack-name', 'name the CloudFormation stack to deploy')
  const templatePath = existingFile(
    workspace,
    'template',
    required(raw, 'template', 'give the path of the CloudFormation template (JSON or YAML)')
  )

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

  const buildId = raw['build-id'].trim() || env['GITHUB_SHA']?.trim() || ''
  if (buildId === '') {
    throw new InputError(
      `Input 'build-id' is empty and GITHUB_SHA is not set: give a build id such as the commit SHA.`
    )
  }
  const buildTag = sanitizeBuildId(buildId)

  const buildArgs = parseKeyValueLines(raw['build-args'], 'build-args')
  for (const arg of buildArgs) {
    if ((SPARTA_BUILD_ARGS as readonly string[]).includes(arg.key)) {
      throw new InputError(
        `Input 'build-args' sets ${arg.key}, which the action sets itself (${SPARTA_BUILD_ARGS.join(', ')}): remove that line.`
      )
    }
  }

  if (!STACK_NAME.test(stackName) || stackName.length > 128) {
    throw new InputError(
      `Input 'stack-name' ('${stackName}') is not a valid CloudFormation stack name: start with a letter, use only letters, digits and '-', at most 128 characters.`
    )
  }
  checkBucketName(bucket)

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

  const template = parseTemplate(readFileSync(templatePath), templatePath)
  const imageParameter = raw['image-parameter'].trim() || 'CodeImageURI'
  if (template.parameters[imageParameter] === undefined) {
    throw new InputError(
      `Input 'image-parameter': the template ${relative(workspace, templatePath)} declares no parameter '${imageParameter}' to receive the image URI: add it under Parameters (Type: String), or set 'image-parameter' to the parameter your function's ImageUri refers to.`
    )
  }

  const parameterOverrides = parseParameterOverrides(raw['parameter-overrides'], workspace)
  for (const key of parameterOverrides.keys()) {
    if (template.parameters[key] === undefined) {
      const declared = Object.keys(template.parameters).join(', ')
      throw new InputError(
        `Input 'parameter-overrides' sets '${key}', which the template does not declare (declared: ${declared}): fix the name or declare it.`
      )
    }
    if (key === imageParameter) {
      throw new InputError(
        `Input 'parameter-overrides' sets '${key}', the image parameter the action fills with the pushed image URI: remove it.`
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

  const timeoutText = raw['timeout-minutes'].trim()
  const timeoutMinutes =
    timeoutText === '' ? 60 : parsePositiveInt(timeoutText, 'timeout-minutes', MAX_TIMEOUT_MINUTES)

  return {
    dockerfile,
    context,
    binary: binary === '' ? '' : relative(context, resolve(context, binary)).split(sep).join('/'),
    labelName,
    buildId,
    buildTag,
    buildArgs,
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
    timeoutMinutes
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
