/**
 * stack-inputs.ts: the stack name and its suffix, the region, timeout-minutes, role-arn and
 * http-proxy, as parseInputs reads them.
 */
import { describe, expect, it } from '@jest/globals'
import { inputsParser, useWorkspace } from '../../__fixtures__/inputs.js'

const ws = useWorkspace()

const { parse, failure } = inputsParser(ws)

describe('stack-name', () => {
  it.each(['1hello', 'hello_world', 'hello.world', `a${'b'.repeat(128)}`])(
    'refuses the stack name %j',
    (name) => {
      expect(failure({ 'stack-name': name })).toBe(
        `Input 'stack-name' ('${name}') is not a valid CloudFormation stack name: start with a letter, use only letters, digits and '-', at most 128 characters.`
      )
    }
  )

  it('accepts a 128-character stack name', () => {
    const name = `A-${'b'.repeat(126)}`
    expect(parse({ 'stack-name': name }).stackName).toBe(name)
  })
})

describe('stack-name-suffix', () => {
  const suffixMessage = (name: string): string =>
    `Input 'stack-name' with 'stack-name-suffix' ('${name}') is not a valid CloudFormation stack name: start with a letter, use only letters, digits and '-', at most 128 characters.`

  it('appends the suffix with a -', () => {
    expect(parse({ 'stack-name': 'my-svc', 'stack-name-suffix': 'pr-42' }).stackName).toBe(
      'my-svc-pr-42'
    )
    expect(parse({ 'stack-name': 'my-svc', 'stack-name-suffix': ' pr-42\n' }).stackName).toBe(
      'my-svc-pr-42'
    )
  })

  it('leaves the name alone without a suffix', () => {
    expect(parse({ 'stack-name': 'my-svc' }).stackName).toBe('my-svc')
  })

  it('refuses a suffix that makes the name invalid, naming stack-name-suffix', () => {
    expect(failure({ 'stack-name': 'my-svc', 'stack-name-suffix': '_x' })).toBe(
      suffixMessage('my-svc-_x')
    )
    expect(failure({ 'stack-name': 'my-svc', 'stack-name-suffix': 'pr 42' })).toBe(
      suffixMessage('my-svc-pr 42')
    )
  })

  it('checks the length of the combined name', () => {
    const base = `s${'a'.repeat(99)}`
    expect(
      parse({ 'stack-name': base, 'stack-name-suffix': 'b'.repeat(27) }).stackName
    ).toHaveLength(128)
    const tooLong = `${base}-${'b'.repeat(28)}`
    expect(failure({ 'stack-name': base, 'stack-name-suffix': 'b'.repeat(28) })).toBe(
      suffixMessage(tooLong)
    )
  })

  it('does not mention the suffix when there is none', () => {
    expect(failure({ 'stack-name': 'my_svc' })).toBe(
      "Input 'stack-name' ('my_svc') is not a valid CloudFormation stack name: start with a letter, use only letters, digits and '-', at most 128 characters."
    )
  })
})

describe('region', () => {
  it('takes the region from AWS_REGION, then AWS_DEFAULT_REGION', () => {
    expect(parse({ region: '' }, { ...ws.env, AWS_REGION: 'ap-south-1' }).region).toBe('ap-south-1')
    expect(parse({ region: '' }, { ...ws.env, AWS_DEFAULT_REGION: 'sa-east-1' }).region).toBe(
      'sa-east-1'
    )
    expect(
      parse({ region: '' }, { ...ws.env, AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'sa-east-1' })
        .region
    ).toBe('us-west-2')
  })

  it("prefers the 'region' input over AWS_REGION", () => {
    expect(parse({ region: 'eu-central-1' }, { ...ws.env, AWS_REGION: 'us-west-2' }).region).toBe(
      'eu-central-1'
    )
  })

  it('refuses a missing region, naming the input and AWS_REGION', () => {
    expect(failure({ region: '' })).toBe(
      "No AWS region: set input 'region', or set aws-region in aws-actions/configure-aws-credentials (AWS_REGION)."
    )
  })

  it.each(['us-east', 'US-EAST-1', 'useast1', 'eu west 1', 'us-east-1a'])(
    'refuses the region %j',
    (region) => {
      expect(failure({ region })).toBe(
        `Input 'region' ('${region}') is not an AWS region name such as us-east-1 or eu-west-2.`
      )
    }
  )

  it.each(['us-east-1', 'us-gov-west-1', 'cn-northwest-1', 'ap-southeast-5', 'us-isob-east-1'])(
    'accepts the region %s',
    (region) => {
      expect(parse({ region }).region).toBe(region)
    }
  )
})

