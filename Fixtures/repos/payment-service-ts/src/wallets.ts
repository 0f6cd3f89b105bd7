/** Stored-value wallets: top-ups and spending. */
import { authClient, hasScope, TokenInvalid, type Claims } from "./authClient.js";
import { PaymentError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import { parseMoney, type Money } from "./money.js";
import type { PaymentRequest } from "./request.js";

export const WALLET_LIMIT_MINOR = 250_000;

/** Add `body.amount` to the caller's wallet from a captured charge. Sensitive: scope `wallets:write`. */
export async function topUp(req: PaymentRequest, ledger: Ledger): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}

/** Pay a merchant from the caller's wallet. Sensitive: scope `wallets:write`. */
export async function spend(req: PaymentRequest, ledger: Ledger): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}
