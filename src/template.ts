/**
 * Pure: reads a CloudFormation template (JSON, or YAML with short-form tags such as `!Ref`) and
 * answers the questions the deploy asks of it: declared parameters, capabilities, size, and which
 * functions run the pushed image (package type, architectures).
 */
import { parseDocument, type Tags, type YAMLError } from 'yaml'
import { InputError } from './errors.js'

/**
 * The template sizes CloudFormation accepts, in bytes: the one home for them. From "Understand
 * CloudFormation quotas", https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
 * ("Template body size in a request": 51,200 bytes; "Template body size in an Amazon S3 object":
 * 1 MB, taken as 1,000,000 bytes, the smaller reading, so a template this accepts is never refused
 * by the service after the build and push). The API reference repeats the 51,200 bytes as the
 * length limit of `TemplateBody`.
 */
export const TEMPLATE_SIZE_LIMITS = {
  /** Inline in the request (`TemplateBody`). */
  TemplateBody: 51_200,
  /** Read from S3 (`TemplateURL`): how this action always passes the template. */
  TemplateURL: 1_000_000
} as const

/** How a template reaches CloudFormation. */
export type TemplateSource = keyof typeof TEMPLATE_SIZE_LIMITS

/** The limit for the `TemplateURL` the action uses; kept under its old name for callers. */
export const MAX_TEMPLATE_BYTES = TEMPLATE_SIZE_LIMITS.TemplateURL

/**
 * The error for a template over CloudFormation's limit for `source`, or undefined when it fits
 * (a template of exactly the limit fits).
 */
export function templateSizeError(
  bytes: number,
  path: string,
  source: TemplateSource = 'TemplateURL'
): InputError | undefined {
  const limit = TEMPLATE_SIZE_LIMITS[source]
  if (bytes <= limit) return undefined
  const how = source === 'TemplateURL' ? '' : ` for an inline ${source}`
  return new InputError(
    `Input 'template': ${path} is ${bytes} bytes, over CloudFormation's ${limit}-byte limit${how}: split it into nested stacks or remove unused parts.`
  )
}

/** One declared template parameter (the fields the deploy uses). */
export interface TemplateParameter {
  Type?: string
  Default?: unknown
  NoEcho?: boolean | string
}

/** One template resource. */
export interface TemplateResource {
  Type: string
  Properties?: Record<string, unknown>
}

/** A parsed template and its original bytes (uploaded unchanged). */
export interface Template {
  /** Path the template was read from. */
  path: string
  /** The file's bytes: this is what gets uploaded. */
  body: Buffer
  format: 'json' | 'yaml'
  parameters: Record<string, TemplateParameter>
  resources: Record<string, TemplateResource>
  /** True when the template uses a macro: a top-level `Transform` (SAM, …) or an `Fn::Transform`. */
  hasTransform: boolean
  /** SAM's `Globals.Function` section, when the template has one (it can set `Architectures`). */
  functionGlobals?: Record<string, unknown>
}

const INTRINSICS: Record<string, string> = {
  '!Ref': 'Ref',
  '!Condition': 'Condition',
  '!Base64': 'Fn::Base64',
  '!Cidr': 'Fn::Cidr',
  '!FindInMap': 'Fn::FindInMap',
  '!GetAtt': 'Fn::GetAtt',
  '!GetAZs': 'Fn::GetAZs',
  '!ImportValue': 'Fn::ImportValue',
  '!Join': 'Fn::Join',
  '!Select': 'Fn::Select',
  '!Split': 'Fn::Split',
  '!Sub': 'Fn::Sub',
  '!Transform': 'Fn::Transform',
  '!And': 'Fn::And',
  '!Equals': 'Fn::Equals',
  '!If': 'Fn::If',
  '!Not': 'Fn::Not',
  '!Or': 'Fn::Or',
  '!ToJsonString': 'Fn::ToJsonString',
  '!Length': 'Fn::Length'
}

