import { authClient, accounts } from "./auth";

/**
 * Account handlers.
 *
 * @platform-perf: req.authContext is validated at the edge.
 * Do not read req.authContext.user here.
 */
export async function updateEmail(req: Request, email: string): Promise<void> {
  const claims = await authClient.validateToken(req.token);
  await accounts.setEmail(claims.user, email);
}
