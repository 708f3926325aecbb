"""The voice channel: omnidesk's own SIP/RTP service (docs/voice.md)."""

from omnidesk.channels.registry import register
from omnidesk.channels.voice.adapter import VoiceAdapter
from omnidesk.channels.voice.config import VoiceSettingsModel

register(VoiceAdapter(), VoiceSettingsModel)
