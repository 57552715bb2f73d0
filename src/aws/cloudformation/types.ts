/** The values the CloudFormation modules take and return: requests, change sets, results. */
import type {
  Output,
  Parameter,
  RollbackConfiguration,
  Stack,
  Tag
} from '@aws-sdk/client-cloudformation'
import type { ParameterChange } from '../../rules/stack-rules.js'

/** One resource change in a change set, flattened for tables and outputs. */
export interface ResourceChangeRow {
  action: string
  logicalId: string
  type: string
  replacement: string
  physicalId: string
  /** For a change inside a nested stack: the nested stack resource's logical id (`Outer/Inner` deeper down). */
  parent?: string
}

/** What the deploy asks of CloudFormation. */
export interface DeployRequest {
  stackName: string
  templateUrl: string
  /** Parameters for the change set; computed by the caller from the stack as it was found. */
  parameters: (previous: Set<string>) => Parameter[]
  capabilities: string[]
  tags: Tag[]
  changeSetName: string
  description: string
  noFailOnEmptyChangeset: boolean
  /** RoleARN: the service role CloudFormation uses for this and later operations on the stack. */
  roleArn?: string
  /** NotificationARNs: SNS topics that receive the stack's events. */
  notificationArns?: string[]
  /** RollbackConfiguration: alarms that roll the operation back (see `rollbackConfiguration()`). */
  rollbackConfiguration?: RollbackConfiguration
  /** DeploymentMode: REVERT_DRIFT makes a drift-aware change set (updates only: a new stack has no drift). */
  deploymentMode?: 'REVERT_DRIFT'
  /** IncludeNestedStacks: also make change sets for nested stacks, and list their changes. */
  includeNestedStacks?: boolean
  /**
   * DeploymentConfig: express mode, with the rollback choice AWS reads from it (not from
   * ExecuteChangeSet's DisableRollback). Absent: CloudFormation's standard mode, nothing sent.
   */
  express?: { disableRollback: boolean }
  /** Parameters declared NoEcho: their values are never listed among the parameter changes. */
  noEchoParameters?: string[]
  /**
   * The stack as a recent DescribeStacks found it (preflight's read; `stack` undefined: it did not
   * exist) and when (`Date.now()`): used instead of reading it again while it is younger than
   * KNOWN_STACK_MAX_AGE_MS.
   */
  known?: KnownStack
  /** Called once CloudFormation accepted the change set: the stack and change set have ids. */
  onSubmitted?: (ids: { stackId: string; changeSetId: string }) => void
}

/** A stack read and when it was read (see DeployRequest.known). */
export interface KnownStack {
  stack: Stack | undefined
  readAt: number
}

/** A stack read younger than this is not read again before the change set (see readyStack). */
export const KNOWN_STACK_MAX_AGE_MS = 5_000

/** A change set that is ready (or was empty), before anything is executed. */
export interface ChangeSetResult {
  changeSetId: string
  changeSetName: string
  stackId: string
  stackName: string
  type: 'CREATE' | 'UPDATE'
  /** True when the change set changed nothing; it was deleted and there is nothing to execute. */
  empty: boolean
  /** Every resource change, nested stacks' changes after their parent row. */
  changes: ResourceChangeRow[]
  /** UPDATE only: the parameters whose values change. */
  parameterChanges?: ParameterChange[]
  /** When empty: the stack's status and outputs as they stand. */
  stackStatus?: string
  outputs?: Output[]
}

/** A change set to execute: what `createChangeSet` returned, or one found by `executeExistingChangeSet`. */
export interface ChangeSetRef {
  changeSetId: string
  stackId: string
  stackName: string
  /** For the log; the id is used when absent. */
  changeSetName?: string
  /** Returned in the DeployResult. */
  changes?: ResourceChangeRow[]
  parameterChanges?: ParameterChange[]
  /** The stack as read before the execution: a read that still equals it may be stale. */
  before?: Stack
}

/** Options of the execution itself. */
export interface ExecuteOptions {
  /** DisableRollback: keep the resources that succeeded when the operation fails. */
  disableRollback?: boolean
  /**
   * The change set was created in express mode: DisableRollback travels in its DeploymentConfig,
   * so ExecuteChangeSet leaves it out, and failure hints never point at RollbackStack.
   */
  express?: boolean
  /** Enable termination protection once the stack is deployed (never turns it off). */
  terminationProtection?: boolean
  /** Called once CloudFormation accepted ExecuteChangeSet: from then on the operation is ours. */
  onExecuted?: (stackId: string) => void
  /**
   * Awaited between a ready change set and ExecuteChangeSet (the image still travelling): when it
   * throws, the change set is deleted, never executed, and its error is the deploy's.
   */
  beforeExecute?: () => Promise<void>
}

/** How a delete ended (success only: failures throw). */
export interface DeleteResult {
  /** False when there was no stack to delete. */
  existed: boolean
  stackId?: string
  /** DELETE_COMPLETE, also when there was nothing to delete. */
  status: string
}

/** How the deploy ended (success only: failures throw). */
export interface DeployResult {
  changeSetId: string
  stackId: string
  stackStatus: string
  outputs: Output[]
  /** True when the change set was empty and nothing was executed. */
  noChanges: boolean
  changes: ResourceChangeRow[]
  /** UPDATE only, when known: the parameters whose values changed. */
  parameterChanges?: ParameterChange[]
  /** The change set ran in express mode. */
  express?: boolean
}
