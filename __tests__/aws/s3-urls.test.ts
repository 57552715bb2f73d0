import { describe, expect, it } from '@jest/globals'
import { normalizeBucketRegion, templateKey, templateUrl } from '../../src/aws/s3.js'

describe('normalizeBucketRegion', () => {
  it.each<[string | undefined | null, string]>([
    [undefined, 'us-east-1'],
    [null, 'us-east-1'],
    ['', 'us-east-1'],
    ['EU', 'eu-west-1'],
    ['eu-west-1', 'eu-west-1'],
    ['ap-southeast-2', 'ap-southeast-2'],
    ['cn-north-1', 'cn-north-1']
  ])('reads LocationConstraint %j as %s', (constraint, region) => {
    expect(normalizeBucketRegion(constraint)).toBe(region)
  })
})

describe('templateKey', () => {
  it.each<[string, string, 'json' | 'yaml', string]>([
    ['hello', 'abc123', 'yaml', 'hello/abc123/hello-cftemplate.yaml'],
    ['Hello-Svc', 'v1.2', 'json', 'Hello-Svc/v1.2/Hello-Svc-cftemplate.json']
  ])('keys stack %s, build %s (%s) as %s', (stack, build, format, key) => {
    expect(templateKey(stack, build, format)).toBe(key)
  })

  it('gives each build its own key, so an older template is never overwritten', () => {
    expect(templateKey('hello', 'a', 'yaml')).not.toBe(templateKey('hello', 'b', 'yaml'))
  })
})

describe('templateUrl', () => {
  const key = 'hello/abc/hello-cftemplate.yaml'

  it.each<[string, string, string | undefined, string]>([
    [
      'my-artifacts',
      'us-east-1',
      undefined,
      'https://my-artifacts.s3.us-east-1.amazonaws.com/hello/abc/hello-cftemplate.yaml'
    ],
    [
      'my-artifacts',
      'eu-west-2',
      '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY',
      'https://my-artifacts.s3.eu-west-2.amazonaws.com/hello/abc/hello-cftemplate.yaml?versionId=3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY'
    ],
    [
      'my.dotted.bucket',
      'eu-west-1',
      undefined,
      'https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/hello/abc/hello-cftemplate.yaml'
    ],
    [
      'cn-artifacts',
      'cn-north-1',
      undefined,
      'https://cn-artifacts.s3.cn-north-1.amazonaws.com.cn/hello/abc/hello-cftemplate.yaml'
    ],
    [
      'gov-artifacts',
      'us-gov-west-1',
      undefined,
      'https://gov-artifacts.s3.us-gov-west-1.amazonaws.com/hello/abc/hello-cftemplate.yaml'
    ],
    [
      'iso-artifacts',
      'us-iso-east-1',
      undefined,
      'https://iso-artifacts.s3.us-iso-east-1.c2s.ic.gov/hello/abc/hello-cftemplate.yaml'
    ],
    [
      'isob-artifacts',
      'us-isob-east-1',
      undefined,
      'https://isob-artifacts.s3.us-isob-east-1.sc2s.sgov.gov/hello/abc/hello-cftemplate.yaml'
    ],
    [
      'isoe.artifacts',
      'eu-isoe-west-1',
      undefined,
      'https://s3.eu-isoe-west-1.cloud.adc-e.uk/isoe.artifacts/hello/abc/hello-cftemplate.yaml'
    ],
    [
      'isof-artifacts',
      'us-isof-south-1',
      undefined,
      'https://isof-artifacts.s3.us-isof-south-1.csp.hci.ic.gov/hello/abc/hello-cftemplate.yaml'
    ]
  ])('builds the URL for bucket %s in %s (version %j)', (bucket, region, versionId, url) => {
    expect(templateUrl(bucket, region, key, versionId)).toBe(url)
  })

  it('encodes each key segment but keeps the slashes', () => {
    expect(templateUrl('b-1', 'us-east-1', 'a b/c+d/e.yaml')).toBe(
      'https://b-1.s3.us-east-1.amazonaws.com/a%20b/c%2Bd/e.yaml'
    )
  })
})
