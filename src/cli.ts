// `netlens run | validate | doctor | --version | --help`. Exit codes: 0 ok, 1 the agent failed at run time (doctor:
// something the configuration needs does not work), 2 bad usage or an invalid configuration (nothing started).
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { factories } from './components.ts'
import { ConfigError } from './config/errors.ts'
import { loadConfigFile } from './config/load.ts'
import type { AgentConfig } from './config/types.ts'
import { renderReport, runDoctor } from './doctor/doctor.ts'
import { Agent } from './pipeline/agent.ts'
import { createLogger, type Logger } from './telemetry/logger.ts'
import { NAME, VERSION } from './version.ts'

export const DEFAULT_CONFIG = fileURLToPath(new URL('../config/default.yaml', import.meta.url))

const USAGE = `Usage: netlens <command> [options]

Commands:
  run        Run the agent until SIGTERM or SIGINT
  validate   Check a configuration file and print a summary of its pipelines
  doctor     Check the kernel, capabilities and collector endpoints against a configuration

Options:
  -c, --config FILE   Configuration file (default: ${DEFAULT_CONFIG})
  -h, --help          Show this help
  -v, --version       Print the version
`

class UsageError extends Error {}

function parse(argv: string[]) {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      allowPositionals: true,
      strict: true,
    })
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`)
    return { ...values, command: positionals[0] }
  } catch (error) {
    throw error instanceof UsageError ? error : new UsageError((error as Error).message)
  }
}

export async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parse>
  try {
    args = parse(argv)
    if (args.help) {
      process.stdout.write(USAGE)
      return 0
    }
    if (args.version) {
      process.stdout.write(`${NAME} ${VERSION}\n`)
      return 0
    }
    if (args.command === undefined) throw new UsageError('missing command')
    if (!['run', 'validate', 'doctor'].includes(args.command)) throw new UsageError(`unknown command "${args.command}"`)
    if (args.config === '') throw new UsageError('--config needs a file name')
  } catch (error) {
    process.stderr.write(`netlens: ${(error as Error).message}\n\n${USAGE}`)
    return 2
  }

  const file = args.config ?? DEFAULT_CONFIG
  let config: AgentConfig
  try {
    config = loadConfigFile(file, { factories })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(error.problems.map((line) => `${line}\n`).join(''))
    process.stderr.write(`netlens: invalid configuration (${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}); nothing started\n`)
    return 2
  }
  for (const warning of config.warnings) process.stderr.write(`warning: ${warning}\n`)

  if (args.command === 'validate') {
    process.stdout.write(summarize(config) + '\n')
    return 0
  }
  if (args.command === 'doctor') {
    const report = await runDoctor(config)
    process.stdout.write(renderReport(report, config.source))
    return report.ok ? 0 : 1
  }
  return run(config, createLogger(config.telemetry.logLevel))
}

/** One paragraph: the pipelines and what each wires together. */
export function summarize(config: AgentConfig): string {
  const list = (ids: string[]) => (ids.length > 0 ? ids.join(', ') : 'none')
  const pipelines = config.pipelines.map((p) => {
    const processors = p.processors.length > 0 ? ` → ${p.processors.join(' → ')}` : ''
    return `${p.name} (${list(p.receivers)}${processors} → ${list(p.exporters)})`
  })
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`
  return (
    `${config.source} is valid: ${count(config.pipelines.length, 'pipeline')}: ${pipelines.join('; ')}. ` +
    `Receivers: ${list([...config.receivers.keys()])}; processors: ${list([...config.processors.keys()])}; ` +
    `exporters: ${list([...config.exporters.keys()])}. Log level ${config.telemetry.logLevel}; health check ` +
    `${config.telemetry.healthEndpoint === '' ? 'disabled' : `on ${config.telemetry.healthEndpoint}`}.`
  )
}

/** Runs until a signal (exit 0 when everything shut down cleanly) or a fatal failure (exit 1). */
function run(config: AgentConfig, logger: Logger): Promise<number> {
  const agent = new Agent(config, { logger })
  // The agent runs until signalled; nothing else may be guaranteed to hold the event loop open.
  const keepAlive = setInterval(() => {}, 1 << 30)
  let finishing: Promise<number> | undefined

  const finish = (reason: string, code: number): Promise<number> => {
    finishing ??= (async () => {
      logger.info('shutting down', { reason })
      const failures = await agent.stop()
      for (const failure of failures) logger.error(failure.message)
      clearInterval(keepAlive)
      logger.info('stopped', { failures: failures.length })
      return failures.length > 0 ? 1 : code
    })()
    return finishing
  }

  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (finishing) {
        logger.error(`received ${signal} again during shutdown; exiting now`)
        process.exit(1)
      }
      void finish(signal, 0).then(resolve)
    }
    const onCrash = (error: unknown) => {
      logger.error('unexpected error; shutting down', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) })
      void finish('unexpected error', 1).then(() => resolve(1))
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
    process.on('uncaughtException', onCrash)
    process.on('unhandledRejection', onCrash)

    logger.info(`${NAME} ${VERSION} starting`, { config: config.source })
    agent.start().then(
      () => logger.info('running'),
      (error: unknown) => {
        logger.error((error as Error).message)
        void finish('start failed', 1).then(() => resolve(1))
      },
    )
  })
}

function isEntryPoint(): boolean {
  const script = process.argv[1]
  if (!script) return false
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`netlens: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      process.exit(1)
    },
  )
}
