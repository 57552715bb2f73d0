import { describe, expect, it } from '@jest/globals'
import { readTemplateFixture } from '../../__fixtures__/inputs.js'
import { InputError } from '../../src/base/errors.js'
import {
  noEchoParameters,
  parseTemplate,
  TEMPLATE_SIZE_LIMITS,
  templateSizeError,
  type TemplateSource
} from '../../src/template/template.js'

function parse(text: string, path = 'template.yaml') {
  return parseTemplate(Buffer.from(text), path)
}

/** A YAML template whose single resource has `property: <value>`. */
function yamlProperty(value: string) {
  const template = parse(
    `Resources:\n  Thing:\n    Type: AWS::SQS::Queue\n    Properties:\n      P: ${value}\n`
  )
  return template.resources['Thing']?.Properties?.['P']
}

describe('parseTemplate: YAML short-form tags', () => {
  it.each([
    ['!Ref Stage', { Ref: 'Stage' }],
    [
      "!Sub 'arn:${AWS::Partition}:s3:::${Bucket}'",
      { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Bucket}' }
    ],
    [
      "!Sub ['${Name}-x', { Name: !Ref Stage }]",
      { 'Fn::Sub': ['${Name}-x', { Name: { Ref: 'Stage' } }] }
    ],
    ['!GetAtt Role.Arn', { 'Fn::GetAtt': ['Role', 'Arn'] }],
    ['!GetAtt Stack.Outputs.Url', { 'Fn::GetAtt': ['Stack', 'Outputs.Url'] }],
    ['!GetAtt [Role, Arn]', { 'Fn::GetAtt': ['Role', 'Arn'] }],
    [
      '!If [IsProd, big, !Ref AWS::NoValue]',
      { 'Fn::If': ['IsProd', 'big', { Ref: 'AWS::NoValue' }] }
    ],
    ["!Join ['', [a, !Ref Stage]]", { 'Fn::Join': ['', ['a', { Ref: 'Stage' }]] }],
    ["!Select [0, !GetAZs '']", { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }],
    [
      "!Join [',', !Split [';', !ImportValue shared-list]]",
      { 'Fn::Join': [',', { 'Fn::Split': [';', { 'Fn::ImportValue': 'shared-list' }] }] }
    ],
    ["!Base64 { 'Fn::Sub': 'echo ${Stage}' }", { 'Fn::Base64': { 'Fn::Sub': 'echo ${Stage}' } }],
    [
      '!FindInMap [Map, !Ref AWS::Region, Ami]',
      { 'Fn::FindInMap': ['Map', { Ref: 'AWS::Region' }, 'Ami'] }
    ],
    ['!Cidr [10.0.0.0/16, 4, 8]', { 'Fn::Cidr': ['10.0.0.0/16', 4, 8] }],
    [
      '!Not [!Equals [!Ref Stage, dev]]',
      { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'Stage' }, 'dev'] }] }
    ],
    ['!Condition IsProd', { Condition: 'IsProd' }]
  ])('turns %s into its Fn:: long form', (value, expected) => {
    expect(yamlProperty(value)).toEqual(expected)
  })

  it('reads the service fixture with block-style tags into long forms', () => {
    const template = parseTemplate(readTemplateFixture('service.yaml'), 'service.yaml')
    expect(template.format).toBe('yaml')
    expect(Object.keys(template.parameters)).toEqual([
      'CodeImageURI',
      'Stage',
      'DbPassword',
      'ApiKey'
    ])
    expect(template.resources['Function']).toEqual({
      Type: 'AWS::Lambda::Function',
      Properties: {
        PackageType: 'Image',
        Code: { ImageUri: { Ref: 'CodeImageURI' } },
        Role: { 'Fn::GetAtt': ['FunctionRole', 'Arn'] },
        FunctionName: {
          'Fn::Sub': [
            '${Prefix}-${AWS::StackName}',
            { Prefix: { 'Fn::If': ['IsProd', 'prod', { Ref: 'Stage' }] } }
          ]
        },
        Description: {
          'Fn::Join': ['-', [{ Ref: 'Stage' }, { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }]]
        },
        Environment: {
          Variables: {
            QUEUE: { 'Fn::GetAtt': ['Queue', 'Arn'] },
            NESTED: { 'Fn::GetAtt': ['Stack', 'Outputs.Value'] },
            PASSWORD: { Ref: 'DbPassword' }
          }
        }
      }
    })
    expect(template.resources['Queue']?.Properties?.['Tags']).toEqual([
      { Key: 'boot', Value: { 'Fn::Base64': { 'Fn::Sub': 'echo ${Stage}' } } }
    ])
  })

  it('keeps the original bytes for the upload', () => {
    const body = readTemplateFixture('service.yaml')
    expect(parseTemplate(body, 'service.yaml').body).toBe(body)
  })

  it('keeps dates and yes/no as strings (YAML 1.2 core schema)', () => {
    const template = parse(
      'AWSTemplateFormatVersion: 2010-09-09\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      A: yes\n'
    )
    expect(template.resources['Q']?.Properties?.['A']).toBe('yes')
  })
})

