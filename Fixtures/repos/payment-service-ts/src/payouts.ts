/** Payouts of sellers' available balances to their bank accounts. */
import { authClient, hasScope, TokenInvalid, type Claims } from "./authClient.js";
import { PaymentError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import { parseMoney, type Money } from "./money.js";
import type { PaymentRequest } from "./request.js";

export const MINIMUM_PAYOUT_MINOR = 1_000;

/**
 * Pay out `body.amount` of the seller's available balance to `body.bankAccount`. Sensitive:
 * scope `payouts:write` and role `seller_admin`; `insufficient_funds` above the available
 * balance. Moves the amount from `seller:<account>:available` to `seller:<account>:in_transit`.
 */
export async function schedulePayout(req: PaymentRequest, ledger: Ledger): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}

/** Change the bank account receiving payouts. Sensitive: scope `payouts:write`, role `seller_admin`. */
export async function updatePayoutAccount(req: PaymentRequest, ledger: Ledger): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}
