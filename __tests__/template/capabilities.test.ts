import { describe, expect, it } from '@jest/globals'
import { readTemplateFixture } from '../../__fixtures__/inputs.js'
import { decideCapabilities, detectCapabilities } from '../../src/template/capabilities.js'
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
    // AWS::Include inserts a snippet the action does not read: like a nested stack.
    [
      'an Fn::Transform (AWS::Include) inside a resource',
      '  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      Fn::Transform: {Name: AWS::Include, Parameters: {Location: s3://b/k}}\n',
      '',
      [IAM, NAMED, EXPAND]
    ],
    [
      'an Fn::Transform among the resources',
      '  Fn::Transform: {Name: AWS::Include, Parameters: {Location: s3://b/k}}\n  Q:\n    Type: AWS::SQS::Queue\n',
      '',
      [IAM, NAMED, EXPAND]
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
    ['a SAM Api (no IAM of its own)', '  A:\n    Type: AWS::Serverless::Api\n', SAM, [EXPAND]],
    ['a SAM HttpApi', '  A:\n    Type: AWS::Serverless::HttpApi\n', SAM, [EXPAND]],
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

describe('detectCapabilities: IAM names that refer to existing principals', () => {
  const IAM = 'CAPABILITY_IAM'
  const NAMED = 'CAPABILITY_NAMED_IAM'
  const one = (type: string, properties: string) =>
    parse(`Resources:\n  X:\n    Type: ${type}\n    Properties: ${properties}\n`)

  it.each([
    ['AWS::IAM::AccessKey', '{UserName: deployer}'],
    ['AWS::IAM::Policy', '{PolicyName: p, Roles: [app-role], Users: [u], Groups: [g]}'],
    ['AWS::IAM::RolePolicy', '{RoleName: app-role, PolicyName: p}'],
    ['AWS::IAM::UserPolicy', '{UserName: deployer, PolicyName: p}'],
    ['AWS::IAM::GroupPolicy', '{GroupName: ops, PolicyName: p}'],
    ['AWS::IAM::UserToGroupAddition', '{GroupName: ops, Users: [deployer]}'],
    ['AWS::IAM::ManagedPolicy', '{Roles: [app-role], Users: [u], Groups: [g]}'],
    ['AWS::IAM::InstanceProfile', '{Roles: [app-role]}'],
    ['AWS::IAM::User', '{Groups: [ops]}']
  ])('asks only CAPABILITY_IAM for %s %s', (type, properties) => {
    expect(detectCapabilities(one(type, properties))).toEqual([IAM])
  })

  it.each([
    ['AWS::IAM::Role', '{RoleName: app-role}'],
    ['AWS::IAM::User', '{UserName: deployer}'],
    ['AWS::IAM::Group', '{GroupName: ops}'],
    ['AWS::IAM::ManagedPolicy', '{ManagedPolicyName: p}'],
    ['AWS::IAM::InstanceProfile', '{InstanceProfileName: web}']
  ])('asks CAPABILITY_NAMED_IAM for the custom name of %s %s', (type, properties) => {
    expect(detectCapabilities(one(type, properties))).toEqual([IAM, NAMED])
  })
})

describe('detectCapabilities: macros', () => {
  const ALL = ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND']
  const QUEUE = 'Resources:\n  Q:\n    Type: AWS::SQS::Queue\n'

  it.each([
    ['a custom macro', 'Transform: ExecutionRoleBuilder\n'],
    ['a custom macro listed before SAM', 'Transform: [Count, AWS::Serverless-2016-10-31]\n'],
    ['AWS::Include as the top-level Transform', 'Transform: {Name: AWS::Include}\n'],
    ['another AWS-hosted macro', 'Transform: AWS::SecretsManager-2020-07-23\n']
  ])('acknowledges every capability for %s', (_, head) => {
    expect(detectCapabilities(parse(head + QUEUE))).toEqual(ALL)
  })

  const include = 'Fn::Transform: {Name: AWS::Include, Parameters: {Location: s3://b/openapi.yaml}}'

  it.each([
    [
      "a SAM Api's DefinitionBody",
      `Transform: AWS::Serverless-2016-10-31\nResources:\n  A:\n    Type: AWS::Serverless::Api\n    Properties:\n      DefinitionBody: {${include}}\n`,
      ['CAPABILITY_AUTO_EXPAND']
    ],
    [
      "a role's AssumeRolePolicyDocument",
      `Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {${include}}\n`,
      ['CAPABILITY_IAM', 'CAPABILITY_AUTO_EXPAND']
    ],
    [
      "a resource's Metadata and an output",
      `Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Metadata: {${include}}\nOutputs:\n  O:\n    Value: {${include}}\n`,
      ['CAPABILITY_AUTO_EXPAND']
    ]
  ])('reads an AWS::Include in %s as hiding nothing', (_, text, expected) => {
    expect(decideCapabilities(parse(text))).toEqual({ capabilities: expected, reasons: [] })
  })

  it.each([
    [
      'the Properties of a role',
      `Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties: {${include}}\n`
    ],
    [
      "a SAM function's Events",
      `Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Role: !Ref R\n      Events: {${include}}\n`
    ],
    [
      'a role name',
      `Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: {${include}}\n`
    ]
  ])('acknowledges every capability for an AWS::Include in %s', (_, text) => {
    expect(detectCapabilities(parse(text))).toEqual(ALL)
  })

  it('acknowledges every capability for an Fn::Transform that calls a custom macro', () => {
    const template = parse(
      `${QUEUE}    Properties:\n      Tags:\n        - Key: k\n          Value: {Fn::Transform: {Name: String, Parameters: {InputString: x, Operation: Upper}}}\n`
    )
    expect(detectCapabilities(template)).toEqual(ALL)
  })

  it.each([
    ['SAM', 'Transform: AWS::Serverless-2016-10-31\n'],
    ['AWS::LanguageExtensions', 'Transform: AWS::LanguageExtensions\n'],
    ['both', 'Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]\n']
  ])('reads the template of %s itself: only CAPABILITY_AUTO_EXPAND', (_, head) => {
    expect(detectCapabilities(parse(head + QUEUE))).toEqual(['CAPABILITY_AUTO_EXPAND'])
  })

  it('says why, once per macro, in the reasons', () => {
    const template = parse(
      `Transform: [Count, Count]\n${QUEUE}  Child:\n    Type: AWS::CloudFormation::Stack\n    Properties: {TemplateURL: https://b.s3.amazonaws.com/c.yaml}\n`
    )
    expect(decideCapabilities(template)).toEqual({
      capabilities: ALL,
      reasons: [
        'Nested stack Child (AWS::CloudFormation::Stack): its template is not read here, so every capability is acknowledged.',
        'Macro Count: CloudFormation checks capabilities on the template the macro writes, which the action cannot see, so every capability is acknowledged.'
      ]
    })
  })

  it('gives no reasons when the template shows everything', () => {
    expect(decideCapabilities(parse(QUEUE))).toEqual({ capabilities: [], reasons: [] })
  })
})

describe('detectCapabilities: the roles SAM writes', () => {
  const IAM = 'CAPABILITY_IAM'
  const EXPAND = 'CAPABILITY_AUTO_EXPAND'
  const sam = (resources: string, head = '') =>
    detectCapabilities(
      parse(`Transform: AWS::Serverless-2016-10-31\n${head}Resources:\n${resources}`)
    )
  const fn = (properties: string) =>
    `  F:\n    Type: AWS::Serverless::Function\n    Properties:\n${properties}`
  const ROLE = '      Role: arn:aws:iam::123456789012:role/fn\n'

  it.each([
    [
      'a Function with Role and a ScheduleV2 event without RoleArn (a scheduler role)',
      fn(
        `${ROLE}      Events:\n        Nightly: {Type: ScheduleV2, Properties: {ScheduleExpression: rate(1 day)}}\n`
      ),
      [IAM, EXPAND]
    ],
    [
      'a Function with Role and a ScheduleV2 event with RoleArn',
      fn(
        `${ROLE}      Events:\n        Nightly: {Type: ScheduleV2, Properties: {ScheduleExpression: rate(1 day), RoleArn: arn:aws:iam::123456789012:role/s}}\n`
      ),
      [EXPAND]
    ],
    [
      'a Function with Role and a Schedule event (EventBridge permission, no role)',
      fn(
        `${ROLE}      Events:\n        Nightly: {Type: Schedule, Properties: {Schedule: rate(1 day)}}\n`
      ),
      [EXPAND]
    ],
    [
      'a Function with Role: !If [cond, arn, !Ref AWS::NoValue]',
      fn('      Role: !If [HasRole, arn:aws:iam::123456789012:role/fn, !Ref AWS::NoValue]\n'),
      [IAM, EXPAND]
    ],
    [
      'a Function with Role: !If [cond, !Ref AWS::NoValue, arn]',
      fn('      Role: !If [NoRole, !Ref AWS::NoValue, !Ref RoleArn]\n'),
      [IAM, EXPAND]
    ],
    [
      'a Function with Role: !If between two roles',
      fn('      Role: !If [C, !Ref A, !Ref B]\n'),
      [EXPAND]
    ],
    [
      'a Function whose DeploymentPreference names its Role',
      fn(
        `${ROLE}      DeploymentPreference: {Type: AllAtOnce, Role: arn:aws:iam::123456789012:role/cd}\n`
      ),
      [EXPAND]
    ],
    [
      'a Function whose DeploymentPreference is disabled',
      fn(`${ROLE}      DeploymentPreference: {Type: AllAtOnce, Enabled: false}\n`),
      [EXPAND]
    ],
    [
      'a StateMachine with Role and a Schedule event with RoleArn',
      '  S:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      Role: !GetAtt R.Arn\n      Events:\n        E: {Type: Schedule, Properties: {Schedule: rate(1 day), RoleArn: !GetAtt R.Arn}}\n',
      [EXPAND]
    ],
    [
      'a StateMachine with Role and a ScheduleV2 event without RoleArn',
      '  S:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      Role: !GetAtt R.Arn\n      Events:\n        E: {Type: ScheduleV2, Properties: {ScheduleExpression: rate(1 day)}}\n',
      [IAM, EXPAND]
    ],
    [
      'a GraphQLApi (its CloudWatch Logs role)',
      '  G:\n    Type: AWS::Serverless::GraphQLApi\n',
      [IAM, EXPAND]
    ],
    [
      'a GraphQLApi with Logging: false and no data sources',
      '  G:\n    Type: AWS::Serverless::GraphQLApi\n    Properties: {Logging: false}\n',
      [EXPAND]
    ],
    [
      'a GraphQLApi whose logging and data sources name their roles',
      '  G:\n    Type: AWS::Serverless::GraphQLApi\n    Properties:\n      Logging: {CloudWatchLogsRoleArn: !Ref L}\n      DataSources:\n        DynamoDb:\n          Posts: {TableName: t, ServiceRoleArn: !Ref D}\n',
      [EXPAND]
    ],
    [
      'a GraphQLApi with a DynamoDb data source without ServiceRoleArn',
      '  G:\n    Type: AWS::Serverless::GraphQLApi\n    Properties:\n      Logging: {CloudWatchLogsRoleArn: !Ref L}\n      DataSources:\n        DynamoDb:\n          Posts: {TableName: t}\n',
      [IAM, EXPAND]
    ],
    [
      'a CapacityProvider without OperatorRole',
      '  C:\n    Type: AWS::Serverless::CapacityProvider\n',
      [IAM, EXPAND]
    ],
    [
      'a CapacityProvider with OperatorRole',
      '  C:\n    Type: AWS::Serverless::CapacityProvider\n    Properties: {OperatorRole: !Ref R}\n',
      [EXPAND]
    ],
    [
      'a Connector from an SNS topic (a resource policy)',
      '  T:\n    Type: AWS::SNS::Topic\n  C:\n    Type: AWS::Serverless::Connector\n    Properties: {Source: {Id: T}, Destination: {Id: Q}, Permissions: [Write]}\n',
      [EXPAND]
    ],
    [
      'a Connector from a queue (a managed policy on its consumer role)',
      '  Q:\n    Type: AWS::SQS::Queue\n  C:\n    Type: AWS::Serverless::Connector\n    Properties: {Source: {Id: Q}, Destination: {Id: T}, Permissions: [Read]}\n',
      [IAM, EXPAND]
    ],
    [
      'Connectors embedded in a queue',
      '  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      Connectors:\n        ToTopic: {Properties: {Destination: {Id: T}, Permissions: [Write]}}\n',
      [IAM, EXPAND]
    ]
  ])('for %s', (_, resources, expected) => {
    expect(sam(resources)).toEqual(expected)
  })
})

describe('detectCapabilities: resources made by Fn::ForEach', () => {
  const loop = (collection: string) => `Transform: AWS::LanguageExtensions
Resources:
  Fn::ForEach::Roles:
    - Team
    - ${collection}
    - \${Team}Role:
        Type: AWS::IAM::Role
        Properties: {RoleName: !Sub "\${Team}-role"}
`

  it('counts the named roles a loop makes', () => {
    expect(detectCapabilities(parse(loop('[ops, dev]')))).toEqual([
      'CAPABILITY_IAM',
      'CAPABILITY_NAMED_IAM',
      'CAPABILITY_AUTO_EXPAND'
    ])
  })

  it('treats a loop only known at deploy time like a nested stack, and says so', () => {
    expect(decideCapabilities(parse(loop('!Split [",", !ImportValue teams]')))).toEqual({
      capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
      reasons: [
        'Fn::ForEach::Roles is handled like a nested stack: its collection is only known at deploy time (Fn::ImportValue is worked out at deploy time), so every capability is acknowledged.'
      ]
    })
  })

  it('gives the reason for a deploy-time loop inside another loop once', () => {
    const template = parse(`Transform: AWS::LanguageExtensions
Resources:
  Fn::ForEach::Envs:
    - Env
    - [dev, prod]
    - Fn::ForEach::Teams:
        - Team
        - !ImportValue teams
        - \${Env}\${Team}Queue: {Type: AWS::SQS::Queue}
`)
    expect(decideCapabilities(template).reasons).toEqual([
      'Fn::ForEach::Teams is handled like a nested stack: its collection is only known at deploy time (Fn::ImportValue is worked out at deploy time), so every capability is acknowledged.'
    ])
  })

  it('ignores an unresolved loop in Outputs: it makes no resource', () => {
    const template = parse(
      'Transform: AWS::LanguageExtensions\nResources:\n  Q: {Type: AWS::SQS::Queue}\nOutputs:\n  Fn::ForEach::O: [N, !ImportValue names, {"O${N}": {Value: x}}]\n'
    )
    expect(decideCapabilities(template)).toEqual({
      capabilities: ['CAPABILITY_AUTO_EXPAND'],
      reasons: []
    })
  })
})
