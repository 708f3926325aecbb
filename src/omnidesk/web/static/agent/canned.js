// Canned responses: "/shortcut" completion in the composer and {{placeholder}} filling.

/** The canned responses whose shortcut starts with (or title contains) the typed text. */
export function matching(canned, typed) {
  const text = typed.toLowerCase();
  const starts = canned.filter((c) => c.shortcut.startsWith(text));
  const titled = canned.filter((c) => !c.shortcut.startsWith(text) && c.title.toLowerCase().includes(text));
  return [...starts, ...titled].slice(0, 8);
}

/** The "/word" just before the caret, if the caret ends one: {start, typed}. */
export function slashToken(textarea) {
  const before = textarea.value.slice(0, textarea.selectionStart);
  const found = /(^|\s)\/([a-z0-9_-]*)$/.exec(before);
  return found ? { start: before.length - found[2].length - 1, typed: found[2] } : null;
}

function firstWord(text) {
  return (text || "").trim().split(/\s+/)[0] || "";
}

/** Replace {{customer.name}}, {{agent.name}} … with what the desktop knows; unknown
 * placeholders stay as typed so the agent sees them before sending. */
export function fill(body, { customer = {}, agent = {}, interaction = {} }) {
  const values = {
    "customer.name": customer.display_name,
    "customer.first_name": firstWord(customer.display_name),
    "customer.email": (customer.identities || []).find((i) => i.kind === "email")?.value,
    "customer.phone": (customer.identities || []).find((i) => i.kind === "phone")?.value,
    "agent.name": agent.name,
    "agent.first_name": firstWord(agent.name),
    "interaction.subject": interaction.subject,
    "interaction.channel": interaction.channel,
  };
  return body.replace(/\{\{\s*([a-z_]+)\.([a-z0-9_]+)\s*\}\}/gi, (whole, scope, key) => {
    const name = `${scope.toLowerCase()}.${key.toLowerCase()}`;
    let value = values[name];
    if (value === undefined && scope.toLowerCase() === "customer") value = (customer.attributes || {})[key];
    return value === undefined || value === null || value === "" ? whole : String(value);
  });
}

/** Insert text in place of [start, caret) and put the caret after it. */
export function insertAt(textarea, start, text) {
  const end = textarea.selectionStart;
  textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
  const caret = start + text.length;
  textarea.setSelectionRange(caret, caret);
  textarea.dispatchEvent(new Event("input", { bubbles: true }));
}
