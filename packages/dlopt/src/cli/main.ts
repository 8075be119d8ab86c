import { Command, CommanderError } from '@commander-js/extra-typings';
import { createRequire } from 'node:module';
import { DloptError, describeError } from '../errors.js';
// Saved models may use dlopt's own layers: register them before any command loads one.
import '../layers/all-layers.js';
import { out } from './console.js';
import { evaluateCommand } from './evaluate-command.js';
import { pruneCommand } from './prune-command.js';
import { reportCommand } from './report-command.js';
import { studyCommand } from './study-command.js';
import { summaryCommand } from './summary-command.js';
import { trainCommand } from './train-command.js';
import { tuneCommand } from './tune-command.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

export function buildProgram() {
  const hint = '(run with --help for usage)';
  return new Command('dlopt')
    .description('Train TensorFlow.js models and make them better, smaller and faster')
    .version(pkg.version, '-V, --version')
    .showHelpAfterError(hint)
    .exitOverride()
    .addCommand(trainCommand().exitOverride().showHelpAfterError(hint))
    .addCommand(evaluateCommand().exitOverride().showHelpAfterError(hint))
    .addCommand(summaryCommand().exitOverride().showHelpAfterError(hint))
    .addCommand(pruneCommand().exitOverride().showHelpAfterError(hint))
    .addCommand(tuneCommand().exitOverride().showHelpAfterError(hint))
    .addCommand(reportCommand().exitOverride().showHelpAfterError(hint))
    .addCommand(withSubcommands(studyCommand(), hint));
}

/** Exit override and help-after-error on a command and each of its subcommands. */
function withSubcommands<T extends Command>(command: T, hint: string): T {
  command.exitOverride().showHelpAfterError(hint);
  for (const sub of command.commands) sub.exitOverride().showHelpAfterError(hint);
  return command;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 usage error. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed the message (or the help / version) already.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof DloptError) {
      out.error(error.message);
      return error.exitCode;
    }
    out.error(`unexpected failure: ${describeError(error)}`);
    if (process.env.DLOPT_DEBUG) console.error(error);
    else out.info('This is a bug in dlopt; run again with DLOPT_DEBUG=1 to see where it happened, and report it.');
    return 1;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