describe('parseTemplate: JSON', () => {
  it('reads a JSON template', () => {
    const template = parseTemplate(readTemplateFixture('service.json'), 'service.json')
    expect(template.format).toBe('json')
    expect(template.parameters).toEqual({
      CodeImageURI: { Type: 'String' },
      Stage: { Type: 'String', Default: 'dev' }
    })
    expect(template.resources['Function']?.Type).toBe('AWS::Lambda::Function')
    expect(template.macros).toEqual([])
  })

  it('reads a JSON template saved with a byte order mark', () => {
    const body = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      readTemplateFixture('service.json')
    ])
    expect(parseTemplate(body, 'bom.json').format).toBe('json')
  })

  it('reports a JSON syntax error with its line and column', () => {
    const text = '{\n  "Resources": {\n    "A": {"Type": "X",}\n  }\n}\n'
    expect(() => parse(text, 'broken.json')).toThrow(
      /^Input 'template': broken\.json is not valid JSON at line 3, column 23 \(.+\): fix the syntax\.$/
    )
  })

  it('reports a JSON error on the first line at column 1-based', () => {
    expect(() => parse('{,}', 'x.json')).toThrow(
      "Input 'template': x.json is not valid JSON at line 1, column 2"
    )
  })
})

describe('parseTemplate: errors', () => {
  it('reports a YAML syntax error with its line and column', () => {
    const text = 'Resources:\n  A:\n    Type: [x\n'
    expect(() => parse(text, 'broken.yaml')).toThrow(
      "Input 'template': broken.yaml is not valid YAML at line 4, column 1 (Flow sequence in block collection must be sufficiently indented and end with a ]): fix the syntax."
    )
  })

  it('keeps the last of a duplicate key, as CloudFormation does, and warns naming both lines', () => {
    const template = parse('Resources:\n  A: {Type: X}\n  A: {Type: Y}\n', 'dup.yaml')
    expect(template.resources).toEqual({ A: { Type: 'Y' } })
    expect(template.warnings).toEqual([
      "dup.yaml gives 'Resources.A' twice (lines 2 and 3); CloudFormation keeps the last one without a word, and so does this action: remove the one you do not mean."
    ])
  })

  it('refuses an unknown tag such as a misspelt !GetAttr', () => {
    expect(() =>
      parse(
        'Resources:\n  A:\n    Type: X\n    Properties:\n      R: !GetAttr Role.Arn\n',
        't.yaml'
      )
    ).toThrow(
      "Input 'template': t.yaml is not valid YAML at line 5, column 10 (Unresolved tag: !GetAttr): fix the syntax."
    )
  })

  it('refuses a template one byte over the 1,000,000-byte TemplateURL limit before parsing it', () => {
    const body = Buffer.alloc(1_000_001, ' ')
    expect(() => parseTemplate(body, 'big.yaml')).toThrow(
      "Input 'template': big.yaml is 1000001 bytes, over CloudFormation's 1000000-byte limit: split it into nested stacks or remove unused parts."
    )
  })

  it('accepts a template of exactly 1,000,000 bytes', () => {
    const head = 'Resources:\n  Q:\n    Type: AWS::SQS::Queue\n'
    const body = Buffer.from(head + '#'.repeat(1_000_000 - head.length))
    expect(body.length).toBe(1_000_000)
    expect(Object.keys(parseTemplate(body, 'full.yaml').resources)).toEqual(['Q'])
  })

  it('counts bytes, not characters: 500,000 two-byte characters are at the limit, one more is over', () => {
    const head = 'Resources:\n  Q:\n    Type: AWS::SQS::Queue\n#'
    const fill = (bytes: number) => Buffer.from(head + 'é'.repeat((bytes - head.length) / 2))
    expect(fill(1_000_000 - 1).length).toBe(999_999)
    expect(() => parseTemplate(fill(1_000_000 - 1), 'a.yaml')).not.toThrow()
    expect(() => parseTemplate(fill(1_000_001), 'b.yaml')).toThrow('b.yaml is 1000001 bytes')
  })

  it.each([
    ['Parameters:\n  A: {Type: String}\n'],
    ['Resources: {}\n'],
    ['Resources: []\n'],
    ['{"Resources": null}']
  ])('refuses %j: no Resources', (text) => {
    expect(() => parse(text, 't')).toThrow(
      "Input 'template': t has no 'Resources' section; a CloudFormation template needs at least one resource."
    )
  })

  it.each([['Resources:\n  Fn:\n    Properties: {}\n'], ['Resources:\n  Fn: just-a-string\n']])(
    'refuses %j: a resource without Type',
    (text) => {
      expect(() => parse(text, 't.yaml')).toThrow(
        "Input 'template': resource 'Fn' in t.yaml has no 'Type': give each resource a Type such as AWS::Lambda::Function."
      )
    }
  )

  it.each([[''], ['- a\n- b\n'], ['just text']])(
    'refuses %j: the top level is not a mapping',
    (text) => {
      expect(() => parse(text, 't.yaml')).toThrow(
        "Input 'template': t.yaml is not a CloudFormation template (its top level is not a mapping)."
      )
    }
  )

  it('refuses a Parameters section that is not a mapping', () => {
    expect(() => parse('Parameters: [A]\nResources:\n  Q: {Type: X}\n', 't.yaml')).toThrow(
      "Input 'template': the 'Parameters' section of t.yaml is not a mapping."
    )
  })

  it('throws InputError', () => {
    expect(() => parse('Resources: {}')).toThrow(InputError)
  })
})

