/**
 * Pure: reads a CloudFormation template (JSON, or YAML as yaml-reader.ts reads it), expands its
 * `Fn::ForEach` loops (for-each.ts) and answers the questions the deploy asks of it: declared
 * parameters, resources, macros, NoEcho values and size. Capabilities live in capabilities.ts,
 * the functions that run the image in functions.ts.
 */
import { InputError } from '../base/errors.js'
import { expandLoops, hasLoops, type UnresolvedLoop } from './for-each.js'
import { isRecord } from './intrinsics.js'
import { readYaml } from './yaml-reader.js'

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

/** A macro the template runs. */
export interface MacroCall {
  name: string
  /**
   * Where: [] for the top-level `Transform`; for an `Fn::Transform`, the keys leading to the
   * mapping that holds it, which is what the macro's output replaces (`['Resources', 'Api',
   * 'Properties', 'DefinitionBody']`; a list index is a key too).
   */
  at: string[]
}

/** A parsed template and its original bytes (uploaded unchanged). */
export interface Template {
  /** Path the template was read from. */
  path: string
  /** The file's bytes: this is what gets uploaded. */
  body: Buffer
  format: 'json' | 'yaml'
  parameters: Record<string, TemplateParameter>
  /** The resources, those made by `Fn::ForEach` loops included. */
  resources: Record<string, TemplateResource>
  /**
   * The macros the template runs: the top-level `Transform` (SAM, AWS::LanguageExtensions, your
   * own), then every `Fn::Transform` (AWS::Include, …).
   */
  macros: MacroCall[]
  /** `Fn::ForEach` loops whose collection is only known at deploy time: not expanded. */
  unresolvedLoops: UnresolvedLoop[]
  /** What the reader noticed without refusing the template, for the log. */
  warnings: string[]
  /** SAM's `Globals.Function` section, when the template has one (it can set `Architectures`). */
  functionGlobals?: Record<string, unknown>
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position)
  const line = before.split('\n').length
  const column = position - before.lastIndexOf('\n')
  return `line ${line}, column ${column}`
}

function parseJson(source: string, path: string): unknown {
  try {
    return JSON.parse(source) as unknown
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

interface ParsedText {
  document: unknown
  format: 'json' | 'yaml'
  warnings: string[]
}

function parseText(text: string, path: string): ParsedText {
  // Editors on Windows may save a byte order mark, which JSON.parse refuses.
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text
  if (source.trimStart().startsWith('{')) {
    return { document: parseJson(source, path), format: 'json', warnings: [] }
  }
  return { ...readYaml(source, path), format: 'yaml' }
}

/**
 * Parses and checks a template's bytes; `path` is only used in messages. `parameterValues` (the
 * `parameter-overrides`) and the parameters' defaults decide the collections of `Fn::ForEach`.
 */
export function parseTemplate(
  body: Buffer,
  path: string,
  parameterValues: ReadonlyMap<string, string> = new Map()
): Template {
  // The action always uploads the template and passes its TemplateURL.
  const tooBig = templateSizeError(body.length, path, 'TemplateURL')
  if (tooBig !== undefined) throw tooBig
  const { document, format, warnings } = parseText(body.toString('utf8'), path)
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
  const parameters = checkedParameters(document, path)
  const macros = macrosOf(document)
  const known = { parameters, values: parameterValues, mappings: mappingsOf(document) }
  const expanded = hasLoops(document) ? expandLoops(document, known, path) : undefined
  if (expanded && !macros.some((macro) => macro.name === LANGUAGE_EXTENSIONS)) {
    warnings.push(
      `${path} uses Fn::ForEach, which CloudFormation expands only through the ${LANGUAGE_EXTENSIONS} transform: add it to the template's Transform.`
    )
  }
  return {
    path,
    body,
    format,
    parameters,
    resources: checkedResources(expanded?.document['Resources'] ?? resources, path),
    macros,
    unresolvedLoops: expanded?.unresolved ?? [],
    warnings,
    ...functionGlobalsOf(document)
  }
}

/** The transform that expands `Fn::ForEach`. */
const LANGUAGE_EXTENSIONS = 'AWS::LanguageExtensions'

function checkedParameters(
  document: Record<string, unknown>,
  path: string
): Record<string, TemplateParameter> {
  const parameters = document['Parameters'] ?? {}
  if (!isRecord(parameters)) {
    throw new InputError(`Input 'template': the 'Parameters' section of ${path} is not a mapping.`)
  }
  const checked: Record<string, TemplateParameter> = {}
  for (const [name, declaration] of Object.entries(parameters)) {
    checked[name] = isRecord(declaration) ? declaration : {}
  }
  return checked
}

function checkedResources(resources: unknown, path: string): Record<string, TemplateResource> {
  const checked: Record<string, TemplateResource> = {}
  for (const [logicalId, resource] of Object.entries(isRecord(resources) ? resources : {})) {
    // `Fn::Transform` (AWS::Include) can stand among the resources; the macro supplies them.
    if (logicalId === 'Fn::Transform') continue
    if (!isRecord(resource) || typeof resource['Type'] !== 'string') {
      throw new InputError(
        `Input 'template': resource '${logicalId}' in ${path} has no 'Type': give each resource a Type such as AWS::Lambda::Function.`
      )
    }
    const properties = resource['Properties']
    checked[logicalId] = {
      Type: resource['Type'],
      ...(isRecord(properties) ? { Properties: properties } : {})
    }
  }
  return checked
}

function mappingsOf(document: Record<string, unknown>): Record<string, unknown> {
  const mappings = document['Mappings']
  return isRecord(mappings) ? mappings : {}
}

/** The name of a macro: `Name` of `{Name, Parameters}`, or the string itself. */
function macroName(value: unknown): string {
  if (typeof value === 'string') return value
  const name = isRecord(value) ? value['Name'] : undefined
  return typeof name === 'string' ? name : '(a macro without a literal Name)'
}

/** The top-level `Transform` (a name, `{Name, Parameters}` or a list), then each `Fn::Transform`. */
function macrosOf(document: Record<string, unknown>): MacroCall[] {
  const top = document['Transform']
  const calls = (Array.isArray(top) ? top : top === undefined ? [] : [top]).map((value) => ({
    name: macroName(value),
    at: [] as string[]
  }))
  const walk = (value: unknown, at: string[]): void => {
    if (Array.isArray(value)) return value.forEach((item, i) => walk(item, [...at, String(i)]))
    if (!isRecord(value)) return
    for (const [key, item] of Object.entries(value)) {
      if (key === 'Fn::Transform') {
        for (const call of Array.isArray(item) ? item : [item])
          calls.push({ name: macroName(call), at })
      }
      walk(item, [...at, key])
    }
  }
  for (const [key, section] of Object.entries(document))
    if (key !== 'Transform') walk(section, [key])
  return calls
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
