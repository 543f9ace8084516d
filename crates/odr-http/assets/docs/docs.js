// The interactive API reference: fetches /openapi.json and renders every
// operation by tag, with parameters, schemas, examples and a "Try it" form.
// No dependencies, no inline script or style (the page's CSP forbids both).
"use strict";

const TOKEN_KEY = "odr.docs.token";
let spec = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function pretty(value) {
  return JSON.stringify(value, null, 2);
}

// Follows a local "#/components/..." reference.
function deref(obj, seen) {
  if (!obj || typeof obj !== "object" || !obj.$ref) return obj;
  seen = seen || new Set();
  if (seen.has(obj.$ref)) return { description: "(recursive " + obj.$ref + ")" };
  seen.add(obj.$ref);
  let target = spec;
  for (const part of obj.$ref.replace(/^#\//, "").split("/")) {
    target = target ? target[decodeURIComponent(part.replace(/~1/g, "/").replace(/~0/g, "~"))] : undefined;
  }
  return deref(target || { description: "(unresolved " + obj.$ref + ")" }, seen);
}

// A schema with every $ref resolved, for display (depth-limited).
function expand(schema, depth, seen) {
  if (!schema || typeof schema !== "object") return schema;
  if (depth > 8) return { description: "…" };
  seen = seen || [];
  if (schema.$ref) {
    if (seen.includes(schema.$ref)) return { $ref: schema.$ref };
    const name = schema.$ref.split("/").pop();
    const inner = expand(deref(schema), depth + 1, seen.concat(schema.$ref));
    return Object.assign({ title: name }, inner);
  }
  if (Array.isArray(schema)) return schema.map((s) => expand(s, depth + 1, seen));
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = typeof v === "object" ? expand(v, depth + 1, seen) : v;
  }
  return out;
}

// An example value for a schema: its example, else one built from its shape.
function sample(schema, depth) {
  schema = deref(schema);
  if (!schema || depth > 6) return null;
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const alt = schema.oneOf || schema.anyOf || schema.allOf;
  if (alt) {
    const parts = alt.map((s) => sample(s, depth + 1)).filter((v) => v !== null);
    if (schema.allOf) return Object.assign({}, ...parts.filter((p) => typeof p === "object"));
    return parts.length ? parts[0] : null;
  }
  let type = schema.type;
  if (Array.isArray(type)) type = type.find((t) => t !== "null") || "null";
  switch (type) {
    case "object": {
      const out = {};
      for (const [k, v] of Object.entries(schema.properties || {})) {
        out[k] = sample(v, depth + 1);
      }
      return out;
    }
    case "array": return [sample(schema.items, depth + 1)].filter((v) => v !== null);
    case "integer": return 0;
    case "number": return 0;
    case "boolean": return false;
    case "string":
      if (schema.format === "date-time") return new Date().toISOString();
      if (schema.format === "date") return new Date().toISOString().slice(0, 10);
      return "string";
    default: return null;
  }
}

function schemaBlock(schema) {
  return el("details", {}, el("summary", {}, "Schema"), el("pre", {}, pretty(expand(schema, 0))));
}

function mediaBlock(content) {
  const out = [];
  for (const [type, media] of Object.entries(content || {})) {
    out.push(el("div", {}, el("code", {}, type)));
    if (media.schema) out.push(schemaBlock(media.schema));
    let example = media.example;
    if (example === undefined && media.examples) {
      const first = Object.values(media.examples)[0];
      example = first && first.value;
    }
    if (example === undefined && media.schema && type.includes("json")) example = sample(media.schema, 0);
    if (example !== undefined && example !== null) {
      out.push(el("details", {}, el("summary", {}, "Example"), el("pre", {}, pretty(example))));
    }
  }
  return out;
}

function paramsTable(params) {
  if (!params.length) return null;
  return el("table", {},
    el("thead", {}, el("tr", {}, el("th", {}, "name"), el("th", {}, "in"), el("th", {}, "type"), el("th", {}, "description"))),
    el("tbody", {}, params.map((p) => {
      const s = deref(p.schema) || {};
      const type = Array.isArray(s.type) ? s.type.join(" | ") : s.type || "";
      return el("tr", {},
        el("td", {}, el("code", {}, p.name), p.required ? " *" : ""),
        el("td", {}, p.in),
        el("td", {}, type, s.enum ? " (" + s.enum.join(", ") + ")" : ""),
        el("td", {}, p.description || ""));
    })));
}

function responsesBlock(responses) {
  const out = [];
  for (const [status, raw] of Object.entries(responses || {})) {
    const r = deref(raw);
    out.push(el("h4", {}, status + " ", el("span", { class: "summary" }, r.description || "")));
    if (r.headers) {
      out.push(el("div", { class: "summary" }, "Headers: " + Object.keys(r.headers).join(", ")));
    }
    out.push(...mediaBlock(r.content));
  }
  return out;
}

