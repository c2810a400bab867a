// Runs `pipewarden start` in its own process the way bin/pipewarden.js does (argv in, exit code
// out), but with only the start command registered: the signal tests exercise the real command,
// config loading, daemon and signal handling, and nothing else.

import { Command } from 'commander';
import { startCommand } from '../../src/cli/start.ts';
import { DEFAULT_CONFIG_PATH } from '../../src/cli/cli-io.ts';

const program = new Command('pipewarden').option('-c, --config <path>', 'config file', DEFAULT_CONFIG_PATH).exitOverride();
let exitCode = 0;
startCommand.register(program, { stdout: process.stdout, stderr: process.stderr, env: { ...process.env }, cwd: process.cwd() }, (code) => {
  exitCode = code;
});
try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`error: ${(error as Error).message}\n`);
  exitCode = 1;
}
process.exitCode = exitCode;
