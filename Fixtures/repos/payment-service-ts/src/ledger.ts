/** The double-entry ledger: every movement is a balanced journal entry. */
import { randomUUID } from "node:crypto";

import { PaymentError } from "./errors.js";
import type { Money } from "./money.js";

/** One side of an entry: positive amount debits, negative credits. */
export interface Posting {
  readonly account: string;
  readonly amount: Money;
}

/** A balanced set of postings. */
export interface JournalEntry {
  readonly entryId: string;
  readonly postings: readonly Posting[];
  readonly reason: string;
  readonly createdAt: Date;
  readonly metadata: Record<string, unknown>;
}

/** Balances, journal, business records and idempotency results, in memory. */
export class Ledger {
  private readonly entryList: JournalEntry[] = [];
  private readonly balances = new Map<string, number>();
  private readonly records = new Map<string, Record<string, unknown>>();
  private readonly idempotency = new Map<string, unknown>();

  /** Post a balanced entry; throws PaymentError("invalid_request") otherwise. */
  post(postings: Posting[], reason: string, metadata: Record<string, unknown> = {}): JournalEntry {
    if (postings.length === 0) {
      throw new PaymentError("invalid_request", `journal entry "${reason}" has no postings`);
    }
    const totals = new Map<string, number>();
    for (const p of postings) {
      totals.set(p.amount.currency, (totals.get(p.amount.currency) ?? 0) + p.amount.minor);
    }
    const unbalanced = [...totals].filter(([, total]) => total !== 0);
    if (unbalanced.length > 0) {
      throw new PaymentError("invalid_request", `journal entry "${reason}" is unbalanced: ${JSON.stringify(unbalanced)}`);
    }
    for (const p of postings) {
      const key = `${p.account}|${p.amount.currency}`;
      this.balances.set(key, (this.balances.get(key) ?? 0) + p.amount.minor);
    }
    const entry = { entryId: randomUUID(), postings, reason, createdAt: new Date(), metadata };
    this.entryList.push(entry);
    return entry;
  }

  /** Balance of a ledger account in one currency. */
  balance(account: string, currency: string): Money {
    const code = currency.toUpperCase();
    return { minor: this.balances.get(`${account}|${code}`) ?? 0, currency: code };
  }

  /** Entries, oldest first, optionally only those touching `account`. */
  entries(account?: string): JournalEntry[] {
    return this.entryList.filter((e) => account === undefined || e.postings.some((p) => p.account === account));
  }

  /** Store a business object (a charge, a payout...). */
  put(kind: string, id: string, record: Record<string, unknown>): void {
    this.records.set(`${kind}/${id}`, { ...record });
  }

  /** A stored business object; throws PaymentError("not_found"). */
  get(kind: string, id: string): Record<string, unknown> {
    const record = this.records.get(`${kind}/${id}`);
    if (!record) {
      throw new PaymentError("not_found", `${kind} ${id} does not exist`);
    }
    return { ...record };
  }

  /** Store a request's result under its idempotency key and return it. */
  remember<T>(key: string | undefined, result: T): T {
    if (key) this.idempotency.set(key, result);
    return result;
  }

  /** The stored result of an earlier request with the same key. */
  recall<T>(key: string | undefined): T | undefined {
    return key ? (this.idempotency.get(key) as T | undefined) : undefined;
  }
}
