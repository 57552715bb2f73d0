import { describe, expect, it } from '@jest/globals'
import {
  ARN_PARTITION_PATTERN,
  arnFor,
  DNS_SUFFIXES,
  partitionOf,
  serviceHost
} from '../../src/rules/partition.js'

describe('partitionOf', () => {
  it.each([
    ['us-east-1', 'aws', 'amazonaws.com'],
    ['eu-central-2', 'aws', 'amazonaws.com'],
    ['cn-north-1', 'aws-cn', 'amazonaws.com.cn'],
    ['us-gov-west-1', 'aws-us-gov', 'amazonaws.com'],
    ['us-iso-east-1', 'aws-iso', 'c2s.ic.gov'],
    ['us-isob-east-1', 'aws-iso-b', 'sc2s.sgov.gov'],
    ['eu-isoe-west-1', 'aws-iso-e', 'cloud.adc-e.uk'],
    ['us-isof-south-1', 'aws-iso-f', 'csp.hci.ic.gov'],
    ['eusc-de-east-1', 'aws-eusc', 'amazonaws.eu'],
    // A region no pattern knows is taken to be commercial, as the SDK decides.
    ['xx-future-9', 'aws', 'amazonaws.com']
  ])('puts %s in %s (%s)', (region, name, dnsSuffix) => {
    expect(partitionOf(region)).toEqual({ name, dnsSuffix })
  })
})

describe('names that follow the partition', () => {
  it.each([
    ['us-east-1', 'https://my-bucket.s3.us-east-1.amazonaws.com', 'arn:aws:iam::'],
    ['cn-north-1', 'https://my-bucket.s3.cn-north-1.amazonaws.com.cn', 'arn:aws-cn:iam::'],
    ['us-gov-east-1', 'https://my-bucket.s3.us-gov-east-1.amazonaws.com', 'arn:aws-us-gov:iam::'],
    ['us-iso-west-1', 'https://my-bucket.s3.us-iso-west-1.c2s.ic.gov', 'arn:aws-iso:iam::'],
    ['us-isob-east-1', 'https://my-bucket.s3.us-isob-east-1.sc2s.sgov.gov', 'arn:aws-iso-b:iam::'],
    ['eu-isoe-west-1', 'https://my-bucket.s3.eu-isoe-west-1.cloud.adc-e.uk', 'arn:aws-iso-e:iam::'],
    ['us-isof-east-1', 'https://my-bucket.s3.us-isof-east-1.csp.hci.ic.gov', 'arn:aws-iso-f:iam::']
  ])('%s: S3 host %s, ARNs %s…', (region, s3, arn) => {
    expect(`https://my-bucket.${serviceHost('s3', region)}`).toBe(s3)
    expect(arnFor('cloudformation', region, '123456789012', 'stack/a/b')).toBe(
      `${arn.replace(':iam::', ':cloudformation:')}${region}:123456789012:stack/a/b`
    )
    expect(
      new RegExp(`^arn:${ARN_PARTITION_PATTERN}:iam::`).test(`${arn}123456789012:role/x`)
    ).toBe(true)
  })

  it('lists the longer suffix first, so amazonaws.com.cn is not read as amazonaws.com', () => {
    expect(DNS_SUFFIXES.indexOf('amazonaws.com.cn')).toBeLessThan(
      DNS_SUFFIXES.indexOf('amazonaws.com')
    )
    expect([...DNS_SUFFIXES].sort()).toEqual([
      'amazonaws.com',
      'amazonaws.com.cn',
      'amazonaws.eu',
      'c2s.ic.gov',
      'cloud.adc-e.uk',
      'csp.hci.ic.gov',
      'sc2s.sgov.gov'
    ])
  })
})
