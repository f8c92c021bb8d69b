// The local PLC directory (@did-plc/server) for the Bluesky interoperability tests, on 127.0.0.1
// only, with the in-memory database that @atproto/dev-env's TestPlc uses (a restart forgets every
// DID: restart the PDS with fresh data too).
//   PODIUM_PEERS_DIR=<cache> PORT=2582 node run-plc.cjs      (Node 22 from platform/peers/install.sh)
'use strict'
const path = require('node:path')
const os = require('node:os')
const { createRequire } = require('node:module')

const peers = process.env.PODIUM_PEERS_DIR || path.join(os.homedir(), '.cache', 'podium-peers')
const requireFromPeers = createRequire(path.join(peers, 'plc', 'package.json'))
const { PlcServer, Database } = requireFromPeers('@did-plc/server')

const port = parseInt(process.env.PORT || '2582', 10)
const server = PlcServer.create({ db: Database.mock(), port })
// PlcServer.start() calls app.listen(port), which binds every interface.
const listen = server.app.listen.bind(server.app)
server.app.listen = (p, ...rest) => listen(p, '127.0.0.1', ...rest)

const stop = async () => {
  try {
    await server.destroy()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
server.start().then(() => console.log(`PLC listening on http://127.0.0.1:${port}`))
