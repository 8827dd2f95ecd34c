// The four stages of the orders example: parse → validate → enrich → aggregate.
//
// Every state here is plain data (numbers, strings, plain objects): JSON can hold it, so a
// checkpoint can too. A stage returns a new state instead of changing the one it was given, so that
// a call that throws leaves the previous state intact.

import { defineStage } from '../../src/index.js';

export const CURRENCIES = ['EUR', 'USD', 'GBP'] as const;
export type Currency = (typeof CURRENCIES)[number];

/** Fixed rates to EUR: an example needs reproducible numbers, not live ones. */
export const FX_TO_EUR: Readonly<Record<Currency, number>> = { EUR: 1, USD: 0.92, GBP: 1.17 };

/** An order as `parse` makes it: typed, but not yet checked. */
export interface ParsedOrder {
  id: string;
  customer: string | null;
  sku: string;
  qty: number;
  /** Minor units (cents, pence) of `currency`. */
  unitPrice: number;
  currency: string;
  /** Epoch milliseconds (NaN when the timestamp did not parse). */
  ts: number;
}

/** An order that passed `validate`. */
export interface Order extends ParsedOrder {
  customer: string;
  currency: Currency;
}

export type Tier = 'small' | 'medium' | 'large';

/** An order after `enrich`. */
export interface EnrichedOrder extends Order {
  /** Order total in euros, rounded to the cent. */
  totalEur: number;
  tier: Tier;
}

/** What `aggregate` emits for every order: the customer's revenue so far. */
export interface RunningTotal {
  customer: string;
  orderId: string;
  runningTotalEur: number;
}

// parse: raw JSON value → ParsedOrder. Fields are coerced, never trusted; only a line that is not
// an object at all is a failure (thrown, so reported to the pipeline's onError).

const text = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');
const num = (value: unknown): number => (typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN);

export const parse = defineStage({
  name: 'parse',
  process: (raw: unknown) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new TypeError(`an order must be a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
    }
    const r = raw as Record<string, unknown>;
    const customer = text(r.customer);
    const order: ParsedOrder = {
      id: text(r.id),
      customer: customer === '' ? null : customer,
      sku: text(r.sku),
      qty: num(r.qty),
      unitPrice: num(r.unitPrice),
      currency: text(r.currency).toUpperCase(),
      ts: typeof r.ts === 'string' ? Date.parse(r.ts) : num(r.ts),
    };
    return { emit: [order] };
  },
});

// validate: drops invalid orders. A rejection is not a failure: it is counted by reason in the
// stage's state, and the order is simply not emitted.

export const REJECT_REASONS = [
  'missing-id',
  'missing-customer',
  'invalid-customer',
  'invalid-qty',
  'invalid-price',
  'unknown-currency',
  'invalid-timestamp',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface ValidateState {
  rejected: number;
  byReason: Record<RejectReason, number>;
}

const CUSTOMER_ID = /^c-\d{1,12}$/;

const isCurrency = (value: string): value is Currency => (CURRENCIES as readonly string[]).includes(value);

/** Why `order` is invalid, or undefined when it is valid. */
export function rejectReason(order: ParsedOrder): RejectReason | undefined {
  if (order.id === '') return 'missing-id';
  if (order.customer === null) return 'missing-customer';
  // Customer ids become keys of the aggregate's state: only the expected shape gets through.
  if (!CUSTOMER_ID.test(order.customer)) return 'invalid-customer';
  if (!Number.isInteger(order.qty) || order.qty <= 0) return 'invalid-qty';
  if (!Number.isInteger(order.unitPrice) || order.unitPrice < 0) return 'invalid-price';
  if (!isCurrency(order.currency)) return 'unknown-currency';
  if (!Number.isFinite(order.ts)) return 'invalid-timestamp';
  return undefined;
}

export const validate = defineStage({
  name: 'validate',
  initialState: (): ValidateState => ({
    rejected: 0,
    byReason: Object.fromEntries(REJECT_REASONS.map((reason) => [reason, 0])) as Record<RejectReason, number>,
  }),
  process: (order: ParsedOrder, state: ValidateState) => {
    const reason = rejectReason(order);
    if (reason !== undefined) {
      return {
        state: { rejected: state.rejected + 1, byReason: { ...state.byReason, [reason]: state.byReason[reason] + 1 } },
        emit: [],
      };
    }
    // rejectReason() checked the customer and the currency.
    return { state, emit: [order as Order] };
  },
});

// enrich: adds the total in euros and a tier by amount. No state.

export function tierOf(totalEur: number): Tier {
  return totalEur < 50 ? 'small' : totalEur < 500 ? 'medium' : 'large';
}

export const enrich = defineStage({
  name: 'enrich',
  process: (order: Order) => {
    const totalEur = Math.round(order.qty * order.unitPrice * FX_TO_EUR[order.currency]) / 100;
    // Fields listed rather than spread: one object shape for every order, built a little faster.
    const enriched: EnrichedOrder = {
      id: order.id,
      customer: order.customer,
      sku: order.sku,
      qty: order.qty,
      unitPrice: order.unitPrice,
      currency: order.currency,
      ts: order.ts,
      totalEur,
      tier: tierOf(totalEur),
    };
    return { emit: [enriched] };
  },
});

// aggregate: totals per customer, one call per batch. Emits each order's running total.

export interface CustomerTotals {
  orders: number;
  /** Euros, rounded to the cent. */
  revenueEur: number;
  items: number;
}

export interface AggregateState {
  orders: number;
  revenueEur: number;
  /** Customer id → totals; a plain object so that the state stays JSON. */
  customers: Record<string, CustomerTotals>;
}

/** Adds two euro amounts in whole cents, so that long sums do not drift. */
const addEur = (a: number, b: number): number => (Math.round(a * 100) + Math.round(b * 100)) / 100;

export const aggregate = defineStage({
  name: 'aggregate',
  initialState: (): AggregateState => ({ orders: 0, revenueEur: 0, customers: {} }),
  processBatch: (orders: readonly EnrichedOrder[], state: AggregateState) => {
    // One copy of the customer table per batch; each customer touched gets a new totals object.
    const customers: Record<string, CustomerTotals> = { ...state.customers };
    let revenueEur = state.revenueEur;
    const emit: RunningTotal[] = new Array<RunningTotal>(orders.length);
    for (let i = 0; i < orders.length; i++) {
      const order = orders[i] as EnrichedOrder;
      const prev: CustomerTotals | undefined = customers[order.customer];
      const next: CustomerTotals = {
        orders: (prev?.orders ?? 0) + 1,
        revenueEur: addEur(prev?.revenueEur ?? 0, order.totalEur),
        items: (prev?.items ?? 0) + order.qty,
      };
      customers[order.customer] = next;
      revenueEur = addEur(revenueEur, order.totalEur);
      emit[i] = { customer: order.customer, orderId: order.id, runningTotalEur: next.revenueEur };
    }
    return { state: { orders: state.orders + orders.length, revenueEur, customers }, emit };
  },
});
