/**
 * Circuit breaker overhead: the cost per call of `async () => 1` run through a circuit breaker
 * (and through a timeout + breaker), with steadfast and with its peers, in one process.
 *
 *   npm run bench -- breaker      (through the runner: builds dist/, writes docs/benchmarks.md)
 *   npm run build && TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx --expose-gc bench/breaker.bench.ts
 *                                 (alone: prints the tables and the JSON result; steadfast is
 *                                 imported from dist/, as the package ships)
 *
 * Env: BENCH_CALLS (calls per measured run, default 1,000,000), BENCH_ROUNDS (default 5),
 * BENCH_WARMUP (warm-up passes, default 2), BENCH_WARMUP_MS (least time each variant runs in a
 * warm-up pass, default 1000), BENCH_CONCURRENCY (calls in flight in the concurrent scenario,
 * default 100; 0 leaves that scenario out), BENCH_VARIANTS (run only the variants whose names
 * contain one of these comma-separated parts; the bare call always runs).
 *
 * Method: a variant is a loop of BENCH_CALLS calls, each awaited before the next starts
 * (sequential), summing the results (checked: the sum must be BENCH_CALLS, so every call went
 * through and none was refused). Every variant has its own loop function, so that no call site is
 * shared between libraries (shared V8 feedback would make it polymorphic and slow every variant
 * down alike). Warm-up: BENCH_WARMUP passes in which every variant runs again and again (runs of
 * a tenth of BENCH_CALLS) for at least BENCH_WARMUP_MS, so that V8 has optimised each loop as a
 * function, not only through on-stack replacement. Then BENCH_ROUNDS rounds run every variant
 * once, the order rotated by one each round; before each timed run a full GC (--expose-gc) and an
 * untimed run of a tenth of BENCH_CALLS let the heap settle for that variant. A run is timed with
 * performance.now(); the figure is the median over the rounds. "Added" = a variant's ns/call minus
 * the bare call's (the medians), the cost of the wrapping alone.
 *
 * The concurrent scenario runs the timeout variants again with BENCH_CONCURRENCY calls in flight
 * (BENCH_CONCURRENCY workers, each awaiting its calls one after another, sharing the BENCH_CALLS
 * calls): a timeout's cost depends on whether other calls are pending (steadfast's deadline queue
 * keeps one timer armed for all of them; with a single call in flight it arms and clears a timer
 * per call).
 */
import OpossumBreaker from 'opossum';
import {
  ConsecutiveBreaker,
  TimeoutStrategy,
  circuitBreaker as cockatielBreaker,
  handleAll,
  timeout as cockatielTimeout,
  wrap as cockatielWrap,
} from 'cockatiel';
// The package as it ships (dist/, built by bench/run.ts first), not the TypeScript sources.
import { circuitBreaker, timeout, wrap } from 'steadfast';
import { finish, info, log, measure, median, noteGc, scenarioResult, target, type Variant as HarnessVariant } from './harness.js';
import type { Comparison, ScenarioResult } from './result.js';
import { intAtLeast, positiveInt, variantFilter, warmupPasses } from './settings.js';

// Settings.

const N = intAtLeast('BENCH_CALLS', 10, 1_000_000);
const ROUNDS = positiveInt('BENCH_ROUNDS', 5);
const WARMUP = warmupPasses(2);
const WARMUP_MS = positiveInt('BENCH_WARMUP_MS', 1_000);
const CONCURRENCY = intAtLeast('BENCH_CONCURRENCY', 0, 100);
/** Calls of a warm-up run and of the untimed run that settles the heap before a timed one. */
const SHORT = Math.max(1, Math.floor(N / 10));
const FILTER = variantFilter();

noteGc();

// The work: the cheapest async call there is.

const work = async (): Promise<number> => 1;

// Breakers and timeouts. Every breaker is configured as the issue says (cockatiel:
// ConsecutiveBreaker(5), halfOpenAfter 10 s); steadfast's defaults are the same (5 consecutive
// failures, open 10 s); opossum's are its own (50 % errors over a 10 s rolling window, 10 s timeout).

/** The reference: the least a breaker does, counting consecutive failures and refusing calls while open. */
class MinimalBreaker {
  private failures = 0;
  private openedAt = 0;

  constructor(
    private readonly threshold: number,
    private readonly openMs: number,
  ) {}

