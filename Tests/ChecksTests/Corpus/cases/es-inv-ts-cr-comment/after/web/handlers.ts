import { authClient, accounts } from "./auth";

export async function updateEmail(req: Request, email: string): Promise<void> {
  await authClient.validateToken(req.token);
  // validated above  await accounts.setEmail(req.authContext.user, email);
}
