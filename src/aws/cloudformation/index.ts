/**
 * CloudFormation: deploys a stack through a change set (in one go, or created now and executed
 * by a later run), and deletes stacks, streaming stack events while it waits. Every function
 * takes the client first; waits poll at a short, bounded interval.
 *
 *   wait.ts         the stack as it stands; bounded polls for stacks and change sets
 *   events.ts       the stack event stream and the failure detail it gives
 *   change-sets.ts  ready the stack → submit the change set → settle it
 *   changes.ts      a change set's changes as rows, nested stacks included
 *   execute.ts      deploy in one go, or execute a reviewed change set
 *   delete.ts       delete a stack
 */
export { createChangeSet } from './change-sets.js'
export { deleteStack } from './delete.js'
export { deployStack, executeExistingChangeSet } from './execute.js'
export type {
  DeployRequest,
  DeployResult,
  ExecuteOptions,
  ParameterChange,
  ResourceChangeRow
} from './types.js'
export { DEFAULT_WAIT, describeStack, type WaitOptions } from './wait.js'
