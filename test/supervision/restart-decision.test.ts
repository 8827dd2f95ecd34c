import { describe, expect, it } from 'vitest';
import { EXIT_KINDS, RESTART_TABLE, RESTART_TYPES, shouldRestart } from '../../supervisors/restart-decision.js';

describe('shouldRestart', () => {
  it('restarts a permanent child that exited normally', () => {
    expect(shouldRestart('permanent', 'normal')).toBe(true);
  });

  it('restarts a permanent child that was shut down', () => {
    expect(shouldRestart('permanent', 'shutdown')).toBe(true);
  });

  it('restarts a permanent child that crashed', () => {
    expect(shouldRestart('permanent', 'error')).toBe(true);
  });

  it('does not restart a transient child that exited normally', () => {
    expect(shouldRestart('transient', 'normal')).toBe(false);
  });

  it('does not restart a transient child that was shut down', () => {
    expect(shouldRestart('transient', 'shutdown')).toBe(false);
  });

  it('restarts a transient child that crashed', () => {
    expect(shouldRestart('transient', 'error')).toBe(true);
  });

  it('does not restart a temporary child that exited normally', () => {
    expect(shouldRestart('temporary', 'normal')).toBe(false);
  });

  it('does not restart a temporary child that was shut down', () => {
    expect(shouldRestart('temporary', 'shutdown')).toBe(false);
  });

  it('does not restart a temporary child that crashed', () => {
    expect(shouldRestart('temporary', 'error')).toBe(false);
  });
});

describe('RESTART_TABLE', () => {
  it('prints as OTP documents it: permanent always, transient after an error, temporary never', () => {
    expect(RESTART_TABLE).toEqual({
      permanent: { normal: true, shutdown: true, error: true },
      transient: { normal: false, shutdown: false, error: true },
      temporary: { normal: false, shutdown: false, error: false },
    });
  });

  it('is what shouldRestart answers, cell by cell', () => {
    for (const type of RESTART_TYPES) {
      for (const exit of EXIT_KINDS) expect(shouldRestart(type, exit)).toBe(RESTART_TABLE[type][exit]);
    }
  });

  it('is frozen at both levels, so that no caller can change the decision for everyone', () => {
    expect(Object.isFrozen(RESTART_TABLE)).toBe(true);
    for (const type of RESTART_TYPES) expect(Object.isFrozen(RESTART_TABLE[type])).toBe(true);
  });

  it('lists every restart type and exit kind once, in the documented order', () => {
    expect(RESTART_TYPES).toEqual(['permanent', 'transient', 'temporary']);
    expect(EXIT_KINDS).toEqual(['normal', 'shutdown', 'error']);
    expect(Object.keys(RESTART_TABLE)).toEqual(RESTART_TYPES);
    for (const type of RESTART_TYPES) expect(Object.keys(RESTART_TABLE[type])).toEqual(EXIT_KINDS);
    expect(Object.isFrozen(RESTART_TYPES) && Object.isFrozen(EXIT_KINDS)).toBe(true);
  });
});
