/**
 * The StackSets path through run(): the stack set created (or updated) and the missing instances
 * added as waited-for operations, the repository policy for the target accounts, the outputs and
 * the instance table; a second run that changes nothing; a failed operation; noop; delete.
 */
import { describe, expect, it } from '@jest/globals'
import {
  CreateStackInstancesCommand,
  CreateStackSetCommand,
  DeleteStackInstancesCommand,
  DeleteStackSetCommand,
  DescribeStackSetCommand,
  DescribeStackSetOperationCommand,
  ListStackInstancesCommand,
  ListStackSetOperationResultsCommand,
  ListStackSetOperationsCommand,
  UpdateStackSetCommand,
  type StackInstanceSummary
} from '@aws-sdk/client-cloudformation'
import {
  DescribeImageReplicationStatusCommand,
  DescribeRegistryCommand,
  GetRepositoryPolicyCommand,
  SetRepositoryPolicyCommand
} from '@aws-sdk/client-ecr'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { awsError } from '../../__fixtures__/aws.js'
import {
  ACCOUNT,
  cfn,
  commands,
  ecr,
  failure,
  harness,
  installRunHarness,
  readOutputs,
  REGION,
  runAction,
  s3,
  setInputs,
  setOnlyInputs,
  summary,
  useDocker
} from '../../__fixtures__/run-harness.js'
import { writeTemplate } from '../../__fixtures__/run-scenarios.js'
import { STACK_SET_TEMPLATE } from '../../__fixtures__/stack-sets.js'

installRunHarness()

const OTHER = '210987654321'
const SET = 'hello-org'
const SET_ID = `${SET}:11111111-2222-3333-4444-555555555555`

/** Inputs of a self-managed stack set over the harness's account and one more. */
function setStackSetInputs(overrides: Record<string, string> = {}): void {
  setInputs({
    'stack-name': '',
    'stack-set-name': SET,
    accounts: `${ACCOUNT},${OTHER}`,
    'parameter-overrides': '',
    'failure-tolerance': '1',
    'max-concurrent': '2',
    ...overrides
  })
  writeTemplate(STACK_SET_TEMPLATE)
}

function instance(account: string): StackInstanceSummary {
  return {
    Account: account,
    Region: REGION,
    StackSetId: SET_ID,
    StackId: `arn:aws:cloudformation:${REGION}:${account}:stack/StackSet-${SET}-x/1`,
    Status: 'CURRENT',
    StackInstanceStatus: { DetailedStatus: 'SUCCEEDED' as const }
  }
}

/** A new stack set: created, then one CreateStackInstances operation that RUNs and SUCCEEDs. */
function mockNewStackSet(final = 'SUCCEEDED'): void {
  cfn
    .on(DescribeStackSetCommand)
    .rejects(awsError('StackSetNotFoundException', `StackSet ${SET} not found`))
  cfn.on(CreateStackSetCommand).resolves({ StackSetId: SET_ID })
  cfn.on(CreateStackInstancesCommand).callsFake((input: { OperationId: string }) => ({
    OperationId: input.OperationId
  }))
  cfn
    .on(DescribeStackSetOperationCommand)
    .resolvesOnce({ StackSetOperation: { Status: 'QUEUED', Action: 'CREATE' } })
    .resolvesOnce({ StackSetOperation: { Status: 'RUNNING', Action: 'CREATE' } })
    .resolves({ StackSetOperation: { Status: final as 'SUCCEEDED', Action: 'CREATE' } })
  cfn.on(ListStackSetOperationResultsCommand).resolves({
    Summaries: [
      { Account: ACCOUNT, Region: REGION, Status: 'SUCCEEDED' },
      {
        Account: OTHER,
        Region: REGION,
        Status: final === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED',
        ...(final === 'SUCCEEDED'
          ? {}
          : { StatusReason: 'Resource handler returned message: boom' })
      }
    ]
  })
  cfn.on(ListStackInstancesCommand).resolves({ Summaries: [instance(ACCOUNT), instance(OTHER)] })
  ecr
    .on(GetRepositoryPolicyCommand)
    .rejects(awsError('RepositoryPolicyNotFoundException', 'no policy'))
  ecr.on(SetRepositoryPolicyCommand).resolves({})
  ecr.on(DescribeRegistryCommand).resolves({ replicationConfiguration: { rules: [] } })
}