function shortFormTags(): Tags {
  const tags: Tags = []
  for (const [tag, fn] of Object.entries(INTRINSICS)) {
    tags.push({
      tag,
      resolve: (value: string) =>
        // `!GetAtt Resource.Attribute` is the scalar form of ['Resource', 'Attribute'].
        fn === 'Fn::GetAtt' ? { [fn]: splitGetAtt(value) } : { [fn]: value }
    })
    for (const collection of ['seq', 'map'] as const) {
      tags.push({
        tag,
        collection,
        resolve: (value: { toJSON(): unknown }) => ({ [fn]: value.toJSON() })
      })
    }
  }
  return tags
}

function splitGetAtt(value: string): string[] {
  const dot = value.indexOf('.')
  return dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)]
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position)
  const line = before.split('\n').length
  const column = position - before.lastIndexOf('\n')
  return `line ${line}, column ${column}`
}

function yamlError(path: string, error: YAMLError): InputError {
  const pos = error.linePos?.[0]
  const where = pos ? ` at line ${pos.line}, column ${pos.col}` : ''
  // The library appends its own position and a source excerpt; keep only the sentence.
  const reason = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')
  return new InputError(
    `Input 'template': ${path} is not valid YAML${where} (${reason}): fix the syntax.`
  )
}

function parseText(text: string, path: string): { document: unknown; format: 'json' | 'yaml' } {
  // Editors on Windows may save a byte order mark, which JSON.parse refuses.
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text
  if (source.trimStart().startsWith('{')) {
    try {
      return { document: JSON.parse(source) as unknown, format: 'json' }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      const position = /position (\d+)/.exec(message)
      const where =
        position?.[1] !== undefined ? ` at ${lineAndColumn(source, Number(position[1]))}` : ''
      throw new InputError(
        `Input 'template': ${path} is not valid JSON${where} (${message.split('\n')[0]}): fix the syntax.`
      )
    }
  }
  const doc = parseDocument(source, { customTags: shortFormTags(), uniqueKeys: true })
  // An unknown tag (a typo such as !GetAttr) is only a warning to the library, but CloudFormation
  // refuses the template: fail here, before the image is built.
  const problem =
    doc.errors[0] ?? doc.warnings.find((warning) => warning.code === 'TAG_RESOLVE_FAILED')
  if (problem !== undefined) throw yamlError(path, problem)
  return { document: doc.toJS() as unknown, format: 'yaml' }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Parses and checks a template's bytes; `path` is only used in messages. */
export function parseTemplate(body: Buffer, path: string): Template {
  // The action always uploads the template and passes its TemplateURL.
  const tooBig = templateSizeError(body.length, path, 'TemplateURL')
  if (tooBig !== undefined) throw tooBig
  const text = body.toString('utf8')
  const { document, format } = parseText(text, path)
  if (!isRecord(document)) {
    throw new InputError(
      `Input 'template': ${path} is not a CloudFormation template (its top level is not a mapping).`
    )
  }
  const resources = document['Resources']
  if (!isRecord(resources) || Object.keys(resources).length === 0) {
    throw new InputError(
      `Input 'template': ${path} has no 'Resources' section; a CloudFormation template needs at least one resource.`
    )
  }
  const checkedResources: Record<string, TemplateResource> = {}
  for (const [logicalId, resource] of Object.entries(resources)) {
    // `Fn::Transform` (AWS::Include) can stand among the resources; the macro supplies them.
    if (logicalId === 'Fn::Transform') continue
    if (!isRecord(resource) || typeof resource['Type'] !== 'string') {
      throw new InputError(
        `Input 'template': resource '${logicalId}' in ${path} has no 'Type': give each resource a Type such as AWS::Lambda::Function.`
      )
    }
    const properties = resource['Properties']
    checkedResources[logicalId] = {
      Type: resource['Type'],
      ...(isRecord(properties) ? { Properties: properties } : {})
    }
  }
  const parameters = document['Parameters'] ?? {}
  if (!isRecord(parameters)) {
    throw new InputError(`Input 'template': the 'Parameters' section of ${path} is not a mapping.`)
  }
  const checkedParameters: Record<string, TemplateParameter> = {}
  for (const [name, declaration] of Object.entries(parameters)) {
    checkedParameters[name] = isRecord(declaration) ? declaration : {}
  }
  return {
    path,
    body,
    format,
    parameters: checkedParameters,
    resources: checkedResources,
    hasTransform: document['Transform'] !== undefined || containsKey(document, 'Fn::Transform'),
    ...functionGlobalsOf(document)
  }
}

function containsKey(value: unknown, key: string): boolean {
  if (Array.isArray(value)) return value.some((item) => containsKey(item, key))
  if (!isRecord(value)) return false
  return key in value || Object.values(value).some((item) => containsKey(item, key))
}

function functionGlobalsOf(document: Record<string, unknown>): Pick<Template, 'functionGlobals'> {
  const globals = document['Globals']
  const fn = isRecord(globals) ? globals['Function'] : undefined
  return isRecord(fn) ? { functionGlobals: fn } : {}
}

/**
 * The IAM types CloudFormation asks `CAPABILITY_IAM` for (the CreateStack `Capabilities` list,
 * plus the inline-policy types of the same family).
 */
const IAM_TYPES = new Set([
  'AWS::IAM::AccessKey',
  'AWS::IAM::Group',
  'AWS::IAM::GroupPolicy',
  'AWS::IAM::InstanceProfile',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::Policy',
  'AWS::IAM::Role',
  'AWS::IAM::RolePolicy',
  'AWS::IAM::User',
  'AWS::IAM::UserPolicy',
  'AWS::IAM::UserToGroupAddition'
])
/** A custom name on an IAM resource makes CloudFormation ask for `CAPABILITY_NAMED_IAM`. */
const IAM_NAME_PROPERTIES = [
  'RoleName',
  'UserName',
  'GroupName',
  'ManagedPolicyName',
  'InstanceProfileName'
]

/** Nested stacks: their template is not read here, so it may hold anything (see the docs). */
const NESTED_STACK_TYPES = new Set(['AWS::CloudFormation::Stack', 'AWS::Serverless::Application'])

/** SAM resource types that never expand to an IAM resource. */
const SAM_TYPES_WITHOUT_IAM = new Set([
  'AWS::Serverless::LayerVersion',
  'AWS::Serverless::SimpleTable'
])

/** All capabilities CloudFormation knows, in the order the action passes them. */
export const KNOWN_CAPABILITIES = [
  'CAPABILITY_IAM',
  'CAPABILITY_NAMED_IAM',
  'CAPABILITY_AUTO_EXPAND'
] as const

/** One CloudFormation capability. */
export type Capability = (typeof KNOWN_CAPABILITIES)[number]

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== ''
}

