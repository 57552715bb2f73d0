/**
 * Pure: reads a CloudFormation template (JSON, or YAML with short-form tags such as `!Ref`) and
 * answers the questions the deploy asks of it: declared parameters, NoEcho values and size.
 * Capabilities live in capabilities.ts, the functions that run the image in functions.ts.
 */
import { parseDocument, type Tags, type YAMLError } from 'yaml'
import { InputError } from '../base/errors.js'

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

/** True for a plain object (a template mapping), not an array or null. */
export function isRecord(value: unknown): value is Record<string, unknown> {
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

/** Names of parameters declared `NoEcho: true`; their values are masked in logs. */
export function noEchoParameters(template: Template): string[] {
  return Object.entries(template.parameters)
    .filter(([, p]) => p.NoEcho === true || String(p.NoEcho).toLowerCase() === 'true')
    .map(([name]) => name)
}
