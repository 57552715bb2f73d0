/**
 * Stack set stand-ins: examples/hello/stack-set.yaml, whose instances build their image URI with
 * `${AWS::Region}` from the three parameters the action fills.
 */
import { readFileSync } from 'node:fs'

/** The example service as a stack set template. */
export const STACK_SET_TEMPLATE = readFileSync(
  new URL('../examples/hello/stack-set.yaml', import.meta.url),
  'utf8'
)