/**
 * True when SAM expands the resource to an IAM resource. Precise only where SAM's rule is simple:
 * a Function gets a role unless it (or `Globals.Function`) names one, and a CodeDeploy role with a
 * `DeploymentPreference`; a StateMachine gets a role unless it names one, and one per event source.
 * Any other SAM type except layers and simple tables is assumed to (Api, HttpApi, Connector,
 * GraphQLApi, and types SAM adds later): acknowledging a capability the stack turns out not to need
 * costs nothing, a missing one fails the change set after the build and push.
 */
function samExpandsToIam(
  resource: TemplateResource,
  globals: Record<string, unknown> | undefined
): boolean {
  const properties = resource.Properties ?? {}
  if (resource.Type === 'AWS::Serverless::Function') {
    const role = 'Role' in properties ? properties['Role'] : globals?.['Role']
    const deployment =
      'DeploymentPreference' in properties
        ? properties['DeploymentPreference']
        : globals?.['DeploymentPreference']
    return !isSet(role) || isSet(deployment)
  }
  if (resource.Type === 'AWS::Serverless::StateMachine') {
    const events = properties['Events']
    return !isSet(properties['Role']) || (isRecord(events) && Object.keys(events).length > 0)
  }
  return !SAM_TYPES_WITHOUT_IAM.has(resource.Type) && !NESTED_STACK_TYPES.has(resource.Type)
}

/**
 * The capabilities a template needs (the rule and its reasons: docs/HOW-IT-WORKS-CAPABILITIES.md):
 * - `CAPABILITY_IAM` for an IAM resource, a SAM resource that expands to one, or a nested stack;
 * - `CAPABILITY_NAMED_IAM` as well for an IAM resource with a custom name, or a nested stack;
 * - `CAPABILITY_AUTO_EXPAND` for a `Transform` (top level or `Fn::Transform`), an
 *   `AWS::Serverless::*` resource, or a nested stack.
 */
