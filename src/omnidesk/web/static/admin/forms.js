// Small form helpers of the admin page: labelled fields, error display, parsing.
import { ApiError, el } from "../common/omnidesk.js";

let counter = 0;

/** A labelled input (or select/textarea): field("Name", el("input", {name: "name"})). */
export function field(text, control, hint) {
  control.id = control.id || `f${++counter}`;
  return el("div", { class: "field" }, el("label", { for: control.id }, text), control,
    hint ? el("p", { class: "hint" }, hint) : null);
}

/** A <select> of [value, text] pairs (or plain values). */
export function select(name, options, value) {
  return el("select", { name }, options.map((option) => {
    const [key, text] = Array.isArray(option) ? option : [option, option.replace(/_/g, " ")];
    return el("option", { value: key, selected: key === value }, text);
  }));
}

/** The form's error line, filled from an API error (naming the field) or any message. */
export function errorLine() {
  const line = el("p", { class: "error", role: "alert" });
  line.show = (error) => {
    if (error instanceof ApiError) {
      line.textContent = error.field ? `${error.field}: ${error.message}` : error.message;
    } else line.textContent = error ? String(error.message || error) : "";
  };
  return line;
}

export class FormError extends Error {
  constructor(field, message) { super(message); this.field = field; }
}

/** "08:00-12:00, 13:00-18:00" → [["08:00", "12:00"], ["13:00", "18:00"]]. */
export function parseSpans(text, fieldName) {
  if (!text.trim()) return [];
  return text.split(",").map((part) => {
    const match = part.trim().match(/^(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})$/);
    if (!match) throw new FormError(fieldName, `use HH:MM-HH:MM, e.g. 08:00-20:00 (got "${part.trim()}")`);
    return [match[1], match[2]];
  });
}

/** Show a FormError like an API error. */
export function showError(line, error) {
  if (error instanceof FormError) line.textContent = `${error.field}: ${error.message}`;
  else line.show(error);
}

/** A table with a header row: table(["Name", "Role"], rows). */
export function table(caption, headers, rows) {
  return el("table", {}, el("caption", { class: "visually-hidden" }, caption),
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows));
}
