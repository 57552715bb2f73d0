/**
 * AWS per region for the release tests (an image given as input, several regions): one set of
 * aws-sdk-client-mock clients per region, answering as the run harness's `mockAws` does for a
 * first deploy, with that region's ids, bucket and registry (a loopback registry server, whose
 * address is the `proxyEndpoint` of the region's ECR token).
 */
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand
} from '@aws-sdk/client-cloudformation'
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  GetLifecyclePolicyCommand,
  ECRClient,
  GetAuthorizationTokenCommand
} from '@aws-sdk/client-ecr'
import {
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  PutObjectCommand,
  S3Client
} from '@aws-sdk/client-s3'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { mockClient } from 'aws-sdk-client-mock'
import type { AwsClients } from '../src/aws/clients.js'
import { awsError } from './aws.js'
import type { RegistryServer } from './registry-server.js'
import { ACCOUNT, FUNCTION_CHANGE, STACK } from './run-harness.js'

/** One region's clients and their mocks. */
export interface RegionMocks {
  region: string
  clients: AwsClients
  sts: ReturnType<typeof mockClient>
  ecr: ReturnType<typeof mockClient>
  s3: ReturnType<typeof mockClient>
  cfn: ReturnType<typeof mockClient>
  stackId: string
  changeSetId: string
}

/** The stack id CloudFormation gives the stack in a region. */
export function stackIdIn(region: string, account = ACCOUNT): string {
  return `arn:aws:cloudformation:${region}:${account}:stack/${STACK}/5a6b7c8d-${region}`
}

/**
 * Clients for `region` answering a first deploy there: the account, the bucket in that region,
 * the repository there, a token for `registry` (its password; `proxyEndpoint` its address), a
 * new stack created through a change set.
 */
export function regionMocks(
  region: string,
  registry: RegistryServer,
  account = ACCOUNT
): RegionMocks {
  const clients: AwsClients = {
    sts: new STSClient({ region }),
    ecr: new ECRClient({ region }),
    s3: new S3Client({ region }),
    cloudformation: new CloudFormationClient({ region })
  }
  const stackId = stackIdIn(region, account)
  const changeSetId = `arn:aws:cloudformation:${region}:${account}:changeSet/${STACK}-cs/${region}`
  const mocks: RegionMocks = {
    region,
    clients,
    sts: mockClient(clients.sts),
    ecr: mockClient(clients.ecr),
    s3: mockClient(clients.s3),
    cfn: mockClient(clients.cloudformation),
    stackId,
    changeSetId
  }
  mocks.sts.on(GetCallerIdentityCommand).resolves({ Account: account })
  mocks.ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryName: 'x' }] })
  mocks.ecr
    .on(GetLifecyclePolicyCommand)
    .rejects(awsError('LifecyclePolicyNotFoundException', 'no lifecycle policy'))
  mocks.ecr.on(DescribeImagesCommand).resolves({ imageDetails: [] })
  mocks.ecr.on(CreateRepositoryCommand).resolves({})
  const token = Buffer.from(`AWS:${registry.login.password}`).toString('base64')
  mocks.ecr.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [{ authorizationToken: token, proxyEndpoint: `http://${registry.host}` }]
  })
  mocks.s3.on(GetBucketLocationCommand).resolves({ LocationConstraint: region as never })
  mocks.s3.on(GetBucketVersioningCommand).resolves({ Status: 'Enabled' })
  mocks.s3.on(PutObjectCommand).resolves({ VersionId: `v-${region}` })
  mockNewStack(mocks)
  return mocks
}

/** CloudFormation in the region: no stack yet; the change set creates it, CREATE_COMPLETE. */
export function mockNewStack(mocks: RegionMocks, outcome = 'CREATE_COMPLETE'): void {
  const { cfn, stackId, changeSetId, region } = mocks
  const stack = (status: string) => ({
    StackName: STACK,
    StackId: stackId,
    StackStatus: status as never,
    CreationTime: new Date('2024-05-01T10:00:00Z'),
    Outputs: status === 'CREATE_COMPLETE' ? [{ OutputKey: 'Region', OutputValue: region }] : []
  })
  cfn
    .on(DescribeStacksCommand, { StackName: STACK })
    .rejects(awsError('ValidationError', `Stack with id ${STACK} does not exist`))
  cfn.on(DescribeStacksCommand, { StackName: stackId }).resolves({ Stacks: [stack(outcome)] })
  cfn.on(CreateChangeSetCommand).resolves({ Id: changeSetId, StackId: stackId })
  cfn.on(DescribeChangeSetCommand).resolves({
    ChangeSetId: changeSetId,
    StackId: stackId,
    Status: 'CREATE_COMPLETE',
    ExecutionStatus: 'AVAILABLE',
    Changes: [FUNCTION_CHANGE]
  })
  cfn.on(DescribeStackEventsCommand).resolves({
    StackEvents: [
      {
        EventId: `e-${region}`,
        StackId: stackId,
        StackName: STACK,
        LogicalResourceId: 'HelloFunction',
        ResourceType: 'AWS::Lambda::Function',
        ResourceStatus: outcome === 'CREATE_COMPLETE' ? 'CREATE_COMPLETE' : 'CREATE_FAILED',
        ...(outcome === 'CREATE_COMPLETE' ? {} : { ResourceStatusReason: 'Boom in ' + region }),
        Timestamp: new Date('2024-05-01T12:01:02Z')
      }
    ]
  })
  cfn.on(ExecuteChangeSetCommand).resolves({})
}

/** Names of the write commands sent to the region's clients. */
export function writesIn(mocks: RegionMocks): string[] {
  const writes = [
    'CreateChangeSetCommand',
    'ExecuteChangeSetCommand',
    'PutObjectCommand',
    'CreateRepositoryCommand',
    'DeleteStackCommand',
    'DeleteChangeSetCommand'
  ]
  return [mocks.sts, mocks.ecr, mocks.s3, mocks.cfn]
    .flatMap((mock) => mock.calls().map((call) => (call.args[0] as object).constructor.name))
    .filter((name) => writes.includes(name))
}
