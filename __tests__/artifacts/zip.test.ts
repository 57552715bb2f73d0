/**
 * A zip package through run(): the package and the template uploaded side by side, the key and
 * version handed to the change set, no docker.
 */
import { describe, expect, it, jest } from '@jest/globals'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  ACCOUNT,
  BUCKET,
  BUILD_ID,
  cfn,
  CHANGE_SET_NAME,
  clients,
  ecr,
  failure,
  harness,
  installRunHarness,
  readOutputs,
  REGION,
  runAction,
  s3,
  setOnlyInputs,
  STACK,
  sts,
  summary,
  TEMPLATE_KEY,
  TEMPLATE_URL,
  useDocker
} from '../../__fixtures__/run-harness.js'
import { createChangeSetInputs, writeTemplate } from '../../__fixtures__/run-scenarios.js'

installRunHarness()

describe('zip mode', () => {
  /** The smallest valid zip: an empty archive (end of central directory record only). */
  const ZIP = Buffer.concat([Buffer.from([0x50, 0x4b, 0x05, 0x06]), Buffer.alloc(18)])
  const ZIP_KEY = `${STACK}/${BUILD_ID}/function.zip`
  const ZIP_TEMPLATE = `AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  CodeArtifactS3Key:
    Type: String
  CodeArtifactS3ObjectVersion:
    Type: String
Resources:
  HelloFunction:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      Role: arn:aws:iam::${ACCOUNT}:role/hello-lambda
      Code:
        S3Bucket: ${BUCKET}
        S3Key: !Ref CodeArtifactS3Key
        S3ObjectVersion: !Ref CodeArtifactS3ObjectVersion
`
  const ZIP_INPUTS = {
    'code-archive': 'dist/function.zip',
    bucket: BUCKET,
    'stack-name': STACK,
    template: 'template.yaml',
    region: REGION
  }

  function writeZipService(): void {
    mkdirSync(join(harness.workspace, 'dist'))
    writeFileSync(join(harness.workspace, 'dist/function.zip'), ZIP)
    writeTemplate(ZIP_TEMPLATE)
  }

  it('uploads the package and the template and hands the key and version to the change set, without docker', async () => {
    writeZipService()
    setOnlyInputs(ZIP_INPUTS)
    s3.on(PutObjectCommand, { Key: ZIP_KEY }).resolves({ VersionId: 'zip-v7' })
    const fake = useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(process.exitCode).toBeUndefined()
    expect(fake.calls()).toEqual([])
    const puts = s3
      .commandCalls(PutObjectCommand)
      .map((c) => c.args[0].input)
      .sort((a, b) => String(a.Key).localeCompare(String(b.Key)))
    expect(
      puts.map(({ Body, ...rest }) => ({ ...rest, Body: Buffer.from(Body as Uint8Array) }))
    ).toEqual([
      { Bucket: BUCKET, Key: ZIP_KEY, ContentType: 'application/zip', Body: ZIP },
      {
        Bucket: BUCKET,
        Key: TEMPLATE_KEY,
        ContentType: 'application/yaml',
        Body: Buffer.from(ZIP_TEMPLATE)
      }
    ])
    expect(createChangeSetInputs()).toEqual([
      {
        StackName: STACK,
        ChangeSetName: CHANGE_SET_NAME,
        ChangeSetType: 'CREATE',
        TemplateURL: TEMPLATE_URL,
        Parameters: [
          { ParameterKey: 'CodeArtifactS3Key', ParameterValue: ZIP_KEY },
          { ParameterKey: 'CodeArtifactS3ObjectVersion', ParameterValue: 'zip-v7' }
        ],
        Tags: [{ Key: 'io:sparta:buildId', Value: BUILD_ID }],
        Description: `oci-stack-deploy build ${BUILD_ID}`,
        ClientToken: expect.stringMatching(/^oci-create-change-set-/)
      }
    ])
    expect(ecr.calls()).toHaveLength(0)
    expect(readOutputs()).toMatchObject({
      'archive-key': ZIP_KEY,
      'archive-version': 'zip-v7',
      'image-uri': '',
      'image-digest': '',
      'template-url': TEMPLATE_URL,
      'stack-status': 'CREATE_COMPLETE'
    })
    expect(harness.stdout.lines()).toContain(`Uploaded s3://${BUCKET}/${ZIP_KEY} (version zip-v7)`)
    expect(summary()).toContain(`<tr><td>Package</td><td><code>${ZIP_KEY}</code></td></tr>`)
  })

  it('refuses dockerfile together with code-archive before any docker or AWS call', async () => {
    writeZipService()
    setOnlyInputs({ ...ZIP_INPUTS, dockerfile: 'service/Dockerfile' })
    const fake = useDocker()
    const factory = jest.fn(() => clients)
    await runAction({ clients: factory })

    expect(failure()).toBe(
      "Inputs 'dockerfile' and 'code-archive' are both set: an image is built from a Dockerfile, a zip package is uploaded as it is; give only one of them (Sparta likewise refuses ZIP archive hooks with a dockerFile)."
    )
    expect(process.exitCode).toBe(1)
    expect(fake.calls()).toEqual([])
    expect(factory).not.toHaveBeenCalled()
    for (const mock of [sts, ecr, s3, cfn]) expect(mock.calls()).toHaveLength(0)
  })
})
