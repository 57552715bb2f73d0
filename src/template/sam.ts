/**
 * Pure: whether the SAM transform (AWS::Serverless-2016-10-31) turns a resource into IAM
 * resources. CloudFormation checks capabilities on the template SAM wrote, so a SAM template that
 * shows no IAM resource may still need `CAPABILITY_IAM`. The rules follow the SAM translator
 * (serverless-application-model, samtranslator/model/…; docs/HOW-IT-WORKS-CAPABILITIES.md names
 * each file). SAM never gives the roles and policies it writes a custom name.
 */
import { isRecord } from './intrinsics.js'

/** A resource as SAM reads it. */
interface SamResource {
  Type: string
  Properties?: Record<string, unknown>
}

/** The properties `samMakesIam` reads (a resource's own, or a function's from `Globals`). */
export const SAM_DECIDING_PROPERTIES = [
  'Role',
  'DeploymentPreference',
  'Events',
  'Logging',
  'DataSources',
  'OperatorRole',
  'Source',
  'Connectors'
]

/** Nested stacks are decided elsewhere (every capability); these never hold IAM of their own. */
const WITHOUT_IAM = new Set([
  'AWS::Serverless::Api',
  'AWS::Serverless::HttpApi',
  'AWS::Serverless::WebSocketApi',
  'AWS::Serverless::LayerVersion',
  'AWS::Serverless::SimpleTable',
  'AWS::Serverless::Application'
])

/** Connector sources SAM grants through resource policies only (connector_profiles/profiles.json). */
const POLICY_ONLY_SOURCES = new Set([
  'AWS::ApiGateway::RestApi',
  'AWS::ApiGatewayV2::Api',
  'AWS::SNS::Topic',
  'AWS::S3::Bucket',
  'AWS::AppSync::GraphQLApi',
  'AWS::Serverless::Api',
  'AWS::Serverless::HttpApi'
])

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== ''
}

function isNoValue(value: unknown): boolean {
  return isRecord(value) && value['Ref'] === 'AWS::NoValue'
}

/**
 * True when SAM writes an execution role for this `Role` value: none given, or
 * `!If [cond, …, !Ref AWS::NoValue]` with either branch AWS::NoValue (the role is then created
 * under a condition; sam_resources.py `_make_lambda_role`).
 */
function makesExecutionRole(role: unknown): boolean {
  if (!isSet(role)) return true
  const branches = isRecord(role) ? role['Fn::If'] : undefined
  return Array.isArray(branches) && branches.slice(1).some(isNoValue)
}

/** The events of a resource, as `{Type, Properties}` records. */
function eventsOf(properties: Record<string, unknown>): Array<Record<string, unknown>> {
  const events = properties['Events']
  return isRecord(events) ? Object.values(events).filter(isRecord) : []
}

function eventProperty(event: Record<string, unknown>, name: string): unknown {
  const properties = event['Properties']
  return isRecord(properties) ? properties[name] : undefined
}

/** ScheduleV2 (EventBridge Scheduler) writes a role for every event without `RoleArn`. */
function schedulerMakesRole(event: Record<string, unknown>): boolean {
  return event['Type'] === 'ScheduleV2' && !isSet(eventProperty(event, 'RoleArn'))
}

/** A `DeploymentPreference` that is enabled and names no `Role` gets CodeDeploy's service role. */
function deploymentMakesRole(preference: unknown): boolean {
  if (!isRecord(preference)) return isSet(preference)
  const enabled = preference['Enabled']
  if (enabled === false || enabled === 'false' || enabled === 'False') return false
  return !isSet(preference['Role'])
}

function functionMakesIam(
  properties: Record<string, unknown>,
  globals: Record<string, unknown> | undefined
): boolean {
  // SAM copies Globals.Function into each function; the function's own value wins.
  const setting = (name: string): unknown =>
    name in properties ? properties[name] : globals?.[name]
  return (
    makesExecutionRole(setting('Role')) ||
    deploymentMakesRole(setting('DeploymentPreference')) ||
    eventsOf(properties).some(schedulerMakesRole)
  )
}

