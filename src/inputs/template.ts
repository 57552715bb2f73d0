/**
 * Readers of the template and what goes into it: the bucket it is uploaded to, the file, the
 * parameters the action fills with the artifact, `parameter-overrides` and the capabilities.
 */
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { InputError } from '../base/errors.js'
import { shown as shownValue } from '../base/untrusted.js'
import { list, required, text } from './text.js'
import type { RawInputs } from './raw.js'
import { parseKeyValueLines } from '../rules/parse.js'
import { decideCapabilities, KNOWN_CAPABILITIES } from '../template/capabilities.js'
import { parseTemplate, type Template } from '../template/template.js'
import { STACK_SET_IMAGE_PARAMETERS } from '../rules/stack-set.js'
import { existingFile } from './workspace-files.js'

/** The template, parsed, and the parameters and capabilities checked against it. */
export interface TemplateInputs {
  template: Template
  imageParameter: string
  archiveKeyParameter: string
  archiveVersionParameter: string
  parameterOverrides: Map<string, string>
  capabilities: string[]
  /** Why detection acknowledged every capability (a nested stack, a macro, …), for the log. */
  capabilityReasons: string[]
}

/** `bucket`, given and not blank (its name is checked by `checkBucketName`). */
export function requireBucket(raw: RawInputs): string {
  return required(raw, 'bucket', 'name the S3 bucket the template is uploaded to')
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
      `Input 'bucket' ('${shownValue(bucket)}') is not a valid S3 bucket name: 3-63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit.`
    )
  }
}

/** `template`: the absolute path of an existing file. */
export function readTemplatePath(raw: RawInputs, workspace: string): string {
  const path = required(
    raw,
    'template',
    'give the path of the CloudFormation template (JSON or YAML)'
  )
  return existingFile(workspace, 'template', path)
}

/** `image-parameter`: the parameter that receives the image URI (Sparta: `CodeImageURI`). */
export function readImageParameter(raw: RawInputs): string {
  return text(raw, 'image-parameter') || 'CodeImageURI'
}

/**
 * Parses the template and checks the inputs that refer to it. `zip` says which parameters the
 * action fills: the archive's key and version, or the image URI.
 */
export function readTemplateInputs(
  raw: RawInputs,
  workspace: string,
  path: string,
  zip: boolean,
  stackSet = false
): TemplateInputs {
  // The overrides decide the collections of Fn::ForEach loops, so they are read first.
  const overrides = parseParameterOverrides(raw['parameter-overrides'], workspace)
  const template = parseTemplate(readFileSync(path), path, overrides)
  const shown = relative(workspace, path)
  const imageParameter = readImageParameter(raw)
  const archiveKeyParameter = text(raw, 'archive-key-parameter') || 'CodeArtifactS3Key'
  const archiveVersionParameter =
    text(raw, 'archive-version-parameter') || 'CodeArtifactS3ObjectVersion'
  if (stackSet) checkStackSetImageParameters(template, shown)
  else if (!zip && template.parameters[imageParameter] === undefined) {
    throw new InputError(
      `Input 'image-parameter': the template ${shown} declares no parameter '${imageParameter}' to receive the image URI: add it under Parameters (Type: String), or set 'image-parameter' to the parameter your function's ImageUri refers to.`
    )
  }
  if (zip && template.parameters[archiveKeyParameter] === undefined) {
    throw new InputError(
      `Input 'archive-key-parameter': the template ${shown} declares no parameter '${archiveKeyParameter}' to receive the zip package's S3 key: add it under Parameters (Type: String), or set 'archive-key-parameter'.`
    )
  }
  const filled = stackSet
    ? [...STACK_SET_IMAGE_PARAMETERS]
    : zip
      ? [archiveKeyParameter, archiveVersionParameter]
      : [imageParameter]
  return {
    template,
    // A stack set's functions build their URI from ImageDigest: the image checks follow it.
    imageParameter: stackSet ? 'ImageDigest' : imageParameter,
    archiveKeyParameter,
    archiveVersionParameter,
    parameterOverrides: checkParameterOverrides(overrides, template, filled, zip),
    ...readCapabilities(raw, template)
  }
}

/**
 * A stack set's instances build their image URI from the parameters the action fills and
 * `${AWS::Region}`, so each pulls from its own region's repository with one set of parameters.
 */
