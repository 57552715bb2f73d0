/**
 * template-inputs.ts: the bucket, the template file, the parameters the action fills (image or
 * zip package), parameter-overrides and capabilities, as parseInputs reads them.
 */
import { describe, expect, it } from '@jest/globals'
import { join } from 'node:path'
import { inputsParser, useWorkspace, useZipPackage, ZIP_INPUTS } from '../../__fixtures__/inputs.js'
import { checkBucketName } from '../../src/inputs/template.js'

const ws = useWorkspace()

const { parse, failure } = inputsParser(ws)

const TEMPLATE_WITHOUT_IMAGE_PARAMETER = `Parameters:
  Image:
    Type: String
Resources:
  Queue:
    Type: AWS::SQS::Queue
`

describe('bucket', () => {
  it.each([
    'My-Bucket',
    'my..bucket',
    '192.168.1.1',
    'ab',
    'a'.repeat(64),
    '-bucket',
    'bucket-',
    'my_bucket',
    'xn--bucket',
    'bucket-s3alias'
  ])('refuses the bucket name %j', (bucket) => {
    expect(failure({ bucket })).toBe(
      `Input 'bucket' ('${bucket}') is not a valid S3 bucket name: 3-63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit.`
    )
  })

  it.each(['abc', 'my.artifacts-2024', 'a'.repeat(63), '1bucket'])(
    'accepts the bucket name %j',
    (bucket) => {
      expect(() => checkBucketName(bucket)).not.toThrow()
    }
  )
})

describe('template', () => {
  it('refuses a template that does not exist', () => {
    expect(failure({ template: 'missing.yaml' })).toBe(
      `Input 'template': missing.yaml does not exist (resolved to ${join(ws.root, 'missing.yaml')}); give a path relative to the repository root.`
    )
  })

  it('passes on the template parser error', () => {
    ws.write('service/bad.yaml', 'Resources: {}\n')
    expect(failure({ template: 'service/bad.yaml' })).toBe(
      `Input 'template': ${join(ws.root, 'service/bad.yaml')} has no 'Resources' section; a CloudFormation template needs at least one resource.`
    )
  })
})

describe('capabilities', () => {
  it('detects capabilities from the template when none are given', () => {
    ws.write(
      'service/named.yaml',
      'Transform: AWS::Serverless-2016-10-31\nParameters:\n  CodeImageURI: {Type: String}\nResources:\n  R:\n    Type: AWS::IAM::Role\n    Properties: {RoleName: app}\n'
    )
    expect(parse({ template: 'service/named.yaml' }).capabilities).toEqual([
      'CAPABILITY_IAM',
      'CAPABILITY_NAMED_IAM',
      'CAPABILITY_AUTO_EXPAND'
    ])
  })

  it('says why it acknowledged every capability, and gives no reason when the input decides', () => {
    ws.write(
      'service/macro.yaml',
      'Transform: Count\nParameters:\n  CodeImageURI: {Type: String}\nResources:\n  Q: {Type: AWS::SQS::Queue}\n'
    )
    const detected = parse({ template: 'service/macro.yaml' })
    expect(detected.capabilities).toEqual([
      'CAPABILITY_IAM',
      'CAPABILITY_NAMED_IAM',
      'CAPABILITY_AUTO_EXPAND'
    ])
    expect(detected.capabilityReasons).toEqual([
      'Macro Count: CloudFormation checks capabilities on the template the macro writes, which the action cannot see, so every capability is acknowledged.'
    ])
    const given = parse({ template: 'service/macro.yaml', capabilities: 'CAPABILITY_AUTO_EXPAND' })
    expect(given.capabilityReasons).toEqual([])
  })

  it('expands Fn::ForEach with the parameter-overrides value of its collection', () => {
    ws.write(
      'service/loop.yaml',
      'Transform: AWS::LanguageExtensions\nParameters:\n  CodeImageURI: {Type: String}\n  Teams: {Type: CommaDelimitedList}\nResources:\n  Fn::ForEach::Roles:\n    - Team\n    - !Ref Teams\n    - ${Team}Role: {Type: AWS::IAM::Role, Properties: {RoleName: !Ref Team}}\n'
    )
    const inputs = parse({ template: 'service/loop.yaml', 'parameter-overrides': 'Teams=ops,dev' })
    expect(Object.keys(inputs.template.resources)).toEqual(['opsRole', 'devRole'])
    expect(inputs.capabilityReasons).toEqual([])
    expect(inputs.capabilities).toEqual([
      'CAPABILITY_IAM',
      'CAPABILITY_NAMED_IAM',
      'CAPABILITY_AUTO_EXPAND'
    ])
  })

  it('takes the capabilities given, comma- or newline-separated, instead of detecting them', () => {
    expect(
      parse({ capabilities: 'CAPABILITY_NAMED_IAM,\nCAPABILITY_AUTO_EXPAND' }).capabilities
    ).toEqual(['CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'])
  })

  it.each(['CAPABILITY_FOO', 'capability_iam'])('refuses the unknown capability %j', (bad) => {
    expect(failure({ capabilities: `CAPABILITY_IAM, ${bad}` })).toBe(
      `Input 'capabilities' has unknown capability '${bad}': use CAPABILITY_IAM, CAPABILITY_NAMED_IAM, CAPABILITY_AUTO_EXPAND.`
    )
  })
})

