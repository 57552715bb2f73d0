/**
 * Readers of the inputs every mode needs, the stack-only ones included: the stack's name and
 * region, the wait limit, the role CloudFormation assumes, and the proxy for AWS calls.
 */
import { InputError } from '../base/errors.js'
import { hideUserInfo, shown } from '../base/untrusted.js'
import { required, text } from './text.js'
import type { RawInputs } from './raw.js'
import { parsePositiveInt } from '../rules/parse.js'

const STACK_NAME = /^[A-Za-z][-A-Za-z0-9]*$/
const REGION = /^[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$/
const MAX_TIMEOUT_MINUTES = 355 // stays under GitHub's 6-hour job limit

/** `stack-name`, given and not blank. */
export function requireStackName(raw: RawInputs): string {
  return required(raw, 'stack-name', 'name the CloudFormation stack to deploy')
}

/** The stack name, with `stack-name-suffix` appended (`my-svc` + `pr-42` → `my-svc-pr-42`), checked. */
export function readStackName(raw: RawInputs): string {
  const base = requireStackName(raw)
  const suffix = text(raw, 'stack-name-suffix')
  const stackName = suffix === '' ? base : `${base}-${suffix}`
  if (!STACK_NAME.test(stackName) || stackName.length > 128) {
    throw new InputError(
      `Input 'stack-name'${suffix === '' ? '' : " with 'stack-name-suffix'"} ('${shown(stackName)}') is not a valid CloudFormation stack name: start with a letter, use only letters, digits and '-', at most 128 characters.`
    )
  }
  return stackName
}

/** True for a region name such as us-east-1, us-gov-west-1 or cn-north-1. */
export function isRegionName(region: string): boolean {
  return REGION.test(region)
}

/** `region`, else the region configure-aws-credentials exported. */
export function readRegion(raw: RawInputs, env: NodeJS.ProcessEnv): string {
  const region = text(raw, 'region') || env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || ''
  if (region === '') {
    throw new InputError(
      `No AWS region: set input 'region', or set aws-region in aws-actions/configure-aws-credentials (AWS_REGION).`
    )
  }
  if (!REGION.test(region)) {
    throw new InputError(
      `Input 'region' ('${shown(region)}') is not an AWS region name such as us-east-1 or eu-west-2.`
    )
  }
  return region
}

/** `timeout-minutes`: 60 by default. */
export function readTimeout(raw: RawInputs): number {
  const minutes = text(raw, 'timeout-minutes')
  return minutes === '' ? 60 : parsePositiveInt(minutes, 'timeout-minutes', MAX_TIMEOUT_MINUTES)
}

/** `role-arn`: an IAM role ARN, or '' for the caller's own credentials. */
export function readRoleArn(raw: RawInputs): string {
  const roleArn = text(raw, 'role-arn')
  if (roleArn !== '' && !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(roleArn)) {
    throw new InputError(
      `Input 'role-arn' ('${shown(roleArn)}') is not an IAM role ARN such as arn:aws:iam::123456789012:role/cfn-deploy.`
    )
  }
  return roleArn
}

function canParseUrl(url: string): boolean {
  try {
    new URL(url)
    return true
  } catch {
    return false
  }
}

/** `http-proxy`: an http(s) URL, or '' to follow HTTPS_PROXY/NO_PROXY. */
export function readHttpProxy(raw: RawInputs): string {
  const proxy = text(raw, 'http-proxy')
  if (proxy !== '' && (!/^https?:\/\/[^\s/]+(?:\/\S*)?$/.test(proxy) || !canParseUrl(proxy))) {
    throw new InputError(
      `Input 'http-proxy' ('${shown(hideUserInfo(proxy))}') must be a URL such as http://proxy.example.com:3128.`
    )
  }
  return proxy
}
