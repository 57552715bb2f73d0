import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetLifecyclePolicyCommand,
  PutLifecyclePolicyCommand
} from '@aws-sdk/client-ecr'
import { mockClient } from 'aws-sdk-client-mock'
import 'aws-sdk-client-mock-jest'
import { putLifecyclePolicy, readRepositoryLifecycle } from '../../src/aws/ecr-lifecycle.js'
import { awsError, captureStdout } from '../../__fixtures__/aws.js'

const ecr = mockClient(ECRClient)
const client = new ECRClient({ region: 'eu-west-1' })
const POLICY = '{"rules":[]}'

let stdout: ReturnType<typeof captureStdout>
beforeEach(() => {
  ecr.reset()
  stdout = captureStdout()
  ecr.on(DescribeRepositoriesCommand).resolves({
    repositories: [
      {
        repositoryName: 'svc',
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'svc--*' }]
      }
    ]
  })
})
afterEach(() => stdout.restore())

describe('readRepositoryLifecycle', () => {
  it('reads the policy, the tag mutability and every page of images, archived ones too', async () => {
    ecr.on(GetLifecyclePolicyCommand).resolves({ lifecyclePolicyText: POLICY })
    ecr
      .on(DescribeImagesCommand, { nextToken: undefined })
      .resolves({
        imageDetails: [
          { imageDigest: 'sha256:a', imageTags: ['v1'], imagePushedAt: new Date(1000) }
        ],
        nextToken: 'page-2'
      })
      .on(DescribeImagesCommand, { nextToken: 'page-2' })
      .resolves({
        imageDetails: [
          {
            imageDigest: 'sha256:b',
            imagePushedAt: new Date(2000),
            lastRecordedPullTime: new Date(3000),
            imageStatus: 'ARCHIVED',
            lastArchivedAt: new Date(4000)
          }
        ]
      })
    await expect(readRepositoryLifecycle(client, 'svc', true)).resolves.toEqual({
      policyText: POLICY,
      tagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      exclusionFilters: ['svc--*'],
      images: [
        { digest: 'sha256:a', tags: ['v1'], pushedAt: 1000 },
        {
          digest: 'sha256:b',
          tags: [],
          pushedAt: 2000,
          lastPulledAt: 3000,
          archivedAt: 4000,
          storageClass: 'archive'
        }
      ]
    })
    expect(ecr).toHaveReceivedCommandWith(DescribeImagesCommand, {
      repositoryName: 'svc',
      filter: { imageStatus: 'ANY' }
    })
  })

  it('takes LifecyclePolicyNotFoundException as no policy', async () => {
    ecr.on(GetLifecyclePolicyCommand).rejects(awsError('LifecyclePolicyNotFoundException', 'none'))
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [] })
    const read = await readRepositoryLifecycle(client, 'svc', true)
    expect(read.policyText).toBeUndefined()
  })

  it('names the call and the permission when a read is refused', async () => {
    ecr.on(GetLifecyclePolicyCommand).rejects(awsError('AccessDeniedException', 'no'))
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [] })
    await expect(readRepositoryLifecycle(client, 'svc', true)).rejects.toThrow(
      "Could not read the GetLifecyclePolicy of ECR repository 'svc' (ecr:GetLifecyclePolicy): no"
    )
  })
})

describe('putLifecyclePolicy', () => {
  it('puts the text as given', async () => {
    ecr.on(PutLifecyclePolicyCommand).resolves({})
    await putLifecyclePolicy(client, 'svc', POLICY)
    expect(ecr).toHaveReceivedCommandWith(PutLifecyclePolicyCommand, {
      repositoryName: 'svc',
      lifecyclePolicyText: POLICY
    })
  })

  it('names the permission when refused', async () => {
    ecr.on(PutLifecyclePolicyCommand).rejects(awsError('AccessDeniedException', 'no'))
    await expect(putLifecyclePolicy(client, 'svc', POLICY)).rejects.toThrow(
      'ecr:PutLifecyclePolicy'
    )
  })
})