describe('stack set deploy', () => {
  it('creates the stack set, adds both accounts as one operation and reports each instance', async () => {
    useDocker()
    setStackSetInputs()
    mockNewStackSet()
    await runAction()

    expect(failure()).toBeUndefined()
    const created = cfn.commandCalls(CreateStackSetCommand)[0]?.args[0].input
    expect(created).toMatchObject({
      StackSetName: SET,
      PermissionModel: 'SELF_MANAGED',
      Capabilities: ['CAPABILITY_IAM'],
      ManagedExecution: { Active: false }
    })
    const parameters = Object.fromEntries(
      (created?.Parameters ?? []).map((p): [string, string] => [
        p.ParameterKey ?? '',
        p.ParameterValue ?? ''
      ])
    )
    expect(parameters).toEqual({
      ImageRegistryAccount: ACCOUNT,
      ImageRepository: 'hello-service',
      ImageDigest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/) as unknown
    })
    const add = cfn.commandCalls(CreateStackInstancesCommand)[0]?.args[0].input
    expect(add).toEqual({
      StackSetName: SET,
      Accounts: [ACCOUNT, OTHER],
      Regions: [REGION],
      OperationPreferences: { FailureToleranceCount: 1, MaxConcurrentCount: 2 },
      OperationId: expect.stringMatching(/^oci-create-instances-[a-f0-9]{32}$/)
    })
    const policy = JSON.parse(
      ecr.commandCalls(SetRepositoryPolicyCommand)[0]?.args[0].input.policyText ?? '{}'
    ) as { Statement: Array<{ Sid: string; Principal: unknown }> }
    expect(policy.Statement.map((s) => s.Sid)).toEqual([
      'OciStackDeployCrossAccountPull',
      'OciStackDeployLambdaCrossAccountPull'
    ])
    expect(policy.Statement[0]?.Principal).toEqual({ AWS: [`arn:aws:iam::${OTHER}:root`] })
    const outputs = readOutputs()
    expect(outputs['stack-set-id']).toBe(SET_ID)
    expect(outputs['operation-id']).toBe(add?.OperationId)
    expect(JSON.parse(outputs['instances'] ?? '[]')).toEqual([
      expect.objectContaining({ account: ACCOUNT, region: REGION, status: 'SUCCEEDED' }),
      expect.objectContaining({ account: OTHER, region: REGION, status: 'SUCCEEDED' })
    ])
    expect(summary()).toContain(`Stack set ${SET}: 2 instances, all succeeded`)
    expect(summary()).toContain(`<td>${OTHER}</td>`)
    expect(harness.stdout.lines()).toContain(
      `Stack set ${SET}: operation ${add?.OperationId} RUNNING`
    )
  })

  it('changes nothing when the stack set already runs this template and digest', async () => {
    useDocker()
    setStackSetInputs()
    mockNewStackSet()
    await runAction()
    const sent = cfn.commandCalls(CreateStackSetCommand)[0]?.args[0].input
    cfn.reset()
    cfn.on(DescribeStackSetCommand).resolves({
      StackSet: {
        StackSetName: SET,
        StackSetId: SET_ID,
        Status: 'ACTIVE',
        PermissionModel: 'SELF_MANAGED',
        TemplateBody: STACK_SET_TEMPLATE,
        Parameters: sent?.Parameters ?? []
      }
    })
    cfn.on(ListStackInstancesCommand).resolves({ Summaries: [instance(ACCOUNT), instance(OTHER)] })
    await runAction()

    expect(failure()).toBeUndefined()
    expect(cfn.commandCalls(UpdateStackSetCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateStackInstancesCommand)).toHaveLength(0)
    expect(harness.stdout.lines().join('\n')).toContain(`Stack set ${SET} is up to date`)
    expect(readOutputs()['operation-id']).toBe('')
  })

  it('waits for an operation already running, then starts its own', async () => {
    useDocker()
    setStackSetInputs()
    mockNewStackSet()
    cfn
      .on(CreateStackInstancesCommand)
      .rejectsOnce(awsError('OperationInProgressException', 'Another Operation is in progress'))
      .callsFake((input: { OperationId: string }) => ({ OperationId: input.OperationId }))
    cfn
      .on(ListStackSetOperationsCommand)
      .resolves({ Summaries: [{ OperationId: 'someone-else', Status: 'RUNNING' }] })
    await runAction()

    expect(failure()).toBeUndefined()
    const ids = cfn
      .commandCalls(CreateStackInstancesCommand)
      .map((c) => c.args[0].input.OperationId)
    expect(ids).toHaveLength(2)
    expect(ids[0]).toBe(ids[1])
    expect(harness.stdout.lines()).toContain(
      `Stack set ${SET}: operation someone-else is in progress; waiting for it before starting ours.`
    )
  })

  it('fails the step naming the instance when the operation failed', async () => {
    useDocker()
    setStackSetInputs()
    mockNewStackSet('FAILED')
    await runAction()

    expect(failure()).toContain(`Stack set ${SET}: operation oci-create-instances-`)
    expect(failure()).toContain(
      `${OTHER} ${REGION}: FAILED (Resource handler returned message: boom)`
    )
    expect(summary()).toContain('1 failed')
    expect(summary()).toContain('Resource handler returned message: boom')
  })

  it("refuses with the statement to add when 'repository-policy' is check, before any write", async () => {
    useDocker()
    setStackSetInputs({ 'repository-policy': 'check' })
    mockNewStackSet()
    await runAction()

    expect(failure()).toContain(
      `Input 'repository-policy' is 'check', and the target accounts' Lambda may not pull the image: ${REGION}.`
    )
    expect(failure()).toContain(
      `"aws:sourceARN": [\n          "arn:aws:lambda:${REGION}:${OTHER}:function:*"`
    )
    expect(commands()).not.toContain('push')
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateStackSetCommand)).toHaveLength(0)
  })

  it('waits for ECR replication instead of copying to a region the registry replicates to', async () => {
    useDocker()
    setStackSetInputs({ regions: `${REGION},us-west-2`, region: '' })
    mockNewStackSet()
    ecr.on(DescribeRegistryCommand).resolves({
      replicationConfiguration: {
        rules: [{ destinations: [{ region: 'us-west-2', registryId: ACCOUNT }] }]
      }
    })
    ecr
      .on(DescribeImageReplicationStatusCommand)
      .resolvesOnce({ replicationStatuses: [{ region: 'us-west-2', status: 'IN_PROGRESS' }] })
      .resolves({ replicationStatuses: [{ region: 'us-west-2', status: 'COMPLETE' }] })
    await runAction()

    expect(failure()).toBeUndefined()
    expect(ecr.commandCalls(DescribeImageReplicationStatusCommand)).toHaveLength(2)
    expect(harness.stdout.lines()).toContain(
      'ECR replicates hello-service to us-west-2: waiting for the replication, no copy.'
    )
    expect(cfn.commandCalls(CreateStackInstancesCommand)[0]?.args[0].input.Regions).toEqual([
      REGION,
      'us-west-2'
    ])
  })

  it('noop says what it would do and writes nothing', async () => {
    useDocker()
    setStackSetInputs({ mode: 'noop' })
    mockNewStackSet()
    await runAction()

    expect(failure()).toBeUndefined()
    const lines = harness.stdout.lines()
    expect(lines).toContain(`noop: would create stack set ${SET}.`)
    expect(lines).toContain(`noop: would add instances for ${ACCOUNT}, ${OTHER} in ${REGION}.`)
    expect(cfn.commandCalls(CreateStackSetCommand)).toHaveLength(0)
    expect(ecr.commandCalls(SetRepositoryPolicyCommand)).toHaveLength(0)
  })
})

