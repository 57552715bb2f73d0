import { describe, expect, it } from '@jest/globals'
import { parseKeyValueLines, parseList, parsePositiveInt } from '../src/parse.js'

describe('parseKeyValueLines', () => {
  it('keeps everything after the first = exactly', () => {
    expect(parseKeyValueLines('A=1,2=3 "x"\n\n# c\nB= spaced ', 'build-args')).toEqual([
      { key: 'A', value: '1,2=3 "x"', line: 1 },
      { key: 'B', value: ' spaced ', line: 4 }
    ])
  })
  it.each([
    ['NOEQUALS', "Input 'tags' line 1 (\"NOEQUALS\") has no '='"],
    ['=v', "Input 'tags' line 1 has an empty key"],
    ['A=1\nA=2', "Input 'tags' sets 'A' twice (lines 1 and 2)"]
  ])('rejects %j', (text, message) => {
    expect(() => parseKeyValueLines(text, 'tags')).toThrow(message)
  })
})

describe('parseList and parsePositiveInt', () => {
  it('splits on commas and newlines', () => {
    expect(parseList('a, b\nc,,')).toEqual(['a', 'b', 'c'])
  })
  it.each(['0', '-1', 'abc', '1.5', '400'])('rejects timeout %j', (text) => {
    expect(() => parsePositiveInt(text, 'timeout-minutes', 355)).toThrow(
      "Input 'timeout-minutes' must be a whole number between 1 and 355"
    )
  })
  it('accepts 42', () => expect(parsePositiveInt(' 42 ', 'timeout-minutes', 355)).toBe(42))
})