  async execute<T>(fn: () => Promise<T>): Promise<T> {
    if (this.failures >= this.threshold && Date.now() - this.openedAt < this.openMs) throw new Error('circuit open');
    try {
      const value = await fn();
      this.failures = 0;
      return value;
    } catch (error) {
      if (++this.failures >= this.threshold) this.openedAt = Date.now();
      throw error;
    }
  }
}

/** The reference timeout: one setTimeout per call, cleared when the call settles. */
function withTimer<T>(fn: () => Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    fn().then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

const minimal = new MinimalBreaker(5, 10_000);
const minimalForTimer = new MinimalBreaker(5, 10_000);
const steadfastBreaker = circuitBreaker({ name: 'bench-breaker' });
const steadfastGuarded = wrap(circuitBreaker({ name: 'bench-breaker-timeout' }), timeout(1_000));
const steadfastTimeout = timeout(1_000);
const cockatielCircuit = cockatielBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
const cockatielGuarded = cockatielWrap(
  cockatielTimeout(1_000, TimeoutStrategy.Cooperative),
  cockatielBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
);
const cockatielNoAbortOnReturn = cockatielWrap(
  cockatielTimeout(1_000, { strategy: TimeoutStrategy.Cooperative, abortOnReturn: false }),
  cockatielBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
);
const cockatielAggressive = cockatielWrap(
  cockatielTimeout(1_000, TimeoutStrategy.Aggressive),
  cockatielBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
);
const opossumDefault = new OpossumBreaker(work);
const opossumNoTimeout = new OpossumBreaker(work, { timeout: false });

// Variants. Each loop is its own function (see Method above).

type Variant = { name: string; run: (n: number) => Promise<number> };

const BARE = 'bare call';
const MINIMAL = 'minimal breaker (reference)';
const STEADFAST = 'steadfast circuitBreaker';
const COCKATIEL = 'cockatiel circuitBreaker';
const OPOSSUM = 'opossum (default options, timeout 10 s on)';
const OPOSSUM_NO_TIMEOUT = 'opossum (timeout: false)';
const MINIMAL_TIMER = 'minimal breaker + setTimeout per call (reference)';
const STEADFAST_TIMEOUT_ONLY = 'steadfast timeout(1000) alone';
const STEADFAST_GUARDED = 'steadfast wrap(breaker, timeout(1000))';
const COCKATIEL_GUARDED = 'cockatiel wrap(timeout(1000, Cooperative), breaker)';
const COCKATIEL_NO_ABORT = 'cockatiel wrap(timeout(1000, { Cooperative, abortOnReturn: false }), breaker)';
const COCKATIEL_AGGRESSIVE = 'cockatiel wrap(timeout(1000, Aggressive), breaker)';

const ALL_VARIANTS: readonly Variant[] = [
  {
    name: BARE,
    run: async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await work();
      return sum;
    },
  },
  {
    name: MINIMAL,
    run: async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await minimal.execute(work);
      return sum;
    },
  },
  {
    name: STEADFAST,
    run: async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await steadfastBreaker.execute(work);
      return sum;
    },
  },
  {
    name: COCKATIEL,
    run: async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await cockatielCircuit.execute(work);
      return sum;
    },
  },
  {
    name: OPOSSUM,
    run: async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await opossumDefault.fire();
      return sum;
    },
  },
  {
    name: OPOSSUM_NO_TIMEOUT,
    run: async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await opossumNoTimeout.fire();
      return sum;
    },
  },
  {
    name: MINIMAL_TIMER,
    run: async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await minimalForTimer.execute(() => withTimer(work, 1_000));
      return sum;
    },
  },
  {
    name: STEADFAST_TIMEOUT_ONLY,
    run: async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await steadfastTimeout.execute(work);
      return sum;
    },
  },
  {
    name: STEADFAST_GUARDED,
    run: async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await steadfastGuarded.execute(work);
      return sum;
    },
  },
  {
    name: COCKATIEL_GUARDED,
    run: async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await cockatielGuarded.execute(work);
      return sum;
    },
  },
  {
    name: COCKATIEL_NO_ABORT,
    run: async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await cockatielNoAbortOnReturn.execute(work);
      return sum;
    },
  },
  {
    name: COCKATIEL_AGGRESSIVE,
    run: async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await cockatielAggressive.execute(work);
      return sum;
    },
  },
];

