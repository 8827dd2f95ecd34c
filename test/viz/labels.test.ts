import { describe, expect, it } from 'vitest';
import { and, assign, emit, not, or, raise, stateIn } from 'xstate';
import { actionText } from '../../src/viz/action-text.js';
import { guardText } from '../../src/viz/guard-text.js';
import type { ChartTransition } from '../../src/viz/statechart.js';
import { transitionLabel } from '../../src/viz/transition-label.js';

const base: ChartTransition = {
  source: 'm.a',
  targets: ['m.b'],
  trigger: { kind: 'event', event: 'GO' },
  guard: undefined,
  otherwise: false,
  actions: [],
  reenter: false,
};

describe('guard text', () => {
  it('names a guard by its name, a parameterised one by its type', () => {
    expect(guardText('hasInput')).toBe('hasInput');
    expect(guardText({ type: 'above', params: { n: 3 } })).toBe('above');
    expect(guardText(undefined)).toBeUndefined();
  });

  it('spells out and, or and not, with parentheses only where they change the meaning', () => {
    expect(guardText(and(['a', 'b']))).toBe('a and b');
    expect(guardText(or(['a', and(['b', 'c'])]))).toBe('a or (b and c)');
    expect(guardText(and(['a', or(['b', not('c')])]))).toBe('a and (b or not c)');
    expect(guardText(not(and(['a', 'b'])))).toBe('not (a and b)');
  });

  it('writes stateIn as "in" and the state', () => {
    expect(guardText(stateIn('#m.busy'))).toBe('in #m.busy');
    expect(guardText(stateIn({ job: 'running' }))).toBe('in {"job":"running"}');
  });

  it('names an inline guard by its function name, else "inline"', () => {
    expect(guardText(function isReady() {})).toBe('isReady');
    expect(guardText(() => true)).toBe('inline');
    const config = { guard: () => true };
    expect(guardText(config.guard)).toBe('inline');
  });
});

describe('action text', () => {
  it('names named, parameterised, built-in and inline actions', () => {
    expect(actionText('deliver')).toBe('deliver');
    expect(actionText({ type: 'opened', params: { reason: 'forced' } })).toBe('opened');
    expect(actionText(assign({}))).toBe('assign');
    expect(actionText(raise({ type: 'X' }))).toBe('raise');
    expect(actionText(emit({ type: 'x' }))).toBe('emit');
    expect(actionText(function tidyUp() {})).toBe('tidyUp');
    expect(actionText(() => {})).toBe('inline');
  });
});

describe('transition labels', () => {
  it('reads EVENT [guard] / actions', () => {
    expect(transitionLabel({ ...base, guard: 'ok', actions: ['a', 'b'] }, { actions: true })).toBe('GO [ok] / a, b');
    expect(transitionLabel({ ...base, guard: 'ok', actions: ['a', 'b'] }, { actions: false })).toBe('GO [ok]');
  });

  it('writes delays in milliseconds or by name', () => {
    expect(transitionLabel({ ...base, trigger: { kind: 'after', delay: 5000 } }, { actions: true })).toBe('after 5000ms');
    expect(transitionLabel({ ...base, trigger: { kind: 'after', delay: 'openDelay' } }, { actions: true })).toBe('after openDelay');
  });

  it('names eventless, done and actor transitions', () => {
    expect(transitionLabel({ ...base, trigger: { kind: 'always' }, guard: 'g' }, { actions: true })).toBe('always [g]');
    expect(transitionLabel({ ...base, trigger: { kind: 'done' } }, { actions: true })).toBe('done');
    expect(transitionLabel({ ...base, trigger: { kind: 'invoke', outcome: 'error', actor: 'call' } }, { actions: true })).toBe('call error');
    expect(transitionLabel({ ...base, trigger: { kind: 'history' } }, { actions: true })).toBe('');
  });

  it('marks the fallback after guarded candidates, and a re-entering transition', () => {
    expect(transitionLabel({ ...base, otherwise: true }, { actions: true })).toBe('GO [else]');
    expect(transitionLabel({ ...base, reenter: true, actions: ['x'] }, { actions: true })).toBe('GO / x (reenter)');
  });
});
