/** Saved payment methods (cards and bank accounts) of a customer. */
import { authClient, hasScope, TokenInvalid, type Claims } from "./authClient.js";
import { PaymentError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import { parseMoney, type Money } from "./money.js";
import type { PaymentRequest } from "./request.js";

/** Save a vault token for the caller's account. Sensitive: scope `payment_methods:write`. */
export async function attachPaymentMethod(req: PaymentRequest, ledger: Ledger): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}

/** Remove a saved method (not the default of an active subscription). Sensitive: scope `payment_methods:write`. */
export async function detachPaymentMethod(req: PaymentRequest, ledger: Ledger, methodId: string): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}
