/** Subscriptions: plan changes with proration, and cancellation. */
import { authClient, hasScope, TokenInvalid, type Claims } from "./authClient.js";
import { PaymentError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import { parseMoney, type Money } from "./money.js";
import type { PaymentRequest } from "./request.js";

export const PLANS_MINOR: Readonly<Record<string, number>> = { starter: 900, team: 4_900, business: 19_900 };

/** Unused credit of the old plan minus the cost of the rest of the period on the new one. */
export function prorate(oldPlan: string, newPlan: string, periodStart: Date, periodEnd: Date, now: Date): number {
  throw new Error("not implemented");
}

/** Move a subscription to `body.plan`, posting the proration. Sensitive: scope `subscriptions:write`. */
export async function changePlan(req: PaymentRequest, ledger: Ledger, subscriptionId: string): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}

/** Cancel at period end, or now with a refund. Sensitive: scope `subscriptions:write`. */
export async function cancelSubscription(req: PaymentRequest, ledger: Ledger, subscriptionId: string): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}
