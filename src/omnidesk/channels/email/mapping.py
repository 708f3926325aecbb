"""Raw RFC 5322 mail ⇄ omnidesk: parse what arrives, compose what agents send."""

from __future__ import annotations

import hashlib
import mimetypes
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.utils import formataddr, formatdate, getaddresses, parseaddr
from typing import Any

from omnidesk.channels.base import OutboundMessage
from omnidesk.channels.email.config import EmailSettings
from omnidesk.channels.email.html import html_to_text
from omnidesk.files import display_filename

BOUNCE, AUTO_REPLY = "bounce", "auto_reply"
TOKEN = re.compile(r"\s*\[#([0-9a-f]{8})\]", re.IGNORECASE)
REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|vs|tr|antw|rif)(\[\d+\])?\s*:\s*)+",
                          re.IGNORECASE)
OUR_MESSAGE_ID = re.compile(r"^<od\.([0-9a-f]{32})\.[0-9a-f]{32}@", re.IGNORECASE)
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
AUTOMATED_SENDERS = frozenset({"mailer-daemon", "postmaster"})
AUTOMATED_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
MAX_REFERENCES = 20
QUOTE_HEADERS = (
    re.compile(r"^(on|le|am|el|il|op|em)\s.+(wrote|a écrit|schrieb|escribió|ha scritto|"
               r"schreef|escreveu)\s?:$", re.IGNORECASE),
    re.compile(r"^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|"
               r"forwarded message)\s*-{2,}$", re.IGNORECASE),
    re.compile(r"^_{10,}$"),
)


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """What omnidesk keeps of one inbound mail."""

    sender: str
    sender_name: str
    subject: str
    message_id: str
    references: list[str]  # In-Reply-To and References, oldest first, without duplicates
    body: str  # the new text, quoted reply trimmed off
    full_text: str
    attachments: list[dict[str, Any]] = field(default_factory=list)
    contents: list[bytes] = field(default_factory=list, repr=False)  # each attachment's bytes
    automated: str | None = None  # BOUNCE or AUTO_REPLY: stored, never queued or answered
    reported: list[str] = field(default_factory=list)  # Message-IDs a bounce reports on

    @property
    def topic(self) -> str:
        """The subject without reply prefixes or our token: the interaction's subject."""
        return clean_subject(self.subject)

    @property
    def token(self) -> str | None:
        """The interaction token "[#1a2b3c4d]" of the subject, if any."""
        found = TOKEN.search(self.subject)
        return found.group(1).lower() if found else None


def parse(raw: bytes, *, mail_from: str) -> ParsedMail:
    """Parse raw bytes as they came over SMTP or IMAP (any charset, MIME or not)."""
    message = message_from_bytes(raw, policy=policy.default)
    sender_name, sender = _sender(message, mail_from)
    body_part = _body_part(message)
    full_text = _text(body_part) if body_part is not None else ""
    files = [(_describe(part, n), _content(part)) for n, part in enumerate(
        _attachments(message, body_part), start=1)]
    return ParsedMail(
        sender=sender, sender_name=sender_name[:200], subject=_header(message, "Subject"),
        message_id=_message_id(message, raw), references=_references(message),
        body=trim_quoted(full_text), full_text=full_text,
        attachments=[{**meta, "size": len(content)} for meta, content in files],
        contents=[content for _, content in files],
        automated=automated_kind(message, mail_from), reported=_reported_ids(message))


def _header(message: Message, name: str) -> str:
    """A header's decoded value, "" when absent or beyond repair."""
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _sender(message: Message, mail_from: str) -> tuple[str, str]:
    """(display name, lower-cased address) of From, else of the SMTP envelope sender."""
    for name, address in getaddresses([_header(message, "From")]):
        if "@" in address:
            return name, address.strip().lower()
    name, address = parseaddr(mail_from)
    return name, address.strip().lower()


def _message_id(message: Message, raw: bytes) -> str:
    """The Message-ID, or a stable stand-in from the content when the sender set none."""
    found = MESSAGE_ID.findall(_header(message, "Message-ID"))
    if found and len(found[0]) <= 200:
        return str(found[0])
    return f"<sha256.{hashlib.sha256(raw).hexdigest()}@omnidesk.invalid>"


def _references(message: Message) -> list[str]:
    """Message-IDs of References then In-Reply-To, oldest first, each once."""
    found = MESSAGE_ID.findall(_header(message, "References")) + \
        MESSAGE_ID.findall(_header(message, "In-Reply-To"))
    return list(dict.fromkeys(found))


def _body_part(message: EmailMessage) -> EmailMessage | None:
    """The part a person reads: text/plain, else text/html."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except (KeyError, ValueError):
        return None
    return part if isinstance(part, EmailMessage) else None


def _text(part: EmailMessage) -> str:
    """The part's text decoded from its charset (latin-1 fallback), HTML turned into text."""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    text = str(content).replace("\r\n", "\n")
    if part.get_content_subtype() == "html":
        return html_to_text(text)
    return text.strip()


def _leaves(part: EmailMessage) -> Iterator[EmailMessage]:
    """Every non-multipart part; an attached message counts as one part."""
    if part.is_multipart() and part.get_content_type() != "message/rfc822":
        for sub in part.iter_parts():
            if isinstance(sub, EmailMessage):
                yield from _leaves(sub)
    else:
        yield part


def _attachments(message: EmailMessage, body: EmailMessage | None) -> Iterator[EmailMessage]:
    """Parts that are files: named, marked attachment, or not text."""
    for part in _leaves(message):
        if part is body:
            continue
        if part.get_filename() or part.get_content_disposition() == "attachment" or \
                part.get_content_maintype() != "text":
            yield part