function tryForm(method, path, op) {
  const params = (op.parameters || []).map(deref);
  const inputs = {};
  const fields = params.map((p) => {
    const input = el("input", { name: p.in + ":" + p.name, placeholder: p.required ? "required" : "optional" });
    inputs[p.in + ":" + p.name] = { param: p, input };
    return el("label", {}, p.name + " (" + p.in + ")", input);
  });
  let bodyArea = null;
  const body = op.requestBody && deref(op.requestBody);
  if (body && body.content) {
    const type = Object.keys(body.content)[0];
    const media = body.content[type];
    bodyArea = el("textarea", { name: "body", spellcheck: "false" });
    bodyArea.value = media.example !== undefined ? pretty(media.example) : pretty(sample(media.schema, 0));
  }
  const result = el("div", { class: "result" });
  const send = async (event) => {
    event.preventDefault();
    let url = path;
    const query = new URLSearchParams();
    const headers = {};
    for (const { param, input } of Object.values(inputs)) {
      const value = input.value;
      if (value === "") continue;
      if (param.in === "path") url = url.replace("{" + param.name + "}", encodeURIComponent(value));
      else if (param.in === "query") query.append(param.name, value);
      else if (param.in === "header") headers[param.name] = value;
    }
    if (/\{[^}]+\}/.test(url)) {
      result.replaceChildren(el("p", { class: "error" }, "Fill in every path parameter."));
      return;
    }
    const q = query.toString();
    if (q) url += "?" + q;
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers["Authorization"] = "Bearer " + token;
    const init = { method: method.toUpperCase(), headers };
    if (bodyArea && bodyArea.value.trim() !== "") {
      headers["Content-Type"] = "application/json";
      init.body = bodyArea.value;
    }
    result.replaceChildren(el("p", {}, "Sending…"));
    try {
      const res = await fetch(url, init);
      const text = await res.text();
      let shown = text;
      try { shown = pretty(JSON.parse(text)); } catch (_) { /* not JSON */ }
      const headerLines = [];
      res.headers.forEach((v, k) => headerLines.push(k + ": " + v));
      result.replaceChildren(
        el("p", {}, init.method + " " + url + " → ",
          el("span", { class: res.ok ? "status-ok" : "status-err" }, res.status + " " + res.statusText)),
        el("details", {}, el("summary", {}, "Response headers"), el("pre", {}, headerLines.join("\n"))),
        el("pre", {}, shown || "(empty body)"));
    } catch (err) {
      result.replaceChildren(el("p", { class: "error" }, "Request failed: " + err));
    }
  };
  return el("form", { class: "try", onsubmit: send },
    el("h4", {}, "Try it"),
    fields,
    bodyArea ? el("label", {}, "JSON body", bodyArea) : null,
    el("button", { type: "submit" }, "Send"),
    result);
}

function operation(method, path, op) {
  const secured = (op.security || spec.security || []).some((req) => Object.keys(req).length > 0);
  const params = (op.parameters || []).map(deref);
  const body = op.requestBody && deref(op.requestBody);
  const id = "op-" + method + "-" + path.replace(/[^a-zA-Z0-9]+/g, "-");
  return el("details", { class: "op", id },
    el("summary", {},
      el("span", { class: "method m-" + method }, method.toUpperCase()),
      el("span", { class: "path" }, path),
      el("span", { class: "summary" }, op.summary || ""),
      secured ? el("span", { class: "lock", title: "needs a bearer token" }, "🔒 bearer") : null),
    el("div", { class: "body" },
      op.description ? el("p", {}, op.description) : null,
      params.length ? el("h4", {}, "Parameters") : null,
      paramsTable(params),
      body ? el("h4", {}, "Request body", body.required ? " (required)" : "") : null,
      body ? mediaBlock(body.content) : null,
      el("h4", {}, "Responses"),
      responsesBlock(op.responses),
      tryForm(method, path, op)));
}

function render() {
  document.getElementById("title").textContent = (spec.info && spec.info.title) || "API reference";
  document.title = document.getElementById("title").textContent + " (" + (spec.info && spec.info.version) + ")";
  const groups = new Map();
  for (const t of spec.tags || []) groups.set(t.name, { tag: t, ops: [] });
  const methods = ["get", "post", "put", "patch", "delete"];
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const method of methods) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags && op.tags[0]) || "other";
      if (!groups.has(tag)) groups.set(tag, { tag: { name: tag }, ops: [] });
      groups.get(tag).ops.push([method, path, op]);
    }
  }
  const toc = document.getElementById("toc");
  const main = document.getElementById("ops");
  toc.replaceChildren();
  main.replaceChildren();
  for (const { tag, ops } of groups.values()) {
    if (!ops.length) continue;
    toc.append(el("a", { href: "#tag-" + tag.name }, tag.name + " (" + ops.length + ")"));
    main.append(
      el("section", { id: "tag-" + tag.name },
        el("h2", {}, tag.name),
        tag.description ? el("p", { class: "summary" }, tag.description) : null,
        ops.map(([m, p, op]) => operation(m, p, op))));
  }
}

function setupAuth() {
  const form = document.getElementById("auth");
  const input = document.getElementById("token");
  const state = document.getElementById("auth-state");
  const show = () => {
    state.textContent = sessionStorage.getItem(TOKEN_KEY) ? "a token is kept for this tab" : "no token";
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim().replace(/^Bearer\s+/i, "");
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    input.value = "";
    show();
  });
  document.getElementById("forget").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    show();
  });
  show();
}

async function main() {
  setupAuth();
  try {
    const res = await fetch("/openapi.json", { headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error("GET /openapi.json answered " + res.status);
    spec = await res.json();
    render();
  } catch (err) {
    document.getElementById("ops").replaceChildren(el("p", { class: "error" }, "Could not load the document: " + err.message));
  }
}

document.addEventListener("DOMContentLoaded", main);