/** The same calls with `c` of them in flight: `c` workers, each awaiting its share one call after another. */
function concurrently(c: number, call: () => Promise<number>): (n: number) => Promise<number> {
  return async (n) => {
    const workers: Promise<number>[] = [];
    for (let w = 0; w < c; w++) {
      const share = Math.floor(n / c) + (w < n % c ? 1 : 0);
      workers.push(
        (async () => {
          let sum = 0;
          for (let i = 0; i < share; i++) sum += await call();
          return sum;
        })(),
      );
    }
    let sum = 0;
    for (const total of await Promise.all(workers)) sum += total;
    return sum;
  };
}

// The concurrent loops share one worker function (one call site for all of them): a fair floor
// for comparing them with each other, not with the sequential figures.
const CONCURRENT_VARIANTS: readonly Variant[] =
  CONCURRENCY === 0
    ? []
    : [
        { name: `${BARE}, ${CONCURRENCY} in flight`, run: concurrently(CONCURRENCY, () => work()) },
        { name: `${STEADFAST}, ${CONCURRENCY} in flight`, run: concurrently(CONCURRENCY, () => steadfastBreaker.execute(work)) },
        { name: `${COCKATIEL}, ${CONCURRENCY} in flight`, run: concurrently(CONCURRENCY, () => cockatielCircuit.execute(work)) },
        { name: `${MINIMAL_TIMER}, ${CONCURRENCY} in flight`, run: concurrently(CONCURRENCY, () => minimalForTimer.execute(() => withTimer(work, 1_000))) },
        { name: `${STEADFAST_GUARDED}, ${CONCURRENCY} in flight`, run: concurrently(CONCURRENCY, () => steadfastGuarded.execute(work)) },
        { name: `${COCKATIEL_GUARDED}, ${CONCURRENCY} in flight`, run: concurrently(CONCURRENCY, () => cockatielGuarded.execute(work)) },
        { name: `${OPOSSUM}, ${CONCURRENCY} in flight`, run: concurrently(CONCURRENCY, () => opossumDefault.fire()) },
      ];

const CONCURRENT_BARE = `${BARE}, ${CONCURRENCY} in flight`;
const keep = (v: Variant) => v.name === BARE || v.name === CONCURRENT_BARE || FILTER.keeps(v.name);
const VARIANTS = [...ALL_VARIANTS, ...CONCURRENT_VARIANTS].filter(keep);

// Measurement.

async function check(variant: Variant, n: number): Promise<number> {
  const start = performance.now();
  const sum = await variant.run(n);
  const ms = performance.now() - start;
  if (sum !== n) throw new Error(`${variant.name}: ${n} calls summed to ${sum} (a call was refused or lost)`);
  return (ms * 1e6) / n;
}

/**
 * A variant as the harness runs it: warm-up and settling runs of SHORT calls (checked, untimed),
 * and timed runs of N calls; a sample is ns per call.
 */
const harnessed = (variant: Variant): HarnessVariant => ({
  name: variant.name,
  warm: () => check(variant, SHORT),
  settle: () => check(variant, SHORT),
  run: async () => {
    const start = performance.now();
    const sum = await variant.run(N);
    const ms = performance.now() - start;
    if (sum !== N) throw new Error(`${variant.name}: ${N} calls summed to ${sum} (a call was refused or lost)`);
    return (ms * 1e6) / N;
  },
});

log(
  `breaker bench: ${N.toLocaleString('en-US')} calls per run, ${WARMUP} warm-up passes, ${ROUNDS} rounds, ${VARIANTS.length} variants` +
    (CONCURRENCY > 0 ? ` (${CONCURRENCY} in flight in the concurrent ones)` : ''),
);
// Before each timed run of N calls: a full GC, then an untimed run of SHORT calls (steady heap).
const samples = await measure(VARIANTS.map(harnessed), { label: 'breaker', rounds: ROUNDS, warmup: WARMUP, warmupMs: WARMUP_MS, settle: true, unit: 'ns/call' });

// Every breaker must still be closed: a refused call would have failed the sums above, but a
// breaker that opened and closed again would not.
if (steadfastBreaker.state !== 'closed') throw new Error(`steadfast breaker ended ${steadfastBreaker.state}`);
if (!opossumDefault.closed || !opossumNoTimeout.closed) throw new Error('an opossum breaker did not end closed');
opossumDefault.shutdown();
opossumNoTimeout.shutdown();

// Results.

const medians = new Map([...samples].map(([name, values]) => [name, median(values)]));
const has = (name: string) => medians.has(name);
const ns = (name: string) => medians.get(name) as number;
const added = (name: string, bare = BARE) => ns(name) - ns(bare);