describe('noEchoParameters', () => {
  it('lists parameters with NoEcho true or "true", and no others', () => {
    const template = parse(
      'Parameters:\n  A: {Type: String, NoEcho: true}\n  B: {Type: String, NoEcho: "true"}\n  C: {Type: String, NoEcho: "TRUE"}\n  D: {Type: String, NoEcho: false}\n  E: {Type: String, NoEcho: "false"}\n  F: {Type: String}\nResources:\n  Q: {Type: AWS::SQS::Queue}\n'
    )
    expect(noEchoParameters(template)).toEqual(['A', 'B', 'C'])
  })

  it('lists DbPassword and ApiKey in the service fixture', () => {
    expect(noEchoParameters(parseTemplate(readTemplateFixture('service.yaml'), 's'))).toEqual([
      'DbPassword',
      'ApiKey'
    ])
  })
})

describe('template size limits', () => {
  it('states the limits CloudFormation enforces, one home for both', () => {
    expect(TEMPLATE_SIZE_LIMITS).toEqual({ TemplateBody: 51_200, TemplateURL: 1_000_000 })
  })

  it.each([
    ['TemplateBody', 51_199, undefined],
    ['TemplateBody', 51_200, undefined],
    [
      'TemplateBody',
      51_201,
      "Input 'template': t.yaml is 51201 bytes, over CloudFormation's 51200-byte limit for an inline TemplateBody: split it into nested stacks or remove unused parts."
    ],
    ['TemplateURL', 999_999, undefined],
    ['TemplateURL', 1_000_000, undefined],
    [
      'TemplateURL',
      1_000_001,
      "Input 'template': t.yaml is 1000001 bytes, over CloudFormation's 1000000-byte limit: split it into nested stacks or remove unused parts."
    ]
  ] as Array<[TemplateSource, number, string | undefined]>)(
    '%s: %i bytes -> %j',
    (source, bytes, message) => {
      expect(templateSizeError(bytes, 't.yaml', source)?.message).toBe(message)
    }
  )
})

