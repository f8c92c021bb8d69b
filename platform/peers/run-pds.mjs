// The Bluesky PDS (@atproto/pds) for the interoperability tests, on 127.0.0.1 only. Configured
// from the environment (PDS_* variables, see tests/peers/servers.py); no crawlers, AppView or
// moderation service are configured, so it makes no outbound calls except to the local PLC.
//   PODIUM_PEERS_DIR=<cache> PDS_PORT=2583 ... node run-pds.mjs   (Node 22 from install.sh)
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'

const peers = process.env.PODIUM_PEERS_DIR || path.join(os.homedir(), '.cache', 'podium-peers')
const require = createRequire(path.join(peers, 'pds', 'package.json'))
const { PDS, readEnv } = require('@atproto/pds')

// Nothing outbound: no crawler, AppView, moderation, report, entryway, mail or S3 service, and the
// PLC directory on this machine.
const outbound = [
  'PDS_CRAWLERS', 'PDS_BSKY_APP_VIEW_URL', 'PDS_MOD_SERVICE_URL', 'PDS_REPORT_SERVICE_URL',
  'PDS_ENTRYWAY_URL', 'PDS_EMAIL_SMTP_URL', 'PDS_MODERATION_EMAIL_SMTP_URL', 'PDS_BLOBSTORE_S3_BUCKET',
]
for (const name of outbound) {
  if (process.env[name]) {
    console.error(`${name} is set: the test PDS must not talk to anything outside this machine`)
    process.exit(2)
  }
}
const plcHost = new URL(process.env.PDS_DID_PLC_URL || 'https://plc.directory').hostname
if (plcHost !== 'localhost') {
  console.error('PDS_DID_PLC_URL must be http://localhost:<port> (the local PLC directory)')
  process.exit(2)
}

const pds = await PDS.fromEnv(readEnv())
// PDS.start() calls app.listen(port), which binds every interface.
const listen = pds.app.listen.bind(pds.app)
pds.app.listen = (port, ...rest) => listen(port, '127.0.0.1', ...rest)

const stop = async () => {
  try {
    await pds.destroy()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
await pds.start()
console.log(`PDS listening on http://127.0.0.1:${process.env.PDS_PORT}`)
