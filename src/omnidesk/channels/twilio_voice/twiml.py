"""TwiML: the XML that tells Twilio what to do with a call (Say, Play, Gather, Enqueue, Dial …).

Built with ElementTree, so every text and URL is escaped; nothing here does I/O.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urljoin

from omnidesk.flows import AudioOutput, Output, SpeechOutput, TextOutput, WaitForInput

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
MAX_QUEUE_NAME = 64  # Twilio's limit on a queue's friendly name


@dataclass(frozen=True, slots=True)
class Voice:
    """How the channel speaks: <Say> voice and language, where audio files are published."""

    say_voice: str | None = None
    language: str | None = None
    audio_base_url: str | None = None
    speech: bool = True  # <Gather> listens for speech too

    def audio_url(self, name: str) -> str | None:
        """The URL Twilio fetches a flow's audio file from (absolute URLs as they are)."""
        if name.startswith(("http://", "https://")):
            return name
        if not self.audio_base_url:
            return None
        return urljoin(self.audio_base_url.rstrip("/") + "/", quote(name.lstrip("/")))


def response() -> ET.Element:
    """An empty <Response>."""
    return ET.Element("Response")


def render(root: ET.Element) -> str:
    """The document as Twilio wants it."""
    return DECLARATION + ET.tostring(root, encoding="unicode")


def say(parent: ET.Element, text: str, voice: Voice) -> None:
    """<Say> a text (nothing for an empty one)."""
    if not text.strip():
        return
    element = ET.SubElement(parent, "Say")
    if voice.say_voice:
        element.set("voice", voice.say_voice)
    if voice.language:
        element.set("language", voice.language)
    element.text = text


def play(parent: ET.Element, url: str, *, loop: int | None = None) -> None:
    """<Play> an audio file."""
    element = ET.SubElement(parent, "Play")
    if loop is not None:
        element.set("loop", str(loop))
    element.text = url


def pause(parent: ET.Element, seconds: int) -> None:
    """<Pause> (silence)."""
    ET.SubElement(parent, "Pause", length=str(max(1, seconds)))


def hangup(parent: ET.Element) -> None:
    """<Hangup/>."""
    ET.SubElement(parent, "Hangup")


def outputs(parent: ET.Element, items: Iterable[Output], voice: Voice) -> None:
    """A flow step's outputs: audio files <Play>ed (spoken when not published), text <Say>."""
    for output in items:
        if isinstance(output, AudioOutput):
            url = voice.audio_url(output.audio)
            if url is not None:
                play(parent, url)
            else:
                say(parent, output.text or "", voice)
        elif isinstance(output, SpeechOutput | TextOutput):
            say(parent, output.text, voice)
        # OptionsOutput: buttons have no sound; a voice menu says its keys in its prompt


def num_digits(wait: WaitForInput) -> int | None:
    """How many keys end the wait: `max_digits`, or a menu's longest key."""
    if wait.max_digits:
        return wait.max_digits
    if wait.options and all(option.value.isdigit() for option in wait.options):
        return max(len(option.value) for option in wait.options)
    return None


def gather(parent: ET.Element, wait: WaitForInput, *, action: str,
           voice: Voice) -> ET.Element:
    """<Gather> the answer to a wait; Twilio posts it (or nothing, on a timeout) to `action`."""
    element = ET.SubElement(parent, "Gather", {
        "input": "dtmf speech" if voice.speech else "dtmf",
        "action": action, "method": "POST", "actionOnEmptyResult": "true",
        "finishOnKey": "#", "timeout": str(max(1, math.ceil(wait.timeout_seconds)))})
    digits = num_digits(wait)
    if digits is not None:
        element.set("numDigits", str(digits))
    if voice.speech:
        element.set("speechTimeout", "auto")
        if voice.language:
            element.set("language", voice.language)
    return element


def queue_name(name: str) -> str:
    """A Twilio queue's friendly name for an omnidesk queue."""
    return f"omnidesk-{name}"[:MAX_QUEUE_NAME]


def enqueue(parent: ET.Element, name: str, *, wait_url: str) -> None:
    """<Enqueue> the caller; Twilio plays what `wait_url` answers until we redirect the call."""
    element = ET.SubElement(parent, "Enqueue", waitUrl=wait_url, waitUrlMethod="POST")
    element.text = queue_name(name)


def dial(parent: ET.Element, target: str, *, timeout: int | None = None) -> None:
    """<Dial> a number (<Number>) or a SIP address (<Sip>)."""
    element = ET.SubElement(parent, "Dial")
    if timeout is not None:
        element.set("timeout", str(timeout))
    sip = target.lower().startswith(("sip:", "sips:"))
    noun = ET.SubElement(element, "Sip" if sip else "Number")
    noun.text = target.strip() if sip else "".join(target.split())


def dialable(target: str) -> bool:
    """True for a transfer target <Dial> can reach (a number or a SIP address)."""
    text = target.strip()
    return text.lower().startswith(("sip:", "sips:")) or (
        text.startswith("+") and text[1:].replace(" ", "").isdigit())
