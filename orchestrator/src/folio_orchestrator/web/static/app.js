// The chat page of `folio serve`: plain JavaScript, no build step.
// Answers stream from POST /api/v1/conversations/{id}/messages as server-sent events.
"use strict";

const state = {
  conversation: sessionStorage.getItem("folio.conversation"),
  token: sessionStorage.getItem("folio.token"),
  busy: false,
};
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const response = await fetch(path, { credentials: "same-origin", headers, ...options });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error.message; } catch (_) { /* not JSON */ }
    const error = new Error(message);
    error.status = response.status;
    error.retryAfter = response.headers.get("Retry-After");
    throw error;
  }
  return response;
}

async function loadOwner() {
  try {
    const owner = await (await api("/api/v1/owner")).json();
    $("title").textContent = `Talk to ${owner.name}`;
    $("headline").textContent = owner.headline;
    document.title = `Talk to ${owner.name}`;
  } catch (error) {
    $("headline").textContent = "";
  }
}

// --- a little Markdown, for the résumé (escaped text; headings, lists, emphasis, links) ---------
function inline(text) {
  const span = document.createElement("span");
  const pattern = /(\*\*[^*]+\*\*|\[[^\]]+\]\([^)\s]+\)|`[^`]+`)/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    span.append(text.slice(last, match.index));
    const token = match[0];
    if (token.startsWith("**")) span.append(el("strong", { text: token.slice(2, -2) }));
    else if (token.startsWith("`")) span.append(el("code", { text: token.slice(1, -1) }));
    else {
      const [, label, href] = token.match(/\[([^\]]+)\]\(([^)]+)\)/);
      const safe = /^(https?:|mailto:)/.test(href) ? href : "#";
      span.append(el("a", { href: safe, rel: "noopener", target: "_blank", text: label }));
    }
    last = match.index + token.length;
  }
  span.append(text.slice(last));
  return span;
}

