// The proxy's HTTP server on loopback: /__faults goes to the control API (control.mjs), every
// other request is forwarded (forward.mjs). Writes the bound port to the port file once
// listening; SIGTERM and SIGINT close it.

import http from 'node:http'
import { writeFileSync, renameSync } from 'node:fs'
import { control } from './control.mjs'
import { forwarder } from './forward.mjs'

/** Listens on `host`:`port` (0: a free one) and forwards to `target` (a URL). */
export function serve({ target, host, port, portFile }) {
  const forward = forwarder(target)
  const server = http.createServer((req, res) => {
    let url
    try {
      url = new URL(req.url || '/', 'http://proxy.invalid')
    } catch {
      res.writeHead(400)
      res.end()
      return
    }
    const isControl = url.pathname === '/__faults' || url.pathname.startsWith('/__faults/')
    const handled = isControl ? control(req, res, url, target) : forward(req, res, url)
    handled.catch((err) => {
      console.error(`fault-proxy: ${req.method} ${url.pathname}: ${err && err.message}`)
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end('fault-proxy internal error')
      } else res.destroy()
    })
  })
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 70_000
  server.requestTimeout = 0 // long uploads stream through

  server.listen(port, host, () => {
    const bound = server.address().port
    if (portFile) {
      writeFileSync(portFile + '.tmp', `${bound}\n`)
      renameSync(portFile + '.tmp', portFile)
    }
    console.log(`fault-proxy: listening on http://${host}:${bound} -> ${target.origin}`)
  })

  const shutdown = () => {
    server.close(() => process.exit(0))
    server.closeAllConnections?.()
    setTimeout(() => process.exit(0), 2000).unref()
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
}
