import { and, assign, createMachine, fromPromise, not, or, raise, setup, stateIn } from 'xstate';

/** Flat: events, a guard, delays by number and by name, targetless, self and re-entering transitions, a final state. */
export const light = setup({
  delays: { redDelay: 1_000 },
  guards: { isEmergency: () => false },
  actions: { log: () => {}, count: () => {} },
}).createMachine({
  id: 'light',
  initial: 'green',
  states: {
    green: {
      on: {
        TIMER: 'yellow',
        EMERGENCY: { guard: 'isEmergency', target: 'red', actions: ['log', 'count'] },
        PING: { actions: 'log' },
        RESTART: { target: 'green', reenter: true },
        STAY: { target: 'green' },
      },
    },
    yellow: { after: { 5000: 'red' } },
    red: { after: { redDelay: 'green' }, on: { OFF: 'off' } },
    off: { type: 'final' },
  },
});

/** Nested: a compound state with an invoked actor, its onDone, a transition into its own child, one out of it. */
export const editor = setup({ actors: { save: fromPromise(async () => 1) } }).createMachine({
  id: 'editor',
  initial: 'idle',
  states: {
    idle: { on: { EDIT: 'editing' } },
    editing: {
      initial: 'typing',
      on: { CANCEL: 'idle', UNDO: '.typing' },
      onDone: 'idle',
      states: {
        typing: { on: { SAVE: 'saving' } },
        saving: { invoke: { src: 'save', onDone: 'saved', onError: 'typing' } },
        saved: { type: 'final' },
      },
    },
  },
});

/** Parallel regions, a transition with two targets, history states (deep, and shallow with a default). */
export const text = createMachine({
  id: 'text',
  type: 'parallel',
  on: { CLEAR: { target: ['.bold.off', '.italic.off'] } },
  states: {
    bold: {
      initial: 'off',
      states: {
        off: { on: { BOLD: 'on' } },
        on: { on: { BOLD: 'off' } },
        deep: { type: 'history', history: 'deep' },
      },
    },
    italic: {
      initial: 'off',
      states: {
        off: { on: { ITALIC: 'on' } },
        on: { on: { ITALIC: 'off', BACK: '#text.bold.deep' } },
        last: { type: 'history', target: 'on' },
      },
    },
  },
});

/** Guards in every form XState has, and actions (named, parameterised, built-in, inline). */
export const guarded = setup({
  guards: { a: () => true, b: () => true, c: () => true, p: (_, _params: { n: number }) => true },
  actions: { named: () => {}, withParams: (_, _params: { n: number }) => {} },
}).createMachine({
  id: 'guarded',
  initial: 'one',
  states: {
    one: {
      on: {
        COMBINED: { guard: and(['a', or(['b', not('c')])]), target: 'two' },
        IN: { guard: stateIn('#guarded.two'), target: 'two' },
        PARAMS: { guard: { type: 'p', params: { n: 1 } }, target: 'two' },
        INLINE: { guard: () => true, target: 'two' },
        ACTIONS: {
          actions: ['named', { type: 'withParams', params: { n: 2 } }, assign({}), raise({ type: 'COMBINED' }), function tidyUp() {}],
        },
      },
    },
    two: {},
  },
});

/** Names no diagram syntax takes as they are: spaces, quotes, dots, punctuation, keywords. */
export const awkward = createMachine({
  id: 'awk "ward"',
  initial: 'with space',
  states: {
    'with space': {
      on: {
        'say "hi"': 'quote"d',
        'a:b;c': 'x-y',
        '#1 %% 50%': '{brace}',
        '<b>bold</b> & co': 'default',
        'turn direction LR': 'state',
        'back\\slash \\N': 'end',
        'dotted.event': '#dotted',
        'two\nlines': 'x_y',
        '*': 'über',
      },
    },
    'quote"d': {},
    'x-y': {},
    '{brace}': {},
    default: {},
    state: {},
    end: {},
    'a.b': { id: 'dotted' },
    x_y: {},
    über: {},
    class: { type: 'final' },
  },
});

/** The keys of `awkward`'s states, as a diagram must show them. */
export const AWKWARD_STATES = ['with space', 'quote"d', 'x-y', '{brace}', 'default', 'state', 'end', 'a.b', 'x_y', 'über', 'class'];

/** The events of `awkward`, as a diagram must show them (a line break becomes a space in Mermaid). */
export const AWKWARD_EVENTS = ['say "hi"', 'a:b;c', '#1 %% 50%', '<b>bold</b> & co', 'turn direction LR', 'back\\slash \\N', 'dotted.event', 'two\nlines', '*'];
