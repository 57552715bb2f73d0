import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  BatchDeleteImageCommand,
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand
} from '@aws-sdk/client-ecr'
import { mockClient } from 'aws-sdk-client-mock'
import 'aws-sdk-client-mock-jest'
import {
  createRepository,
  deleteImage,
  getRegistryLogin,
  repositoryExists
} from '../../src/aws/ecr.js'
import { ACCOUNT_ID, awsError, captureStdout } from '../../__fixtures__/aws.js'

const ecr = mockClient(ECRClient)
const client = new ECRClient({ region: 'eu-west-1' })
const REGISTRY = `${ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com`

let stdout: ReturnType<typeof captureStdout>
beforeEach(() => {
  ecr.reset()
  stdout = captureStdout()
})
afterEach(() => stdout.restore())

describe('repositoryExists', () => {
  it('is true when DescribeRepositories finds the repository', async () => {
    ecr
      .on(DescribeRepositoriesCommand)
      .resolves({ repositories: [{ repositoryName: 'spartaoci' }] })
    await expect(repositoryExists(client, 'spartaoci')).resolves.toBe(true)
    expect(ecr).toHaveReceivedCommandWith(DescribeRepositoriesCommand, {
      repositoryNames: ['spartaoci']
    })
  })

  it('is false on RepositoryNotFoundException', async () => {
    ecr
      .on(DescribeRepositoriesCommand)
      .rejects(
        awsError(
          'RepositoryNotFoundException',
          "The repository with name 'spartaoci' does not exist"
        )
      )
    await expect(repositoryExists(client, 'spartaoci')).resolves.toBe(false)
  })

  it('fails with the call named on any other error', async () => {
    ecr.on(DescribeRepositoriesCommand).rejects(awsError('AccessDeniedException', 'not authorized'))
    await expect(repositoryExists(client, 'spartaoci')).rejects.toThrow(
      "Could not look up ECR repository 'spartaoci' (ecr:DescribeRepositories): not authorized"
    )
  })
})

describe('createRepository', () => {
  it('creates the repository with scan on push', async () => {
    ecr.on(CreateRepositoryCommand).resolves({})
    await createRepository(client, 'team/spartaoci')
    expect(ecr).toHaveReceivedCommandWith(CreateRepositoryCommand, {
      repositoryName: 'team/spartaoci',
      imageScanningConfiguration: { scanOnPush: true }
    })
  })

  it('tolerates a repository created meanwhile (RepositoryAlreadyExistsException)', async () => {
    ecr.on(CreateRepositoryCommand).rejects(awsError('RepositoryAlreadyExistsException', 'exists'))
    await expect(createRepository(client, 'spartaoci')).resolves.toBeUndefined()
  })

  it('fails with the call named on any other error', async () => {
    ecr
      .on(CreateRepositoryCommand)
      .rejects(awsError('LimitExceededException', 'too many repositories'))
    await expect(createRepository(client, 'spartaoci')).rejects.toThrow(
      "Could not create ECR repository 'spartaoci' (ecr:CreateRepository): too many repositories"
    )
  })
})

describe('getRegistryLogin', () => {
  const token = Buffer.from('AWS:s3cr3t:with:colons').toString('base64')

  it('decodes AWS:password and takes the registry host from proxyEndpoint', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [{ authorizationToken: token, proxyEndpoint: `https://${REGISTRY}` }]
    })
    await expect(getRegistryLogin(client)).resolves.toEqual({
      registry: REGISTRY,
      username: 'AWS',
      password: 's3cr3t:with:colons'
    })
  })

  it('masks the token and the password before returning them', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [{ authorizationToken: token, proxyEndpoint: `https://${REGISTRY}/` }]
    })
    await getRegistryLogin(client)
    expect(stdout.lines()).toEqual([`::add-mask::${token}`, '::add-mask::s3cr3t:with:colons'])
  })

  it('rejects a token that is not user:password', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        { authorizationToken: Buffer.from('nocolon').toString('base64'), proxyEndpoint: REGISTRY }
      ]
    })
    await expect(getRegistryLogin(client)).rejects.toThrow(
      'The ECR authorization token is not in user:password form.'
    )
  })

  it('fails when ECR returns no authorization data', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [] })
    await expect(getRegistryLogin(client)).rejects.toThrow(
      'ECR returned no authorization data (ecr:GetAuthorizationToken).'
    )
  })

  it("asks for another account's registry by its id (a cross-account source)", async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: token,
          proxyEndpoint: 'https://111122223333.dkr.ecr.eu-west-1.amazonaws.com'
        }
      ]
    })
    await expect(getRegistryLogin(client, '111122223333')).resolves.toMatchObject({
      registry: '111122223333.dkr.ecr.eu-west-1.amazonaws.com'
    })
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)[0]?.args[0].input).toEqual({
      registryIds: ['111122223333']
    })
    ecr
      .on(GetAuthorizationTokenCommand)
      .rejects(awsError('AccessDeniedException', 'not authorized'))
    await expect(getRegistryLogin(client, '111122223333')).rejects.toThrow(
      'Could not get an ECR login token for registry 111122223333 (ecr:GetAuthorizationToken): not authorized'
    )
  })

  it('names the call when GetAuthorizationToken fails', async () => {
    ecr
      .on(GetAuthorizationTokenCommand)
      .rejects(awsError('AccessDeniedException', 'not authorized'))
    await expect(getRegistryLogin(client)).rejects.toThrow(
      'Could not get an ECR login token (ecr:GetAuthorizationToken): not authorized'
    )
  })
})

describe('deleteImage', () => {
  it('is deleted when ECR reports no failure', async () => {
    ecr.on(BatchDeleteImageCommand).resolves({ imageIds: [{ imageTag: 'b1' }], failures: [] })
    await expect(deleteImage(client, 'svc', { tag: 'b1' }, ACCOUNT_ID)).resolves.toBe('deleted')
    expect(ecr).toHaveReceivedCommandWith(BatchDeleteImageCommand, {
      repositoryName: 'svc',
      imageIds: [{ imageTag: 'b1' }],
      registryId: ACCOUNT_ID
    })
  })

  it('is not-found when the image is gone already, without a warning', async () => {
    ecr.on(BatchDeleteImageCommand).resolves({
      failures: [{ imageId: { imageDigest: 'sha256:ab' }, failureCode: 'ImageNotFound' }]
    })
    await expect(deleteImage(client, 'svc', { digest: 'sha256:ab' })).resolves.toBe('not-found')
    expect(stdout.lines().filter((l) => l.startsWith('::warning::'))).toEqual([])
  })

  it.each<[string, () => void]>([
    [
      'ECR lists a failure',
      () =>
        ecr.on(BatchDeleteImageCommand).resolves({
          failures: [{ failureCode: 'KmsError', failureReason: 'key disabled' }]
        })
    ],
    [
      'the call is refused',
      () => ecr.on(BatchDeleteImageCommand).rejects(awsError('AccessDeniedException', 'denied'))
    ]
  ])('is failed, with a warning, when %s', async (_when, mock) => {
    mock()
    await expect(deleteImage(client, 'svc', { tag: 'b1' })).resolves.toBe('failed')
    expect(stdout.lines().filter((l) => l.startsWith('::warning::'))).toEqual([
      expect.stringMatching(
        /^::warning::Could not delete image svc \{"imageTag":"b1"\}: (key disabled|denied)$/
      )
    ])
  })
})
