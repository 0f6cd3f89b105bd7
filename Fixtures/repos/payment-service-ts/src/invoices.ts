/** Invoices for business customers: finalise and void. */
import { authClient, hasScope, TokenInvalid, type Claims } from "./authClient.js";
import { PaymentError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import { parseMoney, type Money } from "./money.js";
import type { PaymentRequest } from "./request.js";

/**
 * Freeze a draft invoice: total its lines (quantity × unitAmount plus taxRate, rounded per
 * line), number it `INV-<year>-<6 digits>`, post the receivable. Sensitive: scope `invoices:write`.
 */
export async function finalizeInvoice(req: PaymentRequest, ledger: Ledger, invoiceId: string): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}

/** Void an unpaid invoice and reverse its receivable. Sensitive: scope `invoices:write`. */
export async function voidInvoice(req: PaymentRequest, ledger: Ledger, invoiceId: string): Promise<Record<string, unknown>> {
  throw new Error("not implemented");
}
