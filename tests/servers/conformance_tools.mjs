// The tools of conformance_server.mjs: what the tools-*, elicitation-*, json-schema-2020-12
// and server-sse-polling scenarios of npm @modelcontextprotocol/conformance call (each
// scenario's "Server Implementation Requirements"). One entry per tool: its tools/list
// definition and `call(args, extra, server)`. A call that fails throws `ToolFailure`, which
// the server answers as a result with `isError: true` (MCP 2025-11-25 server/tools
// §Error Handling). Holds no state.
//
// Server-to-client requests (sampling, elicitation) go on the client's standalone GET stream,
// as the suite's reference server sends them (`server.request`, no related request id),
// never on the POST stream of the tools/call. A hop that forwards the tools/call before the
// GET is open upstream loses the request (the SDK drops a message for a stream that is not
// open); each one is bounded by CLIENT_ANSWER_TIMEOUT_MS, so a lost one fails its scenario
// with "Server did not request ..." in seconds, not at the suite's 60 s request timeout.

import {
  CreateMessageResultSchema,
  ElicitResultSchema,
} from "@modelcontextprotocol/sdk/types.js";

import {
  CONTACT_SCHEMA,
  DEFAULTS_SCHEMA,
  ENUMS_SCHEMA,
  JSON_SCHEMA_2020_12,
  PNG_BASE64,
  WAV_BASE64,
} from "./conformance_catalog.mjs";

const CLIENT_ANSWER_TIMEOUT_MS = 10_000; // the suite's client answers at once; loaded CI
const STEP_DELAY_MS = 50; // between log / progress notifications, as the scenarios describe
const RECONNECT_GRACE_MS = 200; // the client waits the 100 ms `retry` before it reconnects
const NO_ARGUMENTS = { type: "object", properties: {} };

export class ToolFailure extends Error {}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (value) => ({ content: [{ type: "text", text: value }] });

async function askClient(server, request, resultSchema) {
  try {
    return await server.request(request, resultSchema, { timeout: CLIENT_ANSWER_TIMEOUT_MS });
  } catch (error) {
    const note = `${request.method}: no answer on the standalone GET stream (${error.message})`;
    console.error(note);
    throw new ToolFailure(note);
  }
}

async function elicit(server, message, requestedSchema) {
  const request = { method: "elicitation/create", params: { message, requestedSchema } };
  const answer = await askClient(server, request, ElicitResultSchema);
  return `action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`;
}

const tool = (name, description, call, inputSchema = NO_ARGUMENTS) => ({
  name,
  description,
  inputSchema,
  call,
});

// A tool without arguments that asks the client to fill in one form.
const formTool = (name, description, message, schema) =>
  tool(name, description, async (_args, _extra, server) =>
    text(`Elicitation completed: ${await elicit(server, message, schema)}`),
  );

export const TOOLS = [
  tool("test_simple_text", "Tests simple text content response", async () =>
    text("This is a simple text response for testing."),
  ),
  tool("test_image_content", "Tests image content response", async () => ({
    content: [{ type: "image", data: PNG_BASE64, mimeType: "image/png" }],
  })),
  tool("test_audio_content", "Tests audio content response", async () => ({
    content: [{ type: "audio", data: WAV_BASE64, mimeType: "audio/wav" }],
  })),
  tool("test_embedded_resource", "Tests embedded resource content response", async () => ({
    content: [
      {
        type: "resource",
        resource: {
          uri: "test://embedded-resource",
          mimeType: "text/plain",
          text: "This is an embedded resource content.",
        },
      },
    ],
  })),
  tool(
    "test_multiple_content_types",
    "Tests response with multiple content types (text, image, resource)",
    async () => ({
      content: [
        { type: "text", text: "Multiple content types test:" },
        { type: "image", data: PNG_BASE64, mimeType: "image/png" },
        {
          type: "resource",
          resource: {
            uri: "test://mixed-content-resource",
            mimeType: "application/json",
            text: JSON.stringify({ test: "data", value: 123 }),
          },
        },
      ],
    }),
  ),
  tool(
    "test_tool_with_logging",
    "Tests tool that emits log messages during execution",
    async (_args, extra) => {
      const steps = ["Tool execution started", "Tool processing data", "Tool execution completed"];
      for (const [index, data] of steps.entries()) {
        if (index > 0) await sleep(STEP_DELAY_MS);
        // extra.sendNotification rides the POST stream of this tools/call
        await extra.sendNotification({ method: "notifications/message", params: { level: "info", data } });
      }
      return text("Tool with logging executed successfully");
    },
  ),
  tool(
    "test_tool_with_progress",
    "Tests tool that reports progress notifications",
    async (_args, extra) => {
      const progressToken = extra._meta?.progressToken ?? 0;
      for (const [index, progress] of [0, 50, 100].entries()) {
        if (index > 0) await sleep(STEP_DELAY_MS);
        const message = `Completed step ${progress} of 100`;
        await extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken, progress, total: 100, message },
        });
      }
      return text(String(progressToken));
    },
  ),
  tool("test_error_handling", "Tests error response handling", async () => {
    throw new ToolFailure("This tool intentionally returns an error for testing");
  }),
  tool(
    "test_reconnection",
    "Tests SSE polling: closes the call's stream mid-call and answers after the client reconnects (SEP-1699)",
    async (_args, extra) => {
      extra.closeSSEStream?.(); // present when the transport has an event store
      await sleep(RECONNECT_GRACE_MS);
      return text("Reconnection test completed successfully.");
    },
  ),
  tool(
    "test_sampling",
    "Tests server-initiated sampling (LLM completion request)",
    async ({ prompt }, _extra, server) => {
      const messages = [{ role: "user", content: { type: "text", text: prompt } }];
      const request = { method: "sampling/createMessage", params: { messages, maxTokens: 100 } };
      const answer = await askClient(server, request, CreateMessageResultSchema);
      return text(`LLM response: ${answer.content?.text ?? "No response"}`);
    },
    {
      type: "object",
      properties: { prompt: { type: "string", description: "The prompt to send to the LLM" } },
      required: ["prompt"],
    },
  ),
  tool(
    "test_elicitation",
    "Tests server-initiated elicitation (user input request)",
    async ({ message }, _extra, server) =>
      text(`User response: ${await elicit(server, message, CONTACT_SCHEMA)}`),
    {
      type: "object",
      properties: { message: { type: "string", description: "The message to show the user" } },
      required: ["message"],
    },
  ),
  formTool(
    "test_elicitation_sep1034_defaults",
    "Tests elicitation with default values for every primitive type (SEP-1034)",
    "Please review and update the form fields with defaults",
    DEFAULTS_SCHEMA,
  ),
  formTool(
    "test_elicitation_sep1330_enums",
    "Tests elicitation with the enum schema variants of SEP-1330",
    "Please select options from the enum fields",
    ENUMS_SCHEMA,
  ),
  tool(
    "json_schema_2020_12_tool",
    "Tool with JSON Schema 2020-12 features (SEP-1613)",
    async (args) => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`),
    JSON_SCHEMA_2020_12,
  ),
];
