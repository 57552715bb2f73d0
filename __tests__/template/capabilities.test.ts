import { describe, expect, it } from '@jest/globals'
import { readTemplateFixture } from '../../__fixtures__/inputs.js'
import { detectCapabilities } from '../../src/template/capabilities.js'
import { parseTemplate } from '../../src/template/template.js'

function parse(text: string, path = 'template.yaml') {
  return parseTemplate(Buffer.from(text), path)
}

describe('detectCapabilities', () => {
  const withResources = (resources: string, head = '') => parse(`${head}Resources:\n${resources}`)
  const SAM = 'Transform: AWS::Serverless-2016-10-31\n'
  const IAM = 'CAPABILITY_IAM'
  const NAMED = 'CAPABILITY_NAMED_IAM'
  const EXPAND = 'CAPABILITY_AUTO_EXPAND'

  it.each([
    // Plain IAM
    ['no IAM resources', '  Q:\n    Type: AWS::SQS::Queue\n', '', []],
    ['an IAM role', '  R:\n    Type: AWS::IAM::Role\n    Properties: {Path: /}\n', '', [IAM]],
    ['an inline group policy', '  P:\n    Type: AWS::IAM::GroupPolicy\n', '', [IAM]],
    [
      'a named IAM role',
      '  R:\n    Type: AWS::IAM::Role\n    Properties: {RoleName: app-role}\n',
      '',
      [IAM, NAMED]
    ],
    [
      'a named IAM user',
      '  U:\n    Type: AWS::IAM::User\n    Properties: {UserName: deployer}\n',
      '',
      [IAM, NAMED]
    ],
    [
      'a named IAM group',
      '  G:\n    Type: AWS::IAM::Group\n    Properties: {GroupName: ops}\n',
      '',
      [IAM, NAMED]
    ],
    [
      'a named managed policy',
      '  P:\n    Type: AWS::IAM::ManagedPolicy\n    Properties: {ManagedPolicyName: !Sub "${AWS::StackName}-p"}\n',
      '',
      [IAM, NAMED]
    ],
    [
      'a named instance profile',
      '  I:\n    Type: AWS::IAM::InstanceProfile\n    Properties: {InstanceProfileName: web}\n',
      '',
      [IAM, NAMED]
    ],
    [
      'a RoleName on a resource that is not IAM',
      '  T:\n    Type: AWS::SQS::Queue\n    Properties: {RoleName: not-iam}\n',
      '',
      []
    ],
    // Macros
    ['a Transform', '  Q:\n    Type: AWS::SQS::Queue\n', SAM, [EXPAND]],
    [
      'a Transform and an IAM role',
      '  R:\n    Type: AWS::IAM::Role\n',
      'Transform: [AWS::LanguageExtensions]\n',
      [IAM, EXPAND]
    ],
    [
      'an Fn::Transform (AWS::Include) inside a resource',
      '  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      Fn::Transform: {Name: AWS::Include, Parameters: {Location: s3://b/k}}\n',
      '',
      [EXPAND]
    ],
    [
      'an Fn::Transform among the resources',
      '  Fn::Transform: {Name: AWS::Include, Parameters: {Location: s3://b/k}}\n  Q:\n    Type: AWS::SQS::Queue\n',
      '',
      [EXPAND]
    ],
    // SAM
    [
      'a SAM Function without Role',
      '  F:\n    Type: AWS::Serverless::Function\n',
      SAM,
      [IAM, EXPAND]
    ],
    [
      'a SAM Function without Role and without the Transform line',
      '  F:\n    Type: AWS::Serverless::Function\n',
      '',
      [IAM, EXPAND]
    ],
    [
      'a SAM Function with a Role',
      '  F:\n    Type: AWS::Serverless::Function\n    Properties: {Role: !GetAtt R.Arn}\n',
      SAM,
      [EXPAND]
    ],
    [
      'a SAM Function whose Role comes from Globals.Function',
      '  F:\n    Type: AWS::Serverless::Function\n',
      `${SAM}Globals:\n  Function: {Role: arn:aws:iam::123456789012:role/fn}\n`,
      [EXPAND]
    ],
    [
      'a SAM Function with a Role and a DeploymentPreference (CodeDeploy role)',
      '  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Role: arn:aws:iam::123456789012:role/fn\n      DeploymentPreference: {Type: AllAtOnce}\n',
      SAM,
      [IAM, EXPAND]
    ],
    [
      'a SAM StateMachine without Role',
      '  S:\n    Type: AWS::Serverless::StateMachine\n',
      SAM,
      [IAM, EXPAND]
    ],
    [
      'a SAM StateMachine with a Role',
      '  S:\n    Type: AWS::Serverless::StateMachine\n    Properties: {Role: !GetAtt R.Arn}\n',
      SAM,
      [EXPAND]
    ],
    [
      'a SAM StateMachine with a Role and an event source (its role)',
      '  S:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      Role: !GetAtt R.Arn\n      Events:\n        Nightly: {Type: Schedule, Properties: {Schedule: rate(1 day)}}\n',
      SAM,
      [IAM, EXPAND]
    ],
    ['a SAM Api', '  A:\n    Type: AWS::Serverless::Api\n', SAM, [IAM, EXPAND]],
    ['a SAM Connector', '  C:\n    Type: AWS::Serverless::Connector\n', SAM, [IAM, EXPAND]],
    ['a SAM SimpleTable', '  T:\n    Type: AWS::Serverless::SimpleTable\n', SAM, [EXPAND]],
    ['a SAM LayerVersion', '  L:\n    Type: AWS::Serverless::LayerVersion\n', SAM, [EXPAND]],
    // Nested stacks: the child template is not read, so everything it may need is acknowledged.
    [
      'a nested stack',
      '  Child:\n    Type: AWS::CloudFormation::Stack\n    Properties: {TemplateURL: https://b.s3.amazonaws.com/c.yaml}\n',
      '',
      [IAM, NAMED, EXPAND]
    ],
    [
      'a SAM Application (a nested stack)',
      '  App:\n    Type: AWS::Serverless::Application\n    Properties: {Location: https://b.s3.amazonaws.com/app.yaml}\n',
      SAM,
      [IAM, NAMED, EXPAND]
    ]
  ])('for %s returns %j', (_, resources, head, expected) => {
    expect(detectCapabilities(withResources(resources, head))).toEqual(expected)
  })

  it('asks for CAPABILITY_IAM for the service fixture (an unnamed role)', () => {
    expect(detectCapabilities(parseTemplate(readTemplateFixture('service.yaml'), 's'))).toEqual([
      'CAPABILITY_IAM'
    ])
  })
})
