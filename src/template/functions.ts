/**
 * Pure: the Lambda functions of a template that run the pushed image: their package type and
 * architectures, checked against the image before anything is pushed.
 */
import { isRecord } from './intrinsics.js'
import type { Template, TemplateResource } from './template.js'

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
  template: Pick<Template, 'resources' | 'functionGlobals' | 'unresolvedLoops'>,
  parameterName: string
): string[] {
  // A loop only expanded at deploy time may hold the function: its fragment counts too.
  const referenced =
    Object.values(template.resources).some((resource) =>
      referencesParameter(resource.Properties, parameterName)
    ) || template.unresolvedLoops.some((loop) => referencesParameter(loop.fragment, parameterName))
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
 * to change: for a `built` image the template or the `platform` input, for one `given` as input
 * `image` the template or the image. Functions with unknown architectures (`[]`) and an unknown
 * image architecture ('') are skipped.
 */
export function architectureMismatches(
  functions: ImageFunction[],
  imageArch: string,
  origin: 'built' | 'given' = 'built'
): string[] {
  if (imageArch === '') return []
  const messages: string[] = []
  for (const fn of functions) {
    if (fn.architectures.length === 0 || fn.architectures.includes(imageArch)) continue
    const declared = fn.architectures.join(', ')
    const where = `Function '${fn.logicalId}' (${fn.type}) runs on ${declared}`
    const platform = platformFor(fn.architectures[0] ?? 'x86_64')
    const otherImage =
      origin === 'built'
        ? `build the image with input 'platform: ${platform}'`
        : `give input 'image' an image built for ${platform}`
    const image = origin === 'built' ? 'the image is built for' : `input 'image' is an image for`
    if (!LAMBDA_ARCHITECTURES.includes(imageArch)) {
      const fix = origin === 'built' ? `build it with input 'platform: ${platform}'` : otherImage
      messages.push(`${where}, but ${image} ${imageArch}, which Lambda does not run: ${fix}.`)
      continue
    }
    messages.push(
      `${where}, but ${image} ${imageArch}: set the function's Architectures: [${imageArch}] in the template, or ${otherImage}.`
    )
  }
  return messages
}
