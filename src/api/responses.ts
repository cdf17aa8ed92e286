/** Response schemas shared by routes (spec 1.5: mutations answer 200 with an empty body). */
import { Type } from "typebox";

export const EmptyBody = Type.Unknown({ description: "Empty body" });
/** Results are documented by spec 7.10; their shape is the result builder's (src/report/prisma-result.ts). */
export const AnyJson = Type.Unknown();

/** preValidation for routes where no body means `{}` (POST /registry/scan mode 1, PUT with an empty body). */
export async function emptyBodyAsObject(request: { body: unknown }): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {};
}
