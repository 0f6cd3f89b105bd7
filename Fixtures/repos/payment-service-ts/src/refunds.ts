/** Refunds of captured charges, full or partial. */
import { authClient, hasScope, TokenInvalid, type Claims } from "./authClient.js";
import { PaymentError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import { parseMoney, type Money } from "./money.js";
import type { PaymentRequest } from "./request.js";

/**
 * Refund `body.amount` (default: the rest) of charge `body.chargeId`. Sensitive: scope
 * `refunds:write`; the charge must belong to the caller's account; the refunded total never
 * exceeds the captured amount (`conflict`). Reverses the refunded part in the ledger.
 */
export async function issueRefund(req: PaymentRequest, ledger: Ledger): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}

/** Captured minus already refunded for a charge. */
export function refundableAmount(ledger: Ledger, chargeId: string): Money {
  throw new Error("not implemented");
}
