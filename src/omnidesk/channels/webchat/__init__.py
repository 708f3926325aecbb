"""Web chat: the embeddable widget, the visitors' WebSocket protocol, uploads.

See docs/channels/webchat.md.
"""