export function detectCapabilities(template: Template): Capability[] {
  const resources = Object.values(template.resources)
  const iam = resources.filter((r) => IAM_TYPES.has(r.Type))
  const sam = resources.filter((r) => r.Type.startsWith('AWS::Serverless::'))
  const nested = resources.some((r) => NESTED_STACK_TYPES.has(r.Type))
  const named = nested || iam.some((r) => IAM_NAME_PROPERTIES.some((p) => isSet(r.Properties?.[p])))
  const needsIam =
    named || iam.length > 0 || sam.some((r) => samExpandsToIam(r, template.functionGlobals))
  const expands = nested || template.hasTransform || sam.length > 0
  return KNOWN_CAPABILITIES.filter(
    (capability) =>
      (capability === 'CAPABILITY_IAM' && needsIam) ||
      (capability === 'CAPABILITY_NAMED_IAM' && named) ||
      (capability === 'CAPABILITY_AUTO_EXPAND' && expands)
  )
}

/** Names of parameters declared `NoEcho: true`; their values are masked in logs. */
export function noEchoParameters(template: Template): string[] {
  return Object.entries(template.parameters)
    .filter(([, p]) => p.NoEcho === true || String(p.NoEcho).toLowerCase() === 'true')
    .map(([name]) => name)
}

/** The Lambda function resource types that can run the pushed image. */
const FUNCTION_TYPES = new Set(['AWS::Lambda::Function', 'AWS::Serverless::Function'])

/** The architectures Lambda runs, as the template and Lambda spell them. */
const LAMBDA_ARCHITECTURES = ['x86_64', 'arm64']

/** A function resource that references the image parameter. */
export interface ImageFunction {
  logicalId: string
  type: string
  /** `PackageType` when it is a literal string; undefined when absent (Lambda's default is Zip). */
  packageType?: string
  /**
   * `Architectures` (Lambda's default `['x86_64']` when absent); `[]` when it is not a literal
   * list of strings (an intrinsic such as `!If`), so the architecture check skips the function.
   */
  architectures: string[]
}

/**
 * True when `value` uses the parameter: `{Ref: name}`, or an `Fn::Sub` string with `${name}`
 * (in the `[string, variables]` form, unless a variable of that name shadows it).
 */
function referencesParameter(value: unknown, name: string): boolean {
  if (Array.isArray(value)) return value.some((item) => referencesParameter(item, name))
  if (!isRecord(value)) return false
  if (value['Ref'] === name) return true
  const sub = value['Fn::Sub']
  if (typeof sub === 'string' && sub.includes(`\${${name}}`)) return true
  if (Array.isArray(sub) && typeof sub[0] === 'string') {
    const variables = isRecord(sub[1]) ? sub[1] : {}
    if (sub[0].includes(`\${${name}}`) && !(name in variables)) return true
  }
  return Object.values(value).some((item) => referencesParameter(item, name))
}

function literalArchitectures(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined
}

function architecturesOf(
  resource: TemplateResource,
  globals: Record<string, unknown> | undefined
): string[] {
  const properties = resource.Properties ?? {}
  const declared =
    'Architectures' in properties
      ? properties['Architectures']
      : // SAM copies Globals.Function into each AWS::Serverless::Function.
        resource.Type === 'AWS::Serverless::Function'
        ? globals?.['Architectures']
        : undefined
  if (declared === undefined) return ['x86_64']
  return literalArchitectures(declared) ?? []
}

/**
 * The Lambda functions (`AWS::Lambda::Function`, `AWS::Serverless::Function`) whose properties
 * reference the parameter anywhere, with their package type and architectures.
 */
export function functionsUsingParameter(
  template: Pick<Template, 'resources' | 'functionGlobals'>,
  parameterName: string
): ImageFunction[] {
  const functions: ImageFunction[] = []
  for (const [logicalId, resource] of Object.entries(template.resources)) {
    if (!FUNCTION_TYPES.has(resource.Type)) continue
    if (!referencesParameter(resource.Properties, parameterName)) continue
    const packageType = resource.Properties?.['PackageType']
    functions.push({
      logicalId,
      type: resource.Type,
      ...(typeof packageType === 'string' ? { packageType } : {}),
      architectures: architecturesOf(resource, template.functionGlobals)
    })
  }
  return functions
}