function markdown(text) {
  const root = document.createDocumentFragment();
  let list = null;
  for (const line of text.split("\n")) {
    const heading = line.match(/^(#{1,4})\s+(.*)$/);
    const item = line.match(/^\s*[-*]\s+(.*)$/);
    if (item) {
      if (!list) { list = el("ul"); root.append(list); }
      list.append(el("li", {}, inline(item[1])));
      continue;
    }
    list = null;
    if (heading) root.append(el(`h${Math.min(heading[1].length + 1, 5)}`, {}, inline(heading[2])));
    else if (line.trim()) root.append(el("p", {}, inline(line)));
  }
  return root;
}

async function toggleResume() {
  const section = $("resume");
  const button = $("resume-button");
  if (!section.hidden) {
    section.hidden = true;
    button.setAttribute("aria-expanded", "false");
    return;
  }
  section.replaceChildren(el("p", { class: "muted", text: "Loading the résumé…" }));
  section.hidden = false;
  button.setAttribute("aria-expanded", "true");
  try {
    const text = await (await api("/api/v1/resume")).text();
    section.replaceChildren(markdown(text));
  } catch (error) {
    section.replaceChildren(el("p", { class: "error", text: `The résumé is not available: ${error.message}` }));
  }
}

// --- the conversation ---------------------------------------------------------------------------
function addMessage(role, text) {
  const node = el("div", { class: `message ${role}` });
  if (role === "assistant") {
    node.append(el("ul", { class: "steps", "aria-label": "Tool activity" }), el("div", { class: "text" }));
  } else {
    node.textContent = text;
  }
  $("log").append(node);
  node.scrollIntoView({ block: "end" });
  return node;
}

function imageOf(image) {
  return el("img", { src: `data:${image.mime_type};base64,${image.data}`, alt: "A chart from a tool" });
}

function fieldInput(name, schema, required) {
  const id = `field-${name}-${Math.random().toString(36).slice(2, 8)}`;
  const label = el("label", { for: id, text: (schema.title || name) + (required ? " *" : "") });
  const wrap = el("div", { class: "field" }, label);
  let input;
  if (schema.type === "boolean") {
    input = el("input", { type: "checkbox", id, name, checked: schema.default === true });
  } else if (schema.enum || schema.oneOf) {
    input = el("select", { id, name, required });
    const options = schema.enum ? schema.enum.map((v, i) => [v, (schema.enumNames || [])[i] || v])
      : schema.oneOf.map((o) => [o.const, o.title || o.const]);
    if (!required) input.append(el("option", { value: "", text: "—" }));
    for (const [value, text] of options) input.append(el("option", { value, text, selected: value === schema.default }));
  } else if (schema.type === "array") {
    input = el("fieldset", { id, "data-multi": name });
    const items = schema.items || {};
    const options = items.enum ? items.enum.map((v) => [v, v]) : (items.anyOf || []).map((o) => [o.const, o.title || o.const]);
    for (const [value, text] of options) {
      const boxId = `${id}-${value}`;
      input.append(el("input", { type: "checkbox", id: boxId, value, checked: (schema.default || []).includes(value) }),
        el("label", { for: boxId, text }));
    }
  } else if (schema.type === "integer" || schema.type === "number") {
    input = el("input", { type: "number", id, name, required, step: schema.type === "integer" ? "1" : "any",
      min: schema.minimum, max: schema.maximum, value: schema.default });
  } else {
    input = el("input", { type: schema.format === "email" ? "email" : "text", id, name, required,
      minlength: schema.minLength, maxlength: schema.maxLength, value: schema.default });
  }
  wrap.append(input);
  if (schema.description) wrap.append(el("small", { class: "muted", text: schema.description }));
  return wrap;
}

function readForm(form, schema) {
  const content = {};
  for (const [name, field] of Object.entries(schema.properties || {})) {
    if (field.type === "array") {
      content[name] = [...form.querySelectorAll(`[data-multi="${name}"] input:checked`)].map((b) => b.value);
      continue;
    }
    const input = form.elements.namedItem(name);
    if (!input) continue;
    if (field.type === "boolean") content[name] = input.checked;
    else if (input.value === "") continue;
    else if (field.type === "integer") content[name] = parseInt(input.value, 10);
    else if (field.type === "number") content[name] = parseFloat(input.value);
    else content[name] = input.value;
  }
  return content;
}

function showElicitation(bubble, data) {
  const form = el("form", { class: "elicitation", "aria-label": `A question from ${data.server}` });
  form.append(el("p", {}, el("strong", { text: `${data.server} asks: ` }), data.message || ""));
  const schema = data.schema || { properties: {} };
  if (data.mode === "url") {
    form.append(el("p", {}, el("a", { href: data.url, target: "_blank", rel: "noopener", text: data.url })));
  } else {
    const required = new Set(schema.required || []);
    for (const [name, field] of Object.entries(schema.properties || {})) form.append(fieldInput(name, field, required.has(name)));
  }
  const status = el("p", { class: "error", role: "alert" });
  const actions = el("div", { class: "actions" },
    el("button", { type: "submit", value: "accept", text: data.mode === "url" ? "Done" : "Send" }),
    el("button", { type: "button", value: "decline", text: "Decline" }),
    el("button", { type: "button", value: "cancel", text: "Cancel" }));
  form.append(actions, status);
  const answer = async (action) => {
    const body = { action };
    if (action === "accept" && data.mode !== "url") body.content = readForm(form, schema);
    try {
      await api(`/api/v1/conversations/${state.conversation}/elicitations/${data.id}`, { method: "POST", body: JSON.stringify(body) });
      form.replaceChildren(el("p", { class: "muted", text: `Answered (${action}).` }));
    } catch (error) {
      status.textContent = error.message;
    }
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); answer("accept"); });
  for (const button of actions.querySelectorAll('button[type="button"]')) button.addEventListener("click", () => answer(button.value));
  bubble.querySelector(".text").before(form);
  const first = form.querySelector("input, select, button");
  if (first) first.focus();
}