describe('stack set delete', () => {
  it('removes every instance, then the stack set', async () => {
    setOnlyInputs({
      mode: 'delete',
      'stack-set-name': SET,
      accounts: `${ACCOUNT},${OTHER}`,
      region: REGION
    })
    cfn.on(DescribeStackSetCommand).resolves({
      StackSet: {
        StackSetName: SET,
        StackSetId: SET_ID,
        Status: 'ACTIVE',
        PermissionModel: 'SELF_MANAGED'
      }
    })
    cfn
      .on(ListStackInstancesCommand)
      .resolvesOnce({ Summaries: [instance(ACCOUNT), instance(OTHER)] })
      .resolves({ Summaries: [] })
    cfn.on(DeleteStackInstancesCommand).resolves({ OperationId: 'x' })
    cfn
      .on(DescribeStackSetOperationCommand)
      .resolves({ StackSetOperation: { Status: 'SUCCEEDED', Action: 'DELETE' } })
    cfn.on(ListStackSetOperationResultsCommand).resolves({ Summaries: [] })
    cfn.on(DeleteStackSetCommand).resolves({})
    await runAction()

    expect(failure()).toBeUndefined()
    expect(cfn.commandCalls(DeleteStackInstancesCommand)[0]?.args[0].input).toMatchObject({
      StackSetName: SET,
      Accounts: [ACCOUNT, OTHER],
      Regions: [REGION],
      RetainStacks: false
    })
    expect(cfn.commandCalls(DeleteStackSetCommand)).toHaveLength(1)
    expect(summary()).toContain(`Deleted stack set ${SET}`)
  })
})
