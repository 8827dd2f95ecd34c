// A Lua script sent by its SHA1 (EVALSHA), and by its source when the server does not know it yet
// (a first use, or a restarted server whose script cache is empty).
import { createHash } from 'node:crypto';
import { ErrorReply } from 'redis';

/** Arguments a script takes: keys and values, strings or bytes. */
export type ScriptArgument = string | Buffer;

/** A Lua script and its SHA1. */
export interface RedisScript {
  readonly source: string;
  readonly sha: string;
}

/** What a script runs on: a client, or its Buffer-reading view. */
export interface ScriptRunner {
  evalSha(sha: string, options: { keys: ScriptArgument[]; arguments: ScriptArgument[] }): Promise<unknown>;
  eval(source: string, options: { keys: ScriptArgument[]; arguments: ScriptArgument[] }): Promise<unknown>;
}

/** Wraps Lua source as a {@link RedisScript}. */
export function luaScript(source: string): RedisScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Runs `script` atomically on the server: EVALSHA, falling back to EVAL on NOSCRIPT. */
export async function runScript(runner: ScriptRunner, script: RedisScript, keys: ScriptArgument[], args: ScriptArgument[]): Promise<unknown> {
  const options = { keys, arguments: args };
  try {
    return await runner.evalSha(script.sha, options);
  } catch (error) {
    if (!(error instanceof ErrorReply) || !error.message.startsWith('NOSCRIPT')) throw error;
    return runner.eval(script.source, options);
  }
}