function checkStackSetImageParameters(template: Template, shown: string): void {
  const missing = STACK_SET_IMAGE_PARAMETERS.filter((p) => template.parameters[p] === undefined)
  if (missing.length > 0) {
    throw new InputError(
      `Input 'stack-set-name': the template ${shown} does not declare ${missing.join(', ')}. A stack set gives every instance the same parameters, so each instance builds its own region's image URI: declare ${STACK_SET_IMAGE_PARAMETERS.join(', ')} (Type: String) and set the function's ImageUri to !Sub "\${ImageRegistryAccount}.dkr.ecr.\${AWS::Region}.\${AWS::URLSuffix}/\${ImageRepository}@\${ImageDigest}".`
    )
  }
}

/** `parameter-overrides`: only parameters the template declares and the action does not fill. */
function checkParameterOverrides(
  overrides: Map<string, string>,
  template: Template,
  filled: string[],
  zip: boolean
): Map<string, string> {
  for (const key of overrides.keys()) {
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
  return overrides
}

/**
 * `KEY=VALUE` lines, or the path of a JSON file holding `{"Key": "Value"}` or
 * `[{"ParameterKey": …, "ParameterValue": …}]` (a single line without '=', optionally `file://`).
 */
function parseParameterOverrides(overridesText: string, workspace: string): Map<string, string> {
  const trimmed = overridesText.trim()
  if (trimmed === '') return new Map()
  const isFile =
    trimmed.startsWith('file://') || (!trimmed.includes('\n') && !trimmed.includes('='))
  if (!isFile) {
    const pairs = parseKeyValueLines(overridesText, 'parameter-overrides')
    return new Map(pairs.map((pair) => [pair.key, pair.value]))
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
  return withoutLoneCr(overridesFromJson(document, trimmed), trimmed)
}

/** A file's values may span lines (LF or CRLF), but a lone CR would end a log line: refused. */
function withoutLoneCr(overrides: Map<string, string>, shown: string): Map<string, string> {
  for (const [key, value] of overrides) {
    if (/\r(?!\n)/.test(value)) {
      throw new InputError(
        `Input 'parameter-overrides': ${shown} gives '${key}' a value with a carriage return (U+000D) that does not end a line: use LF or CRLF line ends.`
      )
    }
  }
  return overrides
}

/** The overrides a parameter file holds, in either of the two shapes the AWS CLI reads. */
function overridesFromJson(document: unknown, shown: string): Map<string, string> {
  const shape = `give {"Key": "Value"} or [{"ParameterKey": "Key", "ParameterValue": "Value"}]`
  const overrides = new Map<string, string>()
  if (Array.isArray(document)) {
    for (const entry of document as unknown[]) {
      const item = entry as { ParameterKey?: unknown; ParameterValue?: unknown }
      if (typeof item?.ParameterKey !== 'string' || typeof item.ParameterValue !== 'string') {
        throw new InputError(
          `Input 'parameter-overrides': ${shown} has an entry without string ParameterKey and ParameterValue: ${shape}.`
        )
      }
      overrides.set(item.ParameterKey, item.ParameterValue)
    }
    return overrides
  }
  if (document === null || typeof document !== 'object') {
    throw new InputError(`Input 'parameter-overrides': ${shown} holds neither shape: ${shape}.`)
  }
  for (const [key, value] of Object.entries(document)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new InputError(
        `Input 'parameter-overrides': ${shown} gives '${key}' a value that is not a string: ${shape}.`
      )
    }
    overrides.set(key, String(value))
  }
  return overrides
}

/** `capabilities`: the ones given, else the ones the template needs (and why, when all). */
function readCapabilities(
  raw: RawInputs,
  template: Template
): Pick<TemplateInputs, 'capabilities' | 'capabilityReasons'> {
  if (text(raw, 'capabilities') === '') {
    const { capabilities, reasons } = decideCapabilities(template)
    return { capabilities, capabilityReasons: reasons }
  }
  const capabilities = list(raw, 'capabilities')
  for (const capability of capabilities) {
    if (!(KNOWN_CAPABILITIES as readonly string[]).includes(capability)) {
      throw new InputError(
        `Input 'capabilities' has unknown capability '${capability}': use ${KNOWN_CAPABILITIES.join(', ')}.`
      )
    }
  }
  return { capabilities, capabilityReasons: [] }
}
