import { describe, expect, it } from '@jest/globals'
import { InputError } from '../../src/base/errors.js'
import { expandLoops, hasLoops } from '../../src/template/for-each.js'
import type { KnownValues } from '../../src/template/intrinsics.js'

const NOTHING: KnownValues = { parameters: {}, values: new Map(), mappings: {} }

function expand(document: Record<string, unknown>, known: KnownValues = NOTHING) {
  return expandLoops(document, known, 't.yaml')
}

const topic = (name: unknown) => ({ Type: 'AWS::SNS::Topic', Properties: { TopicName: name } })

describe('expandLoops', () => {
  it('makes one resource per item, with ${Id} and &{Id} in keys and strings and Ref: Id replaced', () => {
    const { document, unresolved } = expand({
      Resources: {
        Kept: topic('kept'),
        'Fn::ForEach::Topics': [
          'Name',
          ['a-1', 'b.2'],
          {
            'Topic&{Name}': topic({ 'Fn::Sub': 'topic-${Name}' }),
            '${Name}Ref': topic({ Ref: 'Name' })
          }
        ]
      }
    })
    expect(document['Resources']).toEqual({
      Kept: topic('kept'),
      Topica1: topic({ 'Fn::Sub': 'topic-a-1' }),
      'a-1Ref': topic('a-1'),
      Topicb2: topic({ 'Fn::Sub': 'topic-b.2' }),
      'b.2Ref': topic('b.2')
    })
    expect(unresolved).toEqual([])
  })

  it('expands nested loops, the inner collection using the outer identifier', () => {
    const { document } = expand(
      {
        Resources: {
          'Fn::ForEach::Types': [
            'Type',
            ['Public', 'Private'],
            {
              'Fn::ForEach::Numbers': [
                'Number',
                { 'Fn::FindInMap': ['Subnets', { Ref: 'Type' }, 'Numbers'] },
                { '${Type}Subnet${Number}': { Type: 'AWS::EC2::Subnet' } }
              ]
            }
          ]
        }
      },
      {
        ...NOTHING,
        mappings: { Subnets: { Public: { Numbers: ['1', '2'] }, Private: { Numbers: ['1'] } } }
      }
    )
    expect(Object.keys(document['Resources'] as object)).toEqual([
      'PublicSubnet1',
      'PublicSubnet2',
      'PrivateSubnet1'
    ])
  })

  it('expands loops inside resource properties, in Outputs and in Conditions', () => {
    const { document } = expand({
      Conditions: {
        'Fn::ForEach::C': ['N', ['1', '2'], { 'Is${N}': { 'Fn::Equals': [{ Ref: 'N' }, '1'] } }]
      },
      Resources: {
        I: {
          Type: 'AWS::EC2::Instance',
          Properties: {
            'Fn::ForEach::P': [
              'P',
              ['ImageId'],
              { '${P}': { 'Fn::FindInMap': ['M', 'K', { Ref: 'P' }] } }
            ]
          }
        }
      },
      Outputs: { 'Fn::ForEach::O': ['N', ['1'], { 'Out${N}': { Value: '${N}' } }] }
    })
    expect(document).toEqual({
      Conditions: { Is1: { 'Fn::Equals': ['1', '1'] }, Is2: { 'Fn::Equals': ['2', '1'] } },
      Resources: {
        I: {
          Type: 'AWS::EC2::Instance',
          Properties: { ImageId: { 'Fn::FindInMap': ['M', 'K', 'ImageId'] } }
        }
      },
      Outputs: { Out1: { Value: '1' } }
    })
  })

  it.each([
    [
      'a CommaDelimitedList Default',
      { Type: 'CommaDelimitedList', Default: 'a, b' },
      new Map(),
      ['Qa', 'Qb']
    ],
    [
      'a List<…> Default',
      { Type: 'List<AWS::EC2::Subnet::Id>', Default: 'a,b' },
      new Map(),
      ['Qa', 'Qb']
    ],
    [
      'the parameter-overrides value over the Default',
      { Type: 'CommaDelimitedList', Default: 'a' },
      new Map([['Names', 'x,y,z']]),
      ['Qx', 'Qy', 'Qz']
    ]
  ])('takes the collection of a Ref from %s', (_, declaration, values, expected) => {
    const { document } = expand(
      {
        Resources: {
          'Fn::ForEach::Q': ['N', { Ref: 'Names' }, { 'Q${N}': { Type: 'AWS::SQS::Queue' } }]
        }
      },
      { parameters: { Names: declaration }, values, mappings: {} }
    )
    expect(Object.keys(document['Resources'] as object)).toEqual(expected)
  })

  it('reads numbers and booleans as their text, and an empty collection as no resource', () => {
    const { document } = expand({
      Resources: {
        'Fn::ForEach::A': ['N', [1, true], { 'Q${N}': { Type: 'AWS::SQS::Queue' } }],
        'Fn::ForEach::B': ['N', [], { 'R${N}': { Type: 'AWS::SQS::Queue' } }]
      }
    })
    expect(Object.keys(document['Resources'] as object)).toEqual(['Q1', 'Qtrue'])
  })

  it.each([
    [
      'Fn::ImportValue',
      { 'Fn::ImportValue': 'shared-names' },
      'Fn::ImportValue is worked out at deploy time'
    ],
    ['Fn::GetAtt', { 'Fn::GetAtt': ['R', 'Names'] }, 'Fn::GetAtt is worked out at deploy time'],
    [
      'a parameter without Default or value',
      { Ref: 'NoDefault' },
      "parameter NoDefault has no Default and no value in 'parameter-overrides'"
    ],
    [
      'an SSM parameter',
      { Ref: 'FromSsm' },
      'parameter FromSsm is read from SSM Parameter Store at deploy time'
    ],
    [
      'a pseudo parameter',
      { 'Fn::FindInMap': ['M', { Ref: 'AWS::Region' }, 'K'] },
      'the pseudo parameter AWS::Region is known at deploy time'
    ],
    [
      'a dynamic reference',
      '{{resolve:ssm:names}}',
      'the dynamic reference {{resolve:ssm:names}} is read at deploy time'
    ]
  ])('leaves a loop over %s unexpanded and says why', (_, collection, reason) => {
    const fragment = { 'Q${N}': { Type: 'AWS::SQS::Queue' } }
    const { document, unresolved } = expand(
      { Resources: { Kept: topic('k'), 'Fn::ForEach::Q': ['N', collection, fragment] } },
      {
        parameters: {
          NoDefault: { Type: 'CommaDelimitedList' },
          FromSsm: { Type: 'AWS::SSM::Parameter::Value<List<String>>', Default: '/names' }
        },
        values: new Map(),
        mappings: {}
      }
    )
    expect(document['Resources']).toEqual({ Kept: topic('k') })
    expect(unresolved).toEqual([{ key: 'Fn::ForEach::Q', section: 'Resources', reason, fragment }])
  })

  it.each([
    ['not three items', ['N', ['a']]],
    ['an identifier that is not a string', [{ Ref: 'X' }, ['a'], {}]],
    ['an empty identifier', ['', ['a'], {}]],
    ['a fragment that is not a mapping', ['N', ['a'], ['x']]]
  ])('refuses a loop with %s', (_, loop) => {
    expect(() => expand({ Resources: { 'Fn::ForEach::L': loop } })).toThrow(
      "Input 'template': Fn::ForEach::L in the Resources of t.yaml is not [Identifier, Collection, {OutputKey: OutputValue}]: fix its layout (see Fn::ForEach in the CloudFormation docs)."
    )
  })

  it('refuses a collection that is not a list', () => {
    expect(() =>
      expand({ Outputs: { 'Fn::ForEach::L': ['N', 'a,b', { 'O${N}': { Value: 1 } }] } })
    ).toThrow(
      "Input 'template': the collection of Fn::ForEach::L in t.yaml is not a list: give a list, or a Ref to a CommaDelimitedList parameter."
    )
  })

  it.each([
    [
      'the same key twice',
      { 'Fn::ForEach::L': ['N', ['a', 'b'], { Same: topic('x') }] },
      "'Same' made by Fn::ForEach::L"
    ],
    [
      'a key the section already has',
      { Q1: topic('x'), 'Fn::ForEach::L': ['N', ['1'], { 'Q${N}': topic('y') }] },
      "'Q1' made by Fn::ForEach::L"
    ]
  ])('refuses a loop that makes %s', (_, resources, what) => {
    expect(() => expand({ Resources: resources })).toThrow(
      `Input 'template': t.yaml has ${what} twice in Resources; CloudFormation refuses the expanded template: make the loop's OutputKey unique with \${Identifier} or &{Identifier}.`
    )
  })

  it('throws InputError', () => {
    expect(() => expand({ Resources: { 'Fn::ForEach::L': [] } })).toThrow(InputError)
  })
})

describe('hasLoops', () => {
  it.each([
    [{ Resources: { 'Fn::ForEach::L': [] } }, true],
    [{ Resources: { R: { Properties: { 'Fn::ForEach::P': [] } } } }, true],
    [{ Outputs: { 'Fn::ForEach::O': [] } }, true],
    [{ Metadata: { 'Fn::ForEach::M': [] }, Resources: { R: {} } }, false],
    [{ Resources: { R: { Type: 'AWS::SQS::Queue' } } }, false]
  ])('%j → %s', (document, expected) => {
    expect(hasLoops(document)).toBe(expected)
  })
})