describe('timeout-minutes', () => {
  it.each(['0', 'abc', '356', '1.5', '-5'])('refuses timeout-minutes %j', (timeout) => {
    expect(failure({ 'timeout-minutes': timeout })).toBe(
      `Input 'timeout-minutes' must be a whole number between 1 and 355, got '${timeout}'.`
    )
  })

  it.each([
    ['1', 1],
    ['355', 355],
    [' 90 ', 90]
  ])('accepts timeout-minutes %j', (timeout, minutes) => {
    expect(parse({ 'timeout-minutes': timeout }).timeoutMinutes).toBe(minutes)
  })
})

describe('role-arn', () => {
  it.each([
    'arn:aws:iam::123456789012:role/cfn-deploy',
    'arn:aws:iam::123456789012:role/service-role/cfn-deploy',
    'arn:aws-us-gov:iam::123456789012:role/cfn-deploy',
    'arn:aws-cn:iam::123456789012:role/cfn-deploy'
  ])('takes the role ARN %s', (arn) => {
    expect(parse({ 'role-arn': arn }).roleArn).toBe(arn)
  })

  it.each([
    'cfn-deploy',
    'arn:aws:iam::12345678901:role/cfn-deploy',
    'arn:aws:iam::123456789012:user/bob',
    'arn:aws:iam::123456789012:role/',
    'arn:aws:sts::123456789012:assumed-role/cfn-deploy/session'
  ])('refuses the role ARN %s', (arn) => {
    expect(failure({ 'role-arn': arn })).toBe(
      `Input 'role-arn' ('${arn}') is not an IAM role ARN such as arn:aws:iam::123456789012:role/cfn-deploy.`
    )
  })
})

describe('http-proxy', () => {
  it.each([
    'http://proxy.example.com:3128',
    'https://proxy.example.com',
    'http://user:secret@10.0.0.1:8080/',
    'http://[::1]:3128'
  ])('takes the proxy URL %s', (url) => {
    expect(parse({ 'http-proxy': ` ${url} ` }).httpProxy).toBe(url)
  })

  it.each([
    'proxy.example.com:3128',
    'socks5://proxy.example.com:1080',
    'http://',
    'http://proxy example.com:3128',
    'http://proxy.example.com:3128 extra',
    'http://[bad:3128'
  ])('refuses the proxy %s', (url) => {
    expect(failure({ 'http-proxy': url })).toBe(
      `Input 'http-proxy' ('${url}') must be a URL such as http://proxy.example.com:3128.`
    )
  })

  it.each([
    ['http://user:s3cret@proxy example.com:3128', 'http://***@proxy example.com:3128'],
    ['http://user:s3cret word@proxy:3128', 'http://***@proxy:3128'],
    ['http://user:s3c@ret@[bad:3128', 'http://***@[bad:3128'],
    ['socks5://user:s3cret@proxy:1080', 'socks5://***@proxy:1080'],
    ['user:s3cret@proxy:3128 extra', '***@proxy:3128 extra']
  ])('never shows the user info of a malformed proxy %s', (url, shown) => {
    const message = failure({ 'http-proxy': url })
    expect(message).toBe(
      `Input 'http-proxy' ('${shown}') must be a URL such as http://proxy.example.com:3128.`
    )
    expect(message).not.toContain('s3c')
  })
})