function handle(bubble, event, data, steps) {
  const text = bubble.querySelector(".text");
  if (event === "token") {
    text.append(data.text);
  } else if (event === "tool_call") {
    const item = el("li", { class: "step", "data-state": "running", "data-call": data.id },
      el("span", { class: "name", text: data.name }), el("span", { class: "status", text: "running" }));
    bubble.querySelector(".steps").append(item);
    steps.set(data.id, item);
  } else if (event === "progress") {
    const item = steps.get(data.call_id);
    if (!item) return;
    let bar = item.querySelector("progress");
    if (!bar) { bar = el("progress", { max: data.total || 1 }); item.append(bar); }
    if (data.total) bar.max = data.total;
    bar.value = data.progress;
    if (data.message) bar.title = data.message;
  } else if (event === "tool_result") {
    const item = steps.get(data.id) || el("li", { class: "step" });
    item.dataset.state = data.is_error ? "error" : "done";
    item.querySelector(".name").textContent = `${data.server || "?"} · ${data.tool || data.name}`;
    item.querySelector(".status").textContent = `${data.is_error ? data.outcome : "done"} in ${Math.round(data.seconds * 1000)} ms`;
    const bar = item.querySelector("progress");
    if (bar) bar.value = bar.max;
    for (const image of data.images || []) item.append(imageOf(image));
  } else if (event === "elicitation") {
    showElicitation(bubble, data);
  } else if (event === "error") {
    text.append(el("p", { class: "error", text: data.message }));
  } else if (event === "done") {
    bubble.dataset.done = data.stopped;
  }
  bubble.scrollIntoView({ block: "end" });
}

async function stream(response, bubble) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const steps = new Map();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const chunk = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data = [];
      for (const line of chunk.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trim());
      }
      if (data.length) handle(bubble, event, JSON.parse(data.join("\n")), steps);
    }
  }
}

async function ensureConversation() {
  if (state.conversation) return state.conversation;
  const created = await (await api("/api/v1/conversations", { method: "POST", body: "{}" })).json();
  state.conversation = created.id;
  sessionStorage.setItem("folio.conversation", created.id);
  return created.id;
}

async function ask(question) {
  state.busy = true;
  $("send").disabled = true;
  addMessage("user", question);
  const bubble = addMessage("assistant");
  try {
    let id = await ensureConversation();
    let response;
    try {
      response = await api(`/api/v1/conversations/${id}/messages`, { method: "POST", body: JSON.stringify({ content: question }) });
    } catch (error) {
      if (error.status !== 404) throw error;
      state.conversation = null; // it expired or belongs to another visitor: start again
      id = await ensureConversation();
      response = await api(`/api/v1/conversations/${id}/messages`, { method: "POST", body: JSON.stringify({ content: question }) });
    }
    await stream(response, bubble);
  } catch (error) {
    const wait = error.retryAfter ? ` (try again in ${error.retryAfter} s)` : "";
    bubble.querySelector(".text").append(el("p", { class: "error", text: `${error.message}${wait}` }));
  } finally {
    state.busy = false;
    $("send").disabled = false;
    $("question").focus();
  }
}

async function restore() {
  if (!state.conversation) return;
  try {
    const stored = await (await api(`/api/v1/conversations/${state.conversation}`)).json();
    for (const message of stored.messages) {
      const content = message.content || {};
      const text = (content.content || []).filter((p) => p.type === "text").map((p) => p.text).join("");
      if (!text) continue;
      if (message.role === "user") addMessage("user", text);
      else addMessage("assistant").querySelector(".text").textContent = text;
    }
  } catch (error) {
    state.conversation = null;
    sessionStorage.removeItem("folio.conversation");
  }
}

function newConversation() {
  state.conversation = null;
  sessionStorage.removeItem("folio.conversation");
  $("log").replaceChildren();
}

function showTokenState() {
  $("token-state").textContent = state.token ? "signed in as the owner" : "a visitor (public answers)";
}

async function useToken(token) {
  const previous = state.token;
  state.token = token || null;
  if (state.token) {
    try {
      await api("/api/v1/tools");
    } catch (error) {
      state.token = previous;
      $("token-state").textContent = error.message;
      return;
    }
    sessionStorage.setItem("folio.token", state.token);
  } else {
    sessionStorage.removeItem("folio.token");
  }
  $("token").value = "";
  newConversation(); // conversations belong to who started them
  showTokenState();
}

document.addEventListener("DOMContentLoaded", () => {
  loadOwner();
  showTokenState();
  $("token-form").addEventListener("submit", (event) => { event.preventDefault(); useToken($("token").value.trim()); });
  $("token-clear").addEventListener("click", () => useToken(""));
  restore();
  $("resume-button").addEventListener("click", toggleResume);
  $("new-button").addEventListener("click", () => {
    newConversation();
    $("question").focus();
  });
  $("ask").addEventListener("submit", (event) => {
    event.preventDefault();
    const question = $("question").value.trim();
    if (!question || state.busy) return;
    $("question").value = "";
    ask(question);
  });
  $("question").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("ask").requestSubmit();
    }
  });
  $("question").focus();
});
