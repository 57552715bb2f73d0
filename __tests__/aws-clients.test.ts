import { describe, expect, it } from '@jest/globals'
import { createAwsClients } from '../src/aws-clients.js'

describe('createAwsClients', () => {
  const clients = createAwsClients('ap-southeast-2')

  it.each(['sts', 'ecr', 's3', 'cloudformation'] as const)(
    'gives the %s client the region, 8 attempts and adaptive retries',
    async (name) => {
      const config = clients[name].config
      await expect(config.region()).resolves.toBe('ap-southeast-2')
      await expect(config.maxAttempts()).resolves.toBe(8)
      // The strategy the SDK built from retryMode, not only the option as passed.
      expect(await config.retryStrategy()).toHaveProperty('mode', 'adaptive')
      expect(config.customUserAgent).toEqual([['oci-stack-deploy']])
    }
  )
})
