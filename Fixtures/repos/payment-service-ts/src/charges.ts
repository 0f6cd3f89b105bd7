/** Card charges: authorise and capture a buyer's payment. */
import { authClient, hasScope, TokenInvalid, type Claims } from "./authClient.js";
import { PaymentError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import { parseMoney, type Money } from "./money.js";
import type { PaymentRequest } from "./request.js";

export const MAX_CHARGE_MINOR = 5_000_000;

/**
 * Authorise and capture `body.amount` (decimal string) in `body.currency` on
 * `body.paymentMethod` for the caller's account. Sensitive: scope `charges:write`, and the
 * caller must own the account. Refuses amounts above MAX_CHARGE_MINOR; a repeated idempotency
 * key returns the first result. Posts the charge to the ledger and stores it.
 */
export async function createCharge(req: PaymentRequest, ledger: Ledger): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}

/** The stored charge if it belongs to the caller's account (scope `charges:read`). */
export async function getCharge(req: PaymentRequest, ledger: Ledger, chargeId: string): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}
