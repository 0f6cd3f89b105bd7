/** HTTP status per error code; the edge maps a thrown PaymentError to its status. */
export const HTTP_STATUS = {
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid_request: 422,
  insufficient_funds: 422,
  processor_declined: 402,
  unavailable: 503,
} as const;

/** A code of HTTP_STATUS. */
export type PaymentErrorCode = keyof typeof HTTP_STATUS;

/** A handler refused or failed a request. */
export class PaymentError extends Error {
  constructor(readonly code: PaymentErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = "PaymentError";
  }

  /** The HTTP status for this error. */
  get status(): number {
    return HTTP_STATUS[this.code];
  }
}