describe('image-parameter', () => {
  it('refuses a template that does not declare the image parameter', () => {
    ws.write('service/plain.yaml', TEMPLATE_WITHOUT_IMAGE_PARAMETER)
    expect(failure({ template: 'service/plain.yaml' })).toBe(
      "Input 'image-parameter': the template service/plain.yaml declares no parameter 'CodeImageURI' to receive the image URI: add it under Parameters (Type: String), or set 'image-parameter' to the parameter your function's ImageUri refers to."
    )
  })

  it('accepts another image parameter the template declares', () => {
    ws.write('service/plain.yaml', TEMPLATE_WITHOUT_IMAGE_PARAMETER)
    expect(
      parse({ template: 'service/plain.yaml', 'image-parameter': 'Image' }).imageParameter
    ).toBe('Image')
  })
})

describe('parameter-overrides', () => {
  it('reads KEY=VALUE lines, keeping the value after the first = exactly', () => {
    expect(
      parse({ 'parameter-overrides': 'Stage=prod\nDbPassword=a=b, c ' }).parameterOverrides
    ).toEqual(
      new Map([
        ['Stage', 'prod'],
        ['DbPassword', 'a=b, c ']
      ])
    )
  })

  it.each([
    ['a JSON object file', 'params/object.json', { Stage: 'prod', DbPassword: 's3cret' }],
    [
      'a ParameterKey/ParameterValue array file',
      'params/array.json',
      { Stage: 'test', DbPassword: 'hunter2' }
    ],
    ['a file:// path', 'file://params/array.json', { Stage: 'test', DbPassword: 'hunter2' }]
  ])('reads %s', (_, text, expected) => {
    expect(Object.fromEntries(parse({ 'parameter-overrides': text }).parameterOverrides)).toEqual(
      expected
    )
  })

  it('reads an absolute file:// path', () => {
    const path = join(ws.root, 'params/object.json')
    expect(parse({ 'parameter-overrides': `file://${path}` }).parameterOverrides.get('Stage')).toBe(
      'prod'
    )
  })

  it('turns JSON numbers and booleans into strings', () => {
    ws.write('params/scalars.json', '{"Stage": 7, "DbPassword": false}')
    expect(
      Object.fromEntries(parse({ 'parameter-overrides': 'params/scalars.json' }).parameterOverrides)
    ).toEqual({ Stage: '7', DbPassword: 'false' })
  })

  it('refuses an override naming an undeclared parameter, listing the declared ones', () => {
    expect(failure({ 'parameter-overrides': 'Stage=prod\nStgae=dev' })).toBe(
      "Input 'parameter-overrides' sets 'Stgae', which the template does not declare (declared: CodeImageURI, Stage, DbPassword, ApiKey): fix the name or declare it."
    )
  })

  it('refuses an override of the image parameter', () => {
    expect(failure({ 'parameter-overrides': 'CodeImageURI=nginx' })).toBe(
      "Input 'parameter-overrides' sets 'CodeImageURI', the image parameter the action fills with the pushed image URI: remove it."
    )
  })

  it('refuses a parameter file that does not exist', () => {
    expect(failure({ 'parameter-overrides': 'params/none.json' })).toBe(
      `Input 'parameter-overrides': params/none.json does not exist (resolved to ${join(ws.root, 'params/none.json')}); give a path relative to the repository root.`
    )
  })

  it('refuses a parameter file that is not JSON', () => {
    ws.write('params/bad.json', 'Stage: prod\n')
    expect(failure({ 'parameter-overrides': 'params/bad.json' })).toMatch(
      /^Input 'parameter-overrides': params\/bad\.json is not valid JSON \(.+\)\.$/s
    )
  })

  const shape = `give {"Key": "Value"} or [{"ParameterKey": "Key", "ParameterValue": "Value"}]`

  it.each([
    [
      '[{"ParameterKey": "Stage"}]',
      `Input 'parameter-overrides': params/p.json has an entry without string ParameterKey and ParameterValue: ${shape}.`
    ],
    [
      '[null]',
      `Input 'parameter-overrides': params/p.json has an entry without string ParameterKey and ParameterValue: ${shape}.`
    ],
    [
      '{"Stage": {"nested": true}}',
      `Input 'parameter-overrides': params/p.json gives 'Stage' a value that is not a string: ${shape}.`
    ],
    [
      '{"Stage": null}',
      `Input 'parameter-overrides': params/p.json gives 'Stage' a value that is not a string: ${shape}.`
    ],
    ['"Stage=prod"', `Input 'parameter-overrides': params/p.json holds neither shape: ${shape}.`],
    ['null', `Input 'parameter-overrides': params/p.json holds neither shape: ${shape}.`]
  ])('refuses the parameter file %s', (content, message) => {
    ws.write('params/p.json', content)
    expect(failure({ 'parameter-overrides': 'params/p.json' })).toBe(message)
  })
})

