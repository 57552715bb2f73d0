/**
 * Idempotency tokens for CloudFormation's writes (ClientToken on CreateChangeSet,
 * ClientRequestToken on ExecuteChangeSet and DeleteStack). The SDK retries a call whose answer
 * was lost with the same input, so the token lets CloudFormation recognise a call it already
 * acted on. One token per logical operation of one run attempt: a re-run of the job gets new ones.
 */
import { createHash, randomBytes } from 'node:crypto'

/** Outside Actions there is no run id: one per process, so a later run never reuses a token. */
const LOCAL_RUN = `local${randomBytes(4).toString('hex')}`

/** The writes that carry a token; each gets its own. */
export type TokenOperation = 'create-change-set' | 'execute' | 'delete' | 'delete-failed'

/**
 * `oci-<operation>-<run id>-<attempt>-<hash>`: the run from GITHUB_RUN_ID/GITHUB_RUN_ATTEMPT
 * (a random id per process outside Actions), the hash from `subject` (stack and change set), at most 128
 * characters of `[a-zA-Z0-9-]` as CloudFormation requires.
 */
export function requestToken(
  operation: TokenOperation,
  subject: string,
  env: NodeJS.ProcessEnv = process.env
): string {
  const clean = (value: string | undefined, fallback: string): string =>
    (value ?? '').replace(/[^A-Za-z0-9]+/g, '').slice(0, 24) || fallback
  const run = `${clean(env.GITHUB_RUN_ID, LOCAL_RUN)}-${clean(env.GITHUB_RUN_ATTEMPT, '1')}`
  const hash = createHash('sha256').update(`${operation}\n${subject}`).digest('hex').slice(0, 16)
  return `oci-${operation}-${run}-${hash}`
}