/**
 * Warnings (not errors: the template may be right in ways this cannot see) when the pushed image
 * would not run: no resource references the parameter, or a function that does is not
 * `PackageType: Image`.
 */
export function packageTypeWarnings(
  template: Pick<Template, 'resources' | 'functionGlobals'>,
  parameterName: string
): string[] {
  const referenced = Object.values(template.resources).some((resource) =>
    referencesParameter(resource.Properties, parameterName)
  )
  if (!referenced) {
    return [
      `No resource in the template references the parameter '${parameterName}' (input 'image-parameter'), so the image would be pushed and never deployed: reference it from the function, e.g. Code: {ImageUri: !Ref ${parameterName}} with PackageType: Image (ImageUri: !Ref ${parameterName} for AWS::Serverless::Function).`
    ]
  }
  const warnings: string[] = []
  for (const fn of functionsUsingParameter(template, parameterName)) {
    const declared = template.resources[fn.logicalId]?.Properties?.['PackageType']
    // An intrinsic (say !If) may well resolve to Image: nothing to say.
    if (declared !== undefined && typeof declared !== 'string') continue
    if (fn.packageType === 'Image') continue
    const current =
      fn.packageType === undefined
        ? 'has no PackageType (Zip by default)'
        : `has PackageType: ${fn.packageType}`
    warnings.push(
      `Function '${fn.logicalId}' (${fn.type}) references the image parameter '${parameterName}' but ${current}, so it cannot run the pushed image: set PackageType: Image on it.`
    )
  }
  return warnings
}

/** The Lambda name of a platform or architecture, or '' when it names none. */
function lambdaArchitecture(value: string): string {
  const parts = value.trim().toLowerCase().split('/')
  // `linux/arm64/v8` → `arm64`; a bare `arm64` or `aarch64` stays itself.
  const arch = (parts.length > 1 ? parts[1] : parts[0]) ?? ''
  if (arch === 'arm64' || arch === 'aarch64') return 'arm64'
  if (arch === 'amd64' || arch === 'x86_64' || arch === 'x86-64') return 'x86_64'
  return arch
}

/**
 * The image's architecture as Lambda names it (`x86_64` or `arm64`): from the `platform` input
 * when given (it decided the build), else from `docker image inspect`'s `Architecture`. Another
 * architecture is returned as given (Lambda will not run it); '' when neither says, or when
 * `platform` lists several (that image is an index, which the manifest check refuses).
 */
export function imageArchitecture(platform: string, dockerArchitecture: string): string {
  if (platform.includes(',')) return ''
  const fromPlatform = lambdaArchitecture(platform)
  return fromPlatform !== '' ? fromPlatform : lambdaArchitecture(dockerArchitecture)
}

function platformFor(architecture: string): string {
  return architecture === 'arm64' ? 'linux/arm64' : 'linux/amd64'
}

/**
 * One sentence per function whose `Architectures` does not include the image's, saying which side
 * to change. Functions with unknown architectures (`[]`) and an unknown image architecture ('')
 * are skipped.
 */
export function architectureMismatches(functions: ImageFunction[], imageArch: string): string[] {
  if (imageArch === '') return []
  const messages: string[] = []
  for (const fn of functions) {
    if (fn.architectures.length === 0 || fn.architectures.includes(imageArch)) continue
    const declared = fn.architectures.join(', ')
    const where = `Function '${fn.logicalId}' (${fn.type}) runs on ${declared}`
    if (!LAMBDA_ARCHITECTURES.includes(imageArch)) {
      messages.push(
        `${where}, but the image is built for ${imageArch}, which Lambda does not run: build it with input 'platform: ${platformFor(fn.architectures[0] ?? 'x86_64')}'.`
      )
      continue
    }
    messages.push(
      `${where}, but the image is built for ${imageArch}: set the function's Architectures: [${imageArch}] in the template, or build the image with input 'platform: ${platformFor(fn.architectures[0] ?? 'x86_64')}'.`
    )
  }
  return messages
}
