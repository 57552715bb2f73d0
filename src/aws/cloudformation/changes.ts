/**
 * The changes of a change set as table rows: every page, and the changes of nested stacks
 * (IncludeNestedStacks) right after their parent's row, each printed to the log.
 */
import * as log from '../../base/log.js'
import {
  DescribeChangeSetCommand,
  type Change,
  type CloudFormationClient,
  type DescribeChangeSetCommandOutput
} from '@aws-sdk/client-cloudformation'
import { errorMessage } from '../../base/errors.js'
import type { ResourceChangeRow } from './types.js'

/** Reads every change of a change set (paginated); `stackName` may be left out for a change set ARN. */
async function describeChanges(
  cfn: CloudFormationClient,
  id: string,
  stackName?: string
): Promise<Change[]> {
  const changes: Change[] = []
  let token: string | undefined
  do {
    const page = await cfn.send(
      new DescribeChangeSetCommand({
        ChangeSetName: id,
        ...(stackName === undefined ? {} : { StackName: stackName }),
        NextToken: token
      })
    )
    changes.push(...(page.Changes ?? []))
    token = page.NextToken
  } while (token)
  return changes
}

/** Flattens SDK changes into table rows; `parent` marks changes inside a nested stack. */
function toChangeRows(changes: Change[], parent?: string): ResourceChangeRow[] {
  return changes.map((change) => ({
    action: change.ResourceChange?.Action ?? '',
    logicalId: change.ResourceChange?.LogicalResourceId ?? '',
    type: change.ResourceChange?.ResourceType ?? '',
    replacement: change.ResourceChange?.Replacement ?? '',
    physicalId: change.ResourceChange?.PhysicalResourceId ?? '',
    ...(parent === undefined ? {} : { parent })
  }))
}

/** How many levels of nested stacks' change sets are read. */
const MAX_NESTED_DEPTH = 5

/**
 * Rows for `changes`, each nested stack's own changes (IncludeNestedStacks gives its change a
 * ChangeSetId) right after its row, down to MAX_NESTED_DEPTH levels.
 */
async function changeRowsWithNested(
  cfn: CloudFormationClient,
  changes: Change[],
  parent: string | undefined,
  depth: number
): Promise<ResourceChangeRow[]> {
  const rows: ResourceChangeRow[] = []
  for (const change of changes) {
    const [row] = toChangeRows([change], parent)
    if (row) rows.push(row)
    const nestedId = change.ResourceChange?.ChangeSetId
    if (!row || !nestedId || change.ResourceChange?.ResourceType !== 'AWS::CloudFormation::Stack')
      continue
    const path = parent === undefined ? row.logicalId : `${parent}/${row.logicalId}`
    if (depth >= MAX_NESTED_DEPTH) {
      log.info(`  (changes of ${path} not listed: nested more than ${MAX_NESTED_DEPTH} deep)`)
      continue
    }
    try {
      const nested = await describeChanges(cfn, nestedId)
      rows.push(...(await changeRowsWithNested(cfn, nested, path, depth + 1)))
    } catch (error) {
      // The list is for people; the parent change set is what executes.
      log.warning(`Could not read the changes of nested stack ${path}: ${errorMessage(error)}`)
    }
  }
  return rows
}

/** Every change row of a described change set: all pages, then nested stacks. */
export async function readChangeRows(
  cfn: CloudFormationClient,
  described: DescribeChangeSetCommandOutput,
  changeSetId: string,
  stackId: string
): Promise<ResourceChangeRow[]> {
  const changes = described.NextToken
    ? await describeChanges(cfn, changeSetId, stackId)
    : (described.Changes ?? [])
  const rows = await changeRowsWithNested(cfn, changes, undefined, 0)
  for (const row of rows) {
    const id = row.parent === undefined ? row.logicalId : `${row.parent}/${row.logicalId}`
    log.info(
      `  ${row.action} ${id} (${row.type})${row.replacement ? ` replacement: ${row.replacement}` : ''}`
    )
  }
  return rows
}
