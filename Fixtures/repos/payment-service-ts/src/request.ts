import type { Claims } from "./authClient.js";

/**
 * One API call as the edge forwards it. `authContext` holds the claims the edge cached when it
 * last verified `bearerToken` (`authContext.cachedAt` says when; entries live up to 5 minutes).
 */
export interface PaymentRequest {
  readonly bearerToken: string;
  readonly authContext: Claims;
  readonly body: Record<string, unknown>;
  readonly idempotencyKey?: string;
  readonly requestId?: string;
}
