/**
 * Readers of the CloudFormation deploy options, as aws-cloudformation-github-deploy offers them:
 * stack tags, the change set name, notification topics, rollback triggers and the deployment mode.
 */
import { InputError } from '../base/errors.js'
import { shown } from '../base/untrusted.js'
import { list, text } from './text.js'
import type { RawInputs } from './raw.js'
import { parseKeyValueLines, type KeyValue } from '../rules/parse.js'

/** CloudFormation takes at most this many notification topics, and as many rollback alarms. */
const MAX_ARNS = 5

/** `tags`: KEY=VALUE lines within CloudFormation's tag limits. */
export function readTags(raw: RawInputs): KeyValue[] {
  const tags = parseKeyValueLines(raw['tags'], 'tags')
  for (const tag of tags) {
    if (tag.key.startsWith('aws:') || tag.key.length > 128 || tag.value.length > 256) {
      throw new InputError(
        `Input 'tags' line ${tag.line}: tag '${tag.key}' is not allowed: keys are 1-128 characters not starting with 'aws:', values at most 256.`
      )
    }
  }
  return tags
}

/** `change-set-name`: '' lets the action name the change set. */
export function readChangeSetName(raw: RawInputs): string {
  const changeSetName = text(raw, 'change-set-name')
  if (
    changeSetName !== '' &&
    (!/^[A-Za-z][-A-Za-z0-9]*$/.test(changeSetName) || changeSetName.length > 128)
  ) {
    throw new InputError(
      `Input 'change-set-name' ('${shown(changeSetName)}') is not a valid change set name: start with a letter, use only letters, digits and '-', at most 128 characters.`
    )
  }
  return changeSetName
}

/** `notification-arns`: up to 5 SNS topic ARNs. */
export function readNotificationArns(raw: RawInputs): string[] {
  return readArns(raw, 'notification-arns', 'sns', 'an SNS topic', 'topics')
}

/** `rollback-alarms`: up to 5 CloudWatch alarm ARNs. */
export function readRollbackAlarms(raw: RawInputs): string[] {
  return readArns(raw, 'rollback-alarms', 'cloudwatch', 'a CloudWatch alarm', 'alarms')
}

function readArns(
  raw: RawInputs,
  name: 'notification-arns' | 'rollback-alarms',
  service: string,
  what: string,
  plural: string
): string[] {
  const arns = list(raw, name)
  const pattern = new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:.+$`)
  for (const arn of arns) {
    if (!pattern.test(arn)) {
      throw new InputError(`Input '${name}' has '${arn}', which is not ${what} ARN.`)
    }
  }
  if (arns.length > MAX_ARNS) {
    throw new InputError(
      `Input '${name}' has ${arns.length} ${plural}; CloudFormation takes at most ${MAX_ARNS}.`
    )
  }
  return arns
}

/** `rollback-monitoring-minutes`: 0 to 180, 0 by default. */
export function readRollbackMonitoringMinutes(raw: RawInputs): number {
  const minutes = text(raw, 'rollback-monitoring-minutes')
  // 0 (the default) is valid here, so parsePositiveInt's "between 1 and" message would mislead.
  if (minutes !== '' && (!/^\d+$/.test(minutes) || Number(minutes) > 180)) {
    throw new InputError(
      `Input 'rollback-monitoring-minutes' must be a whole number between 0 and 180, got '${shown(minutes)}'.`
    )
  }
  return minutes === '' ? 0 : Number(minutes)
}

/** `deployment-mode`: '' or REVERT_DRIFT. */
export function readDeploymentMode(raw: RawInputs): '' | 'REVERT_DRIFT' {
  const mode = text(raw, 'deployment-mode')
  if (mode !== '' && mode !== 'REVERT_DRIFT') {
    throw new InputError(
      `Input 'deployment-mode' must be empty or REVERT_DRIFT, got '${shown(mode)}'.`
    )
  }
  return mode
}
