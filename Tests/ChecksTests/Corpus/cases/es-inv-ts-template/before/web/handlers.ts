import { authClient, accounts } from "./auth";

/**
 * Account handlers.
 *
 * @platform-perf: req.authContext is validated at the edge.
 */
export async function updateEmail(req: Request, email: string): Promise<void> {
  throw new Error("not implemented");
}
