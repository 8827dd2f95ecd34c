import { describe, expect, it } from 'vitest';
import { createPipeline as createPipelineIn } from '../../src/pipeline/pipeline.js';
import { defineStage, fromIterable, toArray } from '../../src/index.js';
import { expectConfigError } from '../helpers/config-error.js';

const pass = defineStage({ name: 'pass', process: (n: number) => ({ emit: [n] }) });

describe('the process host', () => {
  it('refuses exitOnEscalate on a pipeline made without the process (the runtime never ends a process itself)', () => {
    const make = () => createPipelineIn({ name: 'p', source: fromIterable([1]), stages: [pass], sink: toArray(), logLevel: 'silent', supervision: { exitOnEscalate: 3 } });
    const error = expectConfigError(make, 'pipeline.supervision.exitOnEscalate', 3, '3');
    expect(error.message).toContain('package entry');
  });

  it('calls the host it was given, with the asked code, once the supervisor gave up and the run ended', async () => {
    const exits: number[] = [];
    const crash = defineStage({
      name: 'crash',
      onFailure: 'restart',
      process: () => {
        throw new Error('always');
      },
    });
    const pipeline = createPipelineIn(
      { name: 'p', source: fromIterable([1, 2, 3]), stages: [crash], sink: toArray(), logLevel: 'silent', onError: () => {}, supervision: { maxRestarts: 1, backoff: { minMs: 0, maxMs: 0 }, exitOnEscalate: 4 } },
      { exit: (code) => exits.push(code) },
    );
    await expect(pipeline.run()).rejects.toMatchObject({ code: 'RESTART_INTENSITY_EXCEEDED' });
    expect(exits).toEqual([4]);
  });
});
