/** Transfers between accounts of the same organisation. */
import { authClient, hasScope, TokenInvalid, type Claims } from "./authClient.js";
import { PaymentError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import { parseMoney, type Money } from "./money.js";
import type { PaymentRequest } from "./request.js";

export const DAILY_LIMIT_MINOR = 10_000_000;

/**
 * Move `body.amount` between two accounts of the caller's organisation. Sensitive: scope
 * `transfers:write`; source must hold the amount; daily total under DAILY_LIMIT_MINOR.
 */
export async function createTransfer(req: PaymentRequest, ledger: Ledger): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}

/** Reverse a transfer of the last 24 hours. Sensitive: scope `transfers:write`, role `finance_admin`. */
export async function reverseTransfer(req: PaymentRequest, ledger: Ledger, transferId: string): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}
