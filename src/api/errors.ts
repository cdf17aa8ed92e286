/**
 * Error responses (spec 1.5): every failure is `{"err": "<message>"}`. Validation failures of any
 * kind — schema errors, unparsable JSON, a wrong content type, a bad query value — are 400 with a
 * message naming the field; authentication 401, permission 403, unknown route or entity 404.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new ApiError(400, message);
export const notFound = (message: string) => new ApiError(404, message);

interface ValidationIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** "body.cap must be >= 0" rather than Ajv's "body/cap must be >= 0". */
export function validationMessage(context: string, issues: readonly ValidationIssue[]): string {
  return issues
    .map((issue) => {
      const path = (issue.instancePath ?? "")
        .split("/")
        .filter((part) => part !== "")
        .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
        .join("");
      let message = issue.message ?? "is invalid";
      if (issue.keyword === "required" && typeof issue.params?.missingProperty === "string") {
        return `${context}${path}.${issue.params.missingProperty} is required`;
      }
      if (issue.keyword === "type" && typeof issue.params?.type === "string") {
        message = `must be ${/^[aeiou]/.test(issue.params.type) ? "an" : "a"} ${issue.params.type}`;
      }
      return `${context}${path} ${message}`;
    })
    .join("; ");
}

const PASSED_THROUGH = new Set([401, 403, 404, 405, 413, 429]);

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ApiError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof ApiError) {
      if (error.status >= 500) request.log.error({ err: error }, "request failed");
      return reply.code(error.status).headers(error.headers).send({ err: error.message });
    }
    if (error.validation) {
      return reply
        .code(400)
        .send({ err: validationMessage(error.validationContext ?? "request", error.validation) });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
        return reply.code(400).send({
          err: `unsupported content type ${request.headers["content-type"] ?? ""}; send application/json`,
        });
      }
      return reply.code(PASSED_THROUGH.has(status) ? status : 400).send({ err: error.message });
    }
    request.log.error({ err: error }, "request failed");
    return reply.code(500).send({ err: "internal server error" });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ err: `no route ${request.method} ${request.url.split("?")[0]}` });
  });
}
