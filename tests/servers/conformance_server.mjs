// The MCP conformance suite's test server, on the official TypeScript SDK (npm
// @modelcontextprotocol/sdk, v1 API), started by the test suite.
//
// Run: `node tests/servers/conformance_server.mjs --port N [--host 127.0.0.1]` (Node >= 22;
// the tests use tests/servers/node_modules/node/bin/node). Streamable HTTP at /mcp with MCP
// sessions, one SDK `Server` per session; an in-memory event store per session (resumable
// with Last-Event-ID) and a 100 ms SSE `retry` hint; the SDK's Host check for a loopback
// bind (421/403 for a foreign Host, dns-rebinding-protection).
//
// It implements what the server scenarios of npm @modelcontextprotocol/conformance ask for:
// the tools of conformance_tools.mjs, the resources and prompts of conformance_catalog.mjs,
// logging/setLevel, resources/subscribe and unsubscribe, completion/complete. It prints one
// line per request it receives (time, method, JSON-RPC method, session) to stdout.
// It owns no state beyond its process; tests own its lifecycle (tests/fixtures/conformance.py).

import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";

import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  isInitializeRequest,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";

import { PROMPTS, readResource, RESOURCE_TEMPLATE, RESOURCES } from "./conformance_catalog.mjs";
import { ToolFailure, TOOLS } from "./conformance_tools.mjs";

const SSE_RETRY_MS = 100; // the `retry` hint of priming events (server-sse-polling)

/** Every SSE event of one session, for replay after Last-Event-ID
 * (MCP 2025-11-25 transports §Resumability and Redelivery). */
class MemoryEventStore {
  #events = new Map(); // event id -> {streamId, message}, in the order stored
  #nextId = 1;

  async storeEvent(streamId, message) {
    const eventId = String(this.#nextId++);
    this.#events.set(eventId, { streamId, message });
    return eventId;
  }

  async getStreamIdForEventId(eventId) {
    return this.#events.get(eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId, { send }) {
    const last = this.#events.get(lastEventId);
    if (last === undefined) throw new Error(`unknown event id ${lastEventId}`);
    for (const [eventId, { streamId, message }] of [...this.#events]) {
      const later = Number(eventId) > Number(lastEventId);
      // a priming event is stored as {}: nothing to resend
      if (later && streamId === last.streamId && Object.keys(message).length > 0) {
        await send(eventId, message);
      }
    }
    return last.streamId;
  }
}

function buildServer() {
  const server = new Server(
    { name: "mcp-conformance-test-server", version: "1.0.0" },
    {
      capabilities: {
        tools: {},
        resources: { subscribe: true },
        prompts: {},
        logging: {},
        completions: {},
      },
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: TOOLS.map(({ call, ...definition }) => definition),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = TOOLS.find((candidate) => candidate.name === request.params.name);
    if (tool === undefined) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    }
    try {
      return await tool.call(request.params.arguments ?? {}, extra, server);
    } catch (error) {
      if (!(error instanceof ToolFailure)) throw error;
      return { isError: true, content: [{ type: "text", text: error.message }] };
    }
  });
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: RESOURCES.map(({ read, ...definition }) => definition),
  }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [RESOURCE_TEMPLATE],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    const contents = readResource(request.params.uri);
    if (contents === undefined) {
      // MCP 2025-11-25 server/resources §Error Handling: resource not found is -32002
      throw new McpError(-32002, "Resource not found", { uri: request.params.uri });
    }
    return { contents: [contents] };
  });
  server.setRequestHandler(SubscribeRequestSchema, async () => ({}));
  server.setRequestHandler(UnsubscribeRequestSchema, async () => ({}));
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: PROMPTS.map(({ render, ...definition }) => definition),
  }));
  server.setRequestHandler(GetPromptRequestSchema, async (request) => {
    const prompt = PROMPTS.find((candidate) => candidate.name === request.params.name);
    if (prompt === undefined) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${request.params.name}`);
    }
    return { messages: prompt.render(request.params.arguments ?? {}) };
  });
  // completion-complete: an empty answer is conformant; the capability must exist
  server.setRequestHandler(CompleteRequestSchema, async () => ({
    completion: { values: [], total: 0, hasMore: false },
  }));
  server.setRequestHandler(SetLevelRequestSchema, async () => ({}));
  return server;
}

const rpcError = (code, message) => ({ jsonrpc: "2.0", error: { code, message }, id: null });

function main() {
  const { values } = parseArgs({
    options: { port: { type: "string" }, host: { type: "string", default: "127.0.0.1" } },
  });
  if (values.port === undefined) throw new Error("--port is required");
  const sessions = new Map(); // Mcp-Session-Id -> transport
  const app = createMcpExpressApp({ host: values.host });
  // One line per request as it arrives (after the SDK's Host check and JSON parsing): the
  // order in which a GET stream and a tools/call reach the server is what the sampling and
  // elicitation scenarios depend on.
  app.use((req, _res, next) => {
    const session = req.get("mcp-session-id") ?? "-";
    const rpc = Array.isArray(req.body) ? "batch" : (req.body?.method ?? "");
    console.log(`${new Date().toISOString()} ${req.method} ${rpc} session=${session}`);
    next();
  });

  const sessionOf = (req, res) => {
    const sessionId = req.get("mcp-session-id");
    const transport = sessions.get(sessionId);
    if (transport === undefined) {
      // MCP 2025-11-25 transports §Session Management: 400 without the header, 404 unknown
      const status = sessionId === undefined ? 400 : 404;
      res.status(status).json(rpcError(-32000, `no session ${sessionId ?? "header"}`));
    }
    return transport;
  };

  app.post("/mcp", async (req, res) => {
    if (req.get("mcp-session-id") !== undefined || !isInitializeRequest(req.body)) {
      const transport = sessionOf(req, res);
      if (transport !== undefined) await transport.handleRequest(req, res, req.body);
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      eventStore: new MemoryEventStore(),
      retryInterval: SSE_RETRY_MS,
      onsessioninitialized: (sessionId) => sessions.set(sessionId, transport),
      onsessionclosed: (sessionId) => sessions.delete(sessionId),
    });
    transport.onclose = () => sessions.delete(transport.sessionId);
    await buildServer().connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  for (const method of ["get", "delete"]) {
    app[method]("/mcp", async (req, res) => {
      const transport = sessionOf(req, res);
      if (transport !== undefined) await transport.handleRequest(req, res);
    });
  }
  app.listen(Number(values.port), values.host, () => {
    console.log(`conformance server listening on http://${values.host}:${values.port}/mcp`);
  });
}

main();
