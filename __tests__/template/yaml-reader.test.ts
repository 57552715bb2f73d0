import { describe, expect, it } from '@jest/globals'
import { InputError } from '../../src/base/errors.js'
import { readYaml } from '../../src/template/yaml-reader.js'

/** The value of `V` in a template whose single output is `Value: <yaml>`. */
function outputValue(yaml: string): unknown {
  const { document } = readYaml(`Outputs:\n  Out:\n    Value: ${yaml}\n`, 't.yaml')
  return (document as { Outputs: { Out: { Value: unknown } } }).Outputs.Out.Value
}

function failure(text: string): string {
  try {
    readYaml(text, 't.yaml')
  } catch (error) {
    if (error instanceof InputError) return error.message
    throw error
  }
  throw new Error('the YAML was accepted')
}

describe('readYaml: short forms', () => {
  it.each([
    ['!Contains [[a, b], !Ref Env]', { 'Fn::Contains': [['a', 'b'], { Ref: 'Env' }] }],
    [
      "!EachMemberEquals [!RefAll 'AWS::EC2::VPC::Id', vpc-1]",
      { 'Fn::EachMemberEquals': [{ 'Fn::RefAll': 'AWS::EC2::VPC::Id' }, 'vpc-1'] }
    ],
    [
      '!EachMemberIn [!ValueOfAll [AWS::EC2::Subnet::Id, VpcId], [vpc-1]]',
      { 'Fn::EachMemberIn': [{ 'Fn::ValueOfAll': ['AWS::EC2::Subnet::Id', 'VpcId'] }, ['vpc-1']] }
    ],
    ['!ValueOf [Subnet, VpcId]', { 'Fn::ValueOf': ['Subnet', 'VpcId'] }],
    ['!RefAll AWS::EC2::KeyPair::KeyName', { 'Fn::RefAll': 'AWS::EC2::KeyPair::KeyName' }],
    [
      '!FindInMap [Sizes, !Ref Env, Memory, {DefaultValue: 128}]',
      { 'Fn::FindInMap': ['Sizes', { Ref: 'Env' }, 'Memory', { DefaultValue: 128 }] }
    ],
    ['!Length [a, b]', { 'Fn::Length': ['a', 'b'] }],
    ['!ToJsonString {a: 1}', { 'Fn::ToJsonString': { a: 1 } }],
    ['{Fn::Length: !Ref Names}', { 'Fn::Length': { Ref: 'Names' } }],
    ['!Ref {Fn::Sub: "${Type}Subnet"}', { Ref: { 'Fn::Sub': '${Type}Subnet' } }],
    ['!GetAZs ""', { 'Fn::GetAZs': '' }],
    [
      '!Transform {Name: String, Parameters: {Op: Upper}}',
      { 'Fn::Transform': { Name: 'String', Parameters: { Op: 'Upper' } } }
    ]
  ])('reads %s as its long form', (yaml, expected) => {
    expect(outputValue(yaml)).toEqual(expected)
  })

  it('still refuses an unknown tag on a collection, naming it', () => {
    expect(failure('Outputs:\n  Out:\n    Value: !Joins [a, b]\n')).toBe(
      "Input 'template': t.yaml is not valid YAML at line 3, column 12 (Unresolved tag: !Joins): fix the syntax."
    )
  })
})

describe('readYaml: quoted scalars and flow collections indented as CloudFormation allows', () => {
  it.each([
    ["'first line\n    second line at the key column'", 'first line second line at the key column'],
    ['"first line\n    second line"', 'first line second line'],
    ["'first line\nsecond line at column 0'", 'first line second line at column 0'],
    ["'it''s\n    split'", "it's split"],
    ['"tab\n\tcontinued"', 'tab continued'],
    ['"escaped \\\n    break"', 'escaped break'],
    ['[a,\n    b,\n    ]', ['a', 'b']],
    ['{"a": 1,\n  "b": [2,\n  3]}', { a: 1, b: [2, 3] }],
    ['[ \'x,\n  y\', "z" ] # a comment ]', ['x, y', 'z']]
  ])('reads %j', (yaml, expected) => {
    expect(outputValue(yaml)).toEqual(expected)
  })

  it("reads a multi-line !Sub '{…}' whose closing quote sits at the key's column, leaving later lines alone", () => {
    const text = [
      'Resources:',
      '  Role:',
      '    Type: AWS::IAM::Role',
      '    Properties:',
      '      Policies:',
      '        - PolicyName: p',
      "          PolicyDocument: !Sub '{",
      '              "Statement": [{"Resource": "arn:${AWS::Partition}:s3:::x"}]',
      "          }'",
      "          Other: 'one line'",
      ''
    ].join('\n')
    const { document } = readYaml(text, 't.yaml')
    expect(document).toEqual({
      Resources: {
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: {
            Policies: [
              {
                PolicyName: 'p',
                PolicyDocument: {
                  'Fn::Sub': '{ "Statement": [{"Resource": "arn:${AWS::Partition}:s3:::x"}] }'
                },
                Other: 'one line'
              }
            ]
          }
        }
      }
    })
  })

  it('reads several such scalars in one template', () => {
    const text = 'A: \'one\nB\'\nC: "two\nD"\nE: [3,\n4]\n'
    expect(readYaml(text, 't.yaml').document).toEqual({ A: 'one B', C: 'two D', E: [3, 4] })
  })

  it('still refuses a quote that nothing closes', () => {
    expect(failure("Outputs:\n  Out:\n    Value: 'never closed\n")).toBe(
      "Input 'template': t.yaml is not valid YAML at line 4, column 1 (Missing closing 'quote): fix the syntax."
    )
  })
})

