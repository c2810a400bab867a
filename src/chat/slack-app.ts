// The Slack app: Bolt with the slash command router, reached either through pipewarden's HTTP
// server (signing secret, `/slack/*` routes) or through Socket Mode (app token: pipewarden opens
// the connection, so no public URL is needed). Which one follows from the config alone.
//
// `authorize` hands Bolt the configured bot token instead of letting it call `auth.test` per
// workspace: pipewarden serves one workspace, and an outage of auth.test must not stop `/ack`.

import { App, LogLevel, SocketModeReceiver, type Logger as BoltLogger, type Receiver } from '@slack/bolt';
import type pg from 'pg';
import type { Config } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import type { HttpServer } from '../http/server.ts';
import type { LoadedRunbook } from '../runbooks/loaded-runbook.ts';
import type { Logger } from '../telemetry/logger.ts';
import { HttpSlackReceiver } from './slack-receiver.ts';
import type { ChatOperation } from './access-control.ts';
import { registerButtonActions } from './button-actions.ts';
import { createAuthorizer, type Authorizer } from './slack-roles.ts';
import { planSlashCommand, slashCommandOperation } from './slash-command.ts';

export type SlackConfig = NonNullable<Config['slack']>;

export interface SlackAppDependencies {
  config: Config;
  pool: pg.Pool;
  logger: Logger;
  now: () => Date;
  /** The runbooks the daemon loaded; undefined until they are (the runbook runtime opens after the routes mount). */
  runbooks?: () => readonly LoadedRunbook[] | undefined;
}

export interface SlackApp {
  mode: 'http' | 'socket';
  app: App;
  receiver: Receiver;
  /** Mounts `/slack/commands`, `/slack/actions`, `/slack/events` (HTTP mode; nothing in Socket Mode). */
  mount(server: HttpServer): void;
  /** Opens the Socket Mode connection (HTTP mode: nothing to open). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Whether the config asks for the Slack app at all: an app token, or a signing secret for HTTP. */
export function slackAppWanted(slack: Config['slack']): slack is SlackConfig {
  return slack !== undefined && (nonEmpty(slack.app_token) || nonEmpty(slack.signing_secret));
}

export function createSlackApp(dependencies: SlackAppDependencies): SlackApp {
  const { config, logger } = dependencies;
  const slack = config.slack;
  if (!slackAppWanted(slack)) throw new Error('createSlackApp needs slack.app_token or slack.signing_secret');
  const slackLogger = logger.child({ component: 'slack' });
  const boltLogger = toBoltLogger(slackLogger);
  const socket = nonEmpty(slack.app_token);
  const receiver: Receiver = socket
    ? new SocketModeReceiver({ appToken: slack.app_token as string, logger: boltLogger })
    : new HttpSlackReceiver({ signingSecret: slack.signing_secret as string, logger, now: () => dependencies.now().getTime() });
  const app = new App({
    receiver,
    logger: boltLogger,
    authorize: () => Promise.resolve(nonEmpty(slack.bot_token) ? { botToken: slack.bot_token } : {}),
    ...(slack.api_url === undefined ? {} : { clientOptions: { slackApiUrl: slack.api_url } }),
  });
  app.error((error) => {
    slackLogger.error({ err: error }, `Slack listener failed: ${errorMessage(error)}`);
    return Promise.resolve();
  });
  const authorizer = createAuthorizer({
    roles: slack.roles,
    defaultRole: slack.default_role,
    client: app.client,
    token: nonEmpty(slack.bot_token) ? slack.bot_token : undefined,
    now: dependencies.now,
  });
  registerSlashCommand(app, dependencies, slack.command, authorizer, slackLogger);
  registerButtonActions(app, { ...dependencies, command: slack.command, authorizer, logger: slackLogger });
  return {
    mode: socket ? 'socket' : 'http',
    app,
    receiver,
    mount(server) {
      if (receiver instanceof HttpSlackReceiver) receiver.mount(server);
    },
    async start() {
      if (socket) await app.start();
    },
    async stop() {
      if (socket) await app.stop();
    },
  };
}

/**
 * How long a slash command waits for the role check (a user-group lookup at Slack when the cache
 * is cold) before acknowledging empty: past it, the answer — refusal or result — comes through
 * `response_url` instead of the acknowledgement, so Slack never times out on a slow lookup.
 */
export const ROLE_CHECK_WAIT_MS = 1_500;

function registerSlashCommand(app: App, dependencies: SlackAppDependencies, command: string, authorizer: Authorizer, logger: Logger): void {
  app.command(command, async ({ command: received, ack, respond }) => {
    let acked = false;
    const ackEmpty = async (): Promise<void> => {
      if (acked) return;
      acked = true;
      await ack();
    };
    // In the acknowledgement while it is not sent yet, through response_url after.
    const answer = async (text: string): Promise<void> => {
      if (acked) {
        await respond({ response_type: 'ephemeral', text });
        return;
      }
      acked = true;
      await ack({ response_type: 'ephemeral', text });
    };
    const operation = slashCommandOperation(received.text);
    if (operation !== undefined) {
      const check = refusalFor(authorizer, received.user_id, operation, logger);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), ROLE_CHECK_WAIT_MS);
      });
      const first = await Promise.race([check, late]);
      clearTimeout(timer);
      if (first === 'late') await ackEmpty();
      const refusal = await check;
      if (refusal !== undefined) {
        await answer(refusal);
        return;
      }
    }
    const plan = planSlashCommand(received.text, { ...dependencies, userId: received.user_id, command });
    if (plan.kind === 'reply') {
      await answer(plan.text);
      return;
    }
    await ackEmpty();
    let text: string;
    try {
      text = await plan.run();
    } catch (error) {
      logger.error({ err: error, text: received.text, user: received.user_id }, `${command} ${received.text} failed: ${errorMessage(error)}`);
      text = 'That did not work: pipewarden hit an internal error (see its log). Try again, or use the `pipewarden` CLI.';
    }
    await respond({ response_type: 'ephemeral', text });
  });
}

/** Undefined when the user's role allows the operation; else what they are told. */
async function refusalFor(authorizer: Authorizer, userId: string, operation: ChatOperation, logger: Logger): Promise<string | undefined> {
  try {
    const decision = await authorizer(userId, operation);
    return decision.allowed ? undefined : (decision.reason ?? 'Your pipewarden role does not allow that.');
  } catch (error) {
    logger.error({ err: error, user: userId }, `could not look up the Slack user groups of ${userId}: ${errorMessage(error)}`);
    return 'pipewarden could not check your role (the Slack user-group lookup failed; see its log). Try again in a moment.';
  }
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

/** Bolt logs through pino at the matching level; Bolt's own level setting is ignored. */
function toBoltLogger(logger: Logger): BoltLogger {
  const join = (parts: unknown[]): string => parts.map((part) => (typeof part === 'string' ? part : part instanceof Error ? part.message : JSON.stringify(part))).join(' ');
  return {
    debug: (...parts: unknown[]) => logger.debug(join(parts)),
    info: (...parts: unknown[]) => logger.info(join(parts)),
    warn: (...parts: unknown[]) => logger.warn(join(parts)),
    error: (...parts: unknown[]) => logger.error(join(parts)),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}
