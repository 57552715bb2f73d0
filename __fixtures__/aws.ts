/**
 * Typed stand-ins every AWS-facing test shares: the account and region, SDK-shaped errors, and a
 * capture of what `@actions/core` writes to stdout. CloudFormation's stacks, events and change sets
 * are in `cloudformation.ts`.
 */
import { jest } from '@jest/globals'

export const ACCOUNT_ID = '123456789012'
export const REGION = 'eu-west-1'

/** An error shaped like an SDK service exception: what the code reads is `name` and `message`. */
export function awsError(name: string, message: string): Error {
  const error = new Error(message)
  error.name = name
  return error
}

/** Captures what `@actions/core` writes to stdout (info, `::warning::`, `::add-mask::`…) as lines. */
export function captureStdout(): {
  lines: () => string[]
  text: () => string
  restore: () => void
} {
  const chunks: string[] = []
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    chunks.push(
      typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8')
    )
    return true
  })
  return {
    lines: () =>
      chunks
        .join('')
        .split(/\r?\n/)
        .filter((line) => line !== ''),
    /** Everything written, as written (lone CRs included). */
    text: () => chunks.join(''),
    restore: () => spy.mockRestore()
  }
}
