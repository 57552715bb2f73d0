/**
 * Stack sets as they stand, and the calls that are not operations: describe, create and delete
 * the stack set, list its instances and an operation's per-instance results (every page).
 * The operations themselves (update, add or remove instances) are in stack-set-operations.ts.
 */
import {
  CreateStackSetCommand,
  DeleteStackSetCommand,
  DescribeStackSetCommand,
  ListStackInstancesCommand,
  ListStackSetOperationResultsCommand,
  type CloudFormationClient,
  type CreateStackSetCommandInput,
  type StackInstanceSummary,
  type StackSet,
  type StackSetOperationResultSummary
} from '@aws-sdk/client-cloudformation'
import { awsErrorName, DeployError, errorMessage } from '../../base/errors.js'

/** `CallAs` for service-managed stack sets ('' for self-managed ones: the field is left out). */
export type CallAs = '' | 'SELF' | 'DELEGATED_ADMIN'

/** The `CallAs` field of a request, or nothing. */
export function callAsField(callAs: CallAs): { CallAs?: 'SELF' | 'DELEGATED_ADMIN' } {
  return callAs === '' ? {} : { CallAs: callAs }
}

function failure(api: string, name: string, error: unknown): DeployError {
  return new DeployError(
    `Could not ${api.replace(/^(\w+?)([A-Z])/, '$1 $2').toLowerCase()} of stack set ${name} (cloudformation:${api}): ${errorMessage(error)}`
  )
}

/** The stack set, or undefined when there is none (a deleted one counts as none). */
export async function describeStackSet(
  cfn: CloudFormationClient,
  name: string,
  callAs: CallAs
): Promise<StackSet | undefined> {
  try {
    const { StackSet: set } = await cfn.send(
      new DescribeStackSetCommand({ StackSetName: name, ...callAsField(callAs) })
    )
    return set?.Status === 'DELETED' ? undefined : set
  } catch (error) {
    if (awsErrorName(error) === 'StackSetNotFoundException') return undefined
    throw failure('DescribeStackSet', name, error)
  }
}

/**
 * Creates the stack set; returns its id. A set of that name made in the meantime (a retry whose
 * first answer was lost, or a parallel run) is described instead: the caller then updates it.
 */
export async function createStackSet(
  cfn: CloudFormationClient,
  input: CreateStackSetCommandInput & { StackSetName: string }
): Promise<{ stackSetId: string; created: boolean }> {
  try {
    const { StackSetId } = await cfn.send(new CreateStackSetCommand(input))
    return { stackSetId: StackSetId ?? '', created: true }
  } catch (error) {
    if (awsErrorName(error) !== 'NameAlreadyExistsException') {
      throw failure('CreateStackSet', input.StackSetName, error)
    }
    const set = await describeStackSet(cfn, input.StackSetName, input.CallAs ?? '')
    return { stackSetId: set?.StackSetId ?? '', created: false }
  }
}

/** Deletes the (empty) stack set; one already gone is success. */
export async function deleteStackSet(
  cfn: CloudFormationClient,
  name: string,
  callAs: CallAs
): Promise<void> {
  try {
    await cfn.send(new DeleteStackSetCommand({ StackSetName: name, ...callAsField(callAs) }))
  } catch (error) {
    if (awsErrorName(error) === 'StackSetNotFoundException') return
    throw failure('DeleteStackSet', name, error)
  }
}

/** Every page of a paged list call, its items in order; a failure names the API. */
async function allPages<T>(
  api: string,
  name: string,
  page: (token: string | undefined) => Promise<{ Summaries?: T[]; NextToken?: string }>
): Promise<T[]> {
  const items: T[] = []
  let token: string | undefined
  try {
    do {
      const answer = await page(token)
      items.push(...(answer.Summaries ?? []))
      token = answer.NextToken
    } while (token)
  } catch (error) {
    throw failure(api, name, error)
  }
  return items
}

/** Every instance of the stack set (all pages). */
export function listStackInstances(
  cfn: CloudFormationClient,
  name: string,
  callAs: CallAs
): Promise<StackInstanceSummary[]> {
  return allPages('ListStackInstances', name, (token) =>
    cfn.send(
      new ListStackInstancesCommand({
        StackSetName: name,
        ...callAsField(callAs),
        ...(token ? { NextToken: token } : {})
      })
    )
  )
}

/** Every account × region result of one operation (all pages). */
export function listOperationResults(
  cfn: CloudFormationClient,
  name: string,
  operationId: string,
  callAs: CallAs
): Promise<StackSetOperationResultSummary[]> {
  return allPages('ListStackSetOperationResults', name, (token) =>
    cfn.send(
      new ListStackSetOperationResultsCommand({
        StackSetName: name,
        OperationId: operationId,
        ...callAsField(callAs),
        ...(token ? { NextToken: token } : {})
      })
    )
  )
}
