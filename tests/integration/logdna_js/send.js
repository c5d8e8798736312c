// Sends numbered lines through an official LogDNA library, unchanged but for its URL option.
// usage: node send.js <logger|legacy> <ingestion key> <ingest url> <hostname> <app> <count>
const [library, key, url, hostname, app, countText] = process.argv.slice(2)
const count = Number(countText)
const levels = ['debug', 'info', 'warn', 'error', 'fatal']

if (library === 'logger') {
  const { createLogger } = require('@logdna/logger')
  const logger = createLogger(key, { url, hostname, app, indexMeta: true, flushIntervalMs: 50 })
  logger.on('error', (err) => { console.error('logger error', err.message); process.exitCode = 1 })
  for (let i = 0; i < count; i++) {
    logger.log(`npm logger line ${i}`, { level: levels[i % levels.length], meta: { seq: i, kind: 'logger' } })
  }
  logger.on('cleared', () => process.exit(process.exitCode || 0))
  logger.flush()
} else {
  const Logger = require('logdna')
  const log = Logger.createLogger(key, { logdna_url: url, hostname, app, index_meta: true })
  for (let i = 0; i < count; i++) {
    log.log(`npm legacy line ${i}`, { level: levels[i % levels.length], meta: { seq: i, kind: 'legacy' } })
  }
  Logger.flushAll((err) => {
    if (err) { console.error('legacy error', err); process.exit(1) }
    process.exit(0)
  })
}
