/** Client of the auth service: validates bearer tokens and returns their current claims. */

/** Who is calling and what they may do. */
export interface Claims {
  readonly subject: string;
  readonly accountId: string;
  readonly scopes: ReadonlySet<string>;
  readonly roles: ReadonlySet<string>;
  readonly expiresAt: Date;
  readonly sessionId?: string;
  /** When the edge cached these claims; undefined for claims fresh from the auth service. */
  readonly cachedAt?: Date;
}

/** The token is unknown, expired or revoked. */
export class TokenInvalid extends Error {
  override name = "TokenInvalid";
}

/** The auth service could not be reached or answered with an error. */
export class AuthServiceUnavailable extends Error {
  override name = "AuthServiceUnavailable";
}

/** Whether `claims` grant `scope`, e.g. `refunds:write`. */
export function hasScope(claims: Claims, scope: string): boolean {
  return claims.scopes.has(scope);
}

interface ValidateResponse {
  active: boolean;
  sub?: string;
  account_id?: string;
  scope?: string;
  roles?: string[];
  exp?: number;
  sid?: string;
}

/** Claims from the auth service's JSON answer. */
export function claimsFromJson(payload: ValidateResponse): Claims {
  if (!payload.sub || !payload.account_id || payload.exp === undefined) {
    throw new AuthServiceUnavailable("auth service answer lacks sub, account_id or exp");
  }
  return {
    subject: payload.sub,
    accountId: payload.account_id,
    scopes: new Set((payload.scope ?? "").split(" ").filter(Boolean)),
    roles: new Set(payload.roles ?? []),
    expiresAt: new Date(payload.exp * 1000),
    sessionId: payload.sid,
  };
}

/** Calls `POST <AUTH_SERVICE_URL>/v1/tokens/validate`. */
export class AuthClient {
  constructor(
    readonly baseUrl: string = process.env.AUTH_SERVICE_URL ?? "http://localhost:8090",
    readonly timeoutMs: number = 1000,
  ) {}

  /** The token's current claims, straight from the auth service. */
  async validateToken(token: string): Promise<Claims> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl.replace(/\/$/, "")}/v1/tokens/validate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new AuthServiceUnavailable(`auth service at ${this.baseUrl}: ${String(error)}`);
    }
    if ([401, 403, 404].includes(response.status)) {
      throw new TokenInvalid(`auth service rejected the token (HTTP ${response.status})`);
    }
    if (!response.ok) {
      throw new AuthServiceUnavailable(`auth service HTTP ${response.status}`);
    }
    const payload = (await response.json()) as ValidateResponse;
    if (!payload.active) {
      throw new TokenInvalid("token is not active");
    }
    return claimsFromJson(payload);
  }
}

/** The process-wide client. */
export const authClient = new AuthClient();
