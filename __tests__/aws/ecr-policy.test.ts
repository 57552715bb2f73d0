/** ECR for cross-account pulls: the repository policy, the registry's replication, an image's status. */
import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DescribeImageReplicationStatusCommand,
  DescribeRegistryCommand,
  ECRClient,
  GetRepositoryPolicyCommand,
  SetRepositoryPolicyCommand
} from '@aws-sdk/client-ecr'
import { mockClient } from 'aws-sdk-client-mock'
import {
  getRepositoryPolicy,
  imageReplicationStatus,
  replicatedRegions,
  setRepositoryPolicy
} from '../../src/aws/ecr-policy.js'
import { ACCOUNT_ID, awsError } from '../../__fixtures__/aws.js'

const ecr = mockClient(ECRClient)
const client = new ECRClient({ region: 'eu-west-1' })

beforeEach(() => {
  ecr.reset()
})

describe('getRepositoryPolicy', () => {
  it('is undefined when the repository has no policy', async () => {
    ecr
      .on(GetRepositoryPolicyCommand)
      .rejects(awsError('RepositoryPolicyNotFoundException', 'none'))
    expect(await getRepositoryPolicy(client, 'svc')).toBeUndefined()
  })

  it('names the permission when it cannot read the policy', async () => {
    ecr.on(GetRepositoryPolicyCommand).rejects(awsError('AccessDeniedException', 'denied'))
    await expect(getRepositoryPolicy(client, 'svc')).rejects.toThrow(
      "Could not read the policy of ECR repository 'svc' (ecr:GetRepositoryPolicy): denied"
    )
  })
})

describe('setRepositoryPolicy', () => {
  it('says how to go on without the permission', async () => {
    ecr.on(SetRepositoryPolicyCommand).rejects(awsError('AccessDeniedException', 'denied'))
    await expect(setRepositoryPolicy(client, 'svc', '{}')).rejects.toThrow(
      "Could not set the policy of ECR repository 'svc' (ecr:SetRepositoryPolicy): denied. Give the role ecr:SetRepositoryPolicy, or add the statement yourself and set 'repository-policy: check'."
    )
  })
})

describe('replicatedRegions', () => {
  it('lists the same-account destinations of the rules whose filters match', async () => {
    ecr.on(DescribeRegistryCommand).resolves({
      replicationConfiguration: {
        rules: [
          {
            destinations: [
              { region: 'us-west-2', registryId: ACCOUNT_ID },
              { region: 'eu-central-1', registryId: '999999999999' }
            ],
            repositoryFilters: [{ filter: 'sv', filterType: 'PREFIX_MATCH' }]
          },
          {
            destinations: [{ region: 'ap-south-1', registryId: ACCOUNT_ID }],
            repositoryFilters: [{ filter: 'other', filterType: 'PREFIX_MATCH' }]
          }
        ]
      }
    })
    expect([...(await replicatedRegions(client, 'svc', ACCOUNT_ID))]).toEqual(['us-west-2'])
  })

  it('counts a registry it may not read as not replicating', async () => {
    ecr.on(DescribeRegistryCommand).rejects(awsError('AccessDeniedException', 'denied'))
    expect((await replicatedRegions(client, 'svc', ACCOUNT_ID)).size).toBe(0)
  })
})

describe('imageReplicationStatus', () => {
  it("reads the region's status", async () => {
    ecr.on(DescribeImageReplicationStatusCommand).resolves({
      replicationStatuses: [
        { region: 'us-west-2', registryId: ACCOUNT_ID, status: 'FAILED', failureCode: 'X' }
      ]
    })
    expect(await imageReplicationStatus(client, 'svc', 'sha256:00', 'us-west-2')).toEqual({
      status: 'FAILED',
      failureCode: 'X'
    })
    expect(await imageReplicationStatus(client, 'svc', 'sha256:00', 'eu-west-1')).toEqual({
      status: '',
      failureCode: ''
    })
  })
})
