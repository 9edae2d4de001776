// The official TypeScript SDK client (npm @modelcontextprotocol/sdk, v1 API) driven by a
// test: one session, a script of requests, one JSON answer on stdout.
//
// Run: `node tests/servers/ts_client.mjs '<json>'` where the JSON is
//   {"url": "...", "transport": "streamable" | "sse", "token": "<bearer>",
//    "calls": [{"name": "...", "arguments": {...}}]}
// It connects (answering sampling/createMessage with "sampled: <last prompt text>", as the
// Python fixtures do), lists the tools (every page), makes each call in order (collecting
// its progress notifications), and prints
//   {"tools": [names], "calls": [{"text": "...", "isError": bool, "progress": [n...]}]}
// A failed request prints {"error": "..."} and exits 1. It keeps no state.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CreateMessageRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const REQUEST_TIMEOUT_MS = 30000;

const script = JSON.parse(process.argv[2]);
const headers = { Authorization: `Bearer ${script.token}` };
const url = new URL(script.url);
const transport =
  script.transport === "sse"
    ? new SSEClientTransport(url, {
        requestInit: { headers },
        eventSourceInit: {
          fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...headers } }),
        },
      })
    : new StreamableHTTPClientTransport(url, { requestInit: { headers } });

const client = new Client({ name: "gate-ts-test-client", version: "1.0.0" }, { capabilities: { sampling: {} } });
client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
  const last = request.params.messages.at(-1)?.content;
  const prompt = last && last.type === "text" ? last.text : "";
  return { role: "assistant", content: { type: "text", text: `sampled: ${prompt}` }, model: "test-model" };
});

try {
  await client.connect(transport);
  const tools = [];
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : {}, { timeout: REQUEST_TIMEOUT_MS });
    tools.push(...page.tools.map((tool) => tool.name));
    cursor = page.nextCursor;
  } while (cursor);
  const calls = [];
  for (const call of script.calls) {
    const progress = [];
    const result = await client.callTool({ name: call.name, arguments: call.arguments }, undefined, {
      timeout: REQUEST_TIMEOUT_MS,
      onprogress: (p) => progress.push(p.progress),
    });
    const text = result.content.filter((c) => c.type === "text").map((c) => c.text).join("");
    calls.push({ text, isError: Boolean(result.isError), progress });
  }
  process.stdout.write(JSON.stringify({ tools, calls }) + "\n");
  await client.close();
} catch (error) {
  process.stdout.write(JSON.stringify({ error: String(error) }) + "\n");
  process.exit(1);
}
