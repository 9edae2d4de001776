// The data of conformance_server.mjs: its media samples, the elicitation and JSON Schema
// 2020-12 schemas the scenarios inspect, and the resources and prompts the resources-* and
// prompts-* scenarios read. Plain data and pure functions; no I/O, no state.

import { crc32, deflateSync } from "node:zlib";

function pngOneRedPixel() {
  // PNG (ISO/IEC 15948): signature, then IHDR, IDAT and IEND chunks, each with its CRC-32.
  const chunk = (kind, data) => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(kind, "ascii"), data]);
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc32(body));
    return Buffer.concat([head, body, tail]);
  };
  const header = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]); // 1x1, 8-bit RGB
  const pixels = deflateSync(Buffer.from([0, 255, 0, 0])); // filter byte 0, one red pixel
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk("IHDR", header),
    chunk("IDAT", pixels),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

function wavOneSilentSample() {
  // RIFF/WAVE: a 16-bit mono PCM "fmt " chunk at 8 kHz and a "data" chunk of one sample.
  const wav = Buffer.alloc(46);
  wav.write("RIFF", 0, "ascii");
  wav.writeUInt32LE(38, 4);
  wav.write("WAVEfmt ", 8, "ascii");
  wav.writeUInt32LE(16, 16); // fmt chunk size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // channels
  wav.writeUInt32LE(8000, 24); // sample rate
  wav.writeUInt32LE(16000, 28); // byte rate
  wav.writeUInt16LE(2, 32); // block align
  wav.writeUInt16LE(16, 34); // bits per sample
  wav.write("data", 36, "ascii");
  wav.writeUInt32LE(2, 40);
  return wav;
}

export const PNG_BASE64 = pngOneRedPixel().toString("base64");
export const WAV_BASE64 = wavOneSilentSample().toString("base64");

export const JSON_SCHEMA_2020_12 = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  $defs: {
    address: {
      type: "object",
      properties: { street: { type: "string" }, city: { type: "string" } },
    },
  },
  properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } },
  additionalProperties: false,
};

export const CONTACT_SCHEMA = {
  type: "object",
  properties: {
    username: { type: "string", description: "User's response" },
    email: { type: "string", description: "User's email address" },
  },
  required: ["username", "email"],
};

export const DEFAULTS_SCHEMA = {
  // SEP-1034: a default for every primitive type
  type: "object",
  properties: {
    name: { type: "string", description: "User name", default: "John Doe" },
    age: { type: "integer", description: "User age", default: 30 },
    score: { type: "number", description: "User score", default: 95.5 },
    status: {
      type: "string",
      description: "User status",
      enum: ["active", "inactive", "pending"],
      default: "active",
    },
    verified: { type: "boolean", description: "Verification status", default: true },
  },
  required: [],
};

const choices = (prefix, titles) =>
  titles.map((title, index) => ({ const: `${prefix}${index + 1}`, title }));

export const ENUMS_SCHEMA = {
  // SEP-1330: the five enum shapes
  type: "object",
  properties: {
    untitledSingle: { type: "string", enum: ["option1", "option2", "option3"] },
    titledSingle: {
      type: "string",
      oneOf: choices("value", ["First Option", "Second Option", "Third Option"]),
    },
    legacyEnum: {
      type: "string",
      enum: ["opt1", "opt2", "opt3"],
      enumNames: ["Option One", "Option Two", "Option Three"],
    },
    untitledMulti: {
      type: "array",
      minItems: 1,
      maxItems: 3,
      items: { type: "string", enum: ["option1", "option2", "option3"] },
    },
    titledMulti: {
      type: "array",
      minItems: 1,
      maxItems: 3,
      items: { anyOf: choices("value", ["First Choice", "Second Choice", "Third Choice"]) },
    },
  },
  required: [],
};

const textResource = (uri, name, description, body) => ({
  uri,
  name,
  description,
  mimeType: "text/plain",
  read: () => ({ uri, mimeType: "text/plain", text: body }),
});

export const RESOURCES = [
  textResource(
    "test://static-text",
    "static-text",
    "A static text resource for testing",
    "This is the content of the static text resource.",
  ),
  {
    uri: "test://static-binary",
    name: "static-binary",
    description: "A static binary resource (image) for testing",
    mimeType: "image/png",
    read: () => ({ uri: "test://static-binary", mimeType: "image/png", blob: PNG_BASE64 }),
  },
  textResource(
    "test://watched-resource",
    "watched-resource",
    "A resource clients may subscribe to",
    "Watched resource content",
  ),
];

export const RESOURCE_TEMPLATE = {
  uriTemplate: "test://template/{id}/data",
  name: "template",
  description: "A resource template with parameter substitution",
  mimeType: "application/json",
};
const TEMPLATE_URI = /^test:\/\/template\/(?<id>[^/]+)\/data$/;

/** The contents of `uri` (a listed resource or one of the template), or undefined. */
export function readResource(uri) {
  const listed = RESOURCES.find((resource) => resource.uri === uri);
  if (listed) return listed.read();
  const id = TEMPLATE_URI.exec(uri)?.groups.id;
  if (id === undefined) return undefined;
  const data = { id, templateTest: true, data: `Data for ID: ${id}` };
  return { uri, mimeType: "application/json", text: JSON.stringify(data) };
}

const user = (content) => ({ role: "user", content });
const say = (words) => user({ type: "text", text: words });

export const PROMPTS = [
  {
    name: "test_simple_prompt",
    description: "A simple prompt without arguments",
    arguments: [],
    render: () => [say("This is a simple prompt for testing.")],
  },
  {
    name: "test_prompt_with_arguments",
    description: "A prompt with required arguments",
    arguments: [
      { name: "arg1", description: "First test argument", required: true },
      { name: "arg2", description: "Second test argument", required: true },
    ],
    render: ({ arg1, arg2 }) => [say(`Prompt with arguments: arg1='${arg1}', arg2='${arg2}'`)],
  },
  {
    name: "test_prompt_with_embedded_resource",
    description: "A prompt that includes an embedded resource",
    arguments: [{ name: "resourceUri", description: "URI of the resource to embed", required: true }],
    render: ({ resourceUri }) => [
      user({
        type: "resource",
        resource: {
          uri: resourceUri,
          mimeType: "text/plain",
          text: "Embedded resource content for testing.",
        },
      }),
      say("Please process the embedded resource above."),
    ],
  },
  {
    name: "test_prompt_with_image",
    description: "A prompt that includes image content",
    arguments: [],
    render: () => [
      user({ type: "image", data: PNG_BASE64, mimeType: "image/png" }),
      say("Please analyze the image above."),
    ],
  },
];
