import { describe, expect, it } from '@jest/globals'
import {
  isRecord,
  resolveValue,
  splitList,
  type KnownValues
} from '../../src/template/intrinsics.js'

const KNOWN: KnownValues = {
  parameters: {
    Env: { Type: 'String', Default: 'prod' },
    Names: { Type: 'CommaDelimitedList', Default: 'a,b' },
    Given: { Type: 'String' },
    Ssm: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/p' }
  },
  values: new Map([['Given', 'from-overrides']]),
  mappings: { Sizes: { prod: { Memory: 1024, Zones: ['x', 'y'] } } }
}

describe('resolveValue', () => {
  it.each([
    ['a literal', 'text', 'text'],
    ['a list of literals', ['a', 1, true], ['a', 1, true]],
    ['Ref to a String parameter', { Ref: 'Env' }, 'prod'],
    ['Ref to a CommaDelimitedList', { Ref: 'Names' }, ['a', 'b']],
    ['Ref to a parameter given in parameter-overrides', { Ref: 'Given' }, 'from-overrides'],
    ['Fn::FindInMap', { 'Fn::FindInMap': ['Sizes', { Ref: 'Env' }, 'Zones'] }, ['x', 'y']],
    [
      'Fn::FindInMap falling back on its DefaultValue',
      { 'Fn::FindInMap': ['Sizes', 'dev', 'Zones', { DefaultValue: ['z'] }] },
      ['z']
    ],
    ['Fn::Split', { 'Fn::Split': [',', 'a,b,c'] }, ['a', 'b', 'c']],
    ['Fn::Join', { 'Fn::Join': ['-', { Ref: 'Names' }] }, 'a-b'],
    ['Fn::Select', { 'Fn::Select': [1, { Ref: 'Names' }] }, 'b'],
    ['Fn::Length', { 'Fn::Length': { Ref: 'Names' } }, 2]
  ])('knows %s', (_, value, expected) => {
    expect(resolveValue(value, KNOWN)).toEqual({ value: expected })
  })

  it.each([
    ['Fn::ImportValue', { 'Fn::ImportValue': 'x' }, 'Fn::ImportValue is worked out at deploy time'],
    ['Fn::If', { 'Fn::If': ['C', ['a'], ['b']] }, 'Fn::If is worked out at deploy time'],
    [
      'a pseudo parameter',
      { Ref: 'AWS::AccountId' },
      'the pseudo parameter AWS::AccountId is known at deploy time'
    ],
    ['a Ref to a resource', { Ref: 'Bucket' }, 'Ref Bucket names no parameter of the template'],
    [
      'an SSM parameter',
      { Ref: 'Ssm' },
      'parameter Ssm is read from SSM Parameter Store at deploy time'
    ],
    [
      'a missing map entry',
      { 'Fn::FindInMap': ['Sizes', 'dev', 'Zones'] },
      'Fn::FindInMap finds nothing at Sizes.dev.Zones'
    ],
    [
      'a malformed Fn::Select',
      { 'Fn::Select': [5, ['a']] },
      'Fn::Select is malformed or does not fit its arguments'
    ]
  ])('does not know %s, and says why', (_, value, why) => {
    expect(resolveValue(value, KNOWN)).toEqual({ unknown: why })
  })
})

describe('splitList and isRecord', () => {
  it('splits a CommaDelimitedList value, trimming each item', () => {
    expect(splitList(' a, b ,c')).toEqual(['a', 'b', 'c'])
  })

  it.each([
    [{}, true],
    [[], false],
    [null, false],
    ['x', false]
  ])('isRecord(%j) is %s', (value, expected) => {
    expect(isRecord(value)).toBe(expected)
  })
})
