/** The manual fraud review queue: held charges are released or refused by analysts. */
import { authClient, hasScope, TokenInvalid, type Claims } from "./authClient.js";
import { PaymentError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import { parseMoney, type Money } from "./money.js";
import type { PaymentRequest } from "./request.js";

/** A 0-100 risk score of a charge (country mismatch, new card, large amount, disposable e-mail). */
export function riskScore(charge: Record<string, unknown>): number {
  throw new Error("not implemented");
}

/** Release a held charge. Sensitive: scope `fraud:review`, role `risk_analyst`. */
export async function releaseCharge(req: PaymentRequest, ledger: Ledger, chargeId: string): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}

/** Refuse a held charge and block the card. Sensitive: scope `fraud:review`, role `risk_analyst`. */
export async function refuseCharge(req: PaymentRequest, ledger: Ledger, chargeId: string): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}
