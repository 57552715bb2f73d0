/** bench/numbers.mjs: the medians and interval sums the bench's figures share. */
import { describe, expect, it } from '@jest/globals'
import { covered, median } from '../../bench/numbers.mjs'

describe('numbers', () => {
  it.each([
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[5, NaN, null, undefined, 1], 3],
    [[], NaN]
  ])('takes the median of the finite numbers in %j', (values, expected) => {
    expect(median(values)).toBe(expected)
  })

  it('counts overlapping intervals once and skips empty ones', () => {
    expect(
      covered([
        [0, 10],
        [5, 15],
        [20, 20],
        [30, 40],
        [32, 35]
      ])
    ).toBe(25)
  })
})
