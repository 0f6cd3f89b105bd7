/** Webhook endpoints of merchants: registration and signing secrets. */
import { authClient, hasScope, TokenInvalid, type Claims } from "./authClient.js";
import { PaymentError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import { parseMoney, type Money } from "./money.js";
import type { PaymentRequest } from "./request.js";

export const EVENTS = new Set(["charge.succeeded", "charge.refunded", "payout.paid", "dispute.created"]);

/** Register an https endpoint and return its new signing secret once. Sensitive: scope `webhooks:write`. */
export async function registerEndpoint(req: PaymentRequest, ledger: Ledger): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}

/** Issue a new signing secret; the old one stays valid 24 hours. Sensitive: scope `webhooks:write`. */
export async function rotateSecret(req: PaymentRequest, ledger: Ledger, endpointId: string): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}
