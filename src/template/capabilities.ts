/**
 * template/: pure reading of a CloudFormation template: its parameters, resources, functions and
 * the capabilities it needs.
 * May import: rules/, base/.
 *
 * Pure: the CloudFormation capabilities a template needs, decided from its resources (those of
 * Fn::ForEach loops and those SAM writes included) and macros, with the reasons for acknowledging
 * everything where the template cannot show what it holds (docs/HOW-IT-WORKS-CAPABILITIES.md).
 */
import { SAM_DECIDING_PROPERTIES, samMakesIam } from './sam.js'
import type { MacroCall, Template, TemplateResource } from './template.js'

/**
 * The IAM types CloudFormation asks `CAPABILITY_IAM` for: the CreateStack `Capabilities` list
 * (AccessKey, Group, InstanceProfile, ManagedPolicy, Policy, Role, User, UserToGroupAddition),
 * plus the inline-policy types of the same family, which that list does not name: asking for a
 * capability a stack does not need costs nothing, missing one fails the change set.
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

/**
 * The property that gives each IAM type a custom name, which makes CloudFormation ask for
 * `CAPABILITY_NAMED_IAM` ("If you specify a name, you must specify the CAPABILITY_NAMED_IAM
 * value"). Only the resource's own name counts: `AccessKey.UserName`, `Policy.PolicyName`, the
 * `RoleName`/`UserName`/`GroupName` of the inline policies and of `UserToGroupAddition` name an
 * existing principal or an inline policy, and need no more than `CAPABILITY_IAM`.
 */
const IAM_NAME_PROPERTY: Record<string, string> = {
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::User': 'UserName',
  'AWS::IAM::Group': 'GroupName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::IAM::InstanceProfile': 'InstanceProfileName'
}

/** The properties this rule reads: an AWS::Include anywhere else cannot change its answer. */
const DECIDING_PROPERTIES = new Set([
  ...Object.values(IAM_NAME_PROPERTY),
  ...SAM_DECIDING_PROPERTIES
])

/** Nested stacks: their template is not read here, so it may hold anything (see the docs). */
const NESTED_STACK_TYPES = new Set(['AWS::CloudFormation::Stack', 'AWS::Serverless::Application'])

/** The macros whose output this action reads itself: SAM (sam.ts) and Fn::ForEach (for-each.ts). */
const READ_MACROS = new Set(['AWS::Serverless-2016-10-31', 'AWS::LanguageExtensions'])

const SAM_TRANSFORM = 'AWS::Serverless-2016-10-31'

/** All capabilities CloudFormation knows, in the order the action passes them. */
export const KNOWN_CAPABILITIES = [
  'CAPABILITY_IAM',
  'CAPABILITY_NAMED_IAM',
  'CAPABILITY_AUTO_EXPAND'
] as const

/** One CloudFormation capability. */
export type Capability = (typeof KNOWN_CAPABILITIES)[number]

/** The capabilities a template needs, and why the ones the template cannot show were added. */
export interface CapabilityDecision {
  capabilities: Capability[]
  /** One sentence per part of the template the action cannot see into, for the log. */
  reasons: string[]
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== ''
}

function hasCustomName(resource: TemplateResource): boolean {
  const property = IAM_NAME_PROPERTY[resource.Type]
  return property !== undefined && isSet(resource.Properties?.[property])
}

/**
 * True for an AWS::Include that cannot change the answer: it replaces the mapping that calls it
 * with a file the action does not read, and inside an output, metadata or a resource property
 * this rule does not read (an API's `DefinitionBody`, a policy document) that adds no resource
 * and no name. Called in place of a whole resource, its properties, or among the resources, it
 * may add anything.
 */
function includeHidesNothing(call: MacroCall): boolean {
  if (call.name !== 'AWS::Include') return false
  const [section, , part, property] = call.at
  if (section === 'Outputs' || section === 'Metadata') return true
  if (section !== 'Resources' || part === undefined) return false
  if (part === 'Metadata') return true
  return part === 'Properties' && property !== undefined && !DECIDING_PROPERTIES.has(property)
}

/**
 * What the action cannot see into, so every capability is acknowledged: nested stacks, macros
 * other than SAM and AWS::LanguageExtensions (AWS::Include too, unless where it stands it cannot
 * change the answer), and loops whose collection is only known at deploy time.
 */
function unseenParts(template: Template): string[] {
  const reasons: string[] = []
  const every = 'so every capability is acknowledged'
  for (const [logicalId, resource] of Object.entries(template.resources)) {
    if (!NESTED_STACK_TYPES.has(resource.Type)) continue
    reasons.push(
      `Nested stack ${logicalId} (${resource.Type}): its template is not read here, ${every}.`
    )
  }
  const unseen = template.macros.filter((m) => !READ_MACROS.has(m.name) && !includeHidesNothing(m))
  for (const macro of new Set(unseen.map((m) => m.name))) {
    reasons.push(
      `Macro ${macro}: CloudFormation checks capabilities on the template the macro writes, which the action cannot see, ${every}.`
    )
  }
  for (const loop of template.unresolvedLoops.filter((l) => l.section === 'Resources')) {
    reasons.push(
      `${loop.key} is handled like a nested stack: its collection is only known at deploy time (${loop.reason}), ${every}.`
    )
  }
  // A loop nested in another is reported once per item of the outer one: say it once.
  return [...new Set(reasons)]
}

/**
 * The capabilities a template needs and why (the rule and its sources:
 * docs/HOW-IT-WORKS-CAPABILITIES.md):
 * - `CAPABILITY_IAM` for an IAM resource, or a resource the SAM transform turns into one;
 * - `CAPABILITY_NAMED_IAM` as well for an IAM resource with a custom name of its own;
 * - `CAPABILITY_AUTO_EXPAND` for a macro (top level or `Fn::Transform`) or an
 *   `AWS::Serverless::*` resource;
 * - all three for a nested stack, a macro other than SAM and AWS::LanguageExtensions, or a
 *   `Fn::ForEach` among the resources whose collection is only known at deploy time.
 */
export function decideCapabilities(template: Template): CapabilityDecision {
  const reasons = unseenParts(template)
  if (reasons.length > 0) return { capabilities: [...KNOWN_CAPABILITIES], reasons }
  const resources = Object.values(template.resources)
  const sam =
    template.macros.some((macro) => macro.name === SAM_TRANSFORM) ||
    resources.some((r) => r.Type.startsWith('AWS::Serverless::'))
  const named = resources.some((r) => hasCustomName(r))
  const needsIam =
    named ||
    resources.some((r) => IAM_TYPES.has(r.Type)) ||
    (sam && resources.some((r) => samMakesIam(r, template.resources, template.functionGlobals)))
  const expands = sam || template.macros.length > 0
  const capabilities = KNOWN_CAPABILITIES.filter(
    (capability) =>
      (capability === 'CAPABILITY_IAM' && needsIam) ||
      (capability === 'CAPABILITY_NAMED_IAM' && named) ||
      (capability === 'CAPABILITY_AUTO_EXPAND' && expands)
  )
  return { capabilities, reasons }
}

/** The capabilities a template needs (`decideCapabilities` without the reasons). */
export function detectCapabilities(template: Template): Capability[] {
  return decideCapabilities(template).capabilities
}