def _describe(part: EmailMessage, number: int) -> dict[str, Any]:
    """Attachment metadata: filename (no directories), content_type (size: of `_content`)."""
    content_type = part.get_content_type()
    filename = display_filename(
        part.get_filename(),
        default=f"attachment-{number}{mimetypes.guess_extension(content_type) or '.bin'}")
    return {"filename": filename[:255], "content_type": content_type[:100]}


def _content(part: EmailMessage) -> bytes:
    """The attachment's bytes, transfer encoding undone (an attached mail: as its .eml)."""
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            return inner[0].as_bytes()
        return part.as_bytes()
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def automated_kind(message: Message, mail_from: str) -> str | None:
    """BOUNCE for delivery reports, AUTO_REPLY for Auto-Submitted and the like, else None."""
    if message.get_content_type() == "multipart/report":
        return BOUNCE
    envelope = mail_from.strip().strip("<>")
    header_sender = _sender(message, "")[1]
    if not envelope or envelope.partition("@")[0].lower() in AUTOMATED_SENDERS or \
            header_sender.partition("@")[0] in AUTOMATED_SENDERS:
        return BOUNCE
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return AUTO_REPLY
    if _header(message, "Precedence").lower() in AUTOMATED_PRECEDENCE or \
            _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return AUTO_REPLY
    return None


def _reported_ids(message: EmailMessage) -> list[str]:
    """Message-IDs of the original mail inside a delivery report (its rfc822 part)."""
    if message.get_content_type() != "multipart/report":
        return []
    found: list[str] = []
    for part in _leaves(message):
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            original = inner[0] if isinstance(inner, list) and inner else None
            if isinstance(original, Message):
                found += MESSAGE_ID.findall(_header(original, "Message-ID"))
        elif part.get_content_type() == "text/rfc822-headers":
            headers = HeaderParser().parsestr(str(part.get_content()))
            found += MESSAGE_ID.findall(_header(headers, "Message-ID"))
    return found


def trim_quoted(text: str) -> str:
    """The text without the quoted earlier mail under it (all of it if nothing would remain)."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        joined = f"{stripped} {lines[index + 1].strip()}" if index + 1 < len(lines) else stripped
        if any(rule.match(stripped) or rule.match(joined) for rule in QUOTE_HEADERS) or \
                _outlook_header(lines, index):
            lines = lines[:index]
            break
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">")):
        lines.pop()
    trimmed = "\n".join(lines).strip()
    return trimmed or text.strip()


def _outlook_header(lines: list[str], index: int) -> bool:
    """Outlook's "From: … / Sent: …" block that starts a quoted mail."""
    if not re.match(r"^\*?(from|von|de)\s*:\*?\s", lines[index].strip(), re.IGNORECASE):
        return False
    following = " ".join(line.strip().lower() for line in lines[index + 1:index + 4])
    return any(word in following for word in ("sent:", "gesendet:", "envoyé :", "date:"))


def clean_subject(subject: str) -> str:
    """The subject without "Re:"/"Fwd:" prefixes, our token, or line breaks."""
    without_token = TOKEN.sub("", " ".join(subject.split()))
    return REPLY_PREFIX.sub("", without_token).strip()[:300]


def token_of(interaction_id: str | uuid.UUID) -> str:
    """The short interaction token put in subjects: the id's first 8 hex digits."""
    return uuid.UUID(str(interaction_id)).hex[:8]


def interaction_of_message_id(message_id: str) -> uuid.UUID | None:
    """The interaction a Message-ID of ours was sent for, None for other Message-IDs."""
    found = OUR_MESSAGE_ID.match(message_id)
    return uuid.UUID(found.group(1)) if found else None


def our_message_id(interaction_id: str, message_id: str, domain: str) -> str:
    """Our Message-ID for an agent's message: it names the interaction for replies."""
    return f"<od.{uuid.UUID(interaction_id).hex}.{uuid.UUID(message_id).hex}@{domain}>"


def thread_after(thread: dict[str, Any], mail: ParsedMail) -> dict[str, Any]:
    """The interaction's thread (subject, last Message-ID, References) once mail arrived."""
    references = list(dict.fromkeys([*thread.get("references", []), *mail.references,
                                     mail.message_id]))
    if len(references) > MAX_REFERENCES:  # keep the root and the most recent (RFC 5322 3.6.4)
        references = [references[0], *references[-(MAX_REFERENCES - 1):]]
    return {"subject": thread.get("subject") or mail.topic, "last_message_id": mail.message_id,
            "references": references}


def compose(outbound: OutboundMessage, settings: EmailSettings) -> EmailMessage:
    """The agent's reply as a MIME message threaded onto the customer's mail."""
    topic = clean_subject(outbound.thread.get("subject") or outbound.subject) or "Your message"
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = formataddr((settings.from_name, settings.address))
    message["To"] = outbound.recipient
    message["Subject"] = f"Re: {topic} [#{token_of(outbound.interaction_id)}]"
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = our_message_id(outbound.interaction_id, outbound.message_id,
                                           settings.domain)
    if last := outbound.thread.get("last_message_id"):
        message["In-Reply-To"] = last
        message["References"] = " ".join(outbound.thread.get("references") or [last])
    message.set_content(outbound.body)
    for file in outbound.files:
        maintype, _, subtype = file.content_type.partition("/")
        message.add_attachment(file.data, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=file.filename)
    return message
