/**
 * template/: pure reading of a CloudFormation template: its parameters, resources, functions and
 * the capabilities it needs.
 * May import: rules/, base/.
 *
 * Pure: the CloudFormation capabilities a template needs, decided from its resources and
 * transforms (the rule is explained in docs/HOW-IT-WORKS-CAPABILITIES.md).
 */
import { isRecord } from './intrinsics.js'
import type { Template, TemplateResource } from './template.js'

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
  const expands = nested || template.transforms.length > 0 || sam.length > 0
  return KNOWN_CAPABILITIES.filter(
    (capability) =>
      (capability === 'CAPABILITY_IAM' && needsIam) ||
      (capability === 'CAPABILITY_NAMED_IAM' && named) ||
      (capability === 'CAPABILITY_AUTO_EXPAND' && expands)
  )
}
