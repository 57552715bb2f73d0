/**
 * What a run tells the reporters: the finished run (`Report`, one `RegionResult` per region) or the
 * failed one (`FailureReport`, with the `KnownValues` it could set). report.ts, summary.ts and
 * output-sink.ts all read these, so they live here, below all three.
 */
import type { Output } from '@aws-sdk/client-cloudformation'
import type { FailedResource } from '../base/errors.js'
import type { ResourceChangeRow } from '../aws/cloudformation/types.js'
import type { ParameterChange } from '../rules/stack-rules.js'
import type { InstanceResult } from '../rules/stack-set.js'

/** What a finished run hands to `report`. */
export interface Report {
  /** The mode that ran (deploy when absent). */
  mode?: 'deploy' | 'review' | 'noop' | 'delete' | 'execute'
  buildId: string
  imageUri: string
  imageDigest: string
  /** `registry/repository@sha256:…` (image mode). */
  imageUriPinned?: string
  /** Zip mode: the package's S3 key and version. */
  archiveKey?: string
  archiveVersion?: string
  templateUrl: string
  stackName: string
  stackId: string
  stackStatus: string
  changeSetId: string
  noChanges: boolean
  changes: ResourceChangeRow[]
  /** UPDATE change sets: the parameters whose values change (shown under the changes). */
  parameterChanges?: ParameterChange[]
  /** False when the change set was made but not executed (review): the summary says so. */
  executed?: boolean
  /** A deploy-like mode: true when the change set was created in express mode (`deployment-config`). */
  express?: boolean
  /** Also write has-changes, changes-count, changes-summary and changes-markdown. */
  changeOutputs?: boolean
  outputs: Output[]
  /** Seconds per phase, in order. */
  phases: Array<{ name: string; seconds: number }>
  /**
   * Delete with `delete-image`: what happened to the stack's image (`imageUri` names it). Absent:
   * an `imageUri` means deleted, none means kept.
   */
  imageCleanup?: 'deleted' | 'not-found' | 'kept'
  /**
   * A deploy or review: each region's result, in the order of `regions` (one entry for a single
   * region). The other fields describe the first region.
   */
  regions?: RegionResult[]
  /** A stack set run (`stack-set-name`): the set, its operations and every instance. */
  stackSet?: StackSetResult
}

/** What a stack set run did: the outputs stack-set-id, operation-id, instances and the table. */
export interface StackSetResult {
  stackSetId: string
  /** The operations this run started (or followed), in order. */
  operations: Array<{ id: string; action: string; status: string }>
  /** Every instance: the last operation's result where it ran, else the instance's status. */
  instances: Array<InstanceResult & { imageUri: string }>
  /** Why the step fails (an operation failed or stopped), naming the instances; absent if not. */
  error?: string
}

/** What one region of a deploy ended with: the `deployments` output and the summary's table. */
export interface RegionResult {
  region: string
  accountId: string
  stackName: string
  stackId: string
  stackStatus: string
  imageUri: string
  imageUriPinned: string
  imageDigest: string
  outputs: Output[]
  /** Why the region failed; absent when it did not. */
  error?: string
}

/** What was already known when a run failed: the outputs it could set. */
export interface KnownValues {
  imageUri?: string
  imageDigest?: string
  imageUriPinned?: string
  archiveKey?: string
  templateUrl?: string
  stackId?: string
  changeSetId?: string
  buildId?: string
}

/** What a failed run hands to `writeFailureSummary`. */
export interface FailureReport {
  mode?: Report['mode']
  stackName: string
  /** The phase that failed, as the log group names it (`Deploy stack`). */
  phase: string
  /** The error the step fails with. */
  error: string
  /** The stack's status now; undefined when it could not be read, DOES_NOT_EXIST when none. */
  stackStatus?: string
  failedResources?: FailedResource[]
  known?: KnownValues
  /** What to do next; derived from the stack's status when absent. */
  nextSteps?: string[]
  phases?: Report['phases']
}