function addedCosts(names: readonly string[], bare = BARE): Comparison[] {
  return names.filter((name) => name !== bare && has(name)).map((name) => info(`added ns/call (minus the bare call): ${name}`, added(name, bare)));
}

const breakerNames = [BARE, MINIMAL, STEADFAST, COCKATIEL, OPOSSUM_NO_TIMEOUT, OPOSSUM];
const breakerComparisons: Comparison[] = addedCosts(breakerNames);
if (has(STEADFAST) && has(COCKATIEL)) {
  breakerComparisons.push(
    target("target steadfast added ≤ cockatiel's added: value = cockatiel's added ÷ steadfast's added", added(COCKATIEL) / added(STEADFAST), 1),
  );
}
if (has(STEADFAST) && has(OPOSSUM)) {
  breakerComparisons.push(
    target("target steadfast added ≤ 0.3 × opossum's added (default options): value = 0.3 × opossum's added ÷ steadfast's added", (0.3 * added(OPOSSUM)) / added(STEADFAST), 1),
  );
}
if (has(STEADFAST) && has(OPOSSUM_NO_TIMEOUT)) {
  breakerComparisons.push(info("steadfast added ÷ opossum's added (timeout: false)", added(STEADFAST) / added(OPOSSUM_NO_TIMEOUT)));
}
if (has(STEADFAST) && has(MINIMAL)) breakerComparisons.push(info("steadfast added ÷ the minimal breaker's added", added(STEADFAST) / added(MINIMAL)));

const timeoutNames = [BARE, MINIMAL_TIMER, STEADFAST_TIMEOUT_ONLY, STEADFAST_GUARDED, COCKATIEL_GUARDED, COCKATIEL_NO_ABORT, COCKATIEL_AGGRESSIVE, OPOSSUM];
const timeoutComparisons: Comparison[] = addedCosts(timeoutNames);
if (has(STEADFAST_GUARDED) && has(COCKATIEL_GUARDED)) {
  timeoutComparisons.push(
    target(
      "target steadfast timeout + breaker added ≤ 0.25 × cockatiel's (Cooperative): value = 0.25 × cockatiel's added ÷ steadfast's added",
      (0.25 * added(COCKATIEL_GUARDED)) / added(STEADFAST_GUARDED),
      1,
    ),
  );
}
if (has(STEADFAST_GUARDED) && has(COCKATIEL_NO_ABORT)) {
  timeoutComparisons.push(info("steadfast timeout + breaker added ÷ cockatiel's (Cooperative, abortOnReturn: false)", added(STEADFAST_GUARDED) / added(COCKATIEL_NO_ABORT)));
}
if (has(STEADFAST_GUARDED) && has(MINIMAL_TIMER)) {
  timeoutComparisons.push(info("steadfast timeout + breaker added ÷ the minimal breaker + setTimeout's added", added(STEADFAST_GUARDED) / added(MINIMAL_TIMER)));
}
if (has(STEADFAST_GUARDED) && has(OPOSSUM)) timeoutComparisons.push(info("steadfast timeout + breaker added ÷ opossum's added (timeout on)", added(STEADFAST_GUARDED) / added(OPOSSUM)));

const concurrentNames = CONCURRENT_VARIANTS.map((v) => v.name);
const concurrentComparisons: Comparison[] = addedCosts(concurrentNames, CONCURRENT_BARE);
const cSteadfast = `${STEADFAST_GUARDED}, ${CONCURRENCY} in flight`;
const cCockatiel = `${COCKATIEL_GUARDED}, ${CONCURRENCY} in flight`;
if (has(cSteadfast) && has(cCockatiel) && has(CONCURRENT_BARE)) {
  concurrentComparisons.push(
    info("steadfast timeout + breaker added ÷ cockatiel's (Cooperative), concurrent", added(cSteadfast, CONCURRENT_BARE) / added(cCockatiel, CONCURRENT_BARE)),
  );
}

const variantsParameter = FILTER.parts.length > 0 ? { variants: FILTER.parts.join(',') } : {};

