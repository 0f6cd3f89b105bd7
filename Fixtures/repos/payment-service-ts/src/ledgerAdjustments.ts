/** Manual ledger adjustments by the finance team. */
import { authClient, hasScope, TokenInvalid, type Claims } from "./authClient.js";
import { PaymentError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import { parseMoney, type Money } from "./money.js";
import type { PaymentRequest } from "./request.js";

export const REASONS = new Set(["correction", "write_off", "goodwill_credit", "fee_reversal"]);
export const FOUR_EYES_MINOR = 100_000;

/**
 * Post a balanced adjustment with a reason from REASONS. Sensitive: scope `ledger:adjust`,
 * role `finance_admin`; above FOUR_EYES_MINOR it waits for a second approver.
 */
export async function postAdjustment(req: PaymentRequest, ledger: Ledger): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}

/** Post a pending adjustment; the approver must not be its author. Sensitive: role `finance_admin`. */
export async function approveAdjustment(req: PaymentRequest, ledger: Ledger, adjustmentId: string): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}
