/** Card disputes (chargebacks): evidence and acceptance. */
import { authClient, hasScope, TokenInvalid, type Claims } from "./authClient.js";
import { PaymentError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import { parseMoney, type Money } from "./money.js";
import type { PaymentRequest } from "./request.js";

export const EVIDENCE_FIELDS = ["receiptUrl", "shippingTracking", "customerCommunication", "refundPolicy"] as const;

/** Attach evidence to an open dispute of the caller's account. Sensitive: scope `disputes:write`. */
export async function submitEvidence(req: PaymentRequest, ledger: Ledger, disputeId: string): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}

/** Concede a dispute and debit the seller. Sensitive: scope `disputes:write`. */
export async function acceptDispute(req: PaymentRequest, ledger: Ledger, disputeId: string): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}