describe('zip package parameters', () => {
  useZipPackage(ws)

  it('refuses a template without the archive key parameter', () => {
    expect(failure({ ...ZIP_INPUTS, template: 'service/template.yaml' })).toBe(
      "Input 'archive-key-parameter': the template service/template.yaml declares no parameter 'CodeArtifactS3Key' to receive the zip package's S3 key: add it under Parameters (Type: String), or set 'archive-key-parameter'."
    )
  })

  it('does not need the image parameter in zip mode', () => {
    expect(Object.keys(parse(ZIP_INPUTS).template.parameters)).not.toContain('CodeImageURI')
    // The same template is refused for an image build.
    expect(failure({ template: 'service/zip.yaml' })).toBe(
      "Input 'image-parameter': the template service/zip.yaml declares no parameter 'CodeImageURI' to receive the image URI: add it under Parameters (Type: String), or set 'image-parameter' to the parameter your function's ImageUri refers to."
    )
  })

  it('takes other archive parameter names', () => {
    ws.write(
      'service/custom.yaml',
      'Parameters:\n  PackageKey: {Type: String}\n  PackageVersion: {Type: String}\nResources:\n  Q: {Type: AWS::SQS::Queue}\n'
    )
    const inputs = parse({
      ...ZIP_INPUTS,
      template: 'service/custom.yaml',
      'archive-key-parameter': ' PackageKey ',
      'archive-version-parameter': 'PackageVersion'
    })
    expect(inputs.archiveKeyParameter).toBe('PackageKey')
    expect(inputs.archiveVersionParameter).toBe('PackageVersion')
    expect(failure({ ...ZIP_INPUTS, 'archive-key-parameter': 'PackageKey' })).toBe(
      "Input 'archive-key-parameter': the template service/zip.yaml declares no parameter 'PackageKey' to receive the zip package's S3 key: add it under Parameters (Type: String), or set 'archive-key-parameter'."
    )
  })

  it('accepts a template that does not declare the version parameter', () => {
    ws.write(
      'service/key-only.yaml',
      'Parameters:\n  CodeArtifactS3Key: {Type: String}\nResources:\n  Q: {Type: AWS::SQS::Queue}\n'
    )
    expect(
      parse({ ...ZIP_INPUTS, template: 'service/key-only.yaml' }).archiveVersionParameter
    ).toBe('CodeArtifactS3ObjectVersion')
  })

  it.each(['CodeArtifactS3Key', 'CodeArtifactS3ObjectVersion'])(
    'refuses an override of %s, which the action fills',
    (key) => {
      expect(failure({ ...ZIP_INPUTS, 'parameter-overrides': `${key}=mine.zip` })).toBe(
        `Input 'parameter-overrides' sets '${key}', a zip package parameter the action fills with the pushed package: remove it.`
      )
    }
  )

  it('accepts overrides of the other parameters', () => {
    expect(
      parse({ ...ZIP_INPUTS, 'parameter-overrides': 'Stage=prod' }).parameterOverrides
    ).toEqual(new Map([['Stage', 'prod']]))
  })
})