describe('parseTemplate: templates CloudFormation accepts', () => {
  const LOOP = `Transform: AWS::LanguageExtensions
Parameters:
  CodeImageURI: {Type: String}
  Names: {Type: CommaDelimitedList, Default: "alpha,beta"}
Resources:
  Fn::ForEach::Functions:
    - Name
    - !Ref Names
    - \${Name}Function:
        Type: AWS::Lambda::Function
        Properties:
          PackageType: Image
          Code: {ImageUri: !Ref CodeImageURI}
          FunctionName: !Sub "\${AWS::StackName}-\${Name}"
`

  it('reads the resources an Fn::ForEach loop makes (AWS::LanguageExtensions)', () => {
    const template = parse(LOOP)
    expect(Object.keys(template.resources)).toEqual(['alphaFunction', 'betaFunction'])
    expect(template.resources['betaFunction']?.Properties?.['FunctionName']).toEqual({
      'Fn::Sub': '${AWS::StackName}-beta'
    })
    expect(template.macros).toEqual([{ name: 'AWS::LanguageExtensions', at: [] }])
    expect(template.warnings).toEqual([])
  })

  it('takes a loop collection from the parameter-overrides value', () => {
    const template = parseTemplate(Buffer.from(LOOP), 't.yaml', new Map([['Names', 'one']]))
    expect(Object.keys(template.resources)).toEqual(['oneFunction'])
  })

  it('keeps a loop whose collection is only known at deploy time, resources or not', () => {
    const template = parse(LOOP.replace('!Ref Names', '!ImportValue shared-names'))
    expect(template.resources).toEqual({})
    expect(template.unresolvedLoops).toEqual([
      expect.objectContaining({
        key: 'Fn::ForEach::Functions',
        section: 'Resources',
        reason: 'Fn::ImportValue is worked out at deploy time'
      })
    ])
  })

  it('warns when Fn::ForEach is used without the AWS::LanguageExtensions transform', () => {
    expect(parse(LOOP.replace('Transform: AWS::LanguageExtensions\n', '')).warnings).toEqual([
      "template.yaml uses Fn::ForEach, which CloudFormation expands only through the AWS::LanguageExtensions transform: add it to the template's Transform."
    ])
  })

  it('reads rule functions in their short forms', () => {
    const template = parse(`Parameters:
  Env: {Type: String}
  Subnet: {Type: AWS::EC2::Subnet::Id}
Rules:
  ProdOnly:
    RuleCondition: !Contains [[prod, staging], !Ref Env]
    Assertions:
      - Assert: !EachMemberEquals [!ValueOfAll [AWS::EC2::Subnet::Id, VpcId], !ValueOf [Subnet, VpcId]]
      - Assert: !EachMemberIn [!RefAll AWS::EC2::VPC::Id, [vpc-1]]
Resources:
  Q: {Type: AWS::SQS::Queue}
`)
    expect(Object.keys(template.resources)).toEqual(['Q'])
  })

  it("reads a multi-line single-quoted !Sub whose closing quote sits at the key's column", () => {
    const template = parse(`Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Sub 'alerts for
      \${AWS::StackName}'
`)
    expect(template.resources['Topic']?.Properties?.['DisplayName']).toEqual({
      'Fn::Sub': 'alerts for ${AWS::StackName}'
    })
  })

  it('lists every macro and where it is called: the top-level Transform, then each Fn::Transform', () => {
    const template =
      parse(`Transform: [Count, {Name: AWS::Include, Parameters: {Location: s3://b/k}}]
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      Tags: [{Key: k, Value: {Fn::Transform: {Name: String, Parameters: {InputString: x}}}}]
`)
    expect(template.macros).toEqual([
      { name: 'Count', at: [] },
      { name: 'AWS::Include', at: [] },
      { name: 'String', at: ['Resources', 'Q', 'Properties', 'Tags', '0', 'Value'] }
    ])
  })
})