/**
 * A state machine without `Role` gets one; so does each `Api`, `CloudWatchEvent` and
 * `EventBridgeRule` event, and each `Schedule`/`ScheduleV2` event without `RoleArn`, whatever
 * the state machine's own `Role` (stepfunctions/events.py, eventsources/scheduler.py).
 */
function stateMachineMakesIam(properties: Record<string, unknown>): boolean {
  if (!isSet(properties['Role'])) return true
  return eventsOf(properties).some((event) => {
    const type = event['Type']
    if (type === 'Schedule' || type === 'ScheduleV2') return !isSet(eventProperty(event, 'RoleArn'))
    return type === 'Api' || type === 'CloudWatchEvent' || type === 'EventBridgeRule'
  })
}

/**
 * A GraphQL API gets a CloudWatch Logs role unless `Logging` is `false` or its
 * `CloudWatchLogsRoleArn` names one, and a role per DynamoDb or Lambda data source without
 * `ServiceRoleArn`.
 */
function graphQlApiMakesIam(properties: Record<string, unknown>): boolean {
  const logging = properties['Logging']
  const logsRoleGiven = isRecord(logging) && isSet(logging['CloudWatchLogsRoleArn'])
  if (logging !== false && !logsRoleGiven) return true
  const sources = isRecord(properties['DataSources']) ? properties['DataSources'] : {}
  return Object.values(sources).some(
    (kind) =>
      isRecord(kind) &&
      Object.values(kind).some((source) => !isRecord(source) || !isSet(source['ServiceRoleArn']))
  )
}

/**
 * A connector grants a role-based source through a new managed policy; sources that take a
 * resource policy instead (an API, a topic, a bucket) need no IAM. A source whose type it cannot
 * tell counts as IAM.
 */
function connectorMakesIam(source: unknown, resources: Record<string, SamResource>): boolean {
  if (!isRecord(source)) return true
  const id = source['Id']
  const type = typeof id === 'string' ? resources[id]?.Type : source['Type']
  return typeof type !== 'string' || !POLICY_ONLY_SOURCES.has(type)
}

/** Embedded `Connectors` (on any resource of a SAM template) have the resource as source. */
function embeddedConnectorsMakeIam(resource: SamResource): boolean {
  const connectors = resource.Properties?.['Connectors']
  if (!isRecord(connectors) || Object.keys(connectors).length === 0) return false
  return !POLICY_ONLY_SOURCES.has(resource.Type)
}

/**
 * True when the SAM transform writes an IAM resource for `resource`: a function's or state
 * machine's execution role, event roles, CodeDeploy's role, a GraphQL API's roles, a capacity
 * provider's operator role, a connector's policy. A SAM type this does not know counts as IAM:
 * acknowledging a capability the stack turns out not to need costs nothing.
 */
export function samMakesIam(
  resource: SamResource,
  resources: Record<string, SamResource>,
  globals: Record<string, unknown> | undefined
): boolean {
  const properties = resource.Properties ?? {}
  if (embeddedConnectorsMakeIam(resource)) return true
  switch (resource.Type) {
    case 'AWS::Serverless::Function':
      return functionMakesIam(properties, globals)
    case 'AWS::Serverless::StateMachine':
      return stateMachineMakesIam(properties)
    case 'AWS::Serverless::GraphQLApi':
      return graphQlApiMakesIam(properties)
    case 'AWS::Serverless::CapacityProvider':
      return !isSet(properties['OperatorRole'])
    case 'AWS::Serverless::Connector':
      return connectorMakesIam(properties['Source'], resources)
    default:
      return resource.Type.startsWith('AWS::Serverless::') && !WITHOUT_IAM.has(resource.Type)
  }
}