const method = [
  `Each variant is a loop of ${N.toLocaleString('en-US')} calls of \`async () => 1\`, each call awaited before the next (sequential), the results summed and checked (every call went through).`,
  'Every variant has its own loop function, so no call site is shared between libraries.',
  `Method: ${WARMUP} warm-up passes run every variant repeatedly (runs of ${SHORT.toLocaleString('en-US')} calls) for at least ${WARMUP_MS} ms each;`,
  `then ${ROUNDS} rounds run every variant once, in an order rotated each round, all variants of all three sections alternating in one process;`,
  `before each timed run, a full GC and an untimed run of ${SHORT.toLocaleString('en-US')} calls let the heap settle for that variant.`,
  'Figures are medians over the rounds; ratio = ns/call ÷ the bare call\'s; "added" (in the comparisons) = ns/call − the bare call\'s ns/call, the cost of the wrapping alone.',
].join(' ');

const scenarios: ScenarioResult[] = [
  scenarioResult({
    id: 'breaker',
    title: 'Circuit breaker: overhead per call',
    description: [
      'The cost a closed circuit breaker adds to a call.',
      'Variants: the bare call (the baseline); a minimal hand-written breaker (reference: an async method that counts consecutive failures and refuses calls while open, a dozen lines);',
      "steadfast `circuitBreaker({ name })` (its defaults: open after 5 consecutive failures, for 10 s);",
      'cockatiel `circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) })`;',
      "opossum `new CircuitBreaker(fn)` with its default options (which include a 10 s timeout: a setTimeout and clearTimeout per call) and with `{ timeout: false }`, called with `fire()`.",
      method,
    ].join(' '),
    parameters: { calls: N, rounds: ROUNDS, warmupPasses: WARMUP, warmupMsPerVariant: WARMUP_MS, sequential: true, ...variantsParameter },
    baseline: BARE,
    samples,
    names: breakerNames,
    comparisons: breakerComparisons,
  }),
  scenarioResult({
    id: 'breaker-timeout',
    title: 'Timeout + circuit breaker: overhead per call',
    description: [
      'The cost of a 1 s timeout and a closed breaker together, on calls that finish at once.',
      'Variants: the bare call (the baseline); the minimal breaker around a plain `setTimeout` / `clearTimeout` per call (reference);',
      'steadfast `timeout(1000)` alone and `wrap(circuitBreaker({ name }), timeout(1000))` (breaker outside, timeout inside);',
      "cockatiel `wrap(timeout(1000, TimeoutStrategy.Cooperative), breaker)` (the issue's comparison: per call a fresh AbortController, a setTimeout, and, as `abortOnReturn` defaults to true, an `abort()` of that controller when the call returns, which on Node 20 costs several microseconds: the abort event's dispatch and its DOMException reason);",
      'the same with `{ strategy: TimeoutStrategy.Cooperative, abortOnReturn: false }` (cockatiel without that abort) and with `TimeoutStrategy.Aggressive` (which, like steadfast, rejects at the deadline instead of waiting for the work);',
      'opossum with its default options (timeout 10 s on; the same runs as in the section above).',
      method,
    ].join(' '),
    parameters: { calls: N, rounds: ROUNDS, timeoutMs: 1_000, sequential: true, ...variantsParameter },
    baseline: BARE,
    samples,
    names: timeoutNames,
    comparisons: timeoutComparisons,
  }),
];
if (CONCURRENCY > 0 && has(CONCURRENT_BARE)) {
  scenarios.push(
    scenarioResult({
      id: 'breaker-concurrent',
      title: `Circuit breaker and timeout, ${CONCURRENCY} calls in flight`,
      description: [
        `The same calls with ${CONCURRENCY} in flight: ${CONCURRENCY} workers share the ${N.toLocaleString('en-US')} calls, each awaiting its own one after another.`,
        'A timeout costs more or less depending on whether other calls are pending: steadfast keeps the deadlines of all pending calls in one queue behind one armed timer,',
        'so with calls in flight a call adds and removes an entry (calls started in the same millisecond share a bucket), while with one call at a time (the sections above) the queue empties after every call and a timer is armed and cleared per call.',
        'cockatiel and opossum make one timer per call either way.',
        'The workers of all these variants share one loop function (the baseline is the bare call through the same loop), so compare these figures with each other, not with the sections above.',
        'Measured in the same rounds as the sections above.',
      ].join(' '),
      parameters: { calls: N, rounds: ROUNDS, concurrency: CONCURRENCY, timeoutMs: 1_000, ...variantsParameter },
      baseline: CONCURRENT_BARE,
      samples,
      names: concurrentNames,
      comparisons: concurrentComparisons,
    }),
  );
}

// A BENCH_VARIANTS filter can leave a scenario with its baseline alone: it is left out.
finish('breaker', scenarios.filter((s) => s.variants.length > 1));
