// The official TypeScript SDK client, driven from the tests (tests/fixtures/ts_client.py).
//
// Usage: node ts_client.mjs <url> <streamable|sse> <bearer token>
// Connects, lists tools, calls py_server's `echo`, `slow_count` (collecting progress) and
// `ask_llm` (answering the server's sampling request with "sampled: <prompt>"), and
// prints one JSON line with what it saw.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { CreateMessageRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const [url, mode, token] = process.argv.slice(2);
const headers = { Authorization: `Bearer ${token}` };
const transport =
  mode === "sse"
    ? new SSEClientTransport(new URL(url), {
        requestInit: { headers },
        eventSourceInit: {
          fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...headers } }),
        },
      })
    : new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });

const client = new Client({ name: "ts-test-client", version: "0" }, { capabilities: { sampling: {} } });
client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
  const last = request.params.messages.at(-1);
  const prompt = last?.content?.type === "text" ? last.content.text : "";
  return { role: "assistant", model: "test-model", content: { type: "text", text: `sampled: ${prompt}` } };
});

const text = (result) => result.content.filter((c) => c.type === "text").map((c) => c.text).join("");
await client.connect(transport);
const tools = (await client.listTools()).tools.map((t) => t.name);
const echo = text(await client.callTool({ name: "echo", arguments: { text: "hello gate" } }));
const progress = [];
await client.callTool({ name: "slow_count", arguments: { n: 3 } }, undefined, {
  onprogress: (p) => progress.push(p.progress),
});
const sampled = text(await client.callTool({ name: "ask_llm", arguments: { prompt: "two plus two" } }));
await client.close();
console.log(JSON.stringify({ tools, echo, progress, sampled }));
