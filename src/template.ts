/**
 * Pure: reads a CloudFormation template (JSON, or YAML with short-form tags such as `!Ref`) and
 * answers the questions the deploy asks of it: declared parameters, capabilities, size.
 */
import { parseDocument, type Tags, type YAMLError } from 'yaml'
import { InputError } from './errors.js'

/** CloudFormation's limit for a template passed by `TemplateURL`. */
export const MAX_TEMPLATE_BYTES = 1024 * 1024

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
  /** True when the template declares a top-level `Transform` (macros, SAM). */
  hasTransform: boolean
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
  if (body.length > MAX_TEMPLATE_BYTES) {
    throw new InputError(
      `Input 'template': ${path} is ${body.length} bytes, over CloudFormation's ${MAX_TEMPLATE_BYTES}-byte limit: split it into nested stacks or remove unused parts.`
    )
  }
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
    hasTransform: document['Transform'] !== undefined
  }
}

const IAM_TYPES = new Set([
  'AWS::IAM::AccessKey',
  'AWS::IAM::Group',
  'AWS::IAM::InstanceProfile',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::Policy',
  'AWS::IAM::Role',
  'AWS::IAM::RolePolicy',
  'AWS::IAM::User',
  'AWS::IAM::UserPolicy',
  'AWS::IAM::UserToGroupAddition'
])
const IAM_NAME_PROPERTIES = [
  'RoleName',
  'UserName',
  'GroupName',
  'ManagedPolicyName',
  'InstanceProfileName'
]

/** All capabilities CloudFormation knows. */
export const KNOWN_CAPABILITIES = [
  'CAPABILITY_IAM',
  'CAPABILITY_NAMED_IAM',
  'CAPABILITY_AUTO_EXPAND'
] as const

/**
 * The capabilities a template needs: `CAPABILITY_IAM` for IAM resources, `CAPABILITY_NAMED_IAM`
 * when one of them has a custom name, `CAPABILITY_AUTO_EXPAND` for a `Transform`.
 */
export function detectCapabilities(template: Template): string[] {
  const capabilities: string[] = []
  const iam = Object.values(template.resources).filter((r) => IAM_TYPES.has(r.Type))
  if (iam.length > 0) capabilities.push('CAPABILITY_IAM')
  if (iam.some((r) => IAM_NAME_PROPERTIES.some((p) => r.Properties?.[p] !== undefined))) {
    capabilities.push('CAPABILITY_NAMED_IAM')
  }
  const serverless = Object.values(template.resources).some((r) =>
    r.Type.startsWith('AWS::Serverless::')
  )
  if (template.hasTransform || serverless) capabilities.push('CAPABILITY_AUTO_EXPAND')
  return capabilities
}

/** Names of parameters declared `NoEcho: true`; their values are masked in logs. */
export function noEchoParameters(template: Template): string[] {
  return Object.entries(template.parameters)
    .filter(([, p]) => p.NoEcho === true || String(p.NoEcho).toLowerCase() === 'true')
    .map(([name]) => name)
}
