import { authClient, accounts } from "./auth";

export async function updateEmail(req: Request, email: string): Promise<void> {
  throw new Error("not implemented");
}
