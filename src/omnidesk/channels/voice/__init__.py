"""The voice channel: omnidesk's own SIP/RTP service (docs/voice.md)."""

from omnidesk.channels.registry import register
from omnidesk.channels.voice.adapter import VoiceAdapter

register(VoiceAdapter())
