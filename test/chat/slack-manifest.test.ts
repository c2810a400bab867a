// slack/manifest.yaml must match what pipewarden serves: the same paths, the default command name,
// the scopes the issue asks for, and HTTP mode by default.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SLACK_ACTIONS_PATH, SLACK_COMMANDS_PATH, SLACK_EVENTS_PATH } from '../../src/chat/slack-receiver.ts';
import { slackSchema } from '../../src/config/schema.ts';

interface Manifest {
  features: { slash_commands: Array<{ command: string; url: string }> };
  oauth_config: { scopes: { bot: string[] } };
  settings: { interactivity: { is_enabled: boolean; request_url: string }; event_subscriptions: { request_url: string }; socket_mode_enabled: boolean };
}

const manifest = parse(readFileSync(new URL('../../slack/manifest.yaml', import.meta.url), 'utf8')) as Manifest;
const path = (url: string): string => new URL(url).pathname;

describe('slack/manifest.yaml', () => {
  it('points the command, interactivity and events at the paths pipewarden mounts', () => {
    const [command] = manifest.features.slash_commands;
    expect(command?.command).toBe(slackSchema.parse({}).command);
    expect(path(command?.url ?? '')).toBe(SLACK_COMMANDS_PATH);
    expect(manifest.settings.interactivity).toMatchObject({ is_enabled: true });
    expect(path(manifest.settings.interactivity.request_url)).toBe(SLACK_ACTIONS_PATH);
    expect(path(manifest.settings.event_subscriptions.request_url)).toBe(SLACK_EVENTS_PATH);
    expect(manifest.settings.socket_mode_enabled).toBe(false);
  });

  it('asks for the bot scopes the app needs', () => {
    expect(manifest.oauth_config.scopes.bot.sort()).toEqual(['chat:write', 'commands', 'usergroups:read', 'users:read']);
  });
});
