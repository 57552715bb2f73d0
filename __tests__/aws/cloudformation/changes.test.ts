/**
 * A change set's changes as rows: nested stacks' changes after their parent's row, all pages,
 * to a bounded depth.
 */
import { describe, expect, it } from '@jest/globals'
import {
  DescribeChangeSetCommand,
  type DescribeChangeSetCommandOutput
} from '@aws-sdk/client-cloudformation'
import 'aws-sdk-client-mock-jest'
import { createChangeSet } from '../../../src/aws/cloudformation/change-sets.js'
import { awsError } from '../../../__fixtures__/aws.js'
import {
  CHANGE_SET_ID,
  changeSetArn,
  client,
  describeChangeSets,
  describeStacks,
  fakeClock,
  inputs,
  minimalRequest,
  MODIFY_FUNCTION,
  resourceChange,
  stack,
  useCloudFormationMock
} from '../../../__fixtures__/cloudformation.js'

const stdout = useCloudFormationMock()

describe('nested stacks', () => {
  const NETWORK_CS = changeSetArn('nested-network', 'hello-svc-Network')
  const SUBNETS_CS = changeSetArn('nested-subnets', 'hello-svc-Network-Subnets')

  it("lists each nested stack's changes after its row, with the parent's logical id, all pages, recursively", async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSets({
      [CHANGE_SET_ID]: [
        {
          Status: 'CREATE_COMPLETE',
          IncludeNestedStacks: true,
          Changes: [
            resourceChange('Modify', 'Network', 'AWS::CloudFormation::Stack', {
              ChangeSetId: NETWORK_CS
            }),
            MODIFY_FUNCTION
          ]
        }
      ],
      [NETWORK_CS]: [
        {
          Changes: [resourceChange('Add', 'Vpc|Endpoint', 'AWS::EC2::VPCEndpoint')],
          NextToken: 'p2'
        },
        {
          Changes: [
            resourceChange('Modify', 'Subnets', 'AWS::CloudFormation::Stack', {
              ChangeSetId: SUBNETS_CS
            })
          ]
        }
      ],
      [SUBNETS_CS]: [
        {
          Changes: [
            resourceChange('Remove', 'SubnetC', 'AWS::EC2::Subnet', { Replacement: 'True' })
          ]
        }
      ]
    })

    const result = await createChangeSet(
      client,
      minimalRequest({ includeNestedStacks: true }),
      fakeClock()
    )

    expect(
      result.changes.map(({ action, logicalId, parent }) => ({ action, logicalId, parent }))
    ).toEqual([
      { action: 'Modify', logicalId: 'Network', parent: undefined },
      { action: 'Add', logicalId: 'Vpc|Endpoint', parent: 'Network' },
      { action: 'Modify', logicalId: 'Subnets', parent: 'Network' },
      { action: 'Remove', logicalId: 'SubnetC', parent: 'Network/Subnets' },
      { action: 'Modify', logicalId: 'HelloFunction', parent: undefined }
    ])
    expect(result.changes[0]).not.toHaveProperty('parent')
    // Nested change sets are read by ARN alone, every page.
    expect(inputs(DescribeChangeSetCommand).slice(2)).toEqual([
      { ChangeSetName: NETWORK_CS, NextToken: undefined },
      { ChangeSetName: NETWORK_CS, NextToken: 'p2' },
      { ChangeSetName: SUBNETS_CS, NextToken: undefined }
    ])
    expect(stdout.lines()).toEqual(
      expect.arrayContaining([
        '  Add Network/Vpc|Endpoint (AWS::EC2::VPCEndpoint)',
        '  Remove Network/Subnets/SubnetC (AWS::EC2::Subnet) replacement: True'
      ])
    )
  })

  it('stops reading nested change sets five levels down', async () => {
    const levels = Array.from({ length: 7 }, (_, i) => changeSetArn(`level-${i + 1}`))
    const answers: Record<string, Array<Partial<DescribeChangeSetCommandOutput>>> = {
      [CHANGE_SET_ID]: [
        {
          Status: 'CREATE_COMPLETE',
          Changes: [
            resourceChange('Modify', 'L1', 'AWS::CloudFormation::Stack', {
              ChangeSetId: levels[0]
            })
          ]
        }
      ]
    }
    levels.forEach((arn, i) => {
      answers[arn] = [
        {
          Changes: [
            resourceChange('Modify', `L${i + 2}`, 'AWS::CloudFormation::Stack', {
              ChangeSetId: levels[i + 1] ?? 'none'
            })
          ]
        }
      ]
    })
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSets(answers)

    const result = await createChangeSet(client, minimalRequest(), fakeClock())

    expect(result.changes.map((row) => row.logicalId)).toEqual(['L1', 'L2', 'L3', 'L4', 'L5', 'L6'])
    expect(result.changes[5]?.parent).toBe('L1/L2/L3/L4/L5')
    expect(inputs(DescribeChangeSetCommand)).toHaveLength(2 + 5)
    expect(stdout.lines()).toContain(
      '  (changes of L1/L2/L3/L4/L5/L6 not listed: nested more than 5 deep)'
    )
  })

  it('warns and keeps going when a nested change set cannot be read', async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSets({
      [CHANGE_SET_ID]: [
        {
          Status: 'CREATE_COMPLETE',
          Changes: [
            resourceChange('Modify', 'Network', 'AWS::CloudFormation::Stack', {
              ChangeSetId: NETWORK_CS
            }),
            MODIFY_FUNCTION
          ]
        }
      ],
      [NETWORK_CS]: [awsError('AccessDenied', 'not authorized to perform DescribeChangeSet')]
    })

    const result = await createChangeSet(client, minimalRequest(), fakeClock())

    expect(result.changes.map((row) => row.logicalId)).toEqual(['Network', 'HelloFunction'])
    expect(stdout.lines()).toContain(
      '::warning::Could not read the changes of nested stack Network: not authorized to perform DescribeChangeSet'
    )
  })
})