describe('readYaml: what CloudFormation refuses stays refused', () => {
  it.each([
    [
      'a tab as indentation',
      'Resources:\n\tB:\n\t\tType: AWS::S3::Bucket\n',
      "Input 'template': t.yaml is not valid YAML at line 2, column 1 (Tabs are not allowed as indentation): fix the syntax."
    ],
    [
      'two short forms on one node',
      'Resources:\n  I:\n    Type: AWS::EC2::Instance\n    Properties:\n      UserData: !Base64\n        !Sub |\n          echo hi\n',
      "Input 'template': t.yaml is not valid YAML at line 6, column 9 (A node can have at most one tag): fix the syntax."
    ],
    [
      'a plain scalar continued at its key’s column',
      'Outputs:\n  Out:\n    Description: a plain scalar\n    continued\n    Value: x\n',
      "Input 'template': t.yaml is not valid YAML at line 4, column 5 (Implicit keys need to be on a single line): fix the syntax."
    ],
    [
      'two documents',
      'Resources:\n  B: {Type: AWS::S3::Bucket}\n---\nResources:\n  C: {Type: AWS::S3::Bucket}\n',
      "Input 'template': t.yaml is not valid YAML at line 3, column 1 (Source contains multiple documents; please use YAML.parseAllDocuments()): fix the syntax."
    ],
    [
      'an alias',
      'Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties: {Tags: &tags [{Key: k, Value: v}]}\n  B:\n    Type: AWS::SNS::Topic\n    Properties: {Tags: *tags}\n',
      'Input \'template\': t.yaml uses the YAML alias *tags at line 7, column 24; CloudFormation refuses aliases ("YAML aliases are not allowed in CloudFormation templates"): write the value out in full.'
    ],
    [
      'a merge key',
      'Resources:\n  B:\n    Type: AWS::SNS::Topic\n    Properties:\n      <<: {DisplayName: b}\n',
      "Input 'template': t.yaml uses the YAML merge key << at line 5, column 7, which CloudFormation does not support: write the keys out in full."
    ]
  ])('refuses %s', (_, text, message) => {
    expect(failure(text)).toBe(message)
  })

  it('accepts an anchor nothing refers to, and a quoted "<<" key', () => {
    expect(readYaml("A: &a 1\n'<<': 2\n", 't.yaml').document).toEqual({ A: 1, '<<': 2 })
  })

  it('keeps YAML 1.2 core scalars: yes/on stay strings, 0777 is 777', () => {
    expect(readYaml('A: yes\nB: on\nC: 0777\nD: true\n', 't.yaml').document).toEqual({
      A: 'yes',
      B: 'on',
      C: 777,
      D: true
    })
  })
})

describe('readYaml: duplicate keys', () => {
  it('keeps the last value, as CloudFormation does, and warns with the path and both lines', () => {
    const text =
      'Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: a\n      BucketName: b\nOutputs:\n  O: {Value: 1}\n  O: {Value: 2}\n'
    expect(readYaml(text, 't.yaml')).toEqual({
      document: {
        Resources: { B: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'b' } } },
        Outputs: { O: { Value: 2 } }
      },
      warnings: [
        "t.yaml gives 'Resources.B.Properties.BucketName' twice (lines 5 and 6); CloudFormation keeps the last one without a word, and so does this action: remove the one you do not mean.",
        "t.yaml gives 'Outputs.O' twice (lines 8 and 9); CloudFormation keeps the last one without a word, and so does this action: remove the one you do not mean."
      ]
    })
  })

  it('tells keys that differ only in case apart', () => {
    expect(readYaml('A: 1\na: 2\n', 't.yaml').warnings).toEqual([])
  })
})
