/**
 * The raw text of every input, as the runner hands it over: the one record every reader in
 * inputs/ takes, so the readers and `inputs.ts` (which composes them) never import each other.
 */
import * as core from '@actions/core'

/** The inputs that apply only beside `stack-set-name` (refused without it). */
export const STACK_SET_INPUT_NAMES = [
  'accounts',
  'organizational-units',
  'call-as',
  'max-concurrent',
  'failure-tolerance',
  'region-concurrency',
  'concurrency-mode',
  'region-order',
  'administration-role-arn',
  'execution-role-name',
  'auto-deployment',
  'managed-execution',
  'retain-stacks',
  'repository-policy'
] as const

/** Every input of action.yml (a contract test keeps the two lists equal). */
export const INPUT_NAMES = [
  'dockerfile',
  'context',
  'binary',
  'label-name',
  'build-id',
  'build-args',
  'platform',
  'target',
  'bucket',
  'stack-name',
  'template',
  'image-parameter',
  'parameter-overrides',
  'capabilities',
  'tags',
  'region',
  'create-repository',
  'no-fail-on-empty-changeset',
  'timeout-minutes',
  'mode',
  'stack-name-suffix',
  'code-archive',
  'archive-key-parameter',
  'archive-version-parameter',
  'image-tags',
  'pin-digest',
  'protect-images',
  'fail-on-expirable-image',
  'cache-from',
  'build-cache',
  'change-set-name',
  'execute-change-set',
  'delete-image',
  'role-arn',
  'notification-arns',
  'termination-protection',
  'disable-rollback',
  'rollback-alarms',
  'rollback-monitoring-minutes',
  'deployment-mode',
  'include-nested-stacks',
  'express',
  'http-proxy',
  'github-token',
  'pr-comment',
  'image',
  'repository',
  'regions',
  'stack-set-name',
  ...STACK_SET_INPUT_NAMES
] as const
export type InputName = (typeof INPUT_NAMES)[number]

/** The raw text of every input, as `core.getInput` returns it ('' when not set). */
export type RawInputs = Record<InputName, string>

/** Reads every input through `@actions/core`, untrimmed: each reader trims its own, and a KEY=VALUE value is kept exactly. */
export function readRawInputs(): RawInputs {
  const raw = {} as RawInputs
  for (const name of INPUT_NAMES) raw[name] = core.getInput(name, { trimWhitespace: false })
  return raw
}
